"""What the dispatcher, the reaper and a manual dispatch share in a process: the stop request
(SIGTERM / shutdown), the heartbeat thread, the gate on sends in flight, the rate-limit wait,
the worker's identity and the provider factory."""

from __future__ import annotations

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

_parada = threading.Event()
_trava_portao = threading.Lock()
_portao_envios: threading.BoundedSemaphore | None = None


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


def portao() -> threading.BoundedSemaphore:
    """Sends in flight in this process, across every concurrent dispatch call (the API may run
    several at once): at most DESPACHO_CONCORRENCIA, which the HTTP pool is sized for."""
    global _portao_envios
    with _trava_portao:
        if _portao_envios is None:
            _portao_envios = threading.BoundedSemaphore(configuracoes().despacho_concorrencia)
        return _portao_envios


class Batimento:
    """While some work runs, a thread calls ``bater`` every ``intervalo`` seconds (default
    BATIMENTO_INTERVALO_S; a heartbeat write), so a dead owner (silent) can be told from a slow
    one (beating). Used for a round's claims (the reaper reads them) and for a manual
    dispatch's row (``disparos``). ``imediato``: the first beat goes at once (a round's claims
    were stamped before their statement ran, which on a loaded machine can take seconds)."""

    def __init__(
        self,
        bater: Callable[[], object],
        *,
        nome: str,
        extra: dict[str, str],
        intervalo: float | None = None,
        imediato: bool = False,
    ) -> None:
        self._bater_uma_vez = bater
        self._imediato = imediato
        self._extra = extra
        self._intervalo = intervalo
        self._fim = threading.Event()
        self._thread = threading.Thread(target=self._bater, name=nome, daemon=True)

    def _bater(self) -> None:
        intervalo = self._intervalo or configuracoes().batimento_intervalo_s
        espera = 0.0 if self._imediato else intervalo
        while not self._fim.wait(espera):
            try:
                self._bater_uma_vez()
            except Exception:  # the database may be away for a moment: beat again later
                _log.warning("batimento falhou", extra=self._extra)
            espera = intervalo

    def __enter__(self) -> Batimento:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._fim.set()
        self._thread.join()
