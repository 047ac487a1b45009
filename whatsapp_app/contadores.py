"""Dispatch counters per company and hour in the database, for "Saúde do despacho".

The Prometheus counters (``metricas``) live in each process; the page must be right across
every process that dispatches, reaps or applies webhooks, so the same events are also summed
into ``whatsapp_contador_despacho`` (one row per company, UTC hour and counter name).

``somar`` is the one call for these events: it increments the Prometheus counter of the same
name (this process's ``/api/metrics``) and sums into memory (a dict under a lock, thread-safe),
so it is cheap and safe inside any transaction. ``descarregar`` writes what was summed with one upsert
(``INSERT ... ON CONFLICT (id_empresa, hora, nome) DO UPDATE SET valor = valor + excluded.valor``)
and is called where no transaction of the caller is open: at the end of each dispatch round and
reaper pass, after the commit of a transaction that counted something (``somar(...,
sessao=...)``: scheduling, replies and opt-outs, webhooks) and at process exit (``atexit``).
A failed write is logged and its counts stay in memory for the next one; it never breaks a send.

What can be lost: a SIGKILLed process loses at most the counts it had not written yet, i.e. the
unflushed part of one round (a normal exit, SIGTERM included, writes them). Counts are summed
when the event happens, so a write that comes later still lands in the event's hour.
"""

from __future__ import annotations

import atexit
import threading
from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import Session

from whatsapp_app import db, metricas
from whatsapp_app.logs import logger
from whatsapp_app.models import Empresa, WhatsappContadorDespacho
from whatsapp_app.tempo import agora

# The counters the page shows (the Prometheus names of the same events, metricas.py).
REIVINDICADOS = "jobs_claimed"
ENVIADOS = "jobs_sent"
DUPLICADOS_BLOQUEADOS = "jobs_duplicate_blocked"
REIVINDICACOES_PERDIDAS = "jobs_skipped_already_claimed"
RECUPERADOS = "jobs_reaped"
INCERTOS = "jobs_uncertain"
CANCELADOS_RESPOSTA = "jobs_cancelados_resposta"
CANCELADOS_OPTOUT = "jobs_cancelados_optout"
_METRICAS = {
    REIVINDICADOS: metricas.jobs_claimed,
    ENVIADOS: metricas.jobs_sent,
    DUPLICADOS_BLOQUEADOS: metricas.jobs_duplicate_blocked,
    REIVINDICACOES_PERDIDAS: metricas.jobs_skipped_already_claimed,
    RECUPERADOS: metricas.jobs_reaped,
    INCERTOS: metricas.jobs_uncertain,
    CANCELADOS_RESPOSTA: metricas.jobs_cancelados_resposta,
    CANCELADOS_OPTOUT: metricas.jobs_cancelados_optout,
}
LINHAS_POR_COMANDO = 200  # SQLite caps bound parameters per statement (4 per row)

_log = logger("contadores")
_tabela = WhatsappContadorDespacho.__table__  # type: ignore[attr-defined]
Chave = tuple[str, datetime, str]  # (id_empresa, UTC hour, counter name)

_trava = threading.Lock()
_pendentes: Counter[Chave] = Counter()
_CHAVE_SESSAO = "contadores_despacho"


def hora_utc(momento: datetime) -> datetime:
    """The UTC hour an instant belongs to (the table's ``hora``)."""
    return momento.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def somar(nome: str, id_empresa: str, n: int = 1, *, sessao: Session | None = None) -> None:
    """Count ``n`` events of ``nome`` for the company, in the current hour (and in the
    process's Prometheus counter of that name, at once).

    With ``sessao`` the table's count belongs to that transaction: it is kept only if it
    commits (then written at once, after the commit) and dropped if it rolls back.
    """
    if n <= 0:
        return
    _METRICAS[nome].inc(n)
    chave = (id_empresa, hora_utc(agora()), nome)
    if sessao is None:
        with _trava:
            _pendentes[chave] += n
        return
    da_transacao: Counter[Chave] | None = sessao.info.get(_CHAVE_SESSAO)
    if da_transacao is None:
        da_transacao = sessao.info[_CHAVE_SESSAO] = Counter()
        sa.event.listen(sessao, "after_commit", _ao_confirmar)
        sa.event.listen(sessao, "after_rollback", _ao_desfazer)
    da_transacao[chave] += n


def _ao_confirmar(sessao: Session) -> None:
    if sessao.in_nested_transaction():
        return  # a savepoint: the counts wait for the real commit
    contagens = sessao.info.pop(_CHAVE_SESSAO, None)
    if contagens:
        with _trava:
            _pendentes.update(contagens)
        descarregar()


def _ao_desfazer(sessao: Session) -> None:
    if not sessao.in_nested_transaction():
        sessao.info.pop(_CHAVE_SESSAO, None)


def pendentes() -> dict[Chave, int]:
    """What this process has summed and not written yet."""
    with _trava:
        return dict(_pendentes)


def descartar() -> None:
    """Forget what was not written (a test that starts from nothing)."""
    with _trava:
        _pendentes.clear()


def descarregar() -> int:
    """Write what was summed; returns how many events were written (0 when there was nothing,
    or when the write failed: then the counts stay for the next call). Never raises."""
    with _trava:
        if not _pendentes:
            return 0
        lote = Counter(_pendentes)
        _pendentes.clear()
    try:
        with db.engine().begin() as conexao:
            gravados = _gravar(conexao, lote)
    except sa.exc.IntegrityError:
        # A company deleted since its events were counted: write the others, drop its counts.
        try:
            with db.engine().begin() as conexao:
                existentes = set(
                    conexao.execute(
                        sa.select(Empresa.id).where(  # type: ignore[call-overload]
                            Empresa.id.in_({c[0] for c in lote})  # type: ignore[attr-defined]
                        )
                    ).scalars()
                )
                lote = Counter({c: v for c, v in lote.items() if c[0] in existentes})
                gravados = _gravar(conexao, lote)
        except Exception:
            return _devolver(lote)
    except Exception:
        return _devolver(lote)
    return gravados


def _devolver(lote: Counter[Chave]) -> int:
    _log.warning(
        "contadores do despacho não gravados: ficam para a próxima vez",
        exc_info=True,
        extra={"eventos": sum(lote.values())},
    )
    with _trava:
        _pendentes.update(lote)
    return 0


def _gravar(conexao: Connection, lote: Counter[Chave]) -> int:
    # Sorted, so two processes writing the same rows lock them in the same order (no deadlock).
    linhas = [
        {"id_empresa": id_empresa, "hora": hora, "nome": nome, "valor": valor}
        for (id_empresa, hora, nome), valor in sorted(lote.items())
    ]
    dialeto = postgresql if conexao.dialect.name == "postgresql" else sqlite
    for inicio in range(0, len(linhas), LINHAS_POR_COMANDO):
        comando = dialeto.insert(_tabela).values(linhas[inicio : inicio + LINHAS_POR_COMANDO])
        conexao.execute(
            comando.on_conflict_do_update(
                index_elements=[_tabela.c.id_empresa, _tabela.c.hora, _tabela.c.nome],
                set_={"valor": _tabela.c.valor + comando.excluded.valor},
            )
        )
    return sum(lote.values())


atexit.register(descarregar)
