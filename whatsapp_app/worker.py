"""Standalone dispatch worker: ``python -m whatsapp_app.worker``.

Runs the same loop as the in-process scheduler, for dedicated dispatch machines. On SIGTERM
or SIGINT it stops claiming, lets the sends in flight finish (their claims are then closed
normally) and exits 0.
"""

from __future__ import annotations

import signal
import threading

from whatsapp_app import metricas
from whatsapp_app.config import configuracoes
from whatsapp_app.logs import configurar_logs, logger
from whatsapp_app.whatsapp_automations import (
    identificador_worker,
    processar_agendamentos_follow_up_whatsapp,
)

_log = logger("worker")


def executar(parar: threading.Event) -> int:
    """Dispatch until ``parar`` is set; returns how many rounds ran."""
    cfg = configuracoes()
    worker_id = identificador_worker()
    rodadas = 0
    _log.info("worker iniciado", extra={"worker_id": worker_id})
    while not parar.is_set():
        try:
            resumo = processar_agendamentos_follow_up_whatsapp(worker_id=worker_id)
        except Exception:
            _log.exception("rodada falhou", extra={"worker_id": worker_id})
            resumo = {"claimed": 0}
        rodadas += 1
        metricas.agendador_rodadas.inc()
        if resumo["claimed"] == 0:
            parar.wait(cfg.agendador_intervalo_s)  # idle: wait, but wake at once on SIGTERM
    _log.info("worker encerrado", extra={"worker_id": worker_id, "rodadas": rodadas})
    return rodadas


def main() -> None:
    configurar_logs()
    parar = threading.Event()

    def _sinal(numero: int, _frame: object) -> None:
        _log.info("sinal recebido: terminando a rodada atual", extra={"sinal": numero})
        parar.set()

    signal.signal(signal.SIGTERM, _sinal)
    signal.signal(signal.SIGINT, _sinal)
    executar(parar)


if __name__ == "__main__":
    main()
