"""A real local HTTP server for adapter tests: scripted answers per (method, path).

It runs on 127.0.0.1 on a free port in a thread, records every request, and can answer late
(``dormir_s``) or drop the connection without answering (``derrubar``).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Resposta:
    status: int = 200
    json: Any = None
    cabecalhos: dict[str, str] = field(default_factory=dict)
    dormir_s: float = 0.0
    derrubar: bool = False


@dataclass
class Requisicao:
    metodo: str
    caminho: str
    consulta: dict[str, list[str]]
    cabecalhos: dict[str, str]
    corpo: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.corpo) if self.corpo else None


Roteiro = Resposta | list[Resposta] | Callable[[Requisicao], Resposta]


class _Manipulador(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ServidorFalso

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _tratar(self) -> None:
        partes = urlsplit(self.path)
        tamanho = int(self.headers.get("Content-Length") or 0)
        corpo = self.rfile.read(tamanho) if tamanho else b""
        req = Requisicao(
            self.command,
            partes.path,
            parse_qs(partes.query),
            {k.lower(): v for k, v in self.headers.items()},
            corpo,
        )
        with self.server.trava:
            self.server.requisicoes.append(req)
            roteiro = self.server.rotas.get((self.command, partes.path))
            if isinstance(roteiro, list):
                resposta = roteiro.pop(0) if len(roteiro) > 1 else roteiro[0]
            elif callable(roteiro):
                resposta = roteiro(req)
            elif roteiro is None:
                resposta = Resposta(404, {"status": 404, "error": "Not Found"})
            else:
                resposta = roteiro
        if resposta.dormir_s:
            self.server.parando.wait(resposta.dormir_s)
        if resposta.derrubar:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        dados = b"" if resposta.json is None else json.dumps(resposta.json).encode()
        try:
            self.send_response(resposta.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(dados)))
            for nome, valor in resposta.cabecalhos.items():
                self.send_header(nome, valor)
            self.end_headers()
            self.wfile.write(dados)
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = _tratar


class ServidorFalso(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Manipulador)
        self.trava = threading.Lock()
        self.parando = threading.Event()
        self.rotas: dict[tuple[str, str], Roteiro] = {}
        self.requisicoes: list[Requisicao] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def rota(self, metodo: str, caminho: str, roteiro: Roteiro) -> None:
        with self.trava:
            self.rotas[(metodo, caminho)] = roteiro

    def recebidas(self, metodo: str, caminho: str) -> list[Requisicao]:
        with self.trava:
            return [r for r in self.requisicoes if r.metodo == metodo and r.caminho == caminho]

    def parar(self) -> None:
        self.parando.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def servidor_falso() -> Iterator[ServidorFalso]:
    servidor = ServidorFalso()
    try:
        yield servidor
    finally:
        servidor.parar()


def porta_fechada() -> int:
    """A local port with nothing listening (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def esperar(
    condicao: Callable[[], Any], *, limite_s: float = 5.0, intervalo_s: float = 0.02
) -> Any:
    """Poll ``condicao`` until it is truthy (returned) or ``limite_s`` passes (AssertionError)."""
    fim = time.monotonic() + limite_s
    while True:
        valor = condicao()
        if valor:
            return valor
        if time.monotonic() >= fim:
            raise AssertionError(f"condição não satisfeita em {limite_s}s")
        time.sleep(intervalo_s)
