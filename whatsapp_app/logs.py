"""One structured JSON logging setup, used by the app, the worker and the simulator."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

_configurado = False


def configurar_logs(nivel: str | None = None) -> None:
    """Send every log record to stderr as one JSON object per line (idempotent)."""
    global _configurado
    if _configurado:
        return
    from whatsapp_app.config import configuracoes

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "ts", "levelname": "nivel", "name": "logger"},
            json_ensure_ascii=False,
        )
    )
    raiz = logging.getLogger("whatsapp_app")
    raiz.handlers[:] = [handler]
    raiz.setLevel((nivel or configuracoes().log_level).upper())
    raiz.propagate = False
    _configurado = True


def logger(nome: str) -> logging.Logger:
    """A logger under the app's namespace; extra fields go in ``extra={...}``."""
    return logging.getLogger(nome if nome.startswith("whatsapp_app") else f"whatsapp_app.{nome}")
