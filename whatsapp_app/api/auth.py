"""Login and logout for browsers (cookie) and API clients (bearer token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from whatsapp_app import auth
from whatsapp_app.api.deps import UsuarioAtual, ip_da_requisicao, token_da_requisicao
from whatsapp_app.config import configuracoes
from whatsapp_app.validacoes import LoginEntrada

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login")
def login(dados: LoginEntrada, request: Request, response: Response) -> dict[str, Any]:
    """Check the credentials; set the session cookie and return the bearer token."""
    token, contexto = auth.autenticar(
        email=dados.email, senha=dados.senha, ip=ip_da_requisicao(request)
    )
    response.set_cookie(
        auth.NOME_COOKIE,
        token,
        max_age=configuracoes().sessao_horas * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return {"token": token, "perfil": contexto.perfil, "id_empresa": contexto.id_empresa}


@router.post("/logout")
def logout(request: Request, response: Response) -> dict[str, bool]:
    """Revoke the session and clear the cookie."""
    auth.encerrar_sessao(token_da_requisicao(request))
    response.delete_cookie(auth.NOME_COOKIE, path="/")
    return {"ok": True}


@router.get("/me")
def eu(usuario: UsuarioAtual) -> dict[str, Any]:
    """Who the session belongs to."""
    return {
        "id": usuario.id_usuario,
        "nome": usuario.nome,
        "email": usuario.email,
        "perfil": usuario.perfil,
        "id_empresa": usuario.id_empresa,
        "empresa": usuario.nome_empresa,
    }
