"""Tenant isolation: another company's ids answer 404 on every route, 422 inside bodies.

The route list comes from the live OpenAPI schema, so a new route with an id in its path
fails this test until it is covered here.
"""

from __future__ import annotations

import pytest

from tests.factories import criar_automacao, criar_empresa, criar_instancia, criar_lead, login
from whatsapp_app.api import criar_api

# Provider webhooks carry no user session: they authenticate by the instance's own secret, so
# another company's caller (any caller without it) gets 401 there, and nothing is written.
ESPERADO = {("post", "/api/webhooks/evolution/{id_instancia}"): (401, "webhook_nao_autenticado")}

CORPOS = {
    ("patch", "/api/leads/{id_lead}/mover"): lambda b: {"id_estagio_destino": b.estagios[1]},
    ("patch", "/api/whatsapp/automations/{id_automacao}"): lambda b: {"nome": "invasão"},
    ("post", "/api/whatsapp/automations/{id_automacao}/retomar"): lambda b: {"vencidos": "enviar"},
    ("patch", "/api/whatsapp/instances/{id_instancia}"): lambda b: {"nome": "invasão"},
}


def _rotas_com_id() -> set[tuple[str, str]]:
    caminhos = criar_api().openapi()["paths"]
    return {(m, p) for p, metodos in caminhos.items() if "{" in p for m in metodos}


def test_toda_rota_com_id_esta_coberta():
    assert _rotas_com_id() == {
        ("get", "/api/leads/{id_lead}"),
        ("patch", "/api/leads/{id_lead}/mover"),
        ("get", "/api/leads/{id_lead}/mensagens"),
        ("post", "/api/leads/{id_lead}/optin"),
        ("get", "/api/whatsapp/automations/{id_automacao}"),
        ("patch", "/api/whatsapp/automations/{id_automacao}"),
        ("delete", "/api/whatsapp/automations/{id_automacao}"),
        ("post", "/api/whatsapp/automations/{id_automacao}/retomar"),
        ("post", "/api/whatsapp/automations/{id_automacao}/cancelar-pendentes"),
        ("post", "/api/whatsapp/agendamentos/{id_agendamento}/{acao}"),
        ("get", "/api/whatsapp/instances/{id_instancia}/status"),
        ("get", "/api/whatsapp/instances/{id_instancia}/modelos"),
        ("post", "/api/whatsapp/instances/{id_instancia}/connect"),
        ("post", "/api/whatsapp/instances/{id_instancia}/restart"),
        ("post", "/api/whatsapp/instances/{id_instancia}/logout"),
        ("patch", "/api/whatsapp/instances/{id_instancia}"),
        ("delete", "/api/whatsapp/instances/{id_instancia}"),
        ("post", "/api/webhooks/evolution/{id_instancia}"),
        ("get", "/api/whatsapp/dispatches/{id_disparo}"),
        ("post", "/api/whatsapp/dispatches/{id_disparo}/cancelar"),
    }


def _disparo_em_andamento(id_empresa: str) -> str:
    from whatsapp_app import db, disparos

    with db.sessao() as s:
        return disparos.iniciar_disparo(
            sessao=s, id_empresa=id_empresa, id_usuario=None, nome_usuario=None
        ).id


def test_ids_de_outra_empresa_respondem_404_em_toda_rota(cliente):
    vitima = criar_empresa("Vítima", sufixo="a")
    lead_vitima = criar_lead(vitima)
    instancia_vitima = criar_instancia(vitima)
    automacao_vitima = criar_automacao(vitima, id_instancia=instancia_vitima)
    dono = login(cliente, vitima.usuarios["admin"])
    cliente.patch(
        f"/api/leads/{lead_vitima}/mover",
        json={"id_estagio_destino": vitima.estagios[1]},
        headers=dono,
    )
    jobs_vitima = cliente.get("/api/whatsapp/agendamentos", headers=dono).json()["itens"]
    invasor = criar_empresa("Invasor", sufixo="b")
    cabecalho = login(cliente, invasor.usuarios["admin"])
    ids = {
        "id_lead": lead_vitima,
        "id_automacao": automacao_vitima,
        "id_agendamento": jobs_vitima[0]["id"],
        "acao": "cancelar",
        "id_instancia": instancia_vitima,
        "id_disparo": _disparo_em_andamento(vitima.id),
    }

    for metodo, caminho in sorted(_rotas_com_id()):
        url = caminho.format(**ids)
        corpo = CORPOS.get((metodo, caminho), lambda _b: None)(vitima)
        resposta = cliente.request(metodo.upper(), url, json=corpo, headers=cabecalho)
        status, codigo = ESPERADO.get((metodo, caminho), (404, "nao_encontrado"))
        assert resposta.status_code == status, (metodo, caminho, resposta.text)
        assert resposta.json()["erro"]["codigo"] == codigo

    # The victim's data is untouched and still visible to its own users.
    assert {
        j["status"] for j in cliente.get("/api/whatsapp/agendamentos", headers=dono).json()["itens"]
    } == {"PENDENTE"}
    assert (
        cliente.get(f"/api/leads/{lead_vitima}", headers=dono).json()["id_estagio"]
        == vitima.estagios[1]
    )
    assert (
        cliente.get(f"/api/whatsapp/automations/{automacao_vitima}", headers=dono).json()["nome"]
        == "Automação"
    )
    assert [
        i["id"] for i in cliente.get("/api/whatsapp/instances", headers=dono).json()["itens"]
    ] == [instancia_vitima]
    status_vitima = cliente.get(f"/api/whatsapp/instances/{instancia_vitima}/status", headers=dono)
    assert status_vitima.json()["status"] == "desconectado"


def test_listas_so_mostram_a_propria_empresa(cliente):
    a = criar_empresa("A", sufixo="a")
    b = criar_empresa("B", sufixo="b")
    criar_lead(a, nome="Lead de A")
    criar_automacao(a)
    cabecalho = login(cliente, b.usuarios["admin"])
    assert cliente.get("/api/leads", headers=cabecalho).json()["itens"] == []
    assert cliente.get("/api/whatsapp/automations", headers=cabecalho).json()["itens"] == []
    assert cliente.get("/api/whatsapp/agendamentos", headers=cabecalho).json()["itens"] == []
    assert cliente.get("/api/whatsapp/instances", headers=cabecalho).json()["itens"] == []
    assert [
        e["id"] for e in cliente.get("/api/estagios", headers=cabecalho).json()["itens"]
    ] == b.estagios
    assert cliente.get("/api/empresa", headers=cabecalho).json()["nome"] == "B"


@pytest.mark.parametrize(
    ("metodo", "url", "corpo", "campo"),
    [
        (
            "post",
            "/api/leads",
            lambda a: {"nome": "X", "telefone": "+5511987650000", "id_estagio": a.estagios[0]},
            "id_estagio",
        ),
        (
            "post",
            "/api/whatsapp/automations",
            lambda a: {
                "nome": "X",
                "id_estagio_trigger": a.estagios[0],
                "id_whatsapp_instancia": "x" * 32,
                "etapas": [{"ordem": 1, "atraso_minutos": 0, "mensagem": "oi"}],
            },
            "id_estagio_trigger",
        ),
    ],
)
def test_ids_de_outra_empresa_no_corpo_sao_422(cliente, metodo, url, corpo, campo):
    vitima = criar_empresa("Vítima", sufixo="a")
    invasor = criar_empresa("Invasor", sufixo="b")
    cabecalho = login(cliente, invasor.usuarios["admin"])
    resposta = cliente.request(metodo.upper(), url, json=corpo(vitima), headers=cabecalho)
    assert resposta.status_code == 422
    assert campo in resposta.json()["erro"]["campos"]
