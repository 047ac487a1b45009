"""The py-spy pass of ``bench/mover.py``: sample the server with ``--gil`` (only the thread
holding the GIL, i.e. Python CPU time) and sum the samples by module and by call."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from bench.comum import BIN

PYSPY_HZ = 200


def iniciar(pid: int, saida: Path) -> subprocess.Popen[bytes] | None:
    exe = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if not exe:
        return None
    return subprocess.Popen(
        [
            *(exe, "record", "--pid", str(pid), "--subprocesses", "--rate", str(PYSPY_HZ)),
            *("--gil", "--format", "raw", "--nonblocking", "--output", str(saida)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def parar(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# categories by the file of the innermost frame (self time), first match wins
_CATEGORIAS = [
    ("logs (logging, python-json-logger, json)", r"/logging/|pythonjsonlogger|/json/"),
    ("SQLAlchemy ORM", r"sqlalchemy/orm/"),
    ("SQLAlchemy Core (compilação, engine, pool)", r"sqlalchemy/"),
    ("sqlmodel", r"sqlmodel/"),
    ("psycopg", r"psycopg"),
    ("pydantic", r"pydantic"),
    ("FastAPI/Starlette/anyio", r"fastapi/|starlette/|anyio/"),
    ("threads (threading, queue, concurrent)", r"/threading\.py|/queue\.py|concurrent/"),
    ("asyncio", r"asyncio/|selectors\.py"),
    ("granian (Rust, sem quadro Python)", r"^process \d+:"),
    ("whatsapp_app (código do app)", r"whatsapp_app/"),
    ("bench/instrumentado.py", r"bench/"),
    ("zoneinfo/datetime/uuid/re/enum", r"zoneinfo|datetime|uuid|/re/|/re\.py|enum\.py"),
]
_INCLUSIVOS = [
    ("auth: exigir_contexto (busca do token)", "exigir_contexto ("),
    ("mover_lead (tudo)", "mover_lead ("),
    ("  obter_lead (SELECT ... FOR UPDATE)", "obter_lead ("),
    ("  cancelar_ao_sair_do_estagio", "cancelar_ao_sair_do_estagio ("),
    ("  executar_automacoes_lead_stage_changed", "executar_automacoes_lead_stage_changed ("),
    ("    proxima_abertura (janela de envio)", "proxima_abertura ("),
    ("    _inserir_ignorando_duplicatas (INSERT 9 jobs)", "_inserir_ignorando_duplicatas ("),
    ("Session.commit (inclui flush)", "Session.commit ("),
    ("Session.flush (autoflush + explícito)", "Session.flush ("),
    ("logging (Logger._log: registro + JSON + escrita)", "Logger._log ("),
    ("compilação SQL (Compiled.__init__: cache miss)", "Compiled.__init__ ("),
    ("psycopg Cursor.execute", "Cursor.execute ("),
    ("pool: checkout (inclui pre-ping)", "_ConnectionFairy._checkout ("),
    ("pool: pre-ping", "do_ping ("),
    ("pool: nova conexão", "Connection.connect (psycopg"),
    ("FastAPI: validação do corpo", "validate_python ("),
    ("FastAPI: serialização da resposta", "serialize_response ("),
]


def analisar(arquivo: Path, segundos: float) -> dict[str, Any]:
    """Samples taken with ``--gil``: only the thread holding the GIL, i.e. Python CPU time."""
    if not arquivo.exists():
        return {}
    total = 0
    proprios: Counter[str] = Counter()
    inclusivos: Counter[str] = Counter()
    for linha in arquivo.read_text().splitlines():
        pilha, _, n = linha.rpartition(" ")
        if not n.isdigit():
            continue
        amostras = int(n)
        total += amostras
        quadros = pilha.split(";")
        folha = quadros[-1] if quadros else ""
        for nome, padrao in _CATEGORIAS:
            if re.search(padrao, folha):
                proprios[nome] += amostras
                break
        else:
            proprios["outros"] += amostras
        for nome, trecho in _INCLUSIVOS:
            if any(trecho in q for q in quadros):
                inclusivos[nome] += amostras
    return {
        "amostras": total,
        "gil_ocupado_pct": 100 * total / (PYSPY_HZ * segundos),
        "proprio_pct": {k: 100 * v / total for k, v in proprios.most_common()} if total else {},
        "inclusivo_pct": {k: 100 * inclusivos[k] / total for k, _ in _INCLUSIVOS} if total else {},
    }
