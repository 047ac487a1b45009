"""The REST API: a FastAPI app mounted into the Reflex backend (``rx.App(api_transformer=...)``).

Routers are thin; every error leaves in the contract's one shape. Reflex mounts its own backend
(pages, websocket) inside this app, so the layers of ``seguranca`` wrap everything it serves.
"""

from __future__ import annotations

import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from whatsapp_app.api import (
    auth,
    automacoes,
    despacho,
    empresa,
    fila,
    flags,
    instancias,
    leads,
    saude,
    saude_despacho,
    webhooks,
)
from whatsapp_app.api.seguranca import CabecalhosSeguranca, EntradaSegura, MesmaOrigem
from whatsapp_app.config import configuracoes
from whatsapp_app.logs import configurar_logs, logger
from whatsapp_app.validacoes import ErroApp, corpo_erro, traduzir_erros

_log = logger("api")

_CODIGOS_HTTP = {
    400: ("requisicao_invalida", "Requisição inválida."),
    401: ("nao_autenticado", "Autenticação necessária."),
    403: ("sem_permissao", "Seu perfil não permite esta ação."),
    404: ("nao_encontrado", "Recurso não encontrado."),
    405: ("metodo_nao_permitido", "Método não permitido nesta rota."),
    415: ("tipo_nao_suportado", "Envie o corpo como JSON."),
}


class ApiWhatsapp(FastAPI):
    """FastAPI with the security layers outside Starlette's own stack: ``ServerErrorMiddleware``
    renders the 500 itself, past any middleware added with ``add_middleware``, so the headers
    layer must wrap it; the input layer runs before routing, auth and the CORS middleware that
    Reflex adds (``App._add_cors``) to the app it mounts."""

    def build_middleware_stack(self) -> ASGIApp:
        pilha = super().build_middleware_stack()
        entrada = EntradaSegura(MesmaOrigem(pilha), lambda: self.openapi().get("paths", {}))
        return CabecalhosSeguranca(entrada)


def _registrar_erros(api: FastAPI) -> None:
    @api.exception_handler(ErroApp)
    async def _erro_app(_request: Request, exc: ErroApp) -> JSONResponse:
        # e.g. ``Retry-After`` on the login limiter's 429
        cabecalhos: dict[str, str] | None = getattr(exc, "cabecalhos", None)
        return JSONResponse(exc.corpo(), status_code=exc.status, headers=cabecalhos)

    @api.exception_handler(RequestValidationError)
    async def _validacao(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            corpo_erro("validacao", "Dados inválidos.", traduzir_erros(exc.errors())),
            status_code=422,
        )

    @api.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codigo, mensagem = _CODIGOS_HTTP.get(exc.status_code, ("erro_http", "Erro na requisição."))
        return JSONResponse(
            corpo_erro(codigo, mensagem), status_code=exc.status_code, headers=exc.headers
        )

    @api.exception_handler(Exception)
    async def _inesperado(request: Request, exc: Exception) -> JSONResponse:
        referencia = uuid.uuid4().hex[:12]
        _log.exception(
            "erro inesperado", extra={"rota": request.url.path, "referencia": referencia}
        )
        return JSONResponse(
            corpo_erro("erro_interno", f"Erro interno. Tente novamente (referência {referencia})."),
            status_code=500,
        )


def criar_api() -> FastAPI:
    configurar_logs()
    api = ApiWhatsapp(
        title="WhatsApp follow-up API", docs_url="/api/docs", openapi_url="/api/openapi.json"
    )
    # The same origins rxconfig hands to Reflex's own CORS layers (which wrap this app when it is
    # served); here so the API holds the policy on its own too. Never "*" (config refuses it).
    api.add_middleware(
        CORSMiddleware,
        allow_origins=configuracoes().origens_cors(),
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["*"],
        max_age=600,
    )
    _registrar_erros(api)
    routers = (
        saude,
        auth,
        empresa,
        leads,
        automacoes,
        fila,
        despacho,
        flags,
        instancias,
        saude_despacho,
        webhooks,
    )
    for modulo in routers:
        api.include_router(modulo.router)

    @api.api_route(
        "/api/{caminho:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    async def _rota_desconhecida(caminho: str) -> JSONResponse:
        return JSONResponse(corpo_erro("nao_encontrado", "Rota não encontrada."), status_code=404)

    return api
