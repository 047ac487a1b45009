"""The demo seed is idempotent, valid and honours DEMO_SENHA."""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from sqlmodel import select

from tests.factories import login
from tests.providers.falso import esperar
from tests.test_instancias import _sem_provedores_reais, sim  # noqa: F401  (fixtures)
from tests.test_webhooks import ponte  # noqa: F401  (fixture)
from whatsapp_app import db
from whatsapp_app.config import configuracoes
from whatsapp_app.cripto import decifrar_config
from whatsapp_app.instancias import url_webhook
from whatsapp_app.models import (
    Empresa,
    Estagio,
    Lead,
    Usuario,
    WhatsappAutomacaoAgendamento,
    WhatsappInstancia,
)
from whatsapp_app.providers.evolution import CABECALHO_SEGREDO_WEBHOOK
from whatsapp_app.seed import ESTAGIOS_DEMO, semear
from whatsapp_app.simulador import preparar
from whatsapp_app.simulador.preparar import conectar_simuladores
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import normalizar_telefone


def _instancia(id_instancia: str) -> WhatsappInstancia:
    with db.sessao() as s:
        linha = s.get(WhatsappInstancia, id_instancia)
        assert linha is not None
        return linha


def _contagens() -> tuple[int, int, int, int]:
    with db.sessao() as s:
        return tuple(
            s.exec(select(sa.func.count()).select_from(m)).one()
            for m in (Empresa, Estagio, Lead, Usuario)
        )  # type: ignore[return-value]


def test_seed_cria_uma_vez_e_reaproveita(banco, cliente, monkeypatch):
    monkeypatch.setenv("DEMO_SENHA", "demo-senha-1")
    configuracoes.cache_clear()
    assert semear() == ("demo-senha-1", False, True)
    primeira = _contagens()
    assert semear()[2] is False
    assert _contagens() == primeira == (1, 6, 30, 3)

    with db.sessao() as s:
        assert [e.nome for e in s.exec(select(Estagio).order_by(Estagio.ordem)).all()] == [
            n for n, _c in ESTAGIOS_DEMO
        ]
        telefones = [lead.telefone for lead in s.exec(select(Lead)).all()]
    assert len(set(telefones)) == 30
    assert all(normalizar_telefone(t) == t and t.startswith("+55") for t in telefones)

    entra = lambda senha: (
        cliente.post(
            "/api/auth/login", json={"email": "admin@demo.com.br", "senha": senha}
        ).status_code
    )
    assert entra("demo-senha-1") == 200
    # A new DEMO_SENHA on a later run replaces the demo users' password.
    monkeypatch.setenv("DEMO_SENHA", "outra-senha-2")
    configuracoes.cache_clear()
    semear()
    assert entra("outra-senha-2") == 200
    assert entra("demo-senha-1") == 401


def test_demo_cria_e_conecta_a_instancia_no_simulador(banco, sim, monkeypatch):  # noqa: F811
    """``make run``: the simulator starts empty every time; ``simulador.preparar`` creates the
    seeded instance there, points its webhook at the app (replies included) and pairs it."""
    monkeypatch.setenv("DEMO_SENHA", "demo-senha-1")
    configuracoes.cache_clear()
    semear()
    with db.sessao() as s:
        (instancia,) = s.exec(select(WhatsappInstancia)).all()
    assert not sim.simulador.existe(instancia.id)

    assert preparar.main(["--sem-esperar-app", "--limite-s", "5"]) == 0
    webhook = sim.simulador.webhook(instancia.id)
    assert webhook is not None
    assert webhook["url"] == url_webhook(instancia)
    assert "MESSAGES_UPSERT" in webhook["events"]
    segredo = decifrar_config(_instancia(instancia.id).config_cifrada)["segredo_webhook"]
    assert webhook["headers"][CABECALHO_SEGREDO_WEBHOOK] == segredo
    assert sim.simulador.estado(instancia.id) == "connecting"  # the auto-scan pairs it next
    assert _instancia(instancia.id).status == "conectando"

    # Next `make run`: a fresh simulator, the same database (still "conectado" from before).
    sim.simulador.escanear(instancia.id)
    sim.simulador.resetar()
    assert conectar_simuladores() == {"instancias": 1, "conectadas": 1, "falhas": 0}
    assert sim.simulador.webhook(instancia.id)["headers"][CABECALHO_SEGREDO_WEBHOOK] == segredo
    # Deleted instances are left alone.
    with db.sessao() as s:
        linha = s.get(WhatsappInstancia, instancia.id)
        linha.excluida_em = agora()
        s.add(linha)
    assert conectar_simuladores() == {"instancias": 0, "conectadas": 0, "falhas": 0}


def test_preparar_desiste_sem_simulador_ou_sem_app(banco):
    # Nothing listens on either port (the autouse fixture points both at closed ports).
    assert preparar.main(["--limite-s", "0"]) == 1
    assert preparar.esperar_responder("http://127.0.0.1:9/x", limite_s=0) is False


def test_demo_de_ponta_a_ponta_o_contato_responde_e_os_follow_ups_param(
    banco,
    cliente,
    sim,  # noqa: F811
    ponte,  # noqa: F811
    monkeypatch,
):
    """The demo as ``make run`` plays it, over real sockets: preparar connects the seeded
    instance, a lead enters "Qualificado", the first follow-up goes out through the simulator,
    the contact answers from the simulator (``/__sim/responder``) and the app cancels the
    remaining steps (``lead_respondeu``)."""
    monkeypatch.setenv("DEMO_SENHA", "demo-senha-1")
    configuracoes.cache_clear()
    semear()
    assert conectar_simuladores()["conectadas"] == 1
    with db.sessao() as s:
        (instancia,) = s.exec(select(WhatsappInstancia)).all()
        estagios = s.exec(select(Estagio).order_by(Estagio.ordem)).all()
        lead = s.exec(select(Lead).where(Lead.id_estagio == estagios[0].id)).first()
        assert lead is not None
    admin = login(cliente, "admin@demo.com.br", "demo-senha-1")
    base = f"/api/whatsapp/instances/{instancia.id}"
    assert sim.simulador.escanear(instancia.id)  # the phone scans: the webhook tells the app
    esperar(lambda: cliente.get(f"{base}/status", headers=admin).json()["status"] == "conectado")

    # Any hour of any day: no sending window for this test.
    assert cliente.patch("/api/empresa", json={"janela_envio": None}, headers=admin).is_success
    movido = cliente.patch(
        f"/api/leads/{lead.id}/mover", json={"id_estagio_destino": estagios[1].id}, headers=admin
    )
    assert movido.json()["agendamentos_criados"] == 3, movido.text
    resumo = cliente.post("/api/whatsapp/automations/follow-up/dispatch", headers=admin).json()
    assert resumo["sent"] == 1, resumo
    (enviada,) = sim.simulador.mensagens()
    assert enviada["number"] == lead.telefone.lstrip("+")

    resposta = httpx.post(
        f"{sim.url}/__sim/responder",
        json={
            "instance": instancia.id,
            "number": enviada["number"],
            "text": "Oi! Tenho interesse, pode me ligar?",
            "formato": "lid",
            "id_resposta_a": enviada["key_id"],
        },
    )
    assert resposta.status_code == 201, resposta.text

    def estados() -> list[tuple[str, str | None]]:
        with db.sessao() as s:
            jobs = s.exec(
                select(WhatsappAutomacaoAgendamento).where(
                    WhatsappAutomacaoAgendamento.id_lead == lead.id
                )
            ).all()
            return sorted((j.status, j.motivo_cancelamento) for j in jobs)

    esperar(lambda: estados() == [("CANCELADO", "lead_respondeu")] * 2 + [("ENVIADO", None)])
    conversa = cliente.get(f"/api/leads/{lead.id}/mensagens", headers=admin).json()["itens"]
    # A set: Evolution's messageTimestamp has whole seconds, so a reply within the same second
    # as the send may sort before it.
    assert {(m["direcao"], m["texto"]) for m in conversa} == {
        ("saida", enviada["text"]),
        ("entrada", "Oi! Tenho interesse, pode me ligar?"),
    }
