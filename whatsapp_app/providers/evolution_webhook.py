"""Evolution API v2 webhook deliveries, normalised into ``base.EventoWebhook`` (contract §5, §7).

Kept apart from ``evolution`` (the HTTP adapter) so each file stays readable; ``evolution``
re-exports ``interpretar_webhook``, so callers import it from there as before.

Where the shapes come from (EvolutionAPI/evolution-api, commit 3454bec7, 2025-10-21):

- the envelope ``{"event", "instance", "data", "destination", "date_time", "sender",
  "server_url", "apikey"}`` with ``event`` in dotted lower case ("messages.upsert"):
  ``src/api/integrations/event/webhook/webhook.controller.ts`` (``emit``, ``webhookData``);
  the subscription list uses the upper-case form ("MESSAGES_UPSERT"), so both are accepted;
- ``messages.upsert``: ``src/api/integrations/channel/whatsapp/whatsapp.baileys.service.ts``,
  handler ``'messages.upsert'`` (l. 1055), which emits ``prepareMessage(received)`` (l. 1186,
  sent at l. 1353). ``prepareMessage`` (l. 4486) keeps ``key`` exactly as Baileys gave it
  (``remoteJid``, ``fromMe``, ``id``, and for LID-addressed chats ``addressingMode: "lid"`` with
  the phone JID in ``remoteJidAlt``, l. 156 and l. 1386), adds ``pushName``, ``messageType``,
  ``messageTimestamp`` (a Long turned into a number) and a top-level ``contextInfo`` (the content
  message's one), and rewrites ``extendedTextMessage`` into ``message.conversation``. Status
  broadcasts are emitted too (the ``status@broadcast`` skip at l. 1378 comes after the emit).
  Builds from July to October 2025 swapped an ``@lid`` ``remoteJid`` for ``key.senderPn``
  (commits 630f5c56, 486645fb) and older ones may carry ``senderPn`` unswapped, hence the
  fallback to it;
- QR limit: ``connectionUpdate`` (l. 309-331) sends ``qrcode.updated`` with
  ``{"message": "QR code limit reached, please login again", "statusCode": 500}`` (no QR) and
  then ``connection.update`` with ``state: "refused"``.

Nothing here raises on a malformed delivery: whatever does not have the expected shape becomes
``tipo="ignorado"`` with a ``motivo`` in ``dados``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from whatsapp_app.providers.base import (
    TEXTO_MIDIA,
    EventoWebhook,
    MensagemRecebida,
    StatusConexao,
)
from whatsapp_app.providers.comum import como_mapa, texto_nao_vazio

_STATUS_ESTADO = {
    "open": StatusConexao.CONECTADO,
    "connecting": StatusConexao.CONECTANDO,
    "close": StatusConexao.DESCONECTADO,
    "closed": StatusConexao.DESCONECTADO,
    # Sent right after the QR code limit is reached: the session was ended, pairing stopped.
    "refused": StatusConexao.DESCONECTADO,
}

_STATUS_MENSAGEM = {
    "PENDING": "enviado",
    "SERVER_ACK": "enviado",
    "DELIVERY_ACK": "entregue",
    "READ": "lido",
    "PLAYED": "lido",
    "ERROR": "falhou",
}

_PREFIXO_DATA_URL = re.compile(r"^data:[^;,]+;base64,")

# JID servers of a person's 1:1 chat ("c.us" is the older spelling some builds still use).
_SERVIDORES_PESSOA = ("s.whatsapp.net", "c.us")
# Chats that are never a contact answering us, by JID server.
_SERVIDORES_IGNORADOS = {
    "g.us": "grupo",
    "newsletter": "newsletter",
    "broadcast": "lista_transmissao",  # status@broadcast is told apart below
}

# Wrappers around the real content (disappearing and view-once messages, captioned documents).
_ENVELOPES = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
)
# Keys of ``message`` that are metadata or Evolution's additions, never the content itself.
_CHAVES_NAO_CONTEUDO = {
    "messageContextInfo",
    "senderKeyDistributionMessage",
    "base64",
    "mediaUrl",
    "speechToText",
}
# Content types Evolution drops before emitting; if one shows up anyway it is not a reply.
_TIPOS_PROTOCOLO = {"protocolMessage", "pollUpdateMessage", "editedMessage"}
_TIPOS_COM_LEGENDA = ("imageMessage", "videoMessage", "documentMessage")


def _sem_prefixo_data(base64: Any) -> str | None:
    if not isinstance(base64, str) or not base64:
        return None
    return _PREFIXO_DATA_URL.sub("", base64)


def numero_do_jid(jid: Any) -> str | None:
    """The digits of a person's JID: ``5511988887777:24@s.whatsapp.net`` → ``5511988887777``.

    The device suffix (``:24``) and an agent suffix (``_1``) are dropped; a leading ``+`` (seen
    in some ``remoteJidAlt`` values) is tolerated. Anything that is not a phone JID → None.
    """
    if not isinstance(jid, str):
        return None
    usuario, arroba, servidor = jid.strip().partition("@")
    if arroba and servidor not in _SERVIDORES_PESSOA:
        return None
    usuario = usuario.split(":", 1)[0].split("_", 1)[0].removeprefix("+")
    if not usuario.isdigit() or not 8 <= len(usuario) <= 15:
        return None
    return usuario


def instante_de_carimbo(valor: Any) -> datetime | None:
    """``messageTimestamp`` (seconds) as UTC: an int, a digit string, or a serialised protobuf
    Long ``{"low", "high", "unsigned"}``. Anything else, or out of range → None."""
    segundos: int | None = None
    if isinstance(valor, bool):
        return None
    if isinstance(valor, int):
        segundos = valor
    elif isinstance(valor, float) and valor == valor:  # not NaN
        segundos = int(valor)
    elif isinstance(valor, str) and valor.strip().isdigit():
        segundos = int(valor.strip())
    elif isinstance(valor, Mapping):
        baixo, alto = valor.get("low"), valor.get("high")
        if (
            isinstance(baixo, int)
            and isinstance(alto, int)
            and not isinstance(baixo, bool)
            and not isinstance(alto, bool)
        ):
            segundos = (alto << 32) | (baixo & 0xFFFFFFFF)
    if segundos is None or segundos <= 0:
        return None
    try:
        return datetime.fromtimestamp(segundos, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _conteudo(mensagem: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    """(content type, content) of a Baileys ``message``, unwrapping envelopes a few levels."""
    for _ in range(4):
        tipos = [k for k in mensagem if k not in _CHAVES_NAO_CONTEUDO]
        envelope = next((k for k in tipos if k in _ENVELOPES), None)
        interno = como_mapa(como_mapa(mensagem.get(envelope)).get("message")) if envelope else {}
        if not interno:
            break
        mensagem = interno
    tipos = [k for k in mensagem if k not in _CHAVES_NAO_CONTEUDO]
    if texto_nao_vazio(mensagem.get("conversation")):  # Evolution may leave other keys next to it
        return "conversation", mensagem
    outros = [k for k in tipos if k != "conversation"]
    if outros:
        return outros[0], mensagem
    return (tipos[0] if tipos else None), mensagem


def _texto_e_resposta(tipo: str, mensagem: Mapping[str, Any]) -> tuple[str, str | None]:
    """The text to record and the id of the message quoted inside the content, if any."""
    conteudo = como_mapa(mensagem.get(tipo))
    resposta = texto_nao_vazio(como_mapa(conteudo.get("contextInfo")).get("stanzaId"))
    if tipo == "conversation":
        return texto_nao_vazio(mensagem.get("conversation")) or TEXTO_MIDIA, None
    if tipo == "extendedTextMessage":
        return texto_nao_vazio(conteudo.get("text")) or TEXTO_MIDIA, resposta
    if tipo in _TIPOS_COM_LEGENDA:
        return texto_nao_vazio(conteudo.get("caption")) or TEXTO_MIDIA, resposta
    # Taps on buttons and list rows are answers in words the contact chose.
    escolha = (
        texto_nao_vazio(conteudo.get("selectedDisplayText"))
        or texto_nao_vazio(conteudo.get("title"))
        or texto_nao_vazio(como_mapa(conteudo.get("singleSelectReply")).get("title"))
    )
    if tipo in {"buttonsResponseMessage", "templateButtonReplyMessage", "listResponseMessage"}:
        return escolha or TEXTO_MIDIA, resposta
    return TEXTO_MIDIA, resposta


def _ignorado(base: Mapping[str, Any], motivo: str, **extra: Any) -> EventoWebhook:
    return EventoWebhook(tipo="ignorado", dados={**base, "motivo": motivo, **extra})


def _mensagem_recebida(dados: Mapping[str, Any], base: Mapping[str, Any]) -> EventoWebhook:
    """``messages.upsert``: a contact's message to us, or ``ignorado`` with the reason."""
    chave = dados.get("key")
    if not isinstance(chave, Mapping):
        return _ignorado(base, "sem_chave")
    if chave.get("fromMe") is not False:
        # Ours (sent from the API or the phone), or a payload that does not say: not a reply.
        return _ignorado(base, "mensagem_propria")
    id_mensagem = texto_nao_vazio(chave.get("id"))
    jid = texto_nao_vazio(chave.get("remoteJid"))
    if id_mensagem is None or jid is None:
        return _ignorado(base, "formato_invalido")
    jid = jid.strip()
    servidor = jid.rpartition("@")[2]
    if jid == "status@broadcast":
        return _ignorado(base, "status_broadcast")
    if servidor in _SERVIDORES_IGNORADOS:
        return _ignorado(base, _SERVIDORES_IGNORADOS[servidor])
    lid = None
    if servidor in ("lid", "hosted.lid"):
        # A LID hides the number; Evolution passes the phone JID alongside it.
        lid = jid
        telefone = numero_do_jid(chave.get("remoteJidAlt")) or numero_do_jid(chave.get("senderPn"))
    else:
        telefone = numero_do_jid(jid)
    if telefone is None:
        return _ignorado(base, "sem_numero" if lid else "jid_desconhecido", remote_jid=jid[:100])

    mensagem = dados.get("message")
    if not isinstance(mensagem, Mapping):
        return _ignorado(base, "sem_conteudo")
    tipo, conteudo = _conteudo(mensagem)
    if tipo is None or tipo in _TIPOS_PROTOCOLO:
        return _ignorado(base, "sem_conteudo")
    contexto = texto_nao_vazio(como_mapa(dados.get("contextInfo")).get("stanzaId"))
    if tipo == "reactionMessage":
        # A reaction to one of our messages answers it; an empty one removes a reaction.
        reacao = como_mapa(conteudo.get("reactionMessage"))
        emoji = texto_nao_vazio(reacao.get("text"))
        if emoji is None:
            return _ignorado(base, "reacao_removida")
        texto, resposta = emoji, texto_nao_vazio(como_mapa(reacao.get("key")).get("id"))
    else:
        texto, resposta = _texto_e_resposta(tipo, conteudo)
    nome = texto_nao_vazio(dados.get("pushName"))
    tipo_evolution = texto_nao_vazio(dados.get("messageType"))
    return EventoWebhook.recebida(
        MensagemRecebida(
            provider_message_id=id_mensagem,
            telefone=telefone,
            texto=texto,
            recebida_em=instante_de_carimbo(dados.get("messageTimestamp")),
            id_resposta_a=contexto or resposta,
            nome_contato=nome.strip() if nome else None,
        ),
        dados={
            **base,
            "remote_jid": jid,
            "lid": lid,
            "message_type": tipo_evolution or tipo,
        },
    )


def _qr(dados: Mapping[str, Any], base: Mapping[str, Any]) -> EventoWebhook:
    qr = dados.get("qrcode")
    if not isinstance(qr, Mapping) and ("statusCode" in dados or "message" in dados):
        # "QR code limit reached, please login again": Evolution ended the session and will
        # not show another QR until someone asks to connect again.
        motivo = dados.get("message")
        return EventoWebhook(
            tipo="conexao",
            status_conexao=StatusConexao.DESCONECTADO,
            dados={
                **base,
                "motivo": motivo[:200] if isinstance(motivo, str) else None,
                "status_code": dados.get("statusCode"),
            },
        )
    qr = qr if isinstance(qr, Mapping) else dados
    pairing = texto_nao_vazio(qr.get("pairingCode"))
    return EventoWebhook(
        tipo="qr",
        status_conexao=StatusConexao.CONECTANDO,
        dados={**base, "qr_base64": _sem_prefixo_data(qr.get("base64")), "pairing_code": pairing},
    )


def interpretar_webhook(corpo: Any) -> EventoWebhook:
    """Normalise one Evolution webhook delivery into an ``EventoWebhook``.

    - ``connection.update`` → ``conexao`` (open conectado, connecting conectando, close/refused
      desconectado);
    - ``qrcode.updated`` → ``qr`` (``dados["qr_base64"]``, ``dados["pairing_code"]``), or
      ``conexao`` desconectado when it is the "QR code limit reached" notice;
    - ``messages.update`` → ``status_mensagem`` (SERVER_ACK enviado, DELIVERY_ACK entregue,
      READ/PLAYED lido, ERROR falhou); ``send.message`` → ``status_mensagem`` enviado;
    - ``messages.upsert`` from a contact → ``mensagem_recebida`` with ``mensagem`` filled;
      our own messages, groups, status broadcasts, newsletters and broadcast lists → ignorado;
    - anything else → ``ignorado``. Evolution does not echo our job id: ``id_agendamento`` is
      always None.
    """
    if not isinstance(corpo, Mapping):
        return EventoWebhook(tipo="ignorado", dados={"motivo": "formato_invalido"})
    evento_bruto = corpo.get("event")
    evento = evento_bruto.lower().replace("_", ".") if isinstance(evento_bruto, str) else ""
    dados: Any = corpo.get("data")
    if isinstance(dados, list):
        dados = dados[0] if dados else {}
    if not isinstance(dados, Mapping):
        dados = {}
    instancia = corpo.get("instance")
    base = {"instance": instancia if isinstance(instancia, str) else None, "event": evento}

    if evento == "connection.update":
        estado = dados.get("state")
        status = _STATUS_ESTADO.get(estado) if isinstance(estado, str) else None
        if status is None:
            return EventoWebhook(tipo="ignorado", dados=base)
        return EventoWebhook(
            tipo="conexao",
            status_conexao=status,
            dados={**base, "state": estado, "status_reason": dados.get("statusReason")},
        )
    if evento == "qrcode.updated":
        return _qr(dados, base)
    if evento == "messages.upsert":
        return _mensagem_recebida(dados, base)
    if evento == "messages.update":
        chave = como_mapa(dados.get("key"))
        id_mensagem = texto_nao_vazio(dados.get("keyId")) or texto_nao_vazio(chave.get("id"))
        status_bruto = dados.get("status")
        status_bruto = status_bruto.upper() if isinstance(status_bruto, str) else ""
        status_mensagem = _STATUS_MENSAGEM.get(status_bruto)
        if not id_mensagem or status_mensagem is None:
            return EventoWebhook(tipo="ignorado", dados=base)
        return EventoWebhook(
            tipo="status_mensagem",
            provider_message_id=id_mensagem,
            status_mensagem=status_mensagem,
            dados={
                **base,
                "status": status_bruto,
                "remote_jid": texto_nao_vazio(dados.get("remoteJid")),
            },
        )
    if evento == "send.message":
        chave = como_mapa(dados.get("key"))
        id_mensagem = texto_nao_vazio(chave.get("id"))
        if not id_mensagem:
            return EventoWebhook(tipo="ignorado", dados=base)
        return EventoWebhook(
            tipo="status_mensagem",
            provider_message_id=id_mensagem,
            status_mensagem="enviado",
            dados={**base, "remote_jid": texto_nao_vazio(chave.get("remoteJid"))},
        )
    return EventoWebhook(tipo="ignorado", dados=base)
