"""Keyset pagination for list routes (contract.md section 7).

A page answers ``{"itens": [...], "proximo_cursor": "..." | None, "total": n}``. The cursor is
opaque to clients: the sort key of the last row handed out, so a page never skips or repeats
a row when rows are added meanwhile (unlike OFFSET).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, select

from whatsapp_app.validacoes import ErroValidacao

LIMITE_PADRAO = 50
LIMITE_MAXIMO = 200

T = TypeVar("T")


def codificar_cursor(valores: Sequence[Any]) -> str:
    texto = json.dumps(list(valores), separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(texto.encode()).decode().rstrip("=")


def _cursor_invalido() -> ErroValidacao:
    return ErroValidacao({"cursor": "Cursor inválido: use o proximo_cursor da página anterior."})


def instante_do_cursor(valor: str) -> datetime:
    try:
        instante = datetime.fromisoformat(valor)
        if instante.tzinfo is None:
            raise ValueError(valor)
        return instante.astimezone(UTC)  # year 1 at +01:00 overflows: not a cursor we made
    except (ValueError, OverflowError):
        raise _cursor_invalido() from None


def decodificar_cursor(cursor: str | None, *, partes: int) -> list[str] | None:
    """The sort key a cursor carries (``partes`` strings), or 422 for anything else."""
    if not cursor:
        return None
    try:
        bruto = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        valores = json.loads(bruto)
    except (ValueError, UnicodeDecodeError):
        valores = None
    if (
        not isinstance(valores, list)
        or len(valores) != partes
        or not all(isinstance(v, str) and len(v) <= 64 for v in valores)
    ):
        raise _cursor_invalido()
    return valores


def pagina(
    linhas: list[T],
    *,
    limite: int,
    total: int,
    chave: Callable[[T], Sequence[Any]],
    publico: Callable[[T], dict[str, Any]],
) -> dict[str, Any]:
    """``linhas`` was fetched with ``limite + 1`` rows: the extra one says a next page exists."""
    tem_mais = len(linhas) > limite
    itens = linhas[:limite]
    return {
        "itens": [publico(linha) for linha in itens],
        "proximo_cursor": codificar_cursor(chave(itens[-1])) if tem_mais and itens else None,
        "total": total,
    }


def _valor_do_cursor(coluna: Any, bruto: str) -> Any:
    tipo = coluna.type
    if isinstance(tipo, sa.types.TypeDecorator):
        tipo = tipo.impl_instance
    if isinstance(tipo, sa.DateTime):
        return instante_do_cursor(bruto)
    if isinstance(tipo, sa.Integer):
        try:
            return int(bruto)
        except ValueError:
            raise _cursor_invalido() from None
    return bruto


def _depois_de(colunas: Sequence[Any], valores: Sequence[Any], decrescente: bool) -> Any:
    """Rows strictly after the cursor in (c1, c2, ...) order: the keyset condition."""
    alternativas = []
    for i, coluna in enumerate(colunas):
        iguais = [colunas[j] == valores[j] for j in range(i)]
        passo = coluna < valores[i] if decrescente else coluna > valores[i]
        alternativas.append(sa.and_(*iguais, passo))
    return sa.or_(*alternativas)


def _serializar(valor: Any) -> str:
    return valor.isoformat() if isinstance(valor, datetime) else str(valor)


def paginar(
    sessao: Session,
    consulta: Any,
    *,
    colunas: Sequence[Any],
    limite: int,
    cursor: str | None,
    publico: Callable[[Any], dict[str, Any]],
    decrescente: bool = False,
) -> dict[str, Any]:
    """One page of ``consulta`` (a ``select`` of one model) in ``colunas`` order, which must
    end in a unique column (the id). ``total`` counts every row the filters match."""
    total = sessao.exec(
        select(sa.func.count()).select_from(consulta.order_by(None).subquery())
    ).one()
    valores = decodificar_cursor(cursor, partes=len(colunas))
    if valores is not None:
        convertidos = [_valor_do_cursor(c, v) for c, v in zip(colunas, valores, strict=True)]
        consulta = consulta.where(_depois_de(colunas, convertidos, decrescente))
    ordem = [c.desc() if decrescente else c.asc() for c in colunas]
    linhas = list(sessao.exec(consulta.order_by(*ordem).limit(limite + 1)).all())
    nomes = [c.key for c in colunas]
    return pagina(
        linhas,
        limite=limite,
        total=int(total),
        chave=lambda linha: [_serializar(getattr(linha, n)) for n in nomes],
        publico=publico,
    )
