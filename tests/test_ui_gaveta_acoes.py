"""Fast State tests (no browser) for the lead drawer's operator actions on its follow-ups:
retry an ERRO or INCERTO job, mark an INCERTO one as sent, cancel a PENDENTE one, each after a
confirmation, through the queue's service (audited), and the API's role rule (vendedor cannot).

The State is built the way Reflex's memory state manager builds it and its events run directly
(``Handler.fn(estado, ...)``) against the real database; the session lookup is replaced by the
real ``Contexto`` of a seeded user (its ``exigir`` is the role rule under test)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import reflex as rx
import sqlalchemy as sa
from sqlmodel import select

from tests.factories import contexto_de, criar_automacao, criar_empresa, criar_lead
from whatsapp_app import db, leads
from whatsapp_app.models import AuditoriaAgendamento, Perfil, WhatsappAutomacaoAgendamento
from whatsapp_app.modules.leads.dados_gaveta import linha_agendamento
from whatsapp_app.modules.leads.state import EstadoLeads
from whatsapp_app.ui.sessao import EstadoSessao, _Autorizacao
from whatsapp_app.validacoes import SemPermissao


@pytest.fixture
def gaveta(banco, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Any]:  # type: ignore[no-untyped-def]
    """``abrir(perfil) -> (estado, ids)``: the drawer of a lead with 3 jobs (ERRO, INCERTO, PENDENTE)."""
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0, 60, 120))
    id_lead = criar_lead(empresa)
    with db.sessao() as s:
        leads.mover_lead(
            sessao=s, id_empresa=empresa.id, id_lead=id_lead, id_estagio_destino=empresa.estagios[1]
        )
        jobs = [
            j.id
            for j in s.exec(
                select(WhatsappAutomacaoAgendamento)
                .where(WhatsappAutomacaoAgendamento.id_lead == id_lead)
                .order_by(WhatsappAutomacaoAgendamento.agendado_para)
            )
        ]
    for id_job, valores in zip(
        jobs,
        (
            {"status": "ERRO", "ultimo_erro": "Server disconnected (RemoteProtocolError)"},
            {"status": "INCERTO", "tentativas": 1},
            {},
        ),
        strict=True,
    ):
        if valores:
            with db.sessao() as s:
                s.execute(
                    sa.update(WhatsappAutomacaoAgendamento)
                    .where(WhatsappAutomacaoAgendamento.id == id_job)
                    .values(**valores)
                )

    def abrir(perfil: str) -> Any:
        contexto = contexto_de(empresa, perfil)
        monkeypatch.setattr(
            _Autorizacao, "contexto", lambda self, *perfis: contexto.exigir(*perfis)
        )
        raiz = rx.State(_reflex_internal_init=True)
        estado = raiz.substates[EstadoSessao.get_name()].substates[EstadoLeads.get_name()]
        estado.perfil = perfil
        list(EstadoLeads.abrir_lead.fn(estado, id_lead))
        return estado, jobs

    return abrir


def _status(id_job: str) -> str:
    with db.sessao() as s:
        job = s.get(WhatsappAutomacaoAgendamento, id_job)
        assert job is not None
        return job.status


def _auditoria() -> list[tuple[str, str, str, str]]:
    with db.sessao() as s:
        return [
            (a.id_agendamento, a.acao, a.status_anterior, a.status_novo)
            for a in s.exec(select(AuditoriaAgendamento).order_by(AuditoriaAgendamento.criado_em))
        ]


def _agir(estado: Any, acao: str, id_job: str) -> list[Any]:
    EstadoLeads.pedir_acao_job.fn(estado, acao, id_job)
    return list(EstadoLeads.confirmar_acao_job.fn(estado))


def test_timeline_mostra_mensagem_erro_em_portugues_e_acoes_por_status(gaveta) -> None:  # type: ignore[no-untyped-def]
    estado, _ = gaveta("gestor")
    erro, incerto, pendente = estado.agendamentos
    assert [j["status"] for j in estado.agendamentos] == ["ERRO", "INCERTO", "PENDENTE"]
    assert erro["mensagem"] == "Olá Maria, passo 1"  # rendered for this lead, never the key
    assert erro["erro"] == "A conexão com o provedor caiu."  # the queue's one mapping
    assert "RemoteProtocolError" not in str(estado.agendamentos)
    assert erro["agendado_para"] and erro["agendado_iso"] and erro["enviado_em"] == ""
    assert (erro["reenviavel"], erro["marcavel"], erro["cancelavel"]) == (True, False, False)
    assert (incerto["reenviavel"], incerto["marcavel"], incerto["cancelavel"]) == (
        True,
        True,
        False,
    )
    assert (pendente["reenviavel"], pendente["marcavel"], pendente["cancelavel"]) == (
        False,
        False,
        True,
    )
    assert estado.pode_operar_envios


def test_reenviar_erro_pede_confirmacao_e_volta_para_a_fila(gaveta) -> None:  # type: ignore[no-untyped-def]
    estado, (id_erro, _, _) = gaveta("gestor")
    EstadoLeads.pedir_acao_job.fn(estado, "reenviar", id_erro)
    assert estado.confirmacao_job_aberta and estado.confirmacao_job_titulo == "Reenviar?"
    assert _status(id_erro) == "ERRO"  # nothing changes before the confirmation
    EstadoLeads.fechar_acao_job.fn(estado, False)
    assert not estado.confirmacao_job_aberta and _status(id_erro) == "ERRO"

    _agir(estado, "reenviar", id_erro)
    assert _status(id_erro) == "PENDENTE"
    assert estado.agendamentos[0]["status"] == "PENDENTE"  # the timeline reloaded
    assert not estado.confirmacao_job_aberta
    assert _auditoria() == [(id_erro, "reenviar", "ERRO", "PENDENTE")]


def test_marcar_incerto_como_enviado(gaveta) -> None:  # type: ignore[no-untyped-def]
    estado, (_, id_incerto, _) = gaveta("admin")
    _agir(estado, "marcar_enviado", id_incerto)
    assert _status(id_incerto) == "ENVIADO"
    linha = estado.agendamentos[1]
    assert linha["status"] == "ENVIADO" and linha["enviado_em"] != ""
    assert linha["rotulo_entrega"] == "Enviada"
    assert not (linha["reenviavel"] or linha["marcavel"] or linha["cancelavel"])
    assert _auditoria() == [(id_incerto, "marcar_enviado", "INCERTO", "ENVIADO")]


def test_cancelar_pendente_e_status_que_nao_permite(gaveta) -> None:  # type: ignore[no-untyped-def]
    estado, (id_erro, _, id_pendente) = gaveta("gestor")
    assert estado.confirmacao_job_perigo is False
    _agir(estado, "cancelar", id_pendente)
    assert _status(id_pendente) == "CANCELADO"
    assert estado.agendamentos[2]["motivo"] == "Cancelado por um operador."
    # An action the job's status does not allow never opens the dialog nor changes anything.
    EstadoLeads.pedir_acao_job.fn(estado, "cancelar", id_erro)
    assert not estado.confirmacao_job_aberta
    assert _status(id_erro) == "ERRO"
    assert _auditoria() == [(id_pendente, "cancelar", "PENDENTE", "CANCELADO")]


def test_status_mudou_entre_abrir_e_confirmar_nao_muda_nada(gaveta) -> None:  # type: ignore[no-untyped-def]
    estado, (_, _, id_pendente) = gaveta("gestor")
    EstadoLeads.pedir_acao_job.fn(estado, "cancelar", id_pendente)
    with db.sessao() as s:  # the dispatcher sent it meanwhile
        s.execute(
            sa.update(WhatsappAutomacaoAgendamento)
            .where(WhatsappAutomacaoAgendamento.id == id_pendente)
            .values(status="ENVIADO")
        )
    eventos = list(EstadoLeads.confirmar_acao_job.fn(estado))
    assert _status(id_pendente) == "ENVIADO"
    assert estado.agendamentos[2]["status"] == "ENVIADO"
    assert _auditoria() == []
    assert "já era outro" in str(eventos[-1])


def test_vendedor_nao_pode_agir_nos_envios(gaveta) -> None:  # type: ignore[no-untyped-def]
    estado, jobs = gaveta(Perfil.VENDEDOR.value)
    id_erro, id_incerto, id_pendente = jobs
    assert not estado.pode_operar_envios
    for acao, id_job in (
        ("reenviar", id_erro),
        ("marcar_enviado", id_incerto),
        ("cancelar", id_pendente),
    ):
        with pytest.raises(SemPermissao):
            EstadoLeads.pedir_acao_job.fn(estado, acao, id_job)
        assert not estado.confirmacao_job_aberta
    # Even with the dialog state forced open, the confirmation checks the role again.
    estado.acao_job, estado.id_job_acao = "reenviar", id_erro
    with pytest.raises(SemPermissao):
        list(EstadoLeads.confirmar_acao_job.fn(estado))
    assert [_status(j) for j in jobs] == ["ERRO", "INCERTO", "PENDENTE"]
    assert _auditoria() == []


def test_linha_sem_dados_da_fila_ainda_traduz_o_erro() -> None:
    from zoneinfo import ZoneInfo

    job = {
        "id": "j",
        "id_etapa": "removida",
        "agendado_para": "2026-11-25T13:00:00+00:00",
        "enviado_em": None,
        "status": "INCERTO",
        "chave_idempotencia": "a:b",
        "ultimo_erro": "ReadTimeout: timed out",
        "tentativas": 2,
        "motivo_cancelamento": None,
    }
    linha = linha_agendamento(job, {}, ZoneInfo("America/Sao_Paulo"))
    assert linha["etapa"] == "Etapa removida" and linha["mensagem"] == ""
    assert linha["erro"] == "O provedor demorou demais para responder."
    assert linha["marcavel"] and linha["reenviavel"] and not linha["cancelavel"]


def test_linha_do_tempo_em_ordem_de_horario_e_de_etapa() -> None:
    """Steps due at the same moment (a 0-minute step held for the sending window's opening,
    the next step due then too) show in step order; otherwise by due time."""
    from whatsapp_app.modules.leads.dados_gaveta import em_ordem_do_tempo

    etapas = {"e1": (1, "A"), "e2": (2, "A"), "e3": (3, "A")}
    jobs = [
        {"id": "c", "id_etapa": "e3", "agendado_para": "2026-12-03T11:00:00Z"},
        {"id": "b", "id_etapa": "e2", "agendado_para": "2026-12-02T11:00:00Z"},
        {"id": "a", "id_etapa": "e1", "agendado_para": "2026-12-02T11:00:00.000000Z"},
        {"id": "z", "id_etapa": "e3", "agendado_para": "2026-12-02T10:59:59.5Z"},
    ]
    assert [j["id"] for j in em_ordem_do_tempo(jobs, etapas)] == ["z", "a", "b", "c"]
