"""A local HTTP server that counts sends per job, and a minimal adapter that talks to it.

The dispatcher tests use these so that every send crosses a real socket; the real adapters
(Evolution, Cloud API, simulator) are tested against their own contract servers.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from whatsapp_app.providers.base import (
    Confirmacao,
    Desfecho,
    EstadoConexao,
    ResultadoConfirmacao,
    ResultadoEnvio,
    StatusConexao,
)


class ServidorContador:
    """``POST /send`` with ``{"id_agendamento"}``; ``modo`` decides the answer."""

    def __init__(self) -> None:
        self.contagem: Counter[str] = Counter()
        self.modo = "ok"  # ok | 500 | 429 | 400 | timeout
        self.espera_timeout_s = 2.0
        self._trava = threading.Lock()
        servidor = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:
                corpo = json.loads(self.rfile.read(int(self.headers["content-length"])))
                modo = servidor.modo
                if modo in ("ok", "timeout"):
                    with servidor._trava:
                        servidor.contagem[corpo["id_agendamento"]] += 1
                if modo == "timeout":
                    time.sleep(servidor.espera_timeout_s)
                status = {"ok": 201, "timeout": 201, "500": 500, "429": 429, "400": 400}[modo]
                dados = json.dumps({"id": f"msg-{corpo['id_agendamento']}"}).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(dados)))
                    self.end_headers()
                    self.wfile.write(dados)
                except OSError:
                    pass

        class Servidor(ThreadingHTTPServer):
            request_queue_size = 256  # many dispatcher threads connect at once

        self._http = Servidor(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> ServidorContador:
        self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._http.shutdown()
        self._http.server_close()


class ProvedorTeste:
    def __init__(self, url: str, timeout_s: float = 1.0) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def enviar_texto(self, *, numero_e164: str, texto: str, id_agendamento: str) -> ResultadoEnvio:
        try:
            resposta = httpx.post(
                f"{self.url}/send",
                json={"id_agendamento": id_agendamento, "texto": texto},
                timeout=self.timeout_s,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout):
            return ResultadoEnvio(Desfecho.RETENTAVEL, erro="Conexão recusada.")
        except httpx.TransportError:
            return ResultadoEnvio(Desfecho.DESCONHECIDO, erro="Sem resposta do provedor.")
        if resposta.status_code < 300:
            return ResultadoEnvio(Desfecho.ACEITO, provider_message_id=resposta.json()["id"])
        if resposta.status_code == 429 or resposta.status_code >= 500:
            return ResultadoEnvio(Desfecho.RETENTAVEL, erro=f"HTTP {resposta.status_code}")
        return ResultadoEnvio(Desfecho.PERMANENTE, erro="Número inválido.")

    def estado_conexao(self) -> EstadoConexao:
        return EstadoConexao(StatusConexao.CONECTADO)

    def conectar(self) -> EstadoConexao:
        return self.estado_conexao()

    def reiniciar(self) -> None:
        return None

    def desconectar(self) -> None:
        return None

    def confirmar_envio(self, **_kwargs: Any) -> ResultadoConfirmacao:
        return ResultadoConfirmacao(Confirmacao.DESCONHECIDO)


class ProvedorSegurado(ProvedorTeste):
    """Holds every send (after ``envio_iniciado_em`` was written) until the test releases it."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.em_voo = threading.Semaphore(0)
        self.liberar = threading.Event()

    def enviar_texto(self, **dados: Any) -> Any:
        self.em_voo.release()
        assert self.liberar.wait(10), "o teste não liberou o envio"
        return super().enviar_texto(**dados)
