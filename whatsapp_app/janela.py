"""The company's sending window: when a follow-up may go out, in the company's local time.

``None`` means no restriction. Days are 0 = Monday … 6 = Sunday. DST-safe: the window is
defined on wall-clock time, a local opening time that does not exist (spring-forward gap)
opens at the first wall-clock minute after the gap.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

MAX_MINUTOS_LACUNA_DST = 180  # no DST gap in the tz database is longer than this


def _hora(texto: str) -> time:
    horas, minutos = texto.split(":")
    return time(int(horas), int(minutos))


def _existe(local: datetime, fuso: ZoneInfo) -> bool:
    ida_volta = local.replace(tzinfo=fuso).astimezone(UTC).astimezone(fuso)
    return ida_volta.replace(tzinfo=None) == local


def _instante(dia: date, hora: time, fuso: ZoneInfo) -> datetime:
    local = datetime.combine(dia, hora)
    for _ in range(MAX_MINUTOS_LACUNA_DST):
        if _existe(local, fuso):
            return local.replace(tzinfo=fuso).astimezone(UTC)
        local += timedelta(minutes=1)
    return local.replace(tzinfo=fuso).astimezone(UTC)


def dentro_da_janela(momento: datetime, janela: dict[str, Any] | None, fuso_horario: str) -> bool:
    if not janela:
        return True
    local = momento.astimezone(ZoneInfo(fuso_horario))
    return local.weekday() in janela["dias_semana"] and _hora(
        janela["inicio"]
    ) <= local.time() < _hora(janela["fim"])


def proxima_abertura(
    momento: datetime, janela: dict[str, Any] | None, fuso_horario: str
) -> datetime:
    """``momento`` itself when sending is allowed then, else the window's next opening (UTC)."""
    if dentro_da_janela(momento, janela, fuso_horario):
        return momento
    assert janela is not None
    fuso = ZoneInfo(fuso_horario)
    hoje = momento.astimezone(fuso).date()
    for dias in range(8):
        dia = hoje + timedelta(days=dias)
        if dia.weekday() not in janela["dias_semana"]:
            continue
        abertura = _instante(dia, _hora(janela["inicio"]), fuso)
        if abertura > momento:
            return abertura
    raise ValueError("janela de envio sem nenhum dia válido")
