"""End-to-end harness: the real app in production mode, driven by Debian's Chromium.

One app process runs at a time (``_ServidorApp``), in the mode the test asks for:

- ``sqlite``: a throwaway SQLite file, Reflex state in memory (the default deployment);
- ``escalado``: a fresh PostgreSQL database (created here, dropped at the end) and Reflex state
  in Redis (the scale-out deployment). Required when CI=true, skipped otherwise if PostgreSQL
  or Redis is down.

Each start runs ``alembic upgrade head`` and ``python -m whatsapp_app.seed`` (with DEMO_SENHA)
against that database, starts the WhatsApp simulator on a free port (the app's SIMULADOR_PORT),
then ``scripts/reflex_prod.py run --env prod`` (``reflex run`` that reuses an unchanged frontend
build), waits for Reflex's ``GET /ping`` and connects the demo's simulator instance
(``python -m whatsapp_app.simulador.preparar``, as ``make run`` does), so follow-ups really go
out and the contact's replies come back through the webhook.

``violacoes_axe`` runs axe-core (from the npm registry, installed by ``make test`` into
``.tools``; or E2E_AXE) on a part of the page and returns its serious and critical
violations.

The frontend is built in ``.web-e2e/`` (REFLEX_WEB_WORKDIR), not ``.web/``: Reflex serves the
files of ``.web/build/client`` from disk and bakes the port into them, so building in ``.web``
would swap the frontend of a ``make run`` going on beside the tests. The port is fixed
(E2E_PORT, default 3199) so that the build is reused from one session to the next; a busy port
falls back to a free one at the cost of a new build.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.bancos import PG_PADRAO, apagar_banco_pg, criar_banco_pg, pg_disponivel

RAIZ = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PORTA_PADRAO = int(os.environ.get("E2E_PORT", "3199"))
REDIS_PADRAO = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/13")
# A first start builds the frontend (installs its packages when .web-e2e is new).
ESPERA_INICIO_S = float(os.environ.get("E2E_STARTUP_TIMEOUT", "600"))
NO_CI = os.environ.get("CI") == "true"
AXE = Path(
    os.environ.get("E2E_AXE", Path(__file__).parents[2] / ".tools/node_modules/axe-core/axe.min.js")
)
TOKEN_METRICAS = "e2e-metricas-" + secrets.token_hex(8)
_PARTIDAS: list[str] = []  # one line per app start, shown in the terminal summary


def _porta_livre(preferida: int) -> int:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", preferida))
            return preferida
        except OSError:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])


def _responde(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _redis_disponivel(url: str) -> bool:
    try:
        import redis

        cliente = redis.Redis.from_url(url, socket_connect_timeout=2)
        try:
            return bool(cliente.ping())
        finally:
            cliente.close()
    except Exception:
        return False


def _rodar(args: list[str], env: dict[str, str]) -> str:
    r = subprocess.run(args, cwd=RAIZ, env=env, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        pytest.fail(f"{' '.join(args)} falhou ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout


@dataclass
class AppEmExecucao:
    modo: str
    url: str
    email: str
    senha: str
    processo: subprocess.Popen[bytes]
    log: Path
    segundos_para_subir: float
    limpar: list[tuple[str, str]] = field(default_factory=list)
    simulador_url: str = ""
    simulador: subprocess.Popen[bytes] | None = None

    def cauda_do_log(self, linhas: int = 60) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-linhas:])
        return ""


class _ServidorApp:
    """Starts the app in the mode asked for, stopping the one running in another mode."""

    def __init__(self, pasta: Path) -> None:
        self.pasta = pasta
        self.atual: AppEmExecucao | None = None
        self.falhas: dict[str, str] = {}  # a mode that failed to start is not retried

    def garantir(self, modo: str) -> AppEmExecucao:
        if modo in self.falhas:
            pytest.fail(f"o app ({modo}) já falhou ao subir nesta sessão:\n{self.falhas[modo]}")
        atual = self.atual
        if atual is not None and atual.modo == modo and atual.processo.poll() is None:
            return atual
        self.parar()
        self.atual = self._iniciar(modo)
        return self.atual

    def _ambiente(self, modo: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
        env = dict(os.environ)
        limpar: list[tuple[str, str]] = []
        if modo == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{self.pasta / f'e2e-{uuid.uuid4().hex[:8]}.db'}"
            env.pop("REDIS_URL", None)
        else:
            base = os.environ.get("TEST_DATABASE_URL", PG_PADRAO)
            faltando = [
                nome
                for nome, ok in (
                    (f"PostgreSQL ({base})", pg_disponivel(base)),
                    (f"Redis ({REDIS_PADRAO})", _redis_disponivel(REDIS_PADRAO)),
                )
                if not ok
            ]
            if faltando:
                msg = f"modo escalado precisa de {' e '.join(faltando)}"
                if NO_CI:
                    pytest.fail(f"{msg}; CI=true")
                pytest.skip(msg)
            url = criar_banco_pg(base, f"wa_e2e_{uuid.uuid4().hex[:10]}")
            limpar.append(("pg", url))
            env["DATABASE_URL"] = url
            env["REDIS_URL"] = REDIS_PADRAO
        env.update(
            DEMO_SENHA=env.get("E2E_SENHA") or f"e2e-{secrets.token_urlsafe(9)}",
            REFLEX_WEB_WORKDIR=str(RAIZ / ".web-e2e"),
            REFLEX_USE_SYSTEM_BUN="1",
            REFLEX_TELEMETRY_ENABLED="false",
            REFLEX_CHECK_LATEST_VERSION="false",
            PYTHONUNBUFFERED="1",
            # The served app runs its own dispatch scheduler, observable through the metrics.
            AGENDADOR_ATIVO="true",
            AGENDADOR_INTERVALO_S="1",
            METRICS_TOKEN=TOKEN_METRICAS,
        )
        ferramentas = RAIZ / ".tools" / "node_modules" / ".bin"
        env["PATH"] = f"{ferramentas}{os.pathsep}{env.get('PATH', '')}"
        return env, limpar

    def _iniciar(self, modo: str) -> AppEmExecucao:
        env, limpar = self._ambiente(modo)
        try:
            _rodar([sys.executable, "-m", "alembic", "upgrade", "head"], env)
            saida_seed = _rodar([sys.executable, "-m", "whatsapp_app.seed"], env)
            email = os.environ.get("E2E_EMAIL") or _email_demo(saida_seed)
            porta = _porta_livre(PORTA_PADRAO)
            url = f"http://127.0.0.1:{porta}"
            env["PORT"] = str(porta)
            env.pop("APP_URL_PUBLICA", None)  # the webhooks come back to this app
            simulador, simulador_url = self._iniciar_simulador(modo, env)
            limpar.append(("processo", str(simulador.pid)))
            log = self.pasta / f"app-{modo}.log"
            inicio = time.monotonic()
            with log.open("wb") as saida:
                processo = subprocess.Popen(
                    [
                        sys.executable,
                        str(RAIZ / "scripts" / "reflex_prod.py"),
                        "run",
                        "--env",
                        "prod",
                        "--frontend-port",
                        str(porta),
                        "--backend-port",
                        str(porta),
                    ],
                    cwd=RAIZ,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=saida,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except BaseException:
            _limpar(limpar)
            raise
        app = AppEmExecucao(
            modo,
            url,
            email,
            env["DEMO_SENHA"],
            processo,
            log,
            0.0,
            limpar,
            simulador_url,
            simulador,
        )
        while not _responde(f"{url}/ping"):
            if processo.poll() is not None or time.monotonic() - inicio > ESPERA_INICIO_S:
                self.atual = app
                self.parar()
                self.falhas[modo] = (
                    f"o app ({modo}) não respondeu em {url}/ping "
                    f"(código {processo.returncode}); log:\n{app.cauda_do_log()}"
                )
                pytest.fail(self.falhas[modo])
            time.sleep(0.25)
        app.segundos_para_subir = time.monotonic() - inicio
        # The simulator starts empty: create and pair the demo's instance there, webhook set.
        _rodar([sys.executable, "-m", "whatsapp_app.simulador.preparar", "--limite-s", "60"], env)
        reuso = re.findall(r"\[reflex_prod\] (.*?) \(", app.cauda_do_log(200))
        _PARTIDAS.append(
            f"app {modo} respondeu em {app.segundos_para_subir:.1f}s em {url}"
            f" ({reuso[-1] if reuso else 'sem informação do build'})"
        )
        return app

    def _iniciar_simulador(
        self, modo: str, env: dict[str, str]
    ) -> tuple[subprocess.Popen[bytes], str]:
        porta = _porta_livre(int(os.environ.get("E2E_SIMULADOR_PORT", "8797")))
        env["SIMULADOR_PORT"] = str(porta)
        url = f"http://127.0.0.1:{porta}"
        with (self.pasta / f"simulador-{modo}.log").open("wb") as saida:
            processo = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "whatsapp_app.simulador",
                    "--porta",
                    str(porta),
                    "--auto-conectar-s",
                    "1",
                    "--leitura-s",
                    "2",
                ],
                cwd=RAIZ,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=saida,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _PROCESSOS[str(processo.pid)] = processo
        limite = time.monotonic() + 30
        while not _responde(f"{url}/__sim/config"):
            if processo.poll() is not None or time.monotonic() > limite:
                _parar_processo(processo)
                pytest.fail(f"o simulador não respondeu em {url} (código {processo.returncode})")
            time.sleep(0.2)
        return processo, url

    def parar(self) -> None:
        app, self.atual = self.atual, None
        if app is None:
            return
        if app.processo.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(app.processo.pid, signal.SIGTERM)
            try:
                app.processo.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(app.processo.pid, signal.SIGKILL)
                app.processo.wait(timeout=10)
        # Workers left behind in the group (SIGTERM reached only part of it).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(app.processo.pid, signal.SIGKILL)
        _limpar(app.limpar)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    for linha in _PARTIDAS:
        terminalreporter.write_line(f"e2e: {linha}")


def _parar_processo(processo: subprocess.Popen[bytes]) -> None:
    if processo.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(processo.pid, signal.SIGTERM)
        try:
            processo.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(processo.pid, signal.SIGKILL)
            processo.wait(timeout=10)


_PROCESSOS: dict[str, subprocess.Popen[bytes]] = {}  # helpers of the app (the simulator)


def _limpar(recursos: list[tuple[str, str]]) -> None:
    for tipo, valor in recursos:
        if tipo == "pg":
            apagar_banco_pg(valor)
        elif tipo == "processo" and valor in _PROCESSOS:
            _parar_processo(_PROCESSOS.pop(valor))


def _email_demo(saida_seed: str) -> str:
    achado = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", saida_seed)
    if not achado:
        pytest.fail(f"o seed não imprimiu um e-mail de demonstração:\n{saida_seed}")
    return achado.group(0)


@pytest.fixture(scope="session")
def servidor_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_ServidorApp]:
    servidor = _ServidorApp(tmp_path_factory.mktemp("e2e"))
    try:
        yield servidor
    finally:
        servidor.parar()


@pytest.fixture
def app_sqlite(servidor_app: _ServidorApp) -> AppEmExecucao:
    """The app on SQLite with in-memory state (started once, reused by the next tests)."""
    return servidor_app.garantir("sqlite")


@pytest.fixture
def app_escalado(servidor_app: _ServidorApp) -> AppEmExecucao:
    """The app on a fresh PostgreSQL database with Reflex state in Redis."""
    return servidor_app.garantir("escalado")


@pytest.fixture(scope="session")
def navegador() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        msg = f"Chromium não encontrado em {CHROMIUM} (apt-get install chromium)"
        if NO_CI:
            pytest.fail(f"{msg}; CI=true")
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def pagina(navegador) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh page; reduced motion (the CSS then has no transitions) so axe reads settled
    colours without waiting for the theme to fade."""
    contexto = navegador.new_context(locale="pt-BR", reduced_motion="reduce")
    contexto.set_default_timeout(15_000)
    pagina = contexto.new_page()
    try:
        yield pagina
    finally:
        contexto.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every SQLite-mode test first, then every scale-out one: the app starts once per mode."""
    items.sort(key=lambda item: "app_escalado" in getattr(item, "fixturenames", ()))


ESCURO = re.compile(r"\bdark\b")


def assentada(pagina: Any) -> None:
    """The screen stopped changing: nothing loading (skeletons, ``aria-busy``) and two frames
    painted since, so React's last commit (e.g. a colour chosen by the colour mode) is on
    screen. What axe and the overflow check read after this is what a person sees."""
    from playwright.sync_api import expect

    expect(pagina.locator(".wa-esqueleto, [aria-busy='true']")).to_have_count(0)
    pagina.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def aplicar_esquema(pagina: Any, esquema: str) -> None:
    """Emulate the OS colour scheme the demo user's "Sistema" theme follows, and wait until the
    page shows it."""
    from playwright.sync_api import expect

    pagina.emulate_media(color_scheme=esquema)
    if esquema == "dark":
        expect(pagina.locator("html")).to_have_class(ESCURO)
    else:
        expect(pagina.locator("html")).not_to_have_class(ESCURO)
    assentada(pagina)


def violacoes_axe(pagina: object, seletor: str) -> list[dict[str, object]]:
    """axe-core's serious and critical violations inside ``seletor`` (one line each)."""
    pagina.add_script_tag(content=AXE.read_text())  # type: ignore[attr-defined]
    violacoes: list[dict[str, object]] = pagina.evaluate(  # type: ignore[attr-defined]
        """async (seletor) => (await axe.run(document.querySelector(seletor),
            {resultTypes: ['violations']})).violations
            .filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => ({id: v.id, impacto: v.impact,
                        alvos: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))""",
        seletor,
    )
    return violacoes
