"""The simulator's own small page (pt-BR): instances, their QR, a "scan" button, the inbox."""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

_ROTULOS = {"open": "conectado", "connecting": "conectando", "close": "desconectado"}
_CORES = {"open": "#15803d", "connecting": "#b45309", "close": "#b91c1c"}

_ESTILO = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#111827;background:#f9fafb}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
.cartao{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:1rem;margin:.5rem 0;
display:flex;gap:1.5rem;align-items:center}
.selo{color:#fff;border-radius:999px;padding:.15rem .6rem;font-size:.85rem}
button{padding:.4rem .9rem;border-radius:6px;border:1px solid #111827;background:#111827;
color:#fff;cursor:pointer}button.secundario{background:#fff;color:#111827}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{border:1px solid #e5e7eb;padding:.35rem .5rem;text-align:left;font-size:.9rem}
pre{background:#fff;border:1px solid #e5e7eb;padding:.75rem;overflow:auto}
img{width:180px;height:180px;image-rendering:pixelated}
"""


def _cartao(instancia: dict[str, Any]) -> str:
    nome = str(instancia["instanceName"])
    estado = str(instancia["state"])
    alvo = quote(nome, safe="")
    partes = [
        f"<div><strong>{escape(nome)}</strong><br>"
        f'<span class="selo" style="background:{_CORES.get(estado, "#6b7280")}">'
        f"{escape(_ROTULOS.get(estado, estado))}</span></div>"
    ]
    if estado == "connecting" and instancia.get("qr_base64"):
        partes.append(
            f'<img alt="QR code da instância {escape(nome)}" src="{instancia["qr_base64"]}">'
        )
        if instancia.get("pairingCode"):
            partes.append(
                f"<div>Código de pareamento: <code>{escape(instancia['pairingCode'])}</code></div>"
            )
        partes.append(
            f'<form method="post" action="/__sim/instancias/{alvo}/escanear">'
            '<button type="submit">Escanear QR (simular leitura)</button></form>'
        )
    elif estado == "open":
        partes.append(
            f'<form method="post" action="/__sim/instancias/{alvo}/desconectar">'
            '<button class="secundario" type="submit">Desconectar</button></form>'
        )
    else:
        partes.append("<div>Peça a conexão pelo CRM para gerar o QR code.</div>")
    return f'<div class="cartao">{"".join(partes)}</div>'


def _quando(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%d/%m/%Y %H:%M:%S UTC")
    except ValueError:
        return iso


def renderizar_pagina(
    instancias: list[dict[str, Any]], mensagens: list[dict[str, Any]], falhas: dict[str, Any]
) -> str:
    cartoes = "".join(_cartao(i) for i in instancias) or "<p>Nenhuma instância ainda.</p>"
    linhas = "".join(
        "<tr>"
        f"<td>{escape(_quando(str(m['recebido_em'])))}</td><td>{escape(str(m['instance']))}</td>"
        f"<td>{escape(str(m['number']))}</td><td>{escape(str(m['text']))}</td>"
        f"<td><code>{escape(str(m['key_id']))}</code></td>"
        f"<td>{escape(str(m.get('falha_injetada') or ''))}</td>"
        "</tr>"
        for m in reversed(mensagens)
    )
    tabela = (
        "<table><thead><tr><th>Recebida em</th><th>Instância</th><th>Número</th>"
        "<th>Texto</th><th>ID</th><th>Falha injetada</th></tr></thead>"
        f"<tbody>{linhas}</tbody></table>"
        if mensagens
        else "<p>Nenhuma mensagem recebida.</p>"
    )
    return (
        '<!doctype html><html lang="pt-BR"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="3">'
        "<title>Simulador de WhatsApp</title>"
        f"<style>{_ESTILO}</style></head><body>"
        "<h1>Simulador de WhatsApp (Evolution API v2)</h1>"
        "<p>Servidor local para demonstração e testes: nenhuma mensagem sai desta máquina.</p>"
        f"<h2>Instâncias</h2>{cartoes}"
        f"<h2>Mensagens recebidas</h2>{tabela}"
        "<h2>Falhas injetadas</h2>"
        f"<pre>{escape(json.dumps(falhas, ensure_ascii=False, indent=2))}</pre>"
        "</body></html>"
    )
