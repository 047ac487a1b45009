"""When the simulated contact "reads" what we sent: one timer thread for every message.

A ``threading.Timer`` per message would be a thread per message in flight (a load test sends
thousands a minute); here one thread sleeps on a condition until the earliest due time, and a
new, earlier entry or ``parar()`` wakes it.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

from whatsapp_app.logs import logger

_log = logger("simulador")


class AgendaLeituras:
    """Calls ``ao_vencer(key_id)`` once each scheduled delay has passed (in due order).

    The callback runs on the agenda's own thread with no lock of the agenda held, so it may
    take the simulator's lock (the simulator schedules while holding its lock: one order)."""

    def __init__(
        self,
        ao_vencer: Callable[[str], None],
        *,
        relogio: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ao_vencer = ao_vencer
        self._relogio = relogio
        self._fila: list[tuple[float, int, str]] = []
        self._sequencia = itertools.count()
        self._condicao = threading.Condition()
        self._parando = False
        self._thread = threading.Thread(target=self._laco, name="simulador-leituras", daemon=True)
        self._thread.start()

    def agendar(self, atraso_s: float, key_id: str) -> None:
        with self._condicao:
            heapq.heappush(self._fila, (self._relogio() + atraso_s, next(self._sequencia), key_id))
            self._condicao.notify()

    def pendentes(self) -> int:
        with self._condicao:
            return len(self._fila)

    def limpar(self) -> None:
        with self._condicao:
            self._fila.clear()

    def parar(self) -> None:
        with self._condicao:
            self._parando = True
            self._fila.clear()
            self._condicao.notify()
        self._thread.join(timeout=5)

    def _proxima(self) -> str | None:
        """The next due key id, waiting for it; None once stopping."""
        with self._condicao:
            while not self._parando:
                if not self._fila:
                    self._condicao.wait()
                    continue
                espera = self._fila[0][0] - self._relogio()
                if espera > 0:
                    self._condicao.wait(espera)
                    continue
                return heapq.heappop(self._fila)[2]
            return None

    def _laco(self) -> None:
        while (key_id := self._proxima()) is not None:
            try:
                self._ao_vencer(key_id)
            except Exception:  # one bad entry must not stop every later read
                _log.exception("simulador: falha ao marcar leitura", extra={"key_id": key_id})
