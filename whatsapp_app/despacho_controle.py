"""What the dispatcher, the reaper and a manual dispatch share in a process: the stop request
(SIGTERM / shutdown), the heartbeat thread, the gate on sends in flight, the rate-limit wait,
the worker's identity and the provider factory."""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from collections.abc import Callable

from whatsapp_app.config import configuracoes
from whatsapp_app.logs import logger
from whatsapp_app.models import WhatsappInstancia
from whatsapp_app.providers.base import Provedor

_log = logger("automacoes")

FabricaProvedor = Callable[[WhatsappInstancia], Provedor]
VERIFICAR_PARADA_S = 0.25  # seconds between two stop checks while a rate-limit slot is awaited
LATENCIA_INICIAL_S = 0.1  # a send's latency assumed until this process has measured some
PESO_LATENCIA = 0.1  # weight of the newest send in the moving average of the latency
FOLGA_CONCORRENCIA = 1.5  # headroom over rate x latency, for the spread of the latency

_parada = threading.Event()
_trava_portao = threading.Lock()
_portoes: dict[int, threading.BoundedSemaphore] = {}  # by DESPACHO_CONCORRENCIA (tests change it)
_trava_latencia = threading.Lock()
_latencia: dict[str, float] = {}


def fabrica_padrao(instancia: WhatsappInstancia) -> Provedor:
    from whatsapp_app.providers.fabrica import provedor_para

    return provedor_para(instancia)


def identificador_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def solicitar_parada() -> None:
    """SIGTERM / shutdown: claims whose send has not started are given back at once (the
    sends in flight finish and are recorded normally)."""
    _parada.set()


def retomar() -> None:
    """Undo ``solicitar_parada`` (a scheduler started again in the same process)."""
    _parada.clear()


def parada_solicitada() -> bool:
    return _parada.is_set()


def aguardar_vaga(segundos: float, parar: Callable[[], bool]) -> bool:
    """Wait ``segundos`` for a send slot; True as soon as the round must stop."""
    fim = time.monotonic() + segundos
    while (restante := fim - time.monotonic()) > 0:
        if _parada.wait(min(restante, VERIFICAR_PARADA_S)) or parar():
            return True
    return False


def observar_latencia(segundos: float) -> None:
    """One send's provider latency, into this process's moving average."""
    with _trava_latencia:
        atual = _latencia.get("media_s")
        _latencia["media_s"] = (
            segundos if atual is None else atual + PESO_LATENCIA * (segundos - atual)
        )


def latencia_media_s() -> float:
    return _latencia.get("media_s", LATENCIA_INICIAL_S)


def vagas_para(msgs_por_segundo: float, envios: int, antecedencia_s: float) -> int:
    """Sends to keep marked and not done for ``msgs_por_segundo`` (the rate limits of the
    instances a batch sends through): those in flight, rate x the measured latency (Little's
    law) with headroom, plus those marked ``antecedencia_s`` ahead of their slot; never more
    than the ``envios`` at hand nor twice DESPACHO_CONCORRENCIA (the gate holds the sends
    really in flight to DESPACHO_CONCORRENCIA)."""
    em_voo = latencia_media_s() * FOLGA_CONCORRENCIA + antecedencia_s
    alvo = math.ceil(round(msgs_por_segundo * em_voo, 6)) + 1
    return max(1, min(alvo, envios, 2 * configuracoes().despacho_concorrencia))


def portao() -> threading.BoundedSemaphore:
    """Sends in flight in this process, across every concurrent dispatch call (the API may run
    several at once): at most DESPACHO_CONCORRENCIA, which the HTTP pool is sized for."""
    limite = configuracoes().despacho_concorrencia
    with _trava_portao:
        return _portoes.setdefault(limite, threading.BoundedSemaphore(limite))


class Batimento:
    """While some work runs, a thread calls ``bater`` every ``intervalo`` seconds (default
    BATIMENTO_INTERVALO_S; a heartbeat write), so a dead owner (silent) can be told from a slow
    one (beating). Used for a dispatch call's claims (the reaper reads them; each new batch is
    also beaten at once by ``despacho_lote.Esteira``) and for a manual dispatch's row
    (``disparos``)."""

    def __init__(
        self,
        bater: Callable[[], object],
        *,
        nome: str,
        extra: dict[str, str],
        intervalo: float | None = None,
    ) -> None:
        self._bater_uma_vez = bater
        self._extra = extra
        self._intervalo = intervalo
        self._fim = threading.Event()
        self._thread = threading.Thread(target=self._bater, name=nome, daemon=True)

    def _bater(self) -> None:
        intervalo = self._intervalo or configuracoes().batimento_intervalo_s
        while not self._fim.wait(intervalo):
            try:
                self._bater_uma_vez()
            except Exception:  # the database may be away for a moment: beat again later
                _log.warning("batimento falhou", extra=self._extra)

    def __enter__(self) -> Batimento:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._fim.set()
        self._thread.join()
