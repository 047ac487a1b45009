"""Login, sessions, rate limiting and profiles through the real REST API."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from tests.factories import SENHA, criar_empresa, login
from whatsapp_app.auth import NOME_COOKIE
from whatsapp_app.tempo import agora


def test_login_devolve_token_e_cookie_que_autenticam(cliente):
    empresa = criar_empresa()
    resposta = cliente.post(
        "/api/auth/login", json={"email": empresa.usuarios["admin"], "senha": SENHA}
    )
    assert resposta.status_code == 200
    token = resposta.json()["token"]
    assert len(token) >= 32
    assert resposta.cookies.get(NOME_COOKIE) == token
    assert "httponly" in resposta.headers["set-cookie"].lower()

    por_bearer = cliente.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert por_bearer.status_code == 200
    assert por_bearer.json()["id_empresa"] == empresa.id
    # The TestClient keeps the cookie: the browser path works without the header.
    assert cliente.get("/api/auth/me").json()["perfil"] == "admin"


def test_email_com_maiusculas_e_espacos_entra(cliente):
    empresa = criar_empresa()
    email = "  " + empresa.usuarios["vendedor"].upper() + " "
    resposta = cliente.post("/api/auth/login", json={"email": email, "senha": SENHA})
    assert resposta.status_code == 200


def test_credenciais_erradas_tem_mensagem_generica(cliente):
    empresa = criar_empresa()
    senha_errada = cliente.post(
        "/api/auth/login", json={"email": empresa.usuarios["admin"], "senha": "errada"}
    )
    desconhecido = cliente.post(
        "/api/auth/login", json={"email": "ninguem@teste.com.br", "senha": SENHA}
    )
    assert senha_errada.status_code == desconhecido.status_code == 401
    assert (
        senha_errada.json()
        == desconhecido.json()
        == {"erro": {"codigo": "credenciais_invalidas", "mensagem": "E-mail ou senha inválidos."}}
    )


def test_login_limitado_por_email(cliente, monkeypatch):
    monkeypatch.setenv("LOGIN_MAX_TENTATIVAS", "3")
    from whatsapp_app.config import configuracoes

    configuracoes.cache_clear()
    empresa = criar_empresa()
    email = empresa.usuarios["gestor"]
    for _ in range(3):
        assert (
            cliente.post("/api/auth/login", json={"email": email, "senha": "x"}).status_code == 401
        )
    bloqueado = cliente.post("/api/auth/login", json={"email": email, "senha": SENHA})
    assert bloqueado.status_code == 429
    assert bloqueado.json()["erro"]["codigo"] == "muitas_tentativas"
    # Another e-mail from the same IP is still allowed (the IP limit is higher).
    outro = cliente.post(
        "/api/auth/login", json={"email": empresa.usuarios["admin"], "senha": SENHA}
    )
    assert outro.status_code == 200
    # After the window the blocked e-mail may try again.
    with time_machine.travel(agora() + timedelta(minutes=16), tick=False):
        assert (
            cliente.post("/api/auth/login", json={"email": email, "senha": SENHA}).status_code
            == 200
        )


def test_login_limitado_por_ip(cliente, monkeypatch):
    monkeypatch.setenv("LOGIN_MAX_TENTATIVAS", "2")
    from whatsapp_app.config import configuracoes

    configuracoes.cache_clear()
    empresa = criar_empresa()
    for i in range(8):  # 2 × FATOR_LIMITE_IP failures, each on a different e-mail
        cliente.post("/api/auth/login", json={"email": f"x{i}@teste.com.br", "senha": "x"})
    resposta = cliente.post(
        "/api/auth/login", json={"email": empresa.usuarios["admin"], "senha": SENHA}
    )
    assert resposta.status_code == 429


def test_sessao_expira(cliente):
    empresa = criar_empresa()
    cabecalho = login(cliente, empresa.usuarios["admin"])
    cliente.cookies.clear()
    with time_machine.travel(agora() + timedelta(hours=11), tick=False):
        assert cliente.get("/api/auth/me", headers=cabecalho).status_code == 200
    with time_machine.travel(agora() + timedelta(hours=13), tick=False):
        expirada = cliente.get("/api/auth/me", headers=cabecalho)
    assert expirada.status_code == 401
    assert expirada.json()["erro"]["codigo"] == "nao_autenticado"


def test_logout_revoga_o_token(cliente):
    empresa = criar_empresa()
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    assert cliente.post("/api/auth/logout", headers=cabecalho).json() == {"ok": True}
    cliente.cookies.clear()
    assert cliente.get("/api/auth/me", headers=cabecalho).status_code == 401


def test_token_invalido_e_ausente_sao_401(cliente):
    assert cliente.get("/api/empresa").status_code == 401
    resposta = cliente.get("/api/empresa", headers={"Authorization": "Bearer inventado"})
    assert resposta.status_code == 401
    assert resposta.json()["erro"]["mensagem"]


def test_usuario_inativo_nao_entra(cliente):
    import sqlalchemy as sa

    from whatsapp_app import db
    from whatsapp_app.models import Usuario

    empresa = criar_empresa()
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    with db.sessao() as s:
        s.execute(
            sa.update(Usuario)
            .where(Usuario.email == empresa.usuarios["vendedor"])
            .values(ativo=False)
        )
    cliente.cookies.clear()
    assert cliente.get("/api/auth/me", headers=cabecalho).status_code == 401
    novo = cliente.post(
        "/api/auth/login", json={"email": empresa.usuarios["vendedor"], "senha": SENHA}
    )
    assert novo.status_code == 401
