"""Benchmark: the claim query and the send queue's queries at 10,000 and 1,000,000 jobs (PostgreSQL).

Run from the repository root::

    .venv/bin/python bench/escala.py                 # 10k then 1M jobs (~3 min on 2 cores)
    .venv/bin/python bench/escala.py --tamanhos 10000  # smoke run

What it does:

1. creates a throwaway database ``bench_escala_<pid>`` on 127.0.0.1:5432, migrates it and seeds
   1,000 jobs through ``tests.caos_dados.semear`` (their leads, automations over 4 instances);
2. grows the job table with ``INSERT ... SELECT generate_series`` to each size, cloning those
   jobs (same leads, automations, steps) with this mix per 100 rows: 1 PENDENTE due a minute
   ago, 89 PENDENTE due over the next 30 days, 8 ENVIADO, 1 ERRO, 1 CANCELADO; then ``ANALYZE``;
3. records the statements the real code sends (a SQLAlchemy ``before_cursor_execute`` hook, in a
   transaction that is rolled back): the dispatcher's claim (``_reivindicar``, limit 100), the
   queue page's first page and total (``cadastro_automacoes.pagina_agendamentos``: no filter,
   status PENDENTE, search by a lead's name, a due-date range) and the status chips
   (``fila.contagem_por_status``);
4. runs each statement 5 times under ``EXPLAIN (ANALYZE, BUFFERS)`` (rolled back: the claim is
   an UPDATE) and prints the median execution time and the plan of the last run.

The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench.comum import PG_BASE, mediana, sql
from tests.bancos import apagar_banco_pg, criar_banco_pg, migrar
from tests.caos_dados import semear

REPETICOES = 5

CRESCER = """
INSERT INTO whatsapp_automacao_agendamento (
    id, id_empresa, id_lead, id_whatsapp_automacao, id_etapa, id_estagio_trigger,
    chave_idempotencia, referencia_evento, status, agendado_para, tentativas,
    enviado_em, motivo_cancelamento, ultimo_erro, criado_em, atualizado_em)
SELECT md5('bench' || g), m.id_empresa, m.id_lead, m.id_whatsapp_automacao, m.id_etapa,
    m.id_estagio_trigger, 'bench:' || g, 'bench:' || g,
    CASE WHEN g % 100 < 90 THEN 'PENDENTE' WHEN g % 100 < 98 THEN 'ENVIADO'
         WHEN g % 100 = 98 THEN 'ERRO' ELSE 'CANCELADO' END,
    CASE WHEN g % 100 = 0 THEN now() - interval '1 minute'
         WHEN g % 100 < 90 THEN now() + (g % 43200) * interval '1 minute'
         ELSE now() - (g % 43200) * interval '1 minute' END,
    CASE WHEN g % 100 < 90 THEN 0 ELSE 1 END,
    CASE WHEN g % 100 BETWEEN 90 AND 97 THEN now() - (g % 43200) * interval '1 minute' END,
    CASE WHEN g % 100 = 99 THEN 'lead_respondeu' END,
    CASE WHEN g % 100 = 98 THEN 'Número inválido' END,
    now(), now()
FROM generate_series(CAST(:de AS bigint), CAST(:ate AS bigint)) g
JOIN modelo m ON m.k = g % CAST(:n_modelos AS bigint)
"""


@contextmanager
def _gravando(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement the code under test sends, with its parameters."""
    gravados: list[tuple[str, Any]] = []

    def gravar(_c: Any, _cur: Any, sql: str, parametros: Any, _ctx: Any, _m: Any) -> None:
        gravados.append((sql, parametros))

    sa.event.listen(engine, "before_cursor_execute", gravar)
    try:
        yield gravados
    finally:
        sa.event.remove(engine, "before_cursor_execute", gravar)


def capturar(rotulo: str, chamada: Callable[[Any], Any]) -> list[tuple[str, str, Any]]:
    """Run ``chamada(sessao)`` in a rolled-back transaction; its SELECT/UPDATE statements."""
    from whatsapp_app import db

    engine = db.engine()
    with _gravando(engine) as gravados, db.sessao() as sessao:
        chamada(sessao)
        sessao.rollback()
    uteis = [
        (s, p) for s, p in gravados if s.lstrip().upper().startswith(("SELECT", "UPDATE", "WITH"))
    ]
    return [(f"{rotulo} [{i + 1}/{len(uteis)}]", s, p) for i, (s, p) in enumerate(uteis)]


def explicar(url: str, sql: str, parametros: Any) -> tuple[float, str]:
    """Median execution time (ms) over REPETICOES runs, and the last run's plan."""
    engine = sa.create_engine(url)
    tempos: list[float] = []
    plano = ""
    with engine.connect() as c:
        bruto = c.connection.driver_connection  # psycopg.Connection
        assert bruto is not None
        for _ in range(REPETICOES):
            with bruto.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, parametros)
                linhas = [r[0] for r in cur.fetchall()]
            bruto.rollback()
            tempos.append(float(linhas[-1].split(":")[1].split()[0]))
            plano = "\n".join(linhas)
    engine.dispose()
    return mediana(tempos), plano


def consultas(id_empresa: str, nome_lead: str) -> list[tuple[str, str, Any]]:
    from whatsapp_app import cadastro_automacoes as cadastro
    from whatsapp_app import fila
    from whatsapp_app.reivindicacao import ResumoDespacho
    from whatsapp_app.reivindicacao import reivindicar as _reivindicar
    from whatsapp_app.tempo import agora

    def reivindicar(sessao: Any) -> None:
        _reivindicar(
            sessao, id_empresa=None, limite=100, worker_id="bench", resumo=ResumoDespacho()
        )

    def pagina(**filtros: Any) -> Callable[[Any], Any]:
        return lambda sessao: cadastro.pagina_agendamentos(
            sessao=sessao, id_empresa=id_empresa, **filtros
        )

    hoje = agora()
    return [
        *capturar("claim (_reivindicar, 100)", reivindicar),
        *capturar("fila: sem filtro", pagina()),
        *capturar("fila: status PENDENTE", pagina(status="PENDENTE")),
        *capturar("fila: busca por nome", pagina(q=nome_lead)),
        *capturar("fila: devidos em 1 dia", pagina(de=hoje, ate=hoje + timedelta(days=1))),
        *capturar(
            "fila: chips de status",
            lambda sessao: fila.contagem_por_status(sessao, id_empresa=id_empresa),
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tamanhos", default="10000,1000000")
    parser.add_argument("--planos", action="store_true", help="print every plan in full")
    args = parser.parse_args()
    tamanhos = [int(x) for x in args.tamanhos.split(",")]
    url = criar_banco_pg(PG_BASE, f"bench_escala_{os.getpid()}")
    try:
        migrar(url)
        os.environ["DATABASE_URL"] = url
        os.environ["LOG_LEVEL"] = "WARNING"
        from whatsapp_app.config import configuracoes

        configuracoes.cache_clear()
        base = semear(1000, n_instancias=4, atraso_s=timedelta(days=30).total_seconds())
        sql(
            url,
            "CREATE TABLE modelo AS SELECT *, (row_number() OVER (ORDER BY id)) - 1 AS k"
            " FROM whatsapp_automacao_agendamento",
        )
        nome_lead = str(sql(url, "SELECT nome FROM lead ORDER BY nome LIMIT 1 OFFSET 42").scalar())
        atual = 1000
        for tamanho in tamanhos:
            inicio = time.monotonic()
            for de in range(atual, tamanho, 200_000):
                ate = min(tamanho, de + 200_000) - 1
                sql(url, CRESCER, de=de, ate=ate, n_modelos=1000)
            sql(url, "ANALYZE")
            atual = max(atual, tamanho)
            linhas = sql(url, "SELECT count(*) FROM whatsapp_automacao_agendamento").scalar()
            print(f"\n## {linhas:,} jobs (semeados em {time.monotonic() - inicio:.0f} s)\n")
            print("| consulta | mediana (ms) | plano (nós principais) |")
            print("|---|---:|---|")
            planos = []
            for rotulo, comando, parametros in consultas(base.id_empresa, nome_lead):
                ms, plano = explicar(url, comando, parametros)
                nos = [
                    linha.strip().lstrip("-> ").split("  (")[0]
                    for linha in plano.splitlines()
                    if "Scan" in linha or "Limit" in linha or "Sort" in linha
                ]
                print(f"| {rotulo} | {ms:.2f} | {'; '.join(nos[:4])} |")
                planos.append((rotulo, plano))
            if args.planos:
                for rotulo, plano in planos:
                    print(f"\n### {rotulo}\n\n```\n{plano}\n```")
    finally:
        from whatsapp_app import db

        db.engine_para.cache_clear()
        apagar_banco_pg(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
