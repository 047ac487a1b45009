"""The claim protocol of the dispatcher (and of the reaper, which takes claims over).

Invariant: claim before send, send only once. A job is sent only by the dispatcher whose
atomic claim moved it PENDENTE → PROCESSANDO; every later write is conditional on
``status = 'PROCESSANDO' AND claimed_by = <this worker>`` (``finalizar``), so a job the reaper
recovered cannot be finished twice. ``envio_iniciado_em`` is committed before the provider
call: a crash after it means "maybe sent", which is reconciled, never blindly resent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from whatsapp_app import contadores, db
from whatsapp_app.logs import logger
from whatsapp_app.models import StatusAgendamento, WhatsappAutomacao, WhatsappAutomacaoAgendamento
from whatsapp_app.tempo import agora

_log = logger("automacoes")
_agendamento = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]


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


def reivindicar(
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


def registrar_claims(jobs: list[JobReivindicado], worker_id: str, resumo: ResumoDespacho) -> None:
    """Count and log claims once their transaction committed (a rolled-back claim is none)."""
    for job in jobs:
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


def bater(*worker_ids: str) -> int:
    """Refresh the heartbeat of the claims in flight of these batches. A row locked at that
    moment (its group being marked started, or its outcome written) is skipped, not waited for:
    the beat never holds some rows while it waits for others, so it cannot deadlock with a
    write that takes many rows in another order (the next beat refreshes it)."""
    if not worker_ids:
        return 0
    t = _agendamento
    proprios_de = [
        t.c.status == StatusAgendamento.PROCESSANDO.value,
        t.c.claimed_by.in_(worker_ids),
    ]
    with db.sessao() as sessao:
        proprios = sa.select(t.c.id).where(*proprios_de).with_for_update(skip_locked=True)
        resultado = sessao.execute(
            sa.update(t)
            .where(t.c.id.in_(proprios.scalar_subquery()), *proprios_de)
            .values(batimento_em=agora())
        )
        return int(resultado.rowcount or 0)  # type: ignore[attr-defined]


def finalizar(
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


def finalizar_lote(
    sessao: Session,
    worker_id: str,
    linhas: Mapping[str, Mapping[str, Any]],
    **fixos: Any,
) -> set[str]:
    """``finalizar`` for many jobs in one statement, in the caller's transaction: ``linhas``
    maps a job id to its own values (the same columns for every id), ``fixos`` are shared.
    Each row is written only if this worker still holds its claim; the ids written return.
    PostgreSQL: ``UPDATE ... FROM (VALUES ...)`` on the rows it can lock without waiting
    (``SKIP LOCKED``: a statement that held some rows while it waited for others could deadlock
    with another many-row write, e.g. the reaper's); the ids left out (claim lost, or row busy)
    go through ``finalizar_restantes``. SQLite (one writer at a time): ``WHERE id IN (...)``
    with a ``CASE id`` per column."""
    if not linhas:
        return set()
    t = _agendamento
    valores: dict[str, Any] = {"atualizado_em": agora(), **fixos}
    nomes = sorted(next(iter(linhas.values())))
    condicao = [
        t.c.status == StatusAgendamento.PROCESSANDO.value,
        t.c.claimed_by == worker_id,
    ]
    if db.eh_postgres(sessao):
        livres = (
            sa.select(t.c.id)
            .where(t.c.id.in_(list(linhas)), *condicao)
            .with_for_update(skip_locked=True)
        )
        v = sa.values(
            sa.column("id", t.c.id.type),
            *(sa.column(n, t.c[n].type) for n in nomes),
            name="v",
        ).data([(i, *(proprios[n] for n in nomes)) for i, proprios in linhas.items()])
        comando = (
            sa.update(t)
            .where(t.c.id == v.c.id, t.c.id.in_(livres.scalar_subquery()), *condicao)
            .values(**valores, **{n: sa.cast(v.c[n], t.c[n].type) for n in nomes})
        )
    else:
        por_coluna = {
            n: sa.case(
                {i: sa.literal(proprios[n], t.c[n].type) for i, proprios in linhas.items()},
                value=t.c.id,
            )
            for n in nomes
        }
        comando = (
            sa.update(t).where(t.c.id.in_(list(linhas)), *condicao).values(**valores, **por_coluna)
        )
    return {str(linha[0]) for linha in sessao.execute(comando.returning(t.c.id))}


def finalizar_restantes(
    worker_id: str,
    linhas: Mapping[str, Mapping[str, Any]],
    gravados: set[str],
    depois: Mapping[str, Callable[[Session], None]] | None = None,
    **fixos: Any,
) -> set[str]:
    """After ``finalizar_lote`` committed: each id it left out, one ``finalizar`` (one
    transaction holding one row, so waiting for it cannot deadlock) — a row that was busy is
    written now, a claim that was lost stays unwritten. The ids written here return."""
    escritos = set()
    for id_job, proprios in linhas.items():
        if id_job in gravados:
            continue
        extra = (depois or {}).get(id_job)
        if finalizar(id_job, worker_id, depois=extra, **fixos, **proprios):
            escritos.add(id_job)
    return escritos


def finalizar_grupo(
    worker_id: str, linhas: Mapping[str, Mapping[str, Any]], **fixos: Any
) -> set[str]:
    """``finalizar_lote`` in a transaction of its own, then ``finalizar_restantes``."""
    if not linhas:
        return set()
    with db.sessao() as sessao:
        gravados = finalizar_lote(sessao, worker_id, linhas, **fixos)
    return gravados | finalizar_restantes(worker_id, linhas, gravados, **fixos)


def marcar_iniciados(ids: list[str], worker_id: str) -> set[str]:
    """Commit ``envio_iniciado_em`` for a group whose sends go out now, in one conditional
    statement; only the ids returned (claim still held) may be sent."""
    momento = agora()
    return finalizar_grupo(worker_id, {i: {} for i in ids}, envio_iniciado_em=momento)


def liberar_lote(devolver: list[tuple[JobReivindicado, datetime]], worker_id: str) -> set[str]:
    """Give claims back untouched (not an attempt), each due at its own moment, in one
    conditional statement: PROCESSANDO → PENDENTE, the claim, heartbeat and started mark
    cleared (a job marked started whose send did not begin goes back this way too)."""
    return finalizar_grupo(
        worker_id,
        {
            job.id: {"agendado_para": quando, "tentativas": job.tentativas - 1}
            for job, quando in devolver
        },
        status=StatusAgendamento.PENDENTE.value,
        claimed_by=None,
        claimed_at=None,
        batimento_em=None,
        envio_iniciado_em=None,
    )
