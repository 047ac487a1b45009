"""Benchmark: the follow-up dispatcher (issues 4 and 11) on PostgreSQL, against PgQueuer and a
bare-SQL loop, on the database path (in-process no-op provider) and over HTTP (the simulator).

Run from the repository root::

    .venv/bin/python bench/dispatch.py              # full run (~15 min on 2 cores)
    .venv/bin/python bench/dispatch.py --rapido     # smoke run (~2 min), figures not meaningful

What it does (everything on loopback, every loop bounded):

1. creates a throwaway database ``bench_dispatch_<pid>`` on 127.0.0.1:5432, migrates it and
   seeds two job sets (``tests/caos_dados.semear``: one lead, one number, one message per job):
   - set A (``--jobs``, default 5,000 jobs) over 100 ``simulador`` instances, for the 0 ms and
     no-op runs. The per-instance rate limit is capped at 80 msg/s by the settings
     (``DESPACHO_MSGS_POR_SEGUNDO <= 80``), so "rate limit high" is 100 instances x 80 msg/s =
     8,000 msg/s in aggregate, far above what 2 cores reach;
   - set B (``--jobs-100ms``, default 1,000 jobs) over 4 instances x 25 msg/s = 100 msg/s,
     for the 100 ms runs. Both sets run with the default settings for the sends in flight:
     the dispatcher sizes them per batch from the instances' rate limit and the latency it
     measures (``despacho_controle.vagas_para``), so the rate limit, not the waiting, bounds
     the 100 ms runs;
2. starts the simulator (``python -m whatsapp_app.simulador``, logs at WARNING);
3. the ceiling: a bare SQL loop in 1, 2 and 4 processes (psycopg, no ORM): claim 100 due jobs
   with one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING id``, then
   mark them done, either one ``UPDATE`` + ``COMMIT`` per job ("per job": every dispatcher must
   record each job's own outcome) or one ``UPDATE`` for the batch ("batch");
4. for 1, 2 and 4 consumers, one after the other (so each comparison is made in the same
   window of a shared machine):
   - PgQueuer's own drain benchmark (``bench/dispatch_pgqueuer.py``: PgQueuer from PyPI in its
     own venv under ``.tools/``, its ``tools/benchmark.py`` from its sdist, on its own throwaway
     database): it enqueues as many jobs as set A and ``--dequeue`` consumers drain them;
   - the database path: 1, 2, 4 worker processes (``bench/dispatch_noop.py``: the real
     ``whatsapp_app.worker`` with a provider that accepts every send in-process, no HTTP);
   - the HTTP path: 1, 2, 4 ``python -m whatsapp_app.worker`` processes, simulator at 0 ms.
   Workers (app logs at the default INFO level into files, ``AGENDADOR_INTERVALO_S=0.2``) start
   idle, then every job of the set is made due at once (``agendado_para = t0``) and the bench
   polls until none is left. jobs/s = jobs / (last ``enviado_em`` - t0); due->sent latency per
   job = ``enviado_em - agendado_para`` (a backlog drain: p50 is about half the run);
   duplicates = sends above 1 per job (the simulator's per-(instance, number, text) counts, or
   the no-op provider's ids) plus missing ones; CPU = the workers' CPU seconds per 1,000 jobs;
5. the 100 ms runs (set B: bounded by the rate limit, issue 4);
6. medians of repetitions: ``--reps`` (3) for the ceiling, ``--reps-pgq`` (3) for PgQueuer,
   1 for our dispatcher by default (``--reps-banco``, ``--reps-0ms``, ``--reps-100ms``: at
   ~60 jobs/s per worker one 5,000-job run takes ~1.5 min here). The busy share of the machine measured just before each
   run is printed, since other work on the machine skews the figures. The databases are dropped
   at the end.

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

from bench import dispatch_noop, dispatch_pgqueuer
from bench.comum import (
    PG_BASE,
    cpu_maquina,
    cpu_processo_s,
    fundo_pct,
    maquina,
    ocupada_pct,
    sql,
)
from bench.dispatch_relatorio import relatorio
from tests.bancos import apagar_banco_pg, criar_banco_pg, migrar
from tests.caos_apoio import Frota, Simulador, ambiente, esperar
from tests.caos_dados import semear

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
    caminho: str  # "banco" (in-process no-op provider) | "http" (the simulator)
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
    url: str,
    sim: Simulador,
    conjunto: Conjunto,
    latencia_ms: int,
    workers: int,
    pasta: Path,
    caminho: str = "http",
) -> Rodada:
    rearmar(url, conjunto)
    sim.http.delete("/__sim/mensagens")
    sim.falhas(latencia_ms=latencia_ms)
    subpasta = Path(tempfile.mkdtemp(prefix=f"{caminho}-w{workers}-", dir=pasta))
    env = ambiente(
        url,
        sim.porta,
        agendador_intervalo_s=0.2,
        despacho_msgs_por_segundo=conjunto.msgs_por_segundo,
        despacho_lote=100,
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if caminho == "banco":
        env[dispatch_noop.VARIAVEL_SAIDA] = str(subpasta)
        frota: Frota = dispatch_noop.FrotaNoop(subpasta, env, workers)
    else:
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
    if caminho == "banco":
        duplicados, enviados = dispatch_noop.contagem(subpasta)
    else:
        contagem = sim.contagem()
        duplicados = sum(item["quantidade"] - 1 for item in contagem["duplicadas"])
        enviados = len(contagem["por_mensagem"])
    finais = status(url, conjunto)
    shutil.rmtree(subpasta, ignore_errors=True)
    return Rodada(
        caminho=caminho,
        conjunto=conjunto.nome,
        latencia_ms=latencia_ms,
        workers=workers,
        jobs=conjunto.n,
        segundos=round(segundos, 2),
        jobs_s=round(conjunto.n / segundos, 1),
        p50_s=round(float(p50 or 0), 2),
        p99_s=round(float(p99 or 0), 2),
        duplicados=duplicados,
        faltando=conjunto.n - enviados,
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


def imprimir(r: Rodada) -> None:
    nome = "banco (no-op)" if r.caminho == "banco" else f"HTTP {r.latencia_ms} ms"
    print(
        f"despacho {nome:13s} {r.workers} worker(s): {r.jobs_s:7.1f} jobs/s "
        f"p50 {r.p50_s:6.2f} s p99 {r.p99_s:6.2f} s dup {r.duplicados} faltando {r.faltando} "
        f"status {r.status} cpu workers {r.cpu_ms_por_job} ms/job simulador "
        f"{r.cpu_sim_ms_por_job} ms/job máquina {r.ocupacao_durante_pct:.0f}% ocupada "
        f"(antes {r.ocupacao_antes_pct:.0f}%)",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=5_000)
    parser.add_argument("--jobs-100ms", type=int, default=1_000)
    parser.add_argument("--reps", type=int, default=3, help="repetitions of the SQL ceiling")
    parser.add_argument("--reps-pgq", type=int, default=3, help="repetitions of PgQueuer")
    parser.add_argument("--reps-banco", type=int, default=1, help="database path (no-op)")
    parser.add_argument("--reps-0ms", type=int, default=1, help="HTTP path, simulator at 0 ms")
    parser.add_argument("--reps-100ms", type=int, default=1)
    parser.add_argument("--pgq-lote", type=int, default=dispatch_pgqueuer.LOTE_PADRAO,
                        help="PgQueuer's --dequeue-batch-size (its default: 10)")  # fmt: skip
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--rapido", action="store_true", help="smoke run: small numbers")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.rapido:
        args.jobs, args.jobs_100ms = 1000, 200
        args.reps = args.reps_pgq = args.reps_banco = args.reps_0ms = args.reps_100ms = 1
    contagens = [int(x) for x in args.workers.split(",")]
    inicio_total = time.monotonic()
    info = maquina()
    print(f"máquina: {info}", flush=True)
    versoes = dispatch_pgqueuer.preparar()
    print(f"PgQueuer (.tools/bench-pgqueuer): {versoes}", flush=True)

    url = criar_banco_pg(PG_BASE, f"bench_dispatch_{os.getpid()}")
    url_pgq = criar_banco_pg(PG_BASE, f"bench_pgq_{os.getpid()}")
    pasta = Path(tempfile.mkdtemp(prefix="bench-dispatch-"))
    sim = None
    try:
        migrar(url)
        dispatch_pgqueuer.instalar_esquema(url_pgq)
        os.environ["DATABASE_URL"] = url
        os.environ["LOG_LEVEL"] = "WARNING"
        from whatsapp_app.config import configuracoes

        configuracoes.cache_clear()
        adiante = timedelta(days=30).total_seconds()
        a = semear(args.jobs, n_instancias=100, atraso_s=adiante, sufixo="bencha")
        b = semear(args.jobs_100ms, n_instancias=4, atraso_s=adiante, sufixo="benchb")
        conj_a = Conjunto("A", a.id_empresa, args.jobs, a.instancias, 80)
        conj_b = Conjunto("B", b.id_empresa, args.jobs_100ms, b.instancias, 25)
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

        pgq: list[dict[str, Any]] = []
        rodadas: list[Rodada] = []
        for workers in contagens:  # the three contenders at the same count, back to back
            for _ in range(args.reps_pgq):
                r_pgq = dispatch_pgqueuer.rodar(url_pgq, workers, args.jobs, args.pgq_lote, pasta)
                pgq.append(r_pgq)
                print(f"PgQueuer drain {workers} consumidor(es), lote {args.pgq_lote}: "
                      f"{r_pgq['jobs_s']:7.1f} jobs/s (máquina {r_pgq['ocupacao_antes_pct']:.0f}% "
                      "ocupada antes)", flush=True)  # fmt: skip
            for caminho, reps in (("banco", args.reps_banco), ("http", args.reps_0ms)):
                for _ in range(reps):
                    r = rodar_despacho(url, sim, conj_a, 0, workers, pasta, caminho)
                    rodadas.append(r)
                    imprimir(r)
        for workers in contagens:
            for _ in range(args.reps_100ms):
                r = rodar_despacho(url, sim, conj_b, 100, workers, pasta)
                rodadas.append(r)
                imprimir(r)

        linhas = relatorio(contagens, rodadas, tetos, pgq, versoes["pgqueuer"], args.pgq_lote)
        print("\n" + "\n".join(linhas))
        print(f"\ntempo total: {time.monotonic() - inicio_total:.0f} s")
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "maquina": info,
                        "pgqueuer": versoes,
                        "tetos": tetos,
                        "pgq": pgq,
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
        apagar_banco_pg(url_pgq)
        shutil.rmtree(pasta, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
