"""The dispatch scheduler really runs inside the served app.

Reflex never runs a mounted FastAPI app's own lifespan, so the scheduler is registered as a
Reflex lifespan task; this proves it started in the production server, on both deployments.
"""

from __future__ import annotations

import re
import time
import urllib.request

import pytest

from tests.e2e.conftest import TOKEN_METRICAS, AppEmExecucao

pytestmark = pytest.mark.e2e
PRAZO_S = 60.0


def _rodadas(app: AppEmExecucao) -> float:
    pedido = urllib.request.Request(
        f"{app.url}/api/metrics", headers={"Authorization": f"Bearer {TOKEN_METRICAS}"}
    )
    with urllib.request.urlopen(pedido, timeout=5) as resposta:
        texto = resposta.read().decode()
    achado = re.search(r"^scheduler_rounds_total (\S+)$", texto, re.MULTILINE)
    assert achado, "the metric exists from the first request"
    return float(achado.group(1))


def _espera_rodadas(app: AppEmExecucao) -> None:
    limite = time.monotonic() + PRAZO_S
    while (valor := _rodadas(app)) < 2:
        assert time.monotonic() < limite, f"scheduler rounds stayed at {valor} for {PRAZO_S}s"
        time.sleep(0.5)


def test_agendador_roda_no_app_servido(app_sqlite: AppEmExecucao) -> None:
    _espera_rodadas(app_sqlite)


def test_agendador_roda_no_app_servido_escalado(app_escalado: AppEmExecucao) -> None:
    _espera_rodadas(app_escalado)
