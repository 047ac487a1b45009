"""The load clients of ``bench/mover.py`` and one measured run (``rodar``): a closed loop at a
fixed concurrency, a distinct lead per request, from httpx, from a minimal asyncio HTTP/1.1
client (``cru``) or from wrk (``bench/carga_wrk.py``), with the CPU each side used."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.carga_wrk import WRK_SEGUNDOS, WRK_TETO_MOVES_S, carga_wrk
from bench.comum import (
    cpu_arvore,
    cpu_maquina,
    cpu_proprio,
    fundo_pct,
    ocupada_pct,
    percentil,
    postmaster,
    processos,
)
from bench.mover_banco import JOBS_POR_MOVIMENTO, Cenario
from bench.mover_servidor import Servidor


@dataclass
class Rodada:
    concorrencia: int
    workers: int
    requisicoes: int
    segundos: float
    latencias_ms: list[float]
    erros: int
    movidos: list[str]
    cpu: dict[str, float] = field(default_factory=dict)
    variante: str = ""
    talvez: list[str] = field(default_factory=list)  # wrk: sent, answer not attributable
    faixa: tuple[int, int] = (0, 0)  # wrk: (answered 9/9, unanswered at the stop)

    @property
    def por_segundo(self) -> float:
        return self.requisicoes / self.segundos

    def percentil(self, p: float) -> float:
        if self.talvez:  # wrk: latencias_ms holds its p50, p95, p99
            return self.latencias_ms[{50: 0, 95: 1, 99: 2}[int(p)]]
        return percentil(self.latencias_ms, p)


async def _carga(base: str, token: str, destino: str, ids: list[str], concorrencia: int) -> Any:
    latencias: list[float] = []
    movidos: list[str] = []
    erros: list[str] = []
    fila = iter(ids)
    limites = httpx.Limits(max_connections=concorrencia, max_keepalive_connections=concorrencia)
    cabecalhos = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=base, headers=cabecalhos, limits=limites, timeout=60
    ) as cliente:
        # open the keep-alive connections before the clock starts
        await asyncio.gather(*(cliente.get("/api/health") for _ in range(concorrencia)))

        async def trabalhador() -> None:
            for id_lead in fila:  # shared iterator: each lead is moved exactly once
                inicio = time.perf_counter()
                try:
                    r = await cliente.patch(
                        f"/api/leads/{id_lead}/mover", json={"id_estagio_destino": destino}
                    )
                    corpo = r.json() if r.status_code == 200 else None
                except (httpx.HTTPError, ValueError) as exc:
                    corpo, r = None, None
                    erros.append(repr(exc))
                latencias.append((time.perf_counter() - inicio) * 1000)
                if (
                    corpo
                    and corpo.get("agendamentos_criados") == JOBS_POR_MOVIMENTO
                    and corpo.get("agendamentos_cancelados") == JOBS_POR_MOVIMENTO
                ):
                    movidos.append(id_lead)
                elif r is not None:
                    erros.append(f"{r.status_code} {r.text[:200]}")

        inicio = time.perf_counter()
        await asyncio.gather(*(trabalhador() for _ in range(concorrencia)))
        return time.perf_counter() - inicio, latencias, movidos, erros


async def _carga_crua(
    base: str, token: str, destino: str, ids: list[str], concorrencia: int
) -> Any:
    """Same load with a minimal HTTP/1.1 keep-alive client on asyncio streams (~10x less CPU
    per request than httpx), to show how much of the 2 cores httpx itself takes."""
    host, porta = "127.0.0.1", int(base.rsplit(":", 1)[1])
    latencias: list[float] = []
    movidos: list[str] = []
    erros: list[str] = []
    fila = iter(ids)
    corpo = json.dumps({"id_estagio_destino": destino}).encode()
    fixo = (
        f"Host: {host}:{porta}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(corpo)}\r\n\r\n"
    ).encode() + corpo
    conexoes = [await asyncio.open_connection(host, porta) for _ in range(concorrencia)]

    async def trabalhador(leitor: asyncio.StreamReader, escritor: asyncio.StreamWriter) -> None:
        for id_lead in fila:
            inicio = time.perf_counter()
            try:
                escritor.write(f"PATCH /api/leads/{id_lead}/mover HTTP/1.1\r\n".encode() + fixo)
                cabecalho = await leitor.readuntil(b"\r\n\r\n")
                tamanho = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", cabecalho)
                if tamanho is None:
                    raise ValueError(f"resposta sem content-length: {cabecalho[:200]!r}")
                dados = await leitor.readexactly(int(tamanho.group(1)))
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                latencias.append((time.perf_counter() - inicio) * 1000)
                erros.append(repr(exc))
                return  # this connection is unusable; the others go on
            latencias.append((time.perf_counter() - inicio) * 1000)
            status = int(cabecalho.split(b" ", 2)[1])
            resposta = json.loads(dados) if status == 200 else None
            if (
                resposta
                and resposta.get("agendamentos_criados") == JOBS_POR_MOVIMENTO
                and resposta.get("agendamentos_cancelados") == JOBS_POR_MOVIMENTO
            ):
                movidos.append(id_lead)
            else:
                erros.append(f"{status} {dados[:200]!r}")

    inicio = time.perf_counter()
    await asyncio.gather(*(trabalhador(*c) for c in conexoes))
    segundos = time.perf_counter() - inicio
    for _, escritor in conexoes:
        escritor.close()
    return segundos, latencias, movidos, erros


def _cpus(servidor: int) -> tuple[tuple[float, float], float, float, float]:
    """CPU seconds so far: the machine (busy, total), this client, the server tree, PostgreSQL."""
    procs = processos()
    pm = postmaster(procs)
    return (
        cpu_maquina(),
        cpu_proprio(),
        cpu_arvore(servidor, procs),
        cpu_arvore(pm, procs) if pm else 0.0,
    )


def rodar(
    srv: Servidor,
    token: str,
    cenario: Cenario,
    n: int,
    concorrencia: int,
    variante: str = "",
    *,
    cru: bool = False,
    wrk: bool = False,
    pasta: Path | None = None,
) -> Rodada:
    if wrk:
        n = int(WRK_SEGUNDOS.get(concorrencia, 6) * WRK_TETO_MOVES_S)
    ids = cenario.tomar(n)
    assert srv.proc is not None
    fundo = fundo_pct()
    antes = _cpus(srv.proc.pid)
    carga = _carga_crua if cru else _carga
    talvez: list[str] = []
    faixa = (0, 0)
    if wrk:
        assert pasta is not None
        prefixo = pasta / f"ids-{os.getpid()}-{concorrencia}-{len(TODAS)}"
        dados, talvez, confirmados, sem_resposta, erros = carga_wrk(
            srv.base, token, cenario.destino, ids, concorrencia, prefixo
        )
        segundos, movidos, faixa = dados["duracao_us"] / 1e6, [], (confirmados, sem_resposta)
        n = dados["requisicoes"]
        # wrk gives percentiles only: the three are kept as the "latencies" of the run
        latencias = [dados["p50_us"] / 1000, dados["p95_us"] / 1000, dados["p99_us"] / 1000]
    else:
        segundos, latencias, movidos, erros = asyncio.run(
            carga(srv.base, token, cenario.destino, ids, concorrencia)
        )
    depois = _cpus(srv.proc.pid)
    maquina = depois[0][0] - antes[0][0]
    cliente, servidor, postgres = (b - a for a, b in zip(antes[1:], depois[1:], strict=True))
    cpu = {
        "fundo_antes_pct": fundo,
        "maquina_ocupada_pct": ocupada_pct(antes[0], depois[0]),
        "cliente_s": cliente,
        "servidor_s": servidor,
        "postgres_s": postgres,
        "outros_s": maquina - cliente - servidor - postgres,
        "parede_s": segundos,
    }
    if erros:
        print(f"    {len(erros)} erro(s), ex.: {erros[0]}", flush=True)
    r = Rodada(
        concorrencia, srv.workers, n, segundos, latencias, len(erros), movidos, cpu, variante,
        talvez, faixa,
    )  # fmt: skip
    TODAS.append(r)
    return r


TODAS: list[Rodada] = []  # every run, warm-ups included (for the final verification)
