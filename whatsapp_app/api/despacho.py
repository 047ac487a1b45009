"""Dispatch entry points and metrics: both endpoints call the one dispatcher and nothing else."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from whatsapp_app import metricas
from whatsapp_app.api.deps import GestorAtual, exigir_token_de_servico
from whatsapp_app.config import configuracoes
from whatsapp_app.esquemas import ResumoDespachoPublico, erros, erros_json, texto_puro
from whatsapp_app.whatsapp_automations import processar_agendamentos_follow_up_whatsapp

router = APIRouter(prefix="/api", tags=["despacho"])


@router.post(
    "/whatsapp/automations/follow-up/dispatch",
    response_model=ResumoDespachoPublico,
    responses=erros(401, 403),
)
async def despachar_empresa(usuario: GestorAtual) -> dict[str, int]:
    """Dispatch the caller's company's due jobs now (admin, gestor)."""
    return await run_in_threadpool(
        processar_agendamentos_follow_up_whatsapp, id_empresa=usuario.id_empresa
    )


@router.post(
    "/internal/whatsapp/follow-up/dispatch",
    response_model=ResumoDespachoPublico,
    responses=erros(401, 403),
)
async def despachar_todas(request: Request) -> dict[str, int]:
    """Dispatch every company's due jobs (``Bearer $INTERNAL_DISPATCH_TOKEN``)."""
    exigir_token_de_servico(request, configuracoes().internal_dispatch_token)
    return await run_in_threadpool(processar_agendamentos_follow_up_whatsapp)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={**texto_puro("Formato de texto do Prometheus."), **erros_json(401)},
)
def metricas_prometheus(request: Request) -> Response:
    """Prometheus text format (``Bearer $METRICS_TOKEN``)."""
    exigir_token_de_servico(request, configuracoes().metrics_token)
    return Response(metricas.exportar(), media_type=CONTENT_TYPE_LATEST)
