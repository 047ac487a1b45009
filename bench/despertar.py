"""Benchmark: how soon a 0-minute follow-up reaches the provider after the move (PostgreSQL).

Run from the repository root::

    .venv/bin/python bench/despertar.py            # 40 moves with, 40 without the wake-up
    .venv/bin/python bench/despertar.py --moves 10  # smoke run

What it does: a throwaway database ``bench_despertar_<pid>`` on 127.0.0.1:5432 (migrated), the
built-in simulator and one ``python -m whatsapp_app.worker`` with the scheduler tick at 5 s
(``AGENDADOR_INTERVALO_S=5``, the default). One automation sends at 0 minutes on the target
stage. The bench moves one lead at a time through ``leads.mover_lead`` (the service the API
calls), at random moments (seeded), and waits for its job to be ENVIADO; latency = the job's
``enviado_em`` (the provider accepted) minus the moment just before the move. It runs the same
moves twice in the same window: with the wake-up (``DESPERTADOR_ATIVO=true``: LISTEN/NOTIFY) and
without it (tick only), and prints p50/p90/p99 of each and their ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.comum import PG_BASE, mediana, percentil
from tests.bancos import apagar_banco_pg, criar_banco_pg, migrar
from tests.caos_apoio import Frota, Simulador, ambiente, esperar

TICK_S = 5.0


def rodar(url: str, sim: Simulador, pasta: Path, n: int, *, despertador: bool) -> list[float]:
    from sqlmodel import select

    from tests.factories import criar_automacao, criar_empresa, criar_lead
    from whatsapp_app import db, leads
    from whatsapp_app.models import WhatsappAutomacaoAgendamento

    empresa = criar_empresa(sufixo="com" if despertador else "sem")
    criar_automacao(empresa, estagio=1, atrasos=(0,))
    ids = [
        criar_lead(empresa, nome=f"Lead {i}", telefone=f"+551198{int(despertador)}{i:06d}")
        for i in range(n)
    ]
    env = ambiente(
        url,
        sim.porta,
        agendador_intervalo_s=TICK_S,
        despertador_ativo=str(despertador).lower(),
    )
    frota = Frota(pasta / ("com" if despertador else "sem"), env, 1)
    rng = random.Random(7)
    latencias: list[float] = []
    try:
        frota.iniciar()
        esperar(lambda: len(frota.linhas_log("worker iniciado")) >= 1, limite_s=60, oque="worker")
        for id_lead in ids:
            time.sleep(rng.uniform(0.0, TICK_S))  # the move lands anywhere in the tick
            antes = time.time()
            with db.sessao() as s:
                leads.mover_lead(
                    sessao=s,
                    id_empresa=empresa.id,
                    id_lead=id_lead,
                    id_estagio_destino=empresa.estagios[1],
                )

            def enviado(id_lead: str = id_lead) -> object:
                with db.sessao() as s:
                    return s.exec(
                        select(WhatsappAutomacaoAgendamento.enviado_em).where(
                            WhatsappAutomacaoAgendamento.id_lead == id_lead
                        )
                    ).first()

            esperar(lambda: enviado() is not None, limite_s=60, intervalo_s=0.01, oque="envio")
            quando = enviado()
            assert quando is not None
            latencias.append(quando.timestamp() - antes)  # type: ignore[attr-defined]
    finally:
        frota.fechar()
    return latencias


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--moves", type=int, default=40)
    args = parser.parse_args()
    url = criar_banco_pg(PG_BASE, f"bench_despertar_{os.getpid()}")
    pasta = Path(tempfile.mkdtemp(prefix="bench-despertar-"))
    for sub in ("com", "sem"):
        (pasta / sub).mkdir()
    sim = None
    try:
        migrar(url)
        os.environ["DATABASE_URL"] = url
        from whatsapp_app.config import configuracoes

        configuracoes.cache_clear()
        sim = Simulador(pasta)
        resultados = {}
        for com in (True, False):
            resultados[com] = rodar(url, sim, pasta, args.moves, despertador=com)
        print(f"{args.moves} moves each, scheduler tick {TICK_S:.0f} s, PostgreSQL, 1 worker\n")
        print("| | p50 (s) | p90 (s) | p99 (s) | max (s) |")
        print("|---|---:|---:|---:|---:|")
        for com, rotulo in ((True, "com despertador (LISTEN/NOTIFY)"), (False, "só o tick")):
            v = resultados[com]
            print(
                f"| {rotulo} | {mediana(v):.3f} | {percentil(v, 90):.3f} | "
                f"{percentil(v, 99):.3f} | {max(v):.3f} |"
            )
        razao = mediana(resultados[False]) / mediana(resultados[True])
        print(f"\np50 sem / com: {razao:.1f}x")
    finally:
        if sim is not None:
            sim.fechar()
        from whatsapp_app import db

        db.engine_para.cache_clear()
        apagar_banco_pg(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
