"""Encrypted provider configs, masking (no secret in logs), and the adapter factory."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.providers.falso import Resposta, ServidorFalso
from whatsapp_app.config import configuracoes
from whatsapp_app.cripto import (
    ErroCripto,
    cifrar_config,
    decifrar_config,
    mascarar,
)
from whatsapp_app.models import WhatsappInstancia
from whatsapp_app.providers.base import Desfecho
from whatsapp_app.providers.cloud_api import ProvedorCloudApi
from whatsapp_app.providers.evolution import ProvedorEvolution
from whatsapp_app.providers.fabrica import provedor_para
from whatsapp_app.simulador import SIMULADOR_API_KEY
from whatsapp_app.simulador.servidor import iniciar_em_thread

API_KEY = "evo-chave-muito-secreta-98765"
TOKEN = "EAAG-token-secretissimo-4321"
APP_SECRET = "app-secret-meta-abcdef-5555"
VERIFY = "verify-token-do-webhook-7777"


@pytest.fixture
def segredo_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SEGREDO_APP", "segredo-de-teste-para-cripto")
    configuracoes.cache_clear()
    yield "segredo-de-teste-para-cripto"
    configuracoes.cache_clear()


def _instancia(provider: str, config: dict[str, object] | None = None) -> WhatsappInstancia:
    return WhatsappInstancia(
        id="inst0001",
        id_empresa="emp1",
        nome="Teste",
        provider=provider,
        config_cifrada=cifrar_config(config) if config else "",
    )


# --- cripto ------------------------------------------------------------------------------------


def test_cifra_e_decifra(segredo_app: str) -> None:
    config = {"base_url": "http://evo.local", "api_key": API_KEY, "instance_name": "Loja São João"}
    cifrado = cifrar_config(config)
    assert API_KEY not in cifrado
    assert "evo.local" not in cifrado
    assert decifrar_config(cifrado) == config
    assert cifrar_config(config) != cifrado  # random IV: equal configs do not look equal
    assert decifrar_config("") == {}


def test_outro_segredo_nao_decifra(segredo_app: str) -> None:
    cifrado = cifrar_config({"api_key": API_KEY})
    with pytest.raises(ErroCripto):
        decifrar_config(cifrado, segredo="outro-segredo")
    with pytest.raises(ErroCripto):
        decifrar_config(cifrado[:-4] + "AAAA")
    assert decifrar_config(cifrado, segredo=segredo_app) == {"api_key": API_KEY}


def test_mascarar_esconde_segredos() -> None:
    config = {
        "base_url": "http://evo.local",
        "api_key": API_KEY,
        "instance_name": "loja",
        "access_token": TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY,
        "curto": "x",
        "senha": "abc",
        "aninhado": {"token": TOKEN},
    }
    mascarado = mascarar(config)
    assert mascarado["api_key"] == "••••8765"
    assert mascarado["access_token"] == "••••4321"
    assert mascarado["app_secret"] == "••••5555"
    assert mascarado["verify_token"] == "••••7777"
    assert mascarado["senha"] == "••••"  # short: no last four
    assert mascarado["aninhado"] == {"token": "••••4321"}
    assert mascarado["base_url"] == "http://evo.local"
    assert mascarado["instance_name"] == "loja"
    texto = repr(mascarado)
    for segredo in (API_KEY, TOKEN, APP_SECRET, VERIFY):
        assert segredo not in texto
    assert config["api_key"] == API_KEY  # the original is untouched


def test_logs_nao_mostram_segredos(falso: ServidorFalso, caplog: pytest.LogCaptureFixture) -> None:
    falso.rota("POST", "/message/sendText/loja", Resposta(201, {"key": {"id": "K"}}))
    falso.rota("POST", "/message/sendText/loja2", Resposta(401, {"response": {"message": "no"}}))
    falso.rota(
        "POST", "/v21.0/PN/messages", Resposta(401, {"error": {"code": 190, "message": "bad"}})
    )
    raiz = logging.getLogger("whatsapp_app")
    raiz.addHandler(caplog.handler)  # the app logger may not propagate (logs.configurar_logs)
    try:
        caplog.set_level(logging.DEBUG)
        config = {"base_url": falso.url, "api_key": API_KEY, "instance_name": "loja"}
        logging.getLogger("whatsapp_app.teste").info("config", extra={"config": mascarar(config)})
        with ProvedorEvolution(falso.url, API_KEY, "loja") as evo:
            evo.enviar_texto(numero_e164="+5511988887777", texto="oi", id_agendamento="a")
        with ProvedorEvolution(falso.url, API_KEY, "loja2") as evo:
            evo.enviar_texto(numero_e164="+5511988887777", texto="oi", id_agendamento="b")
            assert API_KEY not in repr(evo)
        with ProvedorCloudApi(
            graph_base_url=falso.url,
            phone_number_id="PN",
            access_token=TOKEN,
            app_secret=APP_SECRET,
            verify_token=VERIFY,
        ) as cloud:
            cloud.enviar_texto(numero_e164="+5511988887777", texto="oi", id_agendamento="c")
            assert TOKEN not in repr(cloud)
    finally:
        raiz.removeHandler(caplog.handler)
    registros = caplog.records
    assert registros, "os adaptadores registram seus envios"
    texto = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in registros)
    for segredo in (API_KEY, TOKEN, APP_SECRET, VERIFY):
        assert segredo not in texto


# --- fabrica -----------------------------------------------------------------------------------


def test_fabrica_simulador(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMULADOR_PORT", "9911")
    configuracoes.cache_clear()
    try:
        provedor = provedor_para(_instancia("simulador"))
    finally:
        configuracoes.cache_clear()
    assert isinstance(provedor, ProvedorEvolution)
    assert provedor.base_url == "http://127.0.0.1:9911"
    assert provedor.instance_name == "inst0001"


def test_fabrica_evolution_e_cloud(segredo_app: str) -> None:
    evo = provedor_para(
        _instancia(
            "evolution",
            {"base_url": "http://evo.local/", "api_key": API_KEY, "instance_name": "loja"},
        )
    )
    assert isinstance(evo, ProvedorEvolution)
    assert (evo.base_url, evo.instance_name) == ("http://evo.local", "loja")
    cloud = provedor_para(
        _instancia(
            "cloud_api",
            {
                "phone_number_id": "PN1",
                "access_token": TOKEN,
                "app_secret": APP_SECRET,
                "verify_token": VERIFY,
                "graph_version": "v22.0",
            },
        )
    )
    assert isinstance(cloud, ProvedorCloudApi)
    assert (cloud.phone_number_id, cloud.graph_version) == ("PN1", "v22.0")
    assert cloud.graph_base_url == "https://graph.facebook.com"


def test_fabrica_recusa_config_incompleta_e_provedor_desconhecido(segredo_app: str) -> None:
    with pytest.raises(ValueError, match="api_key"):
        provedor_para(_instancia("evolution", {"base_url": "http://x", "instance_name": "i"}))
    with pytest.raises(ValueError, match="access_token"):
        provedor_para(_instancia("cloud_api", {"phone_number_id": "1"}))
    with pytest.raises(ValueError, match="desconhecido"):
        provedor_para(_instancia("telegram"))


def test_fabrica_simulador_de_ponta_a_ponta(monkeypatch: pytest.MonkeyPatch) -> None:
    with iniciar_em_thread(instancias=["inst0001"]) as servidor:
        monkeypatch.setenv("SIMULADOR_PORT", str(servidor.porta))
        configuracoes.cache_clear()
        try:
            provedor = provedor_para(_instancia("simulador"))
            resultado = provedor.enviar_texto(
                numero_e164="+5511977776666", texto="Oi do CRM", id_agendamento="ag"
            )
        finally:
            configuracoes.cache_clear()
        assert resultado.desfecho == Desfecho.ACEITO
        (mensagem,) = servidor.simulador.mensagens()
        assert mensagem["instance"] == "inst0001"
        assert mensagem["key_id"] == resultado.provider_message_id
        assert servidor.simulador.api_key == SIMULADOR_API_KEY
