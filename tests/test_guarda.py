"""Outbound address guard: provider URLs never reach link-local/metadata addresses, nor (in
production) loopback and private networks unless allowed; checked at create time (422) and
before every request (DNS may change); redirects are never followed; network failures reach
the user as one pt-BR message. No test sends a packet to a refused address: the guard runs
before httpx opens a connection."""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import httpx
import pytest

from tests.factories import criar_empresa, login
from tests.providers.falso import porta_fechada
from whatsapp_app.config import configuracoes
from whatsapp_app.providers import guarda
from whatsapp_app.providers.comum import ERRO_SEM_CONEXAO, ErroProvedor
from whatsapp_app.providers.evolution import ProvedorEvolution
from whatsapp_app.providers.fabrica import cliente_http, fechar_cliente_http

SEMPRE = [
    "169.254.169.254",
    "169.254.170.2",
    "100.100.100.200",
    "fe80::1",
    "::ffff:169.254.169.254",
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
]
INTERNOS = [
    "127.0.0.1",
    "::1",
    "10.0.0.5",
    "172.16.0.1",
    "192.168.1.10",
    "fd12:3456::1",
    "100.64.1.1",
    "::ffff:10.0.0.5",
]


@pytest.fixture
def ambiente(monkeypatch):  # type: ignore[no-untyped-def]
    def _definir(nome: str, redes: str = "") -> None:
        monkeypatch.setenv("AMBIENTE", nome)
        monkeypatch.setenv("SEGREDO_APP", "um-segredo-de-producao-bem-longo-0001")
        monkeypatch.setenv("PROVEDOR_REDES_PERMITIDAS", redes)
        configuracoes.cache_clear()
        guarda.limpar_cache()
        fechar_cliente_http()

    yield _definir
    configuracoes.cache_clear()
    guarda.limpar_cache()
    fechar_cliente_http()


@pytest.mark.parametrize("endereco", SEMPRE)
@pytest.mark.parametrize("nome", ["desenvolvimento", "producao"])
def test_link_local_e_metadados_sempre_recusados(ambiente, endereco: str, nome: str) -> None:
    ambiente(nome)
    with pytest.raises(guarda.EnderecoRecusado):
        guarda.verificar_host(endereco, 80)


@pytest.mark.parametrize("endereco", INTERNOS)
def test_redes_internas_recusadas_em_producao(ambiente, endereco: str) -> None:
    ambiente("desenvolvimento")
    guarda.verificar_host(endereco, 80)  # a developer's local Evolution works
    ambiente("producao")
    with pytest.raises(guarda.EnderecoRecusado):
        guarda.verificar_host(endereco, 80)


def test_redes_permitidas_liberam_so_o_que_listam(ambiente) -> None:
    ambiente("producao", redes="10.0.5.0/24, fd12::/16")
    guarda.verificar_host("10.0.5.7", 8080)
    guarda.verificar_host("fd12:3456::1", 443)
    for fora in ("10.0.6.1", "127.0.0.1", "169.254.169.254"):
        with pytest.raises(guarda.EnderecoRecusado):
            guarda.verificar_host(fora, 80)
    guarda.verificar_host("8.8.8.8", 443)  # public: allowed (nothing is sent here)


def test_nome_que_resolve_para_dentro_e_recusado(ambiente) -> None:
    ambiente("producao")
    with pytest.raises(guarda.EnderecoRecusado):
        guarda.verificar_url("http://localhost:8080/")


def test_redes_permitidas_invalidas_impedem_a_partida(monkeypatch) -> None:
    monkeypatch.setenv("PROVEDOR_REDES_PERMITIDAS", "10.0.0.0/33")
    configuracoes.cache_clear()
    with pytest.raises(ValueError, match="PROVEDOR_REDES_PERMITIDAS"):
        configuracoes()
    configuracoes.cache_clear()


@pytest.mark.parametrize(
    ("provider", "config", "campo"),
    [
        (
            "evolution",
            {"base_url": "http://169.254.169.254", "api_key": "k", "instance_name": "x"},
            "config.base_url",
        ),
        (
            "evolution",
            {"base_url": "http://[fe80::1]:8080", "api_key": "k", "instance_name": "x"},
            "config.base_url",
        ),
        (
            "cloud_api",
            {
                "graph_base_url": "http://169.254.169.254",
                "phone_number_id": "1",
                "access_token": "t",
                "app_secret": "s",
                "verify_token": "v",
            },
            "config.graph_base_url",
        ),
    ],
)
def test_criar_instancia_com_endereco_recusado_e_422(cliente, provider, config, campo) -> None:
    empresa = criar_empresa()
    resposta = cliente.post(
        "/api/whatsapp/instances",
        json={"nome": "Invasora", "provider": provider, "config": config},
        headers=login(cliente, empresa.usuarios["admin"]),
    )
    assert resposta.status_code == 422, resposta.text
    assert "não permitido" in resposta.json()["erro"]["campos"][campo]


def test_cada_requisicao_passa_pela_guarda_dns_pode_mudar(ambiente, monkeypatch) -> None:
    """A host that was public at create time and now resolves inside (DNS rebinding)."""
    ambiente("producao")
    resolucoes: list[str] = []

    def falso(host: str, porta: Any, *args: Any, **kwargs: Any) -> list[Any]:
        resolucoes.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", porta))]

    monkeypatch.setattr(guarda.socket, "getaddrinfo", falso)
    with pytest.raises(guarda.EnderecoRecusado):
        cliente_http().get("http://evolution.cliente.example/instance/fetchInstances")
    assert resolucoes == ["evolution.cliente.example"]


def test_envio_para_endereco_recusado_e_erro_permanente_sem_conexao(ambiente) -> None:
    ambiente("producao")
    provedor = ProvedorEvolution("http://169.254.169.254", "k", "x", cliente=cliente_http())
    resultado = provedor.enviar_texto(numero_e164="+5511987654321", texto="oi", id_agendamento="j")
    assert resultado.desfecho == "permanente"
    assert resultado.erro == guarda.MENSAGEM_RECUSADA


class _Redireciona(BaseHTTPRequestHandler):
    pedidos = 0

    def log_message(self, *_: Any) -> None:
        pass

    def do_GET(self) -> None:
        type(self).pedidos += 1
        self.send_response(302)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_redirecionamento_nunca_e_seguido(ambiente) -> None:
    ambiente("desenvolvimento")
    servidor = ThreadingHTTPServer(("127.0.0.1", 0), _Redireciona)
    Thread(target=servidor.serve_forever, daemon=True).start()
    try:
        resposta = cliente_http().get(f"http://127.0.0.1:{servidor.server_address[1]}/")
    finally:
        servidor.shutdown()
        servidor.server_close()
    assert resposta.status_code == 302 and _Redireciona.pedidos == 1


def test_falha_de_rede_e_uma_mensagem_so_sem_nome_de_excecao(ambiente) -> None:
    ambiente("desenvolvimento")
    provedor = ProvedorEvolution(
        f"http://127.0.0.1:{porta_fechada()}", "k", "x", cliente=httpx.Client()
    )
    with pytest.raises(ErroProvedor) as erro:
        provedor.conectar()
    assert erro.value.mensagem == ERRO_SEM_CONEXAO
    assert "Error" not in erro.value.mensagem
