"""Meta WhatsApp Cloud API adapter (official Graph API): contract.md section 5.

Sends text (only inside the 24-hour customer-service window) and templates (any time), each with
``biz_opaque_callback_data`` = our job id so status webhooks name the job. Outcomes follow the
same rules as ``evolution`` (see ``desfecho_de_excecao``). The Cloud API has no history to query,
so ``confirmar_envio`` always answers DESCONHECIDO: INCERTO jobs are settled by the status
webhooks, which echo the job id.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self
from urllib.parse import quote

import httpx

from whatsapp_app.logs import logger
from whatsapp_app.providers.base import (
    Confirmacao,
    Desfecho,
    EstadoConexao,
    EventoWebhook,
    ResultadoConfirmacao,
    ResultadoEnvio,
    StatusConexao,
)
from whatsapp_app.providers.evolution import (
    ErroProvedor,
    digitos,
    enviar_classificando,
    json_ou_vazio,
    resultado_status_http,
    segundos_retry_after,
)

_log = logger("providers.cloud_api")

GRAPH_BASE_URL_PADRAO = "https://graph.facebook.com"
GRAPH_VERSION_PADRAO = "v21.0"
CABECALHO_ASSINATURA = "X-Hub-Signature-256"

ERRO_JANELA_24H = "Fora da janela de 24h: use um template."
ERRO_TOKEN = "Token de acesso do Cloud API inválido ou expirado."
ERRO_NAO_ENTREGAVEL = (
    "Mensagem não entregável: o número pode não ter WhatsApp ou não aceitou os termos atuais."
)

# Graph error codes (``error.code``) that mean "nothing was sent, try later".
CODIGOS_RETENTAVEIS: dict[int, str] = {
    130429: "Limite de vazão do Cloud API atingido; tente mais tarde.",
    131056: "Muitas mensagens para este número em pouco tempo; tente mais tarde.",
    80007: "Limite de chamadas da conta WhatsApp Business atingido; tente mais tarde.",
    4: "Limite de chamadas do aplicativo atingido; tente mais tarde.",
    2: "Serviço do Cloud API temporariamente indisponível.",
    131016: "Serviço do Cloud API temporariamente indisponível.",
    133004: "Servidor do Cloud API temporariamente indisponível.",
    131000: "Falha desconhecida no Cloud API; tente novamente.",
}
CODIGOS_PERMANENTES: dict[int, str] = {
    131047: ERRO_JANELA_24H,
    190: ERRO_TOKEN,
    131026: ERRO_NAO_ENTREGAVEL,
}

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


def interpretar_webhook(corpo: Any) -> list[EventoWebhook]:
    """One Cloud API delivery may batch many statuses: one ``EventoWebhook`` per status
    (``sent``/``delivered``/``read``/``failed`` → enviado/entregue/lido/falhou, with the echoed
    ``biz_opaque_callback_data`` as ``id_agendamento``). Inbound messages come back as
    ``ignorado`` with ``dados["de"]`` (they open the 24-hour window)."""
    eventos: list[EventoWebhook] = []
    if not isinstance(corpo, Mapping):
        return eventos
    for entrada in corpo.get("entry") or []:
        if not isinstance(entrada, Mapping):
            continue
        for mudanca in entrada.get("changes") or []:
            if not isinstance(mudanca, Mapping) or mudanca.get("field") != "messages":
                continue
            valor = mudanca.get("value")
            if not isinstance(valor, Mapping):
                continue
            metadados = valor.get("metadata")
            phone_number_id = (
                metadados.get("phone_number_id") if isinstance(metadados, Mapping) else None
            )
            for status in valor.get("statuses") or []:
                if not isinstance(status, Mapping):
                    continue
                traduzido = _STATUS_MENSAGEM.get(str(status.get("status")))
                if traduzido is None:
                    continue
                erros = status.get("errors") if isinstance(status.get("errors"), list) else []
                eventos.append(
                    EventoWebhook(
                        tipo="status_mensagem",
                        provider_message_id=status.get("id"),
                        id_agendamento=status.get("biz_opaque_callback_data") or None,
                        status_mensagem=traduzido,
                        dados={
                            "phone_number_id": phone_number_id,
                            "recipient_id": status.get("recipient_id"),
                            "timestamp": status.get("timestamp"),
                            "erros": erros,
                        },
                    )
                )
            for mensagem in valor.get("messages") or []:
                if isinstance(mensagem, Mapping):
                    eventos.append(
                        EventoWebhook(
                            tipo="ignorado",
                            dados={
                                "phone_number_id": phone_number_id,
                                "de": mensagem.get("from"),
                                "timestamp": mensagem.get("timestamp"),
                            },
                        )
                    )
    return eventos


def _erro_graph(corpo: Any) -> tuple[int | None, str]:
    erro = corpo.get("error") if isinstance(corpo, Mapping) else None
    if not isinstance(erro, Mapping):
        return None, ""
    try:
        codigo: int | None = int(erro.get("code"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        codigo = None
    mensagem = str(erro.get("message") or "")
    dados = erro.get("error_data")
    if isinstance(dados, Mapping) and dados.get("details"):
        mensagem = f"{mensagem} ({dados['details']})" if mensagem else str(dados["details"])
    return codigo, mensagem


class ProvedorCloudApi:
    """``base.Provedor`` over the WhatsApp Cloud API. Keyword-only; secrets stay private."""

    def __init__(
        self,
        *,
        phone_number_id: str,
        access_token: str,
        app_secret: str = "",
        verify_token: str = "",
        graph_base_url: str = GRAPH_BASE_URL_PADRAO,
        graph_version: str = GRAPH_VERSION_PADRAO,
        timeout_s: float = 15.0,
        connect_timeout_s: float = 5.0,
        cliente: httpx.Client | None = None,
    ) -> None:
        if not phone_number_id:
            raise ValueError("phone_number_id é obrigatório")
        self.phone_number_id = phone_number_id
        self._access_token = access_token
        self._app_secret = app_secret
        self._verify_token = verify_token
        self.graph_base_url = (graph_base_url or GRAPH_BASE_URL_PADRAO).rstrip("/")
        self.graph_version = graph_version or GRAPH_VERSION_PADRAO
        self._timeout = httpx.Timeout(timeout_s, connect=min(connect_timeout_s, timeout_s))
        self._cliente = cliente if cliente is not None else httpx.Client()
        self._cliente_proprio = cliente is None

    def __repr__(self) -> str:  # never the token
        return f"ProvedorCloudApi(phone_number_id={self.phone_number_id!r})"

    def fechar(self) -> None:
        if self._cliente_proprio:
            self._cliente.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.fechar()

    def _url(self, sufixo: str = "") -> str:
        return (
            f"{self.graph_base_url}/{self.graph_version}/"
            f"{quote(self.phone_number_id, safe='')}{sufixo}"
        )

    def _cabecalhos(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._access_token}", "Accept": "application/json"}

    # -- sending --------------------------------------------------------------------------------

    def enviar_texto(self, *, numero_e164: str, texto: str, id_agendamento: str) -> ResultadoEnvio:
        return self._enviar(
            numero_e164,
            {"type": "text", "text": {"body": texto, "preview_url": False}},
            id_agendamento,
        )

    def enviar_template(
        self,
        *,
        numero_e164: str,
        nome: str,
        id_agendamento: str,
        idioma: str = "pt_BR",
        componentes: list[dict[str, Any]] | None = None,
    ) -> ResultadoEnvio:
        template: dict[str, Any] = {"name": nome, "language": {"code": idioma}}
        if componentes:
            template["components"] = componentes
        return self._enviar(numero_e164, {"type": "template", "template": template}, id_agendamento)

    def _enviar(
        self, numero_e164: str, conteudo: dict[str, Any], id_agendamento: str
    ) -> ResultadoEnvio:
        numero = digitos(numero_e164)
        if len(numero) < 8:
            return ResultadoEnvio(Desfecho.PERMANENTE, erro="Número de telefone inválido.")
        corpo = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": numero,
            **conteudo,
            "biz_opaque_callback_data": id_agendamento,
        }
        contexto = {"phone_number_id": self.phone_number_id, "id_agendamento": id_agendamento}
        return enviar_classificando(
            "cloud_api",
            lambda: self._cliente.post(
                self._url("/messages"),
                headers=self._cabecalhos(),
                json=corpo,
                timeout=self._timeout,
            ),
            self._classificar,
            contexto,
        )

    @staticmethod
    def _classificar(resposta: httpx.Response) -> ResultadoEnvio:
        corpo = json_ou_vazio(resposta)
        status = resposta.status_code
        if 200 <= status < 300:
            mensagens = corpo.get("messages") if isinstance(corpo, Mapping) else None
            primeira = mensagens[0] if isinstance(mensagens, list) and mensagens else None
            id_mensagem = primeira.get("id") if isinstance(primeira, Mapping) else None
            return ResultadoEnvio(Desfecho.ACEITO, provider_message_id=id_mensagem or None)
        codigo, mensagem = _erro_graph(corpo)
        tentar_apos = segundos_retry_after(resposta.headers.get("Retry-After"))
        if codigo in CODIGOS_PERMANENTES:
            return ResultadoEnvio(Desfecho.PERMANENTE, erro=CODIGOS_PERMANENTES[codigo])
        if codigo in CODIGOS_RETENTAVEIS and status != 504:
            return ResultadoEnvio(
                Desfecho.RETENTAVEL, erro=CODIGOS_RETENTAVEIS[codigo], tentar_apos_s=tentar_apos
            )
        comum = resultado_status_http(resposta, mensagem or "sem detalhes")
        if comum is not None:
            return comum
        if status == 401:
            return ResultadoEnvio(Desfecho.PERMANENTE, erro=ERRO_TOKEN)
        sufixo = f" (código {codigo})" if codigo is not None else ""
        return ResultadoEnvio(
            Desfecho.PERMANENTE,
            erro=f"O Cloud API recusou a mensagem: {mensagem or f'HTTP {status}'}{sufixo}",
        )

    # -- connection -----------------------------------------------------------------------------

    def estado_conexao(self) -> EstadoConexao:
        """A Cloud API number has no session: it is "conectado" while the token can read it."""
        try:
            resposta = self._cliente.get(
                self._url(),
                params={"fields": "id,display_phone_number,verified_name"},
                headers=self._cabecalhos(),
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise ErroProvedor(
                f"Cloud API inacessível: {type(exc).__name__}", retentavel=True
            ) from exc
        if 200 <= resposta.status_code < 300:
            return EstadoConexao(StatusConexao.CONECTADO)
        codigo, mensagem = _erro_graph(json_ou_vazio(resposta))
        if codigo == 190 or resposta.status_code == 401:
            raise ErroProvedor(ERRO_TOKEN, status_http=resposta.status_code)
        raise ErroProvedor(
            f"O Cloud API recusou a consulta: {mensagem or f'HTTP {resposta.status_code}'}",
            retentavel=resposta.status_code >= 500 or resposta.status_code == 429,
            status_http=resposta.status_code,
        )

    def conectar(self) -> EstadoConexao:
        return self.estado_conexao()

    def reiniciar(self) -> None:
        """Nothing to restart: the Cloud API has no session."""

    def desconectar(self) -> None:
        """Nothing to log out: revoke the token in Meta's Business Manager instead."""

    # -- webhooks and reconciliation ------------------------------------------------------------

    def verificar_assinatura(self, corpo_bruto: bytes, cabecalho: str | None) -> bool:
        return verificar_assinatura(corpo_bruto, cabecalho, self._app_secret)

    def responder_verificacao(
        self, mode: str | None, token: str | None, challenge: str | None
    ) -> str | None:
        return responder_verificacao(mode, token, challenge, self._verify_token)

    def confirmar_envio(
        self, *, numero_e164: str, texto: str, id_agendamento: str, desde: datetime
    ) -> ResultadoConfirmacao:
        return ResultadoConfirmacao(Confirmacao.DESCONHECIDO)
