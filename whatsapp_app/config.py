"""Settings: the one place that reads the environment.

Every variable the app uses is a field here; README.md lists them. Values are read once per
process (``configuracoes()`` is cached); tests call ``configuracoes.cache_clear()`` after
changing the environment.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RAIZ_PROJETO = Path(__file__).resolve().parent.parent
PASTA_DADOS = RAIZ_PROJETO / "data"
SEGREDO_DESENVOLVIMENTO = "desenvolvimento-inseguro-troque-em-producao"


class Configuracoes(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    ambiente: Literal["desenvolvimento", "producao", "teste"] = "desenvolvimento"
    database_url: str = f"sqlite:///{PASTA_DADOS / 'whatsapp_app.db'}"
    redis_url: str = ""
    # PostgreSQL pool per process: kept open / opened on demand above that (server threads: 40).
    db_pool_tamanho: int = Field(default=20, ge=1, le=200)
    db_pool_extra: int = Field(default=30, ge=0, le=500)
    port: int = 3000
    log_level: str = "INFO"

    # Segredo usado para derivar a chave que cifra credenciais de provedores.
    segredo_app: str = SEGREDO_DESENVOLVIMENTO
    sessao_horas: int = Field(default=12, ge=1, le=24 * 30)
    # Seconds a process keeps a session token's lookup (auth.py); a logout or a deactivation
    # made in this process drops it at once, one made in another process counts after this.
    sessao_cache_s: float = Field(default=5.0, ge=0, le=60)
    # The session cookie's Secure flag: "auto" when the request came over https (directly or
    # as X-Forwarded-Proto from a TLS proxy), "sim" always, "nao" never.
    sessao_cookie_seguro: Literal["auto", "sim", "nao"] = "auto"
    login_max_tentativas: int = Field(default=5, ge=1)
    login_janela_minutos: int = Field(default=15, ge=1)

    demo_senha: str = ""
    internal_dispatch_token: str = ""
    metrics_token: str = ""

    agendador_ativo: bool = True
    agendador_intervalo_s: float = Field(default=5.0, gt=0)
    # A job due now wakes the dispatchers at once (despertador.py); off = tick only (bench).
    despertador_ativo: bool = True
    simulador_port: int = 8765
    simulador_auto_conectar_s: float = Field(default=3.0, ge=0)  # QR "scanned" after this

    # Dispatcher tunables (units in the names).
    despacho_lote: int = Field(default=100, ge=1, le=1000)  # jobs claimed per round
    # sends in flight per process, at most (sized per batch from the rate limit and the latency)
    despacho_concorrencia: int = Field(default=32, ge=1, le=64)
    despacho_max_tentativas: int = Field(default=5, ge=1, le=50)
    despacho_backoff_base_s: float = Field(default=30.0, gt=0)
    despacho_backoff_max_s: float = Field(default=3600.0, gt=0)
    despacho_msgs_por_segundo: float = Field(default=20.0, gt=0, le=80)  # per instance
    prazo_reivindicacao_s: float = Field(default=300.0, gt=0)  # stale PROCESSANDO after this
    provedor_timeout_s: float = Field(default=30.0, gt=0)
    # Private networks (CIDR, comma-separated) a provider URL may point at in production
    # (e.g. a self-hosted Evolution: "10.0.5.0/24"); link-local/metadata are never allowed.
    provedor_redes_permitidas: str = ""
    # Heartbeat of the claims in flight: each dispatcher refreshes ``batimento_em`` of its
    # claims every BATIMENTO_INTERVALO_S; the reaper (every REAPER_INTERVALO_S) takes back the
    # claims of a dispatcher silent for BATIMENTO_PRAZO_S (it died), never a live one's.
    batimento_intervalo_s: float = Field(default=5.0, gt=0)
    batimento_prazo_s: float = Field(default=20.0, gt=0)
    reaper_intervalo_s: float = Field(default=10.0, gt=0)

    # Where providers reach this app (webhook URLs); empty = http://127.0.0.1:{PORT}.
    app_url_publica: str = ""
    # Browser origins that may call the API with the session cookie (CORS) and open the Reflex
    # websocket, comma-separated. Empty = the app's own: APP_URL_PUBLICA's origin plus
    # http://localhost:{PORT} and http://127.0.0.1:{PORT}. "*" is refused (credentials).
    cors_origens: str = ""
    # Largest request body the REST API reads (webhooks included), counted while reading.
    api_max_corpo_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    # Connectivity poller: interval, and its debounce (conectividade.py): a new state is
    # written once seen this many consecutive times AND for at least this many seconds.
    conectividade_intervalo_s: float = Field(default=30.0, gt=0)
    conectividade_confirmacoes: int = Field(default=2, ge=1, le=100)
    conectividade_estabilidade_s: float = Field(default=20.0, ge=0)

    # "chave=1,outra=0": força flags em todas as empresas, acima do valor no banco.
    feature_flags: str = ""

    @model_validator(mode="after")
    def _prazo_maior_que_o_envio(self) -> Configuracoes:
        # The reaper must never take over a send that may still be in flight.
        if self.prazo_reivindicacao_s <= self.provedor_timeout_s:
            raise ValueError("PRAZO_REIVINDICACAO_S precisa ser maior que PROVEDOR_TIMEOUT_S.")
        return self

    @model_validator(mode="after")
    def _batimento_dentro_do_prazo(self) -> Configuracoes:
        # Two missed beats must not look like a death: the deadline spans several beats.
        if self.batimento_prazo_s < 2 * self.batimento_intervalo_s:
            raise ValueError("BATIMENTO_PRAZO_S precisa ser pelo menos 2× BATIMENTO_INTERVALO_S.")
        return self

    @model_validator(mode="after")
    def _segredo_forte_em_producao(self) -> Configuracoes:
        if self.ambiente == "producao" and self.segredo_app == SEGREDO_DESENVOLVIMENTO:
            raise ValueError("SEGREDO_APP precisa ser definido em produção.")
        return self

    @model_validator(mode="after")
    def _origens_validas(self) -> Configuracoes:
        self.origens_cors()  # raises on "*" or on a value that is not an origin
        return self

    def origens_cors(self) -> list[str]:
        """The allowed browser origins, normalised the way browsers send ``Origin``."""
        if self.cors_origens.strip():
            brutas = [o for o in (p.strip() for p in self.cors_origens.split(",")) if o]
        else:
            brutas = [f"http://localhost:{self.port}", f"http://127.0.0.1:{self.port}"]
            if self.app_url_publica.strip():
                brutas.insert(0, self.app_url_publica.strip())
        origens: list[str] = []
        for bruta in brutas:
            origem = _origem(bruta)
            if origem not in origens:
                origens.append(origem)
        return origens

    def redes_provedor_permitidas(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [
            ipaddress.ip_network(parte.strip(), strict=False)
            for parte in self.provedor_redes_permitidas.split(",")
            if parte.strip()
        ]

    @model_validator(mode="after")
    def _redes_validas(self) -> Configuracoes:
        try:
            self.redes_provedor_permitidas()
        except ValueError as exc:
            raise ValueError(f"PROVEDOR_REDES_PERMITIDAS inválido: {exc}") from None
        return self

    @property
    def usa_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def flags_forcadas(self) -> dict[str, bool]:
        forcadas: dict[str, bool] = {}
        for item in filter(None, (p.strip() for p in self.feature_flags.split(","))):
            chave, _, valor = item.partition("=")
            forcadas[chave.strip()] = valor.strip().lower() in {"1", "true", "sim", "on"}
        return forcadas


_PORTAS_PADRAO = {"http": 80, "https": 443}


def _origem(url: str) -> str:
    """``scheme://host[:port]`` as a browser writes it in ``Origin`` (no path, default port
    dropped, lower case); raises ValueError for ``*`` or anything that is not an http(s) URL."""
    if "*" in url:
        raise ValueError("CORS_ORIGENS não aceita '*': liste as origens permitidas.")
    partes = urlsplit(url.strip())
    if partes.scheme not in _PORTAS_PADRAO or not partes.hostname:
        raise ValueError(f"Origem inválida em CORS_ORIGENS/APP_URL_PUBLICA: {url!r}.")
    host = partes.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    porta = partes.port
    if porta is None or porta == _PORTAS_PADRAO[partes.scheme]:
        return f"{partes.scheme}://{host}"
    return f"{partes.scheme}://{host}:{porta}"


@lru_cache
def configuracoes() -> Configuracoes:
    return Configuracoes()
