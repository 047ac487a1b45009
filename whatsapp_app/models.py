"""The schema. Every tenant table carries ``id_empresa`` and is indexed for its queries.

Migrations in ``alembic/versions`` create these tables; ``alembic check`` in CI proves the two
agree. Names follow the user's plan (pt-BR domain names).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from whatsapp_app.tempo import DataHoraUtc, agora

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

TAMANHO_ID = 32


def novo_id() -> str:
    return uuid.uuid4().hex


def _id() -> Any:
    return Field(default_factory=novo_id, primary_key=True, max_length=TAMANHO_ID)


def _ref(tabela: str, *, nulo: bool = False, ondelete: str = "CASCADE") -> Any:
    return Field(
        default=None if nulo else ...,
        sa_column=sa.Column(
            sa.String(TAMANHO_ID),
            sa.ForeignKey(f"{tabela}.id", ondelete=ondelete),
            nullable=nulo,
        ),
    )


def _empresa() -> Any:
    return _ref("empresa")


def _quando(*, nulo: bool = False) -> Any:
    if nulo:
        return Field(default=None, sa_column=sa.Column(DataHoraUtc(), nullable=True))
    return Field(default_factory=agora, sa_column=sa.Column(DataHoraUtc(), nullable=False))


class Perfil(StrEnum):
    ADMIN = "admin"
    GESTOR = "gestor"
    VENDEDOR = "vendedor"


class StatusAgendamento(StrEnum):
    PENDENTE = "PENDENTE"
    PROCESSANDO = "PROCESSANDO"
    ENVIADO = "ENVIADO"
    ERRO = "ERRO"
    INCERTO = "INCERTO"
    CANCELADO = "CANCELADO"
    PAUSADO = "PAUSADO"  # its automation is paused: kept in the queue, never claimed


class DirecaoMensagem(StrEnum):
    ENTRADA = "entrada"  # from the contact to us
    SAIDA = "saida"  # from us to the contact


class StatusEntrega(StrEnum):
    """Delivery status from provider webhooks, in the order it may only move forward."""

    ENVIADO = "enviado"
    FALHOU = "falhou"
    ENTREGUE = "entregue"
    LIDO = "lido"


class Reentrada(StrEnum):
    UMA_VEZ = "uma_vez"
    A_CADA_ENTRADA = "a_cada_entrada"


class Provedor(StrEnum):
    EVOLUTION = "evolution"
    CLOUD_API = "cloud_api"
    SIMULADOR = "simulador"


class Empresa(SQLModel, table=True):
    __tablename__ = "empresa"

    id: str = _id()
    nome: str = Field(max_length=200)
    fuso_horario: str = Field(default="America/Sao_Paulo", max_length=64)
    # {"inicio": "08:00", "fim": "20:00", "dias_semana": [0..6]} (0 = segunda) ou None.
    janela_envio: dict[str, Any] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON(), nullable=True)
    )
    # Words that, as a whole inbound message, mean "stop messaging me"; None = the defaults
    # (conversa.PALAVRAS_OPTOUT_PADRAO).
    palavras_optout: list[str] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON(), nullable=True)
    )
    criado_em: datetime = _quando()
    atualizado_em: datetime = _quando()


class Usuario(SQLModel, table=True):
    __tablename__ = "usuario"
    __table_args__ = (sa.Index(None, "id_empresa", "perfil"),)

    id: str = _id()
    id_empresa: str = _empresa()
    nome: str = Field(max_length=200)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    senha_hash: str = Field(max_length=255)
    perfil: str = Field(default=Perfil.VENDEDOR.value, max_length=16)
    tema: str = Field(default="system", max_length=8)  # light | dark | system
    ativo: bool = True
    criado_em: datetime = _quando()


class SessaoUsuario(SQLModel, table=True):
    """A login: the browser cookie and the API bearer token are the same opaque token."""

    __tablename__ = "sessao_usuario"
    __table_args__ = (sa.Index(None, "id_empresa", "id_usuario"),)

    id: str = _id()
    id_empresa: str = _empresa()
    id_usuario: str = _ref("usuario")
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    criado_em: datetime = _quando()
    expira_em: datetime = _quando()
    revogada_em: datetime | None = _quando(nulo=True)


class TentativaLogin(SQLModel, table=True):
    """Failed logins, counted per e-mail and per IP for rate limiting.

    Not tenant-scoped on purpose: it is written before anyone is known to belong to a company.
    """

    __tablename__ = "tentativa_login"
    __table_args__ = (sa.Index(None, "email", "criado_em"), sa.Index(None, "ip", "criado_em"))

    id: str = _id()
    email: str = Field(max_length=254)
    ip: str = Field(max_length=64)
    criado_em: datetime = _quando()


class Estagio(SQLModel, table=True):
    __tablename__ = "estagio"
    __table_args__ = (sa.Index(None, "id_empresa", "ordem"),)

    id: str = _id()
    id_empresa: str = _empresa()
    nome: str = Field(max_length=80)
    ordem: int
    cor: str = Field(default="gray", max_length=16)


class Lead(SQLModel, table=True):
    __tablename__ = "lead"
    __table_args__ = (
        sa.Index(None, "id_empresa", "id_estagio"),
        sa.Index(None, "id_empresa", "telefone"),
    )

    id: str = _id()
    id_empresa: str = _empresa()
    nome: str = Field(max_length=200)
    telefone: str = Field(max_length=20)  # E.164
    id_estagio: str = _ref("estagio", ondelete="RESTRICT")
    id_responsavel: str | None = _ref("usuario", nulo=True, ondelete="SET NULL")
    criado_em: datetime = _quando()
    atualizado_em: datetime = _quando()
    # The lead asked to receive nothing more (an opt-out word); only an admin/gestor clears it.
    optout_em: datetime | None = _quando(nulo=True)
    # Last inbound message from the lead, and when someone last opened the conversation
    # (unread badge: ultima_resposta_em > conversa_lida_em).
    ultima_resposta_em: datetime | None = _quando(nulo=True)
    conversa_lida_em: datetime | None = _quando(nulo=True)


class LeadEstagioHistorico(SQLModel, table=True):
    """Every entry of a lead into a stage; ``ordinal`` counts entries per (lead, stage)."""

    __tablename__ = "lead_estagio_historico"
    __table_args__ = (
        sa.UniqueConstraint("id_lead", "id_estagio", "ordinal", name="uq_historico_entrada"),
        sa.Index(None, "id_empresa", "id_lead"),
    )

    id: str = _id()
    id_empresa: str = _empresa()
    id_lead: str = _ref("lead")
    id_estagio: str = _ref("estagio")
    id_estagio_anterior: str | None = Field(default=None, max_length=TAMANHO_ID)
    ordinal: int
    id_usuario: str | None = Field(default=None, max_length=TAMANHO_ID)
    criado_em: datetime = _quando()


class WhatsappInstancia(SQLModel, table=True):
    __tablename__ = "whatsapp_instancia"
    __table_args__ = (
        sa.Index(None, "id_empresa"),
        # Meta's webhooks name the number, not the instance (not a secret, so kept in clear).
        sa.Index("ix_whatsapp_instancia_phone_number_id", "phone_number_id"),
    )

    id: str = _id()
    id_empresa: str = _empresa()
    nome: str = Field(max_length=120)
    provider: str = Field(max_length=16)
    # Provider credentials, encrypted at rest (Fernet); never returned by the API.
    config_cifrada: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    status: str = Field(default="desconectado", max_length=16)
    ultima_sincronizacao: datetime | None = _quando(nulo=True)
    criado_em: datetime = _quando()
    # Rate limit shared by every dispatcher process: the next free send slot (GCRA).
    proximo_envio_em: datetime | None = _quando(nulo=True)
    # DELETE hides the row; automations and jobs (history) still point at it.
    excluida_em: datetime | None = _quando(nulo=True)
    # When the provider's webhook was last pointed at us (Evolution/simulador); None = retry.
    webhook_configurado_em: datetime | None = _quando(nulo=True)
    phone_number_id: str | None = Field(default=None, max_length=64)  # cloud_api only
    erro_conexao: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    # Connectivity debounce (conectividade.py): a polled state that differs from ``status``
    # waits here until it has been seen often and long enough.
    status_candidato: str | None = Field(default=None, max_length=16)
    status_candidato_desde: datetime | None = _quando(nulo=True)
    status_candidato_vezes: int = 0
    # Message-status webhooks that arrived before the dispatcher stored the provider's
    # message id (webhooks.py applies them later): [{"id", "status", "em"}], bounded.
    eventos_pendentes: list[dict[str, Any]] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON(), nullable=True)
    )


class WhatsappAutomacao(SQLModel, table=True):
    __tablename__ = "whatsapp_automacao"
    __table_args__ = (
        sa.Index("ix_whatsapp_automacao_gatilho", "id_empresa", "id_estagio_trigger", "ativo"),
    )

    id: str = _id()
    id_empresa: str = _empresa()
    nome: str = Field(max_length=120)
    evento: str = Field(default="lead_stage_changed", max_length=32)
    id_estagio_trigger: str = _ref("estagio")
    id_whatsapp_instancia: str = _ref("whatsapp_instancia")
    ativo: bool = True
    reentrada: str = Field(default=Reentrada.UMA_VEZ.value, max_length=16)
    cancelar_ao_sair: bool = True
    # An inbound message from the lead cancels this automation's pending jobs for that lead.
    parar_ao_responder: bool = Field(
        default=True,
        sa_column=sa.Column(sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    criado_em: datetime = _quando()
    atualizado_em: datetime = _quando()
    # DELETE disables and hides; rows stay because jobs (history) point at them.
    excluida_em: datetime | None = _quando(nulo=True)


class WhatsappAutomacaoEtapa(SQLModel, table=True):
    __tablename__ = "whatsapp_automacao_etapa"
    __table_args__ = (
        sa.UniqueConstraint("id_whatsapp_automacao", "ordem", name="uq_etapa_automacao_ordem"),
        sa.Index(None, "id_empresa"),
    )

    id: str = _id()
    id_empresa: str = _empresa()
    id_whatsapp_automacao: str = _ref("whatsapp_automacao")
    ordem: int
    atraso_minutos: int = 0
    mensagem: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    # Cloud API template sent outside the 24-hour window:
    # {"nome", "idioma", "variaveis": ["{{primeiro_nome}}", ...], "corpo"?} or None.
    modelo: dict[str, Any] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON(), nullable=True)
    )
    # A step removed from an automation that already has jobs is kept for their history.
    removida_em: datetime | None = _quando(nulo=True)


class WhatsappAutomacaoAgendamento(SQLModel, table=True):
    """One follow-up job. See contract.md section 2 for the only legal status moves."""

    __tablename__ = "whatsapp_automacao_agendamento"
    __table_args__ = (
        sa.UniqueConstraint("id_empresa", "chave_idempotencia", name="uq_agendamento_chave"),
        # Legacy dedupe, kept during rollout (plan 2.2); new rows fill it with the key.
        sa.UniqueConstraint(
            "id_empresa", "referencia_evento", name="uq_agendamento_referencia_evento"
        ),
        # The dispatcher's claim query: due jobs by status and time.
        sa.Index("ix_agendamento_status_agendado_para", "status", "agendado_para"),
        # The send queue's default view and date filters: a company's jobs by due time, in the
        # page's keyset order (bench/escala.py: 276 ms -> an index range at 1M rows).
        sa.Index("ix_agendamento_empresa_agendado_para", "id_empresa", "agendado_para", "id"),
        # ... and by status (its filter chips, their bounded counts).
        sa.Index(
            "ix_agendamento_empresa_status_agendado_para",
            "id_empresa",
            "status",
            "agendado_para",
            "id",
        ),
        sa.Index("ix_agendamento_empresa_lead", "id_empresa", "id_lead"),
        sa.Index(
            "ix_agendamento_empresa_automacao", "id_empresa", "id_whatsapp_automacao", "status"
        ),
        # The send queue's sent-time filter.
        sa.Index("ix_agendamento_empresa_enviado_em", "id_empresa", "enviado_em"),
        # Delivery webhooks find their job by the provider's message id.
        sa.Index("ix_agendamento_empresa_provider_message_id", "id_empresa", "provider_message_id"),
    )

    id: str = _id()
    id_empresa: str = _empresa()
    id_lead: str = _ref("lead")
    id_whatsapp_automacao: str = _ref("whatsapp_automacao")
    id_etapa: str = _ref("whatsapp_automacao_etapa")
    id_estagio_trigger: str = Field(max_length=TAMANHO_ID)
    chave_idempotencia: str = Field(max_length=255)
    # Legacy: kept filled for old readers during rollout; nothing depends on it.
    referencia_evento: str | None = Field(default=None, max_length=255)
    status: str = Field(default=StatusAgendamento.PENDENTE.value, max_length=16)
    agendado_para: datetime = _quando()
    tentativas: int = 0
    ultimo_erro: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_at: datetime | None = _quando(nulo=True)
    # Refreshed by the claim's owner while it works on it: a stale one means the owner died.
    batimento_em: datetime | None = _quando(nulo=True)
    envio_iniciado_em: datetime | None = _quando(nulo=True)
    enviado_em: datetime | None = _quando(nulo=True)
    provider_message_id: str | None = Field(default=None, max_length=255)
    motivo_cancelamento: str | None = Field(default=None, max_length=64)
    criado_em: datetime = _quando()
    atualizado_em: datetime = _quando()
    # Delivery as the provider's webhooks report it (never moves backwards; see webhooks.py).
    status_entrega: str | None = Field(default=None, max_length=16)  # StatusEntrega
    status_entrega_em: datetime | None = _quando(nulo=True)
    erro_entrega: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))


class WhatsappMensagem(SQLModel, table=True):
    """The conversation: every message, both directions, per company, lead and instance.

    ``provider_message_id`` is unique per instance, so a redelivered webhook stores nothing
    twice. Inbound messages from unknown numbers are kept with ``id_lead`` NULL.
    """

    __tablename__ = "whatsapp_mensagem"
    __table_args__ = (
        sa.UniqueConstraint(
            "id_whatsapp_instancia", "provider_message_id", name="uq_mensagem_instancia_provider"
        ),
        # The lead's conversation, in time order.
        sa.Index("ix_mensagem_empresa_lead_momento", "id_empresa", "id_lead", "momento"),
        # The Cloud API 24-hour window and the replies-per-instance counts.
        sa.Index(
            "ix_mensagem_instancia_direcao_momento", "id_whatsapp_instancia", "direcao", "momento"
        ),
        # Delivery webhooks update the sent message of their job.
        sa.Index("ix_mensagem_agendamento", "id_agendamento"),
    )

    id: str = _id()
    id_empresa: str = _empresa()
    id_lead: str | None = _ref("lead", nulo=True, ondelete="SET NULL")
    id_whatsapp_instancia: str = _ref("whatsapp_instancia")
    direcao: str = Field(max_length=8)  # DirecaoMensagem
    telefone: str = Field(max_length=32)  # the contact's digits, country code first
    nome_contato: str | None = Field(default=None, max_length=200)
    texto: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    provider_message_id: str | None = Field(default=None, max_length=255)
    id_resposta_a: str | None = Field(default=None, max_length=255)
    id_agendamento: str | None = _ref(
        "whatsapp_automacao_agendamento", nulo=True, ondelete="SET NULL"
    )
    status_entrega: str | None = Field(default=None, max_length=16)  # StatusEntrega (saida)
    status_entrega_em: datetime | None = _quando(nulo=True)
    momento: datetime = _quando()  # when it was sent (provider's time for inbound)
    criado_em: datetime = _quando()


class AuditoriaLead(SQLModel, table=True):
    """Who changed a lead's consent by hand (opt-in after an opt-out), and when."""

    __tablename__ = "auditoria_lead"
    __table_args__ = (sa.Index("ix_auditoria_lead_empresa_lead", "id_empresa", "id_lead"),)

    id: str = _id()
    id_empresa: str = _empresa()
    id_lead: str = _ref("lead")
    id_usuario: str | None = Field(default=None, max_length=TAMANHO_ID)
    acao: str = Field(max_length=32)
    detalhe: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    criado_em: datetime = _quando()


class FeatureFlag(SQLModel, table=True):
    __tablename__ = "feature_flag"
    __table_args__ = (sa.UniqueConstraint("id_empresa", "chave"),)

    id: str = _id()
    id_empresa: str = _empresa()
    chave: str = Field(max_length=64)
    ativo: bool = False
    atualizado_em: datetime = _quando()


class AuditoriaAgendamento(SQLModel, table=True):
    """Who did what to a job by hand (operator actions), and when."""

    __tablename__ = "auditoria_agendamento"
    __table_args__ = (sa.Index("ix_auditoria_empresa_agendamento", "id_empresa", "id_agendamento"),)

    id: str = _id()
    id_empresa: str = _empresa()
    id_agendamento: str = _ref("whatsapp_automacao_agendamento")
    id_usuario: str | None = Field(default=None, max_length=TAMANHO_ID)
    acao: str = Field(max_length=32)
    status_anterior: str = Field(max_length=16)
    status_novo: str = Field(max_length=16)
    criado_em: datetime = _quando()


class StatusDisparoManual(StrEnum):
    EM_ANDAMENTO = "EM_ANDAMENTO"
    CONCLUIDO = "CONCLUIDO"
    CANCELADO = "CANCELADO"  # the operator stopped it: unclaimed work stayed queued
    FALHOU = "FALHOU"


class WhatsappDisparoManual(SQLModel, table=True):
    """One "Disparar agora" (UI or ``POST .../dispatch``): who, when, and what it did.

    ``cancelamento_solicitado_em`` is how a cancel reaches the dispatch wherever it runs: the
    dispatch checks it between claims, so unclaimed work stops and claimed sends finish.
    """

    __tablename__ = "whatsapp_disparo_manual"
    __table_args__ = (sa.Index(None, "id_empresa", "iniciado_em"),)

    id: str = _id()
    id_empresa: str = _empresa()
    id_usuario: str | None = Field(default=None, max_length=TAMANHO_ID)
    nome_usuario: str | None = Field(default=None, max_length=255)  # as it was at the time
    id_whatsapp_instancia: str | None = Field(default=None, max_length=TAMANHO_ID)
    status: str = Field(default=StatusDisparoManual.EM_ANDAMENTO.value, max_length=16)
    resumo: dict[str, int] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False)
    )
    iniciado_em: datetime = _quando()
    concluido_em: datetime | None = _quando(nulo=True)
    cancelamento_solicitado_em: datetime | None = _quando(nulo=True)
    # FALHOU only: why, in pt-BR (e.g. the provider refused every send).
    motivo_falha: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    # Refreshed by the process running it: a silent EM_ANDAMENTO row is a run that died.
    batimento_em: datetime | None = _quando(nulo=True)


class WhatsappContadorDespacho(SQLModel, table=True):
    """Dispatch counters per company and hour, summed across every process ("Saúde do
    despacho"): ``nome`` is a metric name (``jobs_claimed``, ``jobs_sent``, ...), ``valor`` what
    the processes added in that hour (``INSERT ... ON CONFLICT DO UPDATE valor = valor + n``)."""

    __tablename__ = "whatsapp_contador_despacho"

    id_empresa: str = Field(
        sa_column=sa.Column(
            sa.String(TAMANHO_ID),
            sa.ForeignKey("empresa.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    hora: datetime = Field(sa_column=sa.Column(DataHoraUtc(), primary_key=True))
    nome: str = Field(sa_column=sa.Column(sa.String(48), primary_key=True))
    valor: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False))
