"""The dispatcher: atomic claims, exactly-once sends, retries, unknown outcomes."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from sqlmodel import select

from tests.caos_apoio import esperar
from tests.factories import agendar, criar_automacao, criar_empresa, criar_lead, mover
from tests.processos import despachar_em_processo
from tests.provedor_falso import ProvedorSegurado, ProvedorTeste, ServidorContador
from whatsapp_app import db
from whatsapp_app.config import configuracoes
from whatsapp_app.models import WhatsappAutomacaoAgendamento
from whatsapp_app.tempo import agora
from whatsapp_app.whatsapp_automations import processar_agendamentos_follow_up_whatsapp


@pytest.fixture
def servidor():
    with ServidorContador() as s:
        yield s


@pytest.fixture(autouse=True)
def _ritmo_alto(monkeypatch):
    from whatsapp_app.config import configuracoes

    monkeypatch.setenv("DESPACHO_MSGS_POR_SEGUNDO", "80")
    configuracoes.cache_clear()


def _agendar(n_leads: int, atrasos=(0,)) -> list[str]:  # type: ignore[no-untyped-def]
    return agendar(criar_empresa(), n_leads, atrasos=atrasos)


def _status() -> Counter[str]:
    with db.sessao() as s:
        return Counter(s.exec(select(WhatsappAutomacaoAgendamento.status)).all())


def _job() -> WhatsappAutomacaoAgendamento:
    with db.sessao() as s:
        return s.exec(select(WhatsappAutomacaoAgendamento)).one()


def test_despacho_envia_cada_job_uma_vez(banco, servidor):
    _agendar(30)
    resumo = processar_agendamentos_follow_up_whatsapp(
        fabrica_provedor=lambda _i: ProvedorTeste(servidor.url)
    )
    assert resumo == {
        "claimed": 30,
        "sent": 30,
        "failed": 0,
        "retried": 0,
        "uncertain": 0,
        "skipped_already_claimed": 0,
        "cancelled": 0,
    }
    assert _status() == {"ENVIADO": 30}
    assert len(servidor.contagem) == 30 and set(servidor.contagem.values()) == {1}
    # A second round finds nothing due.
    assert (
        processar_agendamentos_follow_up_whatsapp(
            fabrica_provedor=lambda _i: ProvedorTeste(servidor.url)
        )["claimed"]
        == 0
    )
    with db.sessao() as s:
        job = s.exec(select(WhatsappAutomacaoAgendamento)).first()
    assert job.provider_message_id == f"msg-{job.id}" and job.enviado_em is not None


def test_jobs_futuros_nao_saem(banco, servidor):
    _agendar(3, atrasos=(60,))
    assert (
        processar_agendamentos_follow_up_whatsapp(
            fabrica_provedor=lambda _i: ProvedorTeste(servidor.url)
        )["claimed"]
        == 0
    )
    assert _status() == {"PENDENTE": 3}


def test_quatro_processos_concorrentes_nao_enviam_duas_vezes(banco, servidor):
    _agendar(120, atrasos=(0, 0))
    contexto = multiprocessing.get_context("spawn")
    with contexto.Manager() as gerente:
        barreira = gerente.Barrier(4)
        with ProcessPoolExecutor(max_workers=4, mp_context=contexto) as pool:
            futuros = [
                pool.submit(despachar_em_processo, banco.url, servidor.url, barreira, 50)
                for _ in range(4)
            ]
            resumos = [f.result(timeout=300) for f in futuros]

    assert _status() == {"ENVIADO": 240}
    assert len(servidor.contagem) == 240
    assert max(servidor.contagem.values()) == 1, "no job was sent twice"
    assert sum(r["claimed"] for r in resumos) == 240
    assert sum(r["sent"] for r in resumos) == 240


def test_falha_temporaria_volta_com_backoff_e_esgota_em_erro(banco, servidor, monkeypatch):
    from whatsapp_app.config import configuracoes

    monkeypatch.setenv("DESPACHO_MAX_TENTATIVAS", "3")
    configuracoes.cache_clear()
    _agendar(1)
    servidor.modo = "500"
    fabrica = lambda _i: ProvedorTeste(servidor.url)
    inicio = agora()
    with time_machine.travel(inicio, tick=False) as viagem:
        assert processar_agendamentos_follow_up_whatsapp(fabrica_provedor=fabrica)["retried"] == 1
        job = _job()
        assert (job.status, job.tentativas, job.claimed_by) == ("PENDENTE", 1, None)
        assert timedelta(seconds=15) <= job.agendado_para - inicio <= timedelta(seconds=30)
        # Not due yet: nothing is claimed before the backoff ends.
        assert processar_agendamentos_follow_up_whatsapp(fabrica_provedor=fabrica)["claimed"] == 0
        viagem.shift(timedelta(seconds=31))
        assert processar_agendamentos_follow_up_whatsapp(fabrica_provedor=fabrica)["retried"] == 1
        assert timedelta(seconds=30) <= _job().agendado_para - agora() <= timedelta(seconds=60)
        viagem.shift(timedelta(seconds=61))
        assert processar_agendamentos_follow_up_whatsapp(fabrica_provedor=fabrica)["failed"] == 1
    job = _job()
    assert (job.status, job.tentativas) == ("ERRO", 3)
    assert "tentativas esgotadas" in job.ultimo_erro
    assert servidor.contagem == {}, "nothing reached the provider"


def test_erro_permanente_nao_e_repetido(banco, servidor):
    _agendar(1)
    servidor.modo = "400"
    resumo = processar_agendamentos_follow_up_whatsapp(
        fabrica_provedor=lambda _i: ProvedorTeste(servidor.url)
    )
    assert resumo["failed"] == 1
    job = _job()
    assert (job.status, job.tentativas, job.ultimo_erro) == ("ERRO", 1, "Número inválido.")


def test_timeout_vira_incerto_e_nunca_e_reenviado(banco, servidor):
    _agendar(1)
    servidor.modo = "timeout"
    servidor.espera_timeout_s = 1.5
    fabrica = lambda _i: ProvedorTeste(servidor.url, timeout_s=0.3)
    assert processar_agendamentos_follow_up_whatsapp(fabrica_provedor=fabrica)["uncertain"] == 1
    job = _job()
    assert job.status == "INCERTO" and job.envio_iniciado_em is not None
    servidor.modo = "ok"
    assert processar_agendamentos_follow_up_whatsapp(fabrica_provedor=fabrica)["claimed"] == 0
    assert sum(servidor.contagem.values()) == 1, "the provider got it once; we never resent"


def test_conexao_recusada_e_retentavel(banco):
    _agendar(1)
    resumo = processar_agendamentos_follow_up_whatsapp(
        fabrica_provedor=lambda _i: ProvedorTeste("http://127.0.0.1:9")
    )
    assert resumo["retried"] == 1
    assert _job().status == "PENDENTE"


def test_despacho_por_empresa_so_toca_a_empresa(banco, servidor):
    _agendar(2)
    outra = criar_empresa("Outra", sufixo="b")
    criar_automacao(outra, estagio=1, atrasos=(0,))
    lead = criar_lead(outra, telefone="+5521987650000")
    mover(outra, lead)
    resumo = processar_agendamentos_follow_up_whatsapp(
        id_empresa=outra.id, fabrica_provedor=lambda _i: ProvedorTeste(servidor.url)
    )
    assert resumo["sent"] == 1
    with db.sessao() as s:
        pendentes = s.exec(
            select(sa.func.count())
            .select_from(WhatsappAutomacaoAgendamento)
            .where(WhatsappAutomacaoAgendamento.status == "PENDENTE")
        ).one()
    assert pendentes == 2


def test_a_rodada_bate_assim_que_reivindica(banco, servidor, monkeypatch):
    """The round's first heartbeat goes at once, not one interval later: a claim is stamped
    before its statement runs (seconds before, on a loaded machine), and a reaper must not
    read that stale stamp as a dead owner and take back a batch that is being sent."""
    monkeypatch.setenv("BATIMENTO_INTERVALO_S", "60")  # no periodic beat during the test
    monkeypatch.setenv("BATIMENTO_PRAZO_S", "120")
    configuracoes.cache_clear()
    _agendar(1)
    provedor = ProvedorSegurado(servidor.url)
    rodada = threading.Thread(
        target=lambda: processar_agendamentos_follow_up_whatsapp(
            fabrica_provedor=lambda _i: provedor
        )
    )
    rodada.start()
    try:
        assert provedor.em_voo.acquire(timeout=10), "o envio não começou"
        # The beat runs on its own thread, alongside the send: wait for it, far less than the
        # 60 s interval it would otherwise take.
        job = esperar(
            lambda: (j := _job()).batimento_em > j.claimed_at and j,
            limite_s=10,
            oque="o primeiro batimento depois do claim",
        )
        assert job.status == "PROCESSANDO"
    finally:
        provedor.liberar.set()
        rodada.join(timeout=30)
    assert _job().status == "ENVIADO"
