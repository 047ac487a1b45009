"""The standalone worker: dispatches through the real Evolution adapter to the simulator and
stops cleanly on SIGTERM, without leaving claims behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

from sqlmodel import select

from tests.factories import agendar, criar_empresa
from whatsapp_app import db
from whatsapp_app.models import WhatsappAutomacaoAgendamento
from whatsapp_app.simulador.servidor import iniciar_em_thread

PRAZO_S = 90.0


def _status() -> Counter[str]:
    with db.sessao() as s:
        return Counter(s.exec(select(WhatsappAutomacaoAgendamento.status)).all())


def _worker(banco, simulador) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "DATABASE_URL": banco.url,
        "SIMULADOR_PORT": str(simulador.porta),
        "AGENDADOR_INTERVALO_S": "0.2",
        "DESPACHO_MSGS_POR_SEGUNDO": "80",
        "DESPACHO_LOTE": "10",
        "LOG_LEVEL": "INFO",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "whatsapp_app.worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _esperar(condicao, descricao: str) -> None:  # type: ignore[no-untyped-def]
    limite = time.monotonic() + PRAZO_S
    while not condicao():
        assert time.monotonic() < limite, f"timeout esperando: {descricao}"
        time.sleep(0.1)


def test_worker_envia_pelo_simulador_e_para_com_sigterm(banco):
    agendar(criar_empresa(), 12)
    with iniciar_em_thread(criar_sob_demanda=True) as simulador:
        processo = _worker(banco, simulador)
        try:
            _esperar(lambda: _status() == {"ENVIADO": 12}, "12 ENVIADO")
            processo.send_signal(signal.SIGTERM)
            codigo = processo.wait(timeout=30)
        finally:
            if processo.poll() is None:
                processo.kill()
        saida = processo.stdout.read().decode() if processo.stdout else ""
        contagem = simulador.simulador.contagem()
    assert codigo == 0, saida
    assert "worker encerrado" in saida
    assert contagem["total"] == 12, contagem


def test_sigterm_no_meio_de_um_lote_termina_os_envios_em_andamento(banco):
    agendar(criar_empresa(), 40)
    with iniciar_em_thread(criar_sob_demanda=True) as simulador:
        simulador.simulador.definir_falhas({"latencia_ms": 300})
        processo = _worker(banco, simulador)
        try:
            _esperar(lambda: simulador.simulador.contagem()["total"] >= 3, "primeiros envios")
            processo.send_signal(signal.SIGTERM)
            codigo = processo.wait(timeout=60)
        finally:
            if processo.poll() is None:
                processo.kill()
        enviados = simulador.simulador.contagem()["total"]
    status = _status()
    assert codigo == 0
    assert status["PROCESSANDO"] == 0, "no claim left behind"
    assert status["ENVIADO"] == enviados and status["ENVIADO"] + status["PENDENTE"] == 40
    assert status["PENDENTE"] > 0, "it stopped before draining everything"
