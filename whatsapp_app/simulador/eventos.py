"""Evolution API v2 bodies the simulator sends: message records and webhook envelopes.

Shapes follow Evolution 2.3 (EvolutionAPI/evolution-api), which runs Baileys 7.0.0-rc.6:

- a message record is ``prepareMessage`` in
  ``src/api/integrations/channel/whatsapp/whatsapp.baileys.service.ts``: Baileys' key as is,
  ``pushName``, ``status`` (an incoming message has none, so Evolution writes ``DELIVERY_ACK``),
  ``message`` (an ``extendedTextMessage`` is rewritten as ``conversation``, its ``contextInfo``
  lifted to the top), ``messageType``, ``messageTimestamp`` (seconds), ``instanceId`` and
  ``source`` (Baileys' ``getDevice`` guess from the id's shape);
- Baileys' key (``decodeMessageNode`` in ``src/Utils/decode-wa-message.ts``) carries
  ``remoteJid``, ``remoteJidAlt`` (the other address of the contact: the LID of a
  phone-addressed chat, the phone JID of a LID-addressed one), ``fromMe``, ``id`` and
  ``addressingMode`` (``pn`` | ``lid``); JSON drops the undefined ``participant`` fields;
- the webhook envelope is ``WebhookController.emit``
  (``src/api/integrations/event/webhook/webhook.controller.ts``): ``event``, ``instance``,
  ``data``, ``destination``, ``date_time``, ``sender`` (the instance's own JID), ``server_url``,
  ``apikey``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from typing import Any

# The simulated phone behind every instance (what Evolution calls the instance's ``wuid``).
NUMERO_PROPRIO = "5511900000000"
SUFIXO_PN = "@s.whatsapp.net"
SUFIXO_LID = "@lid"
FORMATOS_ENDERECO = ("pn", "lid")


def jid(numero: str) -> str:
    return f"{numero}{SUFIXO_PN}"


def lid(numero: str) -> str:
    """A stable fake LID for a number: WhatsApp's LIDs are opaque ~15-digit ids, unrelated to
    the phone number, and the same contact always keeps the same one."""
    digitos = int(hashlib.sha256(numero.encode()).hexdigest()[:15], 16) % 10**15
    return f"{10**14 + digitos % (9 * 10**14)}{SUFIXO_LID}"


JID_PROPRIO = jid(NUMERO_PROPRIO)


def id_mensagem_web() -> str:
    """An id as Baileys generates for what it sends itself (``3EB0`` + 18 hex)."""
    return "3EB0" + secrets.token_hex(9).upper()


def id_mensagem_android() -> str:
    """An id as an Android phone generates (32 hex digits): what a contact's reply carries."""
    return secrets.token_hex(16).upper()


def dispositivo(id_mensagem: str) -> str:
    """Baileys' ``getDevice``: the sender's platform guessed from the id's shape."""
    if re.fullmatch(r"3A.{18}", id_mensagem):
        return "ios"
    if re.fullmatch(r"3E.{20}", id_mensagem):
        return "web"
    if re.fullmatch(r".{21}|.{32}", id_mensagem):
        return "android"
    if re.match(r"3F|.{18}$", id_mensagem):
        return "desktop"
    return "unknown"


def data_hora(momento: datetime | None = None) -> str:
    """``date_time`` as Evolution writes it: JavaScript's ``toISOString`` (milliseconds, Z)."""
    momento = (momento or datetime.now(UTC)).astimezone(UTC)
    return momento.strftime("%Y-%m-%dT%H:%M:%S.") + f"{momento.microsecond // 1000:03d}Z"


def registro_enviado(
    *, remote_jid: str, key_id: str, texto: str, carimbo: int, id_instancia: str, status: str
) -> dict[str, Any]:
    """The record of a message we sent: ``sendText``'s 201 body, ``send.message``'s data and a
    ``findMessages`` row."""
    return {
        "key": {"remoteJid": remote_jid, "fromMe": True, "id": key_id},
        "pushName": "Você",  # prepareMessage's default for fromMe
        "status": status,
        "message": {"conversation": texto},
        "contextInfo": None,
        "messageType": "conversation",
        "messageTimestamp": carimbo,
        "instanceId": id_instancia,
        "source": dispositivo(key_id),
    }


def registro_recebido(
    *,
    numero: str,
    key_id: str,
    texto: str,
    carimbo: int,
    id_instancia: str,
    nome_contato: str,
    formato: str = "pn",
    citada: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A contact's message as ``messages.upsert`` delivers it (``data``).

    ``formato="lid"``: the chat is LID-addressed, so ``remoteJid`` is the contact's LID and the
    phone JID comes in ``remoteJidAlt``. ``citada``: the inbox entry this message replies to
    (the phone sends an ``extendedTextMessage`` with ``contextInfo``; Evolution flattens it)."""
    telefone, opaco = jid(numero), lid(numero)
    remoto, alternativo = (opaco, telefone) if formato == "lid" else (telefone, opaco)
    registro: dict[str, Any] = {
        "key": {
            "remoteJid": remoto,
            "remoteJidAlt": alternativo,
            "fromMe": False,
            "id": key_id,
            "addressingMode": formato,
        },
        "pushName": nome_contato,
        "status": "DELIVERY_ACK",
        "message": {"conversation": texto},
    }
    if citada is not None:
        registro["contextInfo"] = {
            "stanzaId": citada["key_id"],
            "participant": lid(NUMERO_PROPRIO) if formato == "lid" else JID_PROPRIO,
            "quotedMessage": {"conversation": citada["text"]},
        }
    registro.update(
        {
            "messageType": "conversation",
            "messageTimestamp": carimbo,
            "instanceId": id_instancia,
            "source": dispositivo(key_id),
        }
    )
    return registro


def atualizacao_status(
    *, key_id: str, remote_jid: str, status: str, id_instancia: str
) -> dict[str, Any]:
    """``messages.update`` data for one of our messages (SERVER_ACK, DELIVERY_ACK, READ)."""
    return {
        "messageId": key_id,
        "keyId": key_id,
        "remoteJid": remote_jid,
        "fromMe": True,
        "participant": None,
        "status": status,
        "instanceId": id_instancia,
    }


def envelope(
    *,
    evento: str,
    instancia: str,
    dados: dict[str, Any],
    destino: str,
    url_servidor: str,
    api_key: str,
) -> dict[str, Any]:
    """The webhook body around ``dados``."""
    return {
        "event": evento,
        "instance": instancia,
        "data": dados,
        "destination": destino,
        "date_time": data_hora(),
        "sender": JID_PROPRIO,
        "server_url": url_servidor,
        "apikey": api_key,
    }
