"""Engines and sessions. Tables come from Alembic migrations, never from ``create_all``.

SQLite is the embedded default: WAL journal, a long busy timeout and ``BEGIN IMMEDIATE`` for
every transaction, so two processes that both want to write queue up instead of failing half
way (SQLite has no row locks; the write lock is the whole database). PostgreSQL uses real
row locks (``FOR UPDATE``, ``SKIP LOCKED``) where the services ask for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from whatsapp_app.config import configuracoes

SQLITE_ESPERA_LOCK_MS = 30_000  # milliseconds a writer waits for the database lock


def _preparar_sqlite(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _ao_conectar(conexao: Any, _registro: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        conexao.isolation_level = None
        cursor = conexao.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_ESPERA_LOCK_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _ao_iniciar(conexao: Any) -> None:
        conexao.exec_driver_sql("BEGIN IMMEDIATE")


@lru_cache(maxsize=8)
def engine_para(url: str) -> Engine:
    """One engine per URL per process (pools are not shared across forks)."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_ESPERA_LOCK_MS / 1000})
        _preparar_sqlite(engine)
        return engine
    # Enough connections for the server's thread pool (40 threads by default in Starlette), so
    # requests never open fresh connections under load; recycled to survive server restarts.
    cfg = configuracoes()
    return sa.create_engine(
        url, pool_size=cfg.db_pool_tamanho, max_overflow=cfg.db_pool_extra, pool_recycle=1800
    )


def engine() -> Engine:
    return engine_para(configuracoes().database_url)


def eh_postgres(sessao: Session) -> bool:
    return sessao.get_bind().dialect.name == "postgresql"


_Linha = TypeVar("_Linha")


def travada(consulta: SelectOfScalar[_Linha]) -> SelectOfScalar[_Linha]:
    """``consulta`` with its rows locked until the transaction ends and read fresh, never an
    identity-map copy. PostgreSQL: ``FOR NO KEY UPDATE`` (what an UPDATE of non-key columns
    takes: writers of the row queue up, while an insert elsewhere whose foreign key points at
    it, say a conversation message of this lead or instance, is not blocked and cannot close a
    deadlock with the holder); SQLite: the transaction already holds the
    database write lock (BEGIN IMMEDIATE, ``_preparar_sqlite``)."""
    return consulta.with_for_update(key_share=True).execution_options(populate_existing=True)


@contextmanager
def sessao() -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error."""
    with Session(engine(), expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
