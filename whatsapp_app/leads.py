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

from whatsapp_app import db, paginacao
from whatsapp_app import whatsapp_automations as automacoes
from whatsapp_app.esquemas import ComDerivados, LeadPublico
from whatsapp_app.logs import logger
from whatsapp_app.models import Estagio, Lead, LeadEstagioHistorico, Usuario, novo_id
from whatsapp_app.tempo import DataHoraUtc, agora
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
        consulta = db.travada(consulta)
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


# PostgreSQL: lock + checks + update + history in one round trip. The row lock in ``alvo`` (FOR
# NO KEY UPDATE, as ``db.travada``: the foreign-key checks of inserts that point at the lead,
# its new jobs or a dispatcher's conversation messages, do not wait for it)
# returns the lead's latest version, while the other scans of the statement see its snapshot,
# taken before any wait for the lock: when the two versions differ (a concurrent move committed
# meanwhile) nothing is written (``versao_atual`` false) and the statement runs again, now with
# the lock held and a fresh snapshot, so the ordinal is never computed from a stale history.
_MOVER_PG = sa.text(
    """
WITH alvo AS (
    SELECT id, id_estagio, optout_em, xmin AS versao FROM lead
    WHERE id = :id_lead AND id_empresa = :id_empresa
    FOR NO KEY UPDATE
), lido AS (
    SELECT xmin AS versao FROM lead WHERE id = :id_lead
), destino AS (
    SELECT id FROM estagio WHERE id = :destino AND id_empresa = :id_empresa
), movido AS (
    UPDATE lead SET id_estagio = :destino, atualizado_em = :momento
    FROM alvo, lido, destino
    WHERE lead.id = alvo.id AND alvo.id_estagio <> :destino AND alvo.versao = lido.versao
    RETURNING lead.id, alvo.id_estagio AS origem
), historico AS (
    INSERT INTO lead_estagio_historico
        (id, id_empresa, id_lead, id_estagio, id_estagio_anterior, ordinal, id_usuario, criado_em)
    SELECT :id_historico, :id_empresa, movido.id, :destino, movido.origem,
        1 + (SELECT coalesce(max(h.ordinal), 0) FROM lead_estagio_historico h
             WHERE h.id_lead = :id_lead AND h.id_estagio = :destino),
        :id_usuario, :momento
    FROM movido
    RETURNING ordinal
)
SELECT alvo.id_estagio AS origem,
    alvo.optout_em IS NOT NULL AS optout,
    EXISTS (SELECT 1 FROM destino) AS destino_existe,
    alvo.versao = (SELECT versao FROM lido) AS versao_atual,
    (SELECT ordinal FROM historico) AS ordinal
FROM alvo
"""
).bindparams(sa.bindparam("momento", type_=DataHoraUtc()))

# SQLite (the transaction holds the database's write lock since BEGIN IMMEDIATE, db.py): the
# history row is written from the lead's current row, then the lead is updated.
_HISTORICO_SQLITE = sa.text(
    """
INSERT INTO lead_estagio_historico
    (id, id_empresa, id_lead, id_estagio, id_estagio_anterior, ordinal, id_usuario, criado_em)
SELECT :id_historico, lead.id_empresa, lead.id, :destino, lead.id_estagio,
    1 + (SELECT coalesce(max(h.ordinal), 0) FROM lead_estagio_historico h
         WHERE h.id_lead = lead.id AND h.id_estagio = :destino),
    :id_usuario, :momento
FROM lead
WHERE lead.id = :id_lead AND lead.id_empresa = :id_empresa AND lead.id_estagio <> :destino
    AND EXISTS (SELECT 1 FROM estagio WHERE id = :destino AND id_empresa = :id_empresa)
RETURNING ordinal, id_estagio_anterior
"""
).bindparams(sa.bindparam("momento", type_=DataHoraUtc()))
# (RETURNING the value, not "optout_em IS NOT NULL": SQLite 3.40 answers 1 for a NULL there)
_ATUALIZAR_SQLITE = sa.text(
    "UPDATE lead SET id_estagio = :destino, atualizado_em = :momento"
    " WHERE id = :id_lead AND id_empresa = :id_empresa RETURNING optout_em"
).bindparams(sa.bindparam("momento", type_=DataHoraUtc()))


@dataclass(frozen=True)
class _Movido:
    origem: str
    ordinal: int
    optout: bool


def _erro_ou_noop(sessao: Session, id_empresa: str, id_lead: str, destino: str) -> str:
    """Why nothing moved: 404, 422, or the lead is already there (its stage is returned)."""
    lead = obter_lead(sessao=sessao, id_empresa=id_empresa, id_lead=id_lead)
    if _estagio_da_empresa(sessao, id_empresa, destino) is None:
        raise ErroValidacao({"id_estagio_destino": "Estágio não encontrado nesta empresa."})
    return lead.id_estagio


def _mover_pg(sessao: Session, parametros: dict[str, Any]) -> _Movido | str:
    for _ in range(3):  # a retry only follows a concurrent move of the same lead
        linha = sessao.execute(_MOVER_PG, parametros).one_or_none()
        if linha is None:
            raise NaoEncontrado("Lead não encontrado.")
        if not linha.destino_existe:
            raise ErroValidacao({"id_estagio_destino": "Estágio não encontrado nesta empresa."})
        if linha.origem == parametros["destino"]:
            return str(linha.origem)
        if linha.versao_atual:
            return _Movido(linha.origem, int(linha.ordinal), bool(linha.optout))
    raise RuntimeError("lead alterado durante o movimento")  # the lock is held: unreachable


def _mover_sqlite(sessao: Session, parametros: dict[str, Any]) -> _Movido | str:
    historico = sessao.execute(_HISTORICO_SQLITE, parametros).one_or_none()
    if historico is None:
        return _erro_ou_noop(
            sessao, parametros["id_empresa"], parametros["id_lead"], parametros["destino"]
        )
    optout_em = sessao.execute(_ATUALIZAR_SQLITE, parametros).scalar_one()
    return _Movido(historico.id_estagio_anterior, int(historico.ordinal), optout_em is not None)


def mover_lead(
    *,
    sessao: Session,
    id_empresa: str,
    id_lead: str,
    id_estagio_destino: str,
    id_usuario: str | None = None,
) -> ResultadoMovimento:
    """Move a lead to another stage; all-or-nothing within the caller's transaction.

    Round trips on PostgreSQL: one for lock + checks + update + history, one for the
    cancellations, one for the automations' configuration, one for the job inserts (plus the
    wake-up notice when a job is due now). Written in Core: the ORM's identity map is not
    updated, so a ``Lead`` the caller already loaded in ``sessao`` is stale afterwards.
    """
    momento = agora()
    parametros = {
        "id_lead": id_lead,
        "id_empresa": id_empresa,
        "destino": id_estagio_destino,
        "momento": momento,
        "id_historico": novo_id(),
        "id_usuario": id_usuario,
    }
    movimento = (_mover_pg if db.eh_postgres(sessao) else _mover_sqlite)(sessao, parametros)
    if isinstance(movimento, str):
        return ResultadoMovimento(True, True, movimento, 0, 0)
    cancelados = automacoes.cancelar_ao_sair_do_estagio(
        sessao=sessao, id_empresa=id_empresa, id_lead=id_lead, id_estagio_origem=movimento.origem
    )
    criados = automacoes.executar_automacoes_lead_stage_changed(
        sessao=sessao,
        entrada=automacoes.EntradaNoEstagio(
            id_empresa=id_empresa,
            id_lead=id_lead,
            id_estagio=id_estagio_destino,
            ordinal=movimento.ordinal,
            momento=momento,
            optout=movimento.optout,
        ),
    )
    _log.info(
        "lead movido",
        extra={
            "id_lead": id_lead,
            "de": movimento.origem,
            "para": id_estagio_destino,
            "ordinal": movimento.ordinal,
            "agendamentos_criados": criados,
            "agendamentos_cancelados": cancelados,
        },
    )
    return ResultadoMovimento(True, False, id_estagio_destino, criados, cancelados)
