"""The sending window on its own: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from whatsapp_app.janela import dentro_da_janela, proxima_abertura

COMERCIAL = {"inicio": "08:00", "fim": "20:00", "dias_semana": [0, 1, 2, 3, 4, 5]}
SP = "America/Sao_Paulo"


@pytest.mark.parametrize(
    ("utc", "esperado"),
    [
        # Wednesday 10:00 local: open, unchanged.
        (datetime(2026, 11, 25, 13, 0, tzinfo=UTC), datetime(2026, 11, 25, 13, 0, tzinfo=UTC)),
        # Wednesday 07:59 local: opens at 08:00 the same day.
        (datetime(2026, 11, 25, 10, 59, tzinfo=UTC), datetime(2026, 11, 25, 11, 0, tzinfo=UTC)),
        # Wednesday 20:00 local: the end is exclusive → Thursday 08:00.
        (datetime(2026, 11, 25, 23, 0, tzinfo=UTC), datetime(2026, 11, 26, 11, 0, tzinfo=UTC)),
        # Sunday noon local → Monday 08:00.
        (datetime(2026, 11, 29, 15, 0, tzinfo=UTC), datetime(2026, 11, 30, 11, 0, tzinfo=UTC)),
    ],
)
def test_proxima_abertura(utc, esperado):
    assert proxima_abertura(utc, COMERCIAL, SP) == esperado


def test_sem_janela_nao_restringe():
    momento = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)
    assert dentro_da_janela(momento, None, SP)
    assert proxima_abertura(momento, None, SP) == momento


def test_fim_do_horario_de_verao_nao_repete_nem_pula():
    # New York falls back on 01/11/2026 at 02:00 → 01:00; a 01:30 opening happens twice.
    janela = {"inicio": "01:30", "fim": "23:00", "dias_semana": list(range(7))}
    antes = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # 00:00 EDT
    # The first 01:30 (EDT, UTC-4) is the next opening.
    assert proxima_abertura(antes, janela, "America/New_York") == datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC
    )
