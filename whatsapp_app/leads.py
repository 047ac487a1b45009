"""Leads and the pipeline move: the service behind ``PATCH /api/leads/{id}/mover`` and the kanban.

``mover_lead`` is the plan's root causes 2 and 3 fixed in one place: a same-stage move is a
no-op that writes nothing, and the lead update, the stage history, the cancellations and the
scheduling all happen in the caller's one transaction, after locking the lead row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from whatsapp_app import paginacao
from whatsapp_app import whatsapp_automations as automacoes
from whatsapp_app.esquemas import ComDerivados, LeadPublico
from whatsapp_app.logs import logger
from whatsapp_app.models import Estagio, Lead, LeadEstagioHistorico, Usuario
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import ErroValidacao, LeadEntrada, NaoEncontrado

_log = logger("leads")
LIMITE_LISTA = 500


def lead_publico(lead: Lead) -> dict[str, Any]:
    publico = ComDerivados(lead, resposta_nao_lida=resposta_nao_lida(lead))
    return LeadPublico.model_validate(publico).model_dump(mode="json")


def resposta_nao_lida(lead: Lead) -> bool:
    """The lead wrote since anyone last opened its conversation (the kanban badge)."""
    return lead.ultima_resposta_em is not None and (
        lead.conversa_lida_em is None or lead.conversa_lida_em < lead.ultima_resposta_em
    )


def _estagio_da_empresa(sessao: Session, id_empresa: str, id_estagio: str) -> Estagio | None:
    estagio = sessao.get(Estagio, id_estagio)
    return estagio if estagio is not None and estagio.id_empresa == id_empresa else None


def busca_por_nome_ou_telefone(q: str) -> Any:
    """The lead search: part of the name (any case) or digits of the phone."""
    termo = f"%{q.strip().lower()}%"
    digitos = "".join(ch for ch in q if ch.isdigit())
    filtros = [sa.func.lower(Lead.nome).like(termo)]
    if digitos:
        filtros.append(col(Lead.telefone).like(f"%{digitos}%"))
    return or_(*filtros)


def _consulta_leads(id_empresa: str, id_estagio: str | None, q: str | None) -> Any:
    consulta = select(Lead).where(Lead.id_empresa == id_empresa)
    if id_estagio:
        consulta = consulta.where(Lead.id_estagio == id_estagio)
    if q and q.strip():
        consulta = consulta.where(busca_por_nome_ou_telefone(q))
    return consulta


def listar_leads(
    *, sessao: Session, id_empresa: str, id_estagio: str | None = None, q: str | None = None
) -> list[Lead]:
    """The kanban's leads, newest activity first (at most LIMITE_LISTA)."""
    consulta = _consulta_leads(id_empresa, id_estagio, q)
    consulta = consulta.order_by(col(Lead.atualizado_em).desc()).limit(LIMITE_LISTA)
    return list(sessao.exec(consulta).all())


def pagina_leads(
    *,
    sessao: Session,
    id_empresa: str,
    id_estagio: str | None = None,
    q: str | None = None,
    limite: int = paginacao.LIMITE_PADRAO,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One page of the company's leads, newest activity first (``GET /api/leads``)."""
    return paginacao.paginar(
        sessao,
        _consulta_leads(id_empresa, id_estagio, q),
        colunas=[col(Lead.atualizado_em), col(Lead.id)],
        decrescente=True,
        limite=limite,
        cursor=cursor,
        publico=lead_publico,
    )


def obter_lead(*, sessao: Session, id_empresa: str, id_lead: str, travar: bool = False) -> Lead:
    consulta = select(Lead).where(Lead.id == id_lead, Lead.id_empresa == id_empresa)
    if travar:
        # PostgreSQL: row lock until commit. SQLite: the transaction already holds the
        # database write lock (BEGIN IMMEDIATE, see db.py).
        consulta = consulta.with_for_update().execution_options(populate_existing=True)
    lead = sessao.exec(consulta).first()
    if lead is None:
        raise NaoEncontrado("Lead não encontrado.")
    return lead


def criar_lead(*, sessao: Session, id_empresa: str, dados: LeadEntrada) -> Lead:
    campos: dict[str, str] = {}
    if _estagio_da_empresa(sessao, id_empresa, dados.id_estagio) is None:
        campos["id_estagio"] = "Estágio não encontrado nesta empresa."
    if dados.id_responsavel:
        responsavel = sessao.get(Usuario, dados.id_responsavel)
        if responsavel is None or responsavel.id_empresa != id_empresa:
            campos["id_responsavel"] = "Responsável não encontrado nesta empresa."
    if campos:
        raise ErroValidacao(campos)
    momento = agora()
    lead = Lead(
        id_empresa=id_empresa,
        nome=dados.nome,
        telefone=dados.telefone,
        id_estagio=dados.id_estagio,
        id_responsavel=dados.id_responsavel,
        criado_em=momento,
        atualizado_em=momento,
    )
    sessao.add(lead)
    sessao.flush()
    sessao.add(
        LeadEstagioHistorico(
            id_empresa=id_empresa,
            id_lead=lead.id,
            id_estagio=lead.id_estagio,
            ordinal=1,
            criado_em=momento,
        )
    )
    sessao.flush()
    return lead


@dataclass(frozen=True)
class ResultadoMovimento:
    ok: bool
    noop: bool
    id_estagio: str
    agendamentos_criados: int
    agendamentos_cancelados: int

    def publico(self) -> dict[str, Any]:
        return asdict(self)


def mover_lead(
    *,
    sessao: Session,
    id_empresa: str,
    id_lead: str,
    id_estagio_destino: str,
    id_usuario: str | None = None,
) -> ResultadoMovimento:
    """Move a lead to another stage; all-or-nothing within the caller's transaction."""
    lead = obter_lead(sessao=sessao, id_empresa=id_empresa, id_lead=id_lead, travar=True)
    if _estagio_da_empresa(sessao, id_empresa, id_estagio_destino) is None:
        raise ErroValidacao({"id_estagio_destino": "Estágio não encontrado nesta empresa."})
    if lead.id_estagio == id_estagio_destino:
        return ResultadoMovimento(True, True, lead.id_estagio, 0, 0)

    origem = lead.id_estagio
    momento = agora()
    lead.id_estagio = id_estagio_destino
    lead.atualizado_em = momento
    sessao.add(lead)
    ordinal = 1 + (
        sessao.exec(
            select(sa.func.coalesce(sa.func.max(LeadEstagioHistorico.ordinal), 0)).where(
                LeadEstagioHistorico.id_lead == lead.id,
                LeadEstagioHistorico.id_estagio == id_estagio_destino,
            )
        ).one()
    )
    sessao.add(
        LeadEstagioHistorico(
            id_empresa=id_empresa,
            id_lead=lead.id,
            id_estagio=id_estagio_destino,
            id_estagio_anterior=origem,
            ordinal=ordinal,
            id_usuario=id_usuario,
            criado_em=momento,
        )
    )
    sessao.flush()
    cancelados = automacoes.cancelar_ao_sair_do_estagio(
        sessao=sessao, id_empresa=id_empresa, id_lead=lead.id, id_estagio_origem=origem
    )
    criados = automacoes.executar_automacoes_lead_stage_changed(
        sessao=sessao,
        entrada=automacoes.EntradaNoEstagio(
            id_empresa=id_empresa,
            id_lead=lead.id,
            id_estagio=id_estagio_destino,
            ordinal=ordinal,
            momento=momento,
            optout=lead.optout_em is not None,
        ),
    )
    _log.info(
        "lead movido",
        extra={
            "id_lead": lead.id,
            "de": origem,
            "para": id_estagio_destino,
            "ordinal": ordinal,
            "agendamentos_criados": criados,
            "agendamentos_cancelados": cancelados,
        },
    )
    return ResultadoMovimento(True, False, id_estagio_destino, criados, cancelados)
