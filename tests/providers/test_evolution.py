"""Evolution API v2 adapter against a local fake server reproducing its documented answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.providers.falso import Resposta, ServidorFalso, porta_fechada
from whatsapp_app.providers.base import (
    Confirmacao,
    Desfecho,
    StatusConexao,
)
from whatsapp_app.providers.comum import ErroProvedor, desfecho_de_excecao, segundos_retry_after
from whatsapp_app.providers.evolution import (
    CABECALHO_SEGREDO_WEBHOOK,
    ERRO_CREDENCIAIS,
    ERRO_INSTANCIA,
    ERRO_NUMERO_INEXISTENTE,
    EVENTOS_WEBHOOK,
    ProvedorEvolution,
    jids_candidatos,
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
