"""Instances API, the management side: the per-instance status with its queue stats, delete
(cancels pending jobs, deactivates automations, hides the row) and rename (pt-BR validation,
tenants, roles). Creation, secrets and the connection flow are in ``test_instancias``."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from tests.factories import (
    criar_automacao,
    criar_empresa,
    criar_instancia,
    criar_job,
    criar_lead,
    login,
)
from tests.test_instancias import (  # noqa: F401  (fixture)
    URL,
    _sem_provedores_reais,
    instancia_do_banco,
)
from whatsapp_app import db
from whatsapp_app.models import WhatsappAutomacao, WhatsappAutomacaoAgendamento
from whatsapp_app.tempo import agora

# --- status and queue stats --------------------------------------------------------------------


def test_status_traz_a_fila_das_automacoes_da_instancia(cliente) -> None:
    empresa = criar_empresa()
    usuario = login(cliente, empresa.usuarios["vendedor"])
    instancia = criar_instancia(empresa)
    outra = criar_instancia(empresa)
    automacao = criar_automacao(empresa, id_instancia=instancia, atrasos=(0,))
    segunda = criar_automacao(empresa, id_instancia=instancia, atrasos=(0,), estagio=2)
    de_outra = criar_automacao(empresa, id_instancia=outra, atrasos=(0,))
    lead = criar_lead(empresa)
    momento = agora()
    for _ in range(3):
        criar_job(empresa, lead, automacao, "PENDENTE")
    criar_job(empresa, lead, segunda, "PENDENTE", agendado_para=momento + timedelta(hours=1))
    criar_job(empresa, lead, automacao, "PROCESSANDO")
    criar_job(empresa, lead, automacao, "ENVIADO", enviado_em=momento - timedelta(hours=1))
    criar_job(empresa, lead, segunda, "ENVIADO", enviado_em=momento - timedelta(hours=23))
    criar_job(empresa, lead, automacao, "ENVIADO", enviado_em=momento - timedelta(hours=25))
    criar_job(empresa, lead, automacao, "ERRO", atualizado_em=momento - timedelta(hours=2))
    criar_job(empresa, lead, automacao, "ERRO", atualizado_em=momento - timedelta(hours=30))
    criar_job(empresa, lead, automacao, "INCERTO")
    criar_job(empresa, lead, automacao, "CANCELADO")
    for status in ("PENDENTE", "PROCESSANDO", "ENVIADO", "ERRO"):
        criar_job(empresa, lead, de_outra, status, enviado_em=momento)

    resposta = cliente.get(f"{URL}/{instancia}/status", headers=usuario)
    assert resposta.status_code == 200, resposta.text
    assert resposta.json() == {
        "status": "desconectado",
        "ultima_sincronizacao": None,
        "erro_conexao": None,
        "fila": {
            "pendentes": 4,
            "processando": 1,
            "enviados_24h": 2,
            "erros_24h": 1,
            "incertos": 1,
            "vencidos": 3,  # the fourth pending one is due in an hour
        },
    }
    vazia = cliente.get(f"{URL}/{criar_instancia(empresa)}/status", headers=usuario).json()
    assert vazia["fila"] == {
        "pendentes": 0,
        "processando": 0,
        "enviados_24h": 0,
        "erros_24h": 0,
        "incertos": 0,
        "vencidos": 0,
    }


# --- delete ------------------------------------------------------------------------------------


def test_excluir_cancela_pendentes_desativa_automacoes_e_esconde(cliente) -> None:
    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    instancia = criar_instancia(empresa)
    outra = criar_instancia(empresa)
    ativa = criar_automacao(empresa, id_instancia=instancia, atrasos=(0,))
    inativa = criar_automacao(empresa, id_instancia=instancia, atrasos=(0,), ativo=False)
    preservada = criar_automacao(empresa, id_instancia=outra, atrasos=(0,))
    lead = criar_lead(empresa)
    pendentes = [
        criar_job(empresa, lead, ativa, "PENDENTE"),
        criar_job(empresa, lead, inativa, "PENDENTE"),
    ]
    outros = {
        criar_job(empresa, lead, ativa, "ENVIADO"): "ENVIADO",
        criar_job(empresa, lead, ativa, "PROCESSANDO"): "PROCESSANDO",
        criar_job(empresa, lead, ativa, "INCERTO"): "INCERTO",
        criar_job(empresa, lead, preservada, "PENDENTE"): "PENDENTE",
    }

    resposta = cliente.delete(f"{URL}/{instancia}", headers=admin)
    assert resposta.status_code == 200, resposta.text
    assert resposta.json() == {
        "ok": True,
        "agendamentos_cancelados": 2,
        "automacoes_desativadas": 1,
    }

    with db.sessao() as s:
        for id_job in pendentes:
            job = s.get(WhatsappAutomacaoAgendamento, id_job)
            assert job is not None
            assert (job.status, job.motivo_cancelamento) == ("CANCELADO", "instancia_excluida")
        for id_job, status in outros.items():
            job = s.get(WhatsappAutomacaoAgendamento, id_job)
            assert job is not None and job.status == status and job.motivo_cancelamento is None
        assert {a.id: a.ativo for a in s.exec(select(WhatsappAutomacao)).all()} == {
            ativa: False,
            inativa: False,
            preservada: True,
        }
    linha = instancia_do_banco(instancia)
    assert linha.excluida_em is not None, "the row stays for the jobs' history"
    assert [i["id"] for i in cliente.get(URL, headers=admin).json()["itens"]] == [outra]
    assert cliente.get(f"{URL}/{instancia}/status", headers=admin).status_code == 404
    assert cliente.post(f"{URL}/{instancia}/connect", headers=admin).status_code == 404
    segunda_vez = cliente.delete(f"{URL}/{instancia}", headers=admin)
    assert segunda_vez.status_code == 404
    assert segunda_vez.json()["erro"]["codigo"] == "nao_encontrado"


# --- rename ------------------------------------------------------------------------------------


def test_renomear_valida_em_pt_br_e_respeita_empresa_e_perfil(cliente) -> None:
    empresa = criar_empresa()
    outra_empresa = criar_empresa("Outra", sufixo="b")
    admin = login(cliente, empresa.usuarios["admin"])
    instancia, vizinha = criar_instancia(empresa), criar_instancia(empresa)
    alheia = criar_instancia(outra_empresa)

    resposta = cliente.patch(f"{URL}/{instancia}", json={"nome": "  Vendas SP  "}, headers=admin)
    assert resposta.status_code == 200, resposta.text
    assert resposta.json()["nome"] == "Vendas SP"
    assert instancia_do_banco(instancia).nome == "Vendas SP"
    # Keeping its own name (another case) is not a duplicate.
    assert (
        cliente.patch(f"{URL}/{instancia}", json={"nome": "vendas sp"}, headers=admin).status_code
        == 200
    )

    for corpo, mensagem in (
        ({"nome": "   "}, "pelo menos 1"),
        ({"nome": "x" * 121}, "120"),
        ({"nome": "VENDAS SP"}, None),  # the neighbour cannot take it
    ):
        alvo = vizinha if mensagem is None else instancia
        recusa = cliente.patch(f"{URL}/{alvo}", json=corpo, headers=admin)
        assert recusa.status_code == 422, recusa.text
        erro = recusa.json()["erro"]
        assert erro["codigo"] == "validacao"
        esperado = mensagem or "Já existe outra instância com este nome."
        assert esperado in erro["campos"]["nome"], erro
    assert instancia_do_banco(vizinha).nome == "Instância"

    nao_achada = cliente.patch(f"{URL}/{alheia}", json={"nome": "Minha"}, headers=admin)
    assert nao_achada.status_code == 404
    assert instancia_do_banco(alheia).nome == "Instância"
    gestor = login(cliente, empresa.usuarios["gestor"])
    assert (
        cliente.patch(f"{URL}/{instancia}", json={"nome": "G"}, headers=gestor).status_code == 403
    )
    assert instancia_do_banco(instancia).nome == "vendas sp"
