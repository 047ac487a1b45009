"""Provider webhooks: authentication (valid, invalid, missing) for Evolution and Meta, Meta's
handshake, duplicate and out-of-order deliveries, INCERTO settled by a webhook, and the
simulator calling the real endpoint end to end."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from prometheus_client import REGISTRY

from tests.factories import criar_automacao, criar_empresa, criar_job, criar_lead, login
from tests.providers.falso import esperar
from tests.test_instancias import _sem_provedores_reais, sim  # noqa: F401  (fixtures)
from whatsapp_app import db
from whatsapp_app.config import configuracoes
from whatsapp_app.cripto import cifrar_config
from whatsapp_app.models import WhatsappAutomacaoAgendamento, WhatsappInstancia, novo_id
from whatsapp_app.providers import cloud_api
from whatsapp_app.tempo import agora
from whatsapp_app.webhooks import aplicar_eventos_pendentes

SEGREDO = "segredo-do-webhook-da-instancia-0001"
APP_SECRET = "app-secret-da-meta-0002"
VERIFY_TOKEN = "verify-token-da-meta-0003"
NUMERO_META = "1098765432"


# --- helpers -----------------------------------------------------------------------------------


def instancia(
    empresa,  # type: ignore[no-untyped-def]
    *,
    provider: str = "simulador",
    config: dict[str, Any] | None = None,
    phone_number_id: str | None = None,
    status: str = "desconectado",
) -> str:
    if config is None:
        config = {"segredo_webhook": SEGREDO}
    with db.sessao() as s:
        linha = WhatsappInstancia(
            id_empresa=empresa.id,
            nome="Instância",
            provider=provider,
            config_cifrada=cifrar_config(config),
            phone_number_id=phone_number_id,
            status=status,
        )
        s.add(linha)
        s.flush()
        return linha.id


def instancia_cloud(empresa, *, app_secret: str = APP_SECRET, numero: str = NUMERO_META) -> str:  # type: ignore[no-untyped-def]
    config = {
        "phone_number_id": numero,
        "access_token": "token",
        "app_secret": app_secret,
        "verify_token": VERIFY_TOKEN,
    }
    return instancia(empresa, provider="cloud_api", config=config, phone_number_id=numero)


def job(empresa, id_instancia: str, *, status: str = "ENVIADO", **extra: Any) -> str:  # type: ignore[no-untyped-def]
    """A job of an automation that sends through ``id_instancia``."""
    automacao = criar_automacao(empresa, id_instancia=id_instancia, atrasos=(0,))
    return criar_job(empresa, criar_lead(empresa), automacao, status, **extra)


def ler_job(id_job: str) -> WhatsappAutomacaoAgendamento:
    with db.sessao() as s:
        linha = s.get(WhatsappAutomacaoAgendamento, id_job)
        assert linha is not None
        return linha


def ler_instancia(id_instancia: str) -> WhatsappInstancia:
    with db.sessao() as s:
        linha = s.get(WhatsappInstancia, id_instancia)
        assert linha is not None
        return linha


def evolution(cliente, id_instancia: str, corpo: dict, segredo: str | None = SEGREDO):  # type: ignore[no-untyped-def]
    cabecalhos = {"X-Webhook-Segredo": segredo} if segredo is not None else {}
    return cliente.post(f"/api/webhooks/evolution/{id_instancia}", json=corpo, headers=cabecalhos)


def evento_conexao(id_instancia: str, estado: str) -> dict[str, Any]:
    return {
        "event": "connection.update",
        "instance": id_instancia,
        "data": {"instance": id_instancia, "state": estado, "statusReason": 200},
        "date_time": agora().isoformat(),
    }


def evento_status(id_instancia: str, key_id: str, status: str, *, de_mim: bool = True):  # type: ignore[no-untyped-def]
    return {
        "event": "messages.update",
        "instance": id_instancia,
        "data": {
            "keyId": key_id,
            "remoteJid": "5511987654321@s.whatsapp.net",
            "fromMe": de_mim,
            "status": status,
        },
    }


def corpo_meta(*statuses: dict[str, Any], numero: str = NUMERO_META) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": numero},
                            "statuses": list(statuses),
                        },
                    }
                ],
            }
        ],
    }


def status_meta(status: str, *, wamid: str = "wamid.A", id_job: str | None = None, **extra: Any):  # type: ignore[no-untyped-def]
    item = {"id": wamid, "status": status, "timestamp": "1764096000", "recipient_id": "5511"}
    if id_job is not None:
        item["biz_opaque_callback_data"] = id_job
    return {**item, **extra}


def assinar(bruto: bytes, segredo: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(segredo.encode(), bruto, hashlib.sha256).hexdigest()


def meta(cliente, corpo: dict, *, segredo: str | None = APP_SECRET, bruto: bytes | None = None):  # type: ignore[no-untyped-def]
    dados = bruto if bruto is not None else json.dumps(corpo, separators=(",", ":")).encode()
    cabecalhos = {"Content-Type": "application/json"}
    if segredo is not None:
        cabecalhos["X-Hub-Signature-256"] = assinar(dados, segredo)
    return cliente.post("/api/webhooks/meta", content=dados, headers=cabecalhos)


# --- Evolution: authentication -----------------------------------------------------------------


def test_evolution_autentica_pelo_segredo_da_instancia(cliente) -> None:
    empresa = criar_empresa()
    alvo = instancia(empresa)
    outra = instancia(empresa, config={"segredo_webhook": "outro-segredo-de-outra-instancia"})
    id_job = job(empresa, alvo, provider_message_id="MSG1")
    entrega = evento_status(alvo, "MSG1", "DELIVERY_ACK")
    conexao = evento_conexao(alvo, "open")

    recusas = [
        evolution(cliente, alvo, entrega, segredo=None),
        evolution(cliente, alvo, conexao, segredo=None),
        evolution(cliente, alvo, entrega, segredo="errado"),
        evolution(cliente, alvo, conexao, segredo=SEGREDO[:-1]),
        evolution(cliente, alvo, entrega, segredo="outro-segredo-de-outra-instancia"),
        evolution(cliente, novo_id(), entrega),
        evolution(cliente, "x" * 500, entrega),
    ]
    for resposta in recusas:
        assert resposta.status_code == 401, resposta.text
        assert resposta.json()["erro"]["codigo"] == "webhook_nao_autenticado"
    assert ler_job(id_job).status_entrega is None, "nothing written"
    linha = ler_instancia(alvo)
    assert (linha.status, linha.ultima_sincronizacao, linha.eventos_pendentes) == (
        "desconectado",
        None,
        None,
    )

    aceita = evolution(cliente, alvo, entrega)
    assert aceita.status_code == 200, aceita.text
    assert aceita.json() == {"ok": True, "resultado": "status_aplicado"}
    assert ler_job(id_job).status_entrega == "entregue"
    assert evolution(cliente, outra, evento_conexao(outra, "open"), segredo="outro-segredo-de-outra-instancia").status_code == 200  # fmt: skip

    # A deleted instance, or a Cloud API one, has no Evolution webhook.
    with db.sessao() as s:
        linha = s.get(WhatsappInstancia, alvo)
        assert linha is not None
        linha.excluida_em = agora()
        s.add(linha)
    assert evolution(cliente, alvo, entrega).status_code == 401
    cloud = instancia_cloud(empresa)
    assert evolution(cliente, cloud, entrega).status_code == 401


def test_evolution_conexao_grava_estado_na_hora(cliente) -> None:
    empresa = criar_empresa()
    alvo = instancia(empresa)
    with db.sessao() as s:  # a debounce candidate from the poller is discarded
        linha = s.get(WhatsappInstancia, alvo)
        assert linha is not None
        linha.status_candidato, linha.status_candidato_vezes = "conectando", 1
        s.add(linha)
    inicio = agora()
    for estado, esperado in (("connecting", "conectando"), ("open", "conectado")):
        assert (
            evolution(cliente, alvo, evento_conexao(alvo, estado)).json()["resultado"] == "conexao"
        )
        linha = ler_instancia(alvo)
        assert linha.status == esperado
        assert linha.ultima_sincronizacao is not None and linha.ultima_sincronizacao >= inicio
        assert (linha.status_candidato, linha.status_candidato_vezes) == (None, 0)
    qr = {"event": "qrcode.updated", "instance": alvo, "data": {"qrcode": {"base64": "AAA"}}}
    evolution(cliente, alvo, qr)
    assert ler_instancia(alvo).status == "conectando"
    # A delivery for another provider-side instance name is ignored.
    resposta = evolution(cliente, alvo, evento_conexao("outra-instancia", "close"))
    assert resposta.json()["resultado"] == "ignorado"
    assert ler_instancia(alvo).status == "conectando"
    # Unknown events and broken bodies are acknowledged and ignored (the provider won't retry).
    assert evolution(cliente, alvo, {"event": "chats.upsert", "data": {}}).status_code == 200
    ruim = cliente.post(
        f"/api/webhooks/evolution/{alvo}", content=b"{nope", headers={"X-Webhook-Segredo": SEGREDO}
    )
    assert ruim.status_code == 200 and ruim.json()["resultado"] == "ignorado"


# --- Evolution: message statuses ---------------------------------------------------------------


def test_status_fora_de_ordem_e_duplicado_nunca_volta(cliente) -> None:
    empresa = criar_empresa()
    alvo = instancia(empresa)
    id_job = job(empresa, alvo, provider_message_id="MSG1")
    evolution(cliente, alvo, evento_status(alvo, "MSG1", "READ"))
    lido = ler_job(id_job)
    assert lido.status_entrega == "lido" and lido.status_entrega_em is not None
    for atrasado in ("DELIVERY_ACK", "SERVER_ACK", "READ", "ERROR"):
        assert evolution(cliente, alvo, evento_status(alvo, "MSG1", atrasado)).status_code == 200
    depois = ler_job(id_job)
    assert (depois.status_entrega, depois.status_entrega_em) == ("lido", lido.status_entrega_em)
    assert depois.status == "ENVIADO" and depois.erro_entrega is None

    falha = job(empresa, alvo, provider_message_id="MSG2")
    evolution(cliente, alvo, evento_status(alvo, "MSG2", "ERROR"))
    assert (ler_job(falha).status_entrega, ler_job(falha).erro_entrega) == (
        "falhou",
        "O provedor informou falha na entrega.",
    )
    evolution(cliente, alvo, evento_status(alvo, "MSG2", "SERVER_ACK"))
    assert ler_job(falha).status_entrega == "falhou"
    evolution(cliente, alvo, evento_status(alvo, "MSG2", "DELIVERY_ACK"))
    assert ler_job(falha).status_entrega == "entregue"


def test_status_so_vale_na_empresa_da_instancia(cliente) -> None:
    a = criar_empresa("A", sufixo="a")
    b = criar_empresa("B", sufixo="b")
    instancia_a = instancia(a)
    job_a = job(a, instancia_a, provider_message_id="MSG-IGUAL")
    job_b = job(b, instancia(b), provider_message_id="MSG-IGUAL")
    evolution(cliente, instancia_a, evento_status(instancia_a, "MSG-IGUAL", "READ"))
    assert ler_job(job_a).status_entrega == "lido"
    assert ler_job(job_b).status_entrega is None


def test_status_antes_do_id_do_provedor_espera_e_e_aplicado_depois(cliente) -> None:
    empresa = criar_empresa()
    alvo = instancia(empresa)
    id_job = job(empresa, alvo, status="PROCESSANDO")
    for status in ("SERVER_ACK", "DELIVERY_ACK", "DELIVERY_ACK"):
        resposta = evolution(cliente, alvo, evento_status(alvo, "MSG-CEDO", status))
        assert resposta.json()["resultado"] == "status_pendente"
    # Messages the phone's owner typed by hand (fromMe false) are not ours: never parked.
    alheia = evolution(cliente, alvo, evento_status(alvo, "DE-OUTRO", "READ", de_mim=False))
    assert alheia.json()["resultado"] == "ignorado"
    assert [(e["id"], e["status"]) for e in ler_instancia(alvo).eventos_pendentes or []] == [
        ("MSG-CEDO", "enviado"),
        ("MSG-CEDO", "entregue"),
    ]
    assert aplicar_eventos_pendentes(alvo) == 0  # the job has no provider id yet

    # The dispatcher stores the provider's id; the next webhook (or polling round) applies.
    with db.sessao() as s:
        linha = s.get(WhatsappAutomacaoAgendamento, id_job)
        assert linha is not None
        linha.status, linha.provider_message_id = "ENVIADO", "MSG-CEDO"
        s.add(linha)
    evolution(cliente, alvo, evento_conexao(alvo, "open"))
    assert ler_job(id_job).status_entrega == "entregue"
    assert ler_instancia(alvo).eventos_pendentes is None


def test_status_pendente_expira(cliente) -> None:
    empresa = criar_empresa()
    alvo = instancia(empresa)
    id_job = job(empresa, alvo, status="PROCESSANDO")
    inicio = agora()
    with time_machine.travel(inicio, tick=False) as viagem:
        evolution(cliente, alvo, evento_status(alvo, "MSG-VELHA", "DELIVERY_ACK"))
        with db.sessao() as s:
            linha = s.get(WhatsappAutomacaoAgendamento, id_job)
            assert linha is not None
            linha.provider_message_id = "MSG-VELHA"
            s.add(linha)
        viagem.shift(timedelta(seconds=301))
        assert aplicar_eventos_pendentes(alvo) == 0
    assert ler_job(id_job).status_entrega is None
    assert ler_instancia(alvo).eventos_pendentes is None


# --- Meta: handshake and signature -------------------------------------------------------------


def test_meta_handshake(cliente) -> None:
    empresa = criar_empresa()
    instancia_cloud(empresa)
    parametros = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}  # fmt: skip
    resposta = cliente.get("/api/webhooks/meta", params=parametros)
    assert resposta.status_code == 200
    assert resposta.text == "1158201444"
    assert resposta.headers["content-type"].startswith("text/plain")
    for ruim in (
        {**parametros, "hub.verify_token": "errado"},
        {**parametros, "hub.mode": "unsubscribe"},
        {k: v for k, v in parametros.items() if k != "hub.verify_token"},
        {},
    ):
        recusa = cliente.get("/api/webhooks/meta", params=ruim)
        assert recusa.status_code == 403
        assert recusa.json()["erro"]["codigo"] == "verificacao_recusada"


def test_meta_assinatura_valida_invalida_e_ausente(cliente) -> None:
    empresa = criar_empresa()
    instancia_cloud(empresa)
    id_job = job(empresa, instancia_cloud(empresa, numero="2000"), provider_message_id="wamid.A")
    outra_app = instancia_cloud(criar_empresa("B", sufixo="b"), app_secret="x" * 20, numero="3000")
    assert outra_app
    corpo = corpo_meta(status_meta("delivered"), numero="2000")
    compacto = json.dumps(corpo, separators=(",", ":")).encode()
    recusas = [
        meta(cliente, corpo, segredo=None),
        meta(cliente, corpo, segredo="segredo-errado"),
        meta(cliente, corpo, segredo="x" * 20),  # another company's app secret
        meta(cliente, corpo_meta(status_meta("read"), numero="9999")),  # unknown number
        # Signed over other bytes than the ones sent: the HMAC is over the raw body.
        cliente.post(
            "/api/webhooks/meta",
            content=compacto,
            headers={"X-Hub-Signature-256": assinar(json.dumps(corpo, indent=2).encode())},
        ),
        cliente.post(
            "/api/webhooks/meta",
            content=compacto,
            headers={"X-Hub-Signature-256": assinar(compacto)[7:]},  # without "sha256="
        ),
        meta(cliente, {}, bruto=b"not json"),
    ]
    for resposta in recusas:
        assert resposta.status_code == 401, resposta.text
        assert resposta.json()["erro"]["codigo"] == "webhook_nao_autenticado"
    assert ler_job(id_job).status_entrega is None, "nothing written"

    aceita = meta(cliente, corpo)
    assert aceita.status_code == 200, aceita.text
    assert aceita.json() == {"ok": True, "aplicados": 1, "recebidas": 0, "ignorados": 0}
    assert ler_job(id_job).status_entrega == "entregue"
    # The same bytes with any whitespace work as long as the signature is over them.
    bonito = json.dumps(corpo_meta(status_meta("read"), numero="2000"), indent=2).encode()
    assert meta(cliente, {}, bruto=bonito).status_code == 200
    assert ler_job(id_job).status_entrega == "lido"


def test_meta_numero_repetido_em_outra_empresa_nao_vaza(cliente) -> None:
    a = criar_empresa("A", sufixo="a")
    b = criar_empresa("B", sufixo="b")
    job_a = job(a, instancia_cloud(a), status="INCERTO")
    job_b = job(b, instancia_cloud(b, app_secret="segredo-de-b-000000"), status="INCERTO")
    # Signed with A's secret, naming B's job: applies to A's company only → nothing.
    resposta = meta(cliente, corpo_meta(status_meta("sent", id_job=job_b, wamid="wamid.B")))
    assert resposta.json() == {"ok": True, "aplicados": 0, "recebidas": 0, "ignorados": 1}
    assert ler_job(job_b).status == "INCERTO"
    meta(cliente, corpo_meta(status_meta("sent", id_job=job_a, wamid="wamid.A")))
    assert ler_job(job_a).status == "ENVIADO"


# --- INCERTO settled by webhook ----------------------------------------------------------------


def test_incerto_vira_enviado_com_a_prova_do_provedor(cliente) -> None:
    empresa = criar_empresa()
    id_job = job(empresa, instancia_cloud(empresa), status="INCERTO", ultimo_erro="sem resposta")
    envio = corpo_meta(status_meta("sent", wamid="wamid.X", id_job=id_job))
    enviados_antes = REGISTRY.get_sample_value("jobs_sent_total") or 0.0
    assert meta(cliente, envio).json()["aplicados"] == 1
    assert (REGISTRY.get_sample_value("jobs_sent_total") or 0.0) - enviados_antes == 1
    enviado = ler_job(id_job)
    assert (enviado.status, enviado.provider_message_id, enviado.status_entrega) == (
        "ENVIADO",
        "wamid.X",
        "enviado",
    )
    assert enviado.enviado_em is not None and enviado.ultimo_erro is None

    # Duplicates are harmless: nothing changes on the row.
    for _ in range(2):
        assert meta(cliente, envio).status_code == 200
    repetido = ler_job(id_job)
    assert (repetido.atualizado_em, repetido.enviado_em, repetido.status_entrega_em) == (
        enviado.atualizado_em,
        enviado.enviado_em,
        enviado.status_entrega_em,
    )
    # A batch with two statuses, newest first: the older one is ignored.
    meta(
        cliente,
        corpo_meta(
            status_meta("read", wamid="wamid.X", id_job=id_job),
            status_meta("delivered", wamid="wamid.X", id_job=id_job),
        ),
    )
    assert ler_job(id_job).status_entrega == "lido"


def test_status_de_uma_tentativa_anterior_e_ignorado(cliente) -> None:
    empresa = criar_empresa()
    id_job = job(empresa, instancia_cloud(empresa), provider_message_id="wamid.NOVO")
    antiga = corpo_meta(status_meta("read", wamid="wamid.ANTIGO", id_job=id_job))
    assert meta(cliente, antiga).json()["aplicados"] == 1
    assert ler_job(id_job).status_entrega is None
    meta(cliente, corpo_meta(status_meta("delivered", wamid="wamid.NOVO", id_job=id_job)))
    assert ler_job(id_job).status_entrega == "entregue"


def test_incerto_com_falha_fica_para_o_operador(cliente) -> None:
    empresa = criar_empresa()
    id_job = job(empresa, instancia_cloud(empresa), status="INCERTO")
    erros = [{"code": 131047, "title": "Re-engagement message"}]
    meta(cliente, corpo_meta(status_meta("failed", id_job=id_job, errors=erros)))
    linha = ler_job(id_job)
    assert (linha.status, linha.status_entrega) == ("INCERTO", "falhou")
    assert linha.erro_entrega == cloud_api.ERRO_JANELA_24H


def test_incerto_encontrado_pelo_id_do_provedor(cliente) -> None:
    """An INCERTO job that already knows its message id is settled by that id (Evolution)."""
    empresa = criar_empresa()
    alvo = instancia(empresa)
    id_job = job(empresa, alvo, status="INCERTO", provider_message_id="MSG-I")
    evolution(cliente, alvo, evento_status(alvo, "MSG-I", "SERVER_ACK"))
    assert (ler_job(id_job).status, ler_job(id_job).status_entrega) == ("ENVIADO", "enviado")


# --- end to end: the simulator calls the real endpoint -----------------------------------------


class Ponte(ThreadingHTTPServer):
    """A local HTTP server that hands every request to the app's TestClient, so the
    simulator's webhooks cross a real socket into the real endpoint."""

    daemon_threads = True

    def __init__(self, cliente) -> None:  # type: ignore[no-untyped-def]
        trava = threading.Lock()

        class Manipulador(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                corpo = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                cabecalhos = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                with trava:
                    resposta = cliente.post(self.path, content=corpo, headers=cabecalhos)
                self.send_response(resposta.status_code)
                self.send_header("Content-Length", str(len(resposta.content)))
                self.end_headers()
                self.wfile.write(resposta.content)

        super().__init__(("127.0.0.1", 0), Manipulador)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()  # fmt: skip

    def __enter__(self) -> Ponte:
        return self

    def __exit__(self, *_: object) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def ponte(cliente, monkeypatch) -> Iterator[Ponte]:  # type: ignore[no-untyped-def]
    with Ponte(cliente) as servidor:
        monkeypatch.setenv("APP_URL_PUBLICA", servidor.url)
        monkeypatch.setenv("DESPACHO_MSGS_POR_SEGUNDO", "80")
        configuracoes.cache_clear()
        yield servidor


def test_simulador_chama_o_webhook_de_verdade(cliente, sim, ponte) -> None:  # noqa: F811
    from whatsapp_app.conectividade import atualizar_conectividade

    empresa = criar_empresa()
    admin = login(cliente, empresa.usuarios["admin"])
    criada = cliente.post(
        "/api/whatsapp/instances", json={"nome": "Demo", "provider": "simulador"}, headers=admin
    ).json()
    # Like Evolution, the simulator knows the instance only once connect created it there.
    assert criada["webhook_configurado"] is False and criada["webhook_url"].startswith(ponte.url)
    base = f"/api/whatsapp/instances/{criada['id']}"
    assert cliente.post(f"{base}/connect", headers=admin).json()["status"] == "conectando"
    [listada] = cliente.get("/api/whatsapp/instances", headers=admin).json()["itens"]
    assert listada["webhook_configurado"] is True

    assert sim.simulador.escanear(criada["id"])  # the phone scans: only the webhook tells us
    esperar(lambda: cliente.get(f"{base}/status", headers=admin).json()["status"] == "conectado")

    # A follow-up goes out; the simulator reports it sent and delivered.
    automacao = criar_automacao(empresa, id_instancia=criada["id"], atrasos=(0,))
    lead = criar_lead(empresa)
    movido = cliente.patch(
        f"/api/leads/{lead}/mover", json={"id_estagio_destino": empresa.estagios[1]}, headers=admin
    )
    assert movido.json()["agendamentos_criados"] == 1
    entregues_antes = sim.simulador.webhooks_entregues()
    resumo = cliente.post("/api/whatsapp/automations/follow-up/dispatch", headers=admin).json()
    assert resumo["sent"] == 1, resumo
    esperar(lambda: sim.simulador.webhooks_entregues() >= entregues_antes + 3)
    atualizar_conectividade()  # applies statuses that beat the dispatcher's own write
    (linha,) = cliente.get(
        "/api/whatsapp/agendamentos", params={"id_whatsapp_automacao": automacao}, headers=admin
    ).json()["itens"]
    final = ler_job(linha["id"])
    assert (final.status, final.status_entrega) == ("ENVIADO", "entregue")
    assert final.provider_message_id == sim.simulador.mensagens()[0]["key_id"]

    # The simulator's page disconnects the phone: the webhook flips the card at once.
    sim.simulador.logout(criada["id"])
    esperar(lambda: cliente.get(f"{base}/status", headers=admin).json()["status"] == "desconectado")
