"""The summary of ``bench/dispatch.py``: medians per path and count, ratios, the issue's goals."""

from __future__ import annotations

from typing import Any

from bench.comum import mediana

# issue 11: database path >= 1.0x PgQueuer's 4-consumer drain; HTTP >= 50% of the database
# path; 4 workers >= 2.5x 1 worker
META_PGQ, META_HTTP, META_ESCALA = 1.0, 0.5, 2.5
NOMES = {"banco": "database (no-op provider, in-process)", "http": "HTTP (simulator, 0 ms)"}


def _razao(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b and b == b and a == a else "—"


def _meta(valor: float, meta: float) -> str:
    return "met" if valor >= meta else "**missed**"


def relatorio(
    contagens: list[int],
    rodadas: list[Any],
    tetos: list[dict[str, Any]],
    pgq: list[dict[str, Any]],
    versao_pgq: str,
    lote_pgq: int,
) -> list[str]:
    def nosso(caminho: str, latencia: int, w: int) -> list[Any]:
        return [r for r in rodadas if r.caminho == caminho and r.latencia_ms == latencia and r.workers == w]  # fmt: skip

    def js(caminho: str, w: int) -> float:
        return mediana(r.jobs_s for r in nosso(caminho, 0, w))

    def teto(modo: str, p: int) -> float:
        return mediana(t["jobs_s"] for t in tetos if t["modo"] == modo and t["processos"] == p)

    def fila(c: int) -> float:
        return mediana(x["jobs_s"] for x in pgq if x["consumidores"] == c)

    reps_pgq = max((sum(1 for x in pgq if x["consumidores"] == c) for c in contagens), default=0)
    linhas = [
        f"## Resumo (medianas; PgQueuer {versao_pgq} drain, asyncpg, lote {lote_pgq}, "
        f"mediana de {reps_pgq})",
        "",
        "| path | workers | jobs | **jobs/s** | p50 due→sent | p99 | duplicates + missing "
        "| CPU ms/job workers + simulator | machine busy (before) | PgQueuer, same consumers "
        "| **ours / PgQueuer** | SQL per job | ours / SQL per job | SQL batch "
        "| ours / SQL batch |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for caminho in ("banco", "http"):
        for w in contagens:
            rs = nosso(caminho, 0, w)
            if not rs:
                continue
            v = js(caminho, w)
            linhas.append(
                f"| {NOMES[caminho]} | {w} | {rs[0].jobs} | **{v:.0f}** "
                f"| {mediana(r.p50_s for r in rs):.1f} s | {mediana(r.p99_s for r in rs):.1f} s "
                f"| {sum(r.duplicados + r.faltando for r in rs)} "
                f"| {mediana(r.cpu_ms_por_job for r in rs):.2f} + "
                f"{mediana(r.cpu_sim_ms_por_job for r in rs):.2f} "
                f"| {mediana(r.ocupacao_durante_pct for r in rs):.0f}% "
                f"({mediana(r.ocupacao_antes_pct for r in rs):.0f}%) "
                f"| {fila(w):.0f} | **{_razao(v, fila(w))}** "
                f"| {teto('por_job', w):.0f} | {_razao(v, teto('por_job', w))} "
                f"| {teto('lote', w):.0f} | {_razao(v, teto('lote', w))} |"
            )
    um, maior = min(contagens), max(contagens)
    cab = " | ".join(f"{w} proc" for w in contagens)
    linhas += ["", f"| jobs/s | {cab} | {maior}/{um} scaling |", "|---|" + "---:|" * (len(contagens) + 1)]  # fmt: skip
    series = [
        (NOMES["banco"], lambda w: js("banco", w)),
        (NOMES["http"], lambda w: js("http", w)),
        (f"PgQueuer {versao_pgq} drain (consumers)", fila),
        ("bare SQL, per job", lambda w: teto("por_job", w)),
        ("bare SQL, batch", lambda w: teto("lote", w)),
    ]
    for nome, f in series:
        valores = " | ".join(f"{f(w):.0f}" for w in contagens)
        linhas.append(f"| {nome} | {valores} | {_razao(f(maior), f(um))} |")
    razoes = " | ".join(_razao(js("http", w), js("banco", w)) for w in contagens)
    linhas.append(f"| HTTP / database | {razoes} | |")

    b_maior, h_maior, q_maior = js("banco", maior), js("http", maior), fila(maior)
    e_banco, e_http = b_maior / js("banco", um), h_maior / js("http", um)
    linhas += [
        "",
        f"Goals (issue 11), at {maior} workers / consumers:",
        f"- database path / PgQueuer {maior}-consumer drain = {_razao(b_maior, q_maior)} "
        f"(goal >= {META_PGQ:.1f}x): {_meta(b_maior / q_maior, META_PGQ)}",
        f"- HTTP path / database path = {_razao(h_maior, b_maior)} (goal >= {META_HTTP:.1f}x): "
        f"{_meta(h_maior / b_maior, META_HTTP)}",
        f"- {maior} workers / {um} worker: database {e_banco:.2f}x, HTTP {e_http:.2f}x "
        f"(goal >= {META_ESCALA:.1f}x): database {_meta(e_banco, META_ESCALA)}, "
        f"HTTP {_meta(e_http, META_ESCALA)}",
        f"- duplicates + missing over every run: {sum(r.duplicados + r.faltando for r in rodadas)}",
    ]

    lentas = [r for r in rodadas if r.latencia_ms == 100]
    if lentas:
        linhas += [
            "",
            "| HTTP, simulator at 100 ms | workers | jobs | jobs/s | p50 | p99 | duplicates + missing "
            "| CPU ms/job workers + simulator | vs rate limit |",
            "|---|---:|---:|---:|---:|---:|---:|---|---:|",
        ]
        for w in contagens:
            rs = nosso("http", 100, w)
            if not rs:
                continue
            v = mediana(r.jobs_s for r in rs)
            linhas.append(
                f"| 100 ms | {w} | {rs[0].jobs} | {v:.0f} | {mediana(r.p50_s for r in rs):.1f} s "
                f"| {mediana(r.p99_s for r in rs):.1f} s "
                f"| {sum(r.duplicados + r.faltando for r in rs)} "
                f"| {mediana(r.cpu_ms_por_job for r in rs):.2f} + "
                f"{mediana(r.cpu_sim_ms_por_job for r in rs):.2f} "
                f"| {100 * v / rs[0].limite_agregado:.0f}% of {rs[0].limite_agregado:.0f}/s |"
            )
    return linhas
