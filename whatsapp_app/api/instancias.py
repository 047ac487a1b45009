"""WhatsApp instances (contract.md sections 4 and 7): create, list, status, connect, restart,
logout, rename, delete, Cloud API templates. Secrets never leave ``instancias.instancia_publica``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from whatsapp_app import db, modelos_cloud
from whatsapp_app import instancias as servico
from whatsapp_app.api.deps import AdminAtual, GestorAtual, PaginaDep, SessaoDep, UsuarioAtual
from whatsapp_app.esquemas import (
    AcaoInstancia,
    ConexaoInstancia,
    InstanciaExcluida,
    InstanciaPublica,
    ModeloMensagem,
    Pagina,
    StatusInstanciaPublico,
    erros,
)

router = APIRouter(prefix="/api/whatsapp", tags=["instancias"])


@router.get("/instances", response_model=Pagina[InstanciaPublica], responses=erros(401))
def listar(sessao: SessaoDep, usuario: UsuarioAtual, pagina: PaginaDep) -> dict[str, Any]:
    """The company's instances (config masked, never a secret), paginated."""
    return servico.pagina_instancias(
        sessao=sessao, id_empresa=usuario.id_empresa, limite=pagina.limite, cursor=pagina.cursor
    )


@router.post(
    "/instances",
    status_code=201,
    response_model=InstanciaPublica,
    responses=erros(400, 401, 403),
)
def criar(dados: servico.InstanciaEntrada, usuario: AdminAtual) -> dict[str, Any]:
    """Create an instance (admin); Evolution/simulador get their webhook pointed at us."""
    with db.sessao() as sessao:
        instancia = servico.criar_instancia(
            sessao=sessao, id_empresa=usuario.id_empresa, dados=dados
        )
    servico.configurar_webhook(id_empresa=usuario.id_empresa, id_instancia=instancia.id)
    with db.sessao() as sessao:
        return servico.instancia_publica(
            servico.obter_instancia(
                sessao=sessao, id_empresa=usuario.id_empresa, id_instancia=instancia.id
            )
        )


@router.get(
    "/instances/{id_instancia}/status",
    response_model=StatusInstanciaPublico,
    responses=erros(401, 404),
)
def status(id_instancia: str, sessao: SessaoDep, usuario: UsuarioAtual) -> dict[str, Any]:
    """Connection state, last sync and queue stats of the automations using it."""
    return servico.status_instancia(
        sessao=sessao, id_empresa=usuario.id_empresa, id_instancia=id_instancia
    )


@router.get(
    "/instances/{id_instancia}/modelos",
    response_model=Pagina[ModeloMensagem],
    responses=erros(401, 403, 404, 502),
)
def modelos(
    id_instancia: str,
    sessao: SessaoDep,
    usuario: GestorAtual,
    pagina: PaginaDep,
) -> dict[str, Any]:
    """Approved Cloud API templates of the instance's WABA (admin, gestor); other providers
    answer an empty list."""
    todos = modelos_cloud.listar_modelos(
        sessao=sessao, id_empresa=usuario.id_empresa, id_instancia=id_instancia
    )
    return modelos_cloud.pagina_de_modelos(todos, limite=pagina.limite, cursor=pagina.cursor)


@router.post(
    "/instances/{id_instancia}/connect",
    response_model=ConexaoInstancia,
    response_model_exclude_none=True,
    responses=erros(401, 403, 404, 502),
)
def conectar(id_instancia: str, usuario: GestorAtual) -> dict[str, Any]:
    """Start pairing: ``{"status", "qr_base64"?, "pairing_code"?}`` (admin, gestor)."""
    return servico.conectar_instancia(id_empresa=usuario.id_empresa, id_instancia=id_instancia)


@router.post(
    "/instances/{id_instancia}/restart",
    response_model=AcaoInstancia,
    responses=erros(401, 403, 404, 502),
)
def reiniciar(id_instancia: str, usuario: GestorAtual) -> dict[str, Any]:
    """Restart the provider session (admin, gestor)."""
    return servico.reiniciar_instancia(id_empresa=usuario.id_empresa, id_instancia=id_instancia)


@router.post(
    "/instances/{id_instancia}/logout",
    response_model=AcaoInstancia,
    responses=erros(401, 403, 404, 409, 502),
)
def desconectar(id_instancia: str, usuario: GestorAtual) -> dict[str, Any]:
    """Log the WhatsApp session out (admin, gestor)."""
    return servico.desconectar_instancia(id_empresa=usuario.id_empresa, id_instancia=id_instancia)


@router.patch(
    "/instances/{id_instancia}",
    response_model=InstanciaPublica,
    responses=erros(400, 401, 403, 404, 422),
)
def renomear(
    id_instancia: str, dados: servico.InstanciaRenomeacao, usuario: AdminAtual
) -> dict[str, Any]:
    """Rename the instance (admin); the name is unique within the company."""
    with db.sessao() as sessao:
        instancia = servico.renomear_instancia(
            sessao=sessao, id_empresa=usuario.id_empresa, id_instancia=id_instancia, nome=dados.nome
        )
        return servico.instancia_publica(instancia)


@router.delete(
    "/instances/{id_instancia}",
    response_model=InstanciaExcluida,
    responses=erros(401, 403, 404),
)
def excluir(id_instancia: str, usuario: AdminAtual) -> dict[str, Any]:
    """Hide the instance, disable its automations, cancel their pending jobs (admin)."""
    with db.sessao() as sessao:
        resumo = servico.excluir_instancia(
            sessao=sessao, id_empresa=usuario.id_empresa, id_instancia=id_instancia
        )
    return {"ok": True, **resumo}
