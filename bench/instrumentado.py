"""The API with timers attached, for the profiling pass of ``bench/mover.py`` (never for production).

``criar_api()`` wraps ``whatsapp_app.api.criar_api()`` without changing the app's code:

* SQLAlchemy events count and time every statement the request runs (by verb and table),
  and the dialect's ``do_ping`` (``pool_pre_ping``), ``do_commit`` and ``connect`` are wrapped
  to time the pre-ping round trip, the COMMIT round trip and new connections;
* ``exigir_contexto`` (the per-request token lookup) and ``leads.mover_lead`` are wrapped to
  time those two phases;
* a pure-ASGI wrapper times the whole request in the server and serves the per-process totals
  at ``GET /__bench/estatisticas`` (``POST /__bench/zerar`` zeroes them).

``BENCH_VARIANTE`` (comma-separated) turns on what-if experiments, to measure a suggested fix
before anyone writes it:

* ``cache_token``: the caller's ``Contexto`` is cached per token for 30 s by an ``async``
  dependency (no lookup, no thread hop, no connection checkout for auth);
* ``sem_ping``: the engine is built without ``pool_pre_ping``;
* ``pool40``: ``pool_size=40, max_overflow=10`` (the 40-thread pool never churns connections);
* ``threads8``: anyio's thread limiter (sync endpoints and dependencies) down from 40 to 8.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.engine.default import CACHE_HIT

from whatsapp_app import db, leads
from whatsapp_app.api import criar_api as criar_api_original
from whatsapp_app.api import deps
from whatsapp_app.auth import Contexto
from whatsapp_app.config import configuracoes

Escopo = MutableMapping[str, Any]
Receber = Callable[[], Awaitable[MutableMapping[str, Any]]]
Enviar = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_atual: ContextVar[dict[str, Any] | None] = ContextVar("bench_requisicao", default=None)
_trava = threading.Lock()
_TABELA = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", re.IGNORECASE)


def _zerado() -> dict[str, Any]:
    return {"requisicoes": 0, "segundos": defaultdict(float), "contagens": defaultdict(int)}


_totais = _zerado()


def _somar(nome: str, segundos: float, contagem: int = 1) -> None:
    requisicao = _atual.get()
    if requisicao is None:  # outside a measured request (login, health...)
        return
    requisicao["segundos"][nome] += segundos
    requisicao["contagens"][nome] += contagem


def _categoria(sql: str) -> str:
    verbo = sql.lstrip().split(None, 1)[0].upper()
    tabela = _TABELA.search(sql)
    nome = f"sql {verbo} {tabela.group(1) if tabela else '?'}"
    return nome + " FOR UPDATE" if "FOR UPDATE" in sql.upper() else nome


def _cronometrar(nome: str, funcao: Callable[..., Any], *, cpu: bool = False) -> Callable[..., Any]:
    """Wall time of each call; with ``cpu`` also the calling thread's CPU time."""

    def _medida(*args: Any, **kwargs: Any) -> Any:
        inicio, inicio_cpu = time.perf_counter(), time.thread_time()
        try:
            return funcao(*args, **kwargs)
        finally:
            _somar(nome, time.perf_counter() - inicio)
            if cpu:
                _somar(f"{nome} [CPU da thread]", time.thread_time() - inicio_cpu)

    return _medida


def _contar_comandos_psycopg() -> None:
    """BEGIN / COMMIT / ROLLBACK are round trips of their own (psycopg's _exec_command)."""
    from psycopg._connection_base import BaseConnection

    original = BaseConnection._exec_command

    def _exec_command(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        texto = command if isinstance(command, bytes) else str(command).encode()
        _somar(f"ida e volta psycopg: {texto.split(b' ', 1)[0].decode()}", 0.0)
        return (yield from original(self, command, *args, **kwargs))

    BaseConnection._exec_command = _exec_command  # type: ignore[method-assign]


def _instrumentar_engine(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "before_cursor_execute")
    def _antes(conn: Any, _cursor: Any, _sql: str, _p: Any, contexto: Any, _m: bool) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _depois(conn: Any, _cursor: Any, sql: str, _p: Any, contexto: Any, _m: bool) -> None:
        duracao = time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())
        categoria = _categoria(sql)
        _somar("sql (todas)", duracao)
        _somar(categoria, duracao)
        acerto = getattr(contexto, "cache_hit", None)
        if getattr(contexto, "compiled", None) is not None and acerto is not CACHE_HIT:
            _somar(f"compilação sem cache ({getattr(acerto, 'name', acerto)}): {categoria}", 0.0)

    dialeto = engine.dialect
    dialeto.do_ping = _cronometrar("sql pre-ping (SELECT 1)", dialeto.do_ping)  # type: ignore[method-assign]
    dialeto.do_commit = _cronometrar("sql COMMIT", dialeto.do_commit)  # type: ignore[method-assign]
    dialeto.do_rollback = _cronometrar("sql ROLLBACK", dialeto.do_rollback)  # type: ignore[method-assign]
    dialeto.connect = _cronometrar("nova conexao PostgreSQL", dialeto.connect)  # type: ignore[method-assign]


def _preparar_engine(variantes: set[str]) -> None:
    """Build the app's engine now (maybe with other pool settings) and attach the timers."""
    if variantes & {"sem_ping", "pool40"}:
        tamanho, extra = (40, 10) if "pool40" in variantes else (10, 20)

        @lru_cache(maxsize=8)
        def _engine_para(url: str) -> sa.Engine:
            return sa.create_engine(
                url,
                pool_pre_ping="sem_ping" not in variantes,
                pool_size=tamanho,
                max_overflow=extra,
            )

        db.engine_para = _engine_para  # type: ignore[assignment]
    _instrumentar_engine(db.engine_para(configuracoes().database_url))


def _usar_cache_de_token(api: Any) -> None:
    cache: dict[str, tuple[float, Contexto]] = {}

    async def _usuario_com_cache(request: Request) -> Contexto:
        token = deps.token_da_requisicao(request) or ""
        guardado = cache.get(token)
        if guardado and guardado[0] > time.monotonic():
            return guardado[1]
        contexto = deps.exigir_contexto(token)
        cache[token] = (time.monotonic() + 30, contexto)
        return contexto

    api.dependency_overrides[deps._usuario] = _usuario_com_cache


class _Medidor:
    """Times each HTTP request and answers ``/__bench/*`` itself."""

    def __init__(self, app: Any, threads: int | None) -> None:
        self.app = app
        self.threads = threads

    async def __call__(self, scope: Escopo, receive: Receber, send: Enviar) -> None:
        if self.threads:  # must run inside the event loop
            anyio.to_thread.current_default_thread_limiter().total_tokens = self.threads
            self.threads = None
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/__bench/"):
            await self._responder_bench(scope, send)
            return
        if scope["method"] != "PATCH":  # only the move is measured
            await self.app(scope, receive, send)
            return
        requisicao: dict[str, Any] = {
            "segundos": defaultdict(float),
            "contagens": defaultdict(int),
        }
        marca = _atual.set(requisicao)
        inicio = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            _atual.reset(marca)
            requisicao["segundos"]["total no servidor"] += time.perf_counter() - inicio
            with _trava:
                _totais["requisicoes"] += 1
                for nome, valor in requisicao["segundos"].items():
                    _totais["segundos"][nome] += valor
                for nome, valor in requisicao["contagens"].items():
                    _totais["contagens"][nome] += valor

    async def _responder_bench(self, scope: Escopo, send: Enviar) -> None:
        global _totais
        with _trava:
            corpo = json.dumps(
                {
                    "pid": os.getpid(),
                    "requisicoes": _totais["requisicoes"],
                    "segundos": dict(_totais["segundos"]),
                    "contagens": dict(_totais["contagens"]),
                }
            ).encode()
            if scope["path"] == "/__bench/zerar":
                _totais = _zerado()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": corpo})


def criar_api() -> Any:
    variantes = {v.strip() for v in os.environ.get("BENCH_VARIANTE", "").split(",") if v.strip()}
    _preparar_engine(variantes)
    _contar_comandos_psycopg()
    deps.exigir_contexto = _cronometrar(  # type: ignore[assignment]
        "auth: busca do token", deps.exigir_contexto, cpu=True
    )
    leads.mover_lead = _cronometrar("mover_lead (servico)", leads.mover_lead, cpu=True)
    api = criar_api_original()
    if "cache_token" in variantes:
        _usar_cache_de_token(api)
    return _Medidor(api, 8 if "threads8" in variantes else None)
