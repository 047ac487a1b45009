"""Provider webhooks (no user session: each delivery authenticates itself; see webhooks.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from whatsapp_app import webhooks
from whatsapp_app.esquemas import (
    ResultadoWebhookEvolution,
    ResultadoWebhookMeta,
    erros,
    erros_json,
    texto_puro,
)
from whatsapp_app.providers.cloud_api_webhook import CABECALHO_ASSINATURA
from whatsapp_app.providers.evolution import CABECALHO_SEGREDO_WEBHOOK
from whatsapp_app.validacoes import SemPermissao

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])

# The routes read the raw body themselves (the Meta signature is over those bytes), so FastAPI
# does not know there is one: documented here. Any JSON the provider sends; unknown events and
# unexpected shapes are ignored.
_CORPO_DO_PROVEDOR = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.post(
    "/evolution/{id_instancia}",
    response_model=ResultadoWebhookEvolution,
    responses=erros(401),
    openapi_extra=_CORPO_DO_PROVEDOR,
)
async def evolution(id_instancia: str, request: Request) -> dict[str, Any]:
    """Evolution/simulador delivery, authenticated by the instance's ``X-Webhook-Segredo``."""
    corpo = await request.body()
    return await run_in_threadpool(
        webhooks.receber_evolution,
        id_instancia=id_instancia,
        segredo=request.headers.get(CABECALHO_SEGREDO_WEBHOOK),
        corpo_bruto=corpo,
    )


@router.get(
    "/meta",
    response_class=PlainTextResponse,
    responses={**texto_puro("O hub.challenge, ecoado."), **erros_json(403)},
)
def meta_verificacao(
    mode: str | None = Query(default=None, alias="hub.mode", max_length=32),
    token: str | None = Query(default=None, alias="hub.verify_token", max_length=500),
    challenge: str | None = Query(default=None, alias="hub.challenge", max_length=500),
) -> PlainTextResponse:
    """Meta's verification handshake: echo ``hub.challenge`` when the token is ours."""
    resposta = webhooks.verificar_meta(mode, token, challenge)
    if resposta is None:
        raise SemPermissao("Token de verificação inválido.", codigo="verificacao_recusada")
    return PlainTextResponse(resposta)


@router.post(
    "/meta",
    response_model=ResultadoWebhookMeta,
    responses=erros(401),
    openapi_extra=_CORPO_DO_PROVEDOR,
)
async def meta(request: Request) -> dict[str, Any]:
    """Cloud API delivery, authenticated by ``X-Hub-Signature-256`` over the raw body."""
    corpo = await request.body()
    return await run_in_threadpool(
        webhooks.receber_meta,
        corpo_bruto=corpo,
        assinatura=request.headers.get(CABECALHO_ASSINATURA),
    )
