"""The simulator's inbox: every message it carried, both directions, oldest first.

Entries are what ``GET /__sim/mensagens`` lists: ``instance``, ``number``, ``text``, ``key_id``,
``recebido_em`` (contract §4), plus ``remote_jid``, ``message_timestamp``, ``status`` and
``direcao`` (``saida``: our app sent it; ``entrada``: the contact's reply, which also keeps
its Evolution record for ``findMessages``). Not thread-safe on its own: ``Simulador`` calls it
under its lock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from whatsapp_app.simulador.eventos import registro_enviado

SAIDA = "saida"
ENTRADA = "entrada"
DIRECOES = (SAIDA, ENTRADA)
# The statuses one of our messages goes through, in order (Evolution's renderStatus).
PROGRESSO_STATUS = ("SERVER_ACK", "DELIVERY_ACK", "READ")


class CaixaEntrada:
    def __init__(self) -> None:
        self._mensagens: list[dict[str, Any]] = []
        self._por_key_id: dict[str, dict[str, Any]] = {}
        self._registros: dict[str, dict[str, Any]] = {}  # key_id → incoming Evolution record

    def adicionar(self, entrada: dict[str, Any], registro: dict[str, Any] | None = None) -> None:
        self._mensagens.append(entrada)
        self._por_key_id[entrada["key_id"]] = entrada
        if registro is not None:
            self._registros[entrada["key_id"]] = registro

    def obter(self, key_id: str) -> dict[str, Any] | None:
        """The live entry (callers may update its ``status``)."""
        return self._por_key_id.get(key_id)

    def listar(
        self,
        *,
        instancia: str | None = None,
        numero: str | None = None,
        direcao: str | None = None,
    ) -> list[dict[str, Any]]:
        return [
            dict(m)
            for m in self._mensagens
            if (instancia is None or m["instance"] == instancia)
            and (numero is None or m["number"] == numero)
            and (direcao is None or m["direcao"] == direcao)
        ]

    def limpar(self) -> int:
        quantidade = len(self._mensagens)
        self._mensagens.clear()
        self._por_key_id.clear()
        self._registros.clear()
        return quantidade

    def contagem(self) -> dict[str, Any]:
        """Counts of what our app sent (replies are not sends), so a test can assert "sent
        exactly once"."""
        por_key_id: dict[str, int] = {}
        por_numero: dict[str, int] = {}
        por_mensagem: dict[tuple[str, str, str], int] = {}
        total = 0
        for m in self._mensagens:
            if m["direcao"] != SAIDA:
                continue
            total += 1
            por_key_id[m["key_id"]] = por_key_id.get(m["key_id"], 0) + 1
            por_numero[m["number"]] = por_numero.get(m["number"], 0) + 1
            chave = (m["instance"], m["number"], m["text"])
            por_mensagem[chave] = por_mensagem.get(chave, 0) + 1
        lista: list[dict[str, Any]] = [
            {"instance": i, "number": n, "text": t, "quantidade": q}
            for (i, n, t), q in por_mensagem.items()
        ]
        return {
            "total": total,
            "por_key_id": por_key_id,
            "por_numero": por_numero,
            "por_mensagem": lista,
            "duplicadas": [item for item in lista if item["quantidade"] > 1],
        }

    def buscar(self, nome: str, id_instancia: str, consulta: dict[str, Any]) -> dict[str, Any]:
        """``POST /chat/findMessages``: Evolution v2's ``where`` filter, newest first, paged."""
        where: dict[str, Any] = consulta["where"] if isinstance(consulta.get("where"), dict) else {}
        chave: dict[str, Any] = where["key"] if isinstance(where.get("key"), dict) else {}
        carimbo = where.get("messageTimestamp")
        gte = lte = None
        if isinstance(carimbo, dict) and carimbo.get("gte") and carimbo.get("lte"):
            gte = int(datetime.fromisoformat(str(carimbo["gte"])).timestamp())
            lte = int(datetime.fromisoformat(str(carimbo["lte"])).timestamp())
        de_mim = chave.get("fromMe")
        registros = []
        for m in reversed(self._mensagens):  # newest first, like Evolution
            if m["instance"] != nome:
                continue
            if isinstance(de_mim, bool) and de_mim != (m["direcao"] == SAIDA):
                continue
            if chave.get("id") and chave["id"] != m["key_id"]:
                continue
            if chave.get("remoteJid") and chave["remoteJid"] != m["remote_jid"]:
                continue
            if gte is not None and lte is not None and not (gte <= m["message_timestamp"] <= lte):
                continue
            registros.append(self._registro_busca(m, id_instancia))
        por_pagina = max(1, int(consulta.get("offset") or 50))
        pagina = max(1, int(consulta.get("page") or 1))
        total = len(registros)
        return {
            "messages": {
                "total": total,
                "pages": -(-total // por_pagina),
                "currentPage": pagina,
                "records": registros[(pagina - 1) * por_pagina : pagina * por_pagina],
            }
        }

    def _registro_busca(self, m: dict[str, Any], id_instancia: str) -> dict[str, Any]:
        if m["direcao"] == ENTRADA:
            return {"id": m["key_id"], **self._registros[m["key_id"]], "MessageUpdate": []}
        alcancado = PROGRESSO_STATUS.index(m["status"]) if m["status"] in PROGRESSO_STATUS else 1
        return {
            "id": m["key_id"],
            **registro_enviado(
                remote_jid=m["remote_jid"],
                key_id=m["key_id"],
                texto=m["text"],
                carimbo=m["message_timestamp"],
                id_instancia=id_instancia,
                status=m["status"],
            ),
            "MessageUpdate": [{"status": s} for s in PROGRESSO_STATUS[: alcancado + 1]],
        }
