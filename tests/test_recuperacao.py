"""Recovery in the scale-out setup: dedicated workers only (no app scheduler), real processes.

A SIGKILLed worker's claims come back within the heartbeat bound (not the whole claim
deadline), a live worker's slow send is never taken from it, SIGTERM gives back the claims
whose send has not started at once, and nothing is sent twice. The simulator's inbox is the
ground truth for "sent".
"""

from __future__ import annotations

import signal
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.caos_apoio import Frota, Simulador, ambiente, esperar
from tests.caos_dados import contar_status, linhas_jobs, semear

BATIMENTO = {"batimento_intervalo_s": 1.0, "batimento_prazo_s": 3.0, "reaper_intervalo_s": 1.0}
PROVEDOR_TIMEOUT_S = 2.0
# The claim deadline stays at its default: recovery must not depend on it.
PRAZO_PADRAO_S = 300.0
# Silent for the heartbeat deadline, a started send older than any provider call, one reaper
# interval, plus room for a loaded 2-core machine.
LIMITE_RECUPERACAO_S = 3.0 + PROVEDOR_TIMEOUT_S + 5.0 + 1.0 + 10.0


def _frota(banco, pasta: Path, sim: Simulador, n: int, **extra: Any) -> Frota:  # type: ignore[no-untyped-def]
    env = ambiente(
        banco.url,
        sim.porta,
        agendador_intervalo_s=0.2,
        despacho_msgs_por_segundo=80,
        provedor_timeout_s=PROVEDOR_TIMEOUT_S,
        prazo_reivindicacao_s=PRAZO_PADRAO_S,
        **{**BATIMENTO, **extra},
    )
    return Frota(pasta, env, n)


def _de(pid_host: str, claimed_by: str | None) -> bool:
    return claimed_by is not None and claimed_by.startswith(f"{pid_host}:")


def test_worker_morto_por_sigkill_tem_os_claims_de_volta_em_segundos(banco, tmp_path) -> None:
    semeadura = semear(60, n_instancias=1)
    sim = Simulador(tmp_path)
    vitima = sobrevivente = None
    try:
        # Slow sends: the victim holds a whole batch, some sends started, most not.
        sim.falhas(latencia_ms=1500)
        vitima = _frota(banco, tmp_path, sim, 1, despacho_lote=60, despacho_concorrencia=4)
        vitima.iniciar()
        esperar(
            lambda: (
                contar_status().get("PROCESSANDO", 0) == 60
                and sum(1 for j in linhas_jobs() if j["envio_iniciado_em"] is not None) >= 2
            ),
            limite_s=60,
            oque="a vítima reivindicar o lote e começar a enviar",
            diagnostico=contar_status,
        )
        [morta] = vitima.slots
        id_morta = next(iter(vitima.ids_worker([morta])))
        morta.processo.send_signal(signal.SIGKILL)
        morta.processo.wait(timeout=10)
        morte = time.monotonic()

        sobrevivente = _frota(banco, tmp_path, sim, 1)
        sobrevivente.iniciar()
        esperar(
            lambda: not any(_de(id_morta, j["claimed_by"]) for j in linhas_jobs()),
            limite_s=LIMITE_RECUPERACAO_S,
            intervalo_s=0.2,
            oque="o sobrevivente recuperar os claims da vítima",
            diagnostico=contar_status,
        )
        recuperacao_s = time.monotonic() - morte
        sim.falhas(latencia_ms=0)
        esperar(
            lambda: set(contar_status()) <= {"ENVIADO", "INCERTO"},
            limite_s=90,
            oque="tudo terminar",
            diagnostico=contar_status,
        )
        assert sobrevivente.parar() == [0]
    finally:
        for frota in (vitima, sobrevivente):
            if frota is not None:
                frota.fechar()
        contagem = sim.contagem()
        sim.fechar()
    print(f"\nrecuperação[{banco.nome}]: {recuperacao_s:.1f} s após o SIGKILL")
    assert recuperacao_s < LIMITE_RECUPERACAO_S < PRAZO_PADRAO_S
    assert contagem["duplicadas"] == [], "no job was sent twice"
    status = contar_status()
    assert status["ENVIADO"] == contagem["total"] == len(semeadura.jobs) - status.get("INCERTO", 0)


def test_envio_lento_de_worker_vivo_nunca_e_tomado(banco, monkeypatch) -> None:
    """A send slower than the heartbeat deadline, by a dispatcher that is alive (beating):
    the reaper leaves it alone, and it is sent once."""
    from whatsapp_app.config import configuracoes
    from whatsapp_app.recuperacao import recuperar_reivindicacoes_vencidas
    from whatsapp_app.simulador.servidor import iniciar_em_thread
    from whatsapp_app.tempo import agora
    from whatsapp_app.whatsapp_automations import processar_agendamentos_follow_up_whatsapp

    with iniciar_em_thread(criar_sob_demanda=True) as sim:
        for chave, valor in {
            "SIMULADOR_PORT": sim.porta,
            "PROVEDOR_TIMEOUT_S": 10,
            "PRAZO_REIVINDICACAO_S": 60,
            "BATIMENTO_INTERVALO_S": 0.5,
            "BATIMENTO_PRAZO_S": 1.5,
        }.items():
            monkeypatch.setenv(chave, str(valor))
        configuracoes.cache_clear()
        semear(1, n_instancias=1)
        sim.simulador.definir_falhas({"latencia_ms": 5000})
        despacho = threading.Thread(target=processar_agendamentos_follow_up_whatsapp)
        despacho.start()
        try:
            esperar(
                lambda: any(
                    j["envio_iniciado_em"] is not None
                    and j["claimed_at"] < agora() - timedelta(seconds=3)
                    for j in linhas_jobs()
                ),
                limite_s=10,
                intervalo_s=0.05,
                oque="o envio lento passar do prazo do batimento",
            )
            assert recuperar_reivindicacoes_vencidas() == {
                "pendentes": 0,
                "enviados": 0,
                "incertos": 0,
            }
        finally:
            despacho.join(timeout=30)
        assert contar_status() == {"ENVIADO": 1}
        assert sim.simulador.contagem()["total"] == 1


@pytest.mark.parametrize("sinal", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_devolve_na_hora_os_claims_que_nao_comecaram(banco, tmp_path, sinal) -> None:
    semear(40, n_instancias=1)
    sim = Simulador(tmp_path)
    frota = None
    try:
        # 40 claims, 2 sends at a time, 1 s each: finishing the batch would take 20 s.
        sim.falhas(latencia_ms=1000)
        frota = _frota(banco, tmp_path, sim, 1, despacho_lote=40, despacho_concorrencia=2)
        frota.iniciar()
        esperar(
            lambda: sim.contagem()["total"] >= 1,
            limite_s=60,
            oque="o primeiro envio",
        )
        [worker] = frota.slots
        inicio = time.monotonic()
        worker.processo.send_signal(sinal)
        codigo = worker.processo.wait(timeout=30)
        duracao_s = time.monotonic() - inicio
    finally:
        if frota is not None:
            frota.fechar()
        enviados = sim.contagem()["total"]
        sim.fechar()
    status = contar_status()
    assert codigo == 0
    assert duracao_s < 5, f"it finished the batch instead of giving it back ({duracao_s:.1f} s)"
    assert status.get("PROCESSANDO", 0) == 0
    assert status["ENVIADO"] == enviados and status["PENDENTE"] == 40 - enviados >= 30
    assert sum(j["tentativas"] for j in linhas_jobs() if j["status"] == "PENDENTE") == 0
