"""CPU cost of one ``leads.mover_lead`` call in-process (no HTTP, no auth), with what-if patches.

Run from the repository root: ``.venv/bin/python bench/mover_lead_cpu.py`` (~1 min).

Creates a throwaway database like ``bench/mover.py`` (same seed: 3 automations x 3 steps on the
origin and on the destination stage), then moves distinct leads one at a time inside
``db.sessao()`` exactly like the route does, and reports the calling thread's CPU time per move
(``time.thread_time``: network waits excluded) for:

* ``atual``: the code as it is (the 9 jobs in one ``INSERT ... SELECT FROM unnest(arrays)``);
* ``INSERT executemany (antes)``: ``_inserir_ignorando_duplicatas`` replaced, in this process
  only, by the form it had before issue 11: ``insert(t).on_conflict_do_nothing().returning(...,
  sort_by_parameter_order=True)`` sent with the rows as executemany parameters, which psycopg
  received as 9 single-row INSERTs (no sentinel column for the ordered RETURNING);
* ``LOG_LEVEL=WARNING``: the INFO record per move ("lead movido") not emitted;
* both.

Prints the median of 3 rounds of ``N`` moves per variant; the 2-core machine is shared, so look
at the differences between variants measured back to back, not at the absolute figures.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.dialects import postgresql

from bench.comum import PG_BASE, mediana
from bench.mover_banco import semear

N = 300
RODADAS = 3


def _inserir_executemany_antes(sessao: Any, linhas: list[dict[str, Any]]) -> set[str]:
    from whatsapp_app import whatsapp_automations as wa

    if not linhas:
        return set()
    tabela = wa._agendamento
    comando = (
        postgresql.insert(tabela)
        .on_conflict_do_nothing()
        .returning(tabela.c.chave_idempotencia, sort_by_parameter_order=True)
    )
    return set(sessao.execute(comando, linhas).scalars().all())


def main() -> int:
    from tests.bancos import apagar_banco_pg, criar_banco_pg, migrar

    variantes = (
        "atual",
        "INSERT executemany (antes)",
        "LOG_LEVEL=WARNING",
        "INSERT executemany (antes) + WARNING",
    )
    url = criar_banco_pg(PG_BASE, f"bench_mover_lead_{os.getpid()}")
    try:
        migrar(url)
        cenario = semear(url, 100 + len(variantes) * RODADAS * N)
        from whatsapp_app import db, leads
        from whatsapp_app import whatsapp_automations as wa
        from whatsapp_app.logs import configurar_logs

        configurar_logs()
        raiz = logging.getLogger("whatsapp_app")
        handler = raiz.handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115  (formatting still happens)
        original = wa._inserir_ignorando_duplicatas

        def mover(id_lead: str) -> None:
            with db.sessao() as s:
                r = leads.mover_lead(
                    sessao=s,
                    id_empresa=cenario.id_empresa,
                    id_lead=id_lead,
                    id_estagio_destino=cenario.destino,
                )
                assert r.agendamentos_criados == 9 and r.agendamentos_cancelados == 9, r

        for id_lead in cenario.tomar(100):  # warm caches, pool, prepared statements
            mover(id_lead)
        resultados: dict[str, list[tuple[float, float]]] = {v: [] for v in variantes}
        for _ in range(RODADAS):
            for variante in variantes:  # interleaved, so background noise hits all alike
                wa._inserir_ignorando_duplicatas = (  # type: ignore[assignment]
                    _inserir_executemany_antes if "INSERT" in variante else original
                )
                raiz.setLevel(logging.WARNING if "WARNING" in variante else logging.INFO)
                ids = cenario.tomar(N)
                cpu0, parede0 = time.thread_time(), time.perf_counter()
                for id_lead in ids:
                    mover(id_lead)
                resultados[variante].append(
                    (
                        (time.thread_time() - cpu0) / N * 1000,
                        (time.perf_counter() - parede0) / N * 1000,
                    )
                )
        wa._inserir_ignorando_duplicatas = original  # type: ignore[assignment]
        db.engine().dispose()
        base = mediana(c for c, _ in resultados["atual"])
        print(
            f"| variante ({RODADAS} x {N} moves, mediana) | CPU ms/move | parede ms/move | vs atual |"
        )
        print("|---|---:|---:|---:|")
        for variante, valores in resultados.items():
            cpu = mediana(c for c, _ in valores)
            parede = mediana(p for _, p in valores)
            print(f"| {variante} | {cpu:.2f} | {parede:.2f} | {100 * (cpu / base - 1):+.0f}% |")
    finally:
        apagar_banco_pg(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
