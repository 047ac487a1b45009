"""Company settings and pipeline stages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from whatsapp_app import db, empresas
from whatsapp_app.api.deps import AdminAtual, PaginaDep, SessaoDep, UsuarioAtual
from whatsapp_app.esquemas import EmpresaPublica, EstagioPublico, Pagina, erros
from whatsapp_app.validacoes import EmpresaAtualizacao

router = APIRouter(prefix="/api", tags=["empresa"])


@router.get("/empresa", response_model=EmpresaPublica, responses=erros(401, 404))
def obter(sessao: SessaoDep, usuario: UsuarioAtual) -> dict[str, Any]:
    """The caller's company settings."""
    empresa = empresas.obter_empresa(sessao=sessao, id_empresa=usuario.id_empresa)
    return empresas.empresa_publica(empresa)


@router.patch("/empresa", response_model=EmpresaPublica, responses=erros(400, 401, 403, 404))
def atualizar(dados: EmpresaAtualizacao, usuario: AdminAtual) -> dict[str, Any]:
    """Change name, time zone, sending window or opt-out words (admin)."""
    with db.sessao() as sessao:
        empresa = empresas.atualizar_empresa(
            sessao=sessao, id_empresa=usuario.id_empresa, dados=dados
        )
    return empresas.empresa_publica(empresa)


@router.get("/estagios", response_model=Pagina[EstagioPublico], responses=erros(401))
def listar_estagios(sessao: SessaoDep, usuario: UsuarioAtual, pagina: PaginaDep) -> dict[str, Any]:
    """The company's pipeline stages in order (paginated)."""
    return empresas.pagina_estagios(
        sessao=sessao, id_empresa=usuario.id_empresa, limite=pagina.limite, cursor=pagina.cursor
    )
