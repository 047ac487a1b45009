"""Helpers to create, migrate, point at and empty the test databases (no mocks: real engines)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

PG_PADRAO = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BANCOS_USADOS: set[str] = set()  # engines that really ran, for the closing summary
RAIZ = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Banco:
    nome: str
    url: str

    @property
    def eh_postgres(self) -> bool:
        return self.nome == "postgres"


def config_alembic(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config(os.path.join(RAIZ, "alembic.ini"))
    cfg.set_main_option("script_location", os.path.join(RAIZ, "alembic"))
    cfg.attributes["url"] = url
    cfg.attributes["sem_logs"] = True
    return cfg


def migrar(url: str, revisao: str = "head") -> None:
    from alembic import command

    command.upgrade(config_alembic(url), revisao)


def pg_disponivel(url: str) -> bool:
    try:
        engine = sa.create_engine(
            url, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3}
        )
        with engine.connect() as c:
            c.execute(sa.text("SELECT 1"))
        return True
    except Exception:
        return False


def criar_banco_pg(base: str, nome: str) -> str:
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{nome}"'))
    return make_url(base).set(database=nome).render_as_string(hide_password=False)


def apagar_banco_pg(url: str) -> None:
    u = make_url(url)
    base = u.set(database="postgres").render_as_string(hide_password=False)
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))


def esvaziar(url: str) -> None:
    from sqlmodel import SQLModel

    import whatsapp_app.models  # noqa: F401
    from whatsapp_app import db

    tabelas = list(reversed(SQLModel.metadata.sorted_tables))
    with db.engine_para(url).begin() as c:
        if c.dialect.name == "postgresql":
            nomes = ", ".join(t.name for t in tabelas)
            c.execute(sa.text(f"TRUNCATE {nomes} CASCADE"))
        else:
            for tabela in tabelas:
                c.execute(tabela.delete())


@contextmanager
def usar_banco(banco: Banco, monkeypatch: pytest.MonkeyPatch) -> Iterator[Banco]:
    from whatsapp_app.config import configuracoes

    monkeypatch.setenv("DATABASE_URL", banco.url)
    configuracoes.cache_clear()
    esvaziar(banco.url)
    try:
        yield banco
    finally:
        configuracoes.cache_clear()
