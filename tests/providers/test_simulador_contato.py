"""The simulator plays the contact: replies as Evolution's ``messages.upsert`` and READ
statuses after a delay. The webhook bodies are checked key by key against what a local HTTP
server receives (the shapes are in ``whatsapp_app/simulador/eventos.py``, with their source)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.providers.falso import Resposta, ServidorFalso, esperar
from tests.providers.test_simulador import DIGITOS, NUMERO, _confirmar, _enviar, _evo
from whatsapp_app.providers.base import Confirmacao
from whatsapp_app.providers.evolution_webhook import interpretar_webhook
from whatsapp_app.simulador import SIMULADOR_API_KEY
from whatsapp_app.simulador.estado import Simulador
from whatsapp_app.simulador.eventos import NUMERO_PROPRIO, lid
from whatsapp_app.simulador.leituras import AgendaLeituras
from whatsapp_app.simulador.servidor import ServidorSimulador, iniciar_em_thread


@pytest.fixture
def sim() -> Iterator[ServidorSimulador]:
    with iniciar_em_thread(instancias=["inst-1"]) as servidor:
        yield servidor


@pytest.fixture
def http(sim: ServidorSimulador) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.url, timeout=5) as cliente:
        yield cliente


# --- the contact replies (POST /__sim/responder) ----------------------------------------------

EVENTOS = ["MESSAGES_UPSERT", "SEND_MESSAGE", "MESSAGES_UPDATE", "CONNECTION_UPDATE"]


def _webhook(http: httpx.Client, url: str, eventos: list[str] = EVENTOS) -> None:
    resposta = http.post(
        "/webhook/set/inst-1",
        json={
            "webhook": {
                "enabled": True,
                "url": url,
                "headers": {"X-Webhook-Segredo": "s3"},
                "events": eventos,
            }
        },
        headers={"apikey": SIMULADOR_API_KEY},
    )
    assert resposta.status_code == 201, resposta.text


def _entregas(falso: ServidorFalso, evento: str, n: int = 1) -> list[dict[str, Any]]:
    def prontas() -> list[dict[str, Any]]:
        corpos = [r.json for r in falso.recebidas("POST", "/webhook")]
        return [c for c in corpos if c["event"] == evento]

    esperar(lambda: len(prontas()) >= n)
    return prontas()


def _data_hora_js(valor: str) -> bool:
    return re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", valor) is not None


def test_resposta_do_contato_chega_como_messages_upsert_do_evolution(
    sim: ServidorSimulador, http: httpx.Client, falso: ServidorFalso
) -> None:
    falso.rota("POST", "/webhook", Resposta(200, {}))
    _webhook(http, f"{falso.url}/webhook")
    antes = int(time.time())
    resposta = http.post(
        "/__sim/responder",
        json={"instance": "inst-1", "number": NUMERO, "text": "Tenho interesse!", "nome": "Ana"},
    )
    assert resposta.status_code == 201, resposta.text
    registro = resposta.json()
    id_msg = registro["key"]["id"]
    assert re.fullmatch(r"[0-9A-F]{32}", id_msg)  # an Android phone's id (getDevice)
    assert antes <= registro["messageTimestamp"] <= int(time.time())
    id_instancia = sim.simulador.listar_instancias()[0]["instanceId"]

    (entrega,) = _entregas(falso, "messages.upsert")
    assert _data_hora_js(entrega.pop("date_time"))
    assert entrega == {
        "event": "messages.upsert",
        "instance": "inst-1",
        "data": {
            "key": {
                "remoteJid": f"{DIGITOS}@s.whatsapp.net",
                "remoteJidAlt": lid(DIGITOS),
                "fromMe": False,
                "id": id_msg,
                "addressingMode": "pn",
            },
            "pushName": "Ana",
            "status": "DELIVERY_ACK",
            "message": {"conversation": "Tenho interesse!"},
            "messageType": "conversation",
            "messageTimestamp": registro["messageTimestamp"],
            "instanceId": id_instancia,
            "source": "android",
        },
        "destination": f"{falso.url}/webhook",
        "sender": "5511900000000@s.whatsapp.net",
        "server_url": sim.url,
        "apikey": SIMULADOR_API_KEY,
    }
    assert entrega["data"] == registro
    (requisicao,) = falso.recebidas("POST", "/webhook")
    assert requisicao.cabecalhos["x-webhook-segredo"] == "s3"
    assert lid(DIGITOS).endswith("@lid") and lid(DIGITOS) == lid(DIGITOS)  # stable per contact

    # The app's parser reads it as the contact's message.
    evento = interpretar_webhook(entrega)
    assert evento.tipo == "mensagem_recebida" and evento.mensagem is not None
    assert (evento.mensagem.telefone, evento.mensagem.texto) == (DIGITOS, "Tenho interesse!")
    assert evento.mensagem.nome_contato == "Ana"


def test_resposta_em_lid_citando_a_mensagem_enviada(
    sim: ServidorSimulador, http: httpx.Client, falso: ServidorFalso
) -> None:
    falso.rota("POST", "/webhook", Resposta(200, {}))
    _webhook(http, f"{falso.url}/webhook")
    with _evo(sim) as evo:
        enviada = _enviar(evo, "Podemos conversar amanhã?")
    resposta = http.post(
        "/__sim/responder",
        json={
            "instance": "inst-1",
            "number": DIGITOS,
            "text": "Pode ser às 10h",
            "formato": "lid",
            "id_resposta_a": enviada.provider_message_id,
        },
    )
    assert resposta.status_code == 201, resposta.text
    (entrega,) = _entregas(falso, "messages.upsert")
    dados = entrega["data"]
    assert dados["key"] == {
        "remoteJid": lid(DIGITOS),
        "remoteJidAlt": f"{DIGITOS}@s.whatsapp.net",
        "fromMe": False,
        "id": resposta.json()["key"]["id"],
        "addressingMode": "lid",
    }
    # The phone sent an extendedTextMessage; Evolution flattens it and lifts contextInfo.
    assert dados["message"] == {"conversation": "Pode ser às 10h"}
    assert dados["messageType"] == "conversation"
    assert dados["contextInfo"] == {
        "stanzaId": enviada.provider_message_id,
        "participant": lid(NUMERO_PROPRIO),
        "quotedMessage": {"conversation": "Podemos conversar amanhã?"},
    }
    assert dados["pushName"] == "Contato 7777"
    evento = interpretar_webhook(entrega)
    assert evento.mensagem is not None and evento.mensagem.telefone == DIGITOS
    assert evento.mensagem.id_resposta_a == enviada.provider_message_id


def test_resposta_so_vai_ao_webhook_que_assina_messages_upsert(
    sim: ServidorSimulador, http: httpx.Client, falso: ServidorFalso
) -> None:
    falso.rota("POST", "/webhook", Resposta(200, {}))
    _webhook(http, f"{falso.url}/webhook", eventos=["SEND_MESSAGE"])
    corpo = {"instance": "inst-1", "number": DIGITOS, "text": "oi"}
    assert http.post("/__sim/responder", json=corpo).status_code == 201
    with _evo(sim) as evo:
        _enviar(evo)  # send.message is subscribed and goes out after the reply would have
    _entregas(falso, "send.message")
    assert [r.json["event"] for r in falso.recebidas("POST", "/webhook")] == ["send.message"]
    # Subscribed again (lower-case dotted names are accepted too): now it is delivered.
    _webhook(http, f"{falso.url}/webhook", eventos=["messages.upsert"])
    assert http.post("/__sim/responder", json=corpo).status_code == 201
    _entregas(falso, "messages.upsert")


@pytest.mark.parametrize(
    ("corpo", "campos"),
    [
        ("texto", {"corpo"}),
        ({"instance": "inst-1", "number": DIGITOS}, {"text"}),
        ({"instance": "inst-1", "number": "12", "text": "oi"}, {"number"}),
        ({"instance": "", "number": DIGITOS, "text": " "}, {"instance", "text"}),
        ({"instance": "inst-1", "number": DIGITOS, "text": "oi", "formato": "x"}, {"formato"}),
        ({"instance": "inst-1", "number": DIGITOS, "text": "oi", "numero": 1}, {"numero"}),
        ({"instance": "inst-1", "number": DIGITOS, "text": "oi", "id_resposta_a": "X"}, {"id_resposta_a"}),
    ],
)  # fmt: skip
def test_pedido_de_resposta_invalido_e_422(
    http: httpx.Client, corpo: Any, campos: set[str]
) -> None:
    resposta = http.post("/__sim/responder", json=corpo)
    assert resposta.status_code == 422, resposta.text
    erro = resposta.json()["erro"]
    assert erro["codigo"] == "resposta_invalida"
    assert set(erro["campos"]) == campos
    assert http.get("/__sim/mensagens").json() == []


def test_resposta_para_instancia_desconhecida_e_404(http: httpx.Client) -> None:
    resposta = http.post(
        "/__sim/responder", json={"instance": "sumida", "number": DIGITOS, "text": "oi"}
    )
    assert resposta.status_code == 404
    assert resposta.json()["response"]["message"] == ['The "sumida" instance does not exist']


def test_caixa_de_entrada_com_as_duas_direcoes(sim: ServidorSimulador, http: httpx.Client) -> None:
    with _evo(sim) as evo:
        enviada = _enviar(evo, "Olá")
        corpo = {"instance": "inst-1", "number": DIGITOS, "text": "Oi!"}
        recebida = http.post("/__sim/responder", json=corpo).json()
        desde = datetime.now(UTC)
        # Reconciliation looks for our own messages only: the reply is not mistaken for one.
        assert _confirmar(evo, "Oi!", desde) == Confirmacao.AUSENTE
    saida, entrada = http.get("/__sim/mensagens").json()
    assert {"instance", "number", "text", "key_id", "recebido_em"} <= set(saida) & set(entrada)
    assert (saida["direcao"], saida["key_id"]) == ("saida", enviada.provider_message_id)
    assert (entrada["direcao"], entrada["key_id"]) == ("entrada", recebida["key"]["id"])
    assert (entrada["number"], entrada["text"], entrada["formato"]) == (DIGITOS, "Oi!", "pn")
    assert http.get("/__sim/mensagens", params={"direcao": "entrada"}).json() == [entrada]
    assert http.get("/__sim/mensagens", params={"direcao": "x"}).status_code == 422
    assert http.get("/__sim/contagem").json()["total"] == 1  # replies are not sends

    busca = http.post(
        "/chat/findMessages/inst-1",
        json={"where": {"key": {"fromMe": False}}},
        headers={"apikey": SIMULADOR_API_KEY},
    ).json()["messages"]
    assert busca["total"] == 1
    assert busca["records"][0] == {"id": recebida["key"]["id"], **recebida, "MessageUpdate": []}


def test_pagina_responde_como_o_contato(sim: ServidorSimulador, http: httpx.Client) -> None:
    with _evo(sim) as evo:
        enviada = _enviar(evo, "Quer ver o catálogo?")
    pagina = http.get("/").text
    assert "Responder como o contato" in pagina
    assert 'aria-label="Responder como o contato 5511988887777"' in pagina
    for rotulo in ("Mensagem do contato", "Responder à mensagem", "Endereço do contato"):
        assert f">{rotulo}" in pagina
    ancora = re.search(r'<section class="conversa" id="(conversa-[0-9a-f]+)"', pagina)
    assert ancora is not None
    assert f'<label for="{ancora[1]}-texto">' in pagina and f'id="{ancora[1]}-texto"' in pagina

    formulario = {
        "instance": "inst-1",
        "number": DIGITOS,
        "conversa": ancora[1],
        "text": "Quero sim",
        "id_resposta_a": enviada.provider_message_id or "",
        "formato": "lid",
    }
    resposta = http.post("/__sim/pagina/responder", data=formulario, follow_redirects=False)
    assert resposta.status_code == 303
    assert resposta.headers["location"].startswith("/?aviso=")
    assert resposta.headers["location"].endswith(f"#{ancora[1]}")
    (entrada,) = http.get("/__sim/mensagens", params={"direcao": "entrada"}).json()
    assert (entrada["text"], entrada["formato"]) == ("Quero sim", "lid")
    assert entrada["id_resposta_a"] == enviada.provider_message_id
    depois = http.get(resposta.headers["location"]).text
    assert "Resposta do contato entregue" in depois and "Quero sim" in depois

    vazio = http.post(
        "/__sim/pagina/responder", data={**formulario, "text": ""}, follow_redirects=False
    )
    assert "n%C3%A3o%20enviada" in vazio.headers["location"]
    assert len(http.get("/__sim/mensagens").json()) == 2


# --- READ statuses -----------------------------------------------------------------------------


def test_contato_le_a_mensagem_depois_do_atraso(falso: ServidorFalso) -> None:
    falso.rota("POST", "/webhook", Resposta(200, {}))
    with iniciar_em_thread(instancias=["inst-1"], leitura_s=0.3) as sim, _evo(sim) as evo:
        evo.configurar_webhook(f"{falso.url}/webhook", "s")
        inicio = time.monotonic()
        resultado = _enviar(evo)
        (lida,) = _entregas(falso, "messages.update", n=3)[2:]
        assert time.monotonic() - inicio >= 0.3  # never before the delay
        assert lida["data"] == {
            "messageId": resultado.provider_message_id,
            "keyId": resultado.provider_message_id,
            "remoteJid": f"{DIGITOS}@s.whatsapp.net",
            "fromMe": True,
            "participant": None,
            "status": "READ",
            "instanceId": sim.simulador.listar_instancias()[0]["instanceId"],
        }
        assert interpretar_webhook(lida).status_mensagem == "lido"
        (mensagem,) = sim.simulador.mensagens()
        assert mensagem["status"] == "READ"
        registro = evo._requisitar("POST", "chat/findMessages", json={}).json()
        assert registro["messages"]["records"][0]["MessageUpdate"] == [
            {"status": "SERVER_ACK"},
            {"status": "DELIVERY_ACK"},
            {"status": "READ"},
        ]
        assert sim.simulador.leituras_pendentes() == 0


def test_leitura_desligada_e_configuravel(sim: ServidorSimulador, http: httpx.Client) -> None:
    assert http.get("/__sim/config").json() == {
        "leitura_s": None,
        "auto_conectar_s": None,
        "criar_sob_demanda": False,
    }
    with _evo(sim) as evo:
        _enviar(evo)
        assert sim.simulador.leituras_pendentes() == 0  # 0/None: nobody ever reads
        assert http.post("/__sim/config", json={"leitura_s": 60}).json()["leitura_s"] == 60
        _enviar(evo)
        assert sim.simulador.leituras_pendentes() == 1
    for invalido in ({"leitura_s": -1}, {"leitura_s": "5"}, {"outro": 1}, [1]):
        resposta = http.post("/__sim/config", json=invalido)
        assert (
            resposta.status_code == 422 and resposta.json()["erro"]["codigo"] == "config_invalida"
        )
    assert http.post("/__sim/config", json={"leitura_s": 0}).json()["leitura_s"] is None


def test_parar_encerra_as_leituras_pendentes() -> None:
    simulador = Simulador(leitura_s=60, instancias=["inst-1"])
    simulador.registrar_mensagem("inst-1", DIGITOS, "oi")
    assert simulador.leituras_pendentes() == 1
    inicio = time.monotonic()
    simulador.parar()
    assert time.monotonic() - inicio < 5
    assert not simulador._leituras._thread.is_alive()
    assert not simulador._entrega._thread.is_alive()


def test_agenda_de_leituras_em_ordem_com_relogio_controlado() -> None:
    agora = [100.0]
    vencidas: list[str] = []
    chegou = threading.Event()

    def ao_vencer(chave: str) -> None:
        vencidas.append(chave)
        chegou.set()

    agenda = AgendaLeituras(ao_vencer, relogio=lambda: agora[0])
    try:
        agenda.agendar(10, "b")
        agenda.agendar(5, "a")
        assert not chegou.wait(0.1) and vencidas == []  # the controlled clock has not moved
        agora[0] = 106.0
        agenda.agendar(0, "agora")  # wakes the agenda up: everything due goes, in due order
        esperar(lambda: vencidas == ["a", "agora"])
        agora[0] = 111.0
        agenda.agendar(100, "depois")
        esperar(lambda: vencidas == ["a", "agora", "b"])
        assert agenda.pendentes() == 1
    finally:
        agenda.parar()
