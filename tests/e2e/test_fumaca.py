"""Smoke test in a real browser: log in and reach the app shell, on both deployments."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Page, WebSocket, expect

from tests.e2e.conftest import AppEmExecucao

pytestmark = pytest.mark.e2e


def _entrar_e_ver_o_app(pagina: Page, app: AppEmExecucao) -> None:
    pagina.goto(f"{app.url}/login")
    pagina.get_by_label("E-mail").fill(app.email)
    pagina.get_by_label("Senha").fill(app.senha)
    pagina.get_by_role("button", name="Entrar").click()
    navegacao = pagina.get_by_role("navigation")
    expect(navegacao).to_contain_text("Leads")
    expect(navegacao).to_contain_text("WhatsApp")


def _app_servido_em_uma_porta(app: AppEmExecucao, pagina: Page) -> None:
    """The harness itself: one port serves the backend, the built frontend and its websocket."""
    with urllib.request.urlopen(f"{app.url}/ping", timeout=5) as r:
        assert r.read() == b'"pong"'
    recebidos: list[object] = []

    def _ao_abrir(ws: WebSocket) -> None:
        if "/_event" in ws.url:
            ws.on("framereceived", lambda quadro: recebidos.append(quadro))

    pagina.on("websocket", _ao_abrir)  # before goto: the first frame may come at once
    resposta = pagina.goto(f"{app.url}/login")
    assert resposta is not None and resposta.ok
    expect(pagina).to_have_title("Entrar")
    # The page hydrates: the backend answers over the websocket.
    limite = time.monotonic() + 15
    while not recebidos and time.monotonic() < limite:
        pagina.wait_for_timeout(100)
    assert recebidos, "nenhuma mensagem do backend pelo websocket /_event"
    expect(pagina.get_by_text("Entrar").first).to_be_visible()


def _token_nunca_exposto(pagina: Page, app: AppEmExecucao) -> None:
    """The session token reaches the browser only as an HttpOnly cookie: not in
    ``document.cookie``, not in a websocket frame (either way), not in client storage; and
    logging out revokes it on the server."""
    quadros: list[str] = []

    def _ao_abrir(ws: WebSocket) -> None:
        ws.on("framesent", lambda q: quadros.append(str(q)))
        ws.on("framereceived", lambda q: quadros.append(str(q)))

    pagina.on("websocket", _ao_abrir)
    _entrar_e_ver_o_app(pagina, app)
    pagina.goto(f"{app.url}/whatsapp")
    expect(pagina.get_by_role("navigation")).to_contain_text("WhatsApp")
    [cookie] = [c for c in pagina.context.cookies() if c["name"] == "wa_sessao"]
    token = cookie["value"]
    assert len(token) >= 32 and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert "wa_sessao" not in pagina.evaluate("document.cookie")
    armazenado = pagina.evaluate(
        "JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
    )
    assert token not in armazenado
    assert quadros, "the websocket carried frames"
    assert not [q for q in quadros if token in q], "token in a websocket frame"
    assert not [q for q in quadros if app.senha in q], "password in a websocket frame"

    pagina.get_by_role("button", name=re.compile("^Menu do usuário")).first.click()
    pagina.get_by_role("menuitem", name="Sair").click()
    expect(pagina).to_have_url(re.compile(re.escape(f"{app.url}/login") + "/?$"))
    pedido = urllib.request.Request(
        f"{app.url}/api/auth/me", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        urllib.request.urlopen(pedido, timeout=5)
        revogado = False
    except urllib.error.HTTPError as erro:
        revogado = erro.code == 401
    assert revogado, "logout revokes the session on the server"


# Tests of one mode sit together: switching modes restarts the app.
def test_app_servido_em_uma_porta(app_sqlite: AppEmExecucao, pagina: Page) -> None:
    _app_servido_em_uma_porta(app_sqlite, pagina)


def test_login_mostra_o_app(app_sqlite: AppEmExecucao, pagina: Page) -> None:
    _entrar_e_ver_o_app(pagina, app_sqlite)


def test_token_da_sessao_nunca_exposto(app_sqlite: AppEmExecucao, pagina: Page) -> None:
    _token_nunca_exposto(pagina, app_sqlite)


def test_app_servido_em_uma_porta_escalado(app_escalado: AppEmExecucao, pagina: Page) -> None:
    """PostgreSQL and Reflex state in Redis (scale-out mode)."""
    _app_servido_em_uma_porta(app_escalado, pagina)


def test_login_mostra_o_app_escalado(app_escalado: AppEmExecucao, pagina: Page) -> None:
    _entrar_e_ver_o_app(pagina, app_escalado)
