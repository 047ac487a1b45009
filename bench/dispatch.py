"""Benchmark: the follow-up dispatcher (issue 4) on PostgreSQL, against the built-in simulator.

Run from the repository root::

    .venv/bin/python bench/dispatch.py              # full run (~9 min on 2 cores)
    .venv/bin/python bench/dispatch.py --rapido     # smoke run (~1 min), figures not meaningful

What it does (everything on loopback, every loop bounded):

1. creates a throwaway database ``bench_dispatch_<pid>`` on 127.0.0.1:5432, migrates it and
   seeds two job sets (``tests/caos_apoio.semear``: one lead, one number, one message per job):
   - set A, 20,000 jobs over 100 ``simulador`` instances, for the 0 ms runs. The per-instance
     rate limit is capped at 80 msg/s by the settings (``DESPACHO_MSGS_POR_SEGUNDO <= 80``), so
     "rate limit high" is 100 instances x 80 msg/s = 8,000 msg/s in aggregate, far above what
     2 cores reach;
   - set B (``--jobs-100ms``, default 3,000 jobs) over 4 instances x 25 msg/s = 100 msg/s,
     for the 100 ms runs, with ``DESPACHO_CONCORRENCIA=16`` (16 sends in flight per process
     carry 160 msg/s at 100 ms; the default 8 would cap one process at 80 msg/s): the rate
     limit, not the waiting, must be what bounds them. 100 msg/s is below what one worker
     process does at 0 ms on this machine, so CPU is not the bound either. (32 in flight x 4
     processes needs more connections than PostgreSQL's default ``max_connections=100``: the
     engine pool is 10 + 20 overflow per process);
2. starts the simulator (``python -m whatsapp_app.simulador``, logs at WARNING) with
   ``latencia_ms`` 0 or 100;
3. for 1, 2 and 4 worker processes (``python -m whatsapp_app.worker``, app logs at the default
   INFO level into files, ``AGENDADOR_INTERVALO_S=0.2``): starts the workers idle, then makes
   every job of the set due at once (``agendado_para = t0``) and polls until all are
   ``ENVIADO``. jobs/s = jobs / (last ``enviado_em`` - t0); due->sent latency per job =
   ``enviado_em - agendado_para`` (a backlog drain: p50 is about half the run); duplicates =
   the simulator's per-(instance, number, text) counts above 1, plus missing/extra messages;
   CPU = the workers' CPU seconds per 1,000 jobs;
4. the ceiling: a bare SQL loop in 1, 2 and 4 processes (psycopg, no ORM): claim 100 due jobs
   with one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING id``, then
   mark them done, either one ``UPDATE`` + ``COMMIT`` per job ("per job": every dispatcher must
   record each job's own outcome) or one ``UPDATE`` for the batch ("batch"). Our throughput is
   reported as a ratio of each;
5. medians of repetitions: 3 for the ceiling (``--reps``), 1 for the dispatcher runs by
   default (``--reps-0ms``, ``--reps-100ms``: one 20,000-job run at 0 ms already takes 1-2.5
   min here, so 3 of each would not fit in 10 minutes). The busy share of the machine measured
   just before each run is printed, since other work on the machine skews the figures. The
   database is dropped at the end.

``--json FILE`` also writes every raw figure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench.comum import (
    PG_BASE,
    cpu_maquina,
    cpu_processo_s,
    fundo_pct,
    maquina,
    mediana,
    ocupada_pct,
    sql,
)
from tests.bancos import apagar_banco_pg, criar_banco_pg, migrar
from tests.caos_apoio import Frota, Simulador, ambiente, esperar, semear

TABELA = "whatsapp_automacao_agendamento"
FUTURO = "now() + interval '30 days'"


# --------------------------------------------------------------------------- the job sets


@dataclass
class Conjunto:
    nome: str
    id_empresa: str
    n: int
    instancias: list[str]
    msgs_por_segundo: float  # per instance
    concorrencia: int  # DESPACHO_CONCORRENCIA


def rearmar(url: str, conjunto: Conjunto) -> None:
    """Every job of the set back to a fresh, not-yet-due PENDENTE; instances' slots cleared."""
    sql(
        url,
        f"UPDATE {TABELA} SET status = 'PENDENTE', tentativas = 0, claimed_by = NULL,"
        " claimed_at = NULL, envio_iniciado_em = NULL, enviado_em = NULL,"
        f" provider_message_id = NULL, ultimo_erro = NULL, agendado_para = {FUTURO}"
        " WHERE id_empresa = :e",
        e=conjunto.id_empresa,
    )
    sql(url, "UPDATE whatsapp_instancia SET proximo_envio_em = NULL")
    from whatsapp_app import db

    with db.engine_para(url).connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text(f"VACUUM ANALYZE {TABELA}"))
        c.execute(sa.text("VACUUM ANALYZE whatsapp_instancia"))


def tornar_devidos(url: str, conjunto: Conjunto) -> Any:
    from whatsapp_app.tempo import agora

    t0 = agora()
    sql(url, f"UPDATE {TABELA} SET agendado_para = :t WHERE id_empresa = :e", t=t0,
        e=conjunto.id_empresa)  # fmt: skip
    return t0


def status(url: str, conjunto: Conjunto) -> dict[str, int]:
    linhas = sql(
        url,
        f"SELECT status, count(*) FROM {TABELA} WHERE id_empresa = :e GROUP BY status",
        e=conjunto.id_empresa,
    ).all()
    return {s: int(n) for s, n in linhas}


# --------------------------------------------------------------------------- our dispatcher


@dataclass
class Rodada:
    conjunto: str
    latencia_ms: int
    workers: int
    jobs: int
    segundos: float
    jobs_s: float
    p50_s: float
    p99_s: float
    duplicados: int
    faltando: int
    status: dict[str, int]
    cpu_ms_por_job: float  # the workers, from due to drained (startup excluded)
    cpu_sim_ms_por_job: float  # the simulator over the same span
    ocupacao_durante_pct: float  # the whole machine over the same span
    ocupacao_antes_pct: float
    limite_agregado: float  # msgs/s: instances x per-instance rate limit


def rodar_despacho(
    url: str, sim: Simulador, conjunto: Conjunto, latencia_ms: int, workers: int, pasta: Path
) -> Rodada:
    rearmar(url, conjunto)
    sim.http.delete("/__sim/mensagens")
    sim.falhas(latencia_ms=latencia_ms)
    env = ambiente(
        url,
        sim.porta,
        agendador_intervalo_s=0.2,
        despacho_msgs_por_segundo=conjunto.msgs_por_segundo,
        despacho_concorrencia=conjunto.concorrencia,
        despacho_lote=100,
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    subpasta = Path(tempfile.mkdtemp(prefix=f"w{workers}-", dir=pasta))
    frota = Frota(subpasta, env, workers)
    ocupado = fundo_pct()
    try:
        frota.iniciar()
        esperar(
            lambda: len(frota.linhas_log("worker iniciado")) >= workers,
            limite_s=60,
            oque="os workers",
        )
        pids = [e.processo.pid for e in frota.slots]
        cpu0 = sum(cpu_processo_s(p) for p in pids)
        sim0 = cpu_processo_s(sim.processo.pid)
        maq0 = cpu_maquina()
        t0 = tornar_devidos(url, conjunto)
        limite = 60 + conjunto.n / 50  # generous and bounded
        esperar(
            lambda: not {"PENDENTE", "PROCESSANDO"} & set(status(url, conjunto)),
            limite_s=limite,
            intervalo_s=0.25,
            oque=f"{conjunto.n} jobs saírem da fila",
            diagnostico=lambda: status(url, conjunto),
        )
        cpu_workers = sum(cpu_processo_s(p) for p in pids) - cpu0
        cpu_sim = cpu_processo_s(sim.processo.pid) - sim0
        maq1 = cpu_maquina()
        codigos = frota.parar()
        if codigos != [0] * workers:
            raise RuntimeError(f"workers terminaram com {codigos}")
    finally:
        frota.fechar()
    fim, p50, p99 = sql(
        url,
        "SELECT max(enviado_em),"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM enviado_em - agendado_para)),"
        " percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM enviado_em - agendado_para))"
        f" FROM {TABELA} WHERE id_empresa = :e AND status = 'ENVIADO'",
        e=conjunto.id_empresa,
    ).one()
    segundos = (fim - t0).total_seconds() if fim else float("nan")
    contagem = sim.contagem()
    duplicados = sum(item["quantidade"] - 1 for item in contagem["duplicadas"])
    finais = status(url, conjunto)
    shutil.rmtree(subpasta, ignore_errors=True)
    return Rodada(
        conjunto=conjunto.nome,
        latencia_ms=latencia_ms,
        workers=workers,
        jobs=conjunto.n,
        segundos=round(segundos, 2),
        jobs_s=round(conjunto.n / segundos, 1),
        p50_s=round(float(p50 or 0), 2),
        p99_s=round(float(p99 or 0), 2),
        duplicados=duplicados,
        faltando=conjunto.n - len(contagem["por_mensagem"]),
        status=finais,
        cpu_ms_por_job=round(1000 * cpu_workers / conjunto.n, 2),
        cpu_sim_ms_por_job=round(1000 * cpu_sim / conjunto.n, 2),
        ocupacao_durante_pct=round(ocupada_pct(maq0, maq1), 0),
        ocupacao_antes_pct=round(ocupado, 0),
        limite_agregado=len(conjunto.instancias) * conjunto.msgs_por_segundo,
    )


# --------------------------------------------------------------------------- the bare SQL ceiling

CLAIM = (
    f"UPDATE {TABELA} SET status = 'PROCESSANDO', claimed_by = %(w)s, claimed_at = now(),"
    " tentativas = tentativas + 1, atualizado_em = now()"
    f" WHERE id IN (SELECT id FROM {TABELA} WHERE status = 'PENDENTE' AND agendado_para <= now()"
    " AND id_empresa = %(e)s ORDER BY agendado_para LIMIT 100 FOR UPDATE SKIP LOCKED)"
    " RETURNING id"
)
FEITO_UM = (
    f"UPDATE {TABELA} SET status = 'ENVIADO', enviado_em = now(), atualizado_em = now()"
    " WHERE id = %(id)s AND status = 'PROCESSANDO' AND claimed_by = %(w)s"
)
FEITO_LOTE = (
    f"UPDATE {TABELA} SET status = 'ENVIADO', enviado_em = now(), atualizado_em = now()"
    " WHERE id = ANY(%(ids)s) AND status = 'PROCESSANDO' AND claimed_by = %(w)s"
)


def _laco_sql(dsn: str, id_empresa: str, modo: str, barreira: Any, saida: Any) -> None:
    import psycopg

    w = f"teto:{os.getpid()}"
    feitos = 0
    with psycopg.connect(dsn) as conexao:
        barreira.wait(timeout=60)
        while True:
            with conexao.transaction():
                ids = [r[0] for r in conexao.execute(CLAIM, {"w": w, "e": id_empresa})]
            if not ids:
                break
            if modo == "por_job":
                for id_job in ids:
                    with conexao.transaction():
                        conexao.execute(FEITO_UM, {"id": id_job, "w": w})
            else:
                with conexao.transaction():
                    conexao.execute(FEITO_LOTE, {"ids": ids, "w": w})
            feitos += len(ids)
    saida.put(feitos)


def rodar_teto(url: str, conjunto: Conjunto, processos: int, modo: str) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    rearmar(url, conjunto)
    tornar_devidos(url, conjunto)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    contexto = multiprocessing.get_context("spawn")
    barreira = contexto.Barrier(processos + 1)
    saida = contexto.Queue()
    ocupado = fundo_pct()
    filhos = [
        contexto.Process(target=_laco_sql, args=(dsn, conjunto.id_empresa, modo, barreira, saida))
        for _ in range(processos)
    ]
    for f in filhos:
        f.start()
    try:
        barreira.wait(timeout=60)
        inicio = time.perf_counter()
        feitos = sum(saida.get(timeout=600) for _ in filhos)
        segundos = time.perf_counter() - inicio
    finally:
        for f in filhos:
            f.join(timeout=30)
            if f.is_alive():
                f.kill()
    if feitos != conjunto.n:
        raise RuntimeError(f"teto: {feitos} de {conjunto.n} jobs")
    return {
        "modo": modo,
        "processos": processos,
        "jobs_s": round(feitos / segundos, 1),
        "ocupacao_antes_pct": round(ocupado, 0),
    }


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--jobs-100ms", type=int, default=3_000)
    parser.add_argument("--reps", type=int, default=3, help="repetitions of the SQL ceiling")
    parser.add_argument("--reps-0ms", type=int, default=1)
    parser.add_argument("--reps-100ms", type=int, default=1)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--rapido", action="store_true", help="smoke run: small numbers")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.rapido:
        args.jobs, args.jobs_100ms, args.reps, args.reps_0ms, args.reps_100ms = 2000, 300, 1, 1, 1
    contagens = [int(x) for x in args.workers.split(",")]
    inicio_total = time.monotonic()
    info = maquina()
    print(f"máquina: {info}", flush=True)

    url = criar_banco_pg(PG_BASE, f"bench_dispatch_{os.getpid()}")
    pasta = Path(tempfile.mkdtemp(prefix="bench-dispatch-"))
    sim = None
    try:
        migrar(url)
        os.environ["DATABASE_URL"] = url
        os.environ["LOG_LEVEL"] = "WARNING"
        from whatsapp_app.config import configuracoes

        configuracoes.cache_clear()
        adiante = timedelta(days=30).total_seconds()
        a = semear(args.jobs, n_instancias=100, atraso_s=adiante, sufixo="bencha")
        b = semear(args.jobs_100ms, n_instancias=4, atraso_s=adiante, sufixo="benchb")
        conj_a = Conjunto("A", a.id_empresa, args.jobs, a.instancias, 80, 8)
        conj_b = Conjunto("B", b.id_empresa, args.jobs_100ms, b.instancias, 25, 16)
        print(
            f"semeado: {args.jobs} + {args.jobs_100ms} jobs ({time.monotonic() - inicio_total:.0f} s)"
        )
        sim = Simulador(pasta)

        tetos: list[dict[str, Any]] = []
        for modo in ("por_job", "lote"):
            for processos in contagens:
                for _ in range(args.reps):
                    teto = rodar_teto(url, conj_a, processos, modo)
                    tetos.append(teto)
                    print(f"teto SQL {modo:7s} {processos} proc: {teto['jobs_s']:8.0f} jobs/s "
                          f"(máquina {teto['ocupacao_antes_pct']:.0f}% ocupada antes)", flush=True)  # fmt: skip

        rodadas: list[Rodada] = []
        for conjunto, latencia, reps in (
            (conj_a, 0, args.reps_0ms),
            (conj_b, 100, args.reps_100ms),
        ):
            for workers in contagens:
                for _ in range(reps):
                    r = rodar_despacho(url, sim, conjunto, latencia, workers, pasta)
                    rodadas.append(r)
                    print(
                        f"despacho {latencia:3d} ms {workers} worker(s): {r.jobs_s:7.1f} jobs/s "
                        f"p50 {r.p50_s:6.2f} s p99 {r.p99_s:6.2f} s dup {r.duplicados} "
                        f"faltando {r.faltando} status {r.status} cpu workers {r.cpu_ms_por_job} "
                        f"ms/job simulador {r.cpu_sim_ms_por_job} ms/job máquina "
                        f"{r.ocupacao_durante_pct:.0f}% ocupada (antes {r.ocupacao_antes_pct:.0f}%)",
                        flush=True,
                    )

        print("\n## Resumo (medianas)")
        linhas = [
            "| latência | workers | jobs | jobs/s | p50 devido→enviado | p99 | duplicados "
            "| CPU ms/job workers + simulador | máquina ocupada | vs teto SQL por job "
            "| vs teto SQL lote | vs limite de taxa |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for latencia in (0, 100):
            for workers in contagens:
                rs = [r for r in rodadas if r.latencia_ms == latencia and r.workers == workers]
                if not rs:
                    continue
                js = mediana([r.jobs_s for r in rs])
                teto_um = mediana([t["jobs_s"] for t in tetos if t["modo"] == "por_job" and t["processos"] == workers])  # fmt: skip
                teto_lote = mediana([t["jobs_s"] for t in tetos if t["modo"] == "lote" and t["processos"] == workers])  # fmt: skip
                linhas.append(
                    f"| {latencia} ms | {workers} | {rs[0].jobs} | {js:.0f} "
                    f"| {mediana([r.p50_s for r in rs]):.1f} s | {mediana([r.p99_s for r in rs]):.1f} s "
                    f"| {sum(r.duplicados + r.faltando for r in rs)} "
                    f"| {mediana([r.cpu_ms_por_job for r in rs]):.1f} + "
                    f"{mediana([r.cpu_sim_ms_por_job for r in rs]):.1f} "
                    f"| {mediana([r.ocupacao_durante_pct for r in rs]):.0f}% "
                    + (
                        f"| {100 * js / teto_um:.0f}% | {100 * js / teto_lote:.0f}% "
                        if latencia == 0
                        else "| — | — "
                    )
                    + f"| {100 * js / rs[0].limite_agregado:.0f}% of {rs[0].limite_agregado:.0f}/s |"
                )
        linhas.append("")
        linhas.append("| teto SQL | " + " | ".join(f"{p} proc" for p in contagens) + " |")
        linhas.append("|---|" + "---|" * len(contagens))
        for modo in ("por_job", "lote"):
            valores = [
                mediana([t["jobs_s"] for t in tetos if t["modo"] == modo and t["processos"] == p])
                for p in contagens
            ]
            linhas.append(f"| {modo} | " + " | ".join(f"{v:.0f} jobs/s" for v in valores) + " |")
        print("\n".join(linhas))
        print(f"\ntempo total: {time.monotonic() - inicio_total:.0f} s")
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "maquina": info,
                        "tetos": tetos,
                        "rodadas": [asdict(r) for r in rodadas],
                        "resumo": linhas,
                    },
                    indent=2,
                    ensure_ascii=False,
                )
            )
        ruins = [
            r for r in rodadas if r.duplicados or r.faltando or r.status != {"ENVIADO": r.jobs}
        ]
        return 1 if ruins else 0
    finally:
        if sim is not None:
            sim.fechar()
        from whatsapp_app import db

        db.engine_para(url).dispose()
        apagar_banco_pg(url)
        shutil.rmtree(pasta, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
