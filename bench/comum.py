"""What the bench scripts share: the PostgreSQL they run on, the machine they ran on, CPU
accounting from ``/proc`` (the machine, one process, a process tree), medians and percentiles.

The entry scripts put the repository root on ``sys.path`` before importing this module."""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

RAIZ = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # granian, py-spy: next to this interpreter
PG_BASE = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TICK = os.sysconf("SC_CLK_TCK")

# pid -> (ppid, comm, own user+system s, reaped children's user+system s)
Processos = dict[int, tuple[int, str, float, float]]


def sql(url: str, comando: str, **parametros: Any) -> Any:
    """One statement in its own transaction, on the app's engine for ``url``."""
    from whatsapp_app import db

    with db.engine_para(url).begin() as c:
        return c.execute(sa.text(comando), parametros)


# --------------------------------------------------------------------------- statistics


def mediana(valores: Iterable[float]) -> float:
    lista = list(valores)
    return statistics.median(lista) if lista else float("nan")


def percentil(valores: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100)."""
    ordenados = sorted(valores)
    return ordenados[min(len(ordenados) - 1, round(p / 100 * (len(ordenados) - 1)))]


# --------------------------------------------------------------------------- the machine


def maquina() -> dict[str, str]:
    """CPU, memory, PostgreSQL (version and the settings that move the figures), Python."""
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
        "kernel": platform.release(),
        "load_avg_inicio": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


# --------------------------------------------------------------------------- CPU accounting


def cpu_maquina() -> tuple[float, float]:
    """(busy, total) seconds of all cores since boot, from /proc/stat."""
    campos = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ocioso = campos[3] + campos[4]  # idle + iowait
    return (sum(campos[:8]) - ocioso) / TICK, sum(campos[:8]) / TICK


def ocupada_pct(antes: tuple[float, float], depois: tuple[float, float]) -> float:
    """Busy share of the machine between two ``cpu_maquina()`` readings."""
    return 100 * (depois[0] - antes[0]) / max(1e-9, depois[1] - antes[1])


def fundo_pct(segundos: float = 0.5) -> float:
    """Machine busy % while the benchmark is idle: the other tenants of the cores."""
    antes = cpu_maquina()
    time.sleep(segundos)
    return ocupada_pct(antes, cpu_maquina())


def _stat(texto: str) -> tuple[str, list[str]]:
    """``/proc/<pid>/stat`` as (comm, the fields after it: state, ppid, ...)."""
    cabeca, _, resto = texto.rpartition(")")
    return cabeca.partition("(")[2], resto.split()


def cpu_processo_s(pid: int) -> float:
    """utime + stime of one live process, in seconds."""
    campos = _stat(Path(f"/proc/{pid}/stat").read_text())[1]
    return (int(campos[11]) + int(campos[12])) / TICK


def processos() -> Processos:
    tabela: Processos = {}
    for entrada in Path("/proc").iterdir():
        if not entrada.name.isdigit():
            continue
        try:
            comm, campos = _stat((entrada / "stat").read_text())
        except OSError:
            continue
        tabela[int(entrada.name)] = (
            int(campos[1]),
            comm,
            (int(campos[11]) + int(campos[12])) / TICK,
            (int(campos[13]) + int(campos[14])) / TICK,
        )
    return tabela


def cpu_arvore(raiz: int, procs: Processos) -> float:
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


def postmaster(procs: Processos) -> int | None:
    for pid, (ppid, comm, *_resto) in procs.items():
        if comm == "postgres" and procs.get(ppid, (0, ""))[1] != "postgres":
            return pid
    return None


def cpu_proprio() -> float:
    """This process and its reaped children (wrk runs as one)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
