"""Browser sessions: the cookie is set HttpOnly by an HTTP response and its token is never in
a body a page script could read; state-changing calls with the cookie need a same-origin
``Origin``/``Referer`` (CSRF), bearer calls do not; logout revokes on the server."""

from __future__ import annotations

import pytest

from tests.factories import SENHA, criar_empresa, login
from whatsapp_app.config import configuracoes

ORIGEM_APP = "http://localhost:3000"
ORIGEM_ALHEIA = "http://evil.example"


def _entrar(cliente, email: str, **cabecalhos: str):  # type: ignore[no-untyped-def]
    return cliente.post(
        "/api/auth/sessao",
        json={"email": email, "senha": SENHA},
        headers={"Origin": ORIGEM_APP, **cabecalhos},
    )


def test_login_do_navegador_grava_cookie_httponly_sem_token_no_corpo(cliente) -> None:
    empresa = criar_empresa()
    resposta = _entrar(cliente, empresa.usuarios["vendedor"])
    assert resposta.status_code == 200, resposta.text
    assert resposta.json() == {"ok": True, "perfil": "vendedor"}
    cookie = resposta.headers["set-cookie"]
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 32 and token not in resposta.text
    atributos = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= atributos
    assert "secure" not in atributos  # plain http here
    assert cliente.get("/api/auth/me").json()["email"] == empresa.usuarios["vendedor"]


@pytest.mark.parametrize(
    ("modo", "cabecalhos", "seguro"),
    [
        ("auto", {"X-Forwarded-Proto": "https"}, True),
        ("auto", {}, False),
        ("sim", {}, True),
        ("nao", {"X-Forwarded-Proto": "https"}, False),
    ],
)
def test_cookie_secure_atras_de_https(cliente, monkeypatch, modo, cabecalhos, seguro) -> None:
    monkeypatch.setenv("SESSAO_COOKIE_SEGURO", modo)
    configuracoes.cache_clear()
    empresa = criar_empresa()
    resposta = _entrar(cliente, empresa.usuarios["admin"], **cabecalhos)
    atributos = {a.strip().lower() for a in resposta.headers["set-cookie"].split(";")}
    assert ("secure" in atributos) is seguro


def test_login_do_navegador_de_outra_origem_e_recusado(cliente) -> None:
    empresa = criar_empresa()
    for cabecalhos in ({"Origin": ORIGEM_ALHEIA}, {"Origin": "null"}):
        resposta = cliente.post(
            "/api/auth/sessao",
            json={"email": empresa.usuarios["admin"], "senha": SENHA},
            headers=cabecalhos,
        )
        assert resposta.status_code == 403, resposta.text
        assert resposta.json()["erro"]["codigo"] == "origem_nao_permitida"
        assert "set-cookie" not in resposta.headers


def test_chamada_com_cookie_precisa_de_mesma_origem(cliente) -> None:
    empresa = criar_empresa()
    assert _entrar(cliente, empresa.usuarios["admin"]).status_code == 200
    novo = {"nome": "Lead", "telefone": "+5511987650000", "id_estagio": empresa.estagios[0]}
    for cabecalhos in ({"Origin": ORIGEM_ALHEIA}, {"Referer": f"{ORIGEM_ALHEIA}/x"}, {}):
        recusada = cliente.post("/api/leads", json=novo, headers=cabecalhos)
        assert recusada.status_code == 403, (cabecalhos, recusada.text)
    assert cliente.get("/api/leads").json()["total"] == 0, "nothing was created"
    # Reading is not a state change: a same-site GET with the cookie works.
    assert cliente.get("/api/auth/me").status_code == 200
    for cabecalhos in ({"Origin": ORIGEM_APP}, {"Referer": f"{ORIGEM_APP}/leads"}):
        aceita = cliente.post("/api/leads", json=novo, headers=cabecalhos)
        assert aceita.status_code == 201, aceita.text
        novo["telefone"] = "+5511987650001"


def test_chamada_com_bearer_nao_depende_da_origem(cliente) -> None:
    empresa = criar_empresa()
    bearer = login(cliente, empresa.usuarios["admin"])
    cliente.cookies.clear()
    novo = {"nome": "Lead", "telefone": "+5511987650000", "id_estagio": empresa.estagios[0]}
    resposta = cliente.post("/api/leads", json=novo, headers={**bearer, "Origin": ORIGEM_ALHEIA})
    assert resposta.status_code == 201, resposta.text


def test_logout_revoga_no_servidor_e_limpa_o_cookie(cliente) -> None:
    empresa = criar_empresa()
    entrada = _entrar(cliente, empresa.usuarios["gestor"])
    token = entrada.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    saida = cliente.post("/api/auth/logout", headers={"Origin": ORIGEM_APP})
    assert saida.status_code == 200
    assert (
        'wa_sessao=""' in saida.headers["set-cookie"] or "Max-Age=0" in saida.headers["set-cookie"]
    )
    cliente.cookies.clear()
    depois = cliente.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert depois.status_code == 401
