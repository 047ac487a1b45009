"""Login, sessions, rate limiting and profiles through the real REST API."""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from sqlmodel import select

from tests.factories import SENHA, criar_empresa, login
from whatsapp_app import auth, db
from whatsapp_app.auth import NOME_COOKIE
from whatsapp_app.models import TentativaLogin
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import MuitasTentativas, NaoAutenticado


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


def _tentativas(email: str) -> list[TentativaLogin]:
    with db.sessao() as s:
        return list(s.exec(select(TentativaLogin).where(TentativaLogin.email == email)).all())


class _ContadorArgon2:
    """Wraps the one function that runs the Argon2 check, in this process."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.chamadas = 0
        self._trava = threading.Lock()
        original = auth._senha_confere

        def contar(senha_hash: str, senha: str) -> bool:
            with self._trava:
                self.chamadas += 1
            return original(senha_hash, senha)

        monkeypatch.setattr(auth, "_senha_confere", contar)


def _tentar(email: str, senha: str, ip: str, barreira: Any) -> str:
    """One login attempt once every sibling is ready; "401", "429" or "200"."""
    barreira.wait(timeout=120)
    try:
        auth.autenticar(email=email, senha=senha, ip=ip)
    except MuitasTentativas:
        return "429"
    except NaoAutenticado:
        return "401"
    return "200"


def test_30_senhas_erradas_concorrentes_em_threads_fazem_no_maximo_5_verificacoes(
    banco, monkeypatch
):
    empresa = criar_empresa()
    email = empresa.usuarios["gestor"]
    contador = _ContadorArgon2(monkeypatch)
    barreira = threading.Barrier(30)
    with ThreadPoolExecutor(max_workers=30) as pool:
        # Each from its own address: only the per-e-mail limit is in play.
        futuros = [
            pool.submit(_tentar, email, f"errada-{i}", f"10.0.0.{i}", barreira) for i in range(30)
        ]
        resultados = [f.result(timeout=180) for f in futuros]
    assert contador.chamadas == 5, resultados
    assert sorted(resultados) == ["401"] * 5 + ["429"] * 25
    assert len(_tentativas(email)) == 5
    # Locked for everyone now, the right password included.
    with pytest.raises(MuitasTentativas):
        auth.autenticar(email=email, senha=SENHA, ip="10.9.9.9")
    assert contador.chamadas == 5


def tentativas_em_processo(
    url: str, barreira: Any, email: str, por_processo: int
) -> dict[str, Any]:
    """One OS process: ``por_processo`` threads try a wrong password at the same moment as
    every sibling process; returns how many Argon2 checks ran here."""
    os.environ["DATABASE_URL"] = url
    from whatsapp_app import auth as auth_processo
    from whatsapp_app.config import configuracoes

    configuracoes.cache_clear()
    chamadas = 0
    trava = threading.Lock()
    original = auth_processo._senha_confere

    def contar(senha_hash: str, senha: str) -> bool:
        nonlocal chamadas
        with trava:
            chamadas += 1
        return original(senha_hash, senha)

    auth_processo._senha_confere = contar  # type: ignore[assignment]
    local = threading.Barrier(por_processo)

    def uma(i: int) -> str:
        return _tentar(email, f"errada-{os.getpid()}-{i}", f"10.1.{os.getpid() % 250}.{i}", local)

    barreira.wait(timeout=120)  # every process is up: now all threads everywhere go at once
    with ThreadPoolExecutor(max_workers=por_processo) as pool:
        resultados = list(pool.map(uma, range(por_processo)))
    return {"pid": os.getpid(), "verificacoes": chamadas, "resultados": resultados}


def test_30_senhas_erradas_em_6_processos_fazem_no_maximo_5_verificacoes(banco):
    empresa = criar_empresa()
    email = empresa.usuarios["vendedor"]
    contexto = multiprocessing.get_context("spawn")
    with contexto.Manager() as gerente:
        barreira = gerente.Barrier(6)
        with ProcessPoolExecutor(max_workers=6, mp_context=contexto) as pool:
            futuros = [
                pool.submit(tentativas_em_processo, banco.url, barreira, email, 5) for _ in range(6)
            ]
            resultados = [f.result(timeout=300) for f in futuros]
    assert len({r["pid"] for r in resultados}) == 6, "6 distinct OS processes"
    todos = [x for r in resultados for x in r["resultados"]]
    assert sum(r["verificacoes"] for r in resultados) == 5, resultados
    assert sorted(todos) == ["401"] * 5 + ["429"] * 25
    assert len(_tentativas(email)) == 5


def test_senha_certa_de_um_ip_movimentado_entra(cliente, monkeypatch):
    empresa = criar_empresa()
    ip = "203.0.113.7"
    monkeypatch.setattr("whatsapp_app.api.auth.ip_da_requisicao", lambda _r: ip)
    for i in range(20):  # 4 x LOGIN_MAX_TENTATIVAS failures, each on a different e-mail
        resposta = cliente.post("/api/auth/login", json={"email": f"x{i}@teste.com", "senha": "x"})
        assert resposta.status_code == 401
    assert len(_tentativas("x0@teste.com")) == 1
    certa = cliente.post(
        "/api/auth/login", json={"email": empresa.usuarios["admin"], "senha": SENHA}
    )
    assert certa.status_code == 200, certa.text
    # The IP limit still costs the spray something: from this address one more failure spends
    # the whole budget of the e-mail it hit (1 guess per account, not 5)...
    errada = cliente.post(
        "/api/auth/login", json={"email": empresa.usuarios["gestor"], "senha": "x"}
    )
    assert errada.status_code == 401
    assert len(_tentativas(empresa.usuarios["gestor"])) == 5
    monkeypatch.setattr("whatsapp_app.api.auth.ip_da_requisicao", lambda _r: "198.51.100.1")
    gestor = cliente.post(
        "/api/auth/login", json={"email": empresa.usuarios["gestor"], "senha": SENHA}
    )
    assert gestor.status_code == 429
    # ...while accounts it has not failed on are untouched, from any address.
    vendedor = cliente.post(
        "/api/auth/login", json={"email": empresa.usuarios["vendedor"], "senha": SENHA}
    )
    assert vendedor.status_code == 200
    # Per IP only failures count: the successful logins left no row for the address.
    with db.sessao() as s:
        por_ip = s.exec(
            select(sa.func.count()).select_from(TentativaLogin).where(TentativaLogin.ip == ip)
        ).one()
    assert por_ip == 21


def test_429_traz_retry_after_em_segundos(cliente, monkeypatch):
    monkeypatch.setenv("LOGIN_MAX_TENTATIVAS", "3")
    from whatsapp_app.config import configuracoes

    configuracoes.cache_clear()
    email = criar_empresa().usuarios["admin"]
    inicio = agora()
    with time_machine.travel(inicio, tick=False):
        for _ in range(3):
            cliente.post("/api/auth/login", json={"email": email, "senha": "x"})
        bloqueado = cliente.post("/api/auth/login", json={"email": email, "senha": SENHA})
    assert bloqueado.status_code == 429
    assert bloqueado.headers["retry-after"] == str(15 * 60)
    assert bloqueado.json() == {
        "erro": {"codigo": "muitas_tentativas", "mensagem": auth.MENSAGEM_BLOQUEIO}
    }
    with time_machine.travel(inicio + timedelta(minutes=10, seconds=30), tick=False):
        depois = cliente.post("/api/auth/login", json={"email": email, "senha": SENHA})
    assert depois.headers["retry-after"] == str(4 * 60 + 30)


def test_email_normalizado_conta_junto(cliente):
    empresa = criar_empresa()
    formas = ["  Admin@X.com ", "admin@x.com", "ADMIN@X.COM", "\tadmin@x.com", "admin@X.com  "]
    for forma in formas:
        resposta = cliente.post("/api/auth/login", json={"email": forma, "senha": "x"})
        assert resposta.status_code == 401
    assert {t.email for t in _tentativas("admin@x.com")} == {"admin@x.com"}
    assert len(_tentativas("admin@x.com")) == 5
    sexta = cliente.post("/api/auth/login", json={"email": " admin@x.COM", "senha": "x"})
    assert sexta.status_code == 429
    # A real account, typed with capitals and spaces, shares the counter with its plain form.
    real = empresa.usuarios["vendedor"]
    for _ in range(4):
        cliente.post("/api/auth/login", json={"email": f"  {real.upper()} ", "senha": "x"})
    assert login(cliente, real)  # the 5th check, and the right password: zeroes the counter
    assert _tentativas(real) == []


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
