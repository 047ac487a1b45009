"""Helpers for the chaos/acceptance tests and the dispatch benchmark: real OS processes only.

- the job set itself (seeding it, reading it back) is ``tests/caos_dados.py``;
- ``Simulador``: ``python -m whatsapp_app.simulador`` as a subprocess on a free port;
- ``ServidorApi``: ``criar_api()`` served for real by granian (ASGI) as a subprocess;
- ``Frota``: ``python -m whatsapp_app.worker`` subprocesses, with SIGKILL/restart/SIGTERM and
  one log file per incarnation (JSON lines: the ``claim`` lines are counted from there).

Every wait is a poll with a deadline (``esperar``); every process is killed by ``fechar``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

RAIZ = Path(__file__).resolve().parent.parent
PY = sys.executable
TOKEN_INTERNO = "token-interno-caos"
TOKEN_METRICAS = "token-metricas-caos"
STATUS_FINAIS = {"ENVIADO", "ERRO", "INCERTO"}


def porta_livre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def esperar(
    condicao: Callable[[], Any],
    *,
    limite_s: float,
    intervalo_s: float = 0.1,
    oque: str = "",
    diagnostico: Callable[[], Any] | None = None,
) -> Any:
    """Poll ``condicao`` until it returns something truthy; fail after ``limite_s``."""
    fim = time.monotonic() + limite_s
    while True:
        valor = condicao()
        if valor:
            return valor
        if time.monotonic() > fim:
            extra = f": {diagnostico()}" if diagnostico else ""
            raise TimeoutError(
                f"tempo esgotado ({limite_s:.0f} s) esperando {oque or condicao}{extra}"
            )
        time.sleep(intervalo_s)


# --- processes -----------------------------------------------------------------------------


def ambiente(url_banco: str, porta_simulador: int, **extra: Any) -> dict[str, str]:
    """Environment for a worker / API subprocess (extra keys are upper-cased)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "DESPACHO_", "PROVEDOR_", "PRAZO_"))
    }
    env.update(
        {
            "DATABASE_URL": url_banco,
            "SIMULADOR_PORT": str(porta_simulador),
            "AMBIENTE": "teste",
            "AGENDADOR_ATIVO": "false",
            "LOG_LEVEL": "INFO",
            "INTERNAL_DISPATCH_TOKEN": TOKEN_INTERNO,
            "METRICS_TOKEN": TOKEN_METRICAS,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({k.upper(): str(v) for k, v in extra.items()})
    return env


def encerrar(processo: subprocess.Popen[Any], *, grupo: bool = False, limite_s: float = 10) -> None:
    if processo.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        if grupo:
            os.killpg(processo.pid, signal.SIGTERM)
        else:
            processo.terminate()
    try:
        processo.wait(timeout=limite_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            if grupo:
                os.killpg(processo.pid, signal.SIGKILL)
            else:
                processo.kill()
        processo.wait(timeout=10)


# Instances stay as they are, and any instance name is served (seeded rows skip /instance/create).
SEM_AUTO_CONEXAO = ("--auto-conectar-s", "-1", "--criar-sob-demanda")


class Simulador:
    """``python -m whatsapp_app.simulador`` on a free loopback port."""

    def __init__(self, pasta: Path) -> None:
        self.porta = porta_livre()
        self.url = f"http://127.0.0.1:{self.porta}"
        self._log = open(pasta / "simulador.log", "wb")  # noqa: SIM115
        env = {**os.environ, "LOG_LEVEL": "WARNING", "AMBIENTE": "teste"}
        self.processo = subprocess.Popen(
            [PY, "-m", "whatsapp_app.simulador", "--porta", str(self.porta), *SEM_AUTO_CONEXAO],
            cwd=RAIZ,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.http = httpx.Client(base_url=self.url, timeout=30)
        esperar(self._pronto, limite_s=30, oque="o simulador")

    def _pronto(self) -> bool:
        assert self.processo.poll() is None, "o simulador terminou ao iniciar"
        try:
            return self.http.get("/__sim/falhas").status_code == 200
        except httpx.HTTPError:
            return False

    def falhas(self, **config: Any) -> dict[str, Any]:
        resposta = self.http.post("/__sim/falhas", json=config)
        assert resposta.status_code == 200, resposta.text
        return resposta.json()

    def contadores(self) -> dict[str, int]:
        return dict(self.http.get("/__sim/falhas").json()["contadores"])

    def contagem(self) -> dict[str, Any]:
        return self.http.get("/__sim/contagem").json()

    def mensagens(self) -> list[dict[str, Any]]:
        return self.http.get("/__sim/mensagens").json()

    def fechar(self) -> None:
        self.http.close()
        encerrar(self.processo)
        self._log.close()


class ServidorApi:
    """``criar_api()`` served by granian (one ASGI worker) on a free loopback port."""

    def __init__(self, pasta: Path, env: dict[str, str]) -> None:
        self.porta = porta_livre()
        self.url = f"http://127.0.0.1:{self.porta}"
        self._log = open(pasta / "api.log", "wb")  # noqa: SIM115
        granian = str(Path(PY).with_name("granian"))
        self.processo = subprocess.Popen(
            [
                *([granian] if os.path.exists(granian) else [PY, "-m", "granian"]),
                "--interface",
                "asgi",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.porta),
                "--workers",
                "1",
                "--no-ws",
                "--log-level",
                "warning",
                "whatsapp_app.api:criar_api",
            ],
            cwd=RAIZ,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # granian forks its worker: stop the whole group
        )
        esperar(self._pronto, limite_s=60, intervalo_s=0.2, oque="a API (granian)")

    def _pronto(self) -> bool:
        assert self.processo.poll() is None, "granian terminou ao iniciar"
        try:
            return httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def token_gestor(self, email: str) -> str:
        from tests.factories import SENHA

        resposta = httpx.post(
            f"{self.url}/api/auth/login", json={"email": email, "senha": SENHA}, timeout=30
        )
        assert resposta.status_code == 200, resposta.text
        return str(resposta.json()["token"])

    def metrica(self, nome: str) -> float:
        """A counter summed over every process (``PROMETHEUS_MULTIPROC_DIR`` mode)."""
        resposta = httpx.get(
            f"{self.url}/api/metrics",
            headers={"Authorization": f"Bearer {TOKEN_METRICAS}"},
            timeout=30,
        )
        assert resposta.status_code == 200, resposta.text
        total = 0.0
        for linha in resposta.text.splitlines():
            if linha.startswith(f"{nome}_total"):
                total += float(linha.rsplit(" ", 1)[1])
        return total

    def fechar(self) -> None:
        encerrar(self.processo, grupo=True)
        self._log.close()


@dataclass
class Encarnacao:
    processo: subprocess.Popen[bytes]
    log: Path
    morte: str = ""  # "" alive, "sigkill", "sigterm"
    grupo: bool = False  # the app: granian's supervisor and its worker, one process group

    def sinal(self, numero: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self.grupo:
                os.killpg(self.processo.pid, numero)
            else:
                self.processo.send_signal(numero)

    def pid_despachante(self) -> int:
        """The pid that claims jobs (``claimed_by`` is ``host:pid``): the worker itself, or
        the app's granian worker process (its supervisor only forks and watches)."""
        if not self.grupo:
            return self.processo.pid
        achado = PID_GRANIAN.findall(self.log.read_text(errors="replace"))
        return int(achado[-1]) if achado else self.processo.pid


PID_GRANIAN = re.compile(r"Spawning worker-\d+ with PID: (\d+)")
# What each deployment logs once its scheduler runs.
PRONTO = {"worker": "worker iniciado", "app": "agendador iniciado"}


@dataclass
class Frota:
    """``n`` dispatcher slots, each running one process at a time, in one of two deployments:

    - ``worker``: ``python -m whatsapp_app.worker`` (dedicated dispatch machines);
    - ``app``: the Reflex backend with its in-app scheduler (the lifespan task of
      ``whatsapp_app.whatsapp_app:app``), served by granian exactly as ``reflex run --env prod``
      serves it (``reflex.utils.exec.run_granian_backend_prod``: that target, factory, ASGI),
      without the static frontend, which has no part in dispatching. A SIGKILL hits the whole
      process group (supervisor and worker), like a machine going away.
    """

    pasta: Path
    env: dict[str, str]
    n: int
    implantacao: str = "worker"
    slots: list[Encarnacao] = field(default_factory=list)
    todas: list[Encarnacao] = field(default_factory=list)

    def _comando(self, log: Path) -> tuple[list[str], dict[str, str]]:
        if self.implantacao == "worker":
            return [PY, "-m", "whatsapp_app.worker"], self.env
        porta = porta_livre()
        ferramentas = RAIZ / ".tools" / "node_modules" / ".bin"
        env = {
            **self.env,
            "AGENDADOR_ATIVO": "true",
            "PORT": str(porta),
            "REFLEX_ENV_MODE": "prod",
            "REFLEX_WEB_WORKDIR": str(log.with_suffix(".web")),
            "REFLEX_USE_SYSTEM_BUN": "1",
            "REFLEX_TELEMETRY_ENABLED": "false",
            "REFLEX_CHECK_LATEST_VERSION": "false",
            "PATH": f"{ferramentas}{os.pathsep}{self.env.get('PATH', '')}",
        }
        granian = str(Path(PY).with_name("granian"))
        comando = [
            *([granian] if os.path.exists(granian) else [PY, "-m", "granian"]),
            *("--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port", str(porta)),
            *("--workers", "1", "whatsapp_app.whatsapp_app:app"),
        ]
        return comando, env

    def _iniciar(self, indice: int) -> Encarnacao:
        log = self.pasta / f"{self.implantacao}-{indice}-{len(self.todas)}.log"
        comando, env = self._comando(log)
        with open(log, "wb") as arquivo:
            processo = subprocess.Popen(
                comando,
                cwd=RAIZ,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=arquivo,
                stderr=subprocess.STDOUT,
                start_new_session=self.implantacao == "app",
            )
        encarnacao = Encarnacao(processo, log, grupo=self.implantacao == "app")
        self.todas.append(encarnacao)
        return encarnacao

    def iniciar(self) -> None:
        self.slots = [self._iniciar(i) for i in range(self.n)]

    def prontos(self) -> int:
        """How many incarnations logged that their scheduler runs."""
        return len(self.linhas_log(PRONTO[self.implantacao]))

    def ids_worker(self, encarnacoes: Iterable[Encarnacao]) -> set[str]:
        host = socket.gethostname()
        return {f"{host}:{e.pid_despachante()}" for e in encarnacoes}

    def matar(self, indice: int) -> Encarnacao:
        """SIGKILL the slot's dispatcher (mid-whatever) and start a fresh one in its place."""
        velho = self.slots[indice]
        velho.sinal(signal.SIGKILL)
        velho.processo.wait(timeout=10)
        velho.morte = "sigkill"
        self.slots[indice] = self._iniciar(indice)
        return velho

    def vivos(self) -> list[Encarnacao]:
        return [e for e in self.slots if e.processo.poll() is None]

    def parar(self, limite_s: float = 60) -> list[int | None]:
        """SIGTERM every live worker; wait for them (they finish their round). Return codes."""
        # Stop only dispatchers that finished starting, as a deploy's health check would: a
        # SIGTERM before the worker installs its handler kills it (-15), and granian loses one
        # that lands while its worker boots (the worker then runs on).
        pronto = f'"{PRONTO[self.implantacao]}"'
        esperar(
            lambda: all(pronto in e.log.read_text(errors="replace") for e in self.vivos()),
            limite_s=90,
            oque="os despachantes recém-iniciados terminarem de subir",
        )
        for e in self.vivos():
            e.sinal(signal.SIGTERM)
            e.morte = "sigterm"
        fim = time.monotonic() + limite_s
        codigos = []
        for e in self.slots:
            try:
                codigos.append(e.processo.wait(timeout=max(0.1, fim - time.monotonic())))
            except subprocess.TimeoutExpired:
                codigos.append(None)
        return codigos

    def fechar(self) -> None:
        for e in self.todas:
            if e.processo.poll() is None or e.grupo:  # an orphaned granian worker too
                e.sinal(signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    e.processo.wait(timeout=10)

    def linhas_log(self, mensagem: str) -> list[dict[str, Any]]:
        """Every JSON log record with this ``message`` across all incarnations."""
        achadas = []
        for e in self.todas:
            for linha in e.log.read_text(errors="replace").splitlines():
                if f'"{mensagem}"' not in linha:
                    continue
                with contextlib.suppress(ValueError):
                    registro = json.loads(linha)
                    if registro.get("message") == mensagem:
                        achadas.append(registro)
        return achadas

    def avisos(self) -> Counter[str]:
        """WARNING/ERROR messages by text (diagnostics for a failed wait)."""
        return Counter(
            f"{r.get('message')} {r.get('erro', '')}".strip()
            for e in self.todas
            for r in self._registros(e.log)
            if r.get("nivel") in ("WARNING", "ERROR")
        )

    @staticmethod
    def _registros(log: Path) -> list[dict[str, Any]]:
        registros = []
        for linha in log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                registros.append(json.loads(linha))
        return registros

    def erros_nos_logs(self) -> list[str]:
        """Tracebacks / ERROR records a clean run must not have."""
        ruins = []
        for e in self.todas:
            for linha in e.log.read_text(errors="replace").splitlines():
                if '"nivel": "ERROR"' in linha or linha.startswith("Traceback"):
                    ruins.append(f"{e.log.name}: {linha[:300]}")
        return ruins


class ChamadasParalelas:
    """POST every (path, headers) at the same moment, each from its own thread;
    ``resultado()`` joins them (bounded) and returns the answers."""

    def __init__(self, url_api: str, chamadas: list[tuple[str, dict[str, str]]]) -> None:
        self._barreira = threading.Barrier(len(chamadas))
        self._respostas: list[httpx.Response | BaseException | None] = [None] * len(chamadas)
        self._threads = [
            threading.Thread(target=self._um, args=(url_api, i, p, h), daemon=True)
            for i, (p, h) in enumerate(chamadas)
        ]
        for t in self._threads:
            t.start()

    def _um(self, url_api: str, i: int, caminho: str, cabecalhos: dict[str, str]) -> None:
        try:
            with httpx.Client(base_url=url_api, timeout=180) as c:
                self._barreira.wait(timeout=30)
                self._respostas[i] = c.post(caminho, headers=cabecalhos)
        except BaseException as exc:
            self._respostas[i] = exc

    def terminaram(self) -> bool:
        return not any(t.is_alive() for t in self._threads)

    def resultado(self, limite_s: float = 180) -> list[httpx.Response]:
        fim = time.monotonic() + limite_s
        for t in self._threads:
            t.join(timeout=max(0.1, fim - time.monotonic()))
        assert self.terminaram(), "uma chamada HTTP de despacho não terminou"
        saida = []
        for r in self._respostas:
            if isinstance(r, BaseException):
                raise r
            assert r is not None
            saida.append(r)
        return saida
