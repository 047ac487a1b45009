"""The one place that turns a ``WhatsappInstancia`` row into a provider adapter.

Adapters built here share one process-wide ``httpx.Client`` (thread-safe, pooled): callers may
build one adapter per job without leaking sockets, and need not close anything. Timeouts are
set per request by each adapter.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from whatsapp_app.config import configuracoes
from whatsapp_app.cripto import decifrar_config
from whatsapp_app.models import Provedor as TipoProvedor
from whatsapp_app.models import WhatsappInstancia
from whatsapp_app.providers.base import Provedor
from whatsapp_app.providers.cloud_api import (
    GRAPH_BASE_URL_PADRAO,
    GRAPH_VERSION_PADRAO,
    ProvedorCloudApi,
)
from whatsapp_app.providers.evolution import ProvedorEvolution
from whatsapp_app.providers.guarda import gancho_requisicao
from whatsapp_app.simulador import SIMULADOR_API_KEY, SIMULADOR_HOST

AdaptadorProvedor = ProvedorEvolution | ProvedorCloudApi

_trava = threading.Lock()
_cliente: httpx.Client | None = None


def cliente_http() -> httpx.Client:
    """The shared client (created on first use)."""
    global _cliente
    with _trava:
        if _cliente is None or _cliente.is_closed:
            # Room for every send the process may have in flight (the dispatcher's gate is
            # DESPACHO_CONCORRENCIA): a request queued for a pool slot is what triggers
            # httpcore's closed-connection race (encode/httpcore#1110).
            vagas = max(50, configuracoes().despacho_concorrencia)
            # Every request passes the address guard (the built-in simulator excepted), and
            # no redirect is ever followed: a provider cannot bounce us into the network.
            simulador = (SIMULADOR_HOST, configuracoes().simulador_port)
            _cliente = httpx.Client(
                limits=httpx.Limits(max_connections=vagas, max_keepalive_connections=vagas),
                headers={"User-Agent": "whatsapp-app/0.1"},
                follow_redirects=False,
                event_hooks={"request": [gancho_requisicao({simulador})]},
            )
        return _cliente


def fechar_cliente_http() -> None:
    global _cliente
    with _trava:
        if _cliente is not None:
            _cliente.close()
        _cliente = None


def url_simulador() -> str:
    return f"http://{SIMULADOR_HOST}:{configuracoes().simulador_port}"


def _texto(config: dict[str, Any], chave: str, padrao: str = "") -> str:
    valor = config.get(chave)
    return str(valor).strip() if valor not in (None, "") else padrao


def provedor_para(
    instancia: WhatsappInstancia, *, cliente: httpx.Client | None = None
) -> AdaptadorProvedor:
    """The adapter for this instance, with its decrypted config (contract §4 config keys).

    ``simulador`` → the Evolution adapter pointed at the local simulator, the instance id as
    Evolution instance name and the simulator's fixed key. Raises ``ValueError`` (pt-BR) for an
    unknown provider or a config missing required fields; ``cripto.ErroCripto`` when the stored
    config cannot be decrypted."""
    http = cliente if cliente is not None else cliente_http()
    timeout_s = configuracoes().provedor_timeout_s
    provider = (instancia.provider or "").strip().lower()
    if provider == TipoProvedor.SIMULADOR:
        # The simulator keeps history in memory and answers synchronously: no grace period.
        return ProvedorEvolution(
            url_simulador(),
            SIMULADOR_API_KEY,
            instancia.id,
            cliente=http,
            timeout_s=timeout_s,
            margem_ausencia_s=0.0,
        )
    config = decifrar_config(instancia.config_cifrada)
    if provider == TipoProvedor.EVOLUTION:
        faltando = [c for c in ("base_url", "api_key", "instance_name") if not _texto(config, c)]
        if faltando:
            raise ValueError(f"Configuração do Evolution incompleta: falta {', '.join(faltando)}.")
        return ProvedorEvolution(
            _texto(config, "base_url"),
            _texto(config, "api_key"),
            _texto(config, "instance_name"),
            cliente=http,
            timeout_s=timeout_s,
            historico_confiavel=bool(config.get("historico_confiavel", True)),
        )
    if provider == TipoProvedor.CLOUD_API:
        faltando = [c for c in ("phone_number_id", "access_token") if not _texto(config, c)]
        if faltando:
            raise ValueError(f"Configuração do Cloud API incompleta: falta {', '.join(faltando)}.")
        return ProvedorCloudApi(
            phone_number_id=_texto(config, "phone_number_id"),
            access_token=_texto(config, "access_token"),
            app_secret=_texto(config, "app_secret"),
            verify_token=_texto(config, "verify_token"),
            graph_base_url=_texto(config, "graph_base_url", GRAPH_BASE_URL_PADRAO),
            graph_version=_texto(config, "graph_version", GRAPH_VERSION_PADRAO),
            cliente=http,
            timeout_s=timeout_s,
        )
    raise ValueError(f"Provedor de WhatsApp desconhecido: {instancia.provider!r}.")


def _confere_interface(evolution: ProvedorEvolution, cloud: ProvedorCloudApi) -> list[Provedor]:
    """Type-checking only: both adapters satisfy ``base.Provedor`` (mypy checks this)."""
    return [evolution, cloud]
