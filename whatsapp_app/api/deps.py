"""Dependencies shared by every router: the database session and the caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from whatsapp_app import db
from whatsapp_app.auth import NOME_COOKIE, Contexto, exigir_contexto
from whatsapp_app.models import Perfil


def _sessao() -> Iterator[Session]:
    with db.sessao() as s:
        yield s


def token_da_requisicao(request: Request) -> str | None:
    autorizacao = request.headers.get("authorization", "")
    esquema, _, valor = autorizacao.partition(" ")
    if esquema.lower() == "bearer" and valor.strip():
        return valor.strip()
    return request.cookies.get(NOME_COOKIE)


def ip_da_requisicao(request: Request) -> str:
    return request.client.host if request.client else "desconhecido"


def _usuario(request: Request) -> Contexto:
    return exigir_contexto(token_da_requisicao(request))


def exigir_perfil(*perfis: Perfil) -> Callable[[Request], Contexto]:
    def _dependencia(request: Request) -> Contexto:
        return exigir_contexto(token_da_requisicao(request), *perfis)

    return _dependencia


SessaoDep = Annotated[Session, Depends(_sessao)]
UsuarioAtual = Annotated[Contexto, Depends(_usuario)]
AdminAtual = Annotated[Contexto, Depends(exigir_perfil(Perfil.ADMIN))]
GestorAtual = Annotated[Contexto, Depends(exigir_perfil(Perfil.ADMIN, Perfil.GESTOR))]
