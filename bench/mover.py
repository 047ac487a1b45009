"""Benchmark: ``PATCH /api/leads/{id}/mover`` over HTTP on PostgreSQL.

Run from the repository root::

    .venv/bin/python bench/mover.py              # full run (~6-8 min on 2 cores)
    .venv/bin/python bench/mover.py --rapido     # smoke run (~1 min), figures not meaningful

What it does (everything on loopback, every loop bounded):

1. creates a throwaway database ``bench_mover_<pid>`` on 127.0.0.1:5432 (user postgres),
   migrates it with Alembic and seeds one company (4 stages, a sending window), 3 active
   automations x 3 steps on the origin stage and 3 x 3 on the destination stage, a user, and
   enough leads for every request to move a *distinct* lead origin -> destination. Each lead
   starts with the 9 pending jobs of the origin stage, so every move does the full work: lock
   the lead, update it, write the history, cancel 9 jobs, schedule 9 jobs;
2. logs in through ``POST /api/auth/login`` for a bearer token;
3. serves ``whatsapp_app.api:criar_api`` with granian (ASGI, 1 and 2 worker processes,
   ``AGENDADOR_ATIVO=false``, app logs at the default INFO level into a file) and drives it
   with one async httpx client at concurrency 1, 10 and 50, 3 repetitions each, then with
   ``wrk`` (C, Debian package ``wrk``, a Lua script that moves a distinct lead per request;
   ``--sem-wrk`` skips it) at concurrency 10 and 50 for a fixed duration; reports the median
   of the repetitions. The load generator shares the 2 cores with the server and PostgreSQL:
   its own CPU use is printed (wrk's too: it is a reaped child);
4. profiling pass (unless ``--sem-perfil``): ``bench/instrumentado.py`` times each phase
   (token lookup, each SQL statement, pre-ping, COMMIT, new connections) and py-spy (if
   installed) samples the server at concurrency 50; then what-if variants of suggested fixes
   (log level, token cache, pool settings) are measured at concurrency 50;
5. verifies the database (leads moved, 9 jobs created and 9 cancelled per move, no duplicate
   idempotency key, one history row per move) and drops it.

``--json FILE`` also writes every raw figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RAIZ = Path(__file__).resolve().parent.parent
if str(RAIZ) not in sys.path:
    sys.path.insert(0, str(RAIZ))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.carga_wrk import WRK_SEGUNDOS, WRK_TETO_MOVES_S, carga_wrk  # noqa: E402

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BIN = Path(sys.executable).parent
ETAPAS_POR_AUTOMACAO = (0, 60, 1440)  # minutes: 3 steps
AUTOMACOES_POR_ESTAGIO = 3
JOBS_POR_MOVIMENTO = AUTOMACOES_POR_ESTAGIO * len(ETAPAS_POR_AUTOMACAO)  # 9
JANELA = {"inicio": "08:00", "fim": "20:00", "dias_semana": [0, 1, 2, 3, 4, 5]}
TICK = os.sysconf("SC_CLK_TCK")
PYSPY_HZ = 200


# --------------------------------------------------------------------------- database


@dataclass
class Cenario:
    url: str
    id_empresa: str
    origem: str
    destino: str
    email: str
    senha: str
    leads: list[str]
    proximo: int = 0

    def tomar(self, n: int) -> list[str]:
        if self.proximo + n > len(self.leads):
            raise RuntimeError("faltam leads semeados: aumente a margem em leads_necessarios()")
        fatia = self.leads[self.proximo : self.proximo + n]
        self.proximo += n
        return fatia


def semear(url: str, n_leads: int) -> Cenario:
    """One company, 4 stages, 3x3 automations on origin and destination, ``n_leads`` leads."""
    os.environ["DATABASE_URL"] = url
    from tests import factories
    from whatsapp_app import db
    from whatsapp_app.config import configuracoes

    configuracoes.cache_clear()
    empresa = factories.criar_empresa(
        "Bench",
        sufixo="bench",
        estagios=("Novo", "Origem", "Destino", "Ganho"),
        janela_envio=JANELA,
    )
    origem, destino = empresa.estagios[1], empresa.estagios[2]
    for estagio in (1, 2):
        for _ in range(AUTOMACOES_POR_ESTAGIO):
            factories.criar_automacao(empresa, estagio=estagio, atrasos=ETAPAS_POR_AUTOMACAO)
    parametros = {"emp": empresa.id, "origem": origem, "n": n_leads}
    with db.engine().begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO lead (id, id_empresa, nome, telefone, id_estagio, criado_em,"
                " atualizado_em) SELECT md5('lead' || g), :emp, 'Lead Bench ' || g,"
                " '+5511' || lpad(g::text, 9, '0'), :origem, now(), now()"
                " FROM generate_series(1, :n) g"
            ),
            parametros,
        )
        c.execute(
            sa.text(
                "INSERT INTO lead_estagio_historico (id, id_empresa, id_lead, id_estagio, ordinal,"
                " criado_em) SELECT md5('hist' || l.id), l.id_empresa, l.id, l.id_estagio, 1,"
                " now() FROM lead l WHERE l.id_empresa = :emp"
            ),
            parametros,
        )
        # The 9 pending jobs each lead got when it entered the origin stage (same keys as
        # executar_automacoes_lead_stage_changed builds for reentrada=uma_vez).
        c.execute(
            sa.text(
                "INSERT INTO whatsapp_automacao_agendamento (id, id_empresa, id_lead,"
                " id_whatsapp_automacao, id_etapa, id_estagio_trigger, chave_idempotencia,"
                " referencia_evento, status, agendado_para, tentativas, criado_em,"
                " atualizado_em)"
                " SELECT md5('job' || l.id || e.id), l.id_empresa, l.id, a.id, e.id, :origem,"
                " k.chave, k.chave, 'PENDENTE', now() + interval '1 day', 0, now(), now()"
                " FROM lead l"
                " JOIN whatsapp_automacao a ON a.id_empresa = l.id_empresa"
                "  AND a.id_estagio_trigger = :origem"
                " JOIN whatsapp_automacao_etapa e ON e.id_whatsapp_automacao = a.id"
                " CROSS JOIN LATERAL (SELECT l.id_empresa || ':' || l.id || ':' || :origem"
                "  || ':' || a.id || ':' || e.id AS chave) k"
                " WHERE l.id_empresa = :emp"
            ),
            parametros,
        )
        ids = list(
            c.execute(
                sa.text("SELECT id FROM lead WHERE id_empresa = :emp ORDER BY id"), parametros
            ).scalars()
        )
    with db.engine().connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM ANALYZE"))
    db.engine().dispose()
    return Cenario(
        url=url,
        id_empresa=empresa.id,
        origem=origem,
        destino=destino,
        email=empresa.usuarios["admin"],
        senha=factories.SENHA,
        leads=ids,
    )


def verificar(
    cenario: Cenario,
    movidos: set[str],
    talvez: set[str] | None = None,
    faixa: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """What the database must hold after the moves that answered 200.

    ``talvez``: leads sent by wrk, whose answers are counted but not named; ``faixa`` = (answered
    200 with 9/9, sent without an answer at the stop): that many of them must have moved."""
    talvez = talvez or set()
    engine = sa.create_engine(cenario.url, poolclass=sa.pool.NullPool)
    p = {"emp": cenario.id_empresa, "origem": cenario.origem, "destino": cenario.destino}
    with engine.connect() as c:

        def um(sql: str) -> int:
            return int(c.execute(sa.text(sql), p).scalar_one())

        no_destino = set(
            c.execute(
                sa.text("SELECT id FROM lead WHERE id_empresa = :emp AND id_estagio = :destino"), p
            ).scalars()
        )
        r = {
            "movimentos_ok": len(movidos),
            "leads_no_destino": len(no_destino),
            "leads_no_destino_iguais_aos_movidos": no_destino - talvez == movidos,
            "leads_wrk_no_destino": len(no_destino & talvez),
            "leads_wrk_confirmados_e_sem_resposta": list(faixa),
            "jobs_criados_destino": um(
                "SELECT count(*) FROM whatsapp_automacao_agendamento"
                " WHERE id_empresa = :emp AND id_estagio_trigger = :destino AND status = 'PENDENTE'"
            ),
            "jobs_cancelados_origem": um(
                "SELECT count(*) FROM whatsapp_automacao_agendamento"
                " WHERE id_empresa = :emp AND id_estagio_trigger = :origem"
                " AND status = 'CANCELADO' AND motivo_cancelamento = 'lead_saiu_do_estagio'"
            ),
            "historico_destino": um(
                "SELECT count(*) FROM lead_estagio_historico"
                " WHERE id_empresa = :emp AND id_estagio = :destino"
            ),
            "chaves_duplicadas": um(
                "SELECT count(*) FROM (SELECT 1 FROM whatsapp_automacao_agendamento"
                " GROUP BY id_empresa, chave_idempotencia HAVING count(*) > 1) d"
            ),
            "historico_duplicado": um(
                "SELECT count(*) FROM (SELECT 1 FROM lead_estagio_historico"
                " GROUP BY id_lead, id_estagio, ordinal HAVING count(*) > 1) d"
            ),
        }
    engine.dispose()
    n = len(no_destino)
    r["ok"] = (
        r["leads_no_destino_iguais_aos_movidos"]
        and faixa[0] <= len(no_destino & talvez) <= faixa[0] + faixa[1]
        and r["jobs_criados_destino"] == JOBS_POR_MOVIMENTO * n
        and r["jobs_cancelados_origem"] == JOBS_POR_MOVIMENTO * n
        and r["historico_destino"] == n
        and r["chaves_duplicadas"] == 0
        and r["historico_duplicado"] == 0
    )
    return r


# --------------------------------------------------------------------------- CPU accounting


def _cpu_maquina() -> tuple[float, float]:
    """(busy, total) seconds of all cores since boot, from /proc/stat."""
    campos = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ocioso = campos[3] + campos[4]  # idle + iowait
    return (sum(campos[:8]) - ocioso) / TICK, sum(campos[:8]) / TICK


def _processos() -> dict[int, tuple[int, str, float, float]]:
    """pid -> (ppid, comm, own user+system s, reaped children's user+system s)."""
    tabela: dict[int, tuple[int, str, float, float]] = {}
    for entrada in Path("/proc").iterdir():
        if not entrada.name.isdigit():
            continue
        try:
            texto = (entrada / "stat").read_text()
        except OSError:
            continue
        cabeca, _, resto = texto.rpartition(")")
        campos = resto.split()
        tabela[int(entrada.name)] = (
            int(campos[1]),
            cabeca.partition("(")[2],
            (int(campos[11]) + int(campos[12])) / TICK,
            (int(campos[13]) + int(campos[14])) / TICK,
        )
    return tabela


def _cpu_arvore(raiz: int, procs: dict[int, tuple[int, str, float, float]]) -> float:
    """user+system seconds of ``raiz``, its live descendants and the ones it reaped."""
    filhos: dict[int, list[int]] = {}
    for pid, (ppid, *_resto) in procs.items():
        filhos.setdefault(ppid, []).append(pid)
    total, pilha = procs[raiz][3] if raiz in procs else 0.0, [raiz]
    while pilha:
        pid = pilha.pop()
        total += procs[pid][2] if pid in procs else 0.0
        pilha.extend(filhos.get(pid, []))
    return total


def _postmaster(procs: dict[int, tuple[int, str, float, float]]) -> int | None:
    for pid, (ppid, comm, *_resto) in procs.items():
        if comm == "postgres" and procs.get(ppid, (0, ""))[1] != "postgres":
            return pid
    return None


def _cpu_proprio() -> float:
    """This process and its reaped children (wrk runs as one)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


# --------------------------------------------------------------------------- server


def _porta_livre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        self.porta = _porta_livre()
        self.base = f"http://127.0.0.1:{self.porta}"
        self.log = pasta_logs / f"servidor-{nome or workers}-{self.porta}.log"
        self._cmd = [
            str(BIN / "granian"),
            "--interface",
            "asgi",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.porta),
            "--workers",
            str(workers),
            "--no-ws",
            "--log-level",
            "warning",
            fabrica,
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
            self._esperar()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _esperar(self) -> None:
        assert self.proc is not None
        prazo = time.monotonic() + 90
        while time.monotonic() < prazo:
            if self.proc.poll() is not None:
                raise RuntimeError(f"servidor saiu: veja {self.log}")
            try:
                if httpx.get(self.base + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError(f"servidor não respondeu em 90 s: veja {self.log}")
        # every worker up: granian answers from the first one that is ready
        time.sleep(1.5)

    def __exit__(self, *_: object) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def pids_workers(self) -> list[int]:
        assert self.proc is not None
        return [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _ppid(p) == self.proc.pid
        ]

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


def _ppid(p: Path) -> int:
    try:
        return int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def login(base: str, cenario: Cenario) -> str:
    r = httpx.post(
        base + "/api/auth/login",
        json={"email": cenario.email, "senha": cenario.senha},
        timeout=30,
    )
    r.raise_for_status()
    return str(r.json()["token"])


# --------------------------------------------------------------------------- load


@dataclass
class Rodada:
    concorrencia: int
    workers: int
    requisicoes: int
    segundos: float
    latencias_ms: list[float]
    erros: int
    movidos: list[str]
    cpu: dict[str, float] = field(default_factory=dict)
    variante: str = ""
    talvez: list[str] = field(default_factory=list)  # wrk: sent, answer not attributable
    faixa: tuple[int, int] = (0, 0)  # wrk: (answered 9/9, unanswered at the stop)

    @property
    def por_segundo(self) -> float:
        return self.requisicoes / self.segundos

    def percentil(self, p: float) -> float:
        if self.talvez:  # wrk: latencias_ms holds its p50, p95, p99
            return self.latencias_ms[{50: 0, 95: 1, 99: 2}[int(p)]]
        ordenadas = sorted(self.latencias_ms)
        return ordenadas[min(len(ordenadas) - 1, round(p / 100 * (len(ordenadas) - 1)))]


async def _carga(base: str, token: str, destino: str, ids: list[str], concorrencia: int) -> Any:
    latencias: list[float] = []
    movidos: list[str] = []
    erros: list[str] = []
    fila = iter(ids)
    limites = httpx.Limits(max_connections=concorrencia, max_keepalive_connections=concorrencia)
    cabecalhos = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=base, headers=cabecalhos, limits=limites, timeout=60
    ) as cliente:
        # open the keep-alive connections before the clock starts
        await asyncio.gather(*(cliente.get("/api/health") for _ in range(concorrencia)))

        async def trabalhador() -> None:
            for id_lead in fila:  # shared iterator: each lead is moved exactly once
                inicio = time.perf_counter()
                try:
                    r = await cliente.patch(
                        f"/api/leads/{id_lead}/mover", json={"id_estagio_destino": destino}
                    )
                    corpo = r.json() if r.status_code == 200 else None
                except (httpx.HTTPError, ValueError) as exc:
                    corpo, r = None, None
                    erros.append(repr(exc))
                latencias.append((time.perf_counter() - inicio) * 1000)
                if (
                    corpo
                    and corpo.get("agendamentos_criados") == JOBS_POR_MOVIMENTO
                    and corpo.get("agendamentos_cancelados") == JOBS_POR_MOVIMENTO
                ):
                    movidos.append(id_lead)
                elif r is not None:
                    erros.append(f"{r.status_code} {r.text[:200]}")

        inicio = time.perf_counter()
        await asyncio.gather(*(trabalhador() for _ in range(concorrencia)))
        return time.perf_counter() - inicio, latencias, movidos, erros


async def _carga_crua(
    base: str, token: str, destino: str, ids: list[str], concorrencia: int
) -> Any:
    """Same load with a minimal HTTP/1.1 keep-alive client on asyncio streams (~10x less CPU
    per request than httpx), to show how much of the 2 cores httpx itself takes."""
    host, porta = "127.0.0.1", int(base.rsplit(":", 1)[1])
    latencias: list[float] = []
    movidos: list[str] = []
    erros: list[str] = []
    fila = iter(ids)
    corpo = json.dumps({"id_estagio_destino": destino}).encode()
    fixo = (
        f"Host: {host}:{porta}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(corpo)}\r\n\r\n"
    ).encode() + corpo
    conexoes = [await asyncio.open_connection(host, porta) for _ in range(concorrencia)]

    async def trabalhador(leitor: asyncio.StreamReader, escritor: asyncio.StreamWriter) -> None:
        for id_lead in fila:
            inicio = time.perf_counter()
            try:
                escritor.write(f"PATCH /api/leads/{id_lead}/mover HTTP/1.1\r\n".encode() + fixo)
                cabecalho = await leitor.readuntil(b"\r\n\r\n")
                tamanho = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", cabecalho)
                if tamanho is None:
                    raise ValueError(f"resposta sem content-length: {cabecalho[:200]!r}")
                dados = await leitor.readexactly(int(tamanho.group(1)))
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                latencias.append((time.perf_counter() - inicio) * 1000)
                erros.append(repr(exc))
                return  # this connection is unusable; the others go on
            latencias.append((time.perf_counter() - inicio) * 1000)
            status = int(cabecalho.split(b" ", 2)[1])
            resposta = json.loads(dados) if status == 200 else None
            if (
                resposta
                and resposta.get("agendamentos_criados") == JOBS_POR_MOVIMENTO
                and resposta.get("agendamentos_cancelados") == JOBS_POR_MOVIMENTO
            ):
                movidos.append(id_lead)
            else:
                erros.append(f"{status} {dados[:200]!r}")

    inicio = time.perf_counter()
    await asyncio.gather(*(trabalhador(*c) for c in conexoes))
    segundos = time.perf_counter() - inicio
    for _, escritor in conexoes:
        escritor.close()
    return segundos, latencias, movidos, erros


def _fundo_pct(segundos: float = 0.5) -> float:
    """Machine busy % while this benchmark is idle: the other tenants of the 2 cores."""
    m0 = _cpu_maquina()
    time.sleep(segundos)
    m1 = _cpu_maquina()
    return 100 * (m1[0] - m0[0]) / max(1e-9, m1[1] - m0[1])


def _cpus(servidor: int) -> tuple[float, float, float, float]:
    procs = _processos()
    pm = _postmaster(procs)
    return (
        _cpu_maquina()[0],
        _cpu_proprio(),
        _cpu_arvore(servidor, procs),
        _cpu_arvore(pm, procs) if pm else 0.0,
    )


def rodar(
    srv: Servidor,
    token: str,
    cenario: Cenario,
    n: int,
    concorrencia: int,
    variante: str = "",
    *,
    cru: bool = False,
    wrk: bool = False,
    pasta: Path | None = None,
) -> Rodada:
    if wrk:
        n = int(WRK_SEGUNDOS.get(concorrencia, 6) * WRK_TETO_MOVES_S)
    ids = cenario.tomar(n)
    assert srv.proc is not None
    fundo = _fundo_pct()
    total0 = _cpu_maquina()[1]
    antes = _cpus(srv.proc.pid)
    carga = _carga_crua if cru else _carga
    talvez: list[str] = []
    faixa = (0, 0)
    if wrk:
        assert pasta is not None
        prefixo = pasta / f"ids-{os.getpid()}-{concorrencia}-{len(TODAS)}"
        dados, talvez, confirmados, sem_resposta, erros = carga_wrk(
            srv.base, token, cenario.destino, ids, concorrencia, prefixo
        )
        segundos, movidos, faixa = dados["duracao_us"] / 1e6, [], (confirmados, sem_resposta)
        n = dados["requisicoes"]
        # wrk gives percentiles only: the three are kept as the "latencies" of the run
        latencias = [dados["p50_us"] / 1000, dados["p95_us"] / 1000, dados["p99_us"] / 1000]
    else:
        segundos, latencias, movidos, erros = asyncio.run(
            carga(srv.base, token, cenario.destino, ids, concorrencia)
        )
    depois = _cpus(srv.proc.pid)
    total = _cpu_maquina()[1] - total0
    maquina, cliente, servidor, postgres = (b - a for a, b in zip(antes, depois, strict=True))
    cpu = {
        "fundo_antes_pct": fundo,
        "maquina_ocupada_pct": 100 * maquina / total,
        "cliente_s": cliente,
        "servidor_s": servidor,
        "postgres_s": postgres,
        "outros_s": maquina - cliente - servidor - postgres,
        "parede_s": segundos,
    }
    if erros:
        print(f"    {len(erros)} erro(s), ex.: {erros[0]}", flush=True)
    r = Rodada(
        concorrencia, srv.workers, n, segundos, latencias, len(erros), movidos, cpu, variante,
        talvez, faixa,
    )  # fmt: skip
    TODAS.append(r)
    return r


TODAS: list[Rodada] = []  # every run, warm-ups included (for the final verification)


# --------------------------------------------------------------------------- py-spy


def _pyspy_iniciar(pid: int, saida: Path) -> subprocess.Popen[bytes] | None:
    exe = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if not exe:
        return None
    return subprocess.Popen(
        [
            *(exe, "record", "--pid", str(pid), "--subprocesses", "--rate", str(PYSPY_HZ)),
            *("--gil", "--format", "raw", "--nonblocking", "--output", str(saida)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _pyspy_parar(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# categories by the file of the innermost frame (self time), first match wins
_CATEGORIAS = [
    ("logs (logging, python-json-logger, json)", r"/logging/|pythonjsonlogger|/json/"),
    ("SQLAlchemy ORM", r"sqlalchemy/orm/"),
    ("SQLAlchemy Core (compilação, engine, pool)", r"sqlalchemy/"),
    ("sqlmodel", r"sqlmodel/"),
    ("psycopg", r"psycopg"),
    ("pydantic", r"pydantic"),
    ("FastAPI/Starlette/anyio", r"fastapi/|starlette/|anyio/"),
    ("threads (threading, queue, concurrent)", r"/threading\.py|/queue\.py|concurrent/"),
    ("asyncio", r"asyncio/|selectors\.py"),
    ("granian (Rust, sem quadro Python)", r"^process \d+:"),
    ("whatsapp_app (código do app)", r"whatsapp_app/"),
    ("bench/instrumentado.py", r"bench/"),
    ("zoneinfo/datetime/uuid/re/enum", r"zoneinfo|datetime|uuid|/re/|/re\.py|enum\.py"),
]
_INCLUSIVOS = [
    ("auth: exigir_contexto (busca do token)", "exigir_contexto ("),
    ("mover_lead (tudo)", "mover_lead ("),
    ("  obter_lead (SELECT ... FOR UPDATE)", "obter_lead ("),
    ("  cancelar_ao_sair_do_estagio", "cancelar_ao_sair_do_estagio ("),
    ("  executar_automacoes_lead_stage_changed", "executar_automacoes_lead_stage_changed ("),
    ("    proxima_abertura (janela de envio)", "proxima_abertura ("),
    ("    _inserir_ignorando_duplicatas (INSERT 9 jobs)", "_inserir_ignorando_duplicatas ("),
    ("Session.commit (inclui flush)", "Session.commit ("),
    ("Session.flush (autoflush + explícito)", "Session.flush ("),
    ("logging (Logger._log: registro + JSON + escrita)", "Logger._log ("),
    ("compilação SQL (Compiled.__init__: cache miss)", "Compiled.__init__ ("),
    ("psycopg Cursor.execute", "Cursor.execute ("),
    ("pool: checkout (inclui pre-ping)", "_ConnectionFairy._checkout ("),
    ("pool: pre-ping", "do_ping ("),
    ("pool: nova conexão", "Connection.connect (psycopg"),
    ("FastAPI: validação do corpo", "validate_python ("),
    ("FastAPI: serialização da resposta", "serialize_response ("),
]


def analisar_pyspy(arquivo: Path, segundos: float) -> dict[str, Any]:
    """Samples taken with ``--gil``: only the thread holding the GIL, i.e. Python CPU time."""
    if not arquivo.exists():
        return {}
    total = 0
    proprios: Counter[str] = Counter()
    inclusivos: Counter[str] = Counter()
    for linha in arquivo.read_text().splitlines():
        pilha, _, n = linha.rpartition(" ")
        if not n.isdigit():
            continue
        amostras = int(n)
        total += amostras
        quadros = pilha.split(";")
        folha = quadros[-1] if quadros else ""
        for nome, padrao in _CATEGORIAS:
            if re.search(padrao, folha):
                proprios[nome] += amostras
                break
        else:
            proprios["outros"] += amostras
        for nome, trecho in _INCLUSIVOS:
            if any(trecho in q for q in quadros):
                inclusivos[nome] += amostras
    return {
        "amostras": total,
        "gil_ocupado_pct": 100 * total / (PYSPY_HZ * segundos),
        "proprio_pct": {k: 100 * v / total for k, v in proprios.most_common()} if total else {},
        "inclusivo_pct": {k: 100 * inclusivos[k] / total for k, _ in _INCLUSIVOS} if total else {},
    }


# --------------------------------------------------------------------------- report


def _mediana(rodadas: list[Rodada], f: Any) -> float:
    return statistics.median(f(r) for r in rodadas)


def tabela(rodadas: list[Rodada], titulo: str, chave: Any) -> list[str]:
    grupos: dict[Any, list[Rodada]] = {}
    for r in rodadas:
        grupos.setdefault(chave(r), []).append(r)
    linhas = [
        titulo,
        "",
        "| config | conc. | workers | req/rep | reps | moves/s (mediana) | min-max "
        "| p50 ms | p95 ms | p99 ms | erros | CPU ms/move servidor / PG / cliente / outros "
        "| máquina ocupada (fundo antes) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for rs in grupos.values():
        ms = {
            nome: _mediana(rs, lambda r, nome=nome: 1000 * r.cpu[nome] / r.requisicoes)
            for nome in ("servidor_s", "postgres_s", "cliente_s", "outros_s")
        }
        linhas.append(
            f"| {rs[0].variante or '-'} | {rs[0].concorrencia} | {rs[0].workers} "
            f"| {rs[0].requisicoes} | {len(rs)} "
            f"| **{_mediana(rs, lambda r: r.por_segundo):.0f}** "
            f"| {min(r.por_segundo for r in rs):.0f}-{max(r.por_segundo for r in rs):.0f} "
            f"| {_mediana(rs, lambda r: r.percentil(50)):.1f} "
            f"| **{_mediana(rs, lambda r: r.percentil(95)):.1f}** "
            f"| {_mediana(rs, lambda r: r.percentil(99)):.1f} "
            f"| {sum(r.erros for r in rs)} "
            f"| {ms['servidor_s']:.1f} / {ms['postgres_s']:.1f} / {ms['cliente_s']:.1f} / "
            f"{ms['outros_s']:.1f} "
            f"| {_mediana(rs, lambda r: r.cpu['maquina_ocupada_pct']):.0f}% "
            f"({_mediana(rs, lambda r: r.cpu['fundo_antes_pct']):.0f}%) |"
        )
    return linhas


def fases(estat: dict[str, Any]) -> list[str]:
    n = max(1, estat["requisicoes"])
    linhas = [
        f"({estat['requisicoes']} requisições, {estat['workers_lidos']} worker(s) lido(s))",
        "| fase (no servidor) | ms por requisição | vezes por requisição |",
        "|---|---:|---:|",
    ]
    for nome, seg in sorted(estat["segundos"].items(), key=lambda kv: -kv[1]):
        vezes = estat["contagens"].get(nome, 0) / n
        linhas.append(f"| {nome} | {1000 * seg / n:.2f} | {vezes:.2f} |")
    return linhas


def maquina() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    modelo = re.search(r"model name\s*:\s*(.*)", cpuinfo)
    mem = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
    engine = sa.create_engine(PG_BASE, poolclass=sa.pool.NullPool)
    with engine.connect() as c:
        versao = c.execute(sa.text("SHOW server_version")).scalar_one()
        ajustes = {
            nome: c.execute(sa.text(f"SHOW {nome}")).scalar_one()
            for nome in ("shared_buffers", "synchronous_commit", "fsync", "max_connections")
        }
    engine.dispose()
    return {
        "nproc": str(os.cpu_count()),
        "cpu": modelo.group(1).strip() if modelo else "?",
        "ram_gib": f"{int(mem.group(1)) / 1024 / 1024:.1f}" if mem else "?",
        "postgresql": str(versao),
        "postgresql_ajustes": ", ".join(f"{k}={v}" for k, v in ajustes.items()),
        "python": platform.python_version(),
        "load_avg_inicio": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


# --------------------------------------------------------------------------- main


@dataclass
class Plano:
    workers: tuple[int, ...]
    concorrencias: tuple[int, ...]
    requisicoes: dict[int, int]
    reps: int
    aquecimento: int
    perfil_req: dict[int, int]
    variantes: tuple[tuple[str, dict[str, str]], ...]
    variante_req: int
    variante_reps: int
    wrk: bool = False

    def leads_necessarios(self, perfil: bool) -> int:
        n = len(self.workers) * (
            self.aquecimento
            + self.reps * sum(self.requisicoes[c] for c in self.concorrencias)
            + self.reps * self.requisicoes[50]
        )
        if self.wrk:
            por_rodada = sum(int(s * WRK_TETO_MOVES_S) for s in WRK_SEGUNDOS.values())
            n += len(self.workers) * self.reps * por_rodada
        if perfil:
            n += self.aquecimento + sum(self.perfil_req.values())
            n += len(self.variantes) * (self.aquecimento + self.variante_reps * self.variante_req)
        return n + 100


CRU = "cliente asyncio cru"
WRK = "wrk"
VARIANTES: tuple[tuple[str, dict[str, str]], ...] = (
    ("atual (instrumentado)", {}),
    ("LOG_LEVEL=WARNING", {"LOG_LEVEL": "WARNING"}),
    ("cache de token", {"BENCH_VARIANTE": "cache_token"}),
    ("pool 40 sem pre-ping", {"BENCH_VARIANTE": "pool40,sem_ping"}),
    ("8 threads por worker", {"BENCH_VARIANTE": "threads8"}),
    (
        "todas juntas",
        {"LOG_LEVEL": "WARNING", "BENCH_VARIANTE": "cache_token,pool40,sem_ping,threads8"},
    ),
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--rapido", action="store_true", help="smoke run, small counts")
    ap.add_argument("--sem-perfil", action="store_true", help="skip profiling and variants")
    ap.add_argument("--workers", default="1,2", help="server worker counts (default 1,2)")
    ap.add_argument("--json", type=Path, help="write every raw figure to this file")
    ap.add_argument("--sem-wrk", action="store_true", help="skip the wrk load (conc. 10, 50)")
    args = ap.parse_args()
    workers = tuple(int(w) for w in args.workers.split(","))
    if args.rapido:
        plano = Plano(workers, (1, 10, 50), {1: 30, 10: 100, 50: 200}, 1, 30,
                      {1: 30, 50: 200}, VARIANTES, 200, 1)  # fmt: skip
    else:
        plano = Plano(workers, (1, 10, 50), {1: 100, 10: 400, 50: 800}, 3, 100,
                      {1: 150, 50: 800}, VARIANTES, 400, 3)  # fmt: skip
    perfil = not args.sem_perfil
    plano.wrk = not args.sem_wrk

    from tests.bancos import apagar_banco_pg, criar_banco_pg, migrar, pg_disponivel

    if not pg_disponivel(PG_BASE):
        print("PostgreSQL não responde em 127.0.0.1:5432 (usuário postgres).", file=sys.stderr)
        return 2
    info = maquina()
    print("máquina:", json.dumps(info, ensure_ascii=False), flush=True)
    nome = f"bench_mover_{os.getpid()}"
    url = criar_banco_pg(PG_BASE, nome)
    logs = Path(tempfile.mkdtemp(prefix="bench-mover-"))
    inicio = time.monotonic()
    rodadas: list[Rodada] = []
    extras: dict[str, Any] = {}
    try:
        migrar(url)
        n_leads = plano.leads_necessarios(perfil)
        cenario = semear(url, n_leads)
        print(f"banco {nome} migrado e semeado: {n_leads} leads, "
              f"{n_leads * JOBS_POR_MOVIMENTO} jobs pendentes na origem "
              f"({time.monotonic() - inicio:.0f} s)", flush=True)  # fmt: skip
        token = ""
        for w in plano.workers:
            with Servidor(url, w, logs) as srv:
                token = token or login(srv.base, cenario)
                rodadas.append(rodar(srv, token, cenario, plano.aquecimento, 10, "aquecimento"))
                for rep in range(plano.reps):
                    for conc in plano.concorrencias:
                        r = rodar(srv, token, cenario, plano.requisicoes[conc], conc)
                        rodadas.append(r)
                        print(f"  workers={w} conc={conc:>2} rep={rep + 1}: "
                              f"{r.por_segundo:6.0f} moves/s  p50 {r.percentil(50):6.1f}  "
                              f"p95 {r.percentil(95):6.1f}  p99 {r.percentil(99):6.1f} ms  "
                              f"erros {r.erros}  cpu {r.cpu['maquina_ocupada_pct']:.0f}%",
                              flush=True)  # fmt: skip
                for rep in range(plano.reps):
                    r = rodar(srv, token, cenario, plano.requisicoes[50], 50, CRU, cru=True)
                    rodadas.append(r)
                    print(f"  workers={w} conc=50 rep={rep + 1} cliente cru: "
                          f"{r.por_segundo:6.0f} moves/s  p95 {r.percentil(95):6.1f} ms",
                          flush=True)  # fmt: skip
                for rep in range(plano.reps if plano.wrk else 0):
                    for conc in WRK_SEGUNDOS:
                        r = rodar(srv, token, cenario, 0, conc, WRK, wrk=True, pasta=logs)
                        rodadas.append(r)
                        print(f"  workers={w} conc={conc:>2} rep={rep + 1} wrk: "
                              f"{r.por_segundo:6.0f} moves/s  p50 {r.percentil(50):6.1f}  "
                              f"p95 {r.percentil(95):6.1f}  p99 {r.percentil(99):6.1f} ms  "
                              f"erros {r.erros}  cpu {r.cpu['maquina_ocupada_pct']:.0f}%",
                              flush=True)  # fmt: skip
        principais = [r for r in rodadas if r.variante in ("", CRU, WRK)]
        saida = tabela(principais, "## Resultado (granian, app sem instrumentos)",
                       lambda r: (r.variante, r.workers, r.concorrencia))  # fmt: skip

        if perfil:
            fabrica = "bench.instrumentado:criar_api"
            with Servidor(url, 1, logs, fabrica=fabrica, nome="perfil") as srv:
                rodar(srv, token, cenario, plano.aquecimento, 10, "aquecimento")
                for conc, n in plano.perfil_req.items():
                    srv.estatisticas()
                    arquivo = logs / f"pyspy-conc{conc}.txt"
                    spy = _pyspy_iniciar(srv.proc.pid, arquivo)  # type: ignore[union-attr]
                    r = rodar(srv, token, cenario, n, conc, "perfil", cru=True)
                    if spy:
                        _pyspy_parar(spy)
                    extras[f"fases_conc{conc}"] = srv.estatisticas()
                    extras[f"pyspy_conc{conc}"] = analisar_pyspy(arquivo, r.segundos)
                    rodadas.append(r)
            melhor_w = max(plano.workers)
            for variante, env in plano.variantes:
                with Servidor(url, melhor_w, logs, fabrica=fabrica, env=env, nome="var") as srv:
                    rodar(srv, token, cenario, plano.aquecimento, 10, "aquecimento")
                    srv.estatisticas()
                    for _ in range(plano.variante_reps):
                        r = rodar(srv, token, cenario, plano.variante_req, 50, variante, cru=True)
                        rodadas.append(r)
                        print(f"  variante {variante!r}: {r.por_segundo:.0f} moves/s "
                              f"p95 {r.percentil(95):.1f} ms", flush=True)  # fmt: skip
                    extras[f"fases_variante {variante}"] = srv.estatisticas()

        movidos = {i for r in TODAS for i in r.movidos}
        talvez = {i for r in TODAS for i in r.talvez}
        faixa = (sum(r.faixa[0] for r in TODAS), sum(r.faixa[1] for r in TODAS))
        verificacao = verificar(cenario, movidos, talvez, faixa)
        duracao = time.monotonic() - inicio

        print()
        print("\n".join(saida))
        if perfil:
            variantes = [r for r in rodadas if r.variante in dict(plano.variantes)]
            print()
            print("\n".join(tabela(variantes, f"## Variantes (conc. 50, cliente cru, {max(plano.workers)} "
                                   "workers, app instrumentado)", lambda r: r.variante)))  # fmt: skip
            for conc in plano.perfil_req:
                print(f"\n## Fases no servidor, 1 worker, conc. {conc}")
                print("\n".join(fases(extras[f"fases_conc{conc}"])))
            for variante, _ in plano.variantes:
                print(f"\n## Fases: variante {variante}")
                print("\n".join(fases(extras[f"fases_variante {variante}"])))
            for conc in plano.perfil_req:
                ps = extras.get(f"pyspy_conc{conc}")
                if not ps:
                    continue
                print(f"\n## py-spy --gil, 1 worker, conc. {conc}: {ps['amostras']} amostras, "
                      f"GIL ocupado {ps['gil_ocupado_pct']:.0f}% do tempo de parede")  # fmt: skip
                print("| tempo próprio (com o GIL) por módulo | % |\n|---|---:|")
                for k, v in ps["proprio_pct"].items():
                    print(f"| {k} | {v:.1f} |")
                print("\n| tempo inclusivo (com o GIL) | % |\n|---|---:|")
                for k, v in ps["inclusivo_pct"].items():
                    print(f"| {k} | {v:.1f} |")
        print("\nverificação:", json.dumps(verificacao, ensure_ascii=False))
        print(f"duração total: {duracao:.0f} s; logs do servidor em {logs}")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(
                json.dumps(
                    {
                        "maquina": info,
                        "duracao_s": duracao,
                        "verificacao": verificacao,
                        "rodadas": [
                            {
                                "variante": r.variante,
                                "concorrencia": r.concorrencia,
                                "workers": r.workers,
                                "requisicoes": r.requisicoes,
                                "moves_s": r.por_segundo,
                                "p50_ms": r.percentil(50),
                                "p95_ms": r.percentil(95),
                                "p99_ms": r.percentil(99),
                                "erros": r.erros,
                                "cpu": r.cpu,
                            }
                            for r in rodadas
                        ],
                        "extras": extras,
                    },
                    ensure_ascii=False,
                    indent=1,
                    default=dict,
                )
            )
        return 0 if verificacao["ok"] and not any(r.erros for r in rodadas) else 1
    finally:
        apagar_banco_pg(url)


if __name__ == "__main__":
    sys.exit(main())
