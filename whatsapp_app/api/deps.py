"""Dependencies shared by every router: the database session and the caller."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from whatsapp_app import db, paginacao
from whatsapp_app.auth import (
    NOME_COOKIE,
    PERFIS_GESTAO,
    Contexto,
    contexto_em_cache,
    exigir_contexto,
)
from whatsapp_app.models import Perfil
from whatsapp_app.validacoes import NaoAutenticado


def _sessao() -> Iterator[Session]:
    with db.sessao() as s:
        yield s


def bearer_da_requisicao(request: Request) -> str:
    """The ``Authorization: Bearer`` value, or an empty string."""
    esquema, _, valor = request.headers.get("authorization", "").partition(" ")
    return valor.strip() if esquema.lower() == "bearer" else ""


def token_da_requisicao(request: Request) -> str | None:
    """A user's session: the bearer token, else the browser's cookie."""
    return bearer_da_requisicao(request) or request.cookies.get(NOME_COOKIE)


def exigir_token_de_servico(request: Request, esperado: str) -> None:
    """Machine-to-machine bearer (internal dispatch, metrics), compared in constant time; an
    unset token refuses everyone."""
    recebido = bearer_da_requisicao(request)
    if not esperado or not hmac.compare_digest(recebido.encode(), esperado.encode()):
        raise NaoAutenticado("Token inválido.")


def ip_da_requisicao(request: Request) -> str:
    return request.client.host if request.client else "desconhecido"


async def _contexto(request: Request, *perfis: Perfil) -> Contexto:
    """The caller: from this process's token cache on the event loop (no thread hop, no
    database), else looked up in a worker thread (auth.py, ``SESSAO_CACHE_S``)."""
    token = token_da_requisicao(request)
    contexto = contexto_em_cache(token)
    if contexto is not None:
        return contexto.exigir(*perfis)
    return await run_in_threadpool(exigir_contexto, token, *perfis)


def exigir_perfil(*perfis: Perfil) -> Callable[[Request], Awaitable[Contexto]]:
    """The signed-in caller, refused (403) unless of one of ``perfis`` (none: any profile)."""

    async def _dependencia(request: Request) -> Contexto:
        return await _contexto(request, *perfis)

    return _dependencia


SessaoDep = Annotated[Session, Depends(_sessao)]
UsuarioAtual = Annotated[Contexto, Depends(exigir_perfil())]
AdminAtual = Annotated[Contexto, Depends(exigir_perfil(Perfil.ADMIN))]
GestorAtual = Annotated[Contexto, Depends(exigir_perfil(*PERFIS_GESTAO))]


@dataclass(frozen=True)
class Paginacao:
    limite: int
    cursor: str | None


def _paginacao(
    limite: int = Query(
        default=paginacao.LIMITE_PADRAO,
        ge=1,
        le=paginacao.LIMITE_MAXIMO,
        description="Itens por página (1 a 200).",
    ),
    cursor: str | None = Query(
        default=None, max_length=512, description="O proximo_cursor da página anterior."
    ),
) -> Paginacao:
    return Paginacao(limite, cursor)


PaginaDep = Annotated[Paginacao, Depends(_paginacao)]
