"""The mover's hot path: how many statements a move costs, and that the short path keeps every
guarantee (one transaction, no-op, cancellations, history ordinal under a concurrent move)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from tests.factories import (
    comandos_sql,
    criar_automacao,
    criar_empresa,
    criar_lead,
    entradas_no_estagio,
    login,
)
from whatsapp_app import db, leads
from whatsapp_app.models import Lead, LeadEstagioHistorico, WhatsappAutomacaoAgendamento


def _mover(cliente, cabecalho, id_lead: str, destino: str):  # type: ignore[no-untyped-def]
    return cliente.patch(
        f"/api/leads/{id_lead}/mover", json={"id_estagio_destino": destino}, headers=cabecalho
    )


@pytest.fixture
def cenario(cliente):  # type: ignore[no-untyped-def]
    """The bench's shape: 3 automations x 3 steps on stage 1 and on stage 2; a lead in stage 1
    holding its 9 pending jobs."""
    empresa = criar_empresa(estagios=("Novo", "Origem", "Destino"))
    for estagio in (1, 2):
        for _ in range(3):
            criar_automacao(empresa, estagio=estagio, atrasos=(0, 60, 1440))
    lead = criar_lead(empresa, estagio=0)
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    assert _mover(cliente, cabecalho, lead, empresa.estagios[1]).json()["agendamentos_criados"] == 9
    return empresa, lead, cabecalho


def test_movimento_completo_custa_cinco_comandos_e_nenhum_para_a_sessao(cliente, banco, cenario):
    empresa, lead, cabecalho = cenario
    with comandos_sql() as vistos:
        resposta = _mover(cliente, cabecalho, lead, empresa.estagios[2])

    assert resposta.json() == {
        "ok": True,
        "noop": False,
        "id_estagio": empresa.estagios[2],
        "agendamentos_criados": 9,
        "agendamentos_cancelados": 9,
    }
    # The session was looked up by the first move: this request found it in the cache.
    assert not [c for c in vistos if "sessao_usuario" in c]
    if banco.nome == "postgres":
        # lock + update + history (one CTE), cancellations, configuration, inserts, wake-up
        # (the 0-minute step is due now: the window is open all day).
        assert len(vistos) == 5, vistos
        assert vistos[0].startswith("WITH alvo AS")
        assert "pg_notify" in vistos[4]
    else:
        # history insert, lead update, cancellations, configuration, inserts
        assert len(vistos) == 5, vistos
    (historico,) = entradas_no_estagio(lead, empresa.estagios[2])
    with db.sessao() as s:
        assert historico.id_estagio_anterior == empresa.estagios[1]
        assert historico.ordinal == 1
        assert historico.id_usuario == empresa.ids_usuarios["vendedor"]
        motivos = s.exec(
            select(WhatsappAutomacaoAgendamento.motivo_cancelamento).where(
                WhatsappAutomacaoAgendamento.id_estagio_trigger == empresa.estagios[1]
            )
        ).all()
        assert motivos == ["lead_saiu_do_estagio"] * 9
        # Times written by the SQL text go through DataHoraUtc like the ORM's (SQLite: naive UTC).
        movido = s.get(Lead, lead)
        assert movido is not None and movido.atualizado_em >= historico.criado_em
        bruto = s.execute(
            sa.text("SELECT CAST(atualizado_em AS TEXT) FROM lead WHERE id = :i"), {"i": lead}
        ).scalar_one()
        if banco.nome == "sqlite":
            assert "+" not in bruto and "T" not in bruto, bruto


def _estado(id_lead: str) -> tuple[Any, ...]:
    with db.sessao() as s:
        lead = s.get(Lead, id_lead)
        assert lead is not None
        historico = s.exec(
            select(sa.func.count()).where(LeadEstagioHistorico.id_lead == id_lead)
        ).one()
        jobs = s.exec(
            select(WhatsappAutomacaoAgendamento.status, sa.func.count())
            .where(WhatsappAutomacaoAgendamento.id_lead == id_lead)
            .group_by(WhatsappAutomacaoAgendamento.status)
        ).all()
        return lead.id_estagio, lead.atualizado_em, historico, sorted(jobs)


def test_mesmo_estagio_nao_muda_nenhuma_linha(cliente, banco, cenario):
    empresa, lead, cabecalho = cenario
    antes = _estado(lead)
    with comandos_sql() as vistos:
        resposta = _mover(cliente, cabecalho, lead, empresa.estagios[1])

    assert resposta.json()["noop"] is True
    assert resposta.json()["agendamentos_criados"] == 0
    assert _estado(lead) == antes
    if banco.nome == "postgres":
        assert len(vistos) == 1  # the CTE, whose UPDATE and INSERT matched no row


def test_lead_e_estagio_de_outra_empresa(cliente, cenario):
    empresa, lead, cabecalho = cenario
    outra = criar_empresa("Outra", sufixo="b")
    lead_alheio = criar_lead(outra, estagio=0)

    assert _mover(cliente, cabecalho, lead_alheio, empresa.estagios[2]).status_code == 404
    recusado = _mover(cliente, cabecalho, lead, outra.estagios[1])
    assert recusado.status_code == 422
    assert "id_estagio_destino" in recusado.json()["erro"]["campos"]
    with db.sessao() as s:
        assert s.get(Lead, lead).id_estagio == empresa.estagios[1]  # type: ignore[union-attr]


def test_optout_move_sem_agendar(cliente, cenario):
    empresa, lead, cabecalho = cenario
    with db.sessao() as s:
        s.execute(sa.update(Lead).where(Lead.id == lead).values(optout_em=sa.func.now()))

    resposta = _mover(cliente, cabecalho, lead, empresa.estagios[2]).json()

    assert (resposta["agendamentos_criados"], resposta["agendamentos_cancelados"]) == (0, 9)


def _esperar_bloqueio(url_ok: str) -> None:
    """Until some backend waits on a row lock (bounded: 10 s)."""
    espera = threading.Event()
    motor = sa.create_engine(url_ok, poolclass=sa.pool.NullPool)
    with motor.connect() as c:
        for _ in range(500):
            if c.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).scalar_one():
                break
            espera.wait(0.02)
        else:
            pytest.fail("o segundo movimento não chegou a esperar a trava do lead")
    motor.dispose()


def test_movimento_concorrente_recalcula_o_ordinal_com_a_trava(banco_postgres):
    """B's statement starts while A, which has not committed, moved the lead 0 -> 2 -> 1; B
    waits for the lock and must then see A's history (ordinal 2 for stage 2), not its own
    older snapshot (which would repeat ordinal 1 and break the unique index)."""
    banco = banco_postgres
    empresa = criar_empresa(estagios=("Novo", "Um", "Dois"))
    lead = criar_lead(empresa, estagio=0)
    resultado: dict[str, Any] = {}

    def mover_b() -> None:
        try:
            with db.sessao() as s:
                resultado["b"] = leads.mover_lead(
                    sessao=s, id_empresa=empresa.id, id_lead=lead, id_estagio_destino=empresa.estagios[2]
                )  # fmt: skip
        except Exception as exc:  # reported below
            resultado["erro"] = exc

    with db.sessao() as a:
        leads.mover_lead(sessao=a, id_empresa=empresa.id, id_lead=lead,
                         id_estagio_destino=empresa.estagios[2])  # fmt: skip
        leads.mover_lead(sessao=a, id_empresa=empresa.id, id_lead=lead,
                         id_estagio_destino=empresa.estagios[1])  # fmt: skip
        b = threading.Thread(target=mover_b)
        b.start()
        _esperar_bloqueio(banco.url)
    b.join(timeout=30)

    assert "erro" not in resultado, resultado.get("erro")
    assert resultado["b"].noop is False
    with db.sessao() as s:
        entradas = s.exec(
            select(LeadEstagioHistorico.id_estagio, LeadEstagioHistorico.ordinal,
                   LeadEstagioHistorico.id_estagio_anterior)
            .where(LeadEstagioHistorico.id_lead == lead)
            .order_by(col(LeadEstagioHistorico.criado_em), col(LeadEstagioHistorico.ordinal))
        ).all()  # fmt: skip
        assert s.get(Lead, lead).id_estagio == empresa.estagios[2]  # type: ignore[union-attr]
    e = empresa.estagios
    assert sorted(entradas, key=lambda x: (x[0] != e[0], x[0], x[1])) == sorted(
        [(e[0], 1, None), (e[2], 1, e[0]), (e[1], 1, e[2]), (e[2], 2, e[1])],
        key=lambda x: (x[0] != e[0], x[0], x[1]),
    )
