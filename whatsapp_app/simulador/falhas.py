"""Fault injection for the simulator's sends (``POST /__sim/falhas``) and its runtime settings
(``POST /__sim/config``), validated.

The decision for each send (``decidir``) draws from these rates or consumes the forced outcomes
in ``proximas``, so tests can script failures deterministically.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

FORMAS_DE_FALHA = ("ok", "429", "500", "timeout", "queda_antes", "queda_depois")


class Decisao(StrEnum):
    OK = "ok"
    E429 = "429"
    E500 = "500"
    TIMEOUT = "timeout"
    QUEDA_ANTES = "queda_antes"
    QUEDA_DEPOIS = "queda_depois"
    INEXISTENTE = "inexistente"
    DESCONECTADO = "desconectado"


@dataclass
class Falhas:
    """Fault injection, set by ``POST /__sim/falhas`` (unknown keys refused, partial updates)."""

    latencia_ms: int = 0
    taxa_429: float = 0.0
    taxa_500: float = 0.0
    taxa_timeout: float = 0.0
    taxa_queda: float = 0.0
    numeros_inexistentes: list[str] = field(default_factory=list)
    desconectado: bool = False
    semente: int | None = None
    # How long a "timeout" send holds its answer: longer than the app's PROVEDOR_TIMEOUT_S
    # (30 s by default), so the client gives up first.
    timeout_s: float = 60.0
    # Where a "queda" drops the connection: "antes" / "depois" storing the message, or random.
    queda_modo: str = "aleatorio"
    # Forced outcomes for the next sends, consumed in order (deterministic tests):
    # "ok" | "429" | "500" | "timeout" | "queda_antes" | "queda_depois".
    proximas: list[str] = field(default_factory=list)


class ErroFalhas(ValueError):
    pass


def validar_falhas(atual: Falhas, dados: Any) -> Falhas:
    if not isinstance(dados, dict):
        raise ErroFalhas("corpo deve ser um objeto JSON")
    valores = asdict(atual)
    for chave, valor in dados.items():
        if chave not in valores:
            raise ErroFalhas(f"campo desconhecido: {chave}")
        valores[chave] = valor
    try:
        falhas = Falhas(
            latencia_ms=int(valores["latencia_ms"]),
            taxa_429=float(valores["taxa_429"]),
            taxa_500=float(valores["taxa_500"]),
            taxa_timeout=float(valores["taxa_timeout"]),
            taxa_queda=float(valores["taxa_queda"]),
            numeros_inexistentes=[
                "".join(c for c in str(n) if c.isdigit()) for n in valores["numeros_inexistentes"]
            ],
            desconectado=bool(valores["desconectado"]),
            semente=None if valores["semente"] is None else int(valores["semente"]),
            timeout_s=float(valores["timeout_s"]),
            queda_modo=str(valores["queda_modo"]),
            proximas=[str(p) for p in valores["proximas"]],
        )
    except (TypeError, ValueError) as exc:
        raise ErroFalhas(f"valor inválido: {exc}") from exc
    taxas = (falhas.taxa_429, falhas.taxa_500, falhas.taxa_timeout, falhas.taxa_queda)
    if any(t < 0 or t > 1 for t in taxas) or sum(taxas) > 1:
        raise ErroFalhas("taxas devem estar entre 0 e 1 e somar no máximo 1")
    if falhas.queda_modo not in {"antes", "depois", "aleatorio"}:
        raise ErroFalhas("queda_modo deve ser antes, depois ou aleatorio")
    if any(p not in FORMAS_DE_FALHA for p in falhas.proximas):
        raise ErroFalhas(f"proximas aceita apenas: {', '.join(FORMAS_DE_FALHA)}")
    if falhas.latencia_ms < 0 or falhas.timeout_s < 0:
        raise ErroFalhas("latencia_ms e timeout_s não podem ser negativos")
    return falhas


def decidir(falhas: Falhas, aleatorio: random.Random, numero: str) -> Decisao:
    """The outcome of the next send to ``numero`` (consumes one forced outcome, if any)."""
    if falhas.desconectado:
        return Decisao.DESCONECTADO
    if numero in falhas.numeros_inexistentes:
        return Decisao.INEXISTENTE
    if falhas.proximas:
        return Decisao(falhas.proximas.pop(0))
    sorteio = aleatorio.random()
    decisao = Decisao.OK
    limite = 0.0
    for taxa, resultado in (
        (falhas.taxa_429, Decisao.E429),
        (falhas.taxa_500, Decisao.E500),
        (falhas.taxa_timeout, Decisao.TIMEOUT),
        (falhas.taxa_queda, Decisao.QUEDA_ANTES),
    ):
        limite += taxa
        if sorteio < limite:
            decisao = resultado
            break
    if decisao == Decisao.QUEDA_ANTES and falhas.queda_modo != "antes":
        depois = falhas.queda_modo == "depois" or aleatorio.random() < 0.5
        decisao = Decisao.QUEDA_DEPOIS if depois else Decisao.QUEDA_ANTES
    return decisao


class ErroConfig(ValueError):
    pass


CAMPOS_CONFIG = ("leitura_s", "auto_conectar_s", "criar_sob_demanda")


def validar_config(dados: Any, *, sob_demanda_atual: bool) -> dict[str, Any]:
    """The settings present in ``dados`` (partial update; ``criar_sob_demanda`` always set).
    Timers take seconds >= 0 or null (0 and null: never)."""
    if not isinstance(dados, dict):
        raise ErroConfig("corpo deve ser um objeto JSON")
    desconhecidos = sorted(set(dados) - set(CAMPOS_CONFIG))
    if desconhecidos:
        raise ErroConfig(f"campo desconhecido: {', '.join(desconhecidos)}")
    novos: dict[str, Any] = {}
    for chave in ("leitura_s", "auto_conectar_s"):
        if chave not in dados:
            continue
        valor = dados[chave]
        if valor is not None and (
            isinstance(valor, bool) or not isinstance(valor, int | float) or valor < 0
        ):
            raise ErroConfig(f"{chave} deve ser um número de segundos >= 0 ou null")
        novos[chave] = None if valor is None else float(valor)
    sob_demanda = dados.get("criar_sob_demanda", sob_demanda_atual)
    if not isinstance(sob_demanda, bool):
        raise ErroConfig("criar_sob_demanda deve ser true ou false")
    novos["criar_sob_demanda"] = sob_demanda
    return novos
