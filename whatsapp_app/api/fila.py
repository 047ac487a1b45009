"""Operator actions on many jobs at once (contract.md section 7): one outcome per id."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from whatsapp_app import db
from whatsapp_app.api.deps import GestorAtual
from whatsapp_app.esquemas import erros
from whatsapp_app.operacao import MAX_IDS_LOTE, acoes_em_lote

router = APIRouter(prefix="/api/whatsapp", tags=["agendamentos"])


class AcaoEmLote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    acao: Literal["reenviar", "marcar-enviado", "cancelar"]
    ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_IDS_LOTE
    )


class ErroItem(BaseModel):
    codigo: str
    mensagem: str


class ResultadoItem(BaseModel):
    id: str
    ok: bool
    status: str | None = Field(default=None, description="O status novo, quando deu certo.")
    erro: ErroItem | None = Field(default=None, description="Por que este id não mudou.")


class ResultadoLote(BaseModel):
    acao: str
    ok: int = Field(description="Quantos agendamentos mudaram.")
    falhas: int = Field(description="Quantos não mudaram (status incompatível ou não encontrado).")
    resultados: list[ResultadoItem]


@router.post("/agendamentos/acoes", response_model=ResultadoLote, responses=erros(400, 401, 403))
def acoes(dados: AcaoEmLote, usuario: GestorAtual) -> dict[str, Any]:
    """``reenviar`` (ERRO/INCERTO), ``marcar-enviado`` (INCERTO) or ``cancelar`` (PENDENTE) on
    many jobs (admin, gestor); each change is audited, and a wrong id never fails the batch."""
    with db.sessao() as sessao:
        resultados = acoes_em_lote(
            sessao=sessao,
            id_empresa=usuario.id_empresa,
            id_usuario=usuario.id_usuario,
            ids=dados.ids,
            acao=dados.acao.replace("-", "_"),
        )
    feitos = sum(1 for r in resultados if r["ok"])
    return {
        "acao": dados.acao,
        "ok": feitos,
        "falhas": len(resultados) - feitos,
        "resultados": resultados,
    }
