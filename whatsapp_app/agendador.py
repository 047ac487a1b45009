"""The periodic work of a dispatching process, composed in one place.

``criar_agendador`` is used by the Reflex backend (``app.register_lifespan_task`` →
``ciclo_de_vida``; a mounted FastAPI app's own lifespan is never run by Reflex) and by the
standalone ``python -m whatsapp_app.worker``: both run the same jobs — dispatch rounds, the
reaper (claims of a dispatcher that died) and the connectivity poller. Any number of processes
may run them: claims are atomic and the reaper only takes back silent owners' claims.

The dispatch job also runs at once when a job falls due now (``despertador``: LISTEN/NOTIFY on
PostgreSQL, an in-process poke on SQLite); the tick is the fallback.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from whatsapp_app import despacho_controle, despertador, metricas
from whatsapp_app import whatsapp_automations as automacoes
from whatsapp_app.conectividade import atualizar_conectividade
from whatsapp_app.config import configuracoes
from whatsapp_app.logs import configurar_logs, logger
from whatsapp_app.recuperacao import recuperar_reivindicacoes_vencidas
from whatsapp_app.tempo import agora

_log = logger("agendador")
ID_TAREFA_DESPACHO = "despacho_follow_up"
ID_TAREFA_REAPER = "reaper"
ID_TAREFA_CONECTIVIDADE = "conectividade"
estado = {"rodadas": 0}  # how many rounds ran in this process (health and tests)
# A wake-up (a job due now) while a round runs makes it go once more before it rests; the
# lock makes "the round rests" and "a wake-up finds no round running" exclusive, so no wake-up
# is lost between the two.
_acordado = threading.Event()
_trava_rodada = threading.Lock()
_rodando = {"agora": False}


def _rodada(parar: threading.Event | None = None) -> None:
    """Dispatch until a batch comes back short and no wake-up came meanwhile (a backlog drains
    batch after batch, each claimed while the last one's sends are in flight; an idle queue
    costs one query per tick)."""
    with _trava_rodada:
        _rodando["agora"] = True
    try:
        while True:
            _acordado.clear()
            try:
                resumo = automacoes.processar_agendamentos_follow_up_whatsapp(
                    worker_id=despacho_controle.identificador_worker(), continuo=True
                )
            except Exception:
                _log.exception("rodada do despacho falhou")
                return
            estado["rodadas"] += 1
            metricas.agendador_rodadas.inc()
            if resumo["claimed"]:
                _log.info("rodada do despacho", extra=resumo)
            if parar is not None and parar.is_set():
                return
            with _trava_rodada:
                if not _acordado.is_set():
                    _rodando["agora"] = False
                    return
    finally:
        with _trava_rodada:
            _rodando["agora"] = False


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


def tarefas(parar: threading.Event | None = None) -> list[tuple[str, Callable[[], None], float]]:
    """(id, function, interval in seconds) of every periodic job a dispatching process runs."""
    cfg = configuracoes()
    return [
        (ID_TAREFA_DESPACHO, lambda: _rodada(parar), cfg.agendador_intervalo_s),
        (ID_TAREFA_REAPER, _varrer, cfg.reaper_intervalo_s),
        (ID_TAREFA_CONECTIVIDADE, _verificar_conexoes, cfg.conectividade_intervalo_s),
    ]


class Agendador(BackgroundScheduler):  # type: ignore[misc]
    """The periodic jobs plus the wake-up listener that runs the dispatch job at once."""

    def __init__(self) -> None:
        super().__init__(timezone="UTC")
        self._ouvinte = despertador.Ouvinte(self._acordar)

    def _acordar(self) -> None:
        with _trava_rodada:
            _acordado.set()
            if _rodando["agora"]:
                return  # the round in progress goes once more
        with suppress(JobLookupError):  # not scheduled (stopping): the next start runs it
            self.modify_job(ID_TAREFA_DESPACHO, next_run_time=agora())

    def start(self, *args: object, **kwargs: object) -> None:
        super().start(*args, **kwargs)
        if configuracoes().despertador_ativo:
            self._ouvinte.iniciar()

    def shutdown(self, wait: bool = True) -> None:
        self._ouvinte.parar()
        super().shutdown(wait=wait)


def criar_agendador(parar: threading.Event | None = None) -> Agendador:
    agendador = Agendador()
    for id_tarefa, funcao, intervalo_s in tarefas(parar):
        agendador.add_job(
            funcao,
            "interval",
            seconds=intervalo_s,
            id=id_tarefa,
            max_instances=1,
            coalesce=True,
            next_run_time=agora(),  # the first run at start, not one interval later
        )
    return agendador


def parar_agendador(agendador: Agendador) -> None:
    """Stop claiming, give back the claims whose send has not started, let the sends in
    flight finish and be recorded, then stop."""
    despacho_controle.solicitar_parada()
    agendador.shutdown(wait=True)


@asynccontextmanager
async def ciclo_de_vida() -> AsyncIterator[None]:
    """Reflex lifespan task: start the scheduler with the backend, stop it on shutdown."""
    configurar_logs()
    if not configuracoes().agendador_ativo:
        _log.info("agendador desativado (AGENDADOR_ATIVO=false)")
        yield
        return
    despacho_controle.retomar()
    agendador = criar_agendador()
    agendador.start()
    _log.info("agendador iniciado", extra={"intervalo_s": configuracoes().agendador_intervalo_s})
    try:
        yield
    finally:
        parar_agendador(agendador)
        _log.info("agendador parado")
