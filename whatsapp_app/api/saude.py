"""Liveness and database health."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from whatsapp_app import db
from whatsapp_app.logs import logger

router = APIRouter(prefix="/api", tags=["saude"])
_log = logger("api.saude")


@router.get("/health")
def saude() -> JSONResponse:
    """``{"status": "ok", "db": "ok"}``, or 503 when the database does not answer."""
    try:
        with db.engine().connect() as conexao:
            conexao.execute(sa.text("SELECT 1"))
    except Exception:
        _log.exception("banco indisponível no health check")
        return JSONResponse({"status": "degradado", "db": "erro"}, status_code=503)
    return JSONResponse({"status": "ok", "db": "ok"})
