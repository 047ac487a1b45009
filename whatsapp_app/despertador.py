"""Wake-up: a job that is due now reaches an idle dispatcher at once, not at the next tick.

The scheduling transaction calls ``avisar(sessao)`` when it inserted a job due now. On
PostgreSQL that is ``pg_notify`` inside the transaction, so the notice goes out at commit and
never for a rolled-back move; every dispatching process (the app's scheduler, each worker)
holds one ``LISTEN`` connection (``Ouvinte``). On SQLite (one process, the embedded default) the
same call pokes this process's listeners right after the commit. Either way the scheduler's
tick stays the fallback: a lost notice (a listener reconnecting) costs at most one tick.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session

from whatsapp_app.config import configuracoes
from whatsapp_app.logs import logger

CANAL = "whatsapp_despacho"
_log = logger("despertador")
_locais: set[Callable[[], None]] = set()
_trava = threading.Lock()


def _acordar_locais() -> None:
    with _trava:
        chamadas = list(_locais)
    for chamada in chamadas:
        try:
            chamada()
        except Exception:  # a listener's failure must never fail the move that woke it
            _log.exception("despertador: ouvinte local falhou")


def avisar(sessao: Session) -> None:
    """Within the scheduling transaction: wake the dispatchers once it commits."""
    if sessao.get_bind().dialect.name == "postgresql":
        sessao.execute(sa.select(sa.func.pg_notify(CANAL, "")))  # PostgreSQL folds repeats
        return
    if not sessao.info.get("despertar"):
        sessao.info["despertar"] = True
        sa.event.listen(sessao, "after_commit", _depois_do_commit, once=True)


def _depois_do_commit(sessao: Session) -> None:
    sessao.info.pop("despertar", None)
    _acordar_locais()


class Ouvinte:
    """Calls ``ao_acordar`` when a job falls due now, in this process or (PostgreSQL) any other.

    On PostgreSQL a daemon thread holds a ``LISTEN`` connection of its own (outside the pool)
    and reconnects after a failure, calling ``ao_acordar`` once on reconnect (a notice may have
    been missed meanwhile)."""

    def __init__(self, ao_acordar: Callable[[], None]) -> None:
        self._ao_acordar = ao_acordar
        self.avisos: deque[str] = deque(maxlen=100)  # payloads heard, latest last (diagnostics)
        self._fim = threading.Event()
        self.pronto = threading.Event()  # listening (PostgreSQL: the LISTEN went through)
        self._thread: threading.Thread | None = None
        url = make_url(configuracoes().database_url)
        self._dsn = (
            url.set(drivername="postgresql").render_as_string(hide_password=False)
            if url.get_backend_name() == "postgresql"
            else None
        )

    def iniciar(self) -> Ouvinte:
        with _trava:
            _locais.add(self._local)
        if self._dsn is None:
            self.pronto.set()
        else:
            self._thread = threading.Thread(target=self._escutar, name="despertador", daemon=True)
            self._thread.start()
        return self

    def parar(self) -> None:
        with _trava:
            _locais.discard(self._local)
        self._fim.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _local(self) -> None:
        self.avisos.append("")
        self._ao_acordar()

    def _escutar(self) -> None:
        assert self._dsn is not None
        primeira = True
        while not self._fim.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=5) as conexao:
                    conexao.execute(f"LISTEN {CANAL}")
                    self.pronto.set()
                    if not primeira:
                        self._ao_acordar()
                    primeira = False
                    while not self._fim.is_set():
                        # Ends after 1 s, so a stop is seen within a second.
                        for aviso in conexao.notifies(timeout=1.0):
                            self.avisos.append(aviso.payload)
                            self._ao_acordar()
            except Exception:
                _log.warning("despertador: conexão LISTEN perdida; reconectando")
                self._fim.wait(2.0)
