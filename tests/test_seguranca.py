"""The security layers every request crosses: CORS, control characters, body limit, headers.

The NUL test enumerates the live OpenAPI schema (like test_isolamento.py), so a new route is
covered the day it is added. The body limit is proven at the ASGI level (how many chunks were
read) and against the production server (granian) with a chunked upload that never ends.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.assincrono import rodar
from tests.bancos import RAIZ
from tests.factories import SENHA, criar_empresa, login
from whatsapp_app import auth
from whatsapp_app.api import criar_api
from whatsapp_app.api.seguranca import (
    CSP_API,
    CSP_APP,
    CSP_DOCS,
    MENSAGEM_CONTROLE,
    EntradaSegura,
    campos_invalidos_json,
)
from whatsapp_app.config import Configuracoes, configuracoes

ESTRANHA = "https://site-malicioso.exemplo"
PROPRIA = "http://127.0.0.1:3000"  # the default app origin in tests (PORT=3000)


def _como_servido() -> Starlette:
    """The ASGI app as Reflex composes it in ``App.__call__``: Reflex's own backend (a page
    here) mounted inside our FastAPI, Reflex's CORS middleware added to both, and a top-level
    Starlette with CORS again. ``App._add_cors`` is Reflex's own function, reading rxconfig."""
    from reflex.app import App

    async def pagina(_request: Any) -> HTMLResponse:
        return HTMLResponse("<!doctype html><div id='root'></div>")

    backend_reflex = Starlette(routes=[Route("/", pagina), Route("/leads", pagina)])
    App._add_cors(backend_reflex)
    api = criar_api()
    App._add_cors(api)
    api.mount("", backend_reflex)
    topo = Starlette()
    topo.mount("", api)
    App._add_cors(topo)
    return topo


# --- CORS (item 3) ------------------------------------------------------------------------------


def _cors(resposta: Any) -> dict[str, str]:
    return {k: v for k, v in resposta.headers.items() if k.startswith("access-control-allow")}


@pytest.mark.parametrize("montagem", ["api", "servido"])
def test_origem_estranha_nao_recebe_cors(cliente, montagem) -> None:
    empresa = criar_empresa()
    token = login(cliente, empresa.usuarios["admin"])["Authorization"].removeprefix("Bearer ")
    app = criar_api() if montagem == "api" else _como_servido()
    with TestClient(app, raise_server_exceptions=False) as c:
        c.cookies.set(auth.NOME_COOKIE, token)
        lido = c.get("/api/auth/me", headers={"Origin": ESTRANHA})
        assert lido.status_code == 200  # CORS is enforced by the browser: no grant, no read
        assert "access-control-allow-origin" not in lido.headers, _cors(lido)
        previa = c.options(
            "/api/leads",
            headers={
                "Origin": ESTRANHA,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert "access-control-allow-origin" not in previa.headers, _cors(previa)
        assert previa.status_code == 400

        # The app's own origin keeps working with credentials (explicit, never "*").
        proprio = c.get("/api/auth/me", headers={"Origin": PROPRIA})
        assert proprio.headers["access-control-allow-origin"] == PROPRIA
        assert proprio.headers["access-control-allow-credentials"] == "true"
        previa_propria = c.options(
            "/api/leads",
            headers={"Origin": PROPRIA, "Access-Control-Request-Method": "POST"},
        )
        assert previa_propria.status_code == 200
        assert previa_propria.headers["access-control-allow-origin"] == PROPRIA


def test_rxconfig_usa_as_mesmas_origens() -> None:
    from reflex_base.config import get_config

    origens = list(get_config().cors_allowed_origins)
    assert origens == configuracoes().origens_cors()
    assert "*" not in origens
    assert PROPRIA in origens and "http://localhost:3000" in origens


def test_cors_origens_configuravel(banco, monkeypatch) -> None:
    monkeypatch.setenv("CORS_ORIGENS", "https://crm.exemplo.com.br, https://Admin.Exemplo.com:443/")
    configuracoes.cache_clear()
    assert configuracoes().origens_cors() == [
        "https://crm.exemplo.com.br",
        "https://admin.exemplo.com",
    ]
    with TestClient(criar_api()) as c:
        sim = c.get("/api/health", headers={"Origin": "https://crm.exemplo.com.br"})
        nao = c.get("/api/health", headers={"Origin": PROPRIA})
    assert sim.headers["access-control-allow-origin"] == "https://crm.exemplo.com.br"
    assert "access-control-allow-origin" not in nao.headers


def test_origens_padrao_e_asterisco_recusado() -> None:
    assert Configuracoes(port=8080).origens_cors() == [
        "http://localhost:8080",
        "http://127.0.0.1:8080",
    ]
    assert Configuracoes(app_url_publica="https://crm.exemplo.com/app/").origens_cors()[0] == (
        "https://crm.exemplo.com"
    )
    for ruim in ("*", "https://*.exemplo.com", "crm.exemplo.com"):
        with pytest.raises(ValueError):
            Configuracoes(cors_origens=ruim)


# --- control characters (item 5) ----------------------------------------------------------------


def _rotas() -> list[tuple[str, str, list[str]]]:
    """(method, path, declared query parameters) for every route in the OpenAPI schema."""
    rotas = []
    for caminho, metodos in criar_api().openapi()["paths"].items():
        for metodo, operacao in metodos.items():
            consulta = [p["name"] for p in operacao.get("parameters", []) if p["in"] == "query"]
            rotas.append((metodo, caminho, consulta))
    return sorted(rotas)


def _parametros_caminho(caminho: str) -> list[str]:
    return [parte[1:-1] for parte in caminho.split("/") if parte.startswith("{")]


def _preencher(caminho: str, ruim: str | None = None) -> str:
    for nome in _parametros_caminho(caminho):
        valor = quote("a\x00b", safe="") if nome == ruim else "x" * 32
        caminho = caminho.replace("{" + nome + "}", valor)
    return caminho


def _assert_422(resposta: Any, campos: set[str], contexto: object) -> None:
    assert resposta.status_code == 422, (contexto, resposta.status_code, resposta.text)
    erro = resposta.json()["erro"]
    assert erro["codigo"] == "validacao", contexto
    assert set(erro["campos"]) == campos, (contexto, erro)
    assert set(erro["campos"].values()) == {MENSAGEM_CONTROLE}


def test_rotas_enumeradas_incluem_as_publicas() -> None:
    rotas = {(m, p) for m, p, _q in _rotas()}
    assert len(rotas) >= 30
    assert {
        ("post", "/api/auth/login"),
        ("post", "/api/webhooks/evolution/{id_instancia}"),
        ("post", "/api/webhooks/meta"),
        ("get", "/api/webhooks/meta"),
    } <= rotas


@pytest.mark.parametrize("autenticado", [False, True], ids=["anonimo", "admin"])
def test_nul_em_toda_rota_da_openapi_e_422(cliente, autenticado) -> None:
    cabecalho = login(cliente, criar_empresa().usuarios["admin"]) if autenticado else {}
    cliente.cookies.clear()
    corpo_ruim = {"nome": "a\x00b", "etapas": [{"mensagem": "oi\x01"}], "ok": "tab\tlf\ncr\r"}
    for metodo, caminho, consulta in _rotas():
        faz = lambda url, **kw: cliente.request(metodo.upper(), url, headers=cabecalho, **kw)  # noqa: B023
        # Path: each parameter in turn carries the NUL (percent-encoded, as a client sends it).
        for nome in _parametros_caminho(caminho):
            _assert_422(faz(_preencher(caminho, nome)), {nome}, (metodo, caminho, nome))
        # Query: a declared parameter when the route has one, an undeclared one otherwise.
        parametro = consulta[0] if consulta else "x"
        url = f"{_preencher(caminho)}?{quote(parametro)}={quote('a' + chr(0))}"
        _assert_422(faz(url), {parametro}, (metodo, caminho, "consulta"))
        # JSON body, escaped (\u0000) and nested; tab/LF/CR in a string are fine.
        if metodo != "get":
            resposta = faz(_preencher(caminho), json=corpo_ruim)
            _assert_422(resposta, {"nome", "etapas.0.mensagem"}, (metodo, caminho, "corpo"))


def test_amostra_de_rotas_com_nul(cliente) -> None:
    empresa = criar_empresa()
    cabecalho = login(cliente, empresa.usuarios["admin"])
    novo = {"nome": "Ma\x00ria", "telefone": "+5511987650000", "id_estagio": empresa.estagios[0]}
    _assert_422(cliente.post("/api/leads", json=novo, headers=cabecalho), {"nome"}, "lead")
    assert cliente.get("/api/leads", headers=cabecalho).status_code == 200
    with_nul = cliente.get("/api/leads", params={"q": "a\x00"}, headers=cabecalho)
    _assert_422(with_nul, {"q"}, "q")
    _assert_422(cliente.get("/api/leads/a%00b", headers=cabecalho), {"id_lead"}, "id_lead")
    # Unauthenticated routes: login and the provider webhooks.
    login_nul = cliente.post("/api/auth/login", json={"email": "a\x00@x.com", "senha": SENHA})
    _assert_422(login_nul, {"email"}, "login")
    bruto = b'{"event": "connection.update", "data": {"state": "open\\u0000"}}'
    evolution = cliente.post(
        "/api/webhooks/evolution/" + "x" * 32,
        content=bruto,
        headers={"Content-Type": "application/json"},
    )
    _assert_422(evolution, {"data.state"}, "evolution")
    # A raw NUL byte (not JSON any more) and other C0 characters.
    cru = cliente.post(
        "/api/webhooks/meta", content=b'{"a": "x\x00"}', headers={"Content-Type": "text/plain"}
    )
    _assert_422(cru, {"corpo"}, "meta cru")
    for caractere in ("\x01", "\x08", "\x0b", "\x1b", "\x1f"):
        resposta = cliente.post("/api/auth/login", json={"email": "a@x.com", "senha": caractere})
        _assert_422(resposta, {"senha"}, repr(caractere))
    # Tab, LF and CR are text: the login runs and answers for the credentials.
    espacos = cliente.post("/api/auth/login", json={"email": "a@x.com", "senha": "a\tb\nc\rd"})
    assert espacos.status_code == 401
    # ... but never in a path or query value.
    _assert_422(cliente.get("/api/leads", params={"q": "a\tb"}, headers=cabecalho), {"q"}, "tab")


def test_chaves_e_substitutos_e_aninhamento() -> None:
    assert campos_invalidos_json({"a\x00": 1, "b": {"c\x07": "x"}}) == {
        "corpo": MENSAGEM_CONTROLE,
        "b": MENSAGEM_CONTROLE,
    }
    assert campos_invalidos_json(json.loads('{"nome": "\\ud800"}')) == {
        "nome": "Texto com caractere inválido."
    }
    assert campos_invalidos_json(["ok", ["\x00"]]) == {"1.0": MENSAGEM_CONTROLE}
    profundo: Any = "\x00"
    for _ in range(5000):  # deeper than Python's recursion limit
        profundo = [profundo]
    assert len(campos_invalidos_json(profundo)) == 1


# --- body limit (item 5) -------------------------------------------------------------------------


def _scope(caminho: str, cabecalhos: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": caminho,
        "raw_path": caminho.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in cabecalhos.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


def _chamar(app: Any, scope: dict[str, Any], partes: Iterator[bytes]) -> tuple[list, int]:
    """Drive an ASGI app with a body that arrives chunk by chunk; returns (sent, chunks read)."""
    enviadas: list[dict[str, Any]] = []
    lidas = 0

    async def receive() -> dict[str, Any]:
        nonlocal lidas
        await asyncio.sleep(0)  # a real server suspends here; lets wait_for cancel
        parte = next(partes, None)
        if parte is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        lidas += 1
        return {"type": "http.request", "body": parte, "more_body": True}

    async def send(mensagem: dict[str, Any]) -> None:
        enviadas.append(mensagem)

    rodar(asyncio.wait_for(app(scope, receive, send), timeout=30))
    return enviadas, lidas


def _status_e_corpo(enviadas: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    corpo = b"".join(m.get("body", b"") for m in enviadas if m["type"] == "http.response.body")
    return enviadas[0]["status"], json.loads(corpo)


@pytest.fixture
def limite_64k(monkeypatch) -> Iterator[int]:
    monkeypatch.setenv("API_MAX_CORPO_BYTES", "65536")
    configuracoes.cache_clear()
    yield 65536
    configuracoes.cache_clear()


def test_corpo_sem_content_length_e_cortado_enquanto_le(limite_64k) -> None:
    # A chunked upload of 4 MB (64 x the limit) with no Content-Length: the answer comes right
    # after the chunk that passes the limit, the rest is never read.
    quatro_mb = itertools.islice(itertools.repeat(b"x" * 4096), 1024)
    scope = _scope("/api/webhooks/meta", {"content-type": "application/json"})
    enviadas, lidas = _chamar(criar_api(), scope, quatro_mb)
    status, corpo = _status_e_corpo(enviadas)
    assert status == 413
    assert corpo["erro"]["codigo"] == "corpo_grande_demais"
    assert "65536" in corpo["erro"]["mensagem"]
    assert lidas == limite_64k // 4096 + 1


def test_content_length_acima_do_limite_nem_e_lido(limite_64k) -> None:
    scope = _scope("/api/auth/login", {"content-length": str(limite_64k + 1)})
    enviadas, lidas = _chamar(criar_api(), scope, iter([]))
    assert _status_e_corpo(enviadas)[0] == 413
    assert lidas == 0


def test_corpo_repassado_byte_a_byte() -> None:
    recebido: list[bytes] = []

    async def eco(scope: Any, receive: Any, send: Any) -> None:
        mensagem = await receive()
        recebido.append(mensagem["body"])
        assert mensagem["more_body"] is False
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    partes = [b'{ "a" :\n  "ol', "á".encode()[:1], "á".encode()[1:] + b'\\u00e9",\t"b": [1]}  ']

    async def chamar() -> None:
        fila = iter(partes)

        async def receive() -> dict[str, Any]:
            parte = next(fila)
            return {"type": "http.request", "body": parte, "more_body": parte is not partes[-1]}

        async def send(_m: Any) -> None:
            return None

        await EntradaSegura(eco, lambda: [])(_scope("/api/webhooks/meta", {}), receive, send)

    rodar(chamar())
    assert recebido == [b"".join(partes)]


def _porta_livre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def servidor_granian(banco) -> Iterator[int]:
    """The REST API served by granian, the server ``reflex run --env prod`` uses."""
    porta = _porta_livre()
    env = {**os.environ, "DATABASE_URL": banco.url, "API_MAX_CORPO_BYTES": "65536"}
    processo = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--port",
         str(porta), "--no-ws", "--log-level", "warning", "whatsapp_app.api:criar_api"],
        cwd=RAIZ, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        limite = time.monotonic() + 60
        while time.monotonic() < limite:
            try:
                socket.create_connection(("127.0.0.1", porta), timeout=1).close()
                break
            except OSError:
                assert processo.poll() is None, "granian saiu antes de atender"
                time.sleep(0.2)
        else:
            pytest.fail("granian não abriu a porta")
        yield porta
    finally:
        processo.terminate()
        processo.wait(timeout=30)


def test_upload_chunked_sem_fim_recebe_413_no_servidor_real(servidor_granian) -> None:
    bloco = b" " * 16384
    with socket.create_connection(("127.0.0.1", servidor_granian), timeout=10) as s:
        s.sendall(
            b"POST /api/webhooks/meta HTTP/1.1\r\nHost: teste\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        s.settimeout(0.2)
        resposta = b""
        enviados = 0
        while enviados < 400:  # up to 6.5 MB; the terminating chunk is never sent
            try:
                s.sendall(b"%x\r\n%s\r\n" % (len(bloco), bloco))
            except OSError:
                break  # the server closed after answering
            enviados += 1
            try:
                resposta += s.recv(65536)
            except TimeoutError:
                continue
            if b"\r\n\r\n" in resposta:
                break
        s.settimeout(5)
        while b"}}" not in resposta:
            parte = s.recv(65536)
            if not parte:
                break
            resposta += parte
    cabeca, _, corpo = resposta.partition(b"\r\n\r\n")
    assert cabeca.startswith(b"HTTP/1.1 413"), resposta[:200]
    assert json.loads(corpo)["erro"]["codigo"] == "corpo_grande_demais"
    assert enviados * len(bloco) < 4 * 65536, "answered while the upload was still going"


# --- security headers (item 7) ----------------------------------------------------------------


def _assert_cabecalhos(resposta: Any, csp: str, contexto: object) -> None:
    h = resposta.headers
    assert h.get("content-security-policy") == csp, (contexto, dict(h))
    assert h.get("x-frame-options") == "DENY", contexto
    assert h.get("x-content-type-options") == "nosniff", contexto
    assert h.get("referrer-policy") == "strict-origin-when-cross-origin", contexto
    assert "frame-ancestors 'none'" in csp


def test_cabecalhos_em_toda_resposta_da_api(cliente, monkeypatch, limite_64k) -> None:
    empresa = criar_empresa()
    cabecalho = login(cliente, empresa.usuarios["admin"])
    respostas = [
        (200, cliente.get("/api/auth/me", headers=cabecalho)),
        (401, cliente.get("/api/empresa", headers={"Authorization": "Bearer x"})),
        (404, cliente.get("/api/nao-existe")),
        (413, cliente.post("/api/webhooks/meta", content=b"x" * (limite_64k + 1))),
        (422, cliente.post("/api/auth/login", json={"email": "a"})),  # pydantic
        (422, cliente.get("/api/leads?q=%00", headers=cabecalho)),  # the input layer
    ]

    def quebrar(**_kw: Any) -> None:
        raise RuntimeError("falha inesperada de teste")

    monkeypatch.setattr(auth, "autenticar", quebrar)
    # Rendered by Starlette's ServerErrorMiddleware, outside every add_middleware layer.
    erro = cliente.post("/api/auth/login", json={"email": "a@x.com", "senha": "x"})
    assert erro.json()["erro"]["codigo"] == "erro_interno"
    respostas.append((500, erro))
    for status, resposta in respostas:
        assert resposta.status_code == status, (status, resposta.text)
        _assert_cabecalhos(resposta, CSP_API, status)
    _assert_cabecalhos(cliente.get("/api/docs"), CSP_DOCS, "docs")


def test_cabecalhos_nas_paginas_do_reflex(banco) -> None:
    with TestClient(_como_servido(), raise_server_exceptions=False) as c:
        for caminho in ("/", "/leads"):
            pagina = c.get(caminho)
            assert pagina.status_code == 200
            _assert_cabecalhos(pagina, CSP_APP, caminho)
        _assert_cabecalhos(c.get("/api/nao-existe"), CSP_API, "api servida")
    # What the Reflex frontend needs: its websocket, inline bootstrap, eval (rx.call_script),
    # injected styles and data: images (QR codes).
    for trecho in (
        "connect-src 'self' ws: wss:",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
    ):
        assert trecho in CSP_APP
