"""The server ``bench/mover.py`` loads: granian serving the API (or ``bench/instrumentado.py``'s
timed copy of it), 1 or more worker processes, in its own process group."""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.comum import BIN, RAIZ
from bench.mover_banco import Cenario
from tests.caos_apoio import encerrar, esperar, porta_livre


class Servidor:
    """granian serving the API in its own process group (stopped by its own pid)."""

    def __init__(
        self,
        url: str,
        workers: int,
        pasta_logs: Path,
        *,
        fabrica: str = "whatsapp_app.api:criar_api",
        env: dict[str, str] | None = None,
        nome: str = "",
    ) -> None:
        self.workers = workers
        self.porta = porta_livre()
        self.base = f"http://127.0.0.1:{self.porta}"
        self.log = pasta_logs / f"servidor-{nome or workers}-{self.porta}.log"
        self._cmd = [
            str(BIN / "granian"),
            *("--interface", "asgi", "--factory", "--host", "127.0.0.1"),
            *("--port", str(self.porta), "--workers", str(workers)),
            *("--no-ws", "--log-level", "warning", fabrica),
        ]
        self._env = {
            **os.environ,
            "DATABASE_URL": url,
            "AGENDADOR_ATIVO": "false",
            "PYTHONPATH": str(RAIZ),
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Servidor:
        with self.log.open("wb") as saida:
            self.proc = subprocess.Popen(
                self._cmd,
                cwd=RAIZ,
                env=self._env,
                stdout=saida,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            esperar(self._pronto, limite_s=90, intervalo_s=0.3, oque=f"o servidor ({self.log})")
        except BaseException:
            self.__exit__()
            raise
        # every worker up: granian answers from the first one that is ready
        time.sleep(1.5)
        return self

    def _pronto(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"servidor saiu: veja {self.log}")
        try:
            return httpx.get(self.base + "/api/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def __exit__(self, *_: object) -> None:
        if self.proc is not None:
            encerrar(self.proc, grupo=True, limite_s=20)

    def estatisticas(self, *, zerar: bool = True) -> dict[str, Any]:
        """Sum of the instrumented workers' totals (bench/instrumentado.py), one read each."""
        vistos: dict[int, dict[str, Any]] = {}
        rota = "/__bench/zerar" if zerar else "/__bench/estatisticas"
        for _ in range(60):  # bounded: connections land on a random worker
            if len(vistos) == self.workers:
                break
            r = httpx.post(self.base + rota, timeout=5, headers={"connection": "close"})
            dados = r.json()
            vistos.setdefault(dados["pid"], dados)
        soma: dict[str, Any] = {"requisicoes": 0, "segundos": Counter(), "contagens": Counter()}
        for dados in vistos.values():
            soma["requisicoes"] += dados["requisicoes"]
            soma["segundos"].update(dados["segundos"])
            soma["contagens"].update(dados["contagens"])
        soma["workers_lidos"] = len(vistos)
        return soma


def login(base: str, cenario: Cenario) -> str:
    r = httpx.post(
        base + "/api/auth/login",
        json={"email": cenario.email, "senha": cenario.senha},
        timeout=30,
    )
    r.raise_for_status()
    return str(r.json()["token"])
