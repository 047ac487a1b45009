"""WhatsApp follow-up automations: scheduling, cancellations and the single dispatcher.

Scheduling (``executar_automacoes_lead_stage_changed``) runs inside the caller's transaction,
the same one that moved the lead, and never creates a job twice: every job carries a
deterministic ``chave_idempotencia`` (contract.md section 3) and is inserted with
``ON CONFLICT DO NOTHING`` against ``UNIQUE (id_empresa, chave_idempotencia)``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, col, select

from whatsapp_app import contadores, db, despacho_lote, despertador
from whatsapp_app.config import configuracoes
from whatsapp_app.despacho_controle import (
    FabricaProvedor,
    fabrica_padrao,
    identificador_worker,
    parada_solicitada,
)
from whatsapp_app.envio import (
    MOTIVO_LEAD_OPTOUT,
    MOTIVO_LEAD_RESPONDEU,
)
from whatsapp_app.janela import proxima_abertura
from whatsapp_app.logs import logger
from whatsapp_app.models import (
    Empresa,
    Reentrada,
    StatusAgendamento,
    WhatsappAutomacao,
    WhatsappAutomacaoAgendamento,
    novo_id,
)
from whatsapp_app.reivindicacao import (
    ResumoDespacho,
    registrar_claims,
    reivindicar,
)
from whatsapp_app.tempo import DataHoraUtc, agora

EVENTO_MUDANCA_ESTAGIO = "lead_stage_changed"
MOTIVO_SAIU_DO_ESTAGIO = "lead_saiu_do_estagio"
MOTIVO_AUTOMACAO_DESATIVADA = "automacao_desativada"
MOTIVO_AUTOMACAO_EXCLUIDA = "automacao_excluida"

_log = logger("automacoes")
_agendamento = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]


def chave_idempotencia(
    *,
    id_empresa: str,
    id_lead: str,
    id_estagio_trigger: str,
    id_whatsapp_automacao: str,
    id_etapa: str,
    ordinal_entrada: int | None = None,
) -> str:
    """The job's identity. ``ordinal_entrada`` only for re-entry policy ``a_cada_entrada``."""
    chave = f"{id_empresa}:{id_lead}:{id_estagio_trigger}:{id_whatsapp_automacao}:{id_etapa}"
    return chave if ordinal_entrada is None else f"{chave}:{ordinal_entrada}"


_COLUNAS_JOB = (
    "id",
    "id_empresa",
    "id_lead",
    "id_whatsapp_automacao",
    "id_etapa",
    "id_estagio_trigger",
    "chave_idempotencia",
    "referencia_evento",
    "status",
    "agendado_para",
    "tentativas",
    "criado_em",
    "atualizado_em",
)


def _array_pg(coluna: str) -> str:
    tipo = _agendamento.c[coluna].type
    if isinstance(tipo, DataHoraUtc):
        return "timestamptz[]"
    return "integer[]" if isinstance(tipo, sa.Integer) else "text[]"


# PostgreSQL: one array per column, whatever the number of rows. The SQL text stays short and
# constant, so neither SQLAlchemy nor psycopg rework it per move (a 9-row VALUES list is ~5 kB
# of SQL with 117 placeholders, re-parsed by psycopg on every execution).
_INSERIR_JOBS_PG = sa.text(
    f"INSERT INTO whatsapp_automacao_agendamento ({', '.join(_COLUNAS_JOB)})"
    " SELECT * FROM unnest("
    + ", ".join(f"CAST(:{c} AS {_array_pg(c)})" for c in _COLUNAS_JOB)
    + ") ON CONFLICT DO NOTHING RETURNING chave_idempotencia"
)


def _inserir_ignorando_duplicatas(sessao: Session, linhas: list[dict[str, Any]]) -> set[str]:
    """Insert jobs (dicts with exactly ``_COLUNAS_JOB``); returns the keys really inserted
    (the others already existed). One statement either way: unnest arrays on PostgreSQL, the
    rows as executemany parameters on SQLite (SQLAlchemy's "insertmanyvalues": one multi-row
    INSERT, since the keys come back as a set and RETURNING's order does not matter)."""
    if not linhas:
        return set()
    if sessao.get_bind().dialect.name == "postgresql":
        colunas = {c: [linha[c] for linha in linhas] for c in _COLUNAS_JOB}
        return set(sessao.execute(_INSERIR_JOBS_PG, colunas).scalars().all())
    comando = (
        sqlite.insert(_agendamento)
        .on_conflict_do_nothing()
        .returning(_agendamento.c.chave_idempotencia)
    )
    return {c for c in sessao.execute(comando, linhas).scalars().all() if c is not None}


@dataclass(frozen=True)
class EntradaNoEstagio:
    """A lead entering a stage: what scheduling needs to know about the move."""

    id_empresa: str
    id_lead: str
    id_estagio: str
    ordinal: int  # this lead's n-th entry into this stage (from LeadEstagioHistorico)
    momento: datetime
    optout: bool = False  # the lead asked for no more messages: nothing is scheduled


# One round trip for the configuration a move needs: every live step of the stage's active
# automations, with the company's sending window (no row: nothing to schedule). Plain SQL
# built once: the move's hot path spends no CPU building and hashing a statement per call.
_ETAPAS_DO_ESTAGIO = sa.text(
    """
SELECT a.id AS id_automacao, a.reentrada, e.id AS id_etapa, e.atraso_minutos,
    emp.janela_envio, emp.fuso_horario
FROM whatsapp_automacao a
JOIN whatsapp_automacao_etapa e ON e.id_whatsapp_automacao = a.id
JOIN empresa emp ON emp.id = a.id_empresa
WHERE a.id_empresa = :id_empresa AND a.id_estagio_trigger = :id_estagio AND a.evento = :evento
    AND a.ativo = :sim AND e.id_empresa = :id_empresa AND e.removida_em IS NULL
ORDER BY e.ordem
"""
).columns(janela_envio=Empresa.__table__.c.janela_envio.type)  # type: ignore[attr-defined]


def executar_automacoes_lead_stage_changed(*, sessao: Session, entrada: EntradaNoEstagio) -> int:
    """Schedule every step of the company's active automations for the destination stage.

    Steps are cumulative from the move: step n is due ``atraso_minutos`` after it, pushed to
    the next opening of the company's sending window. Returns how many jobs were created.
    A lead who opted out gets nothing.
    """
    if entrada.optout:
        _log.info("lead descadastrado: nada agendado", extra={"id_lead": entrada.id_lead})
        return 0
    etapas = sessao.execute(
        _ETAPAS_DO_ESTAGIO,
        {
            "id_empresa": entrada.id_empresa,
            "id_estagio": entrada.id_estagio,
            "evento": EVENTO_MUDANCA_ESTAGIO,
            "sim": True,
        },
    ).all()
    momento = agora()
    linhas = []
    devidos_agora: set[str] = set()
    for etapa in etapas:
        chave = chave_idempotencia(
            id_empresa=entrada.id_empresa,
            id_lead=entrada.id_lead,
            id_estagio_trigger=entrada.id_estagio,
            id_whatsapp_automacao=etapa.id_automacao,
            id_etapa=etapa.id_etapa,
            ordinal_entrada=(
                entrada.ordinal if etapa.reentrada == Reentrada.A_CADA_ENTRADA else None
            ),
        )
        quando = proxima_abertura(
            entrada.momento + timedelta(minutes=etapa.atraso_minutos),
            etapa.janela_envio,
            etapa.fuso_horario,
        )
        if quando <= momento:
            devidos_agora.add(chave)
        linhas.append(
            {
                "id": novo_id(),
                "id_empresa": entrada.id_empresa,
                "id_lead": entrada.id_lead,
                "id_whatsapp_automacao": etapa.id_automacao,
                "id_etapa": etapa.id_etapa,
                "id_estagio_trigger": entrada.id_estagio,
                "chave_idempotencia": chave,
                "referencia_evento": chave,
                "status": StatusAgendamento.PENDENTE.value,
                "agendado_para": quando,
                "tentativas": 0,
                "criado_em": momento,
                "atualizado_em": momento,
            }
        )
    inseridas = _inserir_ignorando_duplicatas(sessao, linhas)
    if devidos_agora & set(inseridas):
        despertador.avisar(sessao)  # due now: wake a dispatcher at commit, not at the tick
    for linha in linhas:
        if linha["chave_idempotencia"] not in inseridas:
            contadores.somar(contadores.DUPLICADOS_BLOQUEADOS, entrada.id_empresa, sessao=sessao)
            _log.info(
                "agendamento duplicado bloqueado",
                extra={
                    "chave_idempotencia": linha["chave_idempotencia"],
                    "id_lead": entrada.id_lead,
                },
            )
    for chave in inseridas:
        _log.debug(
            "agendamento criado", extra={"chave_idempotencia": chave, "id_lead": entrada.id_lead}
        )
    return len(inseridas)


AGUARDANDO = (StatusAgendamento.PENDENTE.value, StatusAgendamento.PAUSADO.value)
MOTIVO_VENCIDO_DURANTE_PAUSA = "vencido_durante_pausa"


def cancelar_pendentes(sessao: Session, condicoes: list[Any], motivo: str) -> int:
    """Cancel the waiting jobs (PENDENTE or PAUSADO) that match ``condicoes``."""
    momento = agora()
    resultado = sessao.execute(
        sa.update(_agendamento)
        .where(_agendamento.c.status.in_(AGUARDANDO), *condicoes)
        .values(
            status=StatusAgendamento.CANCELADO.value,
            motivo_cancelamento=motivo,
            atualizado_em=momento,
        )
    )
    return _linhas_afetadas(resultado)


_CANCELAR_AO_SAIR = sa.text(
    """
UPDATE whatsapp_automacao_agendamento
SET status = :cancelado, motivo_cancelamento = :motivo, atualizado_em = :momento
WHERE id_empresa = :id_empresa AND id_lead = :id_lead AND id_estagio_trigger = :origem
    AND status IN (:pendente, :pausado)
    AND id_whatsapp_automacao IN (
        SELECT id FROM whatsapp_automacao WHERE id_empresa = :id_empresa AND cancelar_ao_sair = :sim
    )
"""
).bindparams(sa.bindparam("momento", type_=DataHoraUtc()))


def cancelar_ao_sair_do_estagio(
    *, sessao: Session, id_empresa: str, id_lead: str, id_estagio_origem: str
) -> int:
    """The lead left a stage: cancel its pending jobs of automations that ask for it (one
    statement built once: it runs on every move)."""
    resultado = sessao.execute(
        _CANCELAR_AO_SAIR,
        {
            "cancelado": StatusAgendamento.CANCELADO.value,
            "motivo": MOTIVO_SAIU_DO_ESTAGIO,
            "momento": agora(),
            "id_empresa": id_empresa,
            "id_lead": id_lead,
            "origem": id_estagio_origem,
            "pendente": StatusAgendamento.PENDENTE.value,
            "pausado": StatusAgendamento.PAUSADO.value,
            "sim": True,
        },
    )
    return _linhas_afetadas(resultado)


def cancelar_por_resposta(*, sessao: Session, id_empresa: str, id_lead: str) -> int:
    """The lead replied: cancel its pending jobs of automations with ``parar_ao_responder``."""
    automacoes = select(WhatsappAutomacao.id).where(
        WhatsappAutomacao.id_empresa == id_empresa,
        col(WhatsappAutomacao.parar_ao_responder).is_(True),
    )
    cancelados = cancelar_pendentes(
        sessao,
        [
            _agendamento.c.id_empresa == id_empresa,
            _agendamento.c.id_lead == id_lead,
            _agendamento.c.id_whatsapp_automacao.in_(automacoes),
        ],
        MOTIVO_LEAD_RESPONDEU,
    )
    contadores.somar(contadores.CANCELADOS_RESPOSTA, id_empresa, cancelados, sessao=sessao)
    return cancelados


def cancelar_por_optout(*, sessao: Session, id_empresa: str, id_lead: str) -> int:
    """The lead opted out: cancel every pending job of that lead, whatever the automation."""
    cancelados = cancelar_pendentes(
        sessao,
        [_agendamento.c.id_empresa == id_empresa, _agendamento.c.id_lead == id_lead],
        MOTIVO_LEAD_OPTOUT,
    )
    contadores.somar(contadores.CANCELADOS_OPTOUT, id_empresa, cancelados, sessao=sessao)
    return cancelados


def _linhas_afetadas(resultado: Any) -> int:
    return int(resultado.rowcount or 0)


def pausar_pendentes_da_automacao(
    *, sessao: Session, id_empresa: str, id_whatsapp_automacao: str
) -> int:
    """The automation was paused: its pending jobs stay in the queue as PAUSADO, which the
    claim (``status = 'PENDENTE'``) never takes."""
    t = _agendamento
    resultado = sessao.execute(
        sa.update(t)
        .where(
            t.c.id_empresa == id_empresa,
            t.c.id_whatsapp_automacao == id_whatsapp_automacao,
            t.c.status == StatusAgendamento.PENDENTE.value,
        )
        .values(status=StatusAgendamento.PAUSADO.value, atualizado_em=agora())
    )
    return _linhas_afetadas(resultado)


def contar_vencidos_na_pausa(
    *, sessao: Session, id_empresa: str, id_whatsapp_automacao: str
) -> int:
    """Paused jobs whose time came during the pause (what resuming asks about)."""
    t = _agendamento
    return int(
        sessao.execute(
            sa.select(sa.func.count()).where(
                t.c.id_empresa == id_empresa,
                t.c.id_whatsapp_automacao == id_whatsapp_automacao,
                t.c.status == StatusAgendamento.PAUSADO.value,
                t.c.agendado_para <= agora(),
            )
        ).scalar_one()
    )


def retomar_pausados(
    *, sessao: Session, id_empresa: str, id_whatsapp_automacao: str, cancelar_vencidos: bool
) -> tuple[int, int]:
    """Resume: the paused jobs go back to PENDENTE; those that fell due during the pause are
    sent now (they wait for the sending window as any job) or, when asked, cancelled
    (``vencido_durante_pausa``). Returns (resumed, cancelled)."""
    t = _agendamento
    momento = agora()
    da_automacao = [
        t.c.id_empresa == id_empresa,
        t.c.id_whatsapp_automacao == id_whatsapp_automacao,
        t.c.status == StatusAgendamento.PAUSADO.value,
    ]
    cancelados = 0
    if cancelar_vencidos:
        cancelados = _linhas_afetadas(
            sessao.execute(
                sa.update(t)
                .where(*da_automacao, t.c.agendado_para <= momento)
                .values(
                    status=StatusAgendamento.CANCELADO.value,
                    motivo_cancelamento=MOTIVO_VENCIDO_DURANTE_PAUSA,
                    atualizado_em=momento,
                )
            )
        )
    retomados = _linhas_afetadas(
        sessao.execute(
            sa.update(t)
            .where(*da_automacao)
            .values(status=StatusAgendamento.PENDENTE.value, atualizado_em=momento)
        )
    )
    return retomados, cancelados


def cancelar_pendentes_da_automacao(
    *, sessao: Session, id_empresa: str, id_whatsapp_automacao: str, motivo: str
) -> int:
    return cancelar_pendentes(
        sessao,
        [
            _agendamento.c.id_empresa == id_empresa,
            _agendamento.c.id_whatsapp_automacao == id_whatsapp_automacao,
        ],
        motivo,
    )


# =============================================================================================
# The dispatcher: the only code path that sends a follow-up (the claim protocol and its
# invariant: ``reivindicacao``; stop, heartbeat, send gate: ``despacho_controle``; the reaper:
# ``recuperacao``).
# =============================================================================================


_fabrica_padrao = fabrica_padrao  # the dispatcher's default (tests replace it here)


def processar_agendamentos_follow_up_whatsapp(
    *,
    id_empresa: str | None = None,
    limite: int | None = None,
    worker_id: str | None = None,
    fabrica_provedor: FabricaProvedor | None = None,
    id_whatsapp_instancia: str | None = None,
    deve_parar: Callable[[], bool] | None = None,
    resumo: ResumoDespacho | None = None,
    continuo: bool = False,
) -> dict[str, int]:
    """Claim due jobs and send them; the one function every dispatch entry point calls.

    ``id_empresa=None`` dispatches for every company (internal endpoint, scheduler, workers);
    ``id_whatsapp_instancia`` only the jobs of automations sending through that instance.
    Sends within the batch run concurrently (sized from the instances' rate limit and the
    measured latency, at most ``DESPACHO_CONCORRENCIA``). ``continuo`` (the scheduler's rounds):
    batch after batch until one comes back short, each claimed and prepared while the previous
    one's last sends are in flight.
    ``deve_parar`` (a manual dispatch's cancel) is checked where a shutdown is: when true,
    nothing more is claimed, claims whose send has not started are given back untouched and
    sends already started finish and are recorded. ``resumo`` is the caller's summary (e.g. a
    manual dispatch's, over all its rounds): the round adds to it as it goes, so the caller can
    read it while it runs; the return value is that summary.
    """
    cfg = configuracoes()
    parar = parada_solicitada
    if deve_parar is not None:
        externo = deve_parar
        parar = lambda: parada_solicitada() or externo()
    base = worker_id or identificador_worker()
    fabrica = fabrica_provedor or _fabrica_padrao
    resumo = resumo if resumo is not None else ResumoDespacho()
    limite = limite or cfg.despacho_lote
    if deve_parar is not None and deve_parar():
        return resumo.publico()
    with ExitStack() as pilha:
        esteira: despacho_lote.Esteira | None = None
        while True:
            # claimed_by names this batch, not just the process: a claim the reaper took back
            # and the same process re-claimed later must not be finishable by an earlier
            # batch's thread.
            lote_id = f"{base}:{uuid.uuid4().hex[:8]}"
            with db.sessao() as sessao:
                jobs = reivindicar(
                    sessao,
                    id_empresa=id_empresa,
                    limite=limite,
                    worker_id=lote_id,
                    resumo=resumo,
                    id_whatsapp_instancia=id_whatsapp_instancia,
                )
            registrar_claims(jobs, lote_id, resumo)
            if jobs:
                if esteira is None:
                    esteira = pilha.enter_context(despacho_lote.Esteira(fabrica, resumo, parar))
                esteira.enviar(jobs, lote_id)
            if not continuo or len(jobs) < limite or parar():
                break
    contadores.descarregar()  # this call's counts, for "Saúde do despacho" (never raises)
    return resumo.publico()
