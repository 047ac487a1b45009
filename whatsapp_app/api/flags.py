"""Admin feature flags (per company; FEATURE_FLAGS in the environment wins)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from whatsapp_app import db, feature_flags
from whatsapp_app.api.deps import AdminAtual, SessaoDep, UsuarioAtual
from whatsapp_app.esquemas import FlagPublica, erros
from whatsapp_app.validacoes import Entrada


class FlagEntrada(Entrada):
    chave: str = Field(min_length=1, max_length=64)
    ativo: bool


router = APIRouter(prefix="/api/feature-flags", tags=["flags"])
Flags = dict[str, FlagPublica]


@router.get("", response_model=Flags, responses=erros(401))
def listar(sessao: SessaoDep, usuario: UsuarioAtual) -> dict[str, dict[str, object]]:
    """Every flag (by key) with its effective value and origin."""
    return feature_flags.flags_da_empresa(sessao=sessao, id_empresa=usuario.id_empresa)


@router.patch("", response_model=Flags, responses=erros(400, 401, 403))
def definir(dados: FlagEntrada, usuario: AdminAtual) -> dict[str, dict[str, object]]:
    """Turn a flag on or off for the caller's company (admin)."""
    with db.sessao() as sessao:
        feature_flags.definir_flag(
            sessao=sessao, id_empresa=usuario.id_empresa, chave=dados.chave, ativo=dados.ativo
        )
        return feature_flags.flags_da_empresa(sessao=sessao, id_empresa=usuario.id_empresa)
