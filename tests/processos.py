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


def despachar_em_processo(
    url: str, url_provedor: str, barreira: Any, rodadas: int
) -> dict[str, int]:
    """A dispatcher worker in its own OS process: dispatch until nothing is due."""
    os.environ["DATABASE_URL"] = url
    from tests.provedor_falso import ProvedorTeste
    from whatsapp_app.config import configuracoes
    from whatsapp_app.whatsapp_automations import processar_agendamentos_follow_up_whatsapp

    configuracoes.cache_clear()
    barreira.wait(timeout=120)
    total: dict[str, int] = {}
    for _ in range(rodadas):
        resumo = processar_agendamentos_follow_up_whatsapp(
            limite=25, fabrica_provedor=lambda _i: ProvedorTeste(url_provedor)
        )
        for chave, valor in resumo.items():
            total[chave] = total.get(chave, 0) + valor
        if resumo["claimed"] == 0 and resumo["skipped_already_claimed"] == 0:
            break
    return total
