"""The report of ``bench/mover.py``: the markdown tables it prints and the ``--json`` file."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from bench.comum import mediana
from bench.mover_carga import Rodada


def progresso(r: Rodada) -> str:
    """One run, as the line printed while the benchmark goes."""
    return (
        f"{r.por_segundo:6.0f} moves/s  p50 {r.percentil(50):6.1f}  "
        f"p95 {r.percentil(95):6.1f}  p99 {r.percentil(99):6.1f} ms  "
        f"erros {r.erros}  cpu {r.cpu['maquina_ocupada_pct']:.0f}%"
    )


def tabela(rodadas: list[Rodada], titulo: str, chave: Callable[[Rodada], Hashable]) -> list[str]:
    """One row per group of runs (``chave``): medians of the repetitions."""
    grupos: dict[Hashable, list[Rodada]] = {}
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
            nome: mediana(1000 * r.cpu[nome] / r.requisicoes for r in rs)
            for nome in ("servidor_s", "postgres_s", "cliente_s", "outros_s")
        }
        linhas.append(
            f"| {rs[0].variante or '-'} | {rs[0].concorrencia} | {rs[0].workers} "
            f"| {rs[0].requisicoes} | {len(rs)} "
            f"| **{mediana(r.por_segundo for r in rs):.0f}** "
            f"| {min(r.por_segundo for r in rs):.0f}-{max(r.por_segundo for r in rs):.0f} "
            f"| {mediana(r.percentil(50) for r in rs):.1f} "
            f"| **{mediana(r.percentil(95) for r in rs):.1f}** "
            f"| {mediana(r.percentil(99) for r in rs):.1f} "
            f"| {sum(r.erros for r in rs)} "
            f"| {ms['servidor_s']:.1f} / {ms['postgres_s']:.1f} / {ms['cliente_s']:.1f} / "
            f"{ms['outros_s']:.1f} "
            f"| {mediana(r.cpu['maquina_ocupada_pct'] for r in rs):.0f}% "
            f"({mediana(r.cpu['fundo_antes_pct'] for r in rs):.0f}%) |"
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


def perfil(
    rodadas: list[Rodada],
    variantes: tuple[tuple[str, dict[str, str]], ...],
    workers: int,
    perfil_req: dict[int, int],
    extras: dict[str, Any],
) -> list[str]:
    """The profiling pass: the variants' table, each phase's time, py-spy's shares."""
    nomes = dict(variantes)
    titulo = f"## Variantes (conc. 50, cliente cru, {workers} workers, app instrumentado)"
    linhas = [
        "",
        *tabela([r for r in rodadas if r.variante in nomes], titulo, lambda r: r.variante),
    ]
    for conc in perfil_req:
        linhas += ["", f"## Fases no servidor, 1 worker, conc. {conc}"]
        linhas += fases(extras[f"fases_conc{conc}"])
    for variante in nomes:
        linhas += [
            "",
            f"## Fases: variante {variante}",
            *fases(extras[f"fases_variante {variante}"]),
        ]
    for conc in perfil_req:
        ps = extras.get(f"pyspy_conc{conc}")
        if not ps:
            continue
        linhas += [
            "",
            f"## py-spy --gil, 1 worker, conc. {conc}: {ps['amostras']} amostras, "
            f"GIL ocupado {ps['gil_ocupado_pct']:.0f}% do tempo de parede",
            "| tempo próprio (com o GIL) por módulo | % |",
            "|---|---:|",
            *(f"| {k} | {v:.1f} |" for k, v in ps["proprio_pct"].items()),
            "",
            "| tempo inclusivo (com o GIL) | % |",
            "|---|---:|",
            *(f"| {k} | {v:.1f} |" for k, v in ps["inclusivo_pct"].items()),
        ]
    return linhas


def escrever_json(
    arquivo: Path,
    *,
    maquina: dict[str, str],
    duracao_s: float,
    verificacao: dict[str, Any],
    rodadas: list[Rodada],
    extras: dict[str, Any],
) -> None:
    """Every raw figure, for ``--json``."""
    arquivo.parent.mkdir(parents=True, exist_ok=True)
    dados = {
        "maquina": maquina,
        "duracao_s": duracao_s,
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
    }
    arquivo.write_text(json.dumps(dados, ensure_ascii=False, indent=1, default=dict))
