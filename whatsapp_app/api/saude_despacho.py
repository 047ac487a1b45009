"""Saúde do despacho: the company's dispatch counters (admin), for the rollout watch."""

from __future__ import annotations

from fastapi import APIRouter

from whatsapp_app import saude_despacho
from whatsapp_app.api.deps import AdminAtual, SessaoDep
from whatsapp_app.esquemas import SaudeDespachoPublica, erros

router = APIRouter(prefix="/api/whatsapp", tags=["saude-despacho"])


@router.get("/saude-despacho", response_model=SaudeDespachoPublica, responses=erros(401, 403))
def obter(sessao: SessaoDep, usuario: AdminAtual) -> SaudeDespachoPublica:
    """The caller's company counters over 24 h and 7 days, summed across every process (admin)."""
    dados = saude_despacho.saude_despacho(sessao=sessao, id_empresa=usuario.id_empresa)
    return SaudeDespachoPublica.model_validate(dados)
