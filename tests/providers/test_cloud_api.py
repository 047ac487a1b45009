"""Cloud API adapter against a local fake Graph API; webhook signature and handshake."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.providers.falso import Resposta, ServidorFalso, porta_fechada
from whatsapp_app.providers.base import Confirmacao, Desfecho, StatusConexao
from whatsapp_app.providers.cloud_api import (
    ERRO_JANELA_24H,
    ERRO_NAO_ENTREGAVEL,
    ERRO_TOKEN,
    ProvedorCloudApi,
    interpretar_webhook,
    responder_verificacao,
    verificar_assinatura,
)
from whatsapp_app.providers.evolution import ErroProvedor

PNID = "106540352242922"
MENSAGENS = f"/v21.0/{PNID}/messages"
SEGREDO = "segredo-do-app-meta"


@pytest.fixture
def cloud(falso: ServidorFalso) -> Iterator[ProvedorCloudApi]:
    with ProvedorCloudApi(
        graph_base_url=falso.url,
        phone_number_id=PNID,
        access_token="EAAG-token-de-acesso",
        app_secret=SEGREDO,
        verify_token="verifica-123",
        timeout_s=0.5,
    ) as provedor:
        yield provedor


def _erro_graph(codigo: int, mensagem: str = "erro") -> dict[str, object]:
    return {
        "error": {
            "message": mensagem,
            "type": "OAuthException",
            "code": codigo,
            "error_data": {"messaging_product": "whatsapp", "details": "detalhe"},
            "fbtrace_id": "AbC",
        }
    }


def _aceito(wamid: str = "wamid.HBgM") -> Resposta:
    return Resposta(
        200,
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "5511988887777", "wa_id": "5511988887777"}],
            "messages": [{"id": wamid}],
        },
    )


def test_envio_de_texto_aceito(falso: ServidorFalso, cloud: ProvedorCloudApi) -> None:
    falso.rota("POST", MENSAGENS, _aceito())
    resultado = cloud.enviar_texto(
        numero_e164="+5511988887777", texto="Oi, Ana", id_agendamento="ag-42"
    )
    assert resultado.desfecho == Desfecho.ACEITO
    assert resultado.provider_message_id == "wamid.HBgM"
    (req,) = falso.recebidas("POST", MENSAGENS)
    assert req.cabecalhos["authorization"] == "Bearer EAAG-token-de-acesso"
    assert req.json["messaging_product"] == "whatsapp"
    assert req.json["to"] == "5511988887777"
    assert req.json["type"] == "text"
    assert req.json["text"]["body"] == "Oi, Ana"
    assert req.json["biz_opaque_callback_data"] == "ag-42"


def test_envio_de_template(falso: ServidorFalso, cloud: ProvedorCloudApi) -> None:
    falso.rota("POST", MENSAGENS, _aceito("wamid.T"))
    componentes = [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]
    resultado = cloud.enviar_template(
        numero_e164="+5511988887777",
        nome="follow_up_1",
        componentes=componentes,
        id_agendamento="ag-7",
    )
    assert resultado.provider_message_id == "wamid.T"
    (req,) = falso.recebidas("POST", MENSAGENS)
    assert req.json["type"] == "template"
    assert req.json["template"] == {
        "name": "follow_up_1",
        "language": {"code": "pt_BR"},
        "components": componentes,
    }
    assert req.json["biz_opaque_callback_data"] == "ag-7"


@pytest.mark.parametrize(
    ("status", "corpo", "desfecho", "erro"),
    [
        (400, _erro_graph(131047), Desfecho.PERMANENTE, ERRO_JANELA_24H),
        (401, _erro_graph(190), Desfecho.PERMANENTE, ERRO_TOKEN),
        (400, _erro_graph(131026), Desfecho.PERMANENTE, ERRO_NAO_ENTREGAVEL),
        (400, _erro_graph(130429), Desfecho.RETENTAVEL, None),
        (400, _erro_graph(131056), Desfecho.RETENTAVEL, None),
        (429, _erro_graph(80007), Desfecho.RETENTAVEL, None),
        (500, _erro_graph(131000), Desfecho.RETENTAVEL, None),
        (503, None, Desfecho.RETENTAVEL, None),
        (504, None, Desfecho.DESCONHECIDO, None),
        (401, None, Desfecho.PERMANENTE, ERRO_TOKEN),
        (400, _erro_graph(100, "Invalid parameter"), Desfecho.PERMANENTE, None),
    ],
)
def test_mapeamento_de_erros(
    falso: ServidorFalso,
    cloud: ProvedorCloudApi,
    status: int,
    corpo: object,
    desfecho: Desfecho,
    erro: str | None,
) -> None:
    falso.rota("POST", MENSAGENS, Resposta(status, corpo))
    resultado = cloud.enviar_texto(numero_e164="+5511988887777", texto="x", id_agendamento="a")
    assert resultado.desfecho == desfecho
    assert resultado.erro
    if erro:
        assert resultado.erro == erro


def test_outro_4xx_leva_a_mensagem_do_provedor(
    falso: ServidorFalso, cloud: ProvedorCloudApi
) -> None:
    falso.rota("POST", MENSAGENS, Resposta(400, _erro_graph(100, "Invalid parameter")))
    resultado = cloud.enviar_texto(numero_e164="+5511988887777", texto="x", id_agendamento="a")
    assert resultado.erro is not None
    assert "Invalid parameter" in resultado.erro
    assert "100" in resultado.erro


def test_retry_after_no_limite_de_vazao(falso: ServidorFalso, cloud: ProvedorCloudApi) -> None:
    falso.rota("POST", MENSAGENS, Resposta(400, _erro_graph(130429), {"Retry-After": "12"}))
    resultado = cloud.enviar_texto(numero_e164="+5511988887777", texto="x", id_agendamento="a")
    assert resultado.tentar_apos_s == 12


def test_timeout_e_desconhecido_e_recusa_e_retentavel(
    falso: ServidorFalso, cloud: ProvedorCloudApi
) -> None:
    falso.rota("POST", MENSAGENS, Resposta(200, {"messages": [{"id": "tarde"}]}, dormir_s=1.5))
    assert (
        cloud.enviar_texto(numero_e164="+5511988887777", texto="x", id_agendamento="a").desfecho
        == Desfecho.DESCONHECIDO
    )
    with ProvedorCloudApi(
        graph_base_url=f"http://127.0.0.1:{porta_fechada()}", phone_number_id=PNID, access_token="t"
    ) as fora:
        assert (
            fora.enviar_texto(numero_e164="+5511988887777", texto="x", id_agendamento="a").desfecho
            == Desfecho.RETENTAVEL
        )


def test_estado_conexao(falso: ServidorFalso, cloud: ProvedorCloudApi) -> None:
    falso.rota("GET", f"/v21.0/{PNID}", Resposta(200, {"id": PNID, "verified_name": "Loja"}))
    assert cloud.estado_conexao().status == StatusConexao.CONECTADO
    assert cloud.conectar().status == StatusConexao.CONECTADO
    falso.rota("GET", f"/v21.0/{PNID}", Resposta(401, _erro_graph(190)))
    with pytest.raises(ErroProvedor) as erro:
        cloud.estado_conexao()
    assert erro.value.mensagem == ERRO_TOKEN


def test_confirmar_envio_fica_para_os_webhooks(cloud: ProvedorCloudApi) -> None:
    resultado = cloud.confirmar_envio(
        numero_e164="+5511988887777", texto="x", id_agendamento="a", desde=datetime.now(UTC)
    )
    assert resultado.confirmacao == Confirmacao.DESCONHECIDO


# --- webhooks ----------------------------------------------------------------------------------


def _assinar(corpo: bytes, segredo: str = SEGREDO) -> str:
    return "sha256=" + hmac.new(segredo.encode(), corpo, hashlib.sha256).hexdigest()


def test_assinatura_valida_invalida_e_ausente(cloud: ProvedorCloudApi) -> None:
    corpo = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    assert verificar_assinatura(corpo, _assinar(corpo), SEGREDO)
    assert cloud.verificar_assinatura(corpo, _assinar(corpo))
    assert verificar_assinatura(corpo, _assinar(corpo).upper().replace("SHA256", "sha256"), SEGREDO)
    assert not verificar_assinatura(corpo + b" ", _assinar(corpo), SEGREDO)  # body changed
    assert not verificar_assinatura(corpo, _assinar(corpo, "outro-segredo"), SEGREDO)
    assert not verificar_assinatura(corpo, None, SEGREDO)
    assert not verificar_assinatura(corpo, "", SEGREDO)
    assert not verificar_assinatura(corpo, "sha1=abc", SEGREDO)
    assert not verificar_assinatura(corpo, "sha256=", SEGREDO)
    assert not verificar_assinatura(corpo, _assinar(corpo, ""), "")  # no secret configured


def test_handshake_de_verificacao(cloud: ProvedorCloudApi) -> None:
    assert (
        responder_verificacao("subscribe", "verifica-123", "1158201444", "verifica-123")
        == "1158201444"
    )
    assert cloud.responder_verificacao("subscribe", "verifica-123", "desafio") == "desafio"
    assert responder_verificacao("subscribe", "errado", "x", "verifica-123") is None
    assert responder_verificacao("unsubscribe", "verifica-123", "x", "verifica-123") is None
    assert responder_verificacao("subscribe", None, "x", "verifica-123") is None
    assert responder_verificacao("subscribe", "", "x", "") is None


def test_interpretar_webhook_de_status() -> None:
    corpo = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "5511", "phone_number_id": PNID},
                            "statuses": [
                                {
                                    "id": "wamid.1",
                                    "status": "sent",
                                    "timestamp": "1",
                                    "recipient_id": "5511988887777",
                                    "biz_opaque_callback_data": "ag-1",
                                },
                                {
                                    "id": "wamid.1",
                                    "status": "delivered",
                                    "biz_opaque_callback_data": "ag-1",
                                },
                                {
                                    "id": "wamid.1",
                                    "status": "read",
                                    "biz_opaque_callback_data": "ag-1",
                                },
                                {
                                    "id": "wamid.2",
                                    "status": "failed",
                                    "biz_opaque_callback_data": "ag-2",
                                    "errors": [{"code": 131047, "title": "Re-engagement message"}],
                                },
                                {"id": "wamid.3", "status": "deleted"},
                            ],
                            "messages": [
                                {"from": "5511988887777", "id": "wamid.in", "timestamp": "2"}
                            ],
                        },
                    },
                    {"field": "account_update", "value": {}},
                ],
            }
        ],
    }
    eventos = interpretar_webhook(corpo)
    status = [
        (e.provider_message_id, e.id_agendamento, e.status_mensagem)
        for e in eventos
        if e.tipo == "status_mensagem"
    ]
    assert status == [
        ("wamid.1", "ag-1", "enviado"),
        ("wamid.1", "ag-1", "entregue"),
        ("wamid.1", "ag-1", "lido"),
        ("wamid.2", "ag-2", "falhou"),
    ]
    falhou = next(e for e in eventos if e.status_mensagem == "falhou")
    assert falhou.dados["erros"][0]["code"] == 131047
    assert falhou.dados["phone_number_id"] == PNID
    entrada = [e for e in eventos if e.tipo == "ignorado"]
    assert entrada and entrada[0].dados["de"] == "5511988887777"
    assert interpretar_webhook({"entry": "lixo"}) == []
    assert interpretar_webhook(None) == []
