"""The dispatcher keeps its send pool fed across batches (``despacho_lote.Esteira``) and sizes
the sends it keeps marked from the rate limit and the measured latency (``vagas_para``)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.caos_apoio import esperar
from tests.factories import agendar, criar_empresa
from whatsapp_app import db, despacho_controle
from whatsapp_app.config import configuracoes
from whatsapp_app.models import WhatsappAutomacaoAgendamento
from whatsapp_app.providers.base import Desfecho, ResultadoEnvio
from whatsapp_app.tempo import agora
from whatsapp_app.whatsapp_automations import processar_agendamentos_follow_up_whatsapp

_agendamento = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _latencia_limpa(monkeypatch):
    """Each test starts from the assumed latency, not from what earlier tests measured."""
    monkeypatch.setattr(despacho_controle, "_latencia", {})


class ProvedorRetido:
    """Accepts every send, but each one waits for ``liberar`` (the sends stay in flight)."""

    def __init__(self) -> None:
        self.liberar = threading.Event()
        self.enviados: Counter[str] = Counter()
        self._trava = threading.Lock()

    def enviar_texto(self, *, numero_e164: str, texto: str, id_agendamento: str) -> ResultadoEnvio:
        with self._trava:
            self.enviados[id_agendamento] += 1
        assert self.liberar.wait(30), "o teste não liberou os envios"
        return ResultadoEnvio(Desfecho.ACEITO, provider_message_id=f"m-{id_agendamento}")

    def em_voo(self) -> int:
        with self._trava:
            return len(self.enviados)


def _jobs() -> list[WhatsappAutomacaoAgendamento]:
    with db.sessao() as s:
        return list(s.exec(select(WhatsappAutomacaoAgendamento)).all())


def _configurar(monkeypatch: pytest.MonkeyPatch, **valores: object) -> None:
    for chave, valor in valores.items():
        monkeypatch.setenv(chave.upper(), str(valor))
    configuracoes.cache_clear()


def _por_dono() -> Counter[str | None]:
    return Counter(j.claimed_by for j in _jobs() if j.status == "PROCESSANDO")


def test_o_proximo_lote_e_reivindicado_com_o_anterior_em_voo(banco, monkeypatch):
    """Batches of 5: while every send of the first is still at the provider, the second batch
    is already claimed (its own owner); released, all 12 jobs go out once each, in 3 batches."""
    _configurar(monkeypatch, despacho_lote=5, despacho_msgs_por_segundo=80, despacho_concorrencia=8)
    agendar(criar_empresa(), 12)
    provedor = ProvedorRetido()
    resumo: dict[str, int] = {}
    execucao = threading.Thread(
        target=lambda: resumo.update(
            processar_agendamentos_follow_up_whatsapp(
                fabrica_provedor=lambda _i: provedor, continuo=True
            )
        )
    )
    execucao.start()
    try:
        esperar(lambda: provedor.em_voo() == 5, limite_s=20, oque="o 1º lote no provedor")
        donos = esperar(
            lambda: d if len(d := _por_dono()) == 2 else None,
            limite_s=20,
            oque="o 2º lote reivindicado com o 1º em voo",
            diagnostico=_por_dono,
        )
        assert sorted(donos.values()) == [5, 5]
        assert provedor.em_voo() == 5, "the second batch waits for places, it is not sent yet"
    finally:
        provedor.liberar.set()
        execucao.join(timeout=30)
    assert not execucao.is_alive()
    assert resumo["claimed"] == 12 and resumo["sent"] == 12
    assert Counter(j.status for j in _jobs()) == {"ENVIADO": 12}
    assert set(provedor.enviados.values()) == {1} and len(provedor.enviados) == 12


def test_o_batimento_cobre_todos_os_lotes_em_voo(banco, monkeypatch):
    """Two batches of one call hold claims at once: the heartbeat refreshes both."""
    _configurar(monkeypatch, despacho_lote=3, despacho_concorrencia=8, batimento_intervalo_s=0.2)
    agendar(criar_empresa(), 6)
    provedor = ProvedorRetido()
    execucao = threading.Thread(
        target=processar_agendamentos_follow_up_whatsapp,
        kwargs={"fabrica_provedor": lambda _i: provedor, "continuo": True},
    )
    execucao.start()
    try:
        esperar(lambda: len(_por_dono()) == 2, limite_s=20, oque="2 lotes com claims")
        antigo = agora() - timedelta(hours=1)
        with db.sessao() as s:
            s.execute(
                sa.update(_agendamento)
                .where(_agendamento.c.status == "PROCESSANDO")
                .values(batimento_em=antigo)
            )

        def batidos() -> set[str | None]:
            return {
                j.claimed_by
                for j in _jobs()
                if j.status == "PROCESSANDO" and j.batimento_em is not None
                if j.batimento_em > antigo + timedelta(minutes=30)
            }

        assert len(esperar(lambda: b if len(b := batidos()) == 2 else None, limite_s=10)) == 2
    finally:
        provedor.liberar.set()
        execucao.join(timeout=30)
    assert Counter(j.status for j in _jobs()) == {"ENVIADO": 6}


def test_sem_continuo_um_lote_so(banco, monkeypatch):
    """The HTTP endpoints' call (no ``continuo``) claims one batch and returns."""
    _configurar(monkeypatch, despacho_lote=4)
    agendar(criar_empresa(), 10)
    provedor = ProvedorRetido()
    provedor.liberar.set()
    resumo = processar_agendamentos_follow_up_whatsapp(fabrica_provedor=lambda _i: provedor)
    assert (resumo["claimed"], resumo["sent"]) == (4, 4)
    assert Counter(j.status for j in _jobs()) == {"ENVIADO": 4, "PENDENTE": 6}


def test_vagas_seguem_o_ritmo_e_a_latencia(monkeypatch):
    """Little's law: rate x latency (with headroom) in flight, plus the sends marked ahead of
    their slot; bounded by the work at hand and by twice DESPACHO_CONCORRENCIA."""
    _configurar(monkeypatch, despacho_concorrencia=32)
    for _ in range(200):  # the moving average settles on what the provider takes
        despacho_controle.observar_latencia(0.1)
    assert despacho_controle.latencia_media_s() == pytest.approx(0.1)
    # 100 msg/s at 100 ms: 15 in flight (1.5 x 10) + 20 marked 0.2 s ahead + 1
    assert despacho_controle.vagas_para(100, 1000, 0.2) == 36
    assert despacho_controle.vagas_para(25, 1000, 0.2) == 10
    assert despacho_controle.vagas_para(100, 7, 0.2) == 7, "never more than the jobs at hand"
    assert despacho_controle.vagas_para(10_000, 1000, 0.2) == 64, "2 x DESPACHO_CONCORRENCIA"
    for _ in range(200):  # a slower provider: more sends in flight for the same rate
        despacho_controle.observar_latencia(0.5)
    assert despacho_controle.vagas_para(25, 1000, 0.2) == 25  # 25 x (0.75 + 0.2) + 1


def test_a_latencia_medida_vem_dos_envios(banco, monkeypatch):
    """Each send's provider latency feeds the process's moving average."""
    configuracoes.cache_clear()
    agendar(criar_empresa(), 3)
    provedor = ProvedorRetido()
    provedor.liberar.set()
    processar_agendamentos_follow_up_whatsapp(fabrica_provedor=lambda _i: provedor)
    medida = despacho_controle.latencia_media_s()
    assert medida != despacho_controle.LATENCIA_INICIAL_S
    assert 0 <= medida < 0.05, "an answer at once is measured as such"
