"""What both provider adapters (``evolution``, ``cloud_api``) share: the operator-facing
``ErroProvedor``, the classification of transport errors and of the status codes every provider
answers alike, ``Retry-After``, phone digits and tolerant readers of provider JSON.

The rule for transport errors: a send is RETENTAVEL only when the request certainly never
reached the server (the TCP connection was never made, or the pool never handed one out). Once
bytes may have left, a timeout or a dropped connection is DESCONHECIDO: the provider may have
delivered the message, and ``confirmar_envio`` (or an operator) settles it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from whatsapp_app.logs import logger
from whatsapp_app.providers.base import Desfecho, ResultadoEnvio
from whatsapp_app.providers.guarda import EnderecoRecusado

_log = logger("providers.comum")

ERRO_INACESSIVEL = "Provedor inacessível (conexão recusada ou sem resposta ao conectar)."
ERRO_SEM_RESPOSTA = "O provedor não respondeu: a mensagem pode ter sido enviada."
# One message for every network failure of a management call (refused, timeout, TLS, DNS...):
# distinct messages would let an admin map the network through a provider URL (the detail
# goes to the log).
ERRO_SEM_CONEXAO = (
    "Provedor inacessível: não foi possível falar com ele. Confira o endereço e se ele está no ar."
)


class ErroProvedor(RuntimeError):
    """A connection-management call failed; ``mensagem`` is pt-BR, for the operator.

    ``retentavel`` tells a poller whether trying again later may help (network, 5xx) or whether
    someone must fix something first (credentials, unknown instance).
    """

    def __init__(self, mensagem: str, *, retentavel: bool = False, status_http: int | None = None):
        super().__init__(mensagem)
        self.mensagem = mensagem
        self.retentavel = retentavel
        self.status_http = status_http


# The request certainly never left this process: no connection was made or handed out.
_NUNCA_ENVIADO: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
)
# The request could not even be built or framed (bad URL, bad header), or the address guard
# refused its host: a configuration error.
_REQUISICAO_INVALIDA: tuple[type[Exception], ...] = (
    EnderecoRecusado,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
    httpx.InvalidURL,
)


def desfecho_de_excecao(exc: BaseException) -> ResultadoEnvio:
    """Classify an exception raised while sending (no HTTP status was received).

    - connect refused / connect timeout / pool timeout / proxy: RETENTAVEL, nothing was sent;
    - malformed request (bad URL, header with a newline...): PERMANENTE, nothing was sent and
      retrying will not help;
    - everything else (read timeout, write timeout or error mid-request, connection reset or
      closed before the answer, undecodable answer, anything unexpected): DESCONHECIDO, because
      the server may have received the whole request and acted on it. A write error is included
      on purpose: the bytes that did go out may already form a complete request.
    """
    if isinstance(exc, _NUNCA_ENVIADO):
        return ResultadoEnvio(Desfecho.RETENTAVEL, erro=ERRO_INACESSIVEL)
    if isinstance(exc, EnderecoRecusado):
        return ResultadoEnvio(Desfecho.PERMANENTE, erro=exc.mensagem)
    if isinstance(exc, _REQUISICAO_INVALIDA):
        return ResultadoEnvio(
            Desfecho.PERMANENTE, erro=f"Requisição inválida para o provedor: {exc}"
        )
    if isinstance(exc, httpx.TimeoutException):
        return ResultadoEnvio(Desfecho.DESCONHECIDO, erro=f"{ERRO_SEM_RESPOSTA} (tempo esgotado)")
    # The exception's class goes to the log (``enviar_classificando``), never to the operator.
    return ResultadoEnvio(Desfecho.DESCONHECIDO, erro=ERRO_SEM_RESPOSTA)


def erro_de_rede(exc: httpx.HTTPError, provedor: str, **contexto: Any) -> ErroProvedor:
    """A management call's network failure as the one pt-BR message (detail in the log)."""
    _log.warning(f"{provedor}: falha de rede", extra={**contexto, "erro": type(exc).__name__[:64]})
    if isinstance(exc, EnderecoRecusado):
        return ErroProvedor(exc.mensagem)
    return ErroProvedor(ERRO_SEM_CONEXAO, retentavel=True)


def enviar_classificando(
    provedor: str,
    requisitar: Callable[[], httpx.Response],
    classificar: Callable[[httpx.Response], ResultadoEnvio],
    contexto: Mapping[str, Any],
) -> ResultadoEnvio:
    """Send once and classify the outcome; every failure becomes a ``ResultadoEnvio``, never an
    exception for the dispatcher. One structured log line either way."""
    try:
        resposta = requisitar()
    except Exception as exc:
        resultado = desfecho_de_excecao(exc)
        _log.warning(
            f"{provedor}: envio sem resposta",
            extra={**contexto, "erro": type(exc).__name__, "desfecho": resultado.desfecho},
        )
        return resultado
    resultado = classificar(resposta)
    _log.info(
        f"{provedor}: envio classificado",
        extra={
            **contexto,
            "status_http": resposta.status_code,
            "desfecho": resultado.desfecho,
            "provider_message_id": resultado.provider_message_id,
        },
    )
    return resultado


def segundos_retry_after(valor: str | None, *, agora: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date; None when absent/bad."""
    if not valor:
        return None
    valor = valor.strip()
    try:
        return max(0.0, float(valor))
    except ValueError:
        pass
    try:
        quando = parsedate_to_datetime(valor)
    except (TypeError, ValueError, IndexError):
        return None
    if quando.tzinfo is None:
        quando = quando.replace(tzinfo=UTC)
    return max(0.0, (quando - (agora or datetime.now(UTC))).total_seconds())


def digitos(numero_e164: str) -> str:
    """E.164 (``+5511999999999``) to the digits-only form providers take (``5511999999999``)."""
    return re.sub(r"\D", "", numero_e164 or "")


def json_ou_vazio(resposta: httpx.Response) -> Any:
    try:
        return resposta.json()
    except ValueError:
        return {}


def resultado_status_http(resposta: httpx.Response, mensagem: str) -> ResultadoEnvio | None:
    """The status-code rules both adapters share; None when the caller must decide."""
    status = resposta.status_code
    tentar_apos = segundos_retry_after(resposta.headers.get("Retry-After"))
    if status == 504:
        # A gateway gave up waiting for the provider, which had the request: unknown outcome.
        return ResultadoEnvio(
            Desfecho.DESCONHECIDO, erro=f"{ERRO_SEM_RESPOSTA} (HTTP 504)", tentar_apos_s=tentar_apos
        )
    if status == 429 or status == 408 or status >= 500:
        return ResultadoEnvio(
            Desfecho.RETENTAVEL,
            erro=f"Provedor indisponível no momento (HTTP {status}): {mensagem}",
            tentar_apos_s=tentar_apos,
        )
    return None


# --- tolerant readers of provider JSON (a wrong type reads as "absent", never raises) -----------


def texto_nao_vazio(valor: Any) -> str | None:
    """A non-empty string, or None for anything else (numbers, lists, blanks)."""
    return valor if isinstance(valor, str) and valor.strip() else None


def como_mapa(valor: Any) -> Mapping[str, Any]:
    return valor if isinstance(valor, Mapping) else {}


def como_lista(valor: Any) -> list[Any]:
    return valor if isinstance(valor, list) else []
