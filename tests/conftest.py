"""Test databases: every DB test runs on SQLite and, when reachable, on PostgreSQL.

Each pytest session (each xdist worker) migrates its own throwaway databases once with Alembic
and empties the tables between tests. With ``CI=true`` a missing PostgreSQL is a failure.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.bancos import (
    BANCOS_USADOS as _usados,
)
from tests.bancos import (
    PG_PADRAO,
    Banco,
    apagar_banco_pg,
    criar_banco_pg,
    migrar,
    pg_disponivel,
    usar_banco,
)

ENGINES = ["sqlite", "postgres"]


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("AMBIENTE", "teste")
    os.environ.setdefault("AGENDADOR_ATIVO", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Many processes share one PostgreSQL (max_connections 100): keep few idle connections.
    os.environ.setdefault("DB_POOL_TAMANHO", "2")
    os.environ.setdefault("DB_POOL_EXTRA", "20")


_PARAMETRO_BANCO = re.compile(r"\[(?:[^\]]*-)?(sqlite|postgres)(?:-[^\]]*)?\]")


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    # With pytest-xdist the fixtures run in the workers: the passed tests' ids say it too.
    usados = set(_usados) | {
        m.group(1)
        for relatorio in terminalreporter.stats.get("passed", [])
        if (m := _PARAMETRO_BANCO.search(getattr(relatorio, "nodeid", "")))
    }
    if usados:
        terminalreporter.write_line(f"Bancos testados: {', '.join(sorted(usados))}")
    elif terminalreporter.stats.get("passed"):
        terminalreporter.write_line("Bancos testados: nenhum teste de banco rodou")


def _url_pg_base() -> str:
    return os.environ.get("TEST_DATABASE_URL", PG_PADRAO)


@pytest.fixture(scope="session")
def _banco_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Banco]:
    arquivo: Path = tmp_path_factory.mktemp("sqlite") / "teste.db"
    url = f"sqlite:///{arquivo}"
    migrar(url)
    yield Banco("sqlite", url)


@pytest.fixture(scope="session")
def _banco_postgres() -> Iterator[Banco]:
    base = _url_pg_base()
    if not pg_disponivel(base):
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"PostgreSQL inacessível em {base} e CI=true: os testes exigem os dois bancos."
            )
        pytest.skip(f"PostgreSQL inacessível em {base}")
    url = criar_banco_pg(base, f"wa_teste_{uuid.uuid4().hex[:10]}")
    migrar(url)
    yield Banco("postgres", url)
    sa.create_engine(url).dispose()
    from whatsapp_app import db

    db.engine_para(url).dispose()
    apagar_banco_pg(url)


@pytest.fixture(params=ENGINES)
def banco(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Banco]:
    """A migrated, empty database on one engine; the app's settings point at it."""
    atual: Banco = request.getfixturevalue(f"_banco_{request.param}")
    _usados.add(atual.nome)
    with usar_banco(atual, monkeypatch):
        yield atual


@pytest.fixture
def banco_postgres(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Banco]:
    """``banco`` on PostgreSQL only, for behaviour SQLite cannot have (e.g. a statement whose
    snapshot predates the row lock it waited for: SQLite serialises writers at BEGIN)."""
    atual: Banco = request.getfixturevalue("_banco_postgres")
    _usados.add(atual.nome)
    with usar_banco(atual, monkeypatch):
        yield atual


@pytest.fixture
def cliente(banco: Banco):  # type: ignore[no-untyped-def]
    """An HTTP client for the real REST API on the test database."""
    from fastapi.testclient import TestClient

    from whatsapp_app.api import criar_api

    with TestClient(criar_api(), raise_server_exceptions=False) as c:
        yield c
