"""ASGI layers every request to the backend goes through (installed by ``criar_api``).

- ``CabecalhosSeguranca``: security headers on every HTTP response, the REST API's and, since
  Reflex mounts its own backend (pages, ``/_event``, ``/ping``) inside the FastAPI app, the
  pages' too. It sits outside Starlette's ``ServerErrorMiddleware``, so even a 500 carries them.
- ``EntradaSegura``: for ``/api`` only, one place that refuses C0 control characters (NUL
  included) in the path, in the query and in every JSON string (keys too), and a request body
  limit counted chunk by chunk while reading. PostgreSQL refuses NUL in text, so before this
  layer such input reached the database and answered 500; now no route ever sees it.

The body is handed on byte for byte as it arrived: the Meta webhook checks an HMAC over the
raw body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from whatsapp_app.auth import NOME_COOKIE
from whatsapp_app.config import configuracoes
from whatsapp_app.logs import logger
from whatsapp_app.validacoes import corpo_erro

_log = logger("api.seguranca")

MENSAGEM_CONTROLE = "Caractere de controle não permitido."
MENSAGEM_SUBSTITUTO = "Texto com caractere inválido."
MAX_CAMPOS_RELATADOS = 20

# Reflex's frontend: React Router inlines its bootstrap <script>, Reflex runs rx.call_script /
# set_clipboard through eval(), Emotion/Radix inject <style> tags, QR codes are data: images and
# state travels over a websocket to the same host.
CSP_APP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# JSON and text answers load nothing.
CSP_API = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# FastAPI's Swagger UI (/api/docs) loads its bundle from jsDelivr and starts it inline.
CSP_DOCS = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
CABECALHOS_FIXOS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}

# C0 controls; tab, LF and CR are ordinary whitespace inside a text value. Lone UTF-16
# surrogates (only reachable through JSON "\ud800" escapes) cannot be stored either.
_CONTROLE_TEXTO = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROLE_ESTRITO = re.compile(r"[\x00-\x1f]")  # path and query: no whitespace controls either
_SUBSTITUTO = re.compile(r"[\ud800-\udfff]")
_CONTROLE_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_TIPOS_BINARIOS = ("multipart/", "application/octet-stream")


def eh_rota_api(caminho: str) -> bool:
    return caminho == "/api" or caminho.startswith("/api/")


def csp_para(caminho: str) -> str:
    if caminho.startswith("/api/docs"):
        return CSP_DOCS
    return CSP_API if eh_rota_api(caminho) else CSP_APP


class CabecalhosSeguranca:
    """Adds CSP, X-Frame-Options, nosniff and Referrer-Policy to every HTTP response (a value a
    route set itself is kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = csp_para(scope.get("path", ""))

        async def enviar(mensagem: Message) -> None:
            if mensagem["type"] == "http.response.start":
                cabecalhos = MutableHeaders(scope=mensagem)
                cabecalhos.setdefault("content-security-policy", csp)
                for nome, valor in CABECALHOS_FIXOS.items():
                    cabecalhos.setdefault(nome, valor)
            await send(mensagem)

        await self.app(scope, receive, enviar)


def _erro_texto(valor: str, padrao: re.Pattern[str]) -> str | None:
    if padrao.search(valor):
        return MENSAGEM_CONTROLE
    if _SUBSTITUTO.search(valor):
        return MENSAGEM_SUBSTITUTO
    return None


def campos_invalidos_json(documento: Any) -> dict[str, str]:
    """``{"a.0.b": message}`` for every string (value or key) with a forbidden character.

    Iterative, so a deeply nested document cannot exhaust the stack; paths use the same dotted
    form as the pydantic error translation (``etapas.0.mensagem``).
    """
    campos: dict[str, str] = {}
    pilha: list[tuple[str, Any]] = [("", documento)]
    while pilha and len(campos) < MAX_CAMPOS_RELATADOS:
        caminho, valor = pilha.pop()
        if isinstance(valor, str):
            if (erro := _erro_texto(valor, _CONTROLE_TEXTO)) is not None:
                campos[caminho or "corpo"] = erro
        elif isinstance(valor, dict):
            for chave, filho in valor.items():
                if (erro := _erro_texto(chave, _CONTROLE_ESTRITO)) is not None:
                    campos[caminho or "corpo"] = erro  # the key itself cannot name the field
                    continue
                pilha.append((f"{caminho}.{chave}" if caminho else chave, filho))
        elif isinstance(valor, list):
            pilha.extend(
                (f"{caminho}.{i}" if caminho else str(i), filho) for i, filho in enumerate(valor)
            )
    return campos


class _ParametrosDeCaminho:
    """Names the path parameter that holds a bad character, from the route templates (the
    OpenAPI paths, e.g. ``/api/leads/{id_lead}``); "caminho" when no template matches."""

    def __init__(self, modelos: Callable[[], Iterable[str]]) -> None:
        self._modelos = modelos
        self._padroes: list[re.Pattern[str]] | None = None

    def nome(self, caminho: str) -> str:
        if self._padroes is None:  # built on first use: routes are all registered by then
            try:
                self._padroes = [compile_path(m)[0] for m in self._modelos() if "{" in m]
            except Exception:  # naming the field is a nicety; the 422 must still go out
                _log.exception("modelos de caminho indisponíveis")
                self._padroes = []
        for padrao in self._padroes:
            if (achado := padrao.match(caminho)) is None:
                continue
            for nome, valor in achado.groupdict().items():
                if _erro_texto(valor, _CONTROLE_ESTRITO):
                    return nome
        return "caminho"


def campos_invalidos_url(scope: Scope, parametros: _ParametrosDeCaminho) -> dict[str, str]:
    campos: dict[str, str] = {}
    caminho = scope.get("path", "")
    if (erro := _erro_texto(caminho, _CONTROLE_ESTRITO)) is not None:
        campos[parametros.nome(caminho)] = erro
    consulta = scope.get("query_string", b"").decode("latin-1")
    for chave, valor in parse_qsl(
        consulta, keep_blank_values=True, encoding="utf-8", errors="replace"
    ):
        if (erro := _erro_texto(chave, _CONTROLE_ESTRITO)) is not None:
            campos["consulta"] = erro
        elif (erro := _erro_texto(valor, _CONTROLE_ESTRITO)) is not None:
            campos[chave] = erro
    return campos


def campos_invalidos_corpo(corpo: bytes, tipo: str) -> dict[str, str]:
    if not corpo:
        return {}
    try:
        documento = json.loads(corpo)
    except RecursionError:
        return {"corpo": "JSON aninhado demais."}
    except ValueError:
        # Not JSON: the route answers its own "JSON inválido". Raw control bytes are refused
        # here all the same, except in binary uploads.
        if not tipo.startswith(_TIPOS_BINARIOS) and _CONTROLE_BYTES.search(corpo):
            return {"corpo": MENSAGEM_CONTROLE}
        return {}
    return campos_invalidos_json(documento)


class _CorpoGrandeDemais(Exception):
    pass


class EntradaSegura:
    """Refuses control characters in ``/api`` input (422) and bodies over the limit (413)."""

    def __init__(self, app: ASGIApp, modelos_de_caminho: Callable[[], Iterable[str]]) -> None:
        self.app = app
        self._parametros = _ParametrosDeCaminho(modelos_de_caminho)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not eh_rota_api(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        campos = campos_invalidos_url(scope, self._parametros)
        if campos:
            await self._recusar_validacao(scope, receive, send, campos)
            return
        limite = configuracoes().api_max_corpo_bytes
        cabecalhos = Headers(scope=scope)
        declarado = cabecalhos.get("content-length", "")
        if declarado.isdigit() and int(declarado) > limite:
            await self._recusar_tamanho(scope, receive, send, limite)
            return
        try:
            corpo, desconectou = await _ler_corpo(receive, limite)
        except _CorpoGrandeDemais:
            await self._recusar_tamanho(scope, receive, send, limite)
            return
        if desconectou:
            return  # nobody is left to answer
        campos = campos_invalidos_corpo(corpo, cabecalhos.get("content-type", "").lower())
        if campos:
            await self._recusar_validacao(scope, receive, send, campos)
            return
        await self.app(scope, _reentregar(corpo, receive), send)

    @staticmethod
    async def _recusar_validacao(
        scope: Scope, receive: Receive, send: Send, campos: dict[str, str]
    ) -> None:
        _log.info(
            "entrada recusada: caractere de controle",
            extra={
                "rota": scope.get("path", "").encode("unicode_escape").decode(),
                "campos": list(campos),
            },
        )
        resposta = JSONResponse(
            corpo_erro("validacao", "Dados inválidos.", campos), status_code=422
        )
        await resposta(scope, receive, send)

    @staticmethod
    async def _recusar_tamanho(scope: Scope, receive: Receive, send: Send, limite: int) -> None:
        _log.info("corpo recusado: grande demais", extra={"rota": scope.get("path", "")})
        resposta = JSONResponse(
            corpo_erro(
                "corpo_grande_demais",
                f"O corpo da requisição passa do limite de {limite} bytes.",
            ),
            status_code=413,
            # The rest of the body is never read: the connection cannot be reused.
            headers={"connection": "close"},
        )
        await resposta(scope, receive, send)


async def _ler_corpo(receive: Receive, limite: int) -> tuple[bytes, bool]:
    """The whole body, refusing as soon as the running total passes ``limite``."""
    partes: list[bytes] = []
    total = 0
    while True:
        mensagem = await receive()
        if mensagem["type"] == "http.disconnect":
            return b"", True
        parte = mensagem.get("body", b"")
        total += len(parte)
        if total > limite:
            raise _CorpoGrandeDemais
        partes.append(parte)
        if not mensagem.get("more_body", False):
            return b"".join(partes), False


def _reentregar(corpo: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body over once, unchanged, then defers to the
    server's (for ``http.disconnect``)."""
    pendente: Iterator[Message] = iter(
        [{"type": "http.request", "body": corpo, "more_body": False}]
    )

    async def receber() -> Message:
        mensagem = next(pendente, None)
        return mensagem if mensagem is not None else await receive()

    return receber


METODOS_SEGUROS = frozenset({"GET", "HEAD", "OPTIONS"})
ROTA_LOGIN_NAVEGADOR = "/api/auth/sessao"
# Providers authenticate each delivery themselves; the API clients' login reads no cookie (its
# JSON body cannot come cross-site without a CORS preflight, which only the app's origins pass).
PREFIXOS_SEM_SESSAO = ("/api/webhooks/", "/api/auth/login")


def _origem_da_requisicao(cabecalhos: Headers) -> str | None:
    """``Origin``, else the origin of ``Referer`` (some browsers omit Origin on same-site)."""
    origem = cabecalhos.get("origin")
    if origem and origem != "null":
        return origem.rstrip("/").lower()
    referer = cabecalhos.get("referer")
    if referer:
        partes = urlsplit(referer)
        if partes.scheme and partes.netloc:
            return f"{partes.scheme}://{partes.netloc}".lower()
    return None


def _origem_normalizada(origem: str) -> str:
    partes = urlsplit(origem)
    porta_padrao = {"http": 80, "https": 443}.get(partes.scheme)
    host = (partes.hostname or "").lower()
    if partes.port is None or partes.port == porta_padrao:
        return f"{partes.scheme}://{host}"
    return f"{partes.scheme}://{host}:{partes.port}"


class MesmaOrigem:
    """CSRF: a state-changing ``/api`` call authenticated by the session cookie (no bearer)
    must come from one of the app's origins (``Origin`` or ``Referer``); so must the browser
    login itself. Bearer calls carry no ambient credential and are exempt."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caminho = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope.get("method", "GET") in METODOS_SEGUROS
            or not eh_rota_api(caminho)
            or caminho.startswith(PREFIXOS_SEM_SESSAO)
        ):
            await self.app(scope, receive, send)
            return
        cabecalhos = Headers(scope=scope)
        esquema = cabecalhos.get("authorization", "").partition(" ")[0].lower()
        com_cookie = f"{NOME_COOKIE}=" in cabecalhos.get("cookie", "")
        if esquema == "bearer" or (not com_cookie and caminho != ROTA_LOGIN_NAVEGADOR):
            await self.app(scope, receive, send)
            return
        origem = _origem_da_requisicao(cabecalhos)
        permitidas = configuracoes().origens_cors()
        if origem is not None and _origem_normalizada(origem) in permitidas:
            await self.app(scope, receive, send)
            return
        _log.warning(
            "requisição com cookie de origem não permitida",
            extra={"rota": caminho[:200], "origem": (origem or "")[:200]},
        )
        resposta = JSONResponse(
            corpo_erro(
                "origem_nao_permitida",
                "Requisição de uma origem não permitida. Abra o app pelo endereço dele.",
            ),
            status_code=403,
        )
        await resposta(scope, receive, send)
