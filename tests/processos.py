"""Code that runs in separate OS processes (spawned), for the concurrency tests."""

from __future__ import annotations

import os
from typing import Any


def mover_em_processo(
    url: str, barreira: Any, id_empresa: str, id_lead: str, id_estagio: str
) -> dict[str, Any]:
    """Wait for every sibling process, then move the lead once, in its own transaction."""
    os.environ["DATABASE_URL"] = url
    from whatsapp_app import db, leads
    from whatsapp_app.config import configuracoes

    configuracoes.cache_clear()
    barreira.wait(timeout=120)
    with db.sessao() as sessao:
        resultado = leads.mover_lead(
            sessao=sessao, id_empresa=id_empresa, id_lead=id_lead, id_estagio_destino=id_estagio
        )
    return {"pid": os.getpid(), **resultado.publico()}
