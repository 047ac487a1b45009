"""Reaper, operator actions, dispatch endpoints and metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from sqlmodel import select

from tests.factories import criar_automacao, criar_empresa, criar_lead, login, resumo_despacho
from tests.provedor_falso import ProvedorTeste, ServidorContador
from whatsapp_app import db, leads
from whatsapp_app.models import AuditoriaAgendamento, WhatsappAutomacaoAgendamento
from whatsapp_app.providers.base import Confirmacao, ResultadoConfirmacao
from whatsapp_app.recuperacao import recuperar_reivindicacoes_vencidas
from whatsapp_app.tempo import agora


def _um_job() -> tuple:
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0,))
    lead = criar_lead(empresa)
    with db.sessao() as s:
        leads.mover_lead(
            sessao=s, id_empresa=empresa.id, id_lead=lead, id_estagio_destino=empresa.estagios[1]
        )
        job = s.exec(select(WhatsappAutomacaoAgendamento)).one()
    return empresa, job.id


def _definir(id_job: str, **valores) -> None:  # type: ignore[no-untyped-def]
    with db.sessao() as s:
        s.execute(
            sa.update(WhatsappAutomacaoAgendamento)
            .where(WhatsappAutomacaoAgendamento.id == id_job)
            .values(**valores)
        )


def _ler(id_job: str) -> WhatsappAutomacaoAgendamento:
    with db.sessao() as s:
        return s.get(WhatsappAutomacaoAgendamento, id_job)


class _Confirma:
    """A provider whose reconciliation answer the test chooses."""

    def __init__(self, confirmacao: Confirmacao) -> None:
        self.confirmacao = confirmacao
        self.perguntas = 0

    def confirmar_envio(self, **_kw) -> ResultadoConfirmacao:  # type: ignore[no-untyped-def]
        self.perguntas += 1
        return ResultadoConfirmacao(self.confirmacao, provider_message_id="wamid.X")


def test_reaper_devolve_claim_sem_envio_iniciado_de_dono_calado(banco):
    """The owner stopped beating (it died): its unstarted claim is back after the heartbeat
    deadline (20 s by default), not after the whole claim deadline."""
    _empresa, job = _um_job()
    inicio = agora()
    _definir(
        job,
        status="PROCESSANDO",
        claimed_by="morto:1",
        claimed_at=inicio,
        batimento_em=inicio,
        tentativas=1,
    )
    provedor = _Confirma(Confirmacao.ENVIADO)
    with time_machine.travel(inicio + timedelta(seconds=19), tick=False):
        assert recuperar_reivindicacoes_vencidas(fabrica_provedor=lambda _i: provedor) == {
            "pendentes": 0,
            "enviados": 0,
            "incertos": 0,
        }
    with time_machine.travel(inicio + timedelta(seconds=21), tick=False):
        assert (
            recuperar_reivindicacoes_vencidas(fabrica_provedor=lambda _i: provedor)["pendentes"]
            == 1
        )
    lido = _ler(job)
    assert (lido.status, lido.claimed_by, lido.batimento_em) == ("PENDENTE", None, None)
    assert provedor.perguntas == 0, "no send started: nothing to ask the provider"


def test_claim_que_bate_so_volta_no_teto(banco):
    """A beating owner keeps its claim; only PRAZO_REIVINDICACAO_S (300 s) is a ceiling."""
    _empresa, job = _um_job()
    inicio = agora()
    _definir(
        job,
        status="PROCESSANDO",
        claimed_by="vivo:1",
        claimed_at=inicio,
        batimento_em=inicio + timedelta(seconds=295),
        tentativas=1,
    )
    with time_machine.travel(inicio + timedelta(seconds=299), tick=False):
        assert recuperar_reivindicacoes_vencidas()["pendentes"] == 0
    with time_machine.travel(inicio + timedelta(seconds=301), tick=False):
        assert recuperar_reivindicacoes_vencidas()["pendentes"] == 1


def test_envio_iniciado_de_dono_calado_espera_o_timeout_do_provedor(banco):
    """Silent owner, started send: reconciled only once no provider call can still be in
    flight (PROVEDOR_TIMEOUT_S + margin after the send began)."""
    _empresa, job = _um_job()
    inicio = agora()
    _definir(
        job,
        status="PROCESSANDO",
        claimed_by="morto:1",
        claimed_at=inicio,
        batimento_em=inicio,
        envio_iniciado_em=inicio + timedelta(seconds=20),
        tentativas=1,
    )
    provedor = _Confirma(Confirmacao.ENVIADO)
    # Silent for 40 s, but the send began 20 s ago (timeout 30 s + 5 s margin).
    with time_machine.travel(inicio + timedelta(seconds=40), tick=False):
        assert recuperar_reivindicacoes_vencidas(fabrica_provedor=lambda _i: provedor) == {
            "pendentes": 0,
            "enviados": 0,
            "incertos": 0,
        }
    with time_machine.travel(inicio + timedelta(seconds=56), tick=False):
        resultado = recuperar_reivindicacoes_vencidas(fabrica_provedor=lambda _i: provedor)
    assert resultado["enviados"] == 1 and provedor.perguntas == 1
    assert _ler(job).status == "ENVIADO"


@pytest.mark.parametrize(
    ("confirmacao", "status", "chave"),
    [
        (Confirmacao.ENVIADO, "ENVIADO", "enviados"),
        (Confirmacao.AUSENTE, "PENDENTE", "pendentes"),
        (Confirmacao.DESCONHECIDO, "INCERTO", "incertos"),
    ],
)
def test_reaper_reconcilia_envio_iniciado(banco, confirmacao, status, chave):
    _empresa, job = _um_job()
    inicio = agora()
    _definir(
        job,
        status="PROCESSANDO",
        claimed_by="morto:1",
        claimed_at=inicio,
        envio_iniciado_em=inicio,
        tentativas=1,
    )
    provedor = _Confirma(confirmacao)
    with time_machine.travel(inicio + timedelta(minutes=6), tick=False):
        resultado = recuperar_reivindicacoes_vencidas(fabrica_provedor=lambda _i: provedor)
    assert resultado[chave] == 1 and provedor.perguntas == 1
    lido = _ler(job)
    assert lido.status == status
    if status == "ENVIADO":
        assert lido.provider_message_id == "wamid.X"
    # A dispatcher that wakes up late cannot overwrite the reconciled outcome.
    from whatsapp_app.reivindicacao import finalizar

    assert finalizar(job, "morto:1", status="ERRO") is False


def test_acoes_do_operador_com_auditoria(cliente):
    empresa, job = _um_job()
    gestor = login(cliente, empresa.usuarios["gestor"])
    vendedor = login(cliente, empresa.usuarios["vendedor"])
    assert (
        cliente.post(f"/api/whatsapp/agendamentos/{job}/cancelar", headers=vendedor).status_code
        == 403
    )

    _definir(job, status="INCERTO")
    conflito = cliente.post(f"/api/whatsapp/agendamentos/{job}/cancelar", headers=gestor)
    assert conflito.status_code == 409
    assert conflito.json()["erro"]["mensagem"] == "Não é possível cancelar um agendamento INCERTO."
    marcado = cliente.post(f"/api/whatsapp/agendamentos/{job}/marcar-enviado", headers=gestor)
    assert marcado.status_code == 200 and marcado.json()["status"] == "ENVIADO"

    _definir(job, status="ERRO", tentativas=5, status_entrega="falhou", erro_entrega="x")
    reenviado = cliente.post(f"/api/whatsapp/agendamentos/{job}/reenviar", headers=gestor).json()
    assert (reenviado["status"], reenviado["tentativas"]) == ("PENDENTE", 0)
    assert (_ler(job).status_entrega, _ler(job).erro_entrega) == (None, None), (
        "a resend starts clean"
    )
    cancelado = cliente.post(f"/api/whatsapp/agendamentos/{job}/cancelar", headers=gestor).json()
    assert (cancelado["status"], cancelado["motivo_cancelamento"]) == (
        "CANCELADO",
        "cancelado_pelo_operador",
    )
    assert (
        cliente.post(f"/api/whatsapp/agendamentos/{job}/apagar", headers=gestor).status_code == 404
    )

    with db.sessao() as s:
        auditoria = s.exec(
            select(AuditoriaAgendamento).order_by(AuditoriaAgendamento.criado_em)
        ).all()
    assert [(a.acao, a.status_anterior, a.status_novo) for a in auditoria] == [
        ("marcar_enviado", "INCERTO", "ENVIADO"),
        ("reenviar", "ERRO", "PENDENTE"),
        ("cancelar", "PENDENTE", "CANCELADO"),
    ]
    assert {a.id_usuario for a in auditoria} == {empresa.ids_usuarios["gestor"]}


def test_endpoint_interno_exige_token_e_nao_reivindica_sem_ele(cliente, monkeypatch):
    from whatsapp_app.config import configuracoes

    monkeypatch.setenv("INTERNAL_DISPATCH_TOKEN", "segredo-interno-123")
    configuracoes.cache_clear()
    _empresa, job = _um_job()
    for cabecalho in (
        {},
        {"Authorization": "Bearer errado"},
        {"Authorization": "segredo-interno-123"},
    ):
        resposta = cliente.post("/api/internal/whatsapp/follow-up/dispatch", headers=cabecalho)
        assert resposta.status_code == 401
        assert resposta.json()["erro"]["codigo"] == "nao_autenticado"
    assert _ler(job).status == "PENDENTE", "nothing claimed"


def test_endpoints_de_despacho_chamam_o_despachante(cliente, monkeypatch):
    from whatsapp_app import whatsapp_automations
    from whatsapp_app.config import configuracoes

    monkeypatch.setenv("INTERNAL_DISPATCH_TOKEN", "segredo-interno-123")
    monkeypatch.setenv("METRICS_TOKEN", "metricas-456")
    configuracoes.cache_clear()
    empresa, job = _um_job()
    with ServidorContador() as servidor:
        monkeypatch.setattr(
            whatsapp_automations, "_fabrica_padrao", lambda _i: ProvedorTeste(servidor.url)
        )
        gestor = login(cliente, empresa.usuarios["gestor"])
        manual = cliente.post("/api/whatsapp/automations/follow-up/dispatch", headers=gestor)
        interno = cliente.post(
            "/api/internal/whatsapp/follow-up/dispatch",
            headers={"Authorization": "Bearer segredo-interno-123"},
        )
    assert manual.json() == resumo_despacho(claimed=1, sent=1)
    assert interno.json()["claimed"] == 0
    assert _ler(job).status == "ENVIADO"

    assert cliente.get("/api/metrics").status_code == 401
    texto = cliente.get("/api/metrics", headers={"Authorization": "Bearer metricas-456"}).text
    for nome in (
        "jobs_claimed_total",
        "jobs_skipped_already_claimed_total",
        "jobs_duplicate_blocked_total",
        "jobs_sent_total",
        "jobs_failed_total",
        "jobs_retried_total",
        "jobs_uncertain_total",
        "jobs_reaped_total",
        "dispatch_latency_seconds_bucket",
    ):
        assert nome in texto
