"""Cloud API templates: ``waba_id`` in the instance config and
``GET /api/whatsapp/instances/{id}/modelos`` against a local fake Graph server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories import criar_empresa, criar_instancia, login
from tests.providers.falso import Resposta, ServidorFalso, porta_fechada, servidor_falso
from tests.test_instancias import (  # noqa: F401  (fixture)
    TOKEN_META,
    URL,
    _sem_provedores_reais,
    config_cloud,
    criar,
    instancia_do_banco,
)
from whatsapp_app.cripto import decifrar_config

WABA = "102290129340398"
CLASSE_DE_EXCECAO = re.compile(r"[A-Z]\w*(Error|Exception|Timeout)\b")
ROTA_MODELOS = f"/v21.0/{WABA}/message_templates"


def _modelo_graph(nome: str, idioma: str, corpo: str, status: str = "APPROVED") -> dict[str, Any]:
    """One ``message_templates`` item as Graph answers it."""
    return {
        "name": nome,
        "language": idioma,
        "status": status,
        "category": "MARKETING",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Oi"},
            {"type": "BODY", "text": corpo},
            {"type": "FOOTER", "text": "Demo Vendas"},
        ],
        "id": f"id-{nome}-{idioma}",
    }


@pytest.fixture
def graph() -> Iterator[ServidorFalso]:
    with servidor_falso() as servidor:
        yield servidor


def _cloud(cliente, cabecalho, graph_url: str, **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    resposta = criar(cliente, cabecalho, "cloud_api", {**config_cloud(graph_url), **extra})
    assert resposta.status_code == 201, resposta.text
    return resposta.json()  # type: ignore[no-any-return]


# --- waba_id -----------------------------------------------------------------------------------


def test_waba_id_e_opcional_validado_e_visivel(cliente) -> None:
    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    corpo = _cloud(cliente, admin, "https://graph.exemplo.com", waba_id=f"  {WABA} ")
    assert corpo["config"]["waba_id"] == WABA  # not a secret: shown as is
    assert decifrar_config(instancia_do_banco(corpo["id"]).config_cifrada)["waba_id"] == WABA
    sem = _cloud(cliente, admin, "https://graph.exemplo.com", phone_number_id="2", waba_id="")
    assert sem["config"]["waba_id"] is None

    for invalido in ("abc", "1" * 33, "12 34", 123):
        resposta = criar(
            cliente,
            admin,
            "cloud_api",
            {**config_cloud("https://g", phone_number_id="3"), "waba_id": invalido},
        )
        assert resposta.status_code == 422, (invalido, resposta.text)
        mensagem = resposta.json()["erro"]["campos"]["config.waba_id"]
        assert mensagem[0].isupper()  # a pt-BR sentence, not a pydantic code


# --- GET /instances/{id}/modelos ----------------------------------------------------------------


def test_modelos_aprovados_da_waba(cliente, graph: ServidorFalso) -> None:
    graph.rota(
        "GET",
        ROTA_MODELOS,
        Resposta(
            200,
            {
                "data": [
                    _modelo_graph("retomada", "pt_BR", "Oi {{1}}, podemos falar sobre {{2}}?"),
                    _modelo_graph("boas_vindas", "pt_BR", "Olá {{1}}! Bem-vindo, {{1}}."),
                    _modelo_graph("rascunho", "pt_BR", "Ainda não", status="PENDING"),
                    _modelo_graph("boas_vindas", "en_US", "Hello!"),
                ],
                "paging": {"cursors": {"before": "A", "after": "B"}},
            },
        ),
    )
    empresa = criar_empresa()
    admin, gestor = (login(cliente, empresa.usuarios[p]) for p in ("admin", "gestor"))
    instancia = _cloud(cliente, admin, graph.url, waba_id=WABA)

    resposta = cliente.get(f"{URL}/{instancia['id']}/modelos", headers=gestor)
    assert resposta.status_code == 200, resposta.text
    assert resposta.json() == {
        "itens": [
            {
                "nome": "boas_vindas",
                "idioma": "en_US",
                "corpo": "Hello!",
                "variaveis": 0,
                "categoria": "MARKETING",
            },
            {
                "nome": "boas_vindas",
                "idioma": "pt_BR",
                "corpo": "Olá {{1}}! Bem-vindo, {{1}}.",
                "variaveis": 1,
                "categoria": "MARKETING",
            },
            {
                "nome": "retomada",
                "idioma": "pt_BR",
                "corpo": "Oi {{1}}, podemos falar sobre {{2}}?",
                "variaveis": 2,
                "categoria": "MARKETING",
            },
        ],
        "proximo_cursor": None,
        "total": 3,
        "total_exato": True,
    }
    (consulta,) = graph.recebidas("GET", ROTA_MODELOS)
    assert consulta.cabecalhos["authorization"] == f"Bearer {TOKEN_META}"
    assert consulta.consulta["status"] == ["APPROVED"]

    # Pages of the contract's list shape, keyset on (nome, idioma).
    pagina = cliente.get(f"{URL}/{instancia['id']}/modelos?limite=2", headers=admin).json()
    assert [(m["nome"], m["idioma"]) for m in pagina["itens"]] == [
        ("boas_vindas", "en_US"),
        ("boas_vindas", "pt_BR"),
    ]
    assert pagina["total"] == 3 and pagina["proximo_cursor"]
    resto = cliente.get(
        f"{URL}/{instancia['id']}/modelos",
        params={"limite": 2, "cursor": pagina["proximo_cursor"]},
        headers=admin,
    ).json()
    assert [m["nome"] for m in resto["itens"]] == ["retomada"]
    assert resto["proximo_cursor"] is None
    ruim = cliente.get(f"{URL}/{instancia['id']}/modelos?cursor=xyz", headers=admin)
    assert ruim.status_code == 422 and "cursor" in ruim.json()["erro"]["campos"]


def test_modelos_perfis_e_outra_empresa(cliente, graph: ServidorFalso) -> None:
    graph.rota("GET", ROTA_MODELOS, Resposta(200, {"data": []}))
    empresa = criar_empresa()
    admin, vendedor = (login(cliente, empresa.usuarios[p]) for p in ("admin", "vendedor"))
    instancia = _cloud(cliente, admin, graph.url, waba_id=WABA)
    url = f"{URL}/{instancia['id']}/modelos"

    negado = cliente.get(url, headers=vendedor)
    assert negado.status_code == 403 and negado.json()["erro"]["codigo"] == "sem_permissao"
    intrusa = criar_empresa("Outra", sufixo="b")
    de_fora = cliente.get(url, headers=login(cliente, intrusa.usuarios["admin"]))
    assert de_fora.status_code == 404 and de_fora.json()["erro"]["codigo"] == "nao_encontrado"
    assert cliente.get(f"{URL}/{'x' * 32}/modelos", headers=admin).status_code == 404
    assert graph.recebidas("GET", ROTA_MODELOS) == []  # nobody reached Meta
    assert cliente.get(url, headers=admin).json() == {
        "itens": [],
        "proximo_cursor": None,
        "total": 0,
        "total_exato": True,
    }


def test_instancia_sem_modelos_ou_sem_waba(cliente) -> None:
    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    simulador = criar_instancia(empresa)
    assert cliente.get(f"{URL}/{simulador}/modelos", headers=admin).json() == {
        "itens": [],
        "proximo_cursor": None,
        "total": 0,
        "total_exato": True,
    }
    sem_waba = _cloud(cliente, admin, f"http://127.0.0.1:{porta_fechada()}")
    resposta = cliente.get(f"{URL}/{sem_waba['id']}/modelos", headers=admin)
    assert resposta.status_code == 422
    erro = resposta.json()["erro"]
    assert erro["codigo"] == "validacao" and "WABA ID" in erro["campos"]["waba_id"]


@pytest.mark.parametrize(
    ("resposta", "trecho"),
    [
        (Resposta(401, {"error": {"message": "Invalid OAuth", "type": "OAuthException", "code": 190}}), "Token"),
        (Resposta(400, {"error": {"message": "Unsupported get request", "code": 100}}), "WABA"),
        (Resposta(403, {"error": {"message": "Permissions error", "code": 200}}), "permissão"),
        (Resposta(500, {"error": {"message": "boom", "code": 1}}), "indisponível"),
    ],
)  # fmt: skip
def test_erros_do_graph_viram_502_em_portugues(
    cliente, graph: ServidorFalso, resposta: Resposta, trecho: str
) -> None:
    graph.rota("GET", ROTA_MODELOS, resposta)
    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    instancia = _cloud(cliente, admin, graph.url, waba_id=WABA)
    falha = cliente.get(f"{URL}/{instancia['id']}/modelos", headers=admin)
    assert falha.status_code == 502, falha.text
    erro = falha.json()["erro"]
    assert erro["codigo"] == "erro_provedor" and trecho in erro["mensagem"]
    assert not CLASSE_DE_EXCECAO.search(erro["mensagem"])
    assert TOKEN_META not in falha.text


def test_graph_fora_do_ar_e_502(cliente) -> None:
    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    instancia = _cloud(cliente, admin, f"http://127.0.0.1:{porta_fechada()}", waba_id=WABA)
    falha = cliente.get(f"{URL}/{instancia['id']}/modelos", headers=admin)
    assert falha.status_code == 502
    mensagem = falha.json()["erro"]["mensagem"]
    assert "inacessível" in mensagem and not CLASSE_DE_EXCECAO.search(mensagem)
