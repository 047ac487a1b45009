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

The parts: ``mover_banco`` (seed, verification), ``mover_servidor`` (granian), ``mover_carga``
(the load clients, one measured run), ``mover_pyspy``, ``mover_relatorio`` (tables, JSON);
``bench/comum.py`` (machine, CPU accounting, medians) is shared with the other bench scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import mover_pyspy, mover_relatorio
from bench.carga_wrk import WRK_SEGUNDOS, WRK_TETO_MOVES_S
from bench.comum import PG_BASE, maquina
from bench.mover_banco import JOBS_POR_MOVIMENTO, Cenario, semear, verificar
from bench.mover_carga import TODAS, Rodada, rodar
from bench.mover_servidor import Servidor, login


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
    perfil: bool = True
    wrk: bool = False

    def leads_necessarios(self) -> int:
        n = len(self.workers) * (
            self.aquecimento
            + self.reps * sum(self.requisicoes[c] for c in self.concorrencias)
            + self.reps * self.requisicoes[50]
        )
        if self.wrk:
            por_rodada = sum(int(s * WRK_TETO_MOVES_S) for s in WRK_SEGUNDOS.values())
            n += len(self.workers) * self.reps * por_rodada
        if self.perfil:
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


def carga_principal(
    url: str, cenario: Cenario, plano: Plano, logs: Path
) -> tuple[str, list[Rodada]]:
    """The app as shipped, per worker count: httpx, the raw client, wrk. (token, runs)."""
    token = ""
    rodadas: list[Rodada] = []
    for w in plano.workers:
        with Servidor(url, w, logs) as srv:
            token = token or login(srv.base, cenario)
            rodadas.append(rodar(srv, token, cenario, plano.aquecimento, 10, "aquecimento"))
            for rep in range(plano.reps):
                for conc in plano.concorrencias:
                    r = rodar(srv, token, cenario, plano.requisicoes[conc], conc)
                    rodadas.append(r)
                    print(f"  workers={w} conc={conc:>2} rep={rep + 1}: "
                          f"{mover_relatorio.progresso(r)}", flush=True)  # fmt: skip
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
                          f"{mover_relatorio.progresso(r)}", flush=True)  # fmt: skip
    return token, rodadas


def passe_de_perfil(
    url: str, token: str, cenario: Cenario, plano: Plano, logs: Path
) -> tuple[list[Rodada], dict[str, Any]]:
    """bench/instrumentado.py's phases and py-spy at 1 worker, then the what-if variants."""
    rodadas: list[Rodada] = []
    extras: dict[str, Any] = {}
    fabrica = "bench.instrumentado:criar_api"
    with Servidor(url, 1, logs, fabrica=fabrica, nome="perfil") as srv:
        rodar(srv, token, cenario, plano.aquecimento, 10, "aquecimento")
        for conc, n in plano.perfil_req.items():
            srv.estatisticas()
            arquivo = logs / f"pyspy-conc{conc}.txt"
            spy = mover_pyspy.iniciar(srv.proc.pid, arquivo)  # type: ignore[union-attr]
            r = rodar(srv, token, cenario, n, conc, "perfil", cru=True)
            if spy:
                mover_pyspy.parar(spy)
            extras[f"fases_conc{conc}"] = srv.estatisticas()
            extras[f"pyspy_conc{conc}"] = mover_pyspy.analisar(arquivo, r.segundos)
            rodadas.append(r)
    for variante, env in plano.variantes:
        with Servidor(url, max(plano.workers), logs, fabrica=fabrica, env=env, nome="var") as srv:
            rodar(srv, token, cenario, plano.aquecimento, 10, "aquecimento")
            srv.estatisticas()
            for _ in range(plano.variante_reps):
                r = rodar(srv, token, cenario, plano.variante_req, 50, variante, cru=True)
                rodadas.append(r)
                print(f"  variante {variante!r}: {r.por_segundo:.0f} moves/s "
                      f"p95 {r.percentil(95):.1f} ms", flush=True)  # fmt: skip
            extras[f"fases_variante {variante}"] = srv.estatisticas()
    return rodadas, extras


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
    plano.perfil = not args.sem_perfil
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
    try:
        migrar(url)
        n_leads = plano.leads_necessarios()
        cenario = semear(url, n_leads)
        print(f"banco {nome} migrado e semeado: {n_leads} leads, "
              f"{n_leads * JOBS_POR_MOVIMENTO} jobs pendentes na origem "
              f"({time.monotonic() - inicio:.0f} s)", flush=True)  # fmt: skip
        token, rodadas = carga_principal(url, cenario, plano, logs)
        saida = mover_relatorio.tabela(
            [r for r in rodadas if r.variante in ("", CRU, WRK)],
            "## Resultado (granian, app sem instrumentos)",
            lambda r: (r.variante, r.workers, r.concorrencia),
        )
        extras: dict[str, Any] = {}
        if plano.perfil:
            do_perfil, extras = passe_de_perfil(url, token, cenario, plano, logs)
            rodadas += do_perfil
            saida += mover_relatorio.perfil(
                rodadas, plano.variantes, max(plano.workers), plano.perfil_req, extras
            )

        movidos = {i for r in TODAS for i in r.movidos}
        talvez = {i for r in TODAS for i in r.talvez}
        faixa = (sum(r.faixa[0] for r in TODAS), sum(r.faixa[1] for r in TODAS))
        verificacao = verificar(cenario, movidos, talvez, faixa)
        duracao = time.monotonic() - inicio

        print()
        print("\n".join(saida))
        print("\nverificação:", json.dumps(verificacao, ensure_ascii=False))
        print(f"duração total: {duracao:.0f} s; logs do servidor em {logs}")
        if args.json:
            mover_relatorio.escrever_json(
                args.json, maquina=info, duracao_s=duracao, verificacao=verificacao,
                rodadas=rodadas, extras=extras,
            )  # fmt: skip
        return 0 if verificacao["ok"] and not any(r.erros for r in rodadas) else 1
    finally:
        apagar_banco_pg(url)


if __name__ == "__main__":
    sys.exit(main())
