"""The per-process token cache (auth.py): no database round trip for a session looked up less
than ``SESSAO_CACHE_S`` ago; what this process revokes is refused at once, what another
process (or the database) changes is refused within the TTL."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import timedelta

import sqlalchemy as sa
import time_machine
from sqlmodel import col

from tests.factories import comandos_sql, criar_empresa, login
from whatsapp_app import auth, db
from whatsapp_app.config import configuracoes
from whatsapp_app.models import SessaoUsuario, Usuario
from whatsapp_app.tempo import agora


def _consultas_de_sessao() -> AbstractContextManager[list[str]]:
    return comandos_sql(lambda sql: "sessao_usuario" in sql)


def _me(cliente, cabecalho) -> int:  # type: ignore[no-untyped-def]
    return int(cliente.get("/api/auth/me", headers=cabecalho).status_code)


def test_sessao_consultada_ha_pouco_nao_vai_ao_banco(cliente):
    empresa = criar_empresa()
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    with _consultas_de_sessao() as vistos:
        assert _me(cliente, cabecalho) == 200
        assert len(vistos) == 1  # first request: looked up
        assert _me(cliente, cabecalho) == 200
        assert cliente.get("/api/leads", headers=cabecalho).status_code == 200
    assert len(vistos) == 1  # then served from the cache


def test_logout_recusa_o_token_na_hora(cliente):
    empresa = criar_empresa()
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    assert _me(cliente, cabecalho) == 200  # now cached

    assert cliente.post("/api/auth/logout", headers=cabecalho).status_code == 200

    assert _me(cliente, cabecalho) == 401
    assert cliente.get("/api/leads", headers=cabecalho).status_code == 401


def test_desativar_usuario_neste_processo_recusa_na_hora(cliente):
    empresa = criar_empresa()
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    assert _me(cliente, cabecalho) == 200

    assert auth.desativar_usuario(
        id_empresa=empresa.id, id_usuario=empresa.ids_usuarios["vendedor"]
    )

    assert _me(cliente, cabecalho) == 401
    outra = criar_empresa("Outra", sufixo="b")
    assert not auth.desativar_usuario(id_empresa=outra.id, id_usuario=empresa.ids_usuarios["admin"])


def test_desativado_por_outro_processo_e_recusado_dentro_do_ttl(cliente):
    ttl = configuracoes().sessao_cache_s
    empresa = criar_empresa()
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    with time_machine.travel(agora(), tick=False) as viagem:
        assert _me(cliente, cabecalho) == 200  # cached at t0
        # Another process deactivates the user: this one does not hear of it.
        with db.sessao() as s:
            s.execute(
                sa.update(Usuario)
                .where(col(Usuario.id) == empresa.ids_usuarios["vendedor"])
                .values(ativo=False)
            )
        viagem.shift(timedelta(seconds=ttl - 1))
        assert _me(cliente, cabecalho) == 200  # the documented bound: up to the TTL
        viagem.shift(timedelta(seconds=1))
        assert _me(cliente, cabecalho) == 401


def test_entrada_nao_sobrevive_a_expiracao_da_sessao(cliente):
    empresa = criar_empresa()
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    with time_machine.travel(agora(), tick=False) as viagem:
        with db.sessao() as s:
            s.execute(sa.update(SessaoUsuario).values(expira_em=agora() + timedelta(seconds=1)))
        assert _me(cliente, cabecalho) == 200  # cached, but the session ends in 1 s
        viagem.shift(timedelta(seconds=1))
        assert _me(cliente, cabecalho) == 401


def test_tema_salvo_aparece_na_hora(cliente):
    empresa = criar_empresa()
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    token = cabecalho["Authorization"].removeprefix("Bearer ")
    contexto = auth.contexto_por_token(token)
    assert contexto is not None and contexto.tema != "dark"

    auth.salvar_tema(contexto, "dark")

    novo = auth.contexto_por_token(token)
    assert novo is not None and novo.tema == "dark"


def test_consulta_que_cruzou_um_logout_nao_e_guardada(banco):
    """A lookup that read the database before an eviction and ends after it must not store
    what it read (it may predate the logout)."""
    cache = auth._CacheSessoes()
    empresa = criar_empresa()
    contexto = auth.Contexto(
        id_usuario=empresa.ids_usuarios["vendedor"], id_empresa=empresa.id, perfil="vendedor",
        nome="v", email="v@x", tema="system", nome_empresa="E",
    )  # fmt: skip
    entrada = auth._Entrada(contexto, agora(), agora() + timedelta(hours=1))
    geracao = cache.geracao()  # the lookup starts

    cache.esquecer("h")  # a logout lands meanwhile
    cache.guardar("h", entrada, geracao)

    assert cache.obter("h") is None
    cache.guardar("h", entrada, cache.geracao())
    assert cache.obter("h") == contexto
