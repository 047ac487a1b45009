"""The Leads board's rows and their pure helpers: card and column shapes, the move toast, and
the reply / opt-out badges the live loop refreshes (no State here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from whatsapp_app import db, leads
from whatsapp_app.ui.formatacao import data_hora, plural, tempo_relativo


class LeadCartao(TypedDict):
    id: str
    nome: str
    telefone_formatado: str
    id_estagio: str
    atualizado_relativo: str
    atualizado_em: str
    resposta_nao_lida: bool
    optout: bool


class Coluna(TypedDict):
    id: str
    nome: str
    cor: str
    total: int
    leads: list[LeadCartao]


class EstagioOpcao(TypedDict):
    id: str
    nome: str
    cor: str


def resumo_movimento(nome_estagio: str, noop: bool, criados: int, cancelados: int) -> str:
    """The success toast: ``Lead movido para Proposta · 3 follow-ups agendados``."""
    partes = [f"Lead movido para {nome_estagio}"]
    if not noop:
        if criados:
            partes.append(plural(criados, "follow-up agendado", "follow-ups agendados"))
        if cancelados:
            partes.append(plural(cancelados, "follow-up cancelado", "follow-ups cancelados"))
    return " · ".join(partes)


def cartao_do_lead(lead: dict[str, Any], referencia: datetime, fuso: ZoneInfo) -> LeadCartao:
    """One card from ``leads.lead_publico`` (display strings formatted once, here)."""
    return {
        "id": lead["id"],
        "nome": lead["nome"],
        "telefone_formatado": lead["telefone_formatado"],
        "id_estagio": lead["id_estagio"],
        "atualizado_relativo": tempo_relativo(lead["atualizado_em"], referencia),
        "atualizado_em": data_hora(lead["atualizado_em"], fuso),
        "resposta_nao_lida": bool(lead["resposta_nao_lida"]),
        "optout": lead["optout_em"] is not None,
    }


def ler_sinais(id_empresa: str, busca: str) -> dict[str, tuple[bool, bool]]:
    """Per lead on the board: ``(resposta_nao_lida, optout)`` (the polling loop's read)."""
    with db.sessao() as s:
        return {
            lead.id: (leads.resposta_nao_lida(lead), lead.optout_em is not None)
            for lead in leads.listar_leads(sessao=s, id_empresa=id_empresa, q=busca)
        }


def aplicar_sinais(
    colunas: list[Coluna], sinais: dict[str, tuple[bool, bool]]
) -> list[Coluna] | None:
    """The board with fresh badges, or None when nothing changed (cards never move here)."""
    mudou = False
    novas: list[Coluna] = []
    for coluna in colunas:
        cartoes: list[LeadCartao] = []
        for atual in coluna["leads"]:
            nao_lida, optout = sinais.get(
                atual["id"], (atual["resposta_nao_lida"], atual["optout"])
            )
            if (nao_lida, optout) != (atual["resposta_nao_lida"], atual["optout"]):
                mudou = True
                atual = {**atual, "resposta_nao_lida": nao_lida, "optout": optout}
            cartoes.append(atual)
        novas.append({**coluna, "leads": cartoes})
    return novas if mudou else None
