"""Saúde do despacho: a company's dispatch counters over the last 24 hours and 7 days.

Read from ``whatsapp_contador_despacho`` (``contadores``), so the numbers add every process
that dispatched, reaped or applied webhooks. The plan's rollout step watches
``duplicados_bloqueados`` for 24-72 h: a duplicate the idempotency key refused is a move that
would have scheduled a second copy of a follow-up.

Windows end at the current UTC hour (which is still filling): "24 h" is the last 24 hourly
rows, "7 dias" the last 168. The daily series is by calendar day in the company's time zone
(today and the six days before), for the chart.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlmodel import Session

from whatsapp_app import contadores
from whatsapp_app.models import Empresa, WhatsappContadorDespacho
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import NaoEncontrado

FUSO_PADRAO = "America/Sao_Paulo"
HORAS_DIA = 24
DIAS_SEMANA = 7

# Counter name in the table → the field the API and the page use.
CAMPOS: dict[str, str] = {
    contadores.REIVINDICADOS: "reivindicados",
    contadores.ENVIADOS: "enviados",
    contadores.DUPLICADOS_BLOQUEADOS: "duplicados_bloqueados",
    contadores.REIVINDICACOES_PERDIDAS: "reivindicacoes_perdidas",
    contadores.RECUPERADOS: "recuperados",
    contadores.INCERTOS: "incertos",
    contadores.CANCELADOS_RESPOSTA: "cancelados_resposta",
    contadores.CANCELADOS_OPTOUT: "cancelados_optout",
}

_tabela = WhatsappContadorDespacho.__table__  # type: ignore[attr-defined]


class PontoHora(TypedDict):
    inicio: datetime  # the UTC hour
    contagens: dict[str, int]


class PontoDia(TypedDict):
    dia: date  # a calendar day in the company's time zone
    contagens: dict[str, int]


class SaudeDespacho(TypedDict):
    gerado_em: datetime
    fuso_horario: str
    ultimas_24h: dict[str, int]
    ultimos_7_dias: dict[str, int]
    por_hora: list[PontoHora]  # the last 24 hours, oldest first
    por_dia: list[PontoDia]  # the last 7 local days, oldest first


def _zerados() -> dict[str, int]:
    return dict.fromkeys(CAMPOS.values(), 0)


def _zona(nome: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(nome or FUSO_PADRAO)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FUSO_PADRAO)


def saude_despacho(*, sessao: Session, id_empresa: str) -> SaudeDespacho:
    """The company's counters: totals over 24 h and 7 days, an hourly and a daily series."""
    empresa = sessao.get(Empresa, id_empresa)
    if empresa is None:
        raise NaoEncontrado("Empresa não encontrada.")
    fuso = empresa.fuso_horario or FUSO_PADRAO
    zona = _zona(fuso)
    momento = agora()
    hora_atual = contadores.hora_utc(momento)
    inicio_24h = hora_atual - timedelta(hours=HORAS_DIA - 1)
    inicio_7d = hora_atual - timedelta(hours=HORAS_DIA * DIAS_SEMANA - 1)
    hoje = momento.astimezone(zona).date()
    dias = [hoje - timedelta(days=n) for n in range(DIAS_SEMANA - 1, -1, -1)]
    inicio_dias = datetime.combine(dias[0], datetime.min.time(), zona)
    desde = min(inicio_7d, contadores.hora_utc(inicio_dias))

    linhas = sessao.execute(
        sa.select(_tabela.c.hora, _tabela.c.nome, sa.func.sum(_tabela.c.valor))
        .where(
            _tabela.c.id_empresa == id_empresa,
            _tabela.c.hora >= desde,
            _tabela.c.hora <= hora_atual,
            _tabela.c.nome.in_(list(CAMPOS)),
        )
        .group_by(_tabela.c.hora, _tabela.c.nome)
    ).all()

    por_hora: dict[datetime, dict[str, int]] = defaultdict(_zerados)
    por_dia: dict[date, dict[str, int]] = defaultdict(_zerados)
    total_24h, total_7d = _zerados(), _zerados()
    for hora, nome, valor in linhas:
        campo, valor = CAMPOS[nome], int(valor or 0)
        if hora >= inicio_24h:
            por_hora[hora][campo] += valor
            total_24h[campo] += valor
        if hora >= inicio_7d:
            total_7d[campo] += valor
        dia = hora.astimezone(zona).date()
        if dia >= dias[0]:
            por_dia[dia][campo] += valor

    horas = [inicio_24h + timedelta(hours=n) for n in range(HORAS_DIA)]
    return SaudeDespacho(
        gerado_em=momento,
        fuso_horario=fuso,
        ultimas_24h=total_24h,
        ultimos_7_dias=total_7d,
        por_hora=[PontoHora(inicio=h, contagens=dict(por_hora[h])) for h in horas],
        por_dia=[PontoDia(dia=d, contagens=dict(por_dia[d])) for d in dias],
    )
