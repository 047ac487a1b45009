"""The in-process scheduler: APScheduler calls the dispatcher every few seconds.

Started by the Reflex backend through ``app.register_lifespan_task`` (a mounted FastAPI app's
own lifespan is never run by Reflex) and by ``python -m whatsapp_app.worker``. Every backend
worker may run one: the dispatcher's atomic claims make that safe.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from apscheduler.schedulers.background import BackgroundScheduler

from whatsapp_app import metricas
from whatsapp_app.conectividade import atualizar_conectividade
from whatsapp_app.config import configuracoes
from whatsapp_app.logs import configurar_logs, logger
from whatsapp_app.whatsapp_automations import (
    identificador_worker,
    processar_agendamentos_follow_up_whatsapp,
    recuperar_reivindicacoes_vencidas,
)

_log = logger("agendador")
ID_TAREFA_DESPACHO = "despacho_follow_up"
ID_TAREFA_REAPER = "reaper"
ID_TAREFA_CONECTIVIDADE = "conectividade"
INTERVALO_REAPER_S = 30.0  # seconds between stale-claim sweeps
estado = {"rodadas": 0}  # how many rounds ran in this process (health and tests)


def _rodada() -> None:
    try:
        resumo = processar_agendamentos_follow_up_whatsapp(worker_id=identificador_worker())
    except Exception:
        _log.exception("rodada do despacho falhou")
        return
    estado["rodadas"] += 1
    metricas.agendador_rodadas.inc()
    if resumo["claimed"]:
        _log.info("rodada do despacho", extra=resumo)


def _varrer() -> None:
    try:
        recuperados = recuperar_reivindicacoes_vencidas()
    except Exception:
        _log.exception("varredura do reaper falhou")
        return
    if any(recuperados.values()):
        _log.info("reaper", extra=recuperados)


def _verificar_conexoes() -> None:
    try:
        resumo = atualizar_conectividade()
    except Exception:
        _log.exception("verificação de conectividade falhou")
        return
    if resumo["alteradas"] or resumo["eventos_aplicados"]:
        _log.info("conectividade", extra=resumo)


def criar_agendador() -> BackgroundScheduler:
    cfg = configuracoes()
    agendador = BackgroundScheduler(timezone="UTC")
    agendador.add_job(
        _rodada,
        "interval",
        seconds=cfg.agendador_intervalo_s,
        id=ID_TAREFA_DESPACHO,
        max_instances=1,
        coalesce=True,
    )
    agendador.add_job(
        _varrer,
        "interval",
        seconds=INTERVALO_REAPER_S,
        id=ID_TAREFA_REAPER,
        max_instances=1,
        coalesce=True,
    )
    agendador.add_job(
        _verificar_conexoes,
        "interval",
        seconds=cfg.conectividade_intervalo_s,
        id=ID_TAREFA_CONECTIVIDADE,
        max_instances=1,
        coalesce=True,
    )
    return agendador


@asynccontextmanager
async def ciclo_de_vida() -> AsyncIterator[None]:
    """Reflex lifespan task: start the scheduler with the backend, stop it on shutdown."""
    configurar_logs()
    if not configuracoes().agendador_ativo:
        _log.info("agendador desativado (AGENDADOR_ATIVO=false)")
        yield
        return
    agendador = criar_agendador()
    agendador.start()
    _log.info("agendador iniciado", extra={"intervalo_s": configuracoes().agendador_intervalo_s})
    try:
        yield
    finally:
        agendador.shutdown(wait=True)
        _log.info("agendador parado")
