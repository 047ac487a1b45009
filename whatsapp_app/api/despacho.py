"""Dispatch entry points and metrics: both endpoints call the one dispatcher and nothing else."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from whatsapp_app import db, disparos, metricas
from whatsapp_app.api.deps import (
    GestorAtual,
    PaginaDep,
    SessaoDep,
    UsuarioAtual,
    exigir_token_de_servico,
)
from whatsapp_app.config import configuracoes
from whatsapp_app.esquemas import (
    DisparoManualPublico,
    Pagina,
    ResumoDespachoPublico,
    erros,
    erros_json,
    texto_puro,
)
from whatsapp_app.whatsapp_automations import processar_agendamentos_follow_up_whatsapp

router = APIRouter(prefix="/api", tags=["despacho"])


@router.post(
    "/whatsapp/automations/follow-up/dispatch",
    response_model=ResumoDespachoPublico,
    responses=erros(401, 403, 404),
)
async def despachar_empresa(
    usuario: GestorAtual,
    id_whatsapp_instancia: str | None = Query(
        default=None, max_length=32, description="Só os envios desta instância."
    ),
) -> dict[str, int]:
    """Dispatch the caller's company's due jobs now (admin, gestor), until none is left or a
    cancel is requested; the run joins the history (``GET /api/whatsapp/dispatches``)."""
    disparo = await run_in_threadpool(
        disparos.disparar,
        id_empresa=usuario.id_empresa,
        id_usuario=usuario.id_usuario,
        nome_usuario=usuario.nome,
        id_whatsapp_instancia=id_whatsapp_instancia,
    )
    resumo: dict[str, int] = disparo["resumo"]
    return resumo


@router.get(
    "/whatsapp/dispatches",
    response_model=Pagina[DisparoManualPublico],
    responses=erros(401),
)
def listar_disparos(sessao: SessaoDep, usuario: UsuarioAtual, pagina: PaginaDep) -> dict[str, Any]:
    """The company's manual dispatches, newest first, paginated."""
    return disparos.pagina_disparos(
        sessao=sessao, id_empresa=usuario.id_empresa, limite=pagina.limite, cursor=pagina.cursor
    )


@router.get(
    "/whatsapp/dispatches/{id_disparo}",
    response_model=DisparoManualPublico,
    responses=erros(401, 404),
)
def obter_disparo(id_disparo: str, sessao: SessaoDep, usuario: UsuarioAtual) -> dict[str, Any]:
    """One manual dispatch (follow a run: its summary grows while it sends)."""
    return disparos.disparo_publico(
        disparos.obter_disparo(sessao=sessao, id_empresa=usuario.id_empresa, id_disparo=id_disparo)
    )


@router.post(
    "/whatsapp/dispatches/{id_disparo}/cancelar",
    response_model=DisparoManualPublico,
    responses=erros(401, 403, 404, 409),
)
def cancelar_disparo(id_disparo: str, usuario: GestorAtual) -> dict[str, Any]:
    """Stop a running dispatch (admin, gestor): nothing more is claimed, claims not yet sent go
    back to the queue untouched, sends already started finish. 409 once it has ended."""
    with db.sessao() as sessao:
        return disparos.solicitar_cancelamento(
            sessao=sessao, id_empresa=usuario.id_empresa, id_disparo=id_disparo
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
