"""List routes: ``limite`` (1..200, default 50) and ``cursor``, answering
``{"itens", "proximo_cursor", "total", "total_exato"}`` (contract.md section 7), with keyset order (no gap, no
repeat) and the queue's filters on ``GET /api/whatsapp/agendamentos``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.factories import (
    criar_automacao,
    criar_empresa,
    criar_instancia,
    criar_lead,
    login,
    mover,
)
from whatsapp_app import db
from whatsapp_app.models import Lead, LeadEstagioHistorico, WhatsappAutomacaoAgendamento, novo_id
from whatsapp_app.tempo import agora


def _caminhar(cliente, url: str, cabecalho, **params: Any) -> tuple[list[str], int, int]:  # type: ignore[no-untyped-def]
    """Every id across all pages; (ids, pages, total)."""
    ids: list[str] = []
    cursor, paginas, total = None, 0, -1
    while True:
        consulta = {**params, **({"cursor": cursor} if cursor else {})}
        resposta = cliente.get(url, params=consulta, headers=cabecalho)
        assert resposta.status_code == 200, resposta.text
        corpo = resposta.json()
        assert set(corpo) == {"itens", "proximo_cursor", "total", "total_exato"}
        ids += [item["id"] for item in corpo["itens"]]
        total, paginas, cursor = corpo["total"], paginas + 1, corpo["proximo_cursor"]
        if cursor is None:
            return ids, paginas, total


def test_mil_leads_sem_buraco_nem_repeticao(cliente) -> None:
    empresa = criar_empresa()
    momento = agora()
    linhas, historicos = [], []
    for i in range(1000):
        id_lead = novo_id()
        # Many leads share a timestamp: the id breaks the tie, so no page repeats or skips.
        quando = momento - timedelta(seconds=i // 7)
        linhas.append(
            {
                "id": id_lead,
                "id_empresa": empresa.id,
                "nome": f"Lead {i:04d}",
                "telefone": f"+5511{9_1000_0000 + i:09d}",
                "id_estagio": empresa.estagios[0],
                "criado_em": quando,
                "atualizado_em": quando,
            }
        )
        historicos.append(
            {
                "id": novo_id(),
                "id_empresa": empresa.id,
                "id_lead": id_lead,
                "id_estagio": empresa.estagios[0],
                "ordinal": 1,
                "criado_em": quando,
            }
        )
    with db.sessao() as s:
        s.execute(sa.insert(Lead), linhas)
        s.execute(sa.insert(LeadEstagioHistorico), historicos)
    cabecalho = login(cliente, empresa.usuarios["vendedor"])

    ids, paginas, total = _caminhar(cliente, "/api/leads", cabecalho, limite=200)
    assert (len(ids), len(set(ids)), paginas, total) == (1000, 1000, 5, 1000)
    assert set(ids) == {linha["id"] for linha in linhas}
    padrao = cliente.get("/api/leads", headers=cabecalho).json()
    assert len(padrao["itens"]) == 50 and padrao["proximo_cursor"] is not None
    assert padrao["total_exato"] is True


def test_total_e_contado_ate_o_limite(cliente, monkeypatch) -> None:
    """Totals are bounded counts: above LIMITE_CONTAGEM the page says "more than" and the
    status chips count each status up to the limit + 1; pages themselves are all there."""
    from whatsapp_app import fila, paginacao
    from whatsapp_app.modules.fila.state import contagem_limitada

    monkeypatch.setattr(paginacao, "LIMITE_CONTAGEM", 3)
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0, 60, 120))
    for i in range(2):
        mover(empresa, criar_lead(empresa, nome=f"Lead {i}", telefone=f"+55119876543{i:02d}"), 1)
    cabecalho = login(cliente, empresa.usuarios["vendedor"])

    corpo = cliente.get("/api/whatsapp/agendamentos", headers=cabecalho).json()
    assert (corpo["total"], corpo["total_exato"], len(corpo["itens"])) == (3, False, 6)
    com_filtro = cliente.get(
        "/api/whatsapp/agendamentos",
        params={"id_lead": corpo["itens"][0]["id_lead"]},
        headers=cabecalho,
    ).json()
    assert (com_filtro["total"], com_filtro["total_exato"]) == (3, True)
    with db.sessao() as s:
        assert fila.contagem_por_status(s, id_empresa=empresa.id) == {"PENDENTE": 4}
    assert (contagem_limitada(4), contagem_limitada(3)) == ("3+", "3")


@pytest.mark.parametrize(
    "url",
    [
        "/api/leads",
        "/api/whatsapp/automations",
        "/api/whatsapp/agendamentos",
        "/api/estagios",
        "/api/whatsapp/instances",
    ],
)
@pytest.mark.parametrize(
    ("params", "campo"),
    [
        ({"limite": 0}, "limite"),
        ({"limite": 201}, "limite"),
        ({"limite": "muitos"}, "limite"),
        ({"cursor": "nao-e-um-cursor"}, "cursor"),
        ({"cursor": "W10"}, "cursor"),  # a valid encoding of the wrong shape ([])
    ],
)
def test_valores_ruins_de_paginacao_sao_422(cliente, url, params, campo) -> None:
    empresa = criar_empresa()
    resposta = cliente.get(url, params=params, headers=login(cliente, empresa.usuarios["admin"]))
    assert resposta.status_code == 422, resposta.text
    assert campo in resposta.json()["erro"]["campos"]


def test_fila_filtra_por_instancia_estagio_busca_e_periodo(cliente) -> None:
    empresa = criar_empresa()
    instancia_a, instancia_b = criar_instancia(empresa), criar_instancia(empresa)
    criar_automacao(empresa, estagio=1, atrasos=(0, 60), id_instancia=instancia_a)
    criar_automacao(empresa, estagio=2, atrasos=(0,), id_instancia=instancia_b)
    maria = criar_lead(empresa, nome="Maria Silva", telefone="+5511987654321")
    joao = criar_lead(empresa, nome="João Souza", telefone="+5521999998888")
    for lead in (maria, joao):
        mover(empresa, lead, 1)
    mover(empresa, joao, 2)
    gestor = login(cliente, empresa.usuarios["gestor"])

    def ids(**params: Any) -> set[str]:
        resposta = cliente.get("/api/whatsapp/agendamentos", params=params, headers=gestor)
        assert resposta.status_code == 200, resposta.text
        return {j["id"] for j in resposta.json()["itens"]}

    with db.sessao() as s:
        jobs = list(s.exec(sa.select(WhatsappAutomacaoAgendamento)).scalars())
    assert len(jobs) == 5
    de_b = {j.id for j in jobs if j.id_estagio_trigger == empresa.estagios[2]}
    assert ids(id_whatsapp_instancia=instancia_b) == de_b
    assert ids(id_estagio_trigger=empresa.estagios[2]) == de_b
    assert ids(q="maria") == {j.id for j in jobs if j.id_lead == maria}
    assert ids(q="21 99999") == {j.id for j in jobs if j.id_lead == joao}
    agora_ = agora()
    proximos = ids(de=(agora_ + timedelta(minutes=30)).isoformat())
    assert proximos == {j.id for j in jobs if j.agendado_para > agora_ + timedelta(minutes=30)}
    assert proximos and len(proximos) < 5
    assert ids(status="CANCELADO") == {j.id for j in jobs if j.status == "CANCELADO"}

    crescente = cliente.get("/api/whatsapp/agendamentos", headers=gestor).json()["itens"]
    decrescente = cliente.get(
        "/api/whatsapp/agendamentos", params={"ordem": "-agendado_para"}, headers=gestor
    ).json()["itens"]
    assert [j["id"] for j in decrescente] == [j["id"] for j in reversed(crescente)]
    for params, campo in (
        ({"ordem": "nome"}, "ordem"),
        ({"de": "2026-12-01T10:00:00"}, "de"),  # no time zone
        ({"de": "2026-12-02T00:00:00Z", "ate": "2026-12-01T00:00:00Z"}, "de"),
        ({"status": "XYZ"}, "status"),
    ):
        ruim = cliente.get("/api/whatsapp/agendamentos", params=params, headers=gestor)
        assert ruim.status_code == 422, (params, ruim.text)
        assert campo in ruim.json()["erro"]["campos"], ruim.json()
