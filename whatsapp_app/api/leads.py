"""Leads and the pipeline move (contract.md sections 4 and 7)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from whatsapp_app import cadastro_automacoes, conversa, db, leads, mensagens
from whatsapp_app.api.deps import GestorAtual, PaginaDep, SessaoDep, UsuarioAtual
from whatsapp_app.esquemas import (
    LeadDetalhe,
    LeadPublico,
    MovimentoLead,
    Pagina,
    PaginaMensagens,
    erros,
)
from whatsapp_app.validacoes import LeadEntrada, MoverEntrada

router = APIRouter(prefix="/api/leads", tags=["leads"])


@router.get("", response_model=Pagina[LeadPublico], responses=erros(401))
def listar(
    sessao: SessaoDep,
    usuario: UsuarioAtual,
    pagina: PaginaDep,
    id_estagio: str | None = Query(default=None, max_length=32),
    q: str | None = Query(default=None, max_length=100, description="Nome ou telefone."),
) -> dict[str, Any]:
    """The company's leads, newest activity first (filters ``id_estagio``, ``q``), paginated."""
    return leads.pagina_leads(
        sessao=sessao,
        id_empresa=usuario.id_empresa,
        id_estagio=id_estagio,
        q=q,
        limite=pagina.limite,
        cursor=pagina.cursor,
    )


@router.post("", status_code=201, response_model=LeadPublico, responses=erros(400, 401, 403))
def criar(dados: LeadEntrada, usuario: UsuarioAtual) -> dict[str, Any]:
    """Create a lead in a stage of the caller's company."""
    with db.sessao() as sessao:
        lead = leads.criar_lead(sessao=sessao, id_empresa=usuario.id_empresa, dados=dados)
    return leads.lead_publico(lead)


@router.get("/{id_lead}", response_model=LeadDetalhe, responses=erros(401, 404))
def obter(id_lead: str, sessao: SessaoDep, usuario: UsuarioAtual) -> dict[str, Any]:
    """One lead with its WhatsApp timeline."""
    lead = leads.obter_lead(sessao=sessao, id_empresa=usuario.id_empresa, id_lead=id_lead)
    jobs = cadastro_automacoes.listar_agendamentos(
        sessao=sessao, id_empresa=usuario.id_empresa, id_lead=lead.id
    )
    return {
        **leads.lead_publico(lead),
        "agendamentos": [cadastro_automacoes.agendamento_publico(j) for j in jobs],
    }


@router.patch("/{id_lead}/mover", response_model=MovimentoLead, responses=erros(400, 401, 403, 404))
def mover(id_lead: str, dados: MoverEntrada, usuario: UsuarioAtual) -> dict[str, Any]:
    """Move to another stage; same stage is a no-op. One transaction, committed before reply."""
    with db.sessao() as sessao:
        resultado = leads.mover_lead(
            sessao=sessao,
            id_empresa=usuario.id_empresa,
            id_lead=id_lead,
            id_estagio_destino=dados.id_estagio_destino,
            id_usuario=usuario.id_usuario,
        )
    return resultado.publico()


@router.get("/{id_lead}/mensagens", response_model=PaginaMensagens, responses=erros(401, 404))
def listar_mensagens(
    id_lead: str, sessao: SessaoDep, usuario: UsuarioAtual, pagina: PaginaDep
) -> dict[str, Any]:
    """The lead's conversation, both directions, oldest first (paginated)."""
    lead = leads.obter_lead(sessao=sessao, id_empresa=usuario.id_empresa, id_lead=id_lead)
    return mensagens.listar_mensagens(
        sessao,
        id_empresa=usuario.id_empresa,
        id_lead=lead.id,
        limite=pagina.limite,
        cursor=pagina.cursor,
    )


@router.post("/{id_lead}/optin", response_model=LeadPublico, responses=erros(401, 403, 404))
def optin(id_lead: str, usuario: GestorAtual) -> dict[str, Any]:
    """Clear the lead's opt-out: follow-ups may be scheduled again (audited)."""
    with db.sessao() as sessao:
        lead = conversa.registrar_optin(
            sessao=sessao,
            id_empresa=usuario.id_empresa,
            id_lead=id_lead,
            id_usuario=usuario.id_usuario,
        )
    return leads.lead_publico(lead)
