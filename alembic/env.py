"""Alembic environment: the models' metadata and the settings' URL.

A caller may pass a ready connection in ``config.attributes["connection"]`` (tests do) or a
URL in ``config.attributes["url"]``; otherwise DATABASE_URL from the settings is used.
"""

from __future__ import annotations

from logging.config import fileConfig

import sqlalchemy as sa
from sqlmodel import SQLModel

import whatsapp_app.models  # noqa: F401  (registers the tables)
from alembic import context
from whatsapp_app.config import configuracoes
from whatsapp_app.tempo import DataHoraUtc

config = context.config
if config.config_file_name is not None and not config.attributes.get("sem_logs"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

alvo = SQLModel.metadata


def _comparar_tipo(_ctx, _col, _insp_col, tipo_banco, tipo_modelo):  # type: ignore[no-untyped-def]
    # DataHoraUtc is a DateTime(timezone=True) with conversion on the way in and out.
    if isinstance(tipo_modelo, DataHoraUtc):
        return not isinstance(tipo_banco, sa.DateTime)
    return None


def _configurar(conexao: sa.Connection) -> None:
    context.configure(
        connection=conexao,
        target_metadata=alvo,
        render_as_batch=conexao.dialect.name == "sqlite",
        compare_type=_comparar_tipo,
    )
    with context.begin_transaction():
        context.run_migrations()


def executar_online() -> None:
    conexao = config.attributes.get("connection")
    if conexao is not None:
        _configurar(conexao)
        return
    url = config.attributes.get("url") or configuracoes().database_url
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conexao:
        _configurar(conexao)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Migrações offline não são suportadas; rode com um banco.")
executar_online()
