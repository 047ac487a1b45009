"""The built-in simulator end to end, driven by the real Evolution adapter over HTTP."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.providers.falso import Resposta, ServidorFalso, esperar, porta_fechada, servidor_falso
from whatsapp_app.providers.base import Confirmacao, Desfecho, StatusConexao
from whatsapp_app.providers.comum import ErroProvedor
from whatsapp_app.providers.evolution import (
    CABECALHO_SEGREDO_WEBHOOK,
    ERRO_CREDENCIAIS,
    ERRO_NUMERO_INEXISTENTE,
    ProvedorEvolution,
)
from whatsapp_app.providers.evolution_webhook import interpretar_webhook
from whatsapp_app.simulador import SIMULADOR_API_KEY
from whatsapp_app.simulador.estado import Simulador
from whatsapp_app.simulador.servidor import ServidorSimulador, iniciar_em_thread

NUMERO = "+5511988887777"
DIGITOS = "5511988887777"
RAIZ = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def sim() -> Iterator[ServidorSimulador]:
    """A simulator with "inst-1" created and paired (Evolution knows only created instances)."""
    with iniciar_em_thread(instancias=["inst-1"]) as servidor:
        yield servidor


@pytest.fixture
def http(sim: ServidorSimulador) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.url, timeout=5) as cliente:
        yield cliente


def _evo(
    sim: ServidorSimulador, *, instancia: str = "inst-1", timeout_s: float = 2.0
) -> ProvedorEvolution:
    return ProvedorEvolution(
        sim.url, SIMULADOR_API_KEY, instancia, timeout_s=timeout_s, margem_ausencia_s=0
    )


def _falhas(http: httpx.Client, **falhas: Any) -> dict[str, Any]:
    resposta = http.post("/__sim/falhas", json=falhas)
    assert resposta.status_code == 200, resposta.text
    return resposta.json()  # type: ignore[no-any-return]


def _enviar(evo: ProvedorEvolution, texto: str = "Olá! Podemos conversar?"):  # type: ignore[no-untyped-def]
    return evo.enviar_texto(numero_e164=NUMERO, texto=texto, id_agendamento="ag-1")


def _confirmar(evo: ProvedorEvolution, texto: str, desde: datetime) -> Confirmacao:
    return evo.confirmar_envio(
        numero_e164=NUMERO, texto=texto, id_agendamento="ag-1", desde=desde
    ).confirmacao


# --- connection --------------------------------------------------------------------------------


def test_fluxo_de_conexao_com_qr_e_botao(sim: ServidorSimulador, http: httpx.Client) -> None:
    with _evo(sim, instancia="inst-2") as evo:
        assert evo.estado_conexao().status == StatusConexao.DESCONECTADO  # 404: not created
        with pytest.raises(ErroProvedor, match="não encontrada"):
            evo.reiniciar()
        estado = evo.conectar()  # 404 → POST /instance/create, which starts pairing
        assert estado.status == StatusConexao.CONECTANDO
        assert estado.qr_base64 is not None
        assert base64.b64decode(estado.qr_base64).startswith(b"\x89PNG\r\n\x1a\n")
        assert estado.pairing_code
        assert evo.conectar().qr_base64 == estado.qr_base64  # same QR while waiting
        assert evo.estado_conexao().status == StatusConexao.CONECTANDO

        pagina = http.get("/")
        assert pagina.status_code == 200
        assert "inst-2" in pagina.text
        assert "Escanear QR" in pagina.text
        escaneado = http.post(
            "/__sim/instancias/inst-2/escanear",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        assert escaneado.status_code == 303

        assert evo.estado_conexao().status == StatusConexao.CONECTADO
        assert evo.conectar().status == StatusConexao.CONECTADO
        evo.reiniciar()
        evo.desconectar()
        assert evo.estado_conexao().status == StatusConexao.DESCONECTADO
        evo.desconectar()  # idempotent
        with pytest.raises(ErroProvedor, match="not connected"):
            evo.reiniciar()  # Evolution's 200-with-error quirk on a closed instance


def test_conexao_automatica_depois_do_atraso() -> None:
    simulador = Simulador(auto_conectar_s=0.2)
    with ServidorSimulador(simulador).iniciar_em_thread() as sim, _evo(sim) as evo:
        assert evo.conectar().status == StatusConexao.CONECTANDO
        esperar(lambda: evo.estado_conexao().status == StatusConexao.CONECTADO, limite_s=5)


def test_criar_instancia(sim: ServidorSimulador) -> None:
    with _evo(sim, instancia="nova") as evo:
        estado = evo.criar_instancia()
        assert estado.status == StatusConexao.CONECTANDO
        assert estado.qr_base64
        with pytest.raises(ErroProvedor):
            evo.criar_instancia()  # 403: name in use


# --- sending and inbox -------------------------------------------------------------------------


def test_envio_cai_na_caixa_de_entrada(sim: ServidorSimulador, http: httpx.Client) -> None:
    with _evo(sim) as evo:
        resultado = _enviar(evo, "Primeira")
        _enviar(evo, "Segunda")
    assert resultado.desfecho == Desfecho.ACEITO
    mensagens = http.get("/__sim/mensagens").json()
    assert [m["text"] for m in mensagens] == ["Primeira", "Segunda"]
    primeira = mensagens[0]
    assert {"instance", "number", "text", "key_id", "recebido_em"} <= set(primeira)
    assert primeira["instance"] == "inst-1"
    assert primeira["number"] == DIGITOS
    assert primeira["key_id"] == resultado.provider_message_id
    assert datetime.fromisoformat(primeira["recebido_em"]).tzinfo is not None
    assert http.get("/__sim/mensagens", params={"number": "123"}).json() == []

    contagem = http.get("/__sim/contagem").json()
    assert contagem["total"] == 2
    assert contagem["por_numero"] == {DIGITOS: 2}
    assert contagem["por_key_id"][resultado.provider_message_id] == 1
    assert contagem["duplicadas"] == []

    assert http.delete("/__sim/mensagens").json() == {"removidas": 2}
    assert http.get("/__sim/mensagens").json() == []


def test_confirmar_envio_no_simulador(sim: ServidorSimulador) -> None:
    desde = datetime.now(UTC)
    with _evo(sim) as evo:
        assert _confirmar(evo, "Oi", desde) == Confirmacao.AUSENTE
        resultado = _enviar(evo, "Oi")
        confirmacao = evo.confirmar_envio(
            numero_e164=NUMERO, texto="Oi", id_agendamento="ag-1", desde=desde
        )
    assert confirmacao.confirmacao == Confirmacao.ENVIADO
    assert confirmacao.provider_message_id == resultado.provider_message_id


def test_chave_errada_e_permanente(sim: ServidorSimulador) -> None:
    with ProvedorEvolution(sim.url, "chave-errada", "inst-1") as evo:
        resultado = _enviar(evo)
    assert resultado.desfecho == Desfecho.PERMANENTE
    assert resultado.erro == ERRO_CREDENCIAIS


# --- fault injection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("falha", "desfecho", "guardada", "confirmacao"),
    [
        ("429", Desfecho.RETENTAVEL, None, Confirmacao.AUSENTE),
        ("500", Desfecho.RETENTAVEL, None, Confirmacao.AUSENTE),
        ("timeout", Desfecho.DESCONHECIDO, "timeout_apos_envio", Confirmacao.ENVIADO),
        ("queda_antes", Desfecho.DESCONHECIDO, None, Confirmacao.AUSENTE),
        ("queda_depois", Desfecho.DESCONHECIDO, "queda_apos_envio", Confirmacao.ENVIADO),
    ],
)
def test_cada_falha_injetada_e_classificada(
    sim: ServidorSimulador,
    http: httpx.Client,
    falha: str,
    desfecho: Desfecho,
    guardada: str | None,
    confirmacao: Confirmacao,
) -> None:
    _falhas(http, proximas=[falha], timeout_s=3.0)
    desde = datetime.now(UTC)
    texto = f"Mensagem com falha {falha}"
    with _evo(sim, timeout_s=0.5) as evo:
        resultado = _enviar(evo, texto)
        assert resultado.desfecho == desfecho
        if falha == "429":
            assert resultado.tentar_apos_s == 1
        mensagens = http.get("/__sim/mensagens").json()
        if guardada is None:
            assert mensagens == []
        else:
            (mensagem,) = mensagens
            assert mensagem["falha_injetada"] == guardada
        assert _confirmar(evo, texto, desde) == confirmacao
        # The next send is normal again.
        assert _enviar(evo, "depois").desfecho == Desfecho.ACEITO
    assert http.get("/__sim/falhas").json()["contadores"][falha] == 1


def test_numero_inexistente_e_desconectado(sim: ServidorSimulador, http: httpx.Client) -> None:
    with _evo(sim) as evo:
        _falhas(http, numeros_inexistentes=[NUMERO])
        resultado = _enviar(evo)
        assert resultado.desfecho == Desfecho.PERMANENTE
        assert resultado.erro == ERRO_NUMERO_INEXISTENTE

        _falhas(http, numeros_inexistentes=[], desconectado=True)
        assert _enviar(evo).desfecho == Desfecho.RETENTAVEL
        assert evo.estado_conexao().status == StatusConexao.DESCONECTADO
        with pytest.raises(ErroProvedor, match="Connection Closed"):
            evo.conectar()  # 200 {"error": true}
        _falhas(http, desconectado=False)
        assert _enviar(evo).desfecho == Desfecho.ACEITO
    assert len(http.get("/__sim/mensagens").json()) == 1


def test_taxas_com_semente_sao_reproduziveis() -> None:
    def rodada() -> list[Desfecho]:
        with (
            iniciar_em_thread(instancias=["inst-1"]) as sim,
            httpx.Client(base_url=sim.url) as http,
            _evo(sim, timeout_s=0.5) as evo,
        ):
            _falhas(
                http, semente=42, taxa_429=0.3, taxa_500=0.3, taxa_queda=0.2, queda_modo="antes"
            )
            return [_enviar(evo, f"m{i}").desfecho for i in range(15)]

    primeira, segunda = rodada(), rodada()
    assert primeira == segunda
    assert {Desfecho.ACEITO, Desfecho.RETENTAVEL} <= set(primeira)


def test_latencia(sim: ServidorSimulador, http: httpx.Client) -> None:
    _falhas(http, latencia_ms=250)
    with _evo(sim) as evo:
        inicio = time.monotonic()
        assert _enviar(evo).desfecho == Desfecho.ACEITO
    assert time.monotonic() - inicio >= 0.25


def test_falhas_invalidas_sao_recusadas(http: httpx.Client) -> None:
    assert http.post("/__sim/falhas", json={"taxa_429": 2}).status_code == 422
    assert http.post("/__sim/falhas", json={"desconhecido": 1}).status_code == 422
    assert http.post("/__sim/falhas", json={"proximas": ["boom"]}).status_code == 422
    falhas = http.get("/__sim/falhas").json()
    assert falhas["taxa_429"] == 0.0
    assert set(falhas) >= {
        "latencia_ms",
        "taxa_429",
        "taxa_500",
        "taxa_timeout",
        "taxa_queda",
        "numeros_inexistentes",
        "desconectado",
        "semente",
    }


# --- webhooks ----------------------------------------------------------------------------------


def test_webhooks_chegam_em_ordem_com_o_segredo(
    sim: ServidorSimulador, falso: ServidorFalso
) -> None:
    falso.rota("POST", "/webhook", Resposta(200, {"ok": True}))
    assert sim.simulador.criar("inst-3", qrcode=False) is not None  # created, not pairing yet
    with _evo(sim, instancia="inst-3") as evo:
        evo.configurar_webhook(f"{falso.url}/webhook", "segredo-do-webhook")
        evo.conectar()
        assert sim.simulador.escanear("inst-3")
        resultado = _enviar(evo)

    def entregues() -> list[Any]:
        return falso.recebidas("POST", "/webhook")

    esperar(lambda: len(entregues()) >= 6)
    requisicoes = entregues()
    assert all(
        r.cabecalhos[CABECALHO_SEGREDO_WEBHOOK.lower()] == "segredo-do-webhook" for r in requisicoes
    )
    eventos = [interpretar_webhook(r.json) for r in requisicoes]
    resumo = [(e.tipo, e.status_conexao or e.status_mensagem) for e in eventos]
    assert resumo == [
        ("conexao", StatusConexao.CONECTANDO),
        ("qr", StatusConexao.CONECTANDO),
        ("conexao", StatusConexao.CONECTADO),
        ("status_mensagem", "enviado"),  # send.message
        ("status_mensagem", "enviado"),  # messages.update SERVER_ACK
        ("status_mensagem", "entregue"),  # messages.update DELIVERY_ACK
    ]
    assert {e.provider_message_id for e in eventos[3:]} == {resultado.provider_message_id}
    assert requisicoes[0].json["instance"] == "inst-3"
    assert eventos[1].dados["qr_base64"]


def test_webhook_lento_nao_atrasa_o_envio(sim: ServidorSimulador) -> None:
    with servidor_falso() as lento:
        lento.rota("POST", "/webhook", Resposta(200, {}, dormir_s=1.0))
        with _evo(sim) as evo:
            evo.configurar_webhook(f"{lento.url}/webhook", "s")
            inicio = time.monotonic()
            for i in range(3):
                assert _enviar(evo, f"m{i}").desfecho == Desfecho.ACEITO
            assert time.monotonic() - inicio < 0.9
        esperar(lambda: lento.recebidas("POST", "/webhook"), limite_s=5)


def test_webhook_para_destino_fora_do_ar_nao_quebra_o_envio(sim: ServidorSimulador) -> None:
    with _evo(sim) as evo:
        evo.configurar_webhook(f"http://127.0.0.1:{porta_fechada()}/webhook", "s")
        assert _enviar(evo).desfecho == Desfecho.ACEITO
    esperar(lambda: sim.simulador.webhooks_entregues() >= 3)


# --- python -m whatsapp_app.simulador ----------------------------------------------------------


def test_modulo_executavel() -> None:
    porta = porta_fechada()
    ambiente = {
        **os.environ,
        "SIMULADOR_PORT": str(porta),
        "SIMULADOR_LEITURA_S": "0.5",
        "SIMULADOR_AUTO_CONECTAR_S": "0",
        "LOG_LEVEL": "INFO",
    }
    processo = subprocess.Popen(
        [sys.executable, "-m", "whatsapp_app.simulador", "--instancia", "demo"],
        cwd=RAIZ,
        env=ambiente,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def pronto() -> bool:
            try:
                return (
                    httpx.get(f"http://127.0.0.1:{porta}/__sim/falhas", timeout=0.5).status_code
                    == 200
                )
            except httpx.HTTPError:
                assert processo.poll() is None, "o simulador terminou"
                return False

        esperar(pronto, limite_s=20, intervalo_s=0.1)
        assert httpx.get(f"http://127.0.0.1:{porta}/__sim/mensagens").json() == []
        assert httpx.get(f"http://127.0.0.1:{porta}/__sim/config").json() == {
            "leitura_s": 0.5,
            "auto_conectar_s": None,  # 0 = only the page's button (README)
            "criar_sob_demanda": False,
        }
        (demo,) = httpx.get(f"http://127.0.0.1:{porta}/__sim/instancias").json()
        assert (demo["instanceName"], demo["state"]) == ("demo", "open")
    finally:
        processo.terminate()
        _, erros = processo.communicate(timeout=10)
    assert processo.returncode == 0
    assert '"simulador: ouvindo"' in erros
    assert f'"url": "http://127.0.0.1:{porta}"' in erros


# --- unknown instances answer 404, as in Evolution --------------------------------------------

ROTAS_DE_INSTANCIA = [
    ("GET", "/instance/connect/{}"),
    ("GET", "/instance/connectionState/{}"),
    ("POST", "/instance/restart/{}"),
    ("PUT", "/instance/restart/{}"),
    ("DELETE", "/instance/logout/{}"),
    ("POST", "/message/sendText/{}"),
    ("POST", "/webhook/set/{}"),
    ("GET", "/webhook/find/{}"),
    ("POST", "/chat/findMessages/{}"),
]


@pytest.mark.parametrize(("metodo", "rota"), ROTAS_DE_INSTANCIA)
@pytest.mark.parametrize("chave", [SIMULADOR_API_KEY, "chave-errada"])
def test_instancia_desconhecida_responde_404_em_toda_rota(
    http: httpx.Client, metodo: str, rota: str, chave: str
) -> None:
    corpo = {"number": DIGITOS, "text": "oi", "webhook": {"url": "http://127.0.0.1:9/w"}}
    resposta = http.request(
        metodo, rota.format("nao%20existe"), json=corpo, headers={"apikey": chave}
    )
    # Evolution's instance guard runs before the api key's: 404 even with a wrong key.
    assert resposta.status_code == 404
    assert resposta.json() == {
        "status": 404,
        "error": "Not Found",
        "response": {"message": ['The "nao existe" instance does not exist']},
    }
    assert http.get("/__sim/instancias").json()[0]["instanceName"] == "inst-1"  # none created


def test_so_instance_create_cria_instancias(sim: ServidorSimulador, http: httpx.Client) -> None:
    for acao in ("escanear", "desconectar"):
        assert http.post(f"/__sim/instancias/outra/{acao}").status_code == 404
    cabecalho = {"apikey": SIMULADOR_API_KEY}
    criada = http.post("/instance/create", json={"instanceName": "outra"}, headers=cabecalho)
    assert criada.status_code == 201
    assert criada.json()["instance"]["status"] == "close"  # no "qrcode": true, no pairing
    assert criada.json()["qrcode"] == {"count": 0}
    estado = http.get("/instance/connectionState/outra", headers=cabecalho).json()
    assert estado == {"instance": {"instanceName": "outra", "state": "close"}}
    assert sorted(i["instanceName"] for i in http.get("/__sim/instancias").json()) == [
        "inst-1",
        "outra",
    ]


def test_criar_sob_demanda_atende_qualquer_nome() -> None:
    with iniciar_em_thread(criar_sob_demanda=True) as sim, _evo(sim, instancia="qualquer") as evo:
        assert _enviar(evo).desfecho == Desfecho.ACEITO
        assert sim.simulador.mensagens()[0]["instance"] == "qualquer"
