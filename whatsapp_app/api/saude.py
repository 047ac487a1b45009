"""Liveness and database health."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Response

from whatsapp_app import db
from whatsapp_app.esquemas import Saude, erros
from whatsapp_app.logs import logger

router = APIRouter(prefix="/api", tags=["saude"])
_log = logger("api.saude")


@router.get(
    "/health",
    responses={503: {"model": Saude, "description": "O banco não responde."}, **erros()},
)
def saude(response: Response) -> Saude:
    """``{"status": "ok", "db": "ok"}``, or 503 when the database does not answer."""
    try:
        with db.engine().connect() as conexao:
            conexao.execute(sa.text("SELECT 1"))
    except Exception:
        _log.exception("banco indisponível no health check")
        response.status_code = 503
        return Saude(status="degradado", db="erro")
    return Saude(status="ok", db="ok")
