"""The simulator's own small page (pt-BR): instances, their QR, a "scan" button, the
conversations (with a "Responder como o contato" form each) and the inbox."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from whatsapp_app.simulador.caixa import ENTRADA
from whatsapp_app.simulador.conversa import Conversa, conversas

_ROTULOS = {"open": "conectado", "connecting": "conectando", "close": "desconectado"}
_CORES = {"open": "#15803d", "connecting": "#b45309", "close": "#b91c1c"}
MAX_LINHAS = 50

_ESTILO = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#111827;background:#f9fafb}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}h3{font-size:1rem;margin:0 0 .5rem}
.cartao{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:1rem;margin:.5rem 0;
display:flex;gap:1.5rem;align-items:center}
.conversa{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:1rem;margin:.5rem 0}
.balao{border-radius:8px;padding:.35rem .6rem;margin:.25rem 0;max-width:40rem}
.balao.saida{background:#dcfce7;margin-left:auto}.balao.entrada{background:#f3f4f6}
.meta{color:#4b5563;font-size:.8rem}
.selo{color:#fff;border-radius:999px;padding:.15rem .6rem;font-size:.85rem}
.aviso{background:#eff6ff;border:1px solid #bfdbfe;border-radius:8px;padding:.6rem 1rem}
form.resposta{display:grid;gap:.4rem;margin-top:.75rem;max-width:40rem}
textarea,select{font:inherit;padding:.35rem;border:1px solid #9ca3af;border-radius:6px}
button{padding:.4rem .9rem;border-radius:6px;border:1px solid #111827;background:#111827;
color:#fff;cursor:pointer;justify-self:start}button.secundario{background:#fff;color:#111827}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{border:1px solid #e5e7eb;padding:.35rem .5rem;text-align:left;font-size:.9rem}
pre{background:#fff;border:1px solid #e5e7eb;padding:.75rem;overflow:auto}
img{width:180px;height:180px;image-rendering:pixelated}
"""

# Reload every 3 s to show new messages and states, unless someone is writing a reply (a
# plain meta refresh would throw the half-typed text away).
_ATUALIZAR = """
setInterval(function () {
  var ativo = document.activeElement;
  var escrevendo = ativo && ativo.closest && ativo.closest("form.resposta");
  var rascunho = Array.prototype.some.call(
    document.querySelectorAll("form.resposta textarea"), function (t) { return t.value; });
  if (!escrevendo && !rascunho) { location.reload(); }
}, 3000);
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
    if instancia.get("webhook"):
        partes.append(
            f'<div class="meta">Webhook: <code>{escape(str(instancia["webhook"]))}</code></div>'
        )
    return f'<div class="cartao">{"".join(partes)}</div>'


def _quando(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%d/%m/%Y %H:%M:%S UTC")
    except ValueError:
        return iso


def _balao(mensagem: dict[str, Any]) -> str:
    entrada = mensagem.get("direcao") == ENTRADA
    quem = "Contato" if entrada else "CRM"
    status = "" if entrada else f" · {escape(str(mensagem.get('status') or ''))}"
    return (
        f'<div class="balao {"entrada" if entrada else "saida"}">'
        f'<div class="meta">{quem} · {escape(_quando(str(mensagem["recebido_em"])))}{status}</div>'
        f"{escape(str(mensagem['text']))}</div>"
    )


def ancora(conversa: Conversa) -> str:
    """A stable element id for a conversation (its position changes as messages arrive)."""
    chave = f"{conversa.instancia}\n{conversa.numero}".encode()
    return "conversa-" + hashlib.sha256(chave).hexdigest()[:12]


def _formulario(conversa: Conversa) -> str:
    prefixo = ancora(conversa)
    enviadas = [m for m in conversa.mensagens if m.get("direcao") != ENTRADA]
    opcoes = '<option value="">Nenhuma (mensagem nova)</option>' + "".join(
        f'<option value="{escape(str(m["key_id"]))}">{escape(str(m["text"])[:60])}</option>'
        for m in reversed(enviadas)
    )
    return (
        f'<form class="resposta" method="post" action="/__sim/pagina/responder" '
        f'aria-label="Responder como o contato {escape(conversa.numero)}">'
        f'<input type="hidden" name="instance" value="{escape(conversa.instancia)}">'
        f'<input type="hidden" name="number" value="{escape(conversa.numero)}">'
        f'<input type="hidden" name="conversa" value="{prefixo}">'
        f'<label for="{prefixo}-texto">Mensagem do contato</label>'
        f'<textarea id="{prefixo}-texto" name="text" rows="2" required></textarea>'
        f'<label for="{prefixo}-citar">Responder à mensagem</label>'
        f'<select id="{prefixo}-citar" name="id_resposta_a">{opcoes}</select>'
        f'<label for="{prefixo}-formato">Endereço do contato no webhook</label>'
        f'<select id="{prefixo}-formato" name="formato">'
        '<option value="pn">Número de telefone (@s.whatsapp.net)</option>'
        '<option value="lid">LID (@lid, com o número em remoteJidAlt)</option></select>'
        '<button type="submit">Responder como o contato</button></form>'
    )


def _conversas(mensagens: list[dict[str, Any]]) -> str:
    lista = conversas(mensagens)
    if not lista:
        return "<p>Nenhuma conversa ainda: as mensagens enviadas pelo CRM aparecem aqui.</p>"
    return "".join(
        f'<section class="conversa" id="{ancora(c)}" aria-labelledby="{ancora(c)}-titulo">'
        f'<h3 id="{ancora(c)}-titulo">{escape(c.numero)} '
        f'<span class="meta">instância {escape(c.instancia)}</span></h3>'
        f"{''.join(_balao(m) for m in c.mensagens)}{_formulario(c)}</section>"
        for c in lista
    )


def _tabela(mensagens: list[dict[str, Any]]) -> str:
    if not mensagens:
        return "<p>Nenhuma mensagem ainda.</p>"
    linhas = "".join(
        "<tr>"
        f"<td>{escape(_quando(str(m['recebido_em'])))}</td><td>{escape(str(m['instance']))}</td>"
        f"<td>{'Contato → CRM' if m.get('direcao') == ENTRADA else 'CRM → contato'}</td>"
        f"<td>{escape(str(m['number']))}</td><td>{escape(str(m['text']))}</td>"
        f"<td>{escape(str(m.get('status') or ''))}</td>"
        f"<td><code>{escape(str(m['key_id']))}</code></td>"
        f"<td>{escape(str(m.get('falha_injetada') or ''))}</td>"
        "</tr>"
        for m in reversed(mensagens[-MAX_LINHAS:])
    )
    return (
        "<table><thead><tr><th>Recebida em</th><th>Instância</th><th>Direção</th>"
        "<th>Número</th><th>Texto</th><th>Status</th><th>ID</th><th>Falha injetada</th>"
        f"</tr></thead><tbody>{linhas}</tbody></table>"
    )


def renderizar_pagina(
    instancias: list[dict[str, Any]],
    mensagens: list[dict[str, Any]],
    falhas: dict[str, Any],
    *,
    aviso: str | None = None,
) -> str:
    """The whole page; ``mensagens`` is the inbox, oldest first (the table shows the last
    ``MAX_LINHAS``)."""
    cartoes = "".join(_cartao(i) for i in instancias) or "<p>Nenhuma instância ainda.</p>"
    bloco_aviso = f'<p class="aviso" role="status">{escape(aviso)}</p>' if aviso else ""
    return (
        '<!doctype html><html lang="pt-BR"><head><meta charset="utf-8">'
        "<title>Simulador de WhatsApp</title>"
        f"<style>{_ESTILO}</style>"
        '<noscript><meta http-equiv="refresh" content="3"></noscript>'
        f"<script>{_ATUALIZAR}</script></head><body>"
        "<h1>Simulador de WhatsApp (Evolution API v2)</h1>"
        "<p>Servidor local para demonstração e testes: nenhuma mensagem sai desta máquina.</p>"
        f"{bloco_aviso}"
        f"<h2>Instâncias</h2>{cartoes}"
        f"<h2>Conversas</h2>{_conversas(mensagens)}"
        f"<h2>Mensagens</h2>{_tabela(mensagens)}"
        "<h2>Falhas injetadas</h2>"
        f"<pre>{escape(json.dumps(falhas, ensure_ascii=False, indent=2))}</pre>"
        "</body></html>"
    )
