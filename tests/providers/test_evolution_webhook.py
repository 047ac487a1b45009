"""Evolution webhook parsing (connection, statuses, inbound ``messages.upsert``) against payloads
shaped as Evolution sends them (tests/providers/payloads)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from whatsapp_app.providers.base import TEXTO_MIDIA, StatusConexao
from whatsapp_app.providers.evolution_webhook import interpretar_webhook

INST = "loja 1"
QR_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


# --- webhooks ----------------------------------------------------------------------------------


def test_interpretar_webhooks() -> None:
    conexao = interpretar_webhook(
        {"event": "connection.update", "instance": "i", "data": {"instance": "i", "state": "open"}}
    )
    assert conexao.tipo == "conexao"
    assert conexao.status_conexao == StatusConexao.CONECTADO

    qr = interpretar_webhook(
        {
            "event": "qrcode.updated",
            "instance": "i",
            "data": {"qrcode": {"base64": f"data:image/png;base64,{QR_PNG}", "pairingCode": "P1"}},
        }
    )
    assert qr.tipo == "qr"
    assert qr.dados["qr_base64"] == QR_PNG
    assert qr.dados["pairing_code"] == "P1"

    for status, esperado in [
        ("SERVER_ACK", "enviado"),
        ("DELIVERY_ACK", "entregue"),
        ("READ", "lido"),
        ("ERROR", "falhou"),
    ]:
        evento = interpretar_webhook(
            {"event": "messages.update", "data": {"keyId": "K1", "status": status}}
        )
        assert evento.tipo == "status_mensagem"
        assert evento.provider_message_id == "K1"
        assert evento.status_mensagem == esperado
        assert evento.id_agendamento is None

    enviado = interpretar_webhook(
        {"event": "SEND_MESSAGE", "data": {"key": {"id": "K2", "remoteJid": "x"}}}
    )
    assert (enviado.tipo, enviado.provider_message_id, enviado.status_mensagem) == (
        "status_mensagem",
        "K2",
        "enviado",
    )
    assert interpretar_webhook({"event": "messages.upsert", "data": {}}).tipo == "ignorado"
    assert interpretar_webhook("lixo").tipo == "ignorado"
    assert (
        interpretar_webhook({"event": "connection.update", "data": {"state": "?"}}).tipo
        == "ignorado"
    )


# --- inbound messages (messages.upsert) --------------------------------------------------------
# Shaped as evolution-api (3454bec7) emits them: whatsapp.baileys.service.ts 'messages.upsert'
# sends prepareMessage(received) inside the webhook.controller.ts envelope.

PAYLOADS = Path(__file__).parent / "payloads"
CASOS = json.loads((PAYLOADS / "evolution_casos.json").read_text())


def _upsert(
    *,
    remote_jid: object = None,
    from_me: object = False,
    id_: object = None,
    message: object = None,
    evento: str = "messages.upsert",
    chave_extra: dict[str, Any] | None = None,
    **dados: Any,
) -> dict[str, Any]:
    """The fixture delivery (a contact's text), with the given parts replaced."""
    corpo: dict[str, Any] = json.loads(
        (PAYLOADS / "evolution_messages_upsert_texto.json").read_text()
    )
    chave = corpo["data"]["key"]
    chave.update({"fromMe": from_me, **(chave_extra or {})})
    chave.update({k: v for k, v in (("remoteJid", remote_jid), ("id", id_)) if v is not None})
    corpo["data"].update({"message": message} if message is not None else {}, **dados)
    corpo["event"] = evento
    return corpo


def test_upsert_de_texto_vira_mensagem_recebida() -> None:
    evento = interpretar_webhook(_upsert())
    assert evento.tipo == "mensagem_recebida"
    assert evento.provider_message_id == "3EB0A1B2C3D4E5F60718"
    assert evento.id_agendamento is None
    m = evento.mensagem
    assert m is not None
    assert m.provider_message_id == "3EB0A1B2C3D4E5F60718"
    assert m.telefone == "5511988887777"
    assert m.texto == "Tenho interesse, sim"
    assert m.recebida_em == datetime(2025, 12, 1, 11, 55, 23, tzinfo=UTC)
    assert m.nome_contato == "Ana Souza"
    assert m.id_resposta_a is None
    assert evento.dados["instance"] == INST
    assert evento.dados["remote_jid"] == "5511988887777@s.whatsapp.net"


def test_evento_em_maiusculas_tambem_vale() -> None:
    evento = interpretar_webhook(_upsert(evento="MESSAGES_UPSERT"))
    assert evento.tipo == "mensagem_recebida"


@pytest.mark.parametrize(
    ("remote_jid", "chave"),
    [
        ("5511988887777:24@s.whatsapp.net", {}),  # device suffix
        ("5511988887777@c.us", {}),
        ("123456789012345@lid", {"remoteJidAlt": "+5511988887777@s.whatsapp.net"}),
        ("123456789012345@lid", {"senderPn": "5511988887777@s.whatsapp.net"}),  # older builds
    ],
)
def test_telefone_do_remetente(remote_jid: str, chave: dict[str, str]) -> None:
    evento = interpretar_webhook(_upsert(remote_jid=remote_jid, chave_extra=chave))
    assert evento.mensagem is not None
    assert evento.mensagem.telefone == "5511988887777"


def test_lid_com_remote_jid_alt_do_arquivo() -> None:
    corpo = json.loads((PAYLOADS / "evolution_messages_upsert_lid.json").read_text())
    evento = interpretar_webhook(corpo)
    assert evento.tipo == "mensagem_recebida"
    m = evento.mensagem
    assert m is not None
    assert m.telefone == "5511988887777"
    assert m.texto == "Pode me ligar amanhã?"
    assert m.id_resposta_a == "BAE5F1D2C3B4A596"  # data-level contextInfo (prepareMessage)
    assert evento.dados["lid"] == "123456789012345@lid"


@pytest.mark.parametrize("alt", [None, "", "987654321098765@lid", 5511988887777, ["x"]])
def test_lid_sem_numero_e_ignorado(alt: object) -> None:
    chave = {} if alt is None else {"remoteJidAlt": alt, "addressingMode": "lid"}
    evento = interpretar_webhook(_upsert(remote_jid="123456789012345@lid", chave_extra=chave))
    assert evento.tipo == "ignorado"
    assert evento.dados["motivo"] == "sem_numero"
    assert evento.mensagem is None


@pytest.mark.parametrize(
    ("remote_jid", "motivo"),
    [
        ("120363025246125486@g.us", "grupo"),
        ("status@broadcast", "status_broadcast"),
        ("120363213456789012@newsletter", "newsletter"),
        ("1764590000123@broadcast", "lista_transmissao"),
    ],
)
def test_conversas_que_nao_sao_respostas(remote_jid: str, motivo: str) -> None:
    evento = interpretar_webhook(
        _upsert(remote_jid=remote_jid, chave_extra={"participant": "5511988887777@s.whatsapp.net"})
    )
    assert evento.tipo == "ignorado"
    assert evento.dados["motivo"] == motivo
    assert evento.mensagem is None


@pytest.mark.parametrize("from_me", [True, None, "false", 0])
def test_mensagem_propria_ou_sem_from_me_e_ignorada(from_me: object) -> None:
    evento = interpretar_webhook(_upsert(from_me=from_me, pushName="Você"))
    assert evento.tipo == "ignorado"
    assert evento.dados["motivo"] == "mensagem_propria"


def test_extended_text_message_com_citacao_no_formato_do_baileys() -> None:
    # Builds that do not run prepareMessage's rewrite send the raw Baileys content.
    evento = interpretar_webhook(_upsert(message=CASOS["citacao_baileys"]))
    assert evento.mensagem is not None
    assert evento.mensagem.texto == "Quero sim! https://loja.example/plano"
    assert evento.mensagem.id_resposta_a == "BAE5ORIGINAL0001"


@pytest.mark.parametrize(
    ("message", "texto"), [(c["message"], c["texto"]) for c in CASOS["midias"]]
)
def test_midia_vira_marcador_ou_legenda(message: dict[str, Any], texto: str | None) -> None:
    evento = interpretar_webhook(
        _upsert(message={**message, "messageContextInfo": {}}, messageType="imageMessage")
    )
    assert evento.tipo == "mensagem_recebida"
    assert evento.mensagem is not None
    assert evento.mensagem.texto == (texto or TEXTO_MIDIA)


def test_reacao_responde_a_mensagem_e_reacao_removida_e_ignorada() -> None:
    reacao = interpretar_webhook(
        _upsert(message={"reactionMessage": {"key": {"id": "BAE5NOSSA"}, "text": "👍"}})
    )
    assert reacao.mensagem is not None
    assert (reacao.mensagem.texto, reacao.mensagem.id_resposta_a) == ("👍", "BAE5NOSSA")
    removida = interpretar_webhook(
        _upsert(message={"reactionMessage": {"key": {"id": "BAE5NOSSA"}, "text": ""}})
    )
    assert removida.tipo == "ignorado"


@pytest.mark.parametrize(
    ("carimbo", "segundos"), [(c["valor"], c["segundos"]) for c in CASOS["carimbos"]]
)
def test_formas_do_carimbo(carimbo: object, segundos: int | None) -> None:
    evento = interpretar_webhook(_upsert(messageTimestamp=carimbo))
    assert evento.mensagem is not None
    esperado = None if segundos is None else datetime.fromtimestamp(segundos, tz=UTC)
    assert evento.mensagem.recebida_em == esperado


@pytest.mark.parametrize(
    "corpo", [c.get("corpo") or _upsert(**c["upsert"]) for c in CASOS["malformados"]]
)
def test_tipos_inesperados_nunca_levantam(corpo: dict[str, Any]) -> None:
    evento = interpretar_webhook(corpo)
    assert evento.tipo in ("ignorado", "mensagem_recebida")
    if evento.mensagem is not None:  # content that is not text is recorded as "[mídia]"
        assert evento.mensagem.texto == TEXTO_MIDIA


def test_numero_onde_se_espera_texto_vira_ausente() -> None:
    evento = interpretar_webhook(
        _upsert(message={"conversation": 42}, pushName=7, contextInfo={"stanzaId": 99})
    )
    assert evento.mensagem is not None
    assert evento.mensagem.texto == TEXTO_MIDIA
    assert evento.mensagem.nome_contato is None
    assert evento.mensagem.id_resposta_a is None


# --- connection facts ----------------------------------------------------------------------------


def test_limite_de_qr_code_desconecta() -> None:
    # connectionUpdate: once instance.qrcode.count reaches QRCODE.LIMIT Evolution sends the
    # QR-less notice, then connection.update with state "refused", and ends the session.
    limite, recusada = map(
        interpretar_webhook, json.loads((PAYLOADS / "evolution_qr_limite.json").read_text())
    )
    assert limite.tipo == "conexao"
    assert limite.status_conexao == StatusConexao.DESCONECTADO
    assert limite.dados["motivo"] == "QR code limit reached, please login again"
    assert recusada.tipo == "conexao"
    assert recusada.status_conexao == StatusConexao.DESCONECTADO
    # A real QR is still "qr"/conectando.
    qr = interpretar_webhook(
        {
            "event": "QRCODE_UPDATED",
            "instance": INST,
            "data": {
                "qrcode": {"instance": INST, "pairingCode": None, "code": "2@x", "base64": QR_PNG}
            },
        }
    )
    assert (qr.tipo, qr.status_conexao, qr.dados["qr_base64"]) == (
        "qr",
        StatusConexao.CONECTANDO,
        QR_PNG,
    )
    assert qr.dados["pairing_code"] is None
