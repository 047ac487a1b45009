"""pt-BR display formatting shared by every screen: dates, relative times, counts, colours.

Display only: nothing here decides anything about the data.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FUSO_PADRAO = "America/Sao_Paulo"
# Radix colour scales a stage may use; anything else is shown as gray.
CORES_RADIX = frozenset(
    [
        "gray",
        "mauve",
        "slate",
        "sage",
        "olive",
        "sand",
        "tomato",
        "red",
        "ruby",
        "crimson",
        "pink",
        "plum",
        "purple",
        "violet",
        "iris",
        "indigo",
        "blue",
        "cyan",
        "teal",
        "jade",
        "green",
        "grass",
        "bronze",
        "gold",
        "brown",
        "orange",
        "amber",
        "yellow",
        "lime",
        "mint",
        "sky",
    ]
)


def cor_radix(cor: str | None) -> str:
    return cor if cor in CORES_RADIX else "gray"


def fuso_da_empresa(nome: str | None) -> ZoneInfo:
    """The company's time zone; the default when unset or unknown."""
    try:
        return ZoneInfo(nome or FUSO_PADRAO)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FUSO_PADRAO)


def data_hora(iso: str | None, zona: ZoneInfo) -> str:
    """ISO instant → ``25/11/2026 14:05`` in the company's time zone."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(zona).strftime("%d/%m/%Y %H:%M")


def tempo_relativo(iso: str | None, referencia: datetime) -> str:
    """``agora mesmo``, ``há 5 min``, ``há 3 h``, ``há 2 dias``, ``há 1 mês``…; ``nunca``."""
    if not iso:
        return "nunca"
    segundos = max(0, int((referencia - datetime.fromisoformat(iso)).total_seconds()))
    minutos, horas, dias = segundos // 60, segundos // 3600, segundos // 86400
    if minutos < 1:
        return "agora mesmo"
    if horas < 1:
        return f"há {minutos} min"
    if dias < 1:
        return f"há {horas} h"
    if dias < 30:
        return f"há {dias} dia" + ("s" if dias > 1 else "")
    if dias < 365:
        meses = dias // 30
        return f"há {meses} " + ("meses" if meses > 1 else "mês")
    anos = dias // 365
    return f"há {anos} ano" + ("s" if anos > 1 else "")


def milhar(n: int) -> str:
    """``1234`` → ``1.234`` (pt-BR thousands)."""
    return f"{n:,}".replace(",", ".")


def plural(n: int, singular: str, plural_: str) -> str:
    """``1 envio``, ``2 envios``, ``1.234 envios``."""
    return f"{milhar(n)} {singular if n == 1 else plural_}"


def hora(iso: str | None, zona: ZoneInfo) -> str:
    """ISO instant → ``14:05`` in the company's time zone."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(zona).strftime("%H:%M")


def rotulo_dia(iso: str | None, zona: ZoneInfo, referencia: datetime) -> str:
    """The day of an instant as a chat shows it: ``Hoje``, ``Ontem`` or ``25/11/2026``."""
    if not iso:
        return ""
    dia = datetime.fromisoformat(iso).astimezone(zona).date()
    hoje = referencia.astimezone(zona).date()
    if dia == hoje:
        return "Hoje"
    if (hoje - dia).days == 1:
        return "Ontem"
    return dia.strftime("%d/%m/%Y")
