"""Evolution API v2 adapter against a local fake server reproducing its documented answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.providers.falso import Resposta, ServidorFalso, porta_fechada
from whatsapp_app.providers.base import (
    TEXTO_MIDIA,
    Confirmacao,
    Desfecho,
    StatusConexao,
)
from whatsapp_app.providers.evolution import (
    CABECALHO_SEGREDO_WEBHOOK,
    ERRO_CREDENCIAIS,
    ERRO_INSTANCIA,
    ERRO_NUMERO_INEXISTENTE,
    EVENTOS_WEBHOOK,
    ErroProvedor,
    ProvedorEvolution,
    desfecho_de_excecao,
    interpretar_webhook,
    jids_candidatos,
    segundos_retry_after,
)

INST = "loja 1"  # a space: the adapter must encode the path segment
CAMINHO_INST = "loja%201"
ENVIO = f"/message/sendText/{CAMINHO_INST}"
NUMERO = "+5511988887777"
QR_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@pytest.fixture
def evo(falso: ServidorFalso) -> Iterator[ProvedorEvolution]:
    with ProvedorEvolution(
        falso.url, "chave-evolution-123", INST, timeout_s=0.5, connect_timeout_s=0.5
    ) as provedor:
        yield provedor


def _enviar(evo: ProvedorEvolution):  # type: ignore[no-untyped-def]
    return evo.enviar_texto(numero_e164=NUMERO, texto="Olá, Ana!", id_agendamento="ag-1")


def _erro(status: int, mensagem: object) -> dict[str, object]:
    return {"status": status, "error": "x", "response": {"message": mensagem}}


# --- sendText ----------------------------------------------------------------------------------


def test_envio_aceito_manda_digitos_e_apikey(falso: ServidorFalso, evo: ProvedorEvolution) -> None:
    falso.rota(
        "POST",
        ENVIO,
        Resposta(
            201,
            {
                "key": {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": True, "id": "ABC1"},
                "status": "PENDING",
                "messageTimestamp": 1,
            },
        ),
    )
    resultado = _enviar(evo)
    assert resultado.desfecho == Desfecho.ACEITO
    assert resultado.provider_message_id == "ABC1"
    (req,) = falso.recebidas("POST", ENVIO)
    assert req.cabecalhos["apikey"] == "chave-evolution-123"
    assert req.json == {"number": "5511988887777", "text": "Olá, Ana!"}


@pytest.mark.parametrize(
    ("status", "corpo", "desfecho", "erro"),
    [
        (
            400,
            _erro(400, [{"jid": "55@s.whatsapp.net", "exists": False, "number": "55"}]),
            Desfecho.PERMANENTE,
            ERRO_NUMERO_INEXISTENTE,
        ),
        (401, _erro(401, "Unauthorized"), Desfecho.PERMANENTE, ERRO_CREDENCIAIS),
        (
            404,
            _erro(404, ['The "loja 1" instance does not exist']),
            Desfecho.PERMANENTE,
            ERRO_INSTANCIA,
        ),
        (500, _erro(500, ["boom"]), Desfecho.RETENTAVEL, None),
        (502, None, Desfecho.RETENTAVEL, None),
        (503, None, Desfecho.RETENTAVEL, None),
        (504, None, Desfecho.DESCONHECIDO, None),
        (400, _erro(400, ["Error: Connection Closed"]), Desfecho.RETENTAVEL, None),
        (400, _erro(400, ["Error: Timed Out"]), Desfecho.DESCONHECIDO, None),
        (400, _erro(400, ["text is required"]), Desfecho.PERMANENTE, None),
    ],
)
def test_envio_classifica_erros(
    falso: ServidorFalso,
    evo: ProvedorEvolution,
    status: int,
    corpo: object,
    desfecho: Desfecho,
    erro: str | None,
) -> None:
    falso.rota("POST", ENVIO, Resposta(status, corpo))
    resultado = _enviar(evo)
    assert resultado.desfecho == desfecho
    assert resultado.provider_message_id is None
    assert resultado.erro
    if erro:
        assert resultado.erro == erro


def test_429_respeita_retry_after(falso: ServidorFalso, evo: ProvedorEvolution) -> None:
    falso.rota("POST", ENVIO, Resposta(429, _erro(429, ["slow down"]), {"Retry-After": "7"}))
    resultado = _enviar(evo)
    assert resultado.desfecho == Desfecho.RETENTAVEL
    assert resultado.tentar_apos_s == 7


def test_tempo_de_leitura_esgotado_e_desconhecido(
    falso: ServidorFalso, evo: ProvedorEvolution
) -> None:
    falso.rota("POST", ENVIO, Resposta(201, {"key": {"id": "tarde"}}, dormir_s=1.5))
    resultado = _enviar(evo)
    assert resultado.desfecho == Desfecho.DESCONHECIDO
    assert falso.recebidas("POST", ENVIO), "o pedido chegou ao provedor"


def test_conexao_derrubada_sem_resposta_e_desconhecido(
    falso: ServidorFalso, evo: ProvedorEvolution
) -> None:
    falso.rota("POST", ENVIO, Resposta(derrubar=True))
    assert _enviar(evo).desfecho == Desfecho.DESCONHECIDO


def test_conexao_recusada_e_retentavel() -> None:
    with ProvedorEvolution(f"http://127.0.0.1:{porta_fechada()}", "k", "i", timeout_s=1) as evo:
        resultado = _enviar(evo)
    assert resultado.desfecho == Desfecho.RETENTAVEL
    assert resultado.erro


@pytest.mark.parametrize(
    ("excecao", "desfecho"),
    [
        (httpx.ConnectError, Desfecho.RETENTAVEL),
        (httpx.ConnectTimeout, Desfecho.RETENTAVEL),
        (httpx.PoolTimeout, Desfecho.RETENTAVEL),
        (httpx.ProxyError, Desfecho.RETENTAVEL),
        (httpx.ReadTimeout, Desfecho.DESCONHECIDO),
        (httpx.WriteTimeout, Desfecho.DESCONHECIDO),
        (httpx.ReadError, Desfecho.DESCONHECIDO),
        (httpx.WriteError, Desfecho.DESCONHECIDO),
        (httpx.RemoteProtocolError, Desfecho.DESCONHECIDO),
        (httpx.CloseError, Desfecho.DESCONHECIDO),
        (httpx.DecodingError, Desfecho.DESCONHECIDO),
        (httpx.LocalProtocolError, Desfecho.PERMANENTE),
        (httpx.UnsupportedProtocol, Desfecho.PERMANENTE),
    ],
)
def test_cada_excecao_do_httpx_tem_seu_desfecho(
    excecao: type[httpx.RequestError], desfecho: Desfecho
) -> None:
    def transporte(requisicao: httpx.Request) -> httpx.Response:
        raise excecao("simulada", request=requisicao)

    cliente = httpx.Client(transport=httpx.MockTransport(transporte))
    evo = ProvedorEvolution("http://evolution.local", "k", "i", cliente=cliente)
    assert _enviar(evo).desfecho == desfecho
    assert desfecho_de_excecao(RuntimeError("bug")).desfecho == Desfecho.DESCONHECIDO


def test_retry_after_em_data_http() -> None:
    agora = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert segundos_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", agora=agora) == 30
    assert segundos_retry_after("2.5") == 2.5
    assert segundos_retry_after("amanhã") is None
    assert segundos_retry_after(None) is None


# --- connection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("estado", "esperado"),
    [
        ("open", StatusConexao.CONECTADO),
        ("connecting", StatusConexao.CONECTANDO),
        ("close", StatusConexao.DESCONECTADO),
    ],
)
def test_estado_conexao(
    falso: ServidorFalso, evo: ProvedorEvolution, estado: str, esperado: StatusConexao
) -> None:
    falso.rota(
        "GET",
        f"/instance/connectionState/{CAMINHO_INST}",
        Resposta(200, {"instance": {"instanceName": INST, "state": estado}}),
    )
    assert evo.estado_conexao().status == esperado


def test_estado_conexao_erros(falso: ServidorFalso, evo: ProvedorEvolution) -> None:
    rota = f"/instance/connectionState/{CAMINHO_INST}"
    falso.rota("GET", rota, Resposta(404, _erro(404, ["does not exist"])))
    assert evo.estado_conexao().status == StatusConexao.DESCONECTADO
    falso.rota("GET", rota, Resposta(401, _erro(401, "Unauthorized")))
    with pytest.raises(ErroProvedor) as erro:
        evo.estado_conexao()
    assert erro.value.mensagem == ERRO_CREDENCIAIS
    assert not erro.value.retentavel


def test_estado_conexao_servidor_fora_do_ar() -> None:
    with (
        ProvedorEvolution(f"http://127.0.0.1:{porta_fechada()}", "k", "i") as evo,
        pytest.raises(ErroProvedor) as erro,
    ):
        evo.estado_conexao()
    assert erro.value.retentavel


def test_fluxo_qr_count_zero_depois_qr_depois_aberto(
    falso: ServidorFalso, evo: ProvedorEvolution
) -> None:
    falso.rota(
        "GET",
        f"/instance/connect/{CAMINHO_INST}",
        [
            Resposta(200, {"count": 0}),
            Resposta(
                200,
                {
                    "pairingCode": "WZYEH1YY",
                    "code": "2@abc",
                    "base64": f"data:image/png;base64,{QR_PNG}",
                    "count": 1,
                },
            ),
            Resposta(200, {"instance": {"instanceName": INST, "state": "open"}}),
        ],
    )
    primeiro = evo.conectar()
    assert primeiro.status == StatusConexao.CONECTANDO
    assert primeiro.qr_base64 is None
    segundo = evo.conectar()
    assert segundo.status == StatusConexao.CONECTANDO
    assert segundo.qr_base64 == QR_PNG  # without the data: prefix
    assert segundo.pairing_code == "WZYEH1YY"
    assert evo.conectar().status == StatusConexao.CONECTADO


def test_conectar_200_com_erro_e_falha(falso: ServidorFalso, evo: ProvedorEvolution) -> None:
    falso.rota(
        "GET",
        f"/instance/connect/{CAMINHO_INST}",
        Resposta(200, {"error": True, "message": "Error: Connection Failure"}),
    )
    with pytest.raises(ErroProvedor, match="Connection Failure"):
        evo.conectar()


def test_conectar_cria_instancia_inexistente(falso: ServidorFalso, evo: ProvedorEvolution) -> None:
    falso.rota("GET", f"/instance/connect/{CAMINHO_INST}", Resposta(404, _erro(404, ["nope"])))
    falso.rota(
        "POST",
        "/instance/create",
        Resposta(
            201,
            {
                "instance": {"instanceName": INST, "instanceId": "x", "status": "connecting"},
                "hash": "token-da-instancia",
                "qrcode": {"pairingCode": None, "code": "2@x", "base64": QR_PNG, "count": 1},
            },
        ),
    )
    estado = evo.conectar()
    assert estado.status == StatusConexao.CONECTANDO
    assert estado.qr_base64 == QR_PNG
    (req,) = falso.recebidas("POST", "/instance/create")
    assert req.json["instanceName"] == INST


def test_reiniciar_e_desconectar(falso: ServidorFalso, evo: ProvedorEvolution) -> None:
    restart = f"/instance/restart/{CAMINHO_INST}"
    logout = f"/instance/logout/{CAMINHO_INST}"
    falso.rota(
        "POST", restart, Resposta(200, {"instance": {"instanceName": INST, "state": "open"}})
    )
    evo.reiniciar()
    falso.rota("POST", restart, Resposta(200, {"error": True, "message": "not connected"}))
    with pytest.raises(ErroProvedor, match="not connected"):
        evo.reiniciar()
    falso.rota("DELETE", logout, Resposta(200, {"status": "SUCCESS", "error": False}))
    evo.desconectar()
    falso.rota("DELETE", logout, Resposta(400, _erro(400, ["instance is not connected"])))
    evo.desconectar()  # idempotent
    falso.rota("DELETE", logout, Resposta(401, _erro(401, "Unauthorized")))
    with pytest.raises(ErroProvedor):
        evo.desconectar()


def test_configurar_webhook(falso: ServidorFalso, evo: ProvedorEvolution) -> None:
    rota = f"/webhook/set/{CAMINHO_INST}"
    falso.rota("POST", rota, Resposta(201, {"id": "w1"}))
    evo.configurar_webhook("https://crm.local/api/webhooks/evolution/i1", "segredo-xyz")
    (req,) = falso.recebidas("POST", rota)
    webhook = req.json["webhook"]
    assert webhook["url"] == "https://crm.local/api/webhooks/evolution/i1"
    assert webhook["enabled"] is True
    assert webhook["headers"] == {CABECALHO_SEGREDO_WEBHOOK: "segredo-xyz"}
    assert "MESSAGES_UPDATE" in webhook["events"]
    assert "CONNECTION_UPDATE" in webhook["events"]
    assert "MESSAGES_UPSERT" in webhook["events"]  # inbound replies (contract §7)
    assert "MESSAGES_UPSERT" in EVENTOS_WEBHOOK


# --- reconciliation ----------------------------------------------------------------------------


def _registro(id_: str, texto: str, jid: str, quando: datetime) -> dict[str, object]:
    return {
        "id": f"db-{id_}",
        "key": {"id": id_, "fromMe": True, "remoteJid": jid},
        "messageType": "conversation",
        "message": {"conversation": texto},
        "messageTimestamp": int(quando.timestamp()),
    }


def _pagina(registros: list[dict[str, object]]) -> dict[str, object]:
    return {
        "messages": {"total": len(registros), "pages": 1, "currentPage": 1, "records": registros}
    }


def test_confirmar_envio_encontra_pelo_texto(falso: ServidorFalso, evo: ProvedorEvolution) -> None:
    agora = datetime.now(UTC)
    jid = "5511988887777@s.whatsapp.net"
    falso.rota(
        "POST",
        f"/chat/findMessages/{CAMINHO_INST}",
        Resposta(
            200,
            _pagina(
                [
                    _registro("OUTRA", "Outra mensagem", jid, agora),
                    _registro("CERTA", "Olá, Ana!", jid, agora),
                ]
            ),
        ),
    )
    resultado = evo.confirmar_envio(
        numero_e164=NUMERO, texto="Olá, Ana!", id_agendamento="ag-1", desde=agora
    )
    assert resultado.confirmacao == Confirmacao.ENVIADO
    assert resultado.provider_message_id == "CERTA"
    req = falso.recebidas("POST", f"/chat/findMessages/{CAMINHO_INST}")[0]
    where = req.json["where"]
    assert where["key"] == {"remoteJid": jid, "fromMe": True}
    assert set(where["messageTimestamp"]) == {"gte", "lte"}


def test_confirmar_envio_ausente_so_depois_da_margem(falso: ServidorFalso) -> None:
    falso.rota("POST", "/chat/findMessages/i", Resposta(200, _pagina([])))
    with ProvedorEvolution(falso.url, "k", "i", margem_ausencia_s=60) as evo:
        recente = evo.confirmar_envio(
            numero_e164=NUMERO, texto="x", id_agendamento="a", desde=datetime.now(UTC)
        )
        antigo = evo.confirmar_envio(
            numero_e164=NUMERO,
            texto="x",
            id_agendamento="a",
            desde=datetime.now(UTC) - timedelta(minutes=5),
        )
    assert recente.confirmacao == Confirmacao.DESCONHECIDO
    assert antigo.confirmacao == Confirmacao.AUSENTE
    # Both JID forms of a Brazilian mobile were looked up.
    consultados = {
        r.json["where"]["key"]["remoteJid"] for r in falso.recebidas("POST", "/chat/findMessages/i")
    }
    assert consultados == {"5511988887777@s.whatsapp.net", "551188887777@s.whatsapp.net"}


def test_confirmar_envio_acha_jid_sem_nono_digito(falso: ServidorFalso) -> None:
    agora = datetime.now(UTC)

    def responder(req):  # type: ignore[no-untyped-def]
        jid = req.json["where"]["key"]["remoteJid"]
        if jid == "551188887777@s.whatsapp.net":
            return Resposta(200, _pagina([_registro("K9", "oi", jid, agora)]))
        return Resposta(200, _pagina([]))

    falso.rota("POST", "/chat/findMessages/i", responder)
    with ProvedorEvolution(falso.url, "k", "i") as evo:
        resultado = evo.confirmar_envio(
            numero_e164=NUMERO, texto="oi", id_agendamento="a", desde=agora
        )
    assert resultado.confirmacao == Confirmacao.ENVIADO
    assert resultado.provider_message_id == "K9"


@pytest.mark.parametrize(
    "resposta", [Resposta(500, {}), Resposta(200, {"inesperado": 1}), Resposta(derrubar=True)]
)
def test_confirmar_envio_em_erro_e_desconhecido(falso: ServidorFalso, resposta: Resposta) -> None:
    falso.rota("POST", "/chat/findMessages/i", resposta)
    with ProvedorEvolution(falso.url, "k", "i", margem_ausencia_s=0) as evo:
        resultado = evo.confirmar_envio(
            numero_e164=NUMERO,
            texto="x",
            id_agendamento="a",
            desde=datetime.now(UTC) - timedelta(hours=1),
        )
    assert resultado.confirmacao == Confirmacao.DESCONHECIDO


def test_confirmar_envio_sem_historico_confiavel_nunca_diz_ausente(falso: ServidorFalso) -> None:
    falso.rota("POST", "/chat/findMessages/i", Resposta(200, _pagina([])))
    with ProvedorEvolution(
        falso.url, "k", "i", margem_ausencia_s=0, historico_confiavel=False
    ) as evo:
        resultado = evo.confirmar_envio(
            numero_e164=NUMERO,
            texto="x",
            id_agendamento="a",
            desde=datetime.now(UTC) - timedelta(hours=1),
        )
    assert resultado.confirmacao == Confirmacao.DESCONHECIDO


def test_jids_candidatos() -> None:
    assert jids_candidatos("+5511988887777") == [
        "5511988887777@s.whatsapp.net",
        "551188887777@s.whatsapp.net",
    ]
    assert jids_candidatos("+551188887777") == [
        "551188887777@s.whatsapp.net",
        "5511988887777@s.whatsapp.net",
    ]
    assert jids_candidatos("+14155550100") == ["14155550100@s.whatsapp.net"]


# --- webhooks ----------------------------------------------------------------------------------


def test_interpretar_webhooks() -> None:
    conexao = interpretar_webhook(
        {"event": "connection.update", "instance": "i", "data": {"instance": "i", "state": "open"}}
    )
    assert conexao.tipo == "conexao"
    assert conexao.status_conexao == StatusConexao.CONECTADO

    qr = interpretar_webhook(
        {
            "event": "qrcode.updated",
            "instance": "i",
            "data": {"qrcode": {"base64": f"data:image/png;base64,{QR_PNG}", "pairingCode": "P1"}},
        }
    )
    assert qr.tipo == "qr"
    assert qr.dados["qr_base64"] == QR_PNG
    assert qr.dados["pairing_code"] == "P1"

    for status, esperado in [
        ("SERVER_ACK", "enviado"),
        ("DELIVERY_ACK", "entregue"),
        ("READ", "lido"),
        ("ERROR", "falhou"),
    ]:
        evento = interpretar_webhook(
            {"event": "messages.update", "data": {"keyId": "K1", "status": status}}
        )
        assert evento.tipo == "status_mensagem"
        assert evento.provider_message_id == "K1"
        assert evento.status_mensagem == esperado
        assert evento.id_agendamento is None

    enviado = interpretar_webhook(
        {"event": "SEND_MESSAGE", "data": {"key": {"id": "K2", "remoteJid": "x"}}}
    )
    assert (enviado.tipo, enviado.provider_message_id, enviado.status_mensagem) == (
        "status_mensagem",
        "K2",
        "enviado",
    )
    assert interpretar_webhook({"event": "messages.upsert", "data": {}}).tipo == "ignorado"
    assert interpretar_webhook("lixo").tipo == "ignorado"
    assert (
        interpretar_webhook({"event": "connection.update", "data": {"state": "?"}}).tipo
        == "ignorado"
    )


# --- inbound messages (messages.upsert) --------------------------------------------------------
# Shaped as evolution-api (3454bec7) emits them: whatsapp.baileys.service.ts 'messages.upsert'
# sends prepareMessage(received) inside the webhook.controller.ts envelope.

PAYLOADS = Path(__file__).parent / "payloads"
CASOS = json.loads((PAYLOADS / "evolution_casos.json").read_text())


def _upsert(
    *,
    remote_jid: object = None,
    from_me: object = False,
    id_: object = None,
    message: object = None,
    evento: str = "messages.upsert",
    chave_extra: dict[str, Any] | None = None,
    **dados: Any,
) -> dict[str, Any]:
    """The fixture delivery (a contact's text), with the given parts replaced."""
    corpo: dict[str, Any] = json.loads(
        (PAYLOADS / "evolution_messages_upsert_texto.json").read_text()
    )
    chave = corpo["data"]["key"]
    chave.update({"fromMe": from_me, **(chave_extra or {})})
    chave.update({k: v for k, v in (("remoteJid", remote_jid), ("id", id_)) if v is not None})
    corpo["data"].update({"message": message} if message is not None else {}, **dados)
    corpo["event"] = evento
    return corpo


def test_upsert_de_texto_vira_mensagem_recebida() -> None:
    evento = interpretar_webhook(_upsert())
    assert evento.tipo == "mensagem_recebida"
    assert evento.provider_message_id == "3EB0A1B2C3D4E5F60718"
    assert evento.id_agendamento is None
    m = evento.mensagem
    assert m is not None
    assert m.provider_message_id == "3EB0A1B2C3D4E5F60718"
    assert m.telefone == "5511988887777"
    assert m.texto == "Tenho interesse, sim"
    assert m.recebida_em == datetime(2025, 12, 1, 11, 55, 23, tzinfo=UTC)
    assert m.nome_contato == "Ana Souza"
    assert m.id_resposta_a is None
    assert evento.dados["instance"] == INST
    assert evento.dados["remote_jid"] == "5511988887777@s.whatsapp.net"


def test_evento_em_maiusculas_tambem_vale() -> None:
    evento = interpretar_webhook(_upsert(evento="MESSAGES_UPSERT"))
    assert evento.tipo == "mensagem_recebida"


@pytest.mark.parametrize(
    ("remote_jid", "chave"),
    [
        ("5511988887777:24@s.whatsapp.net", {}),  # device suffix
        ("5511988887777@c.us", {}),
        ("123456789012345@lid", {"remoteJidAlt": "+5511988887777@s.whatsapp.net"}),
        ("123456789012345@lid", {"senderPn": "5511988887777@s.whatsapp.net"}),  # older builds
    ],
)
def test_telefone_do_remetente(remote_jid: str, chave: dict[str, str]) -> None:
    evento = interpretar_webhook(_upsert(remote_jid=remote_jid, chave_extra=chave))
    assert evento.mensagem is not None
    assert evento.mensagem.telefone == "5511988887777"


def test_lid_com_remote_jid_alt_do_arquivo() -> None:
    corpo = json.loads((PAYLOADS / "evolution_messages_upsert_lid.json").read_text())
    evento = interpretar_webhook(corpo)
    assert evento.tipo == "mensagem_recebida"
    m = evento.mensagem
    assert m is not None
    assert m.telefone == "5511988887777"
    assert m.texto == "Pode me ligar amanhã?"
    assert m.id_resposta_a == "BAE5F1D2C3B4A596"  # data-level contextInfo (prepareMessage)
    assert evento.dados["lid"] == "123456789012345@lid"


@pytest.mark.parametrize("alt", [None, "", "987654321098765@lid", 5511988887777, ["x"]])
def test_lid_sem_numero_e_ignorado(alt: object) -> None:
    chave = {} if alt is None else {"remoteJidAlt": alt, "addressingMode": "lid"}
    evento = interpretar_webhook(_upsert(remote_jid="123456789012345@lid", chave_extra=chave))
    assert evento.tipo == "ignorado"
    assert evento.dados["motivo"] == "sem_numero"
    assert evento.mensagem is None


@pytest.mark.parametrize(
    ("remote_jid", "motivo"),
    [
        ("120363025246125486@g.us", "grupo"),
        ("status@broadcast", "status_broadcast"),
        ("120363213456789012@newsletter", "newsletter"),
        ("1764590000123@broadcast", "lista_transmissao"),
    ],
)
def test_conversas_que_nao_sao_respostas(remote_jid: str, motivo: str) -> None:
    evento = interpretar_webhook(
        _upsert(remote_jid=remote_jid, chave_extra={"participant": "5511988887777@s.whatsapp.net"})
    )
    assert evento.tipo == "ignorado"
    assert evento.dados["motivo"] == motivo
    assert evento.mensagem is None


@pytest.mark.parametrize("from_me", [True, None, "false", 0])
def test_mensagem_propria_ou_sem_from_me_e_ignorada(from_me: object) -> None:
    evento = interpretar_webhook(_upsert(from_me=from_me, pushName="Você"))
    assert evento.tipo == "ignorado"
    assert evento.dados["motivo"] == "mensagem_propria"


def test_extended_text_message_com_citacao_no_formato_do_baileys() -> None:
    # Builds that do not run prepareMessage's rewrite send the raw Baileys content.
    evento = interpretar_webhook(_upsert(message=CASOS["citacao_baileys"]))
    assert evento.mensagem is not None
    assert evento.mensagem.texto == "Quero sim! https://loja.example/plano"
    assert evento.mensagem.id_resposta_a == "BAE5ORIGINAL0001"


@pytest.mark.parametrize(
    ("message", "texto"), [(c["message"], c["texto"]) for c in CASOS["midias"]]
)
def test_midia_vira_marcador_ou_legenda(message: dict[str, Any], texto: str | None) -> None:
    evento = interpretar_webhook(
        _upsert(message={**message, "messageContextInfo": {}}, messageType="imageMessage")
    )
    assert evento.tipo == "mensagem_recebida"
    assert evento.mensagem is not None
    assert evento.mensagem.texto == (texto or TEXTO_MIDIA)


def test_reacao_responde_a_mensagem_e_reacao_removida_e_ignorada() -> None:
    reacao = interpretar_webhook(
        _upsert(message={"reactionMessage": {"key": {"id": "BAE5NOSSA"}, "text": "👍"}})
    )
    assert reacao.mensagem is not None
    assert (reacao.mensagem.texto, reacao.mensagem.id_resposta_a) == ("👍", "BAE5NOSSA")
    removida = interpretar_webhook(
        _upsert(message={"reactionMessage": {"key": {"id": "BAE5NOSSA"}, "text": ""}})
    )
    assert removida.tipo == "ignorado"


@pytest.mark.parametrize(
    ("carimbo", "segundos"), [(c["valor"], c["segundos"]) for c in CASOS["carimbos"]]
)
def test_formas_do_carimbo(carimbo: object, segundos: int | None) -> None:
    evento = interpretar_webhook(_upsert(messageTimestamp=carimbo))
    assert evento.mensagem is not None
    esperado = None if segundos is None else datetime.fromtimestamp(segundos, tz=UTC)
    assert evento.mensagem.recebida_em == esperado


@pytest.mark.parametrize(
    "corpo", [c.get("corpo") or _upsert(**c["upsert"]) for c in CASOS["malformados"]]
)
def test_tipos_inesperados_nunca_levantam(corpo: dict[str, Any]) -> None:
    evento = interpretar_webhook(corpo)
    assert evento.tipo in ("ignorado", "mensagem_recebida")
    if evento.mensagem is not None:  # content that is not text is recorded as "[mídia]"
        assert evento.mensagem.texto == TEXTO_MIDIA


def test_numero_onde_se_espera_texto_vira_ausente() -> None:
    evento = interpretar_webhook(
        _upsert(message={"conversation": 42}, pushName=7, contextInfo={"stanzaId": 99})
    )
    assert evento.mensagem is not None
    assert evento.mensagem.texto == TEXTO_MIDIA
    assert evento.mensagem.nome_contato is None
    assert evento.mensagem.id_resposta_a is None


# --- connection facts ----------------------------------------------------------------------------


def test_limite_de_qr_code_desconecta() -> None:
    # connectionUpdate: once instance.qrcode.count reaches QRCODE.LIMIT Evolution sends the
    # QR-less notice, then connection.update with state "refused", and ends the session.
    limite, recusada = map(
        interpretar_webhook, json.loads((PAYLOADS / "evolution_qr_limite.json").read_text())
    )
    assert limite.tipo == "conexao"
    assert limite.status_conexao == StatusConexao.DESCONECTADO
    assert limite.dados["motivo"] == "QR code limit reached, please login again"
    assert recusada.tipo == "conexao"
    assert recusada.status_conexao == StatusConexao.DESCONECTADO
    # A real QR is still "qr"/conectando.
    qr = interpretar_webhook(
        {
            "event": "QRCODE_UPDATED",
            "instance": INST,
            "data": {
                "qrcode": {"instance": INST, "pairingCode": None, "code": "2@x", "base64": QR_PNG}
            },
        }
    )
    assert (qr.tipo, qr.status_conexao, qr.dados["qr_base64"]) == (
        "qr",
        StatusConexao.CONECTANDO,
        QR_PNG,
    )
    assert qr.dados["pairing_code"] is None
