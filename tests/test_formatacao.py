"""The pt-BR display helpers (Babel, locale pt_BR, the company's time zone)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from whatsapp_app.ui.formatacao import (
    FUSO_PADRAO,
    cor_radix,
    data,
    data_hora,
    dia_curto,
    fuso_da_empresa,
    hora,
    hora_cheia,
    milhar,
    percentual,
    plural,
    rotulo_dia,
    tempo_relativo,
)

SP = ZoneInfo("America/Sao_Paulo")
MANAUS = ZoneInfo("America/Manaus")
AGORA = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def _ha(**delta: float) -> str:
    return (AGORA - timedelta(**delta)).isoformat()


def test_milhar_agrupa_com_ponto() -> None:
    assert milhar(0) == "0"
    assert milhar(999) == "999"
    assert milhar(1234) == "1.234"
    assert milhar(1234567) == "1.234.567"


def test_percentual_com_virgula_decimal() -> None:
    assert percentual(0.125) == "12,5%"
    assert percentual(0.5) == "50%"
    assert percentual(1) == "100%"


def test_plural_conta_em_pt_br() -> None:
    assert plural(1, "envio", "envios") == "1 envio"
    assert plural(0, "envio", "envios") == "0 envios"
    assert plural(1234, "envio", "envios") == "1.234 envios"


def test_data_hora_e_hora_no_fuso_da_empresa() -> None:
    assert data_hora("2026-11-25T17:05:00+00:00", SP) == "25/11/2026 14:05"
    assert data_hora("2026-11-25T17:05:00+00:00", MANAUS) == "25/11/2026 13:05"
    assert hora("2026-11-25T13:05:00+00:00", SP) == "10:05"
    assert hora_cheia("2026-11-25T13:05:00+00:00", SP) == "10h"
    assert hora_cheia("2026-11-25T03:59:00+00:00", SP) == "0h"
    assert data_hora(None, SP) == hora("", SP) == hora_cheia(None, SP) == ""


def test_data_no_formato_medio_e_dia_curto() -> None:
    assert data(date(2026, 12, 1)) == "1 de dez. de 2026"
    assert data("2026-11-25") == "25 de nov. de 2026"
    assert dia_curto(date(2026, 12, 1)) == "ter., 01/12"
    assert data(None) == dia_curto("") == ""


@pytest.mark.parametrize(
    ("iso", "esperado"),
    [
        (_ha(seconds=20), "agora mesmo"),
        (_ha(seconds=-30), "agora mesmo"),  # a clock a little ahead is not "in the future"
        (_ha(minutes=1), "há 1 minuto"),
        (_ha(minutes=5), "há 5 minutos"),
        (_ha(hours=3), "há 3 horas"),
        (_ha(days=2), "há 2 dias"),
        (_ha(days=40), "há 1 mês"),
        (_ha(days=400), "há 1 ano"),
        (None, "nunca"),
    ],
)
def test_tempo_relativo(iso: str | None, esperado: str) -> None:
    assert tempo_relativo(iso, AGORA) == esperado


def test_rotulo_dia_hoje_ontem_ou_data() -> None:
    assert rotulo_dia("2026-12-01T13:00:00+00:00", SP, AGORA) == "Hoje"
    # 02:30 UTC on the 1st is still 30/11 in São Paulo.
    assert rotulo_dia("2026-12-01T02:30:00+00:00", SP, AGORA) == "Ontem"
    assert rotulo_dia("2026-11-20T12:00:00+00:00", SP, AGORA) == "20/11/2026"
    assert rotulo_dia(None, SP, AGORA) == ""


def test_fuso_e_cor_com_padrao() -> None:
    assert fuso_da_empresa("America/Manaus") == MANAUS
    assert fuso_da_empresa("Lugar/Nenhum") == ZoneInfo(FUSO_PADRAO)
    assert fuso_da_empresa(None) == ZoneInfo(FUSO_PADRAO)
    assert cor_radix("jade") == "jade"
    assert cor_radix("#ff0000") == cor_radix(None) == "gray"
