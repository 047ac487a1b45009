"""Pause keeps the queue (contract.md section 7): pausing an automation turns its pending jobs
into PAUSADO, which no dispatcher claims; resuming sends (or, when asked, cancels) what fell
due during the pause; leaving the stage, a reply, an opt-out or deletion still cancel them."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from tests.factories import criar_automacao, criar_empresa, criar_lead, login, mover
from tests.test_conversa import ProvedorRoteirizado, jobs_do_lead
from whatsapp_app.tempo import agora
from whatsapp_app.whatsapp_automations import processar_agendamentos_follow_up_whatsapp


def _cenario(cliente):  # type: ignore[no-untyped-def]
    empresa = criar_empresa()
    automacao = criar_automacao(empresa, estagio=1, atrasos=(0, 60, 1440))
    lead = criar_lead(empresa)
    mover(empresa, lead, 1)
    return empresa, automacao, lead, login(cliente, empresa.usuarios["gestor"])


def _pausar(cliente, automacao: str, gestor):  # type: ignore[no-untyped-def]
    resposta = cliente.patch(
        f"/api/whatsapp/automations/{automacao}", json={"ativo": False}, headers=gestor
    )
    assert resposta.status_code == 200, resposta.text
    return resposta.json()


def _retomar(cliente, automacao: str, gestor, vencidos: str):  # type: ignore[no-untyped-def]
    """Resume two hours later (two of the three steps fell due during the pause)."""
    with time_machine.travel(agora() + timedelta(hours=2), tick=False):
        return cliente.post(
            f"/api/whatsapp/automations/{automacao}/retomar",
            json={"vencidos": vencidos},
            headers=gestor,
        )


def test_pausa_mantem_os_jobs_e_o_despachante_nao_os_pega(cliente) -> None:
    _empresa, automacao, lead, gestor = _cenario(cliente)
    assert _pausar(cliente, automacao, gestor)["agendamentos_pausados"] == 3
    assert sorted(j.status for j in jobs_do_lead(lead)) == ["PAUSADO"] * 3
    provedor = ProvedorRoteirizado()
    resumo = processar_agendamentos_follow_up_whatsapp(fabrica_provedor=lambda _i: provedor)
    assert resumo["claimed"] == 0 and provedor.envios == []


def test_retomar_enviando_os_vencidos(cliente) -> None:
    _empresa, automacao, lead, gestor = _cenario(cliente)
    _pausar(cliente, automacao, gestor)
    retomada = _retomar(cliente, automacao, gestor, "enviar")
    assert retomada.status_code == 200, retomada.text
    corpo = retomada.json()
    assert (corpo["ativo"], corpo["agendamentos_retomados"], corpo["agendamentos_cancelados"]) == (
        True,
        3,
        0,
    )
    with time_machine.travel(agora() + timedelta(hours=2), tick=False):
        provedor = ProvedorRoteirizado()
        resumo = processar_agendamentos_follow_up_whatsapp(fabrica_provedor=lambda _i: provedor)
    assert resumo["sent"] == 2, "the two steps that fell due during the pause go out now"
    assert sorted(j.status for j in jobs_do_lead(lead)) == ["ENVIADO", "ENVIADO", "PENDENTE"]


def test_retomar_cancelando_os_vencidos(cliente) -> None:
    _empresa, automacao, lead, gestor = _cenario(cliente)
    _pausar(cliente, automacao, gestor)
    retomada = _retomar(cliente, automacao, gestor, "cancelar")
    assert retomada.status_code == 200, retomada.text
    assert retomada.json()["agendamentos_cancelados"] == 2
    assert retomada.json()["agendamentos_retomados"] == 1
    estados = sorted((j.status, j.motivo_cancelamento or "") for j in jobs_do_lead(lead))
    assert estados == [
        ("CANCELADO", "vencido_durante_pausa"),
        ("CANCELADO", "vencido_durante_pausa"),
        ("PENDENTE", ""),
    ]


def test_pausado_e_cancelado_quando_o_lead_sai_do_estagio(cliente) -> None:
    empresa, automacao, lead, gestor = _cenario(cliente)
    _pausar(cliente, automacao, gestor)
    mover(empresa, lead, 2)
    assert {(j.status, j.motivo_cancelamento) for j in jobs_do_lead(lead)} == {
        ("CANCELADO", "lead_saiu_do_estagio")
    }


def test_retomar_valida_o_corpo_e_o_perfil(cliente) -> None:
    empresa, automacao, _lead, gestor = _cenario(cliente)
    url = f"/api/whatsapp/automations/{automacao}/retomar"
    ruim = cliente.post(url, json={"vencidos": "talvez"}, headers=gestor)
    assert ruim.status_code == 422 and "vencidos" in ruim.json()["erro"]["campos"]
    vendedor = login(cliente, empresa.usuarios["vendedor"])
    assert cliente.post(url, json={"vencidos": "enviar"}, headers=vendedor).status_code == 403
    outra = criar_empresa("Outra", sufixo="z")
    alheio = cliente.post(
        url, json={"vencidos": "enviar"}, headers=login(cliente, outra.usuarios["admin"])
    )
    assert alheio.status_code == 404
