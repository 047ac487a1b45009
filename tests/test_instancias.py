"""Instances API: create/list/connect/restart/logout, validation, roles, secrets (status, delete
and rename: ``test_instancias_gestao``).

Provider calls cross real sockets: the built-in simulator (``iniciar_em_thread``) speaks the
Evolution API, so both the ``simulador`` and the ``evolution`` providers are exercised through
the real Evolution adapter.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import select

from tests.factories import criar_empresa, criar_instancia, login
from tests.providers.falso import porta_fechada
from whatsapp_app import db
from whatsapp_app.config import configuracoes
from whatsapp_app.cripto import decifrar_config
from whatsapp_app.models import WhatsappInstancia
from whatsapp_app.providers.evolution import CABECALHO_SEGREDO_WEBHOOK, EVENTOS_WEBHOOK
from whatsapp_app.simulador import SIMULADOR_API_KEY
from whatsapp_app.simulador.servidor import ServidorSimulador, iniciar_em_thread

CHAVE_EVOLUTION = "evo-chave-super-secreta-0001"
TOKEN_META = "EAAG-token-de-acesso-super-secreto-0002"
APP_SECRET = "app-secret-meta-super-secreto-0003"
VERIFY_TOKEN = "verify-token-super-secreto-0004"
URL = "/api/whatsapp/instances"


# --- helpers shared with test_webhooks / test_conectividade ------------------------------------


@pytest.fixture(autouse=True)
def _sem_provedores_reais(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never reach a simulator or app someone left running on this machine."""
    monkeypatch.setenv("SIMULADOR_PORT", str(porta_fechada()))
    monkeypatch.setenv("APP_URL_PUBLICA", f"http://127.0.0.1:{porta_fechada()}")
    configuracoes.cache_clear()


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServidorSimulador]:
    """The built-in simulator on a free port; ``provedor_para`` points ``simulador`` at it."""
    with iniciar_em_thread() as servidor:
        monkeypatch.setenv("SIMULADOR_PORT", str(servidor.porta))
        configuracoes.cache_clear()
        yield servidor
    configuracoes.cache_clear()


def config_evolution(
    base_url: str, *, api_key: str = SIMULADOR_API_KEY, nome: str = "loja"
) -> dict[str, str]:
    return {"base_url": base_url, "api_key": api_key, "instance_name": nome}


def config_cloud(graph_base_url: str, *, phone_number_id: str = "1098765432") -> dict[str, str]:
    return {
        "graph_base_url": graph_base_url,
        "phone_number_id": phone_number_id,
        "access_token": TOKEN_META,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
    }


def criar(cliente, cabecalho, provider: str, config: dict | None = None, nome: str = "Loja"):  # type: ignore[no-untyped-def]
    return cliente.post(
        URL,
        json={"nome": nome, "provider": provider, "config": config or {}},
        headers=cabecalho,
    )


def instancia_do_banco(id_instancia: str) -> WhatsappInstancia:
    with db.sessao() as s:
        instancia = s.get(WhatsappInstancia, id_instancia)
        assert instancia is not None
        return instancia


# --- create and list ---------------------------------------------------------------------------


def test_simulador_ganha_webhook_com_segredo_proprio_ao_conectar(cliente, sim) -> None:
    """Like Evolution, the simulator knows only instances created on it: the webhook set-up
    right after our create finds none (logged, retried), the first connect creates the
    instance there and points the webhook at us."""
    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    resposta = criar(cliente, admin, "simulador")
    assert resposta.status_code == 201, resposta.text
    corpo = resposta.json()
    assert corpo["provider"] == "simulador"
    assert corpo["status"] == "desconectado"
    assert corpo["webhook_configurado"] is False
    assert corpo["config"] == {}
    assert corpo["webhook_url"].endswith(f"/api/webhooks/evolution/{corpo['id']}")
    assert not sim.simulador.existe(corpo["id"])

    assert cliente.post(f"{URL}/{corpo['id']}/connect", headers=admin).status_code == 200
    webhook = sim.simulador.webhook(corpo["id"])
    assert webhook is not None and webhook["url"] == corpo["webhook_url"]
    assert webhook["events"] == list(EVENTOS_WEBHOOK)
    assert "MESSAGES_UPSERT" in webhook["events"]  # the contact's replies (contract §7)
    segredo = webhook["headers"][CABECALHO_SEGREDO_WEBHOOK]
    assert len(segredo) >= 32
    assert decifrar_config(instancia_do_banco(corpo["id"]).config_cifrada) == {
        "segredo_webhook": segredo
    }
    listagem = cliente.get(URL, headers=admin)
    assert [(i["id"], i["webhook_configurado"]) for i in listagem.json()["itens"]] == [
        (corpo["id"], True)
    ]
    for texto in (resposta.text, listagem.text, instancia_do_banco(corpo["id"]).config_cifrada):
        assert segredo not in texto

    # Each instance gets its own secret.
    outra = criar(cliente, admin, "simulador", nome="Outra").json()
    cliente.post(f"{URL}/{outra['id']}/connect", headers=admin)
    assert sim.simulador.webhook(outra["id"])["headers"][CABECALHO_SEGREDO_WEBHOOK] != segredo


def test_criar_evolution_contra_o_simulador_e_cloud_api(cliente, sim) -> None:
    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    sim.simulador.criar("loja", qrcode=False)  # made in the Evolution manager beforehand
    evo = criar(cliente, admin, "evolution", config_evolution(sim.url + "/"))
    assert evo.status_code == 201, evo.text
    assert evo.json()["webhook_configurado"] is True
    assert evo.json()["config"] == {
        "base_url": sim.url,
        "api_key": "••••" + SIMULADOR_API_KEY[-4:],
        "instance_name": "loja",
        "historico_confiavel": True,
    }
    assert sim.simulador.webhook("loja")["url"].endswith(f"/evolution/{evo.json()['id']}")

    cloud = criar(cliente, admin, "cloud_api", config_cloud("https://graph.exemplo.com"))
    assert cloud.status_code == 201, cloud.text
    corpo = cloud.json()
    assert corpo["webhook_configurado"] is None  # set in Meta's dashboard
    assert corpo["webhook_url"].endswith("/api/webhooks/meta")
    assert corpo["config"]["phone_number_id"] == "1098765432"
    assert corpo["config"]["graph_version"] == "v21.0"
    assert corpo["config"]["access_token"] == "••••0002"
    assert instancia_do_banco(corpo["id"]).phone_number_id == "1098765432"
    assert [i["provider"] for i in cliente.get(URL, headers=admin).json()["itens"]] == [
        "evolution",
        "cloud_api",
    ]


@pytest.mark.parametrize(
    ("provider", "config", "campo"),
    [
        ("evolution", {"base_url": "http://evo", "instance_name": "x"}, "config.api_key"),
        ("evolution", {"base_url": "ftp://evo", "api_key": "k", "instance_name": "x"}, "config.base_url"),
        ("evolution", {"base_url": "http://evo", "api_key": "k"}, "config.instance_name"),
        ("cloud_api", {**config_cloud("https://g"), "phone_number_id": "abc"}, "config.phone_number_id"),
        ("cloud_api", {k: v for k, v in config_cloud("https://g").items() if k != "app_secret"}, "config.app_secret"),
        ("cloud_api", {**config_cloud("https://g"), "graph_version": "21"}, "config.graph_version"),
        ("simulador", {"base_url": "http://x"}, "config.base_url"),
        ("telegram", {}, "provider"),
        ("simulador", "texto", "config"),
    ],
)  # fmt: skip
def test_validacao_por_provedor(cliente, provider, config, campo) -> None:
    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    resposta = cliente.post(
        URL, json={"nome": "X", "provider": provider, "config": config}, headers=admin
    )
    assert resposta.status_code == 422, resposta.text
    erro = resposta.json()["erro"]
    assert erro["codigo"] == "validacao"
    assert campo in erro["campos"], erro
    assert erro["campos"][campo][0].isupper()  # a pt-BR sentence, not a pydantic code
    with db.sessao() as s:
        assert s.exec(select(WhatsappInstancia)).all() == []


def test_nome_obrigatorio_e_phone_number_id_unico_na_empresa(cliente) -> None:
    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    resposta = criar(cliente, admin, "simulador", nome="")
    assert resposta.status_code == 422 and "nome" in resposta.json()["erro"]["campos"]
    assert criar(cliente, admin, "cloud_api", config_cloud("https://g")).status_code == 201
    repetida = criar(cliente, admin, "cloud_api", config_cloud("https://g"))
    assert repetida.status_code == 422
    assert "config.phone_number_id" in repetida.json()["erro"]["campos"]
    # Another company may register the same number: the webhook signature tells them apart.
    outra = criar_empresa("Outra", sufixo="b")
    outro_admin = login(cliente, outra.usuarios["admin"])
    assert criar(cliente, outro_admin, "cloud_api", config_cloud("https://g")).status_code == 201


def test_perfis(cliente, sim) -> None:
    empresa = criar_empresa()
    admin, gestor, vendedor = (
        login(cliente, empresa.usuarios[p]) for p in ("admin", "gestor", "vendedor")
    )
    cliente.cookies.clear()  # login also sets the session cookie
    assert cliente.get(URL).status_code == 401
    assert criar(cliente, {}, "simulador").status_code == 401
    for cabecalho in (gestor, vendedor):
        resposta = criar(cliente, cabecalho, "simulador")
        assert resposta.status_code == 403
        assert resposta.json()["erro"]["codigo"] == "sem_permissao"
    id_instancia = criar(cliente, admin, "simulador").json()["id"]
    base = f"{URL}/{id_instancia}"
    assert cliente.get(URL, headers=vendedor).status_code == 200
    assert cliente.get(f"{base}/status", headers=vendedor).status_code == 200
    for acao in ("connect", "restart", "logout"):
        assert cliente.post(f"{base}/{acao}", headers=vendedor).status_code == 403
    assert cliente.delete(base, headers=vendedor).status_code == 403
    assert cliente.delete(base, headers=gestor).status_code == 403
    assert cliente.post(f"{base}/connect", headers=gestor).status_code == 200
    assert cliente.post(f"{base}/logout", headers=gestor).status_code == 200
    assert cliente.delete(base, headers=admin).status_code == 200


# --- secrets -----------------------------------------------------------------------------------


def test_segredos_nunca_aparecem_em_respostas_nem_em_logs(
    cliente, caplog: pytest.LogCaptureFixture
) -> None:
    raiz = logging.getLogger("whatsapp_app")
    raiz.addHandler(caplog.handler)  # the app logger may not propagate (logs.configurar_logs)
    caplog.set_level(logging.DEBUG)
    respostas: list[httpx.Response] = []
    try:
        with iniciar_em_thread(api_key=CHAVE_EVOLUTION) as evolution_server:
            empresa = criar_empresa()
            admin = login(cliente, empresa.usuarios["admin"])
            evo = criar(
                cliente, admin, "evolution", config_evolution(evolution_server.url, api_key=CHAVE_EVOLUTION)
            )  # fmt: skip
            fora = criar(
                cliente,
                admin,
                "evolution",
                config_evolution(f"http://127.0.0.1:{porta_fechada()}", api_key=CHAVE_EVOLUTION),
                nome="Fora do ar",
            )
            cloud = criar(
                cliente, admin, "cloud_api", config_cloud(f"http://127.0.0.1:{porta_fechada()}")
            )
            respostas += [evo, fora, cloud]
            for corpo in (evo.json(), fora.json(), cloud.json()):
                base = f"{URL}/{corpo['id']}"
                respostas.append(cliente.get(f"{base}/status", headers=admin))
                for acao in ("connect", "restart", "logout"):
                    respostas.append(cliente.post(f"{base}/{acao}", headers=admin))
            respostas.append(cliente.get(URL, headers=admin))
            segredos_webhook = [
                decifrar_config(instancia_do_banco(c.json()["id"]).config_cifrada)[
                    "segredo_webhook"
                ]
                for c in (evo, fora)
            ]
            cifradas = [
                instancia_do_banco(c.json()["id"]).config_cifrada for c in (evo, fora, cloud)
            ]
    finally:
        raiz.removeHandler(caplog.handler)
    assert {r.status_code for r in respostas} >= {201, 200, 502}
    segredos = [CHAVE_EVOLUTION, TOKEN_META, APP_SECRET, VERIFY_TOKEN, *segredos_webhook]
    textos = [r.text for r in respostas] + cifradas
    textos += [f"{r.getMessage()} {r.__dict__}" for r in caplog.records]
    assert caplog.records, "as ações são registradas"
    for segredo in segredos:
        for texto in textos:
            assert segredo not in texto


def test_falha_ao_configurar_o_webhook_nao_falha_a_criacao(
    cliente, caplog: pytest.LogCaptureFixture
) -> None:
    raiz = logging.getLogger("whatsapp_app")
    raiz.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    try:
        empresa = criar_empresa()
        admin = login(cliente, empresa.usuarios["admin"])
        resposta = criar(
            cliente, admin, "evolution", config_evolution(f"http://127.0.0.1:{porta_fechada()}")
        )
    finally:
        raiz.removeHandler(caplog.handler)
    assert resposta.status_code == 201, resposta.text
    assert resposta.json()["webhook_configurado"] is False
    (registro,) = [
        r for r in caplog.records if r.getMessage() == "webhook do provedor não configurado"
    ]
    assert registro.__dict__["id_instancia"] == resposta.json()["id"]
    assert "inacessível" in registro.__dict__["erro"]


# --- connect / restart / logout ----------------------------------------------------------------


@pytest.mark.parametrize("provider", ["simulador", "evolution"])
def test_fluxo_do_qr_ate_conectado(cliente, sim, provider) -> None:
    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    config = config_evolution(sim.url) if provider == "evolution" else {}
    instancia = criar(cliente, admin, provider, config).json()
    nome_no_provedor = "loja" if provider == "evolution" else instancia["id"]
    base = f"{URL}/{instancia['id']}"

    conexao = cliente.post(f"{base}/connect", headers=admin)
    assert conexao.status_code == 200, conexao.text
    corpo = conexao.json()
    assert corpo["status"] == "conectando"
    assert base64.b64decode(corpo["qr_base64"]).startswith(b"\x89PNG")
    assert corpo["pairing_code"]
    status = cliente.get(f"{base}/status", headers=admin).json()
    assert status["status"] == "conectando" and status["ultima_sincronizacao"]

    assert sim.simulador.escanear(nome_no_provedor)  # the phone scans the QR
    conexao = cliente.post(f"{base}/connect", headers=admin).json()
    assert conexao == {"status": "conectado"}
    assert cliente.get(f"{base}/status", headers=admin).json()["status"] == "conectado"

    reinicio = cliente.post(f"{base}/restart", headers=admin)
    assert reinicio.json() == {"ok": True, "status": "conectado"}

    saida = cliente.post(f"{base}/logout", headers=admin)
    assert saida.json() == {"ok": True, "status": "desconectado"}
    assert sim.simulador.estado(nome_no_provedor) == "close"
    assert cliente.get(f"{base}/status", headers=admin).json()["status"] == "desconectado"


def test_todo_connect_reconfigura_o_webhook(cliente, sim) -> None:
    """An instance whose webhook was set before MESSAGES_UPSERT existed (or on a simulator
    that has since restarted and forgotten it) is subscribed again on the next connect."""
    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    id_instancia = criar(cliente, admin, "simulador").json()["id"]
    base = f"{URL}/{id_instancia}"
    assert cliente.post(f"{base}/connect", headers=admin).status_code == 200
    antigo = ["CONNECTION_UPDATE", "MESSAGES_UPDATE"]  # what an older release subscribed
    webhook = sim.simulador.webhook(id_instancia)
    sim.simulador.configurar_webhook(id_instancia, {"webhook": {**webhook, "events": antigo}})
    primeira = instancia_do_banco(id_instancia).webhook_configurado_em
    assert primeira is not None

    assert sim.simulador.escanear(id_instancia)
    assert cliente.post(f"{base}/connect", headers=admin).json() == {"status": "conectado"}
    webhook = sim.simulador.webhook(id_instancia)
    assert webhook["events"] == list(EVENTOS_WEBHOOK) and "MESSAGES_UPSERT" in webhook["events"]
    segunda = instancia_do_banco(id_instancia).webhook_configurado_em
    assert segunda is not None and segunda >= primeira

    # The simulator restarts (it keeps nothing): connect creates the instance there again and
    # points the webhook at us with the same secret.
    segredo = webhook["headers"][CABECALHO_SEGREDO_WEBHOOK]
    sim.simulador.resetar()
    assert cliente.post(f"{base}/connect", headers=admin).json()["status"] == "conectando"
    assert sim.simulador.webhook(id_instancia)["headers"][CABECALHO_SEGREDO_WEBHOOK] == segredo


def test_connect_recusado_nao_mexe_no_webhook(cliente, sim) -> None:
    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    id_instancia = criar(cliente, admin, "simulador").json()["id"]
    httpx.post(f"{sim.url}/__sim/falhas", json={"desconectado": True})
    sim.simulador.criar(id_instancia, qrcode=False)
    assert cliente.post(f"{URL}/{id_instancia}/connect", headers=admin).status_code == 502
    assert sim.simulador.webhook(id_instancia) is None
    assert instancia_do_banco(id_instancia).webhook_configurado_em is None


def test_instancia_sem_segredo_ganha_um_ao_conectar(cliente, sim) -> None:
    """Instances stored without a webhook secret (the demo seed, older rows) get one the
    first time someone connects them, and the webhook is set up then."""
    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    id_instancia = criar_instancia(empresa)  # provider simulador, empty config
    assert cliente.get(URL, headers=admin).json()["itens"][0]["webhook_configurado"] is False
    assert cliente.post(f"{URL}/{id_instancia}/connect", headers=admin).status_code == 200
    segredo = decifrar_config(instancia_do_banco(id_instancia).config_cifrada)["segredo_webhook"]
    webhook = sim.simulador.webhook(id_instancia)
    assert webhook is not None and webhook["headers"][CABECALHO_SEGREDO_WEBHOOK] == segredo
    assert cliente.get(URL, headers=admin).json()["itens"][0]["webhook_configurado"] is True
    resposta = cliente.post(
        f"/api/webhooks/evolution/{id_instancia}",
        json={"event": "connection.update", "instance": id_instancia, "data": {"state": "open"}},
        headers={CABECALHO_SEGREDO_WEBHOOK: segredo},
    )
    assert resposta.status_code == 200 and instancia_do_banco(id_instancia).status == "conectado"


def test_erros_do_provedor_viram_502_no_formato_unico(cliente, sim) -> None:
    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    fora = criar(
        cliente, admin, "evolution", config_evolution(f"http://127.0.0.1:{porta_fechada()}")
    ).json()
    chave_errada = criar(
        cliente, admin, "evolution", config_evolution(sim.url, api_key="chave-errada"), nome="X"
    ).json()
    simulada = criar(cliente, admin, "simulador", nome="Sim").json()

    def erro(id_instancia: str, acao: str) -> dict[str, Any]:
        resposta = cliente.post(f"{URL}/{id_instancia}/{acao}", headers=admin)
        assert resposta.status_code == 502, resposta.text
        corpo = resposta.json()["erro"]
        assert corpo["codigo"] == "erro_provedor" and "campos" not in corpo
        return corpo  # type: ignore[no-any-return]

    for acao in ("connect", "restart", "logout"):
        assert "inacessível" in erro(fora["id"], acao)["mensagem"]
    assert erro(chave_errada["id"], "connect")["mensagem"] == "Credenciais do provedor inválidas."
    # Not created on the simulator yet (only connect creates it): Evolution's 404.
    assert erro(simulada["id"], "restart")["mensagem"] == "Instância não encontrada no provedor."
    # Evolution's quirks: restart of a closed instance and connect while the server is down
    # both answer 200 with an error body.
    cliente.post(f"{URL}/{simulada['id']}/connect", headers=admin)
    cliente.post(f"{URL}/{simulada['id']}/logout", headers=admin)
    assert "não reiniciou" in erro(simulada["id"], "restart")["mensagem"]
    httpx.post(f"{sim.url}/__sim/falhas", json={"desconectado": True})
    assert "recusou a conexão" in erro(simulada["id"], "connect")["mensagem"]
    assert instancia_do_banco(simulada["id"]).status == "desconectado"


def test_cloud_api_conecta_pelo_token_e_nao_tem_logout(cliente) -> None:
    from tests.providers.falso import Resposta, servidor_falso

    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    with servidor_falso() as graph:
        graph.rota("GET", "/v21.0/1098765432", Resposta(200, {"id": "1098765432"}))
        instancia = criar(cliente, admin, "cloud_api", config_cloud(graph.url)).json()
        base = f"{URL}/{instancia['id']}"
        assert cliente.post(f"{base}/connect", headers=admin).json() == {"status": "conectado"}
        (consulta,) = graph.recebidas("GET", "/v21.0/1098765432")
        assert consulta.cabecalhos["authorization"] == f"Bearer {TOKEN_META}"
        resposta = cliente.post(f"{base}/logout", headers=admin)
        assert resposta.status_code == 409
        assert resposta.json()["erro"]["codigo"] == "nao_suportado"
        graph.rota("GET", "/v21.0/1098765432", Resposta(401, {"error": {"code": 190}}))
        resposta = cliente.post(f"{base}/connect", headers=admin)
        assert resposta.status_code == 502
        assert "Token" in resposta.json()["erro"]["mensagem"]
