"""Cloud API 24-hour customer-service window, and inbound Meta deliveries.

Inside the window a step goes out as text; outside, as the step's approved template (request
body as Meta documents it); outside with no template, ERRO at once without calling Meta. The
Graph API is a real local HTTP server (tests/providers/falso.py) that records every request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from prometheus_client import REGISTRY
from sqlmodel import select

from tests.factories import comandos_sql, criar_automacao, criar_empresa, criar_lead, mover
from tests.providers.falso import Resposta, ServidorFalso, servidor_falso
from tests.test_conversa import jobs_do_lead, ler_lead, mensagens
from tests.test_webhooks import APP_SECRET, VERIFY_TOKEN, assinar, instancia
from whatsapp_app import db
from whatsapp_app.envio import ERRO_FORA_DA_JANELA_SEM_MODELO
from whatsapp_app.models import WhatsappAutomacaoEtapa
from whatsapp_app.whatsapp_automations import processar_agendamentos_follow_up_whatsapp

NUMERO = "1000"
TELEFONE = "+5511987654321"
T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
CAMINHO = f"/v21.0/{NUMERO}/messages"


@pytest.fixture
def graph() -> Iterator[ServidorFalso]:
    with servidor_falso() as servidor:
        servidor.rota(
            "POST",
            CAMINHO,
            Resposta(
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": "5511987654321", "wa_id": "5511987654321"}],
                    "messages": [{"id": "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjA5"}],
                },
            ),
        )
        yield servidor


def instancia_cloud(empresa, url: str, numero: str = NUMERO) -> str:  # type: ignore[no-untyped-def]
    config = {
        "phone_number_id": numero,
        "access_token": "EAAG-token",
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "graph_base_url": url,
        "graph_version": "v21.0",
    }
    return instancia(empresa, provider="cloud_api", config=config, phone_number_id=numero)


def com_modelo(id_automacao: str, modelo: dict[str, Any] | None) -> None:
    with db.sessao() as s:
        for etapa in s.exec(
            select(WhatsappAutomacaoEtapa).where(
                WhatsappAutomacaoEtapa.id_whatsapp_automacao == id_automacao
            )
        ):
            etapa.modelo = modelo
            s.add(etapa)


def mensagem_meta(
    *,
    numero: str = NUMERO,
    de: str = "5511987654321",
    wamid: str = "wamid.ENTRADA1",
    texto: str = "Oi! Ainda tenho interesse",
    quando: datetime = T0,
) -> dict[str, Any]:
    """One ``changes[]`` item as Meta sends an inbound text message."""
    return {
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": numero},
            "contacts": [{"profile": {"name": "Maria Silva"}, "wa_id": de}],
            "messages": [
                {
                    "from": de,
                    "id": wamid,
                    "timestamp": str(int(quando.timestamp())),
                    "text": {"body": texto},
                    "type": "text",
                }
            ],
        },
    }


def entregar(cliente, *entradas: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    corpo = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": mudancas} for mudancas in entradas],
    }
    bruto = json.dumps(corpo, separators=(",", ":")).encode()
    return cliente.post(
        "/api/webhooks/meta",
        content=bruto,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": assinar(bruto)},
    )


@pytest.fixture
def cenario(cliente, graph):  # type: ignore[no-untyped-def]
    """A Cloud API number; "Qualificado" sends a step with a template, "Proposta" a step
    without one; the lead wrote to the number at T0."""
    empresa = criar_empresa()
    id_instancia = instancia_cloud(empresa, graph.url)
    com = criar_automacao(empresa, estagio=1, atrasos=(0,), id_instancia=id_instancia)
    com_modelo(
        com,
        {
            "nome": "retomada_contato",
            "idioma": "pt_BR",
            "variaveis": ["{{primeiro_nome}}", "{{empresa}}"],
            "corpo": "Olá {{1}}, aqui é da {{2}}. Podemos continuar?",
        },
    )
    criar_automacao(empresa, estagio=2, atrasos=(0,), id_instancia=id_instancia)
    lead = criar_lead(empresa, telefone=TELEFONE)
    with time_machine.travel(T0, tick=False):
        assert entregar(cliente, [mensagem_meta()]).status_code == 200
    return empresa, id_instancia, lead


def test_dentro_da_janela_sai_o_texto(cliente, graph, cenario) -> None:
    empresa, _id_instancia, lead = cenario
    with time_machine.travel(T0 + timedelta(hours=23, minutes=59), tick=False):
        mover(empresa, lead, 1)
        resumo = processar_agendamentos_follow_up_whatsapp()
    assert resumo["sent"] == 1, resumo
    [pedido] = graph.recebidas("POST", CAMINHO)
    assert pedido.json["type"] == "text"
    assert pedido.json["text"]["body"] == "Olá Maria, passo 1"
    assert pedido.cabecalhos["authorization"] == "Bearer EAAG-token"


def test_fora_da_janela_sai_o_modelo_como_a_meta_documenta(cliente, graph, cenario) -> None:
    empresa, id_instancia, lead = cenario
    with time_machine.travel(T0 + timedelta(hours=24, minutes=1), tick=False):
        mover(empresa, lead, 1)
        resumo = processar_agendamentos_follow_up_whatsapp()
    assert resumo["sent"] == 1, resumo
    [job] = jobs_do_lead(lead)
    [pedido] = graph.recebidas("POST", CAMINHO)
    assert pedido.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511987654321",
        "type": "template",
        "template": {
            "name": "retomada_contato",
            "language": {"code": "pt_BR"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Maria"},
                        {"type": "text", "text": "Empresa Teste"},
                    ],
                }
            ],
        },
        "biz_opaque_callback_data": job.id,
    }
    [saida] = [m for m in mensagens() if m.direcao == "saida"]
    assert saida.texto == "Olá Maria, aqui é da Empresa Teste. Podemos continuar?"
    assert (saida.id_agendamento, saida.id_whatsapp_instancia) == (job.id, id_instancia)


def test_um_lote_le_as_janelas_numa_consulta(cliente, graph, cenario) -> None:
    """Three leads in one batch: the one who wrote 23 h ago gets the text, the one who wrote
    47 h ago and the one who never wrote get the template; their windows are read in one
    query, not one per job."""
    empresa, _id_instancia, maria = cenario
    joao = criar_lead(empresa, nome="João Souza", telefone="+5511987650001")
    ana = criar_lead(empresa, nome="Ana Lima", telefone="+5511987650002")
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        antiga = mensagem_meta(de="5511987650001", wamid="wamid.JOAO")
        assert entregar(cliente, [antiga]).status_code == 200
    with time_machine.travel(T0 + timedelta(hours=23), tick=False):
        for lead in (maria, joao, ana):
            mover(empresa, lead, 1)
        with comandos_sql() as comandos:
            resumo = processar_agendamentos_follow_up_whatsapp()
    assert resumo["sent"] == 3, resumo
    janelas = [c for c in comandos if c.startswith("SELECT") and "max(" in c.lower()]
    assert len(janelas) == 1 and "whatsapp_mensagem" in janelas[0]
    tipos = {p.json["to"]: p.json["type"] for p in graph.recebidas("POST", CAMINHO)}
    assert tipos == {
        "5511987654321": "text",
        "5511987650001": "template",
        "5511987650002": "template",
    }


def test_fora_da_janela_sem_modelo_e_erro_sem_chamar_a_meta(cliente, graph, cenario) -> None:
    empresa, _id_instancia, lead = cenario
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        mover(empresa, lead, 2)
        resumo = processar_agendamentos_follow_up_whatsapp()
    assert resumo["failed"] == 1, resumo
    [job] = jobs_do_lead(lead)
    assert (job.status, job.ultimo_erro, job.envio_iniciado_em) == (
        "ERRO",
        ERRO_FORA_DA_JANELA_SEM_MODELO,
        None,
    )
    assert graph.recebidas("POST", CAMINHO) == []


def test_nunca_respondeu_esta_fora_da_janela(cliente, graph) -> None:
    empresa = criar_empresa()
    id_instancia = instancia_cloud(empresa, graph.url)
    criar_automacao(empresa, estagio=1, atrasos=(0,), id_instancia=id_instancia)
    lead = criar_lead(empresa, telefone=TELEFONE)
    mover(empresa, lead, 1)
    processar_agendamentos_follow_up_whatsapp()
    assert [j.status for j in jobs_do_lead(lead)] == ["ERRO"]
    assert graph.recebidas("POST", CAMINHO) == []


def test_meta_entrega_varias_entradas_e_ignora_numero_que_nao_atendemos(cliente, graph) -> None:
    empresa = criar_empresa()
    id_instancia = instancia_cloud(empresa, graph.url)
    criar_automacao(empresa, estagio=1, atrasos=(0, 60), id_instancia=id_instancia)
    lead = criar_lead(empresa, telefone=TELEFONE)
    mover(empresa, lead, 1)
    erros_antes = REGISTRY.get_sample_value("erros_provedor_webhook_total") or 0.0
    resposta = entregar(
        cliente,
        [mensagem_meta(quando=datetime.now(UTC))],
        [mensagem_meta(numero="9999", de="5521911112222", wamid="wamid.OUTRO")],
        [
            {
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550001111", "phone_number_id": NUMERO},
                    "errors": [
                        {
                            "code": 131051,
                            "title": "Unsupported message type",
                            "message": "Unsupported message type",
                            "error_data": {"details": "Message type is not currently supported"},
                        }
                    ],
                },
            }
        ],
    )
    assert resposta.status_code == 200, resposta.text
    assert resposta.json()["recebidas"] == 1
    [entrada] = mensagens()
    assert (entrada.id_lead, entrada.provider_message_id, entrada.nome_contato) == (
        lead,
        "wamid.ENTRADA1",
        "Maria Silva",
    )
    assert {j.motivo_cancelamento for j in jobs_do_lead(lead)} == {"lead_respondeu"}
    assert ler_lead(lead).ultima_resposta_em is not None
    assert (REGISTRY.get_sample_value("erros_provedor_webhook_total") or 0.0) - erros_antes == 1
    # Redelivered by Meta: nothing stored twice.
    entregar(cliente, [mensagem_meta(quando=datetime.now(UTC))])
    assert len(mensagens()) == 1


def test_entrega_so_de_numero_desconhecido_continua_recusada(cliente, graph) -> None:
    instancia_cloud(criar_empresa(), graph.url)
    resposta = entregar(cliente, [mensagem_meta(numero="9999")])
    assert resposta.status_code == 401
    assert mensagens() == []
