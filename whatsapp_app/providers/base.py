"""The one small interface every WhatsApp provider adapter implements.

The dispatcher relies on ``ResultadoEnvio.desfecho``: every provider outcome is classified as
accepted, retryable, permanent or unknown. Adapters never retry a send by themselves: a retry
decision belongs to the dispatcher, which knows the job's attempts and idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class Desfecho(StrEnum):
    ACEITO = "aceito"  # the provider took the message (→ ENVIADO)
    RETENTAVEL = "retentavel"  # nothing was sent; try again later (429, 5xx, refused connection)
    PERMANENTE = "permanente"  # will not work until someone fixes something (→ ERRO)
    DESCONHECIDO = "desconhecido"  # the request went out and no answer came back (→ INCERTO)


@dataclass(frozen=True)
class ResultadoEnvio:
    desfecho: Desfecho
    provider_message_id: str | None = None
    erro: str | None = None  # pt-BR, for the operator
    tentar_apos_s: float | None = None  # provider's hint (Retry-After), if any


class StatusConexao(StrEnum):
    CONECTADO = "conectado"
    DESCONECTADO = "desconectado"
    CONECTANDO = "conectando"


@dataclass(frozen=True)
class EstadoConexao:
    status: StatusConexao
    qr_base64: str | None = None  # PNG, base64, without the data: prefix
    pairing_code: str | None = None


class Confirmacao(StrEnum):
    ENVIADO = "enviado"
    AUSENTE = "ausente"
    DESCONHECIDO = "desconhecido"


@dataclass(frozen=True)
class ResultadoConfirmacao:
    confirmacao: Confirmacao
    provider_message_id: str | None = None


TEXTO_MIDIA = "[mídia]"  # what an inbound message without text is recorded as


@dataclass(frozen=True)
class MensagemRecebida:
    """A contact's message to one of our numbers (a reply, an opt-out, a question), normalised.

    Only real person-to-business messages become one: group chats, status broadcasts and our
    own messages (``fromMe``) are not replies and are never parsed into this.
    """

    provider_message_id: str
    telefone: str  # the sender's digits, country code first: "5511988887777"
    texto: str  # the text, or TEXTO_MIDIA for images, audio, stickers...
    recebida_em: datetime | None = None  # the provider's timestamp (UTC), when it sent one
    id_resposta_a: str | None = None  # provider id of the message this one replies to
    nome_contato: str | None = None  # the contact's WhatsApp profile name, when sent


@dataclass(frozen=True)
class EventoWebhook:
    """A provider delivery, normalised. ``id_agendamento`` when the provider echoes our id."""

    # "conexao" | "status_mensagem" | "qr" | "mensagem_recebida" | "erro_provedor" | "ignorado"
    tipo: str
    status_conexao: StatusConexao | None = None
    provider_message_id: str | None = None
    id_agendamento: str | None = None
    status_mensagem: str | None = None  # enviado | entregue | lido | falhou
    mensagem: MensagemRecebida | None = None  # tipo == "mensagem_recebida"
    dados: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def recebida(cls, mensagem: MensagemRecebida, dados: dict[str, Any]) -> EventoWebhook:
        """A contact's message (``tipo`` "mensagem_recebida"), keyed by its provider id."""
        return cls(
            tipo="mensagem_recebida",
            provider_message_id=mensagem.provider_message_id,
            mensagem=mensagem,
            dados=dados,
        )


class Provedor(Protocol):
    """What the dispatcher, the instances API and the poller may ask of a provider."""

    def enviar_texto(
        self, *, numero_e164: str, texto: str, id_agendamento: str
    ) -> ResultadoEnvio: ...

    def estado_conexao(self) -> EstadoConexao: ...

    def conectar(self) -> EstadoConexao: ...

    def reiniciar(self) -> None: ...

    def desconectar(self) -> None: ...

    def confirmar_envio(
        self, *, numero_e164: str, texto: str, id_agendamento: str, desde: datetime
    ) -> ResultadoConfirmacao: ...


@runtime_checkable
class ProvedorComModelos(Protocol):
    """A provider that sends pre-approved message templates (the Cloud API, outside the
    24-hour customer-service window)."""

    def enviar_template(
        self,
        *,
        numero_e164: str,
        nome: str,
        id_agendamento: str,
        idioma: str = "pt_BR",
        componentes: list[dict[str, Any]] | None = None,
    ) -> ResultadoEnvio: ...
