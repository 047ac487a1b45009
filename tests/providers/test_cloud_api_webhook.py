"""Cloud API webhooks (signature, handshake, statuses, inbound messages and errors) against
payloads shaped as Meta sends them (tests/providers/payloads)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.providers.test_cloud_api import PNID, SEGREDO, cloud  # noqa: F401  (fixture)
from whatsapp_app.providers.base import TEXTO_MIDIA
from whatsapp_app.providers.cloud_api import ProvedorCloudApi
from whatsapp_app.providers.cloud_api_webhook import (
    interpretar_webhook,
    responder_verificacao,
    verificar_assinatura,
)

# --- webhooks ----------------------------------------------------------------------------------


def _assinar(corpo: bytes, segredo: str = SEGREDO) -> str:
    return "sha256=" + hmac.new(segredo.encode(), corpo, hashlib.sha256).hexdigest()


def test_assinatura_valida_invalida_e_ausente(cloud: ProvedorCloudApi) -> None:  # noqa: F811
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


def test_handshake_de_verificacao(cloud: ProvedorCloudApi) -> None:  # noqa: F811
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
    (entrada,) = [e for e in eventos if e.tipo == "mensagem_recebida"]
    assert entrada.mensagem is not None
    assert entrada.mensagem.telefone == "5511988887777"
    assert entrada.mensagem.texto == TEXTO_MIDIA  # no type, no text
    assert interpretar_webhook({"entry": "lixo"}) == []
    assert interpretar_webhook(None) == []


# --- inbound messages and errors ------------------------------------------------------------------

PAYLOADS = Path(__file__).parent / "payloads"
CASOS = json.loads((PAYLOADS / "meta_casos.json").read_text())


def _entrega(valor: dict[str, Any], pnid: str = PNID) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": pnid,
                            },
                            **valor,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def test_entrega_com_varias_entradas_e_mudancas() -> None:
    corpo = json.loads((PAYLOADS / "meta_entrega_mista.json").read_text())
    eventos = interpretar_webhook(corpo)
    resumo = [(e.tipo, e.provider_message_id, e.dados.get("phone_number_id")) for e in eventos]
    assert resumo == [
        ("status_mensagem", "wamid.ENVIADA", PNID),
        (
            "mensagem_recebida",
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
            PNID,
        ),
        ("mensagem_recebida", "wamid.BOTAO", PNID),
        ("erro_provedor", None, PNID),
        ("status_mensagem", "wamid.FALHOU", "206540352242923"),
        ("mensagem_recebida", "wamid.NAOSUPORTADA", "206540352242923"),
        ("erro_provedor", "wamid.NAOSUPORTADA", "206540352242923"),
    ]
    texto, botao, nao_suportada = (e.mensagem for e in eventos if e.tipo == "mensagem_recebida")
    assert texto is not None and botao is not None and nao_suportada is not None
    assert texto.telefone == "16505551234"
    assert texto.texto == "Does it come in another color?"
    assert texto.nome_contato == "Sheena Nelson"
    assert texto.recebida_em == datetime.fromtimestamp(1749416383, tz=UTC)
    assert texto.id_resposta_a is None
    assert botao.texto == "Parar de receber"
    assert botao.nome_contato == "Bruno Lima"
    assert botao.id_resposta_a == "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"
    assert nao_suportada.texto == TEXTO_MIDIA
    assert nao_suportada.nome_contato == "Carla"
    erro_valor, erro_mensagem = (e for e in eventos if e.tipo == "erro_provedor")
    assert erro_valor.dados["origem"] == "valor"
    assert erro_valor.dados["erros"][0]["code"] == 130429
    assert erro_mensagem.dados["origem"] == "mensagem"
    assert erro_mensagem.dados["erros"][0]["code"] == 131051
    falhou = next(e for e in eventos if e.status_mensagem == "falhou")
    assert falhou.id_agendamento == "ag-10"
    assert falhou.dados["erros"][0]["code"] == 131047


@pytest.mark.parametrize(
    ("mensagem", "texto"), [(c["mensagem"], c["texto"]) for c in CASOS["por_tipo"]]
)
def test_texto_de_cada_tipo(mensagem: dict[str, Any], texto: str | None) -> None:
    (evento,) = interpretar_webhook(
        _entrega(
            {
                "contacts": [{"profile": {"name": "Ana"}, "wa_id": "5511988887777"}],
                "messages": [
                    {
                        "from": "5511988887777",
                        "id": "wamid.X",
                        "timestamp": "1749416383",
                        **mensagem,
                    }
                ],
            }
        )
    )
    assert evento.tipo == "mensagem_recebida"
    assert evento.mensagem is not None
    assert evento.mensagem.texto == (texto or TEXTO_MIDIA)
    assert evento.dados == {"phone_number_id": PNID, "tipo": mensagem["type"]}
    if mensagem["type"] == "reaction":
        assert evento.mensagem.id_resposta_a == "wamid.NOSSA"


@pytest.mark.parametrize(
    ("mensagem", "motivo"), [(c["mensagem"], c["motivo"]) for c in CASOS["nao_respostas"]]
)
def test_mensagens_que_nao_sao_respostas(mensagem: dict[str, Any], motivo: str) -> None:
    item = {"from": "5511988887777", "id": "wamid.X", "timestamp": "1749416383", **mensagem}
    (evento,) = interpretar_webhook(_entrega({"messages": [item]}))
    assert evento.tipo == "ignorado"
    assert evento.dados["motivo"] == motivo
    if motivo == "sem_numero":  # a username hides the number (Meta's business-scoped user ids)
        assert evento.dados["user_id"] == "BR.1502576394655843"


@pytest.mark.parametrize(
    "valor",
    [
        {"statuses": [{"id": "wamid.1", "status": "sent", "biz_opaque_callback_data": 123}]},
        {"statuses": [{"id": "wamid.1", "status": "sent", "biz_opaque_callback_data": {"a": 1}}]},
        {"statuses": [{"id": "wamid.1", "status": "sent", "biz_opaque_callback_data": ""}]},
        {"statuses": [{"id": "wamid.1", "status": "sent", "errors": "boom", "timestamp": 17}]},
    ],
)
def test_callback_data_que_nao_e_texto_fica_ausente(valor: dict[str, Any]) -> None:
    (evento,) = interpretar_webhook(_entrega(valor))
    assert evento.tipo == "status_mensagem"
    assert evento.provider_message_id == "wamid.1"
    assert evento.id_agendamento is None
    assert evento.dados["erros"] == []


@pytest.mark.parametrize(
    "corpo", [c.get("corpo") or _entrega(c["valor"]) for c in CASOS["tipos_errados"]]
)
def test_tipos_errados_nunca_levantam(corpo: dict[str, Any]) -> None:
    eventos = interpretar_webhook(corpo)
    for evento in eventos:
        assert evento.tipo in ("status_mensagem", "mensagem_recebida", "ignorado", "erro_provedor")
        if evento.tipo == "erro_provedor":
            assert evento.dados["erros"]
        if evento.mensagem is not None:
            assert isinstance(evento.mensagem.texto, str)
            assert evento.mensagem.id_resposta_a is None
            assert evento.mensagem.nome_contato is None
            assert evento.mensagem.recebida_em is None
