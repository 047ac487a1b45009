"""Outbound address guard: provider URLs an admin types must not reach inside the network.

An instance's ``base_url`` (Evolution) or ``graph_base_url`` (Cloud API) is called by the
server with the provider's credentials, so an admin could otherwise point it at 127.0.0.1,
the private network or a cloud metadata service (server-side request forgery). Every host is
resolved and each address it resolves to is judged:

- always refused: link-local (169.254/16, fe80::/10, where cloud metadata lives), the known
  metadata addresses, unspecified, multicast and reserved ranges;
- refused when ``AMBIENTE=producao``: loopback and private ranges (10/8, 172.16/12,
  192.168/16, fc00::/7, 100.64/10), unless listed in ``PROVEDOR_REDES_PERMITIDAS`` (a
  self-hosted Evolution on the company's own network).

A host that does not resolve is not refused here (there is nothing to judge, and offline
machines could not create a Cloud API instance): the connection fails on its own.

Checked when an instance is created (a 422 on the field) and again before every request of the
shared HTTP client (DNS may change), through an httpx request hook; the client never follows
redirects, so a provider cannot bounce us elsewhere. Resolutions are cached for a minute.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from whatsapp_app.config import configuracoes
from whatsapp_app.logs import logger

_log = logger("providers.guarda")

METADADOS = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
}
CACHE_RESOLUCAO_S = 60.0
MENSAGEM_RECUSADA = "Endereço não permitido para um provedor (rede interna ou de metadados)."
MENSAGEM_SEM_HOST = "Informe o endereço do provedor."

Endereco = ipaddress.IPv4Address | ipaddress.IPv6Address


class EnderecoRecusado(httpx.TransportError):
    """A provider URL that resolves to an address the guard refuses (nothing was sent)."""

    def __init__(self, mensagem: str = MENSAGEM_RECUSADA) -> None:
        super().__init__(mensagem)
        self.mensagem = mensagem


_trava = threading.Lock()
_cache: dict[tuple[str, int], tuple[float, list[Endereco]]] = {}


def _redes_permitidas() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return configuracoes().redes_provedor_permitidas()


def _resolver(host: str, porta: int) -> list[Endereco]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    chave = (host.lower(), porta)
    agora = time.monotonic()
    with _trava:
        guardado = _cache.get(chave)
        if guardado is not None and agora - guardado[0] < CACHE_RESOLUCAO_S:
            return guardado[1]
    try:
        infos = socket.getaddrinfo(host, porta, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        # Nothing to judge: the connection itself will fail the same way (not cached).
        return []
    enderecos = sorted(
        {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}, key=str
    )
    with _trava:
        _cache[chave] = (agora, enderecos)
    return enderecos


def motivo_recusa(endereco: Endereco, *, producao: bool) -> str | None:
    """Why this address may not be a provider's (None when it may)."""
    if isinstance(endereco, ipaddress.IPv6Address) and endereco.ipv4_mapped is not None:
        endereco = endereco.ipv4_mapped
    if endereco in METADADOS:
        return "metadados"
    if endereco.is_link_local:
        return "link_local"
    interno = (
        endereco.is_loopback
        or endereco in _CGNAT
        or (endereco.is_private and not endereco.is_unspecified and not endereco.is_reserved)
    )
    if interno:
        if producao and not any(endereco in rede for rede in _redes_permitidas()):
            return "rede_interna"
        return None
    if endereco.is_unspecified or endereco.is_multicast or endereco.is_reserved:
        return "reservado"
    return None


_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def verificar_host(host: str, porta: int) -> None:
    """Raise ``EnderecoRecusado`` unless every address ``host`` resolves to is allowed."""
    producao = configuracoes().ambiente == "producao"
    for endereco in _resolver(host, porta):
        motivo = motivo_recusa(endereco, producao=producao)
        if motivo is not None:
            _log.warning(
                "endereço de provedor recusado",
                extra={"host": host[:200], "endereco": str(endereco), "motivo": motivo},
            )
            raise EnderecoRecusado()


def verificar_url(url: str) -> None:
    """The same check for a URL typed into an instance's config (ValueError-compatible use:
    callers turn ``EnderecoRecusado.mensagem`` into a field error)."""
    partes = urlsplit(url)
    if not partes.hostname:
        raise EnderecoRecusado(MENSAGEM_SEM_HOST)
    porta = partes.port or (443 if partes.scheme == "https" else 80)
    verificar_host(partes.hostname, porta)


def gancho_requisicao(isentos: set[tuple[str, int]]) -> Callable[[httpx.Request], None]:
    """An httpx ``request`` event hook that guards every request but those to ``isentos``
    (the built-in simulator on loopback, which the app itself starts)."""

    def _guardar(requisicao: httpx.Request) -> None:
        host = requisicao.url.host
        porta = requisicao.url.port or (443 if requisicao.url.scheme == "https" else 80)
        if (host, porta) in isentos:
            return
        verificar_host(host, porta)

    return _guardar


def limpar_cache() -> None:
    with _trava:
        _cache.clear()
