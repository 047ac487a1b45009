"""Meta WhatsApp Cloud API adapter (official Graph API): contract.md section 5.

Sends text (only inside the 24-hour customer-service window) and templates (any time), each with
``biz_opaque_callback_data`` = our job id so status webhooks name the job. Outcomes follow the
same rules as ``evolution`` (see ``comum.desfecho_de_excecao``). The Cloud API has no history to
query, so ``confirmar_envio`` always answers DESCONHECIDO: INCERTO jobs are settled by the status
webhooks, which echo the job id. Webhook parsing lives in ``cloud_api_webhook``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self
from urllib.parse import parse_qsl, quote, urlsplit

import httpx

from whatsapp_app.logs import logger
from whatsapp_app.providers.base import (
    Confirmacao,
    Desfecho,
    EstadoConexao,
    ResultadoConfirmacao,
    ResultadoEnvio,
    StatusConexao,
)
from whatsapp_app.providers.cloud_api_webhook import (
    interpretar_webhook as interpretar_webhook,  # re-exported: callers import it from here
)
from whatsapp_app.providers.cloud_api_webhook import responder_verificacao, verificar_assinatura
from whatsapp_app.providers.comum import (
    ErroProvedor,
    como_lista,
    como_mapa,
    digitos,
    enviar_classificando,
    erro_de_rede,
    json_ou_vazio,
    resultado_status_http,
    segundos_retry_after,
    texto_nao_vazio,
)

_log = logger("providers.cloud_api")

GRAPH_BASE_URL_PADRAO = "https://graph.facebook.com"
GRAPH_VERSION_PADRAO = "v21.0"

ERRO_JANELA_24H = "Fora da janela de 24 h: escolha um modelo aprovado para esta etapa"
ERRO_TOKEN = "Token de acesso do Cloud API inválido ou expirado."
ERRO_NAO_ENTREGAVEL = (
    "Mensagem não entregável: o número pode não ter WhatsApp ou não aceitou os termos atuais."
)

# Graph error codes (``error.code``) that mean "nothing was sent, try later".
CODIGOS_RETENTAVEIS: dict[int, str] = {
    130429: "Limite de vazão do Cloud API atingido; tente mais tarde.",
    131056: "Muitas mensagens para este número em pouco tempo; tente mais tarde.",
    # "Spam rate limit hit": too many of this number's messages were blocked or reported, so
    # Meta throttles it for a while; nothing was sent.
    131048: "Limite de envio por spam atingido (mensagens bloqueadas ou denunciadas); "
    "tente mais tarde.",
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

# Message templates (Graph ``GET /{version}/{waba_id}/message_templates``).
CAMPOS_MODELO = "name,language,status,category,components"
MAX_PAGINAS_MODELOS = 10
ERRO_WABA = "Conta do WhatsApp Business (WABA) não encontrada ou sem acesso por este token."
ERRO_PERMISSAO_MODELOS = (
    "O token não tem permissão para ler os modelos (whatsapp_business_management)."
)
# ``{{1}}`` (positional) and ``{{nome}}`` (named parameter format) placeholders.
_VARIAVEL = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


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


def _modelo(item: Any) -> dict[str, Any] | None:
    """One ``message_templates`` item in our shape; None unless it is an APPROVED template."""
    if not isinstance(item, Mapping) or item.get("status") != "APPROVED":
        return None
    nome, idioma = texto_nao_vazio(item.get("name")), texto_nao_vazio(item.get("language"))
    if nome is None or idioma is None:
        return None
    corpo = ""
    for componente in como_lista(item.get("components")):
        componente = como_mapa(componente)
        tipo = componente.get("type")
        if isinstance(tipo, str) and tipo.upper() == "BODY":
            corpo = texto_nao_vazio(componente.get("text")) or ""
            break
    return {
        "nome": nome,
        "idioma": idioma,
        "corpo": corpo,
        "variaveis": len(set(_VARIAVEL.findall(corpo))),
        "categoria": texto_nao_vazio(item.get("category")),
    }


def _mesma_origem(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc) and a.scheme in ("http", "https")


def _params_da_url(url: str) -> dict[str, Any]:
    return dict(parse_qsl(urlsplit(url).query))


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
            raise erro_de_rede(exc, "cloud_api", phone_number_id=self.phone_number_id) from exc
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

    # -- message templates ----------------------------------------------------------------------

    def listar_modelos(
        self, waba_id: str, *, limite: int = 100, max_paginas: int = MAX_PAGINAS_MODELOS
    ) -> list[dict[str, Any]]:
        """The WABA's APPROVED templates: ``[{"nome", "idioma", "corpo", "variaveis",
        "categoria"}]``, ``corpo`` being the BODY text and ``variaveis`` how many distinct
        ``{{n}}`` placeholders it has (the parameters a send must fill).

        Graph ``GET /{version}/{waba_id}/message_templates`` (Meta's "Template management" and
        "Message Templates API" pages), following ``paging.next`` for at most ``max_paginas``
        pages. A ``next`` URL on another host than ``graph_base_url`` is never followed (it
        would receive our token): the ``after`` cursor is used against our own URL instead.
        Errors raise ``ErroProvedor`` (pt-BR; ``retentavel`` when trying later may help).
        """
        waba = (waba_id or "").strip()
        if not waba:
            raise ErroProvedor("WABA ID do Cloud API não configurado.")
        url: str | None = (
            f"{self.graph_base_url}/{self.graph_version}/{quote(waba, safe='')}/message_templates"
        )
        params: dict[str, Any] | None = {
            "status": "APPROVED",
            "fields": CAMPOS_MODELO,
            "limit": max(1, min(int(limite), 1000)),
        }
        modelos: list[dict[str, Any]] = []
        vistas: set[str] = set()
        paginas = 0
        while url is not None and paginas < max_paginas:
            paginas += 1
            corpo = self._pagina_modelos(url, params)
            modelos.extend(m for m in map(_modelo, como_lista(corpo.get("data"))) if m is not None)
            url, params = self._proxima_pagina(corpo, url, params, vistas)
        if url is not None:
            _log.warning(
                "cloud_api: modelos truncados no limite de páginas",
                extra={"waba_id": waba, "paginas": paginas},
            )
        _log.info("cloud_api: modelos listados", extra={"waba_id": waba, "total": len(modelos)})
        return modelos

    def _pagina_modelos(self, url: str, params: dict[str, Any] | None) -> Mapping[str, Any]:
        try:
            resposta = self._cliente.get(
                url, params=params, headers=self._cabecalhos(), timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise erro_de_rede(exc, "cloud_api", phone_number_id=self.phone_number_id) from exc
        corpo = json_ou_vazio(resposta)
        status = resposta.status_code
        if 200 <= status < 300:
            if not isinstance(corpo, Mapping):
                raise ErroProvedor("Resposta inesperada do Cloud API ao listar modelos.")
            return corpo
        codigo, mensagem = _erro_graph(corpo)
        if codigo == 190 or status == 401:
            raise ErroProvedor(ERRO_TOKEN, status_http=status)
        if codigo in CODIGOS_RETENTAVEIS or status == 429 or status >= 500:
            texto = (
                CODIGOS_RETENTAVEIS.get(codigo or 0) or f"Cloud API indisponível (HTTP {status})."
            )
            raise ErroProvedor(texto, retentavel=True, status_http=status)
        if codigo == 100 or status == 404:
            raise ErroProvedor(ERRO_WABA, status_http=status)
        if codigo in (10, 200) or status == 403:
            raise ErroProvedor(ERRO_PERMISSAO_MODELOS, status_http=status)
        sufixo = f" (código {codigo})" if codigo is not None else ""
        raise ErroProvedor(
            f"O Cloud API recusou a consulta de modelos: {mensagem or f'HTTP {status}'}{sufixo}",
            status_http=status,
        )

    def _proxima_pagina(
        self,
        corpo: Mapping[str, Any],
        url: str,
        params: dict[str, Any] | None,
        vistas: set[str],
    ) -> tuple[str | None, dict[str, Any] | None]:
        """(url, params) of the next page, or (None, None) at the end (or on a loop)."""
        paginacao = como_mapa(corpo.get("paging"))
        proxima = texto_nao_vazio(paginacao.get("next"))
        if proxima is None:
            return None, None
        if _mesma_origem(proxima, self.graph_base_url):
            if proxima in vistas:
                return None, None
            vistas.add(proxima)
            return proxima, None
        depois = texto_nao_vazio(como_mapa(paginacao.get("cursors")).get("after"))
        if depois is None or depois in vistas:
            return None, None
        vistas.add(depois)
        base_url = url.split("?", 1)[0] if params is None else url
        return base_url, {**(params or _params_da_url(url)), "after": depois}

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
