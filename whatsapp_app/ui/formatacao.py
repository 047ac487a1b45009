"""pt-BR display formatting shared by every screen: dates, relative times, counts, colours.

Numbers and dates come from Babel (CLDR data, locale ``pt_BR``) in the company's time zone;
display only: nothing here decides anything about the data.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import dates, numbers

FUSO_PADRAO = "America/Sao_Paulo"
LOCALE = "pt_BR"
MENOS_DE_UM_MINUTO_S = 60  # below this a past instant reads "agora mesmo"
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


def _instante(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def data_hora(iso: str | None, zona: ZoneInfo) -> str:
    """ISO instant → ``25/11/2026 14:05`` in the company's time zone (Babel's short format)."""
    if not iso:
        return ""
    return dates.format_datetime(_instante(iso), "short", tzinfo=zona, locale=LOCALE)


def data(valor: date | str | None) -> str:
    """A calendar day → ``1 de dez. de 2026`` (Babel's medium format)."""
    if not valor:
        return ""
    dia = date.fromisoformat(valor) if isinstance(valor, str) else valor
    return dates.format_date(dia, "medium", locale=LOCALE)


def dia_curto(valor: date | str | None) -> str:
    """A calendar day in a narrow column: ``ter., 01/12`` (Babel's ``MEd`` skeleton)."""
    if not valor:
        return ""
    dia = date.fromisoformat(valor) if isinstance(valor, str) else valor
    return dates.format_skeleton("MEd", dia, locale=LOCALE)


def tempo_relativo(iso: str | None, referencia: datetime) -> str:
    """``agora mesmo``, ``há 5 minutos``, ``há 3 horas``, ``há 2 dias``…; ``nunca``."""
    if not iso:
        return "nunca"
    decorrido = referencia - _instante(iso)
    if decorrido.total_seconds() < MENOS_DE_UM_MINUTO_S:
        return "agora mesmo"
    return dates.format_timedelta(-decorrido, add_direction=True, locale=LOCALE)


def milhar(n: int) -> str:
    """``1234`` → ``1.234`` (pt-BR grouping)."""
    return numbers.format_decimal(n, locale=LOCALE)


def percentual(fracao: float) -> str:
    """``0.125`` → ``12,5%``."""
    return numbers.format_percent(fracao, format="#,##0.#%", locale=LOCALE)


def plural(n: int, singular: str, plural_: str) -> str:
    """``1 envio``, ``2 envios``, ``1.234 envios`` (0 takes the plural, as people write it)."""
    return f"{milhar(n)} {singular if n == 1 else plural_}"


def hora(iso: str | None, zona: ZoneInfo) -> str:
    """ISO instant → ``14:05`` in the company's time zone."""
    if not iso:
        return ""
    return dates.format_time(_instante(iso), "short", tzinfo=zona, locale=LOCALE)


def hora_cheia(iso: str | None, zona: ZoneInfo) -> str:
    """ISO instant → the hour it falls in, ``14h``, in the company's time zone (chart axes)."""
    if not iso:
        return ""
    return dates.format_time(_instante(iso), "H'h'", tzinfo=zona, locale=LOCALE)


def rotulo_dia(iso: str | None, zona: ZoneInfo, referencia: datetime) -> str:
    """The day of an instant as a chat shows it: ``Hoje``, ``Ontem`` or ``25/11/2026``."""
    if not iso:
        return ""
    dia = _instante(iso).astimezone(zona).date()
    hoje = referencia.astimezone(zona).date()
    if dia == hoje:
        return "Hoje"
    if (hoje - dia).days == 1:
        return "Ontem"
    return dates.format_date(dia, "short", locale=LOCALE)
