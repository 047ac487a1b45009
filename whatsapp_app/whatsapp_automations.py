"""WhatsApp follow-up automations: scheduling and the single dispatcher.

Scheduling (``executar_automacoes_lead_stage_changed``) runs inside the caller's transaction,
the same one that moved the lead, and never creates a job twice: every job carries a
deterministic ``chave_idempotencia`` (contract.md section 3) and is inserted with
``ON CONFLICT DO NOTHING`` against ``UNIQUE (id_empresa, chave_idempotencia)``.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, col, select

from whatsapp_app import contadores, db, despertador, metricas
from whatsapp_app import envio as envio_
from whatsapp_app.config import configuracoes
from whatsapp_app.envio import (
    ERRO_FORA_DA_JANELA_SEM_MODELO,
    MOTIVO_LEAD_OPTOUT,
    MOTIVO_LEAD_RESPONDEU,
)
from whatsapp_app.envio import VARIAVEIS_MODELO as VARIAVEIS_MODELO
from whatsapp_app.envio import renderizar_mensagem as renderizar_mensagem
from whatsapp_app.envio import variaveis_desconhecidas as variaveis_desconhecidas
from whatsapp_app.janela import dentro_da_janela, proxima_abertura
from whatsapp_app.logs import logger
from whatsapp_app.models import (
    Empresa,
    Reentrada,
    StatusAgendamento,
    WhatsappAutomacao,
    WhatsappAutomacaoAgendamento,
    WhatsappInstancia,
    novo_id,
)
from whatsapp_app.providers.base import Desfecho, Provedor, ResultadoEnvio
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
            metricas.jobs_duplicate_blocked.inc()
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
    return int(resultado.rowcount or 0)  # type: ignore[attr-defined]


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
    metricas.jobs_cancelados_resposta.inc(cancelados)
    contadores.somar(contadores.CANCELADOS_RESPOSTA, id_empresa, cancelados, sessao=sessao)
    return cancelados


def cancelar_por_optout(*, sessao: Session, id_empresa: str, id_lead: str) -> int:
    """The lead opted out: cancel every pending job of that lead, whatever the automation."""
    cancelados = cancelar_pendentes(
        sessao,
        [_agendamento.c.id_empresa == id_empresa, _agendamento.c.id_lead == id_lead],
        MOTIVO_LEAD_OPTOUT,
    )
    metricas.jobs_cancelados_optout.inc(cancelados)
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
    return int(resultado.rowcount or 0)  # type: ignore[attr-defined]


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
# The dispatcher: the only code path that sends a follow-up.
#
# Invariant: claim before send, send only once. A job is sent only by the dispatcher whose
# atomic claim moved it PENDENTE → PROCESSANDO; every later write is conditional on
# ``status = 'PROCESSANDO' AND claimed_by = <this worker>``, so a job the reaper recovered
# cannot be finished twice. ``envio_iniciado_em`` is committed before the provider call: a
# crash after it means "maybe sent", which is reconciled, never blindly resent.
# =============================================================================================


ESPERA_MAXIMA_VAGA_S = 60.0  # a rate-limit slot further away than this is released, not awaited

FabricaProvedor = Callable[[WhatsappInstancia], Provedor]
_trava_portao = threading.Lock()
_portao_envios: threading.BoundedSemaphore | None = None


def _portao() -> threading.BoundedSemaphore:
    """Sends in flight in this process, across every concurrent dispatch call (the API may run
    several at once): at most DESPACHO_CONCORRENCIA, which the HTTP pool is sized for."""
    global _portao_envios
    with _trava_portao:
        if _portao_envios is None:
            _portao_envios = threading.BoundedSemaphore(configuracoes().despacho_concorrencia)
        return _portao_envios


_parada = threading.Event()
MARGEM_ENVIO_EM_VOO_S = 5.0  # beyond the provider timeout before a started send is reconciled


def solicitar_parada() -> None:
    """SIGTERM / shutdown: claims whose send has not started are given back at once (the
    sends in flight finish and are recorded normally)."""
    _parada.set()


def retomar() -> None:
    """Undo ``solicitar_parada`` (a scheduler started again in the same process)."""
    _parada.clear()


VERIFICAR_PARADA_S = 0.25  # seconds between two stop checks while a rate-limit slot is awaited


def _aguardar_vaga(segundos: float, parar: Callable[[], bool]) -> bool:
    """Wait ``segundos`` for a send slot; True as soon as the round must stop."""
    fim = time.monotonic() + segundos
    while (restante := fim - time.monotonic()) > 0:
        if _parada.wait(min(restante, VERIFICAR_PARADA_S)) or parar():
            return True
    return False


def _bater(worker_id: str) -> int:
    """Refresh the heartbeat of this round's claims in flight."""
    t = _agendamento
    with db.sessao() as sessao:
        resultado = sessao.execute(
            sa.update(t)
            .where(t.c.status == StatusAgendamento.PROCESSANDO.value, t.c.claimed_by == worker_id)
            .values(batimento_em=agora())
        )
        return int(resultado.rowcount or 0)  # type: ignore[attr-defined]


class Batimento:
    """While some work runs, a thread calls ``bater`` every BATIMENTO_INTERVALO_S (a heartbeat
    write), so a dead owner (silent) can be told from a slow one (beating). Used for a round's
    claims (the reaper reads them) and for a manual dispatch's row (``disparos``)."""

    def __init__(self, bater: Callable[[], object], *, nome: str, extra: dict[str, str]) -> None:
        self._bater_uma_vez = bater
        self._extra = extra
        self._fim = threading.Event()
        self._thread = threading.Thread(target=self._bater, name=nome, daemon=True)

    def _bater(self) -> None:
        intervalo = configuracoes().batimento_intervalo_s
        while not self._fim.wait(intervalo):
            try:
                self._bater_uma_vez()
            except Exception:  # the database may be away for a moment: beat again later
                _log.warning("batimento falhou", extra=self._extra)

    def __enter__(self) -> Batimento:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._fim.set()
        self._thread.join()


def identificador_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class ResumoDespacho:
    """The contract's dispatch summary; sends in threads add to it under a lock."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    uncertain: int = 0
    skipped_already_claimed: int = 0
    cancelled: int = 0  # refused at send time: the lead opted out or replied
    _trava: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def somar(self, campo: str, quantidade: int = 1) -> None:
        with self._trava:
            setattr(self, campo, getattr(self, campo) + quantidade)

    def publico(self) -> dict[str, int]:
        from whatsapp_app.esquemas import ResumoDespachoPublico

        return ResumoDespachoPublico.model_validate(self).model_dump()


@dataclass(frozen=True)
class JobReivindicado:
    id: str
    id_empresa: str
    chave_idempotencia: str
    tentativas: int
    agendado_para: datetime


def _reivindicar(
    sessao: Session,
    *,
    id_empresa: str | None,
    limite: int,
    worker_id: str,
    resumo: ResumoDespacho,
    id_whatsapp_instancia: str | None = None,
) -> list[JobReivindicado]:
    """Claim a batch of due PENDENTE jobs for ``worker_id`` (PENDENTE → PROCESSANDO)."""
    t = _agendamento
    momento = agora()
    filtros = [t.c.status == StatusAgendamento.PENDENTE.value, t.c.agendado_para <= momento]
    if id_empresa is not None:
        filtros.append(t.c.id_empresa == id_empresa)
    if id_whatsapp_instancia is not None:
        filtros.append(
            t.c.id_whatsapp_automacao.in_(
                sa.select(col(WhatsappAutomacao.id)).where(
                    col(WhatsappAutomacao.id_whatsapp_instancia) == id_whatsapp_instancia
                )
            )
        )
    marcar = {
        "status": StatusAgendamento.PROCESSANDO.value,
        "claimed_by": worker_id,
        "claimed_at": momento,
        "batimento_em": momento,
        "tentativas": t.c.tentativas + 1,
        "envio_iniciado_em": None,
        "atualizado_em": momento,
    }
    colunas = (t.c.id, t.c.id_empresa, t.c.chave_idempotencia, t.c.tentativas, t.c.agendado_para)
    if db.eh_postgres(sessao):
        # One statement: rows another dispatcher holds are skipped, never waited for.
        candidatos = (
            sa.select(t.c.id)
            .where(*filtros)
            .order_by(t.c.agendado_para)
            .limit(limite)
            .with_for_update(skip_locked=True)
            .cte("candidatos")
        )
        linhas = sessao.execute(
            sa.update(t).where(t.c.id == candidatos.c.id).values(**marcar).returning(*colunas)
        ).all()
    else:
        # SQLite: per-row conditional claim; a row someone else took affects 0 rows.
        ids = sessao.execute(
            sa.select(t.c.id, t.c.id_empresa)
            .where(*filtros)
            .order_by(t.c.agendado_para)
            .limit(limite)
        ).all()
        linhas = []
        for id_job, empresa_do_job in ids:
            linha = sessao.execute(
                sa.update(t)
                .where(t.c.id == id_job, t.c.status == StatusAgendamento.PENDENTE.value)
                .values(**marcar)
                .returning(*colunas)
            ).first()
            if linha is None:
                resumo.somar("skipped_already_claimed")
                metricas.jobs_skipped_already_claimed.inc()
                contadores.somar(contadores.REIVINDICACOES_PERDIDAS, empresa_do_job)
                _log.info(
                    "claim perdido",
                    extra={
                        "id_agendamento": id_job,
                        "worker_id": worker_id,
                        "resultado_claim": "ja_reivindicado",
                    },
                )
                continue
            linhas.append(linha)
    return [JobReivindicado(*linha) for linha in linhas]


def _registrar_claims(jobs: list[JobReivindicado], worker_id: str, resumo: ResumoDespacho) -> None:
    """Count and log claims once their transaction committed (a rolled-back claim is none)."""
    for job in jobs:
        metricas.jobs_claimed.inc()
        contadores.somar(contadores.REIVINDICADOS, job.id_empresa)
        _log.info(
            "claim",
            extra={
                "chave_idempotencia": job.chave_idempotencia,
                "id_agendamento": job.id,
                "worker_id": worker_id,
                "resultado_claim": "reivindicado",
                "tentativa": job.tentativas,
            },
        )
    resumo.somar("claimed", len(jobs))


def _finalizar(
    job_id: str,
    worker_id: str,
    *,
    depois: Callable[[Session], None] | None = None,
    **valores: Any,
) -> bool:
    """Write the outcome only if this worker still holds the claim; ``depois`` runs in the same
    transaction when it did (e.g. the sent message joins the conversation atomically)."""
    t = _agendamento
    with db.sessao() as sessao:
        resultado = sessao.execute(
            sa.update(t)
            .where(
                t.c.id == job_id,
                t.c.status == StatusAgendamento.PROCESSANDO.value,
                t.c.claimed_by == worker_id,
            )
            .values(atualizado_em=agora(), **valores)
        )
        gravado = bool(resultado.rowcount)  # type: ignore[attr-defined]
        if gravado and depois is not None:
            depois(sessao)
        return gravado


def _liberar(job: JobReivindicado, worker_id: str, quando: datetime) -> bool:
    """Give a claim back untouched (not an attempt): PROCESSANDO → PENDENTE at ``quando``."""
    return _finalizar(
        job.id,
        worker_id,
        status=StatusAgendamento.PENDENTE.value,
        agendado_para=quando,
        tentativas=job.tentativas - 1,
        claimed_by=None,
        claimed_at=None,
        batimento_em=None,
    )


def _reservar_vaga(id_instancia: str, msgs_por_segundo: float) -> float:
    """Take the instance's next send slot (shared by all processes); seconds to wait for it."""
    intervalo = timedelta(seconds=1 / msgs_por_segundo)
    with db.sessao() as sessao:
        instancia = sessao.exec(
            select(WhatsappInstancia)
            .where(WhatsappInstancia.id == id_instancia)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        momento = agora()
        vaga = max(momento, instancia.proximo_envio_em or momento)
        instancia.proximo_envio_em = vaga + intervalo
        sessao.add(instancia)
    return (vaga - momento).total_seconds()


def atraso_backoff(tentativas: int) -> float:
    """Exponential backoff with full jitter between half and all of the exponential step."""
    cfg = configuracoes()
    teto = min(
        cfg.despacho_backoff_max_s, cfg.despacho_backoff_base_s * 2 ** max(0, tentativas - 1)
    )
    return random.uniform(teto / 2, teto)


def _processar(
    job: JobReivindicado,
    worker_id: str,
    fabrica: FabricaProvedor,
    resumo: ResumoDespacho,
    parar: Callable[[], bool] = _parada.is_set,
) -> None:
    cfg = configuracoes()
    if parar():  # stopping (shutdown, a manual dispatch's cancel): back untouched, still due
        _liberar(job, worker_id, job.agendado_para)
        return
    contexto = envio_.carregar_contexto(id_agendamento=job.id, id_empresa=job.id_empresa)
    momento = agora()
    motivo = envio_.motivo_para_nao_enviar(contexto)
    if motivo is not None:
        _cancelar_reivindicado(job, worker_id, motivo, resumo)
        return
    if not dentro_da_janela(momento, contexto.janela, contexto.fuso_horario):
        _liberar(job, worker_id, proxima_abertura(momento, contexto.janela, contexto.fuso_horario))
        _log.info(
            "fora da janela: adiado", extra={"id_agendamento": job.id, "worker_id": worker_id}
        )
        return
    envio = envio_.preparar_envio(contexto)
    if envio is None:
        resultado = ResultadoEnvio(Desfecho.PERMANENTE, erro=ERRO_FORA_DA_JANELA_SEM_MODELO)
        _registrar_resultado(job, worker_id, resultado, resumo, 0.0)
        return
    espera = _reservar_vaga(contexto.instancia.id, cfg.despacho_msgs_por_segundo)
    if espera > ESPERA_MAXIMA_VAGA_S:
        _liberar(job, worker_id, agora() + timedelta(seconds=espera))
        return
    if (espera > 0 and _aguardar_vaga(espera, parar)) or parar():
        _liberar(job, worker_id, job.agendado_para)  # stopping: the slot is lost, the job is not
        return
    with _portao():  # the send's clock starts once it may really go out
        if parar():
            _liberar(job, worker_id, job.agendado_para)
            return
        if not _finalizar(job.id, worker_id, envio_iniciado_em=agora()):
            return  # the claim was taken back (reaper): someone else owns the job now
        inicio = time.monotonic()
        try:
            resultado = envio_.enviar(fabrica(contexto.instancia), contexto, envio, job.id)
        except Exception as exc:  # an adapter bug after the request may have left: never resend
            _log.exception("falha inesperada no provedor", extra={"id_agendamento": job.id})
            resultado = ResultadoEnvio(Desfecho.DESCONHECIDO, erro=f"Falha inesperada: {exc}")
        latencia_ms = round((time.monotonic() - inicio) * 1000, 1)
    _registrar_resultado(
        job,
        worker_id,
        resultado,
        resumo,
        latencia_ms,
        saida=envio_.Saida(contexto.instancia.id, contexto.id_lead, contexto.telefone, envio.texto),
    )


def _cancelar_reivindicado(
    job: JobReivindicado, worker_id: str, motivo: str, resumo: ResumoDespacho
) -> None:
    gravado = _finalizar(
        job.id,
        worker_id,
        status=StatusAgendamento.CANCELADO.value,
        motivo_cancelamento=motivo,
        tentativas=job.tentativas - 1,  # nothing was attempted
    )
    if gravado:
        resumo.somar("cancelled")
        if motivo == MOTIVO_LEAD_OPTOUT:
            metricas.jobs_cancelados_optout.inc()
            contadores.somar(contadores.CANCELADOS_OPTOUT, job.id_empresa)
        else:
            metricas.jobs_cancelados_resposta.inc()
            contadores.somar(contadores.CANCELADOS_RESPOSTA, job.id_empresa)
    _log.info(
        "envio recusado na hora do envio",
        extra={
            "id_agendamento": job.id,
            "chave_idempotencia": job.chave_idempotencia,
            "worker_id": worker_id,
            "motivo": motivo,
            "gravado": gravado,
        },
    )


def _processar_com_seguranca(
    job: JobReivindicado,
    worker_id: str,
    fabrica: FabricaProvedor,
    resumo: ResumoDespacho,
    parar: Callable[[], bool],
) -> None:
    """One job's failure (e.g. the database went away) must not stop its siblings; the
    reaper recovers whatever claim it left behind."""
    try:
        _processar(job, worker_id, fabrica, resumo, parar)
    except Exception:
        _log.exception(
            "falha ao processar agendamento",
            extra={"id_agendamento": job.id, "worker_id": worker_id},
        )


def _registrar_resultado(
    job: JobReivindicado,
    worker_id: str,
    resultado: ResultadoEnvio,
    resumo: ResumoDespacho,
    latencia_ms: float,
    saida: envio_.Saida | None = None,
) -> None:
    cfg = configuracoes()
    momento = agora()
    desfecho = resultado.desfecho
    erro: str | None
    if desfecho == Desfecho.RETENTAVEL and job.tentativas >= cfg.despacho_max_tentativas:
        desfecho = Desfecho.PERMANENTE
        erro = f"{resultado.erro or 'Falha temporária'} (tentativas esgotadas: {job.tentativas})"
    else:
        erro = resultado.erro
    if desfecho == Desfecho.ACEITO:
        gravado = _finalizar(
            job.id,
            worker_id,
            status=StatusAgendamento.ENVIADO.value,
            enviado_em=momento,
            provider_message_id=resultado.provider_message_id,
            ultimo_erro=None,
            depois=(
                (
                    lambda sessao: saida.registrar(
                        sessao, job.id_empresa, job.id, resultado.provider_message_id
                    )
                )
                if saida is not None
                else None
            ),
        )
        if gravado:
            resumo.somar("sent")
            metricas.jobs_sent.inc()
            contadores.somar(contadores.ENVIADOS, job.id_empresa)
            metricas.latencia_despacho.observe(
                max(0.0, (momento - job.agendado_para).total_seconds())
            )
    elif desfecho == Desfecho.RETENTAVEL:
        atraso = resultado.tentar_apos_s or atraso_backoff(job.tentativas)
        gravado = _finalizar(
            job.id,
            worker_id,
            status=StatusAgendamento.PENDENTE.value,
            agendado_para=momento + timedelta(seconds=atraso),
            ultimo_erro=erro,
            claimed_by=None,
            claimed_at=None,
            envio_iniciado_em=None,
        )
        if gravado:
            resumo.somar("retried")
            metricas.jobs_retried.inc()
    elif desfecho == Desfecho.PERMANENTE:
        gravado = _finalizar(
            job.id, worker_id, status=StatusAgendamento.ERRO.value, ultimo_erro=erro
        )
        if gravado:
            resumo.somar("failed")
            metricas.jobs_failed.inc()
    else:
        gravado = _finalizar(
            job.id,
            worker_id,
            status=StatusAgendamento.INCERTO.value,
            ultimo_erro=erro or "Resultado desconhecido: confirme no provedor.",
        )
        if gravado:
            resumo.somar("uncertain")
            metricas.jobs_uncertain.inc()
            contadores.somar(contadores.INCERTOS, job.id_empresa)
    _log.info(
        "resultado do envio",
        extra={
            "chave_idempotencia": job.chave_idempotencia,
            "id_agendamento": job.id,
            "worker_id": worker_id,
            "tentativa": job.tentativas,
            "desfecho": desfecho.value,
            "gravado": gravado,
            "latencia_ms": latencia_ms,
            "erro": erro,
        },
    )


def _fabrica_padrao(instancia: WhatsappInstancia) -> Provedor:
    from whatsapp_app.providers.fabrica import provedor_para

    return provedor_para(instancia)


def processar_agendamentos_follow_up_whatsapp(
    *,
    id_empresa: str | None = None,
    limite: int | None = None,
    worker_id: str | None = None,
    fabrica_provedor: FabricaProvedor | None = None,
    id_whatsapp_instancia: str | None = None,
    deve_parar: Callable[[], bool] | None = None,
    resumo: ResumoDespacho | None = None,
) -> dict[str, int]:
    """Claim due jobs and send them; the one function every dispatch entry point calls.

    ``id_empresa=None`` dispatches for every company (internal endpoint, scheduler, workers);
    ``id_whatsapp_instancia`` only the jobs of automations sending through that instance.
    Sends within the batch run concurrently (bounded by ``DESPACHO_CONCORRENCIA``).
    ``deve_parar`` (a manual dispatch's cancel) is checked where a shutdown is: when true,
    nothing more is claimed, claims whose send has not started are given back untouched and
    sends already started finish and are recorded. ``resumo`` lets a caller that shows
    progress read the round's summary while it runs.
    """
    cfg = configuracoes()
    parar = _parada.is_set
    if deve_parar is not None:
        externo = deve_parar
        parar = lambda: _parada.is_set() or externo()
    # claimed_by names this round, not just the process: a claim the reaper took back and the
    # same process re-claimed later must not be finishable by the earlier round's thread.
    worker_id = f"{worker_id or identificador_worker()}:{uuid.uuid4().hex[:8]}"
    fabrica = fabrica_provedor or _fabrica_padrao
    resumo = resumo if resumo is not None else ResumoDespacho()
    if deve_parar is not None and deve_parar():
        return resumo.publico()
    with db.sessao() as sessao:
        jobs = _reivindicar(
            sessao,
            id_empresa=id_empresa,
            limite=limite or cfg.despacho_lote,
            worker_id=worker_id,
            resumo=resumo,
            id_whatsapp_instancia=id_whatsapp_instancia,
        )
    _registrar_claims(jobs, worker_id, resumo)
    if jobs:
        with (
            Batimento(lambda: _bater(worker_id), nome="batimento", extra={"worker_id": worker_id}),
            ThreadPoolExecutor(max_workers=min(cfg.despacho_concorrencia, len(jobs))) as pool,
        ):
            pool.map(
                lambda job: _processar_com_seguranca(job, worker_id, fabrica, resumo, parar), jobs
            )
    contadores.descarregar()  # this round's counts, for "Saúde do despacho" (never raises)
    return resumo.publico()


# =============================================================================================
# Reaper: claims left behind by a dispatcher that died.
# =============================================================================================


def recuperar_reivindicacoes_vencidas(
    *, fabrica_provedor: FabricaProvedor | None = None, prazo_s: float | None = None
) -> dict[str, int]:
    """Recover the PROCESSANDO jobs of a dispatcher that died.

    Dead means silent: its claims' heartbeat (``batimento_em``, else ``claimed_at``) is older
    than BATIMENTO_PRAZO_S, so a SIGKILLed worker's batch is back within about half a minute,
    while a live dispatcher's slow send (beating) is never taken. ``prazo_s`` (default
    PRAZO_REIVINDICACAO_S) is the ceiling for any claim, beating or not.

    No send started (``envio_iniciado_em`` NULL) → back to PENDENTE. A send started → once it
    is older than any provider call can last, ask the provider (``confirmar_envio``):
    confirmed → ENVIADO, confirmed absent → PENDENTE, unknown → INCERTO for an operator.
    Never resent on a guess.
    """
    cfg = configuracoes()
    fabrica = fabrica_provedor or _fabrica_padrao
    t = _agendamento
    momento = agora()
    vencido = momento - timedelta(seconds=prazo_s or cfg.prazo_reivindicacao_s)
    calado = sa.func.coalesce(t.c.batimento_em, t.c.claimed_at) < momento - timedelta(
        seconds=cfg.batimento_prazo_s
    )
    envio_encerrado = t.c.envio_iniciado_em < momento - timedelta(
        seconds=cfg.provedor_timeout_s + MARGEM_ENVIO_EM_VOO_S
    )
    reaper_id = f"reaper:{identificador_worker()}"
    resultado = {"pendentes": 0, "enviados": 0, "incertos": 0}
    processando = t.c.status == StatusAgendamento.PROCESSANDO.value
    with db.sessao() as sessao:
        # No send started and the owner went silent (or the claim is past the ceiling).
        devolvidos = sessao.execute(
            sa.update(t)
            .where(
                processando,
                t.c.envio_iniciado_em.is_(None),
                sa.or_(calado, t.c.claimed_at < vencido),
            )
            .values(
                status=StatusAgendamento.PENDENTE.value,
                claimed_by=None,
                claimed_at=None,
                batimento_em=None,
                atualizado_em=momento,
            )
            .returning(t.c.id, t.c.chave_idempotencia, t.c.id_empresa)
        ).all()
        # A started send whose owner went silent, once no provider call can still be in flight
        # (or past the ceiling): take it over (a fresh heartbeat keeps other reapers off it).
        assumidos = sessao.execute(
            sa.update(t)
            .where(
                processando,
                t.c.envio_iniciado_em.is_not(None),
                sa.or_(sa.and_(calado, envio_encerrado), t.c.envio_iniciado_em < vencido),
            )
            .values(
                claimed_by=reaper_id,
                claimed_at=momento,
                batimento_em=momento,
                atualizado_em=momento,
            )
            .returning(
                t.c.id,
                t.c.id_empresa,
                t.c.chave_idempotencia,
                t.c.tentativas,
                t.c.agendado_para,
                t.c.envio_iniciado_em,
            )
        ).all()
    for id_job, chave, empresa_do_job in devolvidos:
        resultado["pendentes"] += 1
        metricas.jobs_reaped.inc()
        contadores.somar(contadores.RECUPERADOS, empresa_do_job)
        _log.info(
            "reaper: devolvido a PENDENTE",
            extra={"id_agendamento": id_job, "chave_idempotencia": chave},
        )
    for linha in assumidos:
        job = JobReivindicado(*linha[:5])
        desfecho = _reconciliar(job, linha[5], reaper_id, fabrica)
        resultado[desfecho] += 1
        metricas.jobs_reaped.inc()
        contadores.somar(contadores.RECUPERADOS, job.id_empresa)
    contadores.descarregar()
    return resultado


def _reconciliar(
    job: JobReivindicado, iniciado_em: datetime, reaper_id: str, fabrica: FabricaProvedor
) -> str:
    from whatsapp_app.providers.base import Confirmacao

    contexto = envio_.carregar_contexto(id_agendamento=job.id, id_empresa=job.id_empresa)
    try:
        confirmacao = fabrica(contexto.instancia).confirmar_envio(
            numero_e164=contexto.telefone,
            texto=contexto.texto,
            id_agendamento=job.id,
            desde=iniciado_em,
        )
        estado = confirmacao.confirmacao
    except Exception:
        _log.exception("reaper: confirmação falhou", extra={"id_agendamento": job.id})
        estado, confirmacao = Confirmacao.DESCONHECIDO, None
    if estado == Confirmacao.ENVIADO:
        id_mensagem = confirmacao.provider_message_id if confirmacao else None
        saida = envio_.Saida(
            contexto.instancia.id, contexto.id_lead, contexto.telefone, contexto.texto
        )
        _finalizar(
            job.id,
            reaper_id,
            status=StatusAgendamento.ENVIADO.value,
            enviado_em=agora(),
            provider_message_id=id_mensagem,
            depois=lambda sessao: saida.registrar(sessao, job.id_empresa, job.id, id_mensagem),
        )
        metricas.jobs_sent.inc()
        contadores.somar(contadores.ENVIADOS, job.id_empresa)
        desfecho = "enviados"
    elif estado == Confirmacao.AUSENTE:
        _finalizar(
            job.id,
            reaper_id,
            status=StatusAgendamento.PENDENTE.value,
            claimed_by=None,
            claimed_at=None,
            envio_iniciado_em=None,
            agendado_para=agora(),
        )
        desfecho = "pendentes"
    else:
        _finalizar(
            job.id,
            reaper_id,
            status=StatusAgendamento.INCERTO.value,
            ultimo_erro="Processo interrompido durante o envio; confirme no provedor.",
        )
        metricas.jobs_uncertain.inc()
        contadores.somar(contadores.INCERTOS, job.id_empresa)
        desfecho = "incertos"
    _log.info(
        "reaper: reconciliado",
        extra={
            "id_agendamento": job.id,
            "desfecho": desfecho,
            "chave_idempotencia": job.chave_idempotencia,
        },
    )
    return desfecho
