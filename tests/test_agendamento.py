"""Duplicate-proof scheduling: the mover route, idempotency keys, re-entry, cancel on exit."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
import time_machine
from sqlmodel import select

from tests.factories import (
    criar_automacao,
    criar_empresa,
    criar_lead,
    entradas_no_estagio,
    login,
)
from tests.processos import mover_em_processo
from whatsapp_app import db
from whatsapp_app.models import Lead, LeadEstagioHistorico, WhatsappAutomacaoAgendamento


def _jobs(id_lead: str) -> list[WhatsappAutomacaoAgendamento]:
    with db.sessao() as s:
        return list(
            s.exec(
                select(WhatsappAutomacaoAgendamento)
                .where(WhatsappAutomacaoAgendamento.id_lead == id_lead)
                .order_by(
                    WhatsappAutomacaoAgendamento.criado_em,
                    WhatsappAutomacaoAgendamento.chave_idempotencia,
                )
            ).all()
        )


def _contar(modelo) -> int:  # type: ignore[no-untyped-def]
    with db.sessao() as s:
        return s.exec(select(sa.func.count()).select_from(modelo)).one()


def _mover(cliente, cabecalho, id_lead: str, id_estagio: str):  # type: ignore[no-untyped-def]
    return cliente.patch(
        f"/api/leads/{id_lead}/mover", json={"id_estagio_destino": id_estagio}, headers=cabecalho
    )


@pytest.fixture
def cenario(cliente):
    empresa = criar_empresa()
    automacao = criar_automacao(empresa, estagio=1, atrasos=(0, 60, 1440))
    lead = criar_lead(empresa, estagio=0)
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    return empresa, automacao, lead, cabecalho


def test_mesmo_movimento_50_vezes_em_sequencia_cria_um_job_por_etapa(cliente, cenario):
    empresa, automacao, lead, cabecalho = cenario
    respostas = [_mover(cliente, cabecalho, lead, empresa.estagios[1]).json() for _ in range(50)]

    assert respostas[0] == {
        "ok": True,
        "noop": False,
        "id_estagio": empresa.estagios[1],
        "agendamentos_criados": 3,
        "agendamentos_cancelados": 0,
    }
    assert all(r["noop"] and r["agendamentos_criados"] == 0 for r in respostas[1:])
    jobs = _jobs(lead)
    assert len(jobs) == 3
    assert {j.chave_idempotencia for j in jobs} == {
        f"{empresa.id}:{lead}:{empresa.estagios[1]}:{automacao}:{j.id_etapa}" for j in jobs
    }
    assert all(j.referencia_evento == j.chave_idempotencia for j in jobs)


@pytest.mark.parametrize("reentrada", ["uma_vez", "a_cada_entrada"])
def test_mesmo_movimento_concorrente_em_20_processos(banco, reentrada):
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0, 30), reentrada=reentrada)
    lead = criar_lead(empresa, estagio=0)
    contexto = multiprocessing.get_context("spawn")
    with contexto.Manager() as gerente:
        barreira = gerente.Barrier(20)
        with ProcessPoolExecutor(max_workers=20, mp_context=contexto) as pool:
            futuros = [
                pool.submit(
                    mover_em_processo, banco.url, barreira, empresa.id, lead, empresa.estagios[1]
                )
                for _ in range(20)
            ]
            resultados = [f.result(timeout=180) for f in futuros]

    assert len({r["pid"] for r in resultados}) == 20, "20 distinct OS processes"
    assert sum(not r["noop"] for r in resultados) == 1
    assert sum(r["agendamentos_criados"] for r in resultados) == 2
    assert len(_jobs(lead)) == 2
    assert [e.ordinal for e in entradas_no_estagio(lead, empresa.estagios[1])] == [1]


def test_movimento_para_o_mesmo_estagio_nao_escreve_nada(cliente, cenario):
    empresa, _automacao, lead, cabecalho = cenario
    with db.sessao() as s:
        antes = s.get(Lead, lead)
    historico_antes = _contar(LeadEstagioHistorico)

    resposta = _mover(cliente, cabecalho, lead, empresa.estagios[0])

    assert resposta.status_code == 200
    assert resposta.json() == {
        "ok": True,
        "noop": True,
        "id_estagio": empresa.estagios[0],
        "agendamentos_criados": 0,
        "agendamentos_cancelados": 0,
    }
    with db.sessao() as s:
        depois = s.get(Lead, lead)
    assert depois.atualizado_em == antes.atualizado_em
    assert _contar(LeadEstagioHistorico) == historico_antes
    assert _contar(WhatsappAutomacaoAgendamento) == 0


def test_reentrada_uma_vez_agenda_uma_vez_so(cliente):
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0, 60), reentrada="uma_vez")
    lead = criar_lead(empresa, estagio=0)
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    a, b = empresa.estagios[0], empresa.estagios[1]
    criados = [
        _mover(cliente, cabecalho, lead, e).json()["agendamentos_criados"] for e in (b, a, b)
    ]

    assert criados == [2, 0, 0]
    jobs = _jobs(lead)
    assert len(jobs) == 2
    assert {j.status for j in jobs} == {"CANCELADO"}, "left B once: cancelled, never re-created"


def test_reentrada_a_cada_entrada_agenda_de_novo_com_chaves_distintas(cliente):
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0, 60), reentrada="a_cada_entrada")
    lead = criar_lead(empresa, estagio=0)
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    a, b = empresa.estagios[0], empresa.estagios[1]
    for estagio in (b, a, b):
        _mover(cliente, cabecalho, lead, estagio)
    _mover(cliente, cabecalho, lead, b)  # retried request for the same (second) entry

    jobs = _jobs(lead)
    assert len(jobs) == 4
    assert len({j.chave_idempotencia for j in jobs}) == 4
    assert sorted(j.chave_idempotencia.rsplit(":", 1)[1] for j in jobs) == ["1", "1", "2", "2"]
    assert sorted(j.status for j in jobs) == ["CANCELADO", "CANCELADO", "PENDENTE", "PENDENTE"]


@pytest.mark.parametrize("cancelar_ao_sair", [True, False])
def test_sair_do_estagio_cancela_pendentes(cliente, cancelar_ao_sair):
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0, 60), cancelar_ao_sair=cancelar_ao_sair)
    lead = criar_lead(empresa, estagio=0)
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    _mover(cliente, cabecalho, lead, empresa.estagios[1])

    resposta = _mover(cliente, cabecalho, lead, empresa.estagios[2]).json()

    jobs = _jobs(lead)
    if cancelar_ao_sair:
        assert resposta["agendamentos_cancelados"] == 2
        assert {(j.status, j.motivo_cancelamento) for j in jobs} == {
            ("CANCELADO", "lead_saiu_do_estagio")
        }
    else:
        assert resposta["agendamentos_cancelados"] == 0
        assert {j.status for j in jobs} == {"PENDENTE"}


def test_pausar_mantem_a_fila_e_excluir_cancela(cliente):
    empresa = criar_empresa()
    aut1 = criar_automacao(empresa, estagio=1, atrasos=(0,))
    aut2 = criar_automacao(empresa, estagio=1, atrasos=(5,))
    lead = criar_lead(empresa, estagio=0)
    gestor = login(cliente, empresa.usuarios["gestor"])
    _mover(cliente, gestor, lead, empresa.estagios[1])

    desativada = cliente.patch(
        f"/api/whatsapp/automations/{aut1}", json={"ativo": False}, headers=gestor
    )
    excluida = cliente.delete(f"/api/whatsapp/automations/{aut2}", headers=gestor)

    assert desativada.status_code == 200, desativada.text
    assert desativada.json()["agendamentos_pausados"] == 1
    assert desativada.json()["agendamentos_cancelados"] == 0
    assert excluida.json() == {"ok": True, "agendamentos_cancelados": 1}
    estados = {j.id_whatsapp_automacao: (j.status, j.motivo_cancelamento) for j in _jobs(lead)}
    assert estados == {aut1: ("PAUSADO", None), aut2: ("CANCELADO", "automacao_excluida")}
    assert cliente.get(f"/api/whatsapp/automations/{aut2}", headers=gestor).status_code == 404
    assert [
        a["id"] for a in cliente.get("/api/whatsapp/automations", headers=gestor).json()["itens"]
    ] == [aut1]


def _injetar_falha_ao_agendar(banco) -> None:  # type: ignore[no-untyped-def]
    """A real database error on job insert: a trigger that aborts the statement."""
    with db.engine().begin() as c:
        if banco.eh_postgres:
            c.execute(
                sa.text(
                    "CREATE FUNCTION falha_injetada() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'falha injetada'; END $$ LANGUAGE plpgsql"
                )
            )
            c.execute(
                sa.text(
                    "CREATE TRIGGER falha BEFORE INSERT ON whatsapp_automacao_agendamento "
                    "FOR EACH ROW EXECUTE FUNCTION falha_injetada()"
                )
            )
        else:
            c.execute(
                sa.text(
                    "CREATE TRIGGER falha BEFORE INSERT ON whatsapp_automacao_agendamento "
                    "BEGIN SELECT RAISE(ABORT, 'falha injetada'); END"
                )
            )


def _remover_falha(banco) -> None:  # type: ignore[no-untyped-def]
    with db.engine().begin() as c:
        c.execute(
            sa.text(
                "DROP TRIGGER falha"
                + (" ON whatsapp_automacao_agendamento" if banco.eh_postgres else "")
            )
        )
        if banco.eh_postgres:
            c.execute(sa.text("DROP FUNCTION falha_injetada()"))


def test_falha_ao_agendar_desfaz_o_movimento_inteiro(cliente, banco, cenario):
    empresa, _automacao, lead, cabecalho = cenario
    historico_antes = _contar(LeadEstagioHistorico)
    _injetar_falha_ao_agendar(banco)
    try:
        resposta = _mover(cliente, cabecalho, lead, empresa.estagios[1])
    finally:
        _remover_falha(banco)

    assert resposta.status_code == 500
    assert resposta.json()["erro"]["codigo"] == "erro_interno"
    assert "Traceback" not in resposta.text and "falha injetada" not in resposta.text
    with db.sessao() as s:
        assert s.get(Lead, lead).id_estagio == empresa.estagios[0]
    assert _contar(LeadEstagioHistorico) == historico_antes
    assert _contar(WhatsappAutomacaoAgendamento) == 0
    # And once the fault is gone the same request works.
    assert _mover(cliente, cabecalho, lead, empresa.estagios[1]).json()["agendamentos_criados"] == 3


def test_movimento_fora_da_janela_agenda_para_a_proxima_abertura(cliente):
    janela = {"inicio": "08:00", "fim": "20:00", "dias_semana": [0, 1, 2, 3, 4, 5]}
    empresa = criar_empresa(janela_envio=janela)
    criar_automacao(empresa, estagio=1, atrasos=(0, 30))
    lead = criar_lead(empresa, estagio=0)
    # Tuesday 24/11/2026 21:30 in São Paulo (UTC-3) = Wednesday 00:30 UTC.
    with time_machine.travel(datetime(2026, 11, 25, 0, 30, tzinfo=UTC), tick=False):
        cabecalho = login(cliente, empresa.usuarios["vendedor"])
        _mover(cliente, cabecalho, lead, empresa.estagios[1])

    devidos = sorted(j.agendado_para for j in _jobs(lead))
    # Both steps (21:30 and 22:00 local) wait for Wednesday 08:00 local = 11:00 UTC.
    assert devidos == [datetime(2026, 11, 25, 11, 0, tzinfo=UTC)] * 2


def test_movimento_no_sabado_a_noite_vai_para_segunda(cliente):
    janela = {"inicio": "08:00", "fim": "20:00", "dias_semana": [0, 1, 2, 3, 4, 5]}
    empresa = criar_empresa(janela_envio=janela)
    criar_automacao(empresa, estagio=1, atrasos=(0,))
    lead = criar_lead(empresa, estagio=0)
    # Saturday 28/11/2026 20:10 local → Monday 30/11 08:00 local.
    with time_machine.travel(datetime(2026, 11, 28, 23, 10, tzinfo=UTC), tick=False):
        cabecalho = login(cliente, empresa.usuarios["vendedor"])
        _mover(cliente, cabecalho, lead, empresa.estagios[1])
    assert [j.agendado_para for j in _jobs(lead)] == [datetime(2026, 11, 30, 11, 0, tzinfo=UTC)]


def test_janela_na_virada_do_horario_de_verao(cliente):
    # New York springs forward on 08/03/2026 at 02:00 → 03:00: 02:30 does not exist that day.
    janela = {"inicio": "02:30", "fim": "20:00", "dias_semana": [0, 1, 2, 3, 4, 5, 6]}
    empresa = criar_empresa(janela_envio=janela, fuso_horario="America/New_York")
    criar_automacao(empresa, estagio=1, atrasos=(0, 60 * 24))
    lead = criar_lead(empresa, estagio=0)
    # Saturday 07/03 21:00 EST (UTC-5) = 08/03 02:00 UTC.
    with time_machine.travel(datetime(2026, 3, 8, 2, 0, tzinfo=UTC), tick=False):
        cabecalho = login(cliente, empresa.usuarios["vendedor"])
        _mover(cliente, cabecalho, lead, empresa.estagios[1])

    devidos = sorted(j.agendado_para for j in _jobs(lead))
    assert devidos == [
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # 03:00 EDT: first wall-clock minute after the gap
        datetime(2026, 3, 9, 6, 30, tzinfo=UTC),  # 02:30 EDT (UTC-4) the next day
    ]


def test_estagio_de_outra_empresa_e_422_sem_escrever(cliente, cenario):
    empresa, _automacao, lead, cabecalho = cenario
    outra = criar_empresa(sufixo="b")
    resposta = _mover(cliente, cabecalho, lead, outra.estagios[1])
    assert resposta.status_code == 422
    assert resposta.json()["erro"]["campos"] == {
        "id_estagio_destino": "Estágio não encontrado nesta empresa."
    }
    with db.sessao() as s:
        assert s.get(Lead, lead).id_estagio == empresa.estagios[0]
