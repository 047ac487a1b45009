"""Login and logout for browsers (cookie) and API clients (bearer token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from whatsapp_app import auth
from whatsapp_app.api.deps import UsuarioAtual, ip_da_requisicao, token_da_requisicao
from whatsapp_app.config import configuracoes
from whatsapp_app.esquemas import Ok, RespostaLogin, SessaoIniciada, UsuarioPublico, erros
from whatsapp_app.validacoes import LoginEntrada

router = APIRouter(prefix="/api/auth", tags=["auth"])


def _gravar_cookie(request: Request, response: Response, token: str) -> None:
    """The session cookie: HttpOnly (no page script reads it), SameSite=Lax, Secure behind
    https (``SESSAO_COOKIE_SEGURO``: auto follows the scheme or ``X-Forwarded-Proto``)."""
    cfg = configuracoes()
    if cfg.sessao_cookie_seguro == "auto":
        encaminhado = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
        seguro = request.url.scheme == "https" or encaminhado.lower() == "https"
    else:
        seguro = cfg.sessao_cookie_seguro == "sim"
    response.set_cookie(
        auth.NOME_COOKIE,
        token,
        max_age=cfg.sessao_horas * 3600,
        httponly=True,
        samesite="lax",
        secure=seguro,
        path="/",
    )


@router.post("/login", response_model=RespostaLogin, responses=erros(400, 401, 403, 429))
def login(dados: LoginEntrada, request: Request, response: Response) -> dict[str, Any]:
    """API clients: check the credentials; set the session cookie and return the bearer
    token."""
    token, contexto = auth.autenticar(
        email=dados.email, senha=dados.senha, ip=ip_da_requisicao(request)
    )
    _gravar_cookie(request, response, token)
    return {"token": token, "perfil": contexto.perfil, "id_empresa": contexto.id_empresa}


@router.post("/sessao", response_model=SessaoIniciada, responses=erros(400, 401, 403, 429))
def sessao(dados: LoginEntrada, request: Request, response: Response) -> dict[str, Any]:
    """The browser login: the same check, but the token only travels in the HttpOnly cookie
    (never in a body a page script could read)."""
    token, contexto = auth.autenticar(
        email=dados.email, senha=dados.senha, ip=ip_da_requisicao(request)
    )
    _gravar_cookie(request, response, token)
    return {"ok": True, "perfil": contexto.perfil}


@router.post("/logout", response_model=Ok, responses=erros(403))
def logout(request: Request, response: Response) -> dict[str, bool]:
    """Revoke the session and clear the cookie."""
    auth.encerrar_sessao(token_da_requisicao(request))
    response.delete_cookie(auth.NOME_COOKIE, path="/")
    return {"ok": True}


@router.get("/me", response_model=UsuarioPublico, responses=erros(401))
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
