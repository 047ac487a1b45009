"""Meta WhatsApp Cloud API webhook deliveries: the signature, the GET handshake and the
normalisation into ``base.EventoWebhook`` (contract.md sections 5 and 7).

Kept apart from ``cloud_api`` (the HTTP adapter), as ``evolution_webhook`` is from
``evolution``; ``cloud_api`` re-exports ``interpretar_webhook``, ``verificar_assinatura`` and
``responder_verificacao`` (its adapter's methods call the last two), so callers import them
from there.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from whatsapp_app.providers.base import TEXTO_MIDIA, EventoWebhook, MensagemRecebida
from whatsapp_app.providers.comum import como_lista, como_mapa, digitos, texto_nao_vazio

CABECALHO_ASSINATURA = "X-Hub-Signature-256"

_STATUS_MENSAGEM = {
    "sent": "enviado",
    "delivered": "entregue",
    "read": "lido",
    "failed": "falhou",
}


def verificar_assinatura(corpo_bruto: bytes, cabecalho: str | None, app_secret: str) -> bool:
    """``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(raw body, app secret)>``, compared in
    constant time. Missing header, missing secret or a malformed value → False."""
    if not cabecalho or not app_secret:
        return False
    prefixo, _, recebido = cabecalho.strip().partition("=")
    if prefixo.lower() != "sha256" or not recebido:
        return False
    esperado = hmac.new(app_secret.encode(), corpo_bruto, hashlib.sha256).hexdigest()
    return hmac.compare_digest(esperado.encode(), recebido.strip().lower().encode())


def responder_verificacao(
    mode: str | None, token: str | None, challenge: str | None, verify_token: str
) -> str | None:
    """Meta's GET handshake: the challenge to echo (200), or None (answer 403)."""
    if mode != "subscribe" or not token or not verify_token or challenge is None:
        return None
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return challenge


def _erros(valor: Any) -> list[dict[str, Any]]:
    """Meta's error objects (``code``, ``title``, ``message``, ``error_data.details``), copied;
    anything that is not an object is dropped."""
    return [dict(e) for e in como_lista(valor) if isinstance(e, Mapping)]


def _instante(valor: Any) -> datetime | None:
    """Meta's ``timestamp``: Unix seconds as a string (an int is tolerated)."""
    if isinstance(valor, bool):
        return None
    if isinstance(valor, str) and valor.strip().isdigit():
        valor = int(valor.strip())
    if not isinstance(valor, int) or valor <= 0:
        return None
    try:
        return datetime.fromtimestamp(valor, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


# Inbound types that are not the contact writing to us: a number change or identity notice,
# and the "user opened the chat" welcome request.
_TIPOS_SISTEMA = {"system", "request_welcome"}
# Inbound types Meta cannot render; the contact did write, so it still counts as a reply.
_TIPOS_NAO_SUPORTADOS = {"unsupported", "unknown"}


def _texto_mensagem(tipo: str | None, mensagem: Mapping[str, Any]) -> str:
    """The words of an inbound message: text body, quick-reply button label, interactive reply
    title or media caption; TEXTO_MIDIA when there are none."""
    if tipo == "text":
        return texto_nao_vazio(como_mapa(mensagem.get("text")).get("body")) or TEXTO_MIDIA
    if tipo == "button":
        return texto_nao_vazio(como_mapa(mensagem.get("button")).get("text")) or TEXTO_MIDIA
    if tipo == "interactive":
        interativo = como_mapa(mensagem.get("interactive"))
        for chave in ("button_reply", "list_reply"):
            titulo = texto_nao_vazio(como_mapa(interativo.get(chave)).get("title"))
            if titulo:
                return titulo
        return TEXTO_MIDIA
    if tipo in ("image", "video", "document"):
        return texto_nao_vazio(como_mapa(mensagem.get(tipo)).get("caption")) or TEXTO_MIDIA
    return TEXTO_MIDIA


def _evento_mensagem(
    mensagem: Mapping[str, Any], nomes: Mapping[str, str], phone_number_id: str | None
) -> EventoWebhook:
    """One ``value.messages[]`` item → ``mensagem_recebida``, or ``ignorado`` with a reason."""
    base: dict[str, Any] = {"phone_number_id": phone_number_id}
    id_mensagem = texto_nao_vazio(mensagem.get("id"))
    tipo = mensagem.get("type") if isinstance(mensagem.get("type"), str) else None
    de = texto_nao_vazio(mensagem.get("from"))
    telefone = digitos(de) if de else ""
    if id_mensagem is None:
        return EventoWebhook(tipo="ignorado", dados={**base, "motivo": "formato_invalido"})
    if texto_nao_vazio(mensagem.get("group_id")):
        return EventoWebhook(tipo="ignorado", dados={**base, "motivo": "grupo"})
    if tipo in _TIPOS_SISTEMA:
        return EventoWebhook(
            tipo="ignorado",
            dados={
                **base,
                "motivo": "sistema",
                "tipo_sistema": texto_nao_vazio(como_mapa(mensagem.get("system")).get("type")),
            },
        )
    if not 8 <= len(telefone) <= 15:
        # Usernames (2026) may withhold the number, leaving only a business-scoped user id:
        # such a contact cannot be matched to a lead by phone.
        return EventoWebhook(
            tipo="ignorado",
            dados={
                **base,
                "motivo": "sem_numero",
                "user_id": texto_nao_vazio(mensagem.get("from_user_id")),
            },
        )
    id_resposta = texto_nao_vazio(como_mapa(mensagem.get("context")).get("id"))
    if tipo == "reaction":
        # A reaction answers the message it points at; an empty emoji removes a reaction.
        reacao = como_mapa(mensagem.get("reaction"))
        emoji = texto_nao_vazio(reacao.get("emoji"))
        if emoji is None:
            return EventoWebhook(tipo="ignorado", dados={**base, "motivo": "reacao_removida"})
        texto, id_resposta = emoji, texto_nao_vazio(reacao.get("message_id")) or id_resposta
    else:
        texto = _texto_mensagem(tipo, mensagem)
    return EventoWebhook.recebida(
        MensagemRecebida(
            provider_message_id=id_mensagem,
            telefone=telefone,
            texto=texto,
            recebida_em=_instante(mensagem.get("timestamp")),
            id_resposta_a=id_resposta,
            nome_contato=nomes.get(de or ""),
        ),
        dados={**base, "tipo": tipo},
    )


def _evento_status(status: Mapping[str, Any], phone_number_id: str | None) -> EventoWebhook | None:
    bruto = status.get("status")
    traduzido = _STATUS_MENSAGEM.get(bruto) if isinstance(bruto, str) else None
    id_mensagem = texto_nao_vazio(status.get("id"))
    if traduzido is None or id_mensagem is None:
        return None
    return EventoWebhook(
        tipo="status_mensagem",
        provider_message_id=id_mensagem,
        # Only a string is our job id: a number or object there was not put by us.
        id_agendamento=texto_nao_vazio(status.get("biz_opaque_callback_data")),
        status_mensagem=traduzido,
        dados={
            "phone_number_id": phone_number_id,
            "recipient_id": texto_nao_vazio(status.get("recipient_id")),
            "timestamp": texto_nao_vazio(status.get("timestamp")),
            "erros": _erros(status.get("errors")),
        },
    )


def interpretar_webhook(corpo: Any) -> list[EventoWebhook]:
    """Every event of one Cloud API delivery, in order, for all ``entry[].changes[]`` whose
    ``field`` is "messages".

    Shapes: Meta's "messages webhook reference" (developers.facebook.com/documentation/
    business-messaging/whatsapp/webhooks/reference/messages, and its pages for text, button,
    unsupported, errors and group messages) and "Business-scoped user IDs" (usernames).

    - ``value.statuses[]`` → ``status_mensagem`` (sent/delivered/read/failed →
      enviado/entregue/lido/falhou; ``id_agendamento`` = the echoed
      ``biz_opaque_callback_data`` when it is a string; ``dados["erros"]`` the status errors);
    - ``value.messages[]`` → ``mensagem_recebida`` with ``mensagem`` (sender ``from``, text,
      ``timestamp``, ``context.id``, the profile name from ``value.contacts[]``), and
      ``dados={"phone_number_id", "tipo"}``. ``system``/``request_welcome`` items, group
      messages, removed reactions and items without a phone number → ``ignorado`` with
      ``dados["motivo"]``. ``unsupported`` items are still a reply ("[mídia]"): the contact
      wrote, Meta just cannot show what;
    - ``value.errors[]`` and a message's own ``errors[]`` → ``erro_provedor`` with
      ``dados={"phone_number_id", "erros": [...], "origem": "valor"|"mensagem"}`` (and the
      message id for the latter), for the caller to log and count.

    Wrong types anywhere (a number for a string, a list for an object) skip that piece; this
    never raises.
    """
    eventos: list[EventoWebhook] = []
    if not isinstance(corpo, Mapping):
        return eventos
    for entrada in como_lista(corpo.get("entry")):
        for mudanca in como_lista(como_mapa(entrada).get("changes")):
            mudanca = como_mapa(mudanca)
            valor = mudanca.get("value")
            if mudanca.get("field") != "messages" or not isinstance(valor, Mapping):
                continue
            phone_number_id = texto_nao_vazio(
                como_mapa(valor.get("metadata")).get("phone_number_id")
            )
            for status in como_lista(valor.get("statuses")):
                if isinstance(status, Mapping):
                    evento = _evento_status(status, phone_number_id)
                    if evento is not None:
                        eventos.append(evento)
            nomes: dict[str, str] = {}
            for contato in como_lista(valor.get("contacts")):
                wa_id = texto_nao_vazio(como_mapa(contato).get("wa_id"))
                nome = texto_nao_vazio(como_mapa(como_mapa(contato).get("profile")).get("name"))
                if wa_id and nome:
                    nomes[wa_id] = nome.strip()
            for mensagem in como_lista(valor.get("messages")):
                if not isinstance(mensagem, Mapping):
                    eventos.append(
                        EventoWebhook(
                            tipo="ignorado",
                            dados={
                                "phone_number_id": phone_number_id,
                                "motivo": "formato_invalido",
                            },
                        )
                    )
                    continue
                eventos.append(_evento_mensagem(mensagem, nomes, phone_number_id))
                erros_mensagem = _erros(mensagem.get("errors"))
                if erros_mensagem:
                    eventos.append(
                        EventoWebhook(
                            tipo="erro_provedor",
                            provider_message_id=texto_nao_vazio(mensagem.get("id")),
                            dados={
                                "phone_number_id": phone_number_id,
                                "erros": erros_mensagem,
                                "origem": "mensagem",
                            },
                        )
                    )
            erros_valor = _erros(valor.get("errors"))
            if erros_valor:
                eventos.append(
                    EventoWebhook(
                        tipo="erro_provedor",
                        dados={
                            "phone_number_id": phone_number_id,
                            "erros": erros_valor,
                            "origem": "valor",
                        },
                    )
                )
    return eventos
