"""WhatsApp instances: the service behind ``/api/whatsapp/instances`` (contract.md section 4).

Provider credentials are validated per provider, encrypted at rest (``cripto.cifrar_config``)
and never leave this module unmasked: ``instancia_publica`` is the only shape the API and the
UI get. Evolution and simulator instances get a per-instance random webhook secret
(``segredo_webhook``, inside the encrypted config) that the provider sends back on every
delivery (``webhooks.py``). Provider calls (connect, restart, logout, webhook set-up) run
outside database transactions: a slow provider never holds a database lock.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import Field, ValidationError, field_validator
from sqlmodel import Session, col, select

from whatsapp_app import db, paginacao
from whatsapp_app import whatsapp_automations as automacoes
from whatsapp_app.conectividade import gravar_estado
from whatsapp_app.config import configuracoes
from whatsapp_app.cripto import ErroCripto, cifrar_config, decifrar_config, mascarar
from whatsapp_app.esquemas import ComDerivados, InstanciaPublica, StatusInstanciaPublico
from whatsapp_app.logs import logger
from whatsapp_app.models import (
    Provedor,
    StatusAgendamento,
    WhatsappAutomacao,
    WhatsappAutomacaoAgendamento,
    WhatsappInstancia,
)
from whatsapp_app.providers.base import EstadoConexao, StatusConexao
from whatsapp_app.providers.cloud_api import (
    GRAPH_BASE_URL_PADRAO,
    GRAPH_VERSION_PADRAO,
)
from whatsapp_app.providers.comum import ErroProvedor
from whatsapp_app.providers.evolution import ProvedorEvolution
from whatsapp_app.providers.fabrica import AdaptadorProvedor
from whatsapp_app.providers.guarda import EnderecoRecusado, verificar_url
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import (
    Conflito,
    Entrada,
    ErroApp,
    ErroValidacao,
    NaoEncontrado,
    traduzir_erros,
)

_log = logger("instancias")

CHAVE_SEGREDO_WEBHOOK = "segredo_webhook"
MOTIVO_INSTANCIA_EXCLUIDA = "instancia_excluida"
ROTA_WEBHOOK_EVOLUTION = "/api/webhooks/evolution/{id_instancia}"
ROTA_WEBHOOK_META = "/api/webhooks/meta"
PROVEDORES_COM_WEBHOOK_CONFIGURAVEL = (Provedor.EVOLUTION.value, Provedor.SIMULADOR.value)
JANELA_FILA = timedelta(hours=24)

FabricaProvedor = Callable[[WhatsappInstancia], AdaptadorProvedor]


class ErroProvedorApi(ErroApp):
    """The provider failed or refused: 502 in the one error shape, with a pt-BR message."""

    status = 502
    codigo = "erro_provedor"


# --- input -------------------------------------------------------------------------------------

_URL_HTTP = re.compile(r"^https?://[^\s/?#]+(/[^\s]*)?$", re.IGNORECASE)


def _url_http(valor: str) -> str:
    """A provider URL: http(s), and through the address guard (no internal networks)."""
    if not _URL_HTTP.match(valor):
        raise ValueError(
            "Informe uma URL http(s) completa (ex.: https://evolution.suaempresa.com)."
        )
    try:
        verificar_url(valor)
    except EnderecoRecusado as exc:
        raise ValueError(exc.mensagem) from None
    return valor.rstrip("/")


class ConfigEvolution(Entrada):
    base_url: str = Field(min_length=1, max_length=500)
    api_key: str = Field(min_length=1, max_length=500)
    instance_name: str = Field(min_length=1, max_length=100)
    # False when the Evolution server does not store sent messages (reconciliation).
    historico_confiavel: bool = True

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, valor: str) -> str:
        return _url_http(valor)


class ConfigCloudApi(Entrada):
    graph_base_url: str = Field(default=GRAPH_BASE_URL_PADRAO, min_length=1, max_length=500)
    graph_version: str = Field(default=GRAPH_VERSION_PADRAO, pattern=r"^v\d{1,3}\.\d{1,3}$")
    phone_number_id: str = Field(min_length=1, max_length=64, pattern=r"^\d+$")
    access_token: str = Field(min_length=1, max_length=2000)
    app_secret: str = Field(min_length=1, max_length=500)
    verify_token: str = Field(min_length=1, max_length=500)
    # The WhatsApp Business Account that owns the number: where the approved templates live
    # (``listar_modelos``). Not a secret, shown in the public config. Optional: sending text
    # within the 24-hour window does not need it.
    waba_id: str | None = Field(default=None, max_length=32, pattern=r"^\d+$")

    @field_validator("graph_base_url")
    @classmethod
    def _graph_base_url(cls, valor: str) -> str:
        return _url_http(valor)

    @field_validator("waba_id", mode="before")
    @classmethod
    def _waba_id(cls, valor: Any) -> Any:
        """Blank means "not set"; spaces around the digits (pasted from Meta) are dropped."""
        if isinstance(valor, str):
            return valor.strip() or None
        return valor


class ConfigSimulador(Entrada):
    """The built-in simulator needs nothing: ``provedor_para`` points it at the local server."""


_MODELOS_CONFIG: dict[str, type[Entrada]] = {
    Provedor.EVOLUTION.value: ConfigEvolution,
    Provedor.CLOUD_API.value: ConfigCloudApi,
    Provedor.SIMULADOR.value: ConfigSimulador,
}


class InstanciaEntrada(Entrada):
    nome: str = Field(min_length=1, max_length=120)
    provider: Literal["evolution", "cloud_api", "simulador"]
    config: dict[str, Any] = Field(default_factory=dict)


class InstanciaRenomeacao(Entrada):
    nome: str = Field(min_length=1, max_length=120)


def validar_config(provider: str, config: dict[str, Any]) -> dict[str, Any]:
    """The provider's config, validated; errors as ``{"config.<campo>": "<pt-BR>"}`` (422)."""
    modelo = _MODELOS_CONFIG[provider]
    try:
        valido = modelo.model_validate(config)
    except ValidationError as exc:
        campos = {
            f"config.{campo}" if campo != "corpo" else "config": mensagem
            for campo, mensagem in traduzir_erros(exc.errors()).items()
        }
        raise ErroValidacao(campos) from None
    return valido.model_dump()


# --- reading -----------------------------------------------------------------------------------


def url_publica_app() -> str:
    cfg = configuracoes()
    return (cfg.app_url_publica or f"http://127.0.0.1:{cfg.port}").rstrip("/")


def url_webhook(instancia: WhatsappInstancia) -> str:
    if instancia.provider == Provedor.CLOUD_API.value:
        return url_publica_app() + ROTA_WEBHOOK_META
    return url_publica_app() + ROTA_WEBHOOK_EVOLUTION.format(id_instancia=instancia.id)


def _config(instancia: WhatsappInstancia) -> dict[str, Any]:
    return decifrar_config(instancia.config_cifrada)


def _config_publica(instancia: WhatsappInstancia) -> dict[str, Any] | None:
    """Masked secrets, and never the webhook secret; None when the config cannot be read."""
    try:
        config = _config(instancia)
    except ErroCripto:
        return None
    config.pop(CHAVE_SEGREDO_WEBHOOK, None)
    return mascarar(config)


def instancia_publica(instancia: WhatsappInstancia) -> dict[str, Any]:
    """What the API and the UI may see of an instance: no secret, ever (``InstanciaPublica``
    has no field for one; ``config`` is the masked copy)."""
    configuravel = instancia.provider in PROVEDORES_COM_WEBHOOK_CONFIGURAVEL
    publica = ComDerivados(
        instancia,
        config=_config_publica(instancia),
        webhook_url=url_webhook(instancia),
        # Cloud API webhooks are set in Meta's app dashboard (URL above + verify_token).
        webhook_configurado=(instancia.webhook_configurado_em is not None)
        if configuravel
        else None,
    )
    return InstanciaPublica.model_validate(publica).model_dump(mode="json")


def obter_instancia(*, sessao: Session, id_empresa: str, id_instancia: str) -> WhatsappInstancia:
    """The company's instance, or 404 (unknown, another company's, or deleted)."""
    instancia = sessao.exec(
        select(WhatsappInstancia).where(
            WhatsappInstancia.id == id_instancia,
            WhatsappInstancia.id_empresa == id_empresa,
            col(WhatsappInstancia.excluida_em).is_(None),
        )
    ).first()
    if instancia is None:
        raise NaoEncontrado("Instância não encontrada.")
    return instancia


def listar_instancias(*, sessao: Session, id_empresa: str) -> list[WhatsappInstancia]:
    return list(
        sessao.exec(
            select(WhatsappInstancia)
            .where(
                WhatsappInstancia.id_empresa == id_empresa,
                col(WhatsappInstancia.excluida_em).is_(None),
            )
            .order_by(col(WhatsappInstancia.criado_em), col(WhatsappInstancia.id))
        ).all()
    )


def pagina_instancias(
    *, sessao: Session, id_empresa: str, limite: int, cursor: str | None
) -> dict[str, Any]:
    """One page of the company's instances, oldest first (config masked)."""
    return paginacao.paginar(
        sessao,
        select(WhatsappInstancia).where(
            WhatsappInstancia.id_empresa == id_empresa,
            col(WhatsappInstancia.excluida_em).is_(None),
        ),
        colunas=[col(WhatsappInstancia.criado_em), col(WhatsappInstancia.id)],
        limite=limite,
        cursor=cursor,
        publico=instancia_publica,
    )


def _automacoes_da_instancia(id_empresa: str, id_instancia: str) -> sa.Select[Any]:
    return sa.select(WhatsappAutomacao.__table__.c.id).where(  # type: ignore[attr-defined]
        WhatsappAutomacao.__table__.c.id_empresa == id_empresa,  # type: ignore[attr-defined]
        WhatsappAutomacao.__table__.c.id_whatsapp_instancia == id_instancia,  # type: ignore[attr-defined]
    )


def contar_se(*condicoes: Any) -> Any:
    """``SUM(CASE WHEN <condicoes> THEN 1 ELSE 0 END)``, 0 over no row: one count of a query
    that counts several things at once."""
    return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(*condicoes), 1), else_=0)), 0)


def colunas_da_fila(momento: datetime) -> dict[str, Any]:
    """The queue stats (``FilaInstancia``) as aggregates over the jobs a query selects: one
    instance's (``fila_da_instancia``) or, grouped, every instance's (``painel_whatsapp``)."""
    t = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]
    desde = momento - JANELA_FILA
    pendente = t.c.status == StatusAgendamento.PENDENTE.value
    return {
        "pendentes": contar_se(pendente),
        "processando": contar_se(t.c.status == StatusAgendamento.PROCESSANDO.value),
        "enviados_24h": contar_se(
            t.c.status == StatusAgendamento.ENVIADO.value, t.c.enviado_em >= desde
        ),
        "erros_24h": contar_se(
            t.c.status == StatusAgendamento.ERRO.value, t.c.atualizado_em >= desde
        ),
        "incertos": contar_se(t.c.status == StatusAgendamento.INCERTO.value),
        "vencidos": contar_se(pendente, t.c.agendado_para <= momento),  # due now
    }


def fila_da_instancia(*, sessao: Session, id_empresa: str, id_instancia: str) -> dict[str, int]:
    """Queue stats of the jobs of every automation that sends through this instance."""
    t = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]
    colunas = colunas_da_fila(agora())
    linha = sessao.execute(
        sa.select(*colunas.values()).where(
            t.c.id_empresa == id_empresa,
            t.c.id_whatsapp_automacao.in_(_automacoes_da_instancia(id_empresa, id_instancia)),
        )
    ).one()
    return {nome: int(valor) for nome, valor in zip(colunas, linha, strict=True)}


def status_instancia(*, sessao: Session, id_empresa: str, id_instancia: str) -> dict[str, Any]:
    instancia = obter_instancia(sessao=sessao, id_empresa=id_empresa, id_instancia=id_instancia)
    fila = fila_da_instancia(sessao=sessao, id_empresa=id_empresa, id_instancia=instancia.id)
    publico = ComDerivados(instancia, fila=fila)
    return StatusInstanciaPublico.model_validate(publico).model_dump(mode="json")


# --- writing -----------------------------------------------------------------------------------


def criar_instancia(
    *, sessao: Session, id_empresa: str, dados: InstanciaEntrada
) -> WhatsappInstancia:
    """Validate and store (encrypted). The provider's webhook is set up afterwards, outside
    this transaction (``configurar_webhook``)."""
    config = validar_config(dados.provider, dados.config)
    phone_number_id = config.get("phone_number_id") if dados.provider == "cloud_api" else None
    if phone_number_id:
        repetida = sessao.exec(
            select(WhatsappInstancia.id).where(
                WhatsappInstancia.id_empresa == id_empresa,
                WhatsappInstancia.phone_number_id == phone_number_id,
                col(WhatsappInstancia.excluida_em).is_(None),
            )
        ).first()
        if repetida is not None:
            raise ErroValidacao(
                {"config.phone_number_id": "Este número já está em outra instância da empresa."}
            )
    if dados.provider in PROVEDORES_COM_WEBHOOK_CONFIGURAVEL:
        config[CHAVE_SEGREDO_WEBHOOK] = secrets.token_urlsafe(32)
    instancia = WhatsappInstancia(
        id_empresa=id_empresa,
        nome=dados.nome,
        provider=dados.provider,
        config_cifrada=cifrar_config(config),
        status=StatusConexao.DESCONECTADO.value,
        phone_number_id=phone_number_id,
    )
    sessao.add(instancia)
    sessao.flush()
    _log.info(
        "instância criada",
        extra={"id_instancia": instancia.id, "id_empresa": id_empresa, "provider": dados.provider},
    )
    return instancia


def renomear_instancia(
    *, sessao: Session, id_empresa: str, id_instancia: str, nome: str
) -> WhatsappInstancia:
    """Rename (pt-BR 422 on an empty, too long or repeated name; another company's id: 404)."""
    try:
        nome = InstanciaRenomeacao(nome=nome).nome
    except ValidationError as exc:
        raise ErroValidacao(traduzir_erros(exc.errors())) from None
    instancia = obter_instancia(sessao=sessao, id_empresa=id_empresa, id_instancia=id_instancia)
    repetida = sessao.exec(
        select(WhatsappInstancia.id).where(
            WhatsappInstancia.id_empresa == id_empresa,
            WhatsappInstancia.id != instancia.id,
            sa.func.lower(WhatsappInstancia.nome) == nome.lower(),
            col(WhatsappInstancia.excluida_em).is_(None),
        )
    ).first()
    if repetida is not None:
        raise ErroValidacao({"nome": "Já existe outra instância com este nome."})
    instancia.nome = nome
    sessao.add(instancia)
    sessao.flush()
    _log.info("instância renomeada", extra={"id_instancia": instancia.id, "id_empresa": id_empresa})
    return instancia


def excluir_instancia(*, sessao: Session, id_empresa: str, id_instancia: str) -> dict[str, int]:
    """Hide the instance (rows stay: automations and jobs point at it), disable its
    automations and cancel their pending jobs (``motivo_cancelamento = instancia_excluida``)."""
    instancia = obter_instancia(sessao=sessao, id_empresa=id_empresa, id_instancia=id_instancia)
    momento = agora()
    instancia.excluida_em = momento
    sessao.add(instancia)
    tabela_automacao = WhatsappAutomacao.__table__  # type: ignore[attr-defined]
    desativadas = sessao.execute(
        sa.update(tabela_automacao)
        .where(
            tabela_automacao.c.id_empresa == id_empresa,
            tabela_automacao.c.id_whatsapp_instancia == instancia.id,
            tabela_automacao.c.ativo.is_(True),
        )
        .values(ativo=False, atualizado_em=momento)
    ).rowcount  # type: ignore[attr-defined]
    t = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]
    cancelados = automacoes.cancelar_pendentes(
        sessao,
        [
            t.c.id_empresa == id_empresa,
            t.c.id_whatsapp_automacao.in_(_automacoes_da_instancia(id_empresa, instancia.id)),
        ],
        MOTIVO_INSTANCIA_EXCLUIDA,
    )
    sessao.flush()
    _log.info(
        "instância excluída",
        extra={
            "id_instancia": instancia.id,
            "id_empresa": id_empresa,
            "automacoes_desativadas": desativadas,
            "agendamentos_cancelados": cancelados,
        },
    )
    return {"agendamentos_cancelados": cancelados, "automacoes_desativadas": int(desativadas or 0)}


# --- provider actions (no transaction held during the call) ------------------------------------


def _fabrica_padrao(instancia: WhatsappInstancia) -> AdaptadorProvedor:
    from whatsapp_app.providers.fabrica import provedor_para

    return provedor_para(instancia)


def _carregar(id_empresa: str, id_instancia: str) -> WhatsappInstancia:
    with db.sessao() as sessao:
        return obter_instancia(sessao=sessao, id_empresa=id_empresa, id_instancia=id_instancia)


def _adaptador(instancia: WhatsappInstancia, fabrica: FabricaProvedor | None) -> AdaptadorProvedor:
    try:
        return (fabrica or _fabrica_padrao)(instancia)
    except ValueError as exc:  # incomplete config or ErroCripto: pt-BR, no secret inside
        raise ErroProvedorApi(str(exc)) from None


def _falha(instancia: WhatsappInstancia, acao: str, exc: ErroProvedor) -> ErroProvedorApi:
    _log.warning(
        "provedor recusou a ação",
        extra={
            "id_instancia": instancia.id,
            "provider": instancia.provider,
            "acao": acao,
            "erro": exc.mensagem,
            "status_http": exc.status_http,
        },
    )
    return ErroProvedorApi(exc.mensagem)


def _segredo_webhook(id_instancia: str) -> str:
    """The instance's webhook secret; instances stored without one (seeded, or created before
    webhooks existed) get one now, under a row lock so two callers agree on it."""
    with db.sessao() as sessao:
        instancia = sessao.exec(
            db.travada(select(WhatsappInstancia).where(WhatsappInstancia.id == id_instancia))
        ).one()
        config = _config(instancia)
        segredo = str(config.get(CHAVE_SEGREDO_WEBHOOK) or "")
        if not segredo:
            segredo = config[CHAVE_SEGREDO_WEBHOOK] = secrets.token_urlsafe(32)
            instancia.config_cifrada = cifrar_config(config)
            sessao.add(instancia)
        return segredo


def configurar_webhook(
    *, id_empresa: str, id_instancia: str, fabrica: FabricaProvedor | None = None
) -> bool | None:
    """Point the provider's webhook at ``/api/webhooks/evolution/{id}`` with the instance's
    secret header. True when done, False when the provider refused or could not be reached
    (logged; connect tries again), None when the provider has no such call (Cloud API)."""
    instancia = _carregar(id_empresa, id_instancia)
    if instancia.provider not in PROVEDORES_COM_WEBHOOK_CONFIGURAVEL:
        return None
    url = url_webhook(instancia)
    try:
        segredo = _segredo_webhook(instancia.id)
        adaptador = (fabrica or _fabrica_padrao)(instancia)
        if not isinstance(adaptador, ProvedorEvolution):
            raise ValueError("Este provedor não aceita configuração de webhook.")
        adaptador.configurar_webhook(url, segredo)
    except (ErroProvedor, ValueError) as exc:
        _log.warning(
            "webhook do provedor não configurado",
            extra={
                "id_instancia": instancia.id,
                "provider": instancia.provider,
                "url": url,
                "erro": exc.mensagem if isinstance(exc, ErroProvedor) else str(exc),
            },
        )
        return False
    with db.sessao() as sessao:
        sessao.execute(
            sa.update(WhatsappInstancia.__table__)  # type: ignore[attr-defined]
            .where(WhatsappInstancia.__table__.c.id == instancia.id)  # type: ignore[attr-defined]
            .values(webhook_configurado_em=agora())
        )
    _log.info("webhook do provedor configurado", extra={"id_instancia": instancia.id, "url": url})
    return True


def _gravar(id_instancia: str, status: StatusConexao, origem: str) -> None:
    with db.sessao() as sessao:
        gravar_estado(sessao, id_instancia, status, origem=origem)


def conectar_instancia(
    *, id_empresa: str, id_instancia: str, fabrica: FabricaProvedor | None = None
) -> dict[str, Any]:
    """Start pairing: ``{"status", "qr_base64"?, "pairing_code"?}`` (QR as base64 PNG)."""
    instancia = _carregar(id_empresa, id_instancia)
    adaptador = _adaptador(instancia, fabrica)
    try:
        estado: EstadoConexao = adaptador.conectar()
    except ErroProvedor as exc:
        raise _falha(instancia, "conectar", exc) from None
    _gravar(instancia.id, estado.status, "conectar")
    if instancia.provider in PROVEDORES_COM_WEBHOOK_CONFIGURAVEL:
        # Every successful connect points the webhook at us again, not only the first: the
        # adapter creates the provider's instance on connect when it is missing (a restarted
        # simulator, an instance deleted on the Evolution server), and instances set up before
        # an event was added to ``EVENTOS_WEBHOOK`` (MESSAGES_UPSERT) get subscribed to it.
        configurar_webhook(id_empresa=id_empresa, id_instancia=instancia.id, fabrica=fabrica)
    resposta: dict[str, Any] = {"status": estado.status.value}
    if estado.qr_base64:
        resposta["qr_base64"] = estado.qr_base64
    if estado.pairing_code:
        resposta["pairing_code"] = estado.pairing_code
    return resposta


def reiniciar_instancia(
    *, id_empresa: str, id_instancia: str, fabrica: FabricaProvedor | None = None
) -> dict[str, Any]:
    """Restart the provider's session, then read its state back (best effort)."""
    instancia = _carregar(id_empresa, id_instancia)
    adaptador = _adaptador(instancia, fabrica)
    try:
        adaptador.reiniciar()
        status = adaptador.estado_conexao().status
    except ErroProvedor as exc:
        raise _falha(instancia, "reiniciar", exc) from None
    _gravar(instancia.id, status, "reiniciar")
    return {"ok": True, "status": status.value}


def desconectar_instancia(
    *, id_empresa: str, id_instancia: str, fabrica: FabricaProvedor | None = None
) -> dict[str, Any]:
    """Log the WhatsApp session out (idempotent on the provider side)."""
    instancia = _carregar(id_empresa, id_instancia)
    if instancia.provider == Provedor.CLOUD_API.value:
        raise Conflito(
            "O Cloud API não tem sessão para desconectar: revogue o token no Business Manager "
            "da Meta ou exclua a instância.",
            codigo="nao_suportado",
        )
    adaptador = _adaptador(instancia, fabrica)
    try:
        adaptador.desconectar()
    except ErroProvedor as exc:
        raise _falha(instancia, "desconectar", exc) from None
    _gravar(instancia.id, StatusConexao.DESCONECTADO, "desconectar")
    return {"ok": True, "status": StatusConexao.DESCONECTADO.value}
