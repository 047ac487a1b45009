"""Conversation-aware follow-ups: a reply stops them, an opt-out ends them, nothing half-written.

Inbound messages arrive through the real authenticated webhooks, shaped as Evolution v2 sends
``messages.upsert`` (see whatsapp_app/providers/evolution.py for the source of the shape).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlmodel import select

from tests.factories import criar_automacao, criar_empresa, criar_lead, login, mover
from tests.test_webhooks import SEGREDO, evolution, instancia
from whatsapp_app import db
from whatsapp_app.conversa import eh_optout, normalizar_palavra
from whatsapp_app.models import (
    AuditoriaLead,
    Lead,
    WhatsappAutomacaoAgendamento,
    WhatsappMensagem,
)
from whatsapp_app.providers.base import Desfecho, ResultadoEnvio
from whatsapp_app.tempo import agora
from whatsapp_app.whatsapp_automations import processar_agendamentos_follow_up_whatsapp

TELEFONE = "+5511987654321"
assert SEGREDO


def upsert(
    id_instancia: str,
    telefone: str = "5511987654321",
    texto: str = "Oi, tenho interesse sim",
    *,
    key_id: str = "3EB0C431C26A1916E07A",
    de_mim: bool = False,
) -> dict[str, Any]:
    """An Evolution v2 ``messages.upsert`` delivery for a contact's text message."""
    return {
        "event": "messages.upsert",
        "instance": id_instancia,
        "data": {
            "key": {"remoteJid": f"{telefone}@s.whatsapp.net", "fromMe": de_mim, "id": key_id},
            "pushName": "Maria Silva",
            "status": "DELIVERY_ACK",
            "message": {"conversation": texto},
            "messageType": "conversation",
            "messageTimestamp": int(agora().timestamp()),
            "instanceId": "7b2e4c1a-0000-4000-8000-000000000001",
            "source": "android",
        },
        "destination": "http://127.0.0.1/api/webhooks/evolution/x",
        "date_time": agora().isoformat(),
        "sender": "5511900000000@s.whatsapp.net",
        "server_url": "http://127.0.0.1:8765",
        "apikey": "chave",
    }


def jobs_do_lead(id_lead: str) -> list[WhatsappAutomacaoAgendamento]:
    with db.sessao() as s:
        return list(
            s.exec(
                select(WhatsappAutomacaoAgendamento).where(
                    WhatsappAutomacaoAgendamento.id_lead == id_lead
                )
            ).all()
        )


def ler_lead(id_lead: str) -> Lead:
    with db.sessao() as s:
        lead = s.get(Lead, id_lead)
        assert lead is not None
        return lead


def mensagens() -> list[WhatsappMensagem]:
    with db.sessao() as s:
        return list(s.exec(select(WhatsappMensagem)).all())


def contador(nome: str) -> float:
    return REGISTRY.get_sample_value(f"{nome}_total") or 0.0


class ProvedorRoteirizado:
    """A provider double for the dispatcher: records sends, can hold a send until released."""

    def __init__(self, desfecho: Desfecho = Desfecho.ACEITO, *, segurar: bool = False) -> None:
        self.envios: list[dict[str, Any]] = []
        self.desfecho = desfecho
        self.em_envio = threading.Event()
        self.liberar = threading.Event()
        if not segurar:
            self.liberar.set()

    def enviar_texto(self, *, numero_e164: str, texto: str, id_agendamento: str) -> ResultadoEnvio:
        self.envios.append({"numero": numero_e164, "texto": texto, "id": id_agendamento})
        self.em_envio.set()
        assert self.liberar.wait(10), "o teste não liberou o envio"
        if self.desfecho == Desfecho.ACEITO:
            # One id per send, as a provider gives (sends run in parallel threads).
            return ResultadoEnvio(Desfecho.ACEITO, provider_message_id=f"3EB0{id_agendamento}")
        return ResultadoEnvio(self.desfecho, erro="Falha temporária", tentar_apos_s=0.001)


@pytest.fixture
def cenario(cliente):  # type: ignore[no-untyped-def]
    """Lead 1 and lead 2 moved into "Qualificado": automation A (stops on reply, steps at 0, 60
    and 1440 min) and automation B (does not stop, one step at 60 min) scheduled both."""
    empresa = criar_empresa()
    id_instancia = instancia(empresa)
    a = criar_automacao(empresa, estagio=1, atrasos=(0, 60, 1440), id_instancia=id_instancia)
    b = criar_automacao(
        empresa, estagio=1, atrasos=(60,), id_instancia=id_instancia, parar_ao_responder=False
    )
    lead1 = criar_lead(empresa, telefone=TELEFONE)
    lead2 = criar_lead(empresa, nome="João Souza", telefone="+5521999998888")
    for lead in (lead1, lead2):
        assert mover(empresa, lead, 1).agendamentos_criados == 4
    return empresa, id_instancia, a, b, lead1, lead2


# --- stop on reply -----------------------------------------------------------------------------


def test_resposta_cancela_so_as_automacoes_que_param_e_so_do_lead(cliente, cenario) -> None:
    empresa, id_instancia, a, b, lead1, lead2 = cenario
    antes = contador("jobs_cancelados_resposta")

    resposta = evolution(cliente, id_instancia, upsert(id_instancia))

    assert resposta.status_code == 200, resposta.text
    assert resposta.json() == {"ok": True, "resultado": "mensagem_registrada"}
    por_automacao = {
        (j.id_whatsapp_automacao, j.status, j.motivo_cancelamento) for j in jobs_do_lead(lead1)
    }
    assert por_automacao == {(a, "CANCELADO", "lead_respondeu"), (b, "PENDENTE", None)}
    assert {j.status for j in jobs_do_lead(lead2)} == {"PENDENTE"}
    assert contador("jobs_cancelados_resposta") - antes == 3
    [mensagem] = mensagens()
    assert (mensagem.id_lead, mensagem.direcao, mensagem.texto, mensagem.telefone) == (
        lead1,
        "entrada",
        "Oi, tenho interesse sim",
        "5511987654321",
    )
    assert mensagem.nome_contato == "Maria Silva"
    assert ler_lead(lead1).ultima_resposta_em is not None
    assert ler_lead(lead2).ultima_resposta_em is None

    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    lead_api = cliente.get(f"/api/leads/{lead1}", headers=cabecalho).json()
    assert lead_api["resposta_nao_lida"] is True
    conversa = cliente.get(f"/api/leads/{lead1}/mensagens", headers=cabecalho).json()
    assert conversa["total"] == 1
    assert conversa["itens"][0]["direcao"] == "entrada"
    assert conversa["itens"][0]["texto"] == "Oi, tenho interesse sim"


def test_webhook_repetido_nao_grava_nada_duas_vezes(cliente, cenario) -> None:
    _empresa, id_instancia, _a, _b, lead1, _lead2 = cenario
    primeira = evolution(cliente, id_instancia, upsert(id_instancia))
    ultima_resposta = ler_lead(lead1).ultima_resposta_em
    segunda = evolution(cliente, id_instancia, upsert(id_instancia))
    assert primeira.json()["resultado"] == "mensagem_registrada"
    assert segunda.json()["resultado"] == "mensagem_duplicada"
    assert len(mensagens()) == 1
    assert ler_lead(lead1).ultima_resposta_em == ultima_resposta


@pytest.mark.parametrize(
    ("telefone_lead", "remetente"),
    [("+5511987654321", "551187654321"), ("+551187654321", "5511987654321")],
    ids=["lead-com-9-remetente-sem", "lead-sem-9-remetente-com"],
)
def test_nono_digito_casa_nos_dois_sentidos(cliente, telefone_lead, remetente) -> None:
    empresa = criar_empresa()
    id_instancia = instancia(empresa)
    criar_automacao(empresa, estagio=1, atrasos=(0,), id_instancia=id_instancia)
    lead = criar_lead(empresa, telefone=telefone_lead)
    mover(empresa, lead, 1)
    evolution(cliente, id_instancia, upsert(id_instancia, remetente))
    assert [m.id_lead for m in mensagens()] == [lead]
    assert [j.status for j in jobs_do_lead(lead)] == ["CANCELADO"]


def test_fixo_nao_ganha_nono_digito(cliente) -> None:
    """A landline (local number starting 2-5) is never matched to a mobile with a 9."""
    empresa = criar_empresa()
    id_instancia = instancia(empresa)
    criar_lead(empresa, telefone="+5511932654321")
    evolution(cliente, id_instancia, upsert(id_instancia, "551132654321"))
    assert [m.id_lead for m in mensagens()] == [None]


def test_remetente_desconhecido_fica_guardado_sem_tocar_em_jobs(cliente, cenario) -> None:
    _empresa, id_instancia, _a, _b, lead1, lead2 = cenario
    resposta = evolution(cliente, id_instancia, upsert(id_instancia, "5531988887777"))
    assert resposta.status_code == 200
    [mensagem] = mensagens()
    assert mensagem.id_lead is None and mensagem.telefone == "5531988887777"
    assert {j.status for j in jobs_do_lead(lead1) + jobs_do_lead(lead2)} == {"PENDENTE"}


def test_mensagem_de_outra_empresa_nao_toca_nos_leads_desta(cliente) -> None:
    a = criar_empresa("A", sufixo="a")
    b = criar_empresa("B", sufixo="b")
    instancia_a = instancia(a)
    lead_b = criar_lead(b, telefone=TELEFONE)
    criar_automacao(b, estagio=1, atrasos=(0,))
    mover(b, lead_b, 1)
    evolution(cliente, instancia_a, upsert(instancia_a))
    [mensagem] = mensagens()
    assert mensagem.id_empresa == a.id and mensagem.id_lead is None
    assert [j.status for j in jobs_do_lead(lead_b)] == ["PENDENTE"]


def _injetar_falha_ao_cancelar(banco) -> None:  # type: ignore[no-untyped-def]
    """A real database error inside the reply's transaction, after the message insert."""
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
                    "CREATE TRIGGER falha BEFORE UPDATE ON whatsapp_automacao_agendamento "
                    "FOR EACH ROW EXECUTE FUNCTION falha_injetada()"
                )
            )
        else:
            c.execute(
                sa.text(
                    "CREATE TRIGGER falha BEFORE UPDATE ON whatsapp_automacao_agendamento "
                    "BEGIN SELECT RAISE(ABORT, 'falha injetada'); END"
                )
            )


def test_falha_no_meio_nao_deixa_nada_pela_metade(cliente, banco, cenario) -> None:
    _empresa, id_instancia, _a, _b, lead1, _lead2 = cenario
    _injetar_falha_ao_cancelar(banco)
    try:
        resposta = evolution(cliente, id_instancia, upsert(id_instancia))
    finally:
        with db.engine().begin() as c:
            alvo = " ON whatsapp_automacao_agendamento" if banco.eh_postgres else ""
            c.execute(sa.text("DROP TRIGGER falha" + alvo))
            if banco.eh_postgres:
                c.execute(sa.text("DROP FUNCTION falha_injetada()"))
    assert resposta.status_code == 500  # the provider retries the delivery later
    assert mensagens() == []
    assert ler_lead(lead1).ultima_resposta_em is None
    assert {j.status for j in jobs_do_lead(lead1)} == {"PENDENTE"}


def test_job_em_processamento_termina_normalmente(cliente, cenario) -> None:
    _empresa, id_instancia, a, _b, lead1, _lead2 = cenario
    provedor = ProvedorRoteirizado(segurar=True)
    despacho = threading.Thread(
        target=processar_agendamentos_follow_up_whatsapp,
        kwargs={"fabrica_provedor": lambda _i: provedor},
    )
    despacho.start()
    try:
        assert provedor.em_envio.wait(10)
        evolution(cliente, id_instancia, upsert(id_instancia, texto="Pode me ligar?"))
    finally:
        provedor.liberar.set()
        despacho.join(10)
    status = [(j.id_whatsapp_automacao, j.status) for j in jobs_do_lead(lead1)]
    assert (a, "ENVIADO") in status, "the job in flight was not interrupted"
    assert sorted(s for _, s in status) == ["CANCELADO", "CANCELADO", "ENVIADO", "PENDENTE"]
    saida = [m for m in mensagens() if m.direcao == "saida" and m.id_lead == lead1]
    assert len(saida) == 1 and saida[0].texto == "Olá Maria, passo 1"


def test_retentativa_depois_da_resposta_nao_sai(cliente, cenario) -> None:
    """A job PROCESSANDO when the lead replied, then put back to PENDENTE by a retryable
    failure, is refused at its next claim: the lead already answered."""
    _empresa, id_instancia, a, _b, lead1, _lead2 = cenario
    provedor = ProvedorRoteirizado(Desfecho.RETENTAVEL, segurar=True)
    despacho = threading.Thread(
        target=processar_agendamentos_follow_up_whatsapp,
        kwargs={"fabrica_provedor": lambda _i: provedor},
    )
    despacho.start()
    try:
        assert provedor.em_envio.wait(10)
        evolution(cliente, id_instancia, upsert(id_instancia))
    finally:
        provedor.liberar.set()
        despacho.join(10)
    with db.sessao() as s:  # the retry is due now
        s.execute(
            sa.update(WhatsappAutomacaoAgendamento)
            .where(WhatsappAutomacaoAgendamento.status == "PENDENTE")
            .values(agendado_para=agora())
        )
    envios_antes = len(provedor.envios)
    resumo = processar_agendamentos_follow_up_whatsapp(fabrica_provedor=lambda _i: provedor)
    assert resumo["cancelled"] >= 1
    assert [j.motivo_cancelamento for j in jobs_do_lead(lead1) if j.id_whatsapp_automacao == a] == [
        "lead_respondeu"
    ] * 3
    jobs_de_a = {j.id for j in jobs_do_lead(lead1) if j.id_whatsapp_automacao == a}
    assert not jobs_de_a & {e["id"] for e in provedor.envios[envios_antes:]}


# --- opt-out -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "texto", ["sair", "SAIR", " Sáir!! ", "S A I R", "pãrar.", "Stop", "descadastrar", "cancelar"]
)
def test_palavras_de_optout_ignoram_caixa_acento_espaco_e_pontuacao(texto: str) -> None:
    assert eh_optout(texto, ["SAIR", "PARAR", "STOP", "CANCELAR", "DESCADASTRAR"])


@pytest.mark.parametrize("texto", ["quero sair da lista?", "sairr", "", "👍", "não pare"])
def test_frase_que_so_contem_a_palavra_nao_e_optout(texto: str) -> None:
    assert not eh_optout(texto, ["SAIR", "PARAR"])


def test_normalizar_palavra() -> None:
    assert normalizar_palavra("  Descadastrár-me! ") == "DESCADASTRARME"


def test_optout_cancela_tudo_e_nada_mais_e_agendado(cliente, cenario) -> None:
    empresa, id_instancia, _a, _b, lead1, lead2 = cenario
    criar_automacao(empresa, estagio=2, atrasos=(0,))
    resposta = evolution(cliente, id_instancia, upsert(id_instancia, texto="  Sáir!! "))
    assert resposta.status_code == 200
    assert ler_lead(lead1).optout_em is not None
    assert {(j.status, j.motivo_cancelamento) for j in jobs_do_lead(lead1)} == {
        ("CANCELADO", "lead_optout")
    }
    assert {j.status for j in jobs_do_lead(lead2)} == {"PENDENTE"}

    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    movido = cliente.patch(
        f"/api/leads/{lead1}/mover",
        json={"id_estagio_destino": empresa.estagios[2]},
        headers=cabecalho,
    )
    assert movido.json()["agendamentos_criados"] == 0
    assert cliente.get(f"/api/leads/{lead1}", headers=cabecalho).json()["optout_em"] is not None


def test_job_reivindicado_depois_do_optout_nao_sai(cliente, cenario) -> None:
    _empresa, _id_instancia, _a, _b, lead1, _lead2 = cenario
    with db.sessao() as s:  # the opt-out landed between scheduling and the claim
        s.execute(sa.update(Lead).where(Lead.id == lead1).values(optout_em=agora()))
    provedor = ProvedorRoteirizado()
    resumo = processar_agendamentos_follow_up_whatsapp(fabrica_provedor=lambda _i: provedor)
    assert resumo["cancelled"] == 1 and resumo["sent"] == 1  # lead 2's first step went out
    assert [e["numero"] for e in provedor.envios] == ["+5521999998888"]
    [recusado] = [j for j in jobs_do_lead(lead1) if j.status == "CANCELADO"]
    assert (recusado.motivo_cancelamento, recusado.tentativas) == ("lead_optout", 0)


def test_optin_por_gestor_e_auditado_e_vendedor_recebe_403(cliente, cenario) -> None:
    empresa, id_instancia, _a, _b, lead1, _lead2 = cenario
    evolution(cliente, id_instancia, upsert(id_instancia, texto="PARAR"))
    vendedor = login(cliente, empresa.usuarios["vendedor"])
    gestor = login(cliente, empresa.usuarios["gestor"])

    proibido = cliente.post(f"/api/leads/{lead1}/optin", headers=vendedor)
    assert proibido.status_code == 403
    assert ler_lead(lead1).optout_em is not None

    liberado = cliente.post(f"/api/leads/{lead1}/optin", headers=gestor)
    assert liberado.status_code == 200, liberado.text
    assert liberado.json()["optout_em"] is None
    with db.sessao() as s:
        [auditoria] = s.exec(select(AuditoriaLead)).all()
    assert (auditoria.id_lead, auditoria.acao, auditoria.id_usuario) == (
        lead1,
        "optin",
        empresa.ids_usuarios["gestor"],
    )
    # Scheduling works again.
    criar_automacao(empresa, estagio=2, atrasos=(0,))
    assert mover(empresa, lead1, 2).agendamentos_criados == 1

    outra = criar_empresa("Outra", sufixo="z")
    assert (
        cliente.post(
            f"/api/leads/{lead1}/optin", headers=login(cliente, outra.usuarios["admin"])
        ).status_code
        == 404
    )


def test_palavras_da_empresa_substituem_as_padrao(cliente, cenario) -> None:
    empresa, id_instancia, _a, _b, lead1, lead2 = cenario
    admin = login(cliente, empresa.usuarios["admin"])
    atualizada = cliente.patch(
        "/api/empresa", json={"palavras_optout": ["Chega", "não quero"]}, headers=admin
    )
    assert atualizada.status_code == 200, atualizada.text
    assert atualizada.json()["palavras_optout"] == ["Chega", "não quero"]
    evolution(cliente, id_instancia, upsert(id_instancia, texto="sair", key_id="A1"))
    assert ler_lead(lead1).optout_em is None  # "sair" is now a plain reply
    evolution(
        cliente, id_instancia, upsert(id_instancia, "5521999998888", "Não quero!", key_id="A2")
    )
    assert ler_lead(lead2).optout_em is not None

    invalida = cliente.patch("/api/empresa", json={"palavras_optout": ["!!"]}, headers=admin)
    assert invalida.status_code == 422
    assert "palavras_optout" in invalida.json()["erro"]["campos"]
    vazia = cliente.patch("/api/empresa", json={"palavras_optout": []}, headers=admin)
    assert vazia.status_code == 422


# --- the conversation API ----------------------------------------------------------------------


def test_conversa_paginada_sem_buraco_nem_repeticao(cliente, cenario) -> None:
    empresa, id_instancia, _a, _b, lead1, _lead2 = cenario
    for i in range(120):
        evolution(cliente, id_instancia, upsert(id_instancia, texto=f"msg {i}", key_id=f"K{i:03d}"))
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    vistos: list[str] = []
    cursor = None
    paginas = 0
    while True:
        params: dict[str, Any] = {"limite": 50}
        if cursor:
            params["cursor"] = cursor
        pagina = cliente.get(f"/api/leads/{lead1}/mensagens", params=params, headers=cabecalho)
        assert pagina.status_code == 200, pagina.text
        corpo = pagina.json()
        assert corpo["total"] == 120
        vistos += [m["id"] for m in corpo["itens"]]
        paginas += 1
        cursor = corpo["proximo_cursor"]
        if cursor is None:
            break
    assert paginas == 3 and len(vistos) == len(set(vistos)) == 120

    for params in ({"limite": 0}, {"limite": 201}, {"cursor": "nao-e-um-cursor"}):
        ruim = cliente.get(f"/api/leads/{lead1}/mensagens", params=params, headers=cabecalho)
        assert ruim.status_code == 422, (params, ruim.text)
    outra = criar_empresa("Outra", sufixo="z")
    alheio = cliente.get(
        f"/api/leads/{lead1}/mensagens", headers=login(cliente, outra.usuarios["vendedor"])
    )
    assert alheio.status_code == 404


# --- automation options ------------------------------------------------------------------------


def test_automacao_guarda_parar_ao_responder_e_modelo_da_etapa(cliente) -> None:
    empresa = criar_empresa()
    id_instancia = instancia(empresa)
    gestor = login(cliente, empresa.usuarios["gestor"])
    modelo = {
        "nome": "retomada_contato",
        "idioma": "pt_BR",
        "variaveis": ["{{primeiro_nome}}"],
        "corpo": "Olá {{1}}!",
    }
    corpo = {
        "nome": "Retomada",
        "id_estagio_trigger": empresa.estagios[1],
        "id_whatsapp_instancia": id_instancia,
        "etapas": [{"ordem": 1, "atraso_minutos": 0, "mensagem": "Oi {{nome}}", "modelo": modelo}],
    }
    criada = cliente.post("/api/whatsapp/automations", json=corpo, headers=gestor)
    assert criada.status_code == 201, criada.text
    assert criada.json()["parar_ao_responder"] is True  # the default
    assert criada.json()["etapas"][0]["modelo"] == modelo

    editada = cliente.patch(
        f"/api/whatsapp/automations/{criada.json()['id']}",
        json={"parar_ao_responder": False},
        headers=gestor,
    )
    assert editada.status_code == 200, editada.text
    assert editada.json()["parar_ao_responder"] is False


@pytest.mark.parametrize(
    ("modelo", "campo"),
    [
        ({"nome": "Com Espaço", "variaveis": []}, "etapas.0.modelo.nome"),
        ({"nome": "ok", "idioma": "portugues", "variaveis": []}, "etapas.0.modelo.idioma"),
        ({"nome": "ok", "variaveis": ["{{telefone}}"]}, "etapas.0.modelo.variaveis"),
        ({"nome": "ok", "variaveis": ["x"] * 21}, "etapas.0.modelo.variaveis"),
        ({"variaveis": []}, "etapas.0.modelo.nome"),
    ],
)
def test_modelo_invalido_e_422_com_o_campo(cliente, modelo, campo) -> None:
    empresa = criar_empresa()
    gestor = login(cliente, empresa.usuarios["gestor"])
    corpo = {
        "nome": "Retomada",
        "id_estagio_trigger": empresa.estagios[1],
        "id_whatsapp_instancia": instancia(empresa),
        "etapas": [{"ordem": 1, "atraso_minutos": 0, "mensagem": "Oi", "modelo": modelo}],
    }
    resposta = cliente.post("/api/whatsapp/automations", json=corpo, headers=gestor)
    assert resposta.status_code == 422, resposta.text
    assert campo in resposta.json()["erro"]["campos"], resposta.json()
