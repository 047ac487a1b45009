"""Saúde do despacho: the company's dispatch counters (admin), for the rollout watch."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from whatsapp_app import saude_despacho
from whatsapp_app.api.deps import AdminAtual, SessaoDep
from whatsapp_app.esquemas import erros

router = APIRouter(prefix="/api/whatsapp", tags=["saude-despacho"])


class ContagensDespacho(BaseModel):
    reivindicados: int = Field(
        description="Envios que um despachante assumiu (PENDENTE → PROCESSANDO)."
    )
    enviados: int = Field(description="Envios aceitos pelo provedor.")
    duplicados_bloqueados: int = Field(
        description="Agendamentos repetidos recusados pela chave de idempotência."
    )
    reivindicacoes_perdidas: int = Field(
        description="Envios que outro despachante assumiu primeiro (disputa perdida)."
    )
    recuperados: int = Field(description="Envios de um despachante que parou, retomados.")
    incertos: int = Field(description="Envios sem confirmação do provedor (INCERTO).")
    cancelados_resposta: int = Field(description="Envios cancelados porque o lead respondeu.")
    cancelados_optout: int = Field(description="Envios cancelados porque o lead se descadastrou.")


class PontoHoraDespacho(BaseModel):
    inicio: datetime = Field(description="Início da hora (UTC).")
    contagens: ContagensDespacho


class PontoDiaDespacho(BaseModel):
    dia: date = Field(description="Dia no fuso horário da empresa.")
    contagens: ContagensDespacho


class SaudeDespachoPublica(BaseModel):
    gerado_em: datetime
    fuso_horario: str
    ultimas_24h: ContagensDespacho
    ultimos_7_dias: ContagensDespacho
    por_hora: list[PontoHoraDespacho] = Field(description="As últimas 24 horas, da mais antiga.")
    por_dia: list[PontoDiaDespacho] = Field(description="Os últimos 7 dias, do mais antigo.")


@router.get("/saude-despacho", response_model=SaudeDespachoPublica, responses=erros(401, 403))
def obter(sessao: SessaoDep, usuario: AdminAtual) -> SaudeDespachoPublica:
    """The caller's company counters over 24 h and 7 days, summed across every process (admin)."""
    dados = saude_despacho.saude_despacho(sessao=sessao, id_empresa=usuario.id_empresa)
    return SaudeDespachoPublica.model_validate(dados)
