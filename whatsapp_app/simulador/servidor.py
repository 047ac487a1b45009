"""The simulator's HTTP server (stdlib ``ThreadingHTTPServer``, one thread per connection).

A plain socket server rather than an ASGI stack on purpose: injecting a dropped connection needs
the raw socket (close it with no answer at all), and a held "timeout" answer just sleeps in its
own thread. Routes, status codes and bodies follow Evolution API v2 (contract.md section 5).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, quote, unquote, urlsplit

from whatsapp_app.logs import logger
from whatsapp_app.simulador import SIMULADOR_API_KEY, SIMULADOR_HOST
from whatsapp_app.simulador.caixa import DIRECOES
from whatsapp_app.simulador.conversa import ErroResposta
from whatsapp_app.simulador.estado import Simulador
from whatsapp_app.simulador.falhas import Decisao, ErroConfig, ErroFalhas
from whatsapp_app.simulador.instancia import InstanciaInexistente
from whatsapp_app.simulador.pagina import renderizar_pagina

_log = logger("simulador.http")

_Rota = Callable[["_Manipulador", re.Match[str]], None]


def _erro_evolution(status: int, mensagem: Any) -> dict[str, Any]:
    return {
        "status": status,
        "error": HTTPStatus(status).phrase,
        "response": {"message": mensagem},
    }


def _instancia_inexistente(nome: str) -> dict[str, Any]:
    """Evolution's ``instanceExistsGuard`` answer (src/api/guards/instance.guard.ts)."""
    return _erro_evolution(404, [f'The "{nome}" instance does not exist'])


def _erro_sim(codigo: str, mensagem: str, campos: dict[str, str] | None = None) -> dict[str, Any]:
    """The simulator's own routes answer errors in the app's shape (contract §4)."""
    erro: dict[str, Any] = {"codigo": codigo, "mensagem": mensagem}
    if campos:
        erro["campos"] = campos
    return {"erro": erro}


class _Manipulador(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SimuladorEvolution/2"
    timeout = 120  # idle keep-alive connections are closed after this long
    server: ServidorSimulador
    _lido: bytes | None = None

    # -- plumbing -------------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("simulador: " + format % args)

    @property
    def sim(self) -> Simulador:
        return self.server.simulador

    def _corpo_bruto(self) -> bytes:
        # One handler serves every request of a keep-alive connection: read once per request.
        if self._lido is None:
            tamanho = int(self.headers.get("Content-Length") or 0)
            self._lido = self.rfile.read(tamanho) if tamanho > 0 else b""
        return self._lido

    def _json(self) -> Any:
        bruto = self._corpo_bruto()
        if not bruto:
            return {}
        try:
            return json.loads(bruto)
        except ValueError:
            return None

    def _responder(
        self,
        status: int,
        corpo: Any = None,
        *,
        tipo: str = "application/json; charset=utf-8",
        cabecalhos: dict[str, str] | None = None,
    ) -> None:
        if isinstance(corpo, bytes | str):
            dados = corpo.encode("utf-8") if isinstance(corpo, str) else corpo
        else:
            dados = json.dumps(corpo, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", tipo)
            self.send_header("Content-Length", str(len(dados)))
            for nome, valor in (cabecalhos or {}).items():
                self.send_header(nome, valor)
            self.end_headers()
            self.wfile.write(dados)
        except OSError:
            self.close_connection = True  # the client went away (e.g. after a held timeout)

    def _redirecionar(self, destino: str) -> None:
        self.send_response(303)
        self.send_header("Location", destino)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _derrubar(self) -> None:
        """Close the connection without a single byte of answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _autorizado(self) -> bool:
        if self.headers.get("apikey") == self.sim.api_key:
            return True
        self._responder(401, _erro_evolution(401, "Unauthorized"))
        return False

    def _guarda(self, m: re.Match[str]) -> str | None:
        """The instance named in the path, or None once 404/401 was answered. Evolution runs
        the instance-exists guard before the api key's (src/api/routes/index.router.ts)."""
        nome = unquote(m["inst"])
        if not self.sim.existe(nome):
            self._responder(404, _instancia_inexistente(nome))
            return None
        return nome if self._autorizado() else None

    def _formulario(self) -> dict[str, str]:
        return {
            chave: valores[0]
            for chave, valores in parse_qs(self._corpo_bruto().decode("utf-8", "replace")).items()
        }

    def _quer_html(self) -> bool:
        tipo = self.headers.get("Content-Type") or ""
        return "application/x-www-form-urlencoded" in tipo or "text/html" in (
            self.headers.get("Accept") or ""
        )

    def _despachar(self, metodo: str) -> None:
        self._lido = None
        partes = urlsplit(self.path)
        self._consulta = parse_qs(partes.query)
        self._corpo_bruto()  # always drain the body so keep-alive stays in sync
        for rota_metodo, padrao, funcao in _ROTAS:
            if rota_metodo != metodo:
                continue
            achado = padrao.fullmatch(partes.path)
            if achado:
                try:
                    funcao(self, achado)
                except InstanciaInexistente as exc:  # reset in between the guard and the call
                    self._responder(404, _instancia_inexistente(exc.nome))
                return
        self._responder(404, _erro_evolution(404, [f"Cannot {metodo} {partes.path}"]))

    def do_GET(self) -> None:
        self._despachar("GET")

    def do_POST(self) -> None:
        self._despachar("POST")

    def do_PUT(self) -> None:
        self._despachar("PUT")

    def do_DELETE(self) -> None:
        self._despachar("DELETE")

    # -- Evolution routes -----------------------------------------------------------------------

    def criar_instancia(self, _: re.Match[str]) -> None:
        if not self._autorizado():
            return
        corpo = self._json()
        nome = corpo.get("instanceName") if isinstance(corpo, dict) else None
        if not isinstance(nome, str) or not nome:
            self._responder(400, _erro_evolution(400, ["instanceName is required"]))
            return
        assert isinstance(corpo, dict)
        criada = self.sim.criar(nome, qrcode=corpo.get("qrcode") is True)
        if criada is None:
            self._responder(403, _erro_evolution(403, [f'This name "{nome}" is already in use.']))
            return
        self._responder(201, criada)

    def estado_conexao(self, m: re.Match[str]) -> None:
        if nome := self._guarda(m):
            self._responder(
                200, {"instance": {"instanceName": nome, "state": self.sim.estado(nome)}}
            )

    def conectar(self, m: re.Match[str]) -> None:
        if nome := self._guarda(m):
            self._responder(200, self.sim.conectar(nome))

    def reiniciar(self, m: re.Match[str]) -> None:
        if nome := self._guarda(m):
            self._responder(200, self.sim.reiniciar(nome))

    def logout(self, m: re.Match[str]) -> None:
        if not (nome := self._guarda(m)):
            return
        if self.sim.logout(nome):
            self._responder(
                200,
                {
                    "status": "SUCCESS",
                    "error": False,
                    "response": {"message": "Instance logged out"},
                },
            )
        else:
            self._responder(400, _erro_evolution(400, [f'The "{nome}" instance is not connected']))

    def definir_webhook(self, m: re.Match[str]) -> None:
        if not (nome := self._guarda(m)):
            return
        resultado = self.sim.configurar_webhook(nome, self._json())
        if resultado is None:
            self._responder(400, _erro_evolution(400, ["webhook.url is required"]))
        else:
            self._responder(201, resultado)

    def ler_webhook(self, m: re.Match[str]) -> None:
        if nome := self._guarda(m):
            self._responder(200, self.sim.webhook(nome))

    def enviar_texto(self, m: re.Match[str]) -> None:
        if not (nome := self._guarda(m)):
            return
        corpo = self._json()
        numero = (
            re.sub(r"\D", "", str(corpo.get("number") or "")) if isinstance(corpo, dict) else ""
        )
        texto = corpo.get("text") if isinstance(corpo, dict) else None
        if not numero or not isinstance(texto, str) or not texto.strip():
            faltando = "number" if not numero else "text"
            self._responder(400, _erro_evolution(400, [f"{faltando} is required"]))
            return
        self.sim.instancia(nome)
        decisao, latencia_s, segurar_s = self.sim.decidir_envio(numero)
        if latencia_s > 0 and self.sim.parando.wait(latencia_s):
            self._derrubar()
            return
        if decisao == Decisao.E429:
            self._responder(
                429,
                _erro_evolution(429, ["Too many requests (simulado)"]),
                cabecalhos={"Retry-After": "1"},
            )
        elif decisao == Decisao.E500:
            self._responder(500, _erro_evolution(500, ["Erro interno simulado"]))
        elif decisao == Decisao.DESCONECTADO:
            self._responder(400, _erro_evolution(400, ["Error: Connection Closed"]))
        elif decisao == Decisao.INEXISTENTE:
            self._responder(
                400,
                _erro_evolution(
                    400, [{"jid": f"{numero}@s.whatsapp.net", "exists": False, "number": numero}]
                ),
            )
        elif decisao == Decisao.QUEDA_ANTES:
            self._derrubar()
        elif decisao == Decisao.QUEDA_DEPOIS:
            self.sim.registrar_mensagem(nome, numero, texto, falha="queda_apos_envio")
            self._derrubar()
        elif decisao == Decisao.TIMEOUT:
            registro = self.sim.registrar_mensagem(nome, numero, texto, falha="timeout_apos_envio")
            self.sim.parando.wait(segurar_s)  # the client gave up long before
            self._responder(201, registro)
        else:
            self._responder(201, self.sim.registrar_mensagem(nome, numero, texto))

    def buscar_mensagens(self, m: re.Match[str]) -> None:
        if not (nome := self._guarda(m)):
            return
        try:
            self._responder(200, self.sim.buscar_mensagens(nome, self._json()))
        except (TypeError, ValueError) as exc:
            self._responder(400, _erro_evolution(400, [str(exc)]))

    # -- simulator routes -----------------------------------------------------------------------

    def pagina(self, _: re.Match[str]) -> None:
        aviso = self._consulta["aviso"][0] if self._consulta.get("aviso") else None
        html = renderizar_pagina(
            self.sim.listar_instancias(), self.sim.mensagens(), self.sim.falhas(), aviso=aviso
        )
        self._responder(200, html, tipo="text/html; charset=utf-8")

    def sim_mensagens(self, _: re.Match[str]) -> None:
        filtros = {
            campo: self._consulta[chave][0] if self._consulta.get(chave) else None
            for campo, chave in (("instancia", "instance"), ("numero", "number"))
        }
        direcao = self._consulta["direcao"][0] if self._consulta.get("direcao") else None
        if direcao is not None and direcao not in DIRECOES:
            self._responder(422, _erro_sim("filtro_invalido", "direcao deve ser saida ou entrada"))
            return
        self._responder(200, self.sim.mensagens(direcao=direcao, **filtros))

    def sim_limpar(self, _: re.Match[str]) -> None:
        self._responder(200, {"removidas": self.sim.limpar_mensagens()})

    def sim_contagem(self, _: re.Match[str]) -> None:
        self._responder(200, self.sim.contagem())

    def sim_ler_falhas(self, _: re.Match[str]) -> None:
        self._responder(200, self.sim.falhas())

    def sim_definir_falhas(self, _: re.Match[str]) -> None:
        try:
            self._responder(200, self.sim.definir_falhas(self._json()))
        except ErroFalhas as exc:
            self._responder(422, _erro_sim("falhas_invalidas", str(exc)))

    def sim_ler_config(self, _: re.Match[str]) -> None:
        self._responder(200, self.sim.config())

    def sim_definir_config(self, _: re.Match[str]) -> None:
        try:
            self._responder(200, self.sim.definir_config(self._json()))
        except ErroConfig as exc:
            self._responder(422, _erro_sim("config_invalida", str(exc)))

    def sim_responder(self, _: re.Match[str]) -> None:
        """The contact writes: ``{"instance", "number", "text", "formato"?, "id_resposta_a"?,
        "nome"?}`` → 201 with the ``messages.upsert`` record delivered to the webhook."""
        corpo = self._json()
        try:
            self._responder(201, self.sim.responder(corpo))
        except ErroResposta as exc:
            self._responder(
                422, _erro_sim("resposta_invalida", "Pedido de resposta inválido.", exc.campos)
            )
        except InstanciaInexistente as exc:
            self._responder(404, _instancia_inexistente(exc.nome))

    def sim_pagina_responder(self, _: re.Match[str]) -> None:
        """The page's "Responder como o contato" form: same as ``/__sim/responder``, then back
        to the page with a notice."""
        campos = self._formulario()
        try:
            self.sim.responder({c: v for c, v in campos.items() if c != "conversa"})
            aviso = "Resposta do contato entregue ao webhook da instância."
        except ErroResposta as exc:
            aviso = "Resposta não enviada: " + " ".join(exc.campos.values())
        except InstanciaInexistente as exc:
            aviso = f"Resposta não enviada: a instância {exc.nome} não existe."
        conversa = campos.get("conversa", "")
        ancora = f"#{conversa}" if re.fullmatch(r"conversa-[0-9a-f]{1,64}", conversa) else ""
        self._redirecionar(f"/?aviso={quote(aviso)}{ancora}")

    def sim_instancias(self, _: re.Match[str]) -> None:
        self._responder(200, self.sim.listar_instancias())

    def _acao_da_pagina(
        self, m: re.Match[str], acao: Callable[[str], bool], *, status_recusa: int
    ) -> None:
        nome = unquote(m["inst"])
        if not self.sim.existe(nome):
            if self._quer_html():
                self._redirecionar(f"/?aviso={quote(f'A instância {nome} não existe.')}")
            else:
                self._responder(404, _instancia_inexistente(nome))
            return
        ok = acao(nome)
        if self._quer_html():
            self._redirecionar("/")
        else:
            status = 200 if ok else status_recusa
            self._responder(status, {"ok": ok, "state": self.sim.estado(nome)})

    def sim_escanear(self, m: re.Match[str]) -> None:
        self._acao_da_pagina(m, self.sim.escanear, status_recusa=409)

    def sim_desconectar(self, m: re.Match[str]) -> None:
        self._acao_da_pagina(m, self.sim.logout, status_recusa=200)  # already out: fine

    def sim_resetar(self, _: re.Match[str]) -> None:
        self.sim.resetar()
        self._responder(200, {"ok": True})


_INST = r"(?P<inst>[^/]+)"
_ROTAS: list[tuple[str, re.Pattern[str], _Rota]] = [
    (metodo, re.compile(padrao), funcao)
    for metodo, padrao, funcao in [
        ("POST", r"/instance/create", _Manipulador.criar_instancia),
        ("GET", rf"/instance/connectionState/{_INST}", _Manipulador.estado_conexao),
        ("GET", rf"/instance/connect/{_INST}", _Manipulador.conectar),
        ("POST", rf"/instance/restart/{_INST}", _Manipulador.reiniciar),
        ("PUT", rf"/instance/restart/{_INST}", _Manipulador.reiniciar),
        ("DELETE", rf"/instance/logout/{_INST}", _Manipulador.logout),
        ("POST", rf"/webhook/set/{_INST}", _Manipulador.definir_webhook),
        ("GET", rf"/webhook/find/{_INST}", _Manipulador.ler_webhook),
        ("POST", rf"/message/sendText/{_INST}", _Manipulador.enviar_texto),
        ("POST", rf"/chat/findMessages/{_INST}", _Manipulador.buscar_mensagens),
        ("GET", r"/", _Manipulador.pagina),
        ("GET", r"/__sim/mensagens", _Manipulador.sim_mensagens),
        ("DELETE", r"/__sim/mensagens", _Manipulador.sim_limpar),
        ("GET", r"/__sim/contagem", _Manipulador.sim_contagem),
        ("GET", r"/__sim/falhas", _Manipulador.sim_ler_falhas),
        ("POST", r"/__sim/falhas", _Manipulador.sim_definir_falhas),
        ("GET", r"/__sim/config", _Manipulador.sim_ler_config),
        ("POST", r"/__sim/config", _Manipulador.sim_definir_config),
        ("POST", r"/__sim/responder", _Manipulador.sim_responder),
        ("POST", r"/__sim/pagina/responder", _Manipulador.sim_pagina_responder),
        ("GET", r"/__sim/instancias", _Manipulador.sim_instancias),
        ("POST", rf"/__sim/instancias/{_INST}/escanear", _Manipulador.sim_escanear),
        ("POST", rf"/__sim/instancias/{_INST}/desconectar", _Manipulador.sim_desconectar),
        ("POST", r"/__sim/resetar", _Manipulador.sim_resetar),
    ]
]


class ServidorSimulador(ThreadingHTTPServer):
    """The HTTP server bound to one ``Simulador``. ``porta=0`` picks a free port."""

    request_queue_size = 1024  # listen backlog: dispatchers open many connections at once

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, simulador: Simulador, *, host: str = SIMULADOR_HOST, porta: int = 0) -> None:
        super().__init__((host, porta), _Manipulador)
        self.simulador = simulador
        self.porta = int(self.server_address[1])
        self.url = f"http://{host}:{self.porta}"
        if not simulador.url_publica:
            simulador.url_publica = self.url
        self._thread: threading.Thread | None = None

    def iniciar_em_thread(self) -> Self:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def parar(self) -> None:
        self.simulador.parar()
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.parar()


def iniciar_em_thread(
    *,
    porta: int = 0,
    host: str = SIMULADOR_HOST,
    api_key: str = SIMULADOR_API_KEY,
    auto_conectar_s: float | None = None,
    leitura_s: float | None = None,
    criar_sob_demanda: bool = False,
    instancias: Iterable[str] = (),
) -> ServidorSimulador:
    """An in-process simulator for tests: ``with iniciar_em_thread() as sim: sim.url ...``.

    ``auto_conectar_s`` and ``leitura_s`` default to None here (only an explicit "scan"
    connects, nobody reads), so tests decide when pairing and reading happen. ``instancias``
    are created already paired; ``criar_sob_demanda`` serves any name, as before instances had
    to be created."""
    simulador = Simulador(
        api_key=api_key,
        auto_conectar_s=auto_conectar_s,
        leitura_s=leitura_s,
        criar_sob_demanda=criar_sob_demanda,
        instancias=instancias,
    )
    return ServidorSimulador(simulador, host=host, porta=porta).iniciar_em_thread()
