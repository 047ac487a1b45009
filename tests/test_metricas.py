"""Metrics add up across processes (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from whatsapp_app import metricas

INCREMENTAR = (
    "from whatsapp_app import metricas\n"
    "metricas.jobs_claimed.inc(3)\n"
    "metricas.jobs_duplicate_blocked.inc()\n"
    "metricas.latencia_despacho.observe(1.5)\n"
)


def _valor(texto: str, nome: str) -> float:
    achado = re.search(rf"^{nome} (\S+)$", texto, re.MULTILINE)
    assert achado, f"{nome} ausente"
    return float(achado.group(1))


def test_contadores_somam_entre_processos(tmp_path, monkeypatch):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(3):  # three separate worker processes
        subprocess.run([sys.executable, "-c", INCREMENTAR], env=env, check=True, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    texto = metricas.exportar().decode()

    assert _valor(texto, "jobs_claimed_total") == 9
    assert _valor(texto, "jobs_duplicate_blocked_total") == 3
    assert _valor(texto, "dispatch_latency_seconds_count") == 3
