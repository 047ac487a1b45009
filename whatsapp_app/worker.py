"""Standalone dispatch worker: ``python -m whatsapp_app.worker``.

Runs exactly the periodic jobs of the in-process scheduler (``agendador.criar_agendador``:
dispatch, reaper, connectivity), for dedicated dispatch machines; the app can then run with
``AGENDADOR_ATIVO=false``. On SIGTERM or SIGINT it stops claiming, gives back at once the
claims whose send has not started, lets the sends in flight finish (recorded normally) and
exits 0. A SIGKILLed worker's claims are taken back by any other process's reaper once its
heartbeat goes silent (BATIMENTO_PRAZO_S).
"""

from __future__ import annotations

import signal
import threading

from whatsapp_app import agendador, despacho_controle
from whatsapp_app.logs import configurar_logs, logger

_log = logger("worker")


def executar(parar: threading.Event) -> int:
    """Run the scheduled jobs until ``parar`` is set; returns how many dispatch rounds ran."""
    worker_id = despacho_controle.identificador_worker()
    despacho_controle.retomar()
    rodadas_antes = agendador.estado["rodadas"]
    tarefas = agendador.criar_agendador(parar)
    tarefas.start()
    _log.info("worker iniciado", extra={"worker_id": worker_id})
    parar.wait()
    agendador.parar_agendador(tarefas)
    rodadas = agendador.estado["rodadas"] - rodadas_antes
    _log.info("worker encerrado", extra={"worker_id": worker_id, "rodadas": rodadas})
    return rodadas


def main() -> None:
    configurar_logs()
    parar = threading.Event()

    def _sinal(numero: int, _frame: object) -> None:
        _log.info("sinal recebido: terminando a rodada atual", extra={"sinal": numero})
        parar.set()
        despacho_controle.solicitar_parada()

    signal.signal(signal.SIGTERM, _sinal)
    signal.signal(signal.SIGINT, _sinal)
    executar(parar)


if __name__ == "__main__":
    main()
