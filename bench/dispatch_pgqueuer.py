"""PgQueuer's own drain benchmark, as a reference for ``bench/dispatch.py`` (issue 11).

PgQueuer is never a dependency of the app: ``preparar()`` installs it at bench time into its
own venv, ``.tools/bench-pgqueuer/`` (ignored by git)::

    python3 -m venv .tools/bench-pgqueuer
    .tools/bench-pgqueuer/bin/pip install 'pgqueuer[asyncpg]==VERSAO' tqdm
    pip download --no-deps --no-binary :all: pgqueuer==VERSAO     # the sdist, for its script

and takes ``tools/benchmark.py`` from the sdist (the script is not in the wheel; ``tqdm`` is a
dependency of the script only). ``rodar()`` runs that script unchanged as a subprocess::

    python tools/benchmark.py --strategy drain --jobs N --dequeue K --dequeue-batch-size B

against a throwaway database (its schema put there by ``pgq install``), with the default
asyncpg driver: it enqueues N jobs, then K consumers (asyncio tasks of one ``PgQueuer`` each,
one connection each, in one process) drain them with a no-op entrypoint; its figure is
``Rate`` = N / drain time, read from the table it prints.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.comum import RAIZ, fundo_pct

VERSAO = "1.6.0"  # newest on PyPI at the time; Python >= 3.10, PostgreSQL 15 fine
PASTA = RAIZ / ".tools" / "bench-pgqueuer"
PY = PASTA / "bin" / "python"
SCRIPT = PASTA / "sdist" / f"pgqueuer-{VERSAO}" / "tools" / "benchmark.py"
LOTE_PADRAO = 10  # the script's own --dequeue-batch-size default


def _versao_instalada(pacote: str) -> str | None:
    if not PY.exists():
        return None
    saida = subprocess.run(
        [str(PY), "-c", f"import importlib.metadata as m; print(m.version({pacote!r}))"],
        capture_output=True,
        text=True,
    )
    return saida.stdout.strip() if saida.returncode == 0 else None


def preparar() -> dict[str, str]:
    """The venv and the script, installed once (then reused); returns the versions used."""
    if _versao_instalada("pgqueuer") != VERSAO:
        if not PY.exists():
            subprocess.run([sys.executable, "-m", "venv", str(PASTA)], check=True)
        subprocess.run(
            [str(PY), "-m", "pip", "install", "-q", f"pgqueuer[asyncpg]=={VERSAO}", "tqdm"],
            check=True,
        )
    if not SCRIPT.exists():
        destino = PASTA / "sdist"
        subprocess.run(
            [str(PY), "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             f"pgqueuer=={VERSAO}", "-d", str(destino)],
            check=True,
        )  # fmt: skip
        membro = f"pgqueuer-{VERSAO}/tools/benchmark.py"
        with tarfile.open(destino / f"pgqueuer-{VERSAO}.tar.gz") as sdist:
            sdist.extract(membro, destino, filter="data")
    return {p: _versao_instalada(p) or "?" for p in ("pgqueuer", "asyncpg", "tqdm")}


def _ambiente(url: str) -> dict[str, str]:
    """libpq variables for the throwaway database (the script connects with an empty DSN)."""
    u = make_url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "PGQUEUER_"))}
    env.update(
        {
            "PGHOST": u.host or "127.0.0.1",
            "PGPORT": str(u.port or 5432),
            "PGUSER": u.username or "postgres",
            "PGDATABASE": u.database or "postgres",
            "PGQUEUER_TABLEFMT": "pretty",
        }
    )
    if u.password:
        env["PGPASSWORD"] = u.password
    return env


def instalar_esquema(url: str) -> None:
    subprocess.run(
        [str(PASTA / "bin" / "pgq"), "install"],
        env=_ambiente(url),
        check=True,
        capture_output=True,
    )


def rodar(url: str, consumidores: int, jobs: int, lote: int, pasta: Path) -> dict[str, Any]:
    """One drain of ``jobs`` by ``consumidores``; jobs/s as PgQueuer's script prints it."""
    comando = [str(PY), str(SCRIPT), "--strategy", "drain", "--jobs", str(jobs),
               "--dequeue", str(consumidores), "--dequeue-batch-size", str(lote)]  # fmt: skip
    saida = pasta / f"pgqueuer-{consumidores}.out"
    ocupado = fundo_pct()
    with open(saida, "w") as arquivo:
        codigo = subprocess.run(
            comando,
            cwd=SCRIPT.parent.parent,
            env=_ambiente(url),
            stdout=arquivo,
            stderr=subprocess.STDOUT,
            timeout=120 + jobs / 50,
        ).returncode
    texto = saida.read_text(errors="replace")
    taxa = re.search(r"\|\s*Rate\s*\|\s*([\d.]+)", texto)
    tempo = re.search(r"\|\s*Elapsed Time\s*\|\s*([\d:.]+)", texto)
    if codigo != 0 or not taxa:
        raise RuntimeError(f"benchmark do PgQueuer falhou ({codigo}):\n{texto[-2000:]}")
    return {
        "consumidores": consumidores,
        "lote": lote,
        "jobs": jobs,
        "jobs_s": round(float(taxa.group(1)), 1),
        "tempo": tempo.group(1) if tempo else "?",
        "ocupacao_antes_pct": round(ocupado, 0),
    }
