"""Saúde do despacho: the windows of the service (24 h, 7 days, hourly and daily series) and
the admin-only, tenant-isolated API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import time_machine

from tests.factories import criar_empresa, login
from whatsapp_app import contadores, db
from whatsapp_app.modules.saude.state import DESTAQUE
from whatsapp_app.saude_despacho import saude_despacho

AGORA = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)  # 12:30 in São Paulo


@pytest.fixture(autouse=True)
def _sem_sobras() -> Iterator[None]:
    contadores.descartar()
    yield
    contadores.descartar()


def _contar(momento: datetime, nome: str, id_empresa: str, n: int = 1) -> None:
    with time_machine.travel(momento, tick=False):
        contadores.somar(nome, id_empresa, n)
    assert contadores.descarregar() == n


def test_janelas_de_24h_e_7_dias_e_series(banco) -> None:
    empresa, outra = criar_empresa(sufixo="a"), criar_empresa(sufixo="b")
    enviados = contadores.ENVIADOS
    _contar(datetime(2026, 12, 1, 15, 10, tzinfo=UTC), enviados, empresa.id, 1)  # this hour
    _contar(datetime(2026, 11, 30, 16, 0, tzinfo=UTC), enviados, empresa.id, 2)  # 1st of 24
    _contar(datetime(2026, 11, 30, 15, 59, tzinfo=UTC), enviados, empresa.id, 4)  # 25th hour
    _contar(datetime(2026, 11, 24, 16, 0, tzinfo=UTC), enviados, empresa.id, 8)  # 168th hour
    _contar(datetime(2026, 11, 24, 15, 0, tzinfo=UTC), enviados, empresa.id, 16)  # 169th
    # 03:00 UTC on the 25th is 00:00 in São Paulo: the first day of the daily series.
    _contar(datetime(2026, 11, 25, 3, 0, tzinfo=UTC), enviados, empresa.id, 32)
    _contar(datetime(2026, 11, 25, 2, 0, tzinfo=UTC), enviados, empresa.id, 64)  # 24/11 local
    _contar(datetime(2026, 12, 1, 15, 10, tzinfo=UTC), contadores.DUPLICADOS_BLOQUEADOS, outra.id)

    with time_machine.travel(AGORA, tick=False), db.sessao() as s:
        saude = saude_despacho(sessao=s, id_empresa=empresa.id)

    assert saude["ultimas_24h"]["enviados"] == 1 + 2
    assert saude["ultimos_7_dias"]["enviados"] == 1 + 2 + 4 + 8 + 32 + 64
    assert saude["ultimas_24h"]["duplicados_bloqueados"] == 0  # the other company's
    assert set(saude["ultimas_24h"]) == {
        "reivindicados",
        "enviados",
        "duplicados_bloqueados",
        "reivindicacoes_perdidas",
        "recuperados",
        "incertos",
        "cancelados_resposta",
        "cancelados_optout",
    }

    horas = saude["por_hora"]
    assert len(horas) == 24
    assert horas[0]["inicio"] == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert horas[-1]["inicio"] == datetime(2026, 12, 1, 15, tzinfo=UTC)
    assert [h["contagens"]["enviados"] for h in horas] == [2] + [0] * 22 + [1]

    dias = saude["por_dia"]
    assert [d["dia"] for d in dias] == [date(2026, 11, 25 + n) for n in range(6)] + [
        date(2026, 12, 1)
    ]
    # 30/11: 13:00 and 12:59 local (2 + 4); 25/11: 00:00 local (32); 01/12: 1.
    assert [d["contagens"]["enviados"] for d in dias] == [32, 0, 0, 0, 0, 6, 1]
    assert saude["fuso_horario"] == "America/Sao_Paulo"


def test_empresa_sem_contagens_tem_tudo_zerado(banco) -> None:
    empresa = criar_empresa()
    with db.sessao() as s:
        saude = saude_despacho(sessao=s, id_empresa=empresa.id)
    assert set(saude["ultimos_7_dias"].values()) == {0}
    assert len(saude["por_hora"]) == 24 and len(saude["por_dia"]) == 7


def test_api_so_para_admin_e_da_propria_empresa(banco, cliente) -> None:
    empresa, outra = criar_empresa(sufixo="a"), criar_empresa(sufixo="b")
    contadores.somar(contadores.DUPLICADOS_BLOQUEADOS, empresa.id, 3)
    contadores.somar(contadores.DUPLICADOS_BLOQUEADOS, outra.id, 7)
    contadores.somar(contadores.REIVINDICADOS, empresa.id, 5)
    assert contadores.descarregar() == 15

    resposta = cliente.get(
        "/api/whatsapp/saude-despacho", headers=login(cliente, empresa.usuarios["admin"])
    )
    assert resposta.status_code == 200, resposta.text
    corpo = resposta.json()
    assert corpo["ultimas_24h"]["duplicados_bloqueados"] == 3
    assert corpo["ultimos_7_dias"]["reivindicados"] == 5
    assert corpo["por_hora"][-1]["contagens"]["duplicados_bloqueados"] == 3
    assert len(corpo["por_dia"]) == 7

    da_outra = cliente.get(
        "/api/whatsapp/saude-despacho", headers=login(cliente, outra.usuarios["admin"])
    ).json()
    assert da_outra["ultimas_24h"]["duplicados_bloqueados"] == 7
    assert da_outra["ultimas_24h"]["reivindicados"] == 0

    for perfil in ("gestor", "vendedor"):
        negado = cliente.get(
            "/api/whatsapp/saude-despacho", headers=login(cliente, empresa.usuarios[perfil])
        )
        assert negado.status_code == 403
        assert negado.json() == {
            "erro": {"codigo": "sem_permissao", "mensagem": "Seu perfil não permite esta ação."}
        }
    assert cliente.get("/api/whatsapp/saude-despacho").status_code == 401


def test_estado_mostra_numeros_e_datas_em_pt_br(banco) -> None:
    from whatsapp_app.modules.saude.state import EstadoSaudeDespacho

    empresa = criar_empresa()
    quando = datetime(2026, 12, 1, 15, 10, tzinfo=UTC)
    _contar(quando, contadores.ENVIADOS, empresa.id, 1234)
    _contar(quando, contadores.REIVINDICADOS, empresa.id, 1300)
    _contar(quando, contadores.DUPLICADOS_BLOQUEADOS, empresa.id, 2)
    with time_machine.travel(AGORA, tick=False), db.sessao() as s:
        saude = saude_despacho(sessao=s, id_empresa=empresa.id)

    estado = EstadoSaudeDespacho(_reflex_internal_init=True)  # type: ignore[call-arg]
    estado.perfil = "admin"
    estado._mostrar(saude)

    assert estado.eh_admin
    cartoes = {c["chave"]: c for c in estado.cartoes}
    assert cartoes["enviados"]["valor_24h"] == cartoes["enviados"]["valor_7d"] == "1.234"
    assert cartoes["reivindicados"]["rotulo"] == "Assumidos"
    assert DESTAQUE not in cartoes  # highlighted on its own, above the grid
    assert estado.duplicados_24h == estado.duplicados_7d == "2"
    assert estado.serie_horas[-1] == {"hora": "12h", "enviados": 1234, "reivindicados": 1300}
    assert estado.serie_horas[0]["hora"] == "13h"  # 16:00 UTC yesterday, in São Paulo
    assert estado.resumo_grafico == "Nas últimas 24 horas: 1.300 assumidos e 1.234 enviados."
    hoje = estado.linhas_dias[0]
    assert hoje["dia"] == "ter., 01/12" and hoje["dia_completo"] == "1 de dez. de 2026"
    assert (hoje["enviados"], hoje["reivindicados"], hoje["duplicados"]) == ("1.234", "1.300", "2")
    assert estado.atualizado_em == "Atualizado em 01/12/2026 12:30."

    vendedor = EstadoSaudeDespacho(_reflex_internal_init=True)  # type: ignore[call-arg]
    vendedor.perfil = "vendedor"
    assert not vendedor.eh_admin


def test_item_do_menu_acende_na_pagina() -> None:
    from whatsapp_app.ui.layout import NAVEGACAO_ADMIN, rota_do_item_ativo

    assert ("Saúde do despacho", "/whatsapp/saude", "activity") in NAVEGACAO_ADMIN
    assert rota_do_item_ativo("/whatsapp/saude") == "/whatsapp/saude"
    assert rota_do_item_ativo("/whatsapp") == "/whatsapp"
