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
# Totals are counted up to this many rows: beyond it a list says "mais de 10.000".
LIMITE_CONTAGEM = 10_000

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
    total_exato: bool = True,
) -> dict[str, Any]:
    """``linhas`` was fetched with ``limite + 1`` rows: the extra one says a next page exists."""
    tem_mais = len(linhas) > limite
    itens = linhas[:limite]
    return {
        "itens": [publico(linha) for linha in itens],
        "proximo_cursor": codificar_cursor(chave(itens[-1])) if tem_mais and itens else None,
        "total": total,
        "total_exato": total_exato,
    }


def contar_ate(sessao: Session, consulta: Any, teto: int | None = None) -> int:
    """How many rows ``consulta`` matches, counting at most ``teto + 1`` (default
    LIMITE_CONTAGEM): a bounded index range instead of a scan of every matching row, so a
    count stays fast at millions of rows (bench/escala.py). Above ``teto`` the answer is
    ``teto + 1``: "more than ``teto``"."""
    teto = LIMITE_CONTAGEM if teto is None else teto
    limitada = consulta.order_by(None).limit(teto + 1).subquery()
    return int(sessao.exec(select(sa.func.count()).select_from(limitada)).one())


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
    end in a unique column (the id). ``total`` counts the rows the filters match up to
    LIMITE_CONTAGEM; above it ``total`` is LIMITE_CONTAGEM and ``total_exato`` false."""
    contados = contar_ate(sessao, consulta)
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
        total=min(contados, LIMITE_CONTAGEM),
        total_exato=contados <= LIMITE_CONTAGEM,
        chave=lambda linha: [_serializar(getattr(linha, n)) for n in nomes],
        publico=publico,
    )
