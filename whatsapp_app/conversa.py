"""Inbound messages: the lead answered. Store it, stop its follow-ups, honour an opt-out.

``registrar_mensagem_recebida`` runs in the webhook's one transaction: the stored message, the
lead's ``ultima_resposta_em`` / ``optout_em`` and the cancelled jobs commit together or not at
all. A redelivered message (same provider id on the same instance) changes nothing. A job
already PROCESSANDO is not interrupted; the dispatcher checks the lead again at send time.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from whatsapp_app import db, mensagens, metricas
from whatsapp_app import whatsapp_automations as automacoes
from whatsapp_app.logs import logger
from whatsapp_app.models import (
    AuditoriaLead,
    DirecaoMensagem,
    Empresa,
    Lead,
    WhatsappInstancia,
)
from whatsapp_app.providers.base import MensagemRecebida
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import NaoEncontrado, variantes_telefone

_log = logger("conversa")

PALAVRAS_OPTOUT_PADRAO = ("SAIR", "PARAR", "STOP", "CANCELAR", "DESCADASTRAR")
ACAO_OPTIN = "optin"
FOLGA_RELOGIO = timedelta(minutes=5)  # a provider timestamp further ahead than this is ignored
UM_SEGUNDO = timedelta(milliseconds=999)
MAX_TEXTO = 8192  # characters of an inbound message kept


def normalizar_palavra(texto: str) -> str:
    """Case, accents, spaces and punctuation ignored: " Sair! " and "sáir" are both "SAIR"."""
    sem_acentos = unicodedata.normalize("NFKD", texto)
    return "".join(ch for ch in sem_acentos if ch.isalnum() and ch.isascii()).upper()


def palavras_optout(empresa: Empresa) -> list[str]:
    return list(empresa.palavras_optout or PALAVRAS_OPTOUT_PADRAO)


def eh_optout(texto: str, palavras: list[str]) -> bool:
    """The whole message is one opt-out word (a sentence that merely contains one is not)."""
    normalizado = normalizar_palavra(texto)
    return bool(normalizado) and normalizado in {normalizar_palavra(p) for p in palavras}


def encontrar_lead(sessao: Session, *, id_empresa: str, telefone: str) -> Lead | None:
    """The company's lead with this phone, with or without the Brazilian ninth digit; the most
    recently active one when several share a number."""
    formas = variantes_telefone(telefone)
    if not formas:
        return None
    return sessao.exec(
        db.travada(
            select(Lead)
            .where(Lead.id_empresa == id_empresa, col(Lead.telefone).in_(formas))
            .order_by(col(Lead.atualizado_em).desc())
            .limit(1)
        )
    ).first()


@dataclass(frozen=True)
class ResultadoEntrada:
    resultado: str  # "registrada" | "duplicada"
    id_mensagem: str | None = None
    id_lead: str | None = None
    optout: bool = False
    cancelados: int = 0

    def publico(self) -> dict[str, Any]:
        return {
            "resultado": self.resultado,
            "id_lead": self.id_lead,
            "optout": self.optout,
            "cancelados": self.cancelados,
        }


def registrar_mensagem_recebida(
    *, sessao: Session, instancia: WhatsappInstancia, mensagem: MensagemRecebida
) -> ResultadoEntrada:
    """Apply one inbound message in the caller's transaction (see the module docstring)."""
    momento = agora()
    recebida_em = mensagem.recebida_em
    if recebida_em is None or recebida_em > momento + FOLGA_RELOGIO:
        recebida_em = momento
    else:
        # Providers send whole seconds: the message was written within the second after its
        # timestamp, and no later than we received it (so it sorts after what it answers).
        recebida_em = max(recebida_em, min(momento, recebida_em + UM_SEGUNDO))
    lead = encontrar_lead(sessao, id_empresa=instancia.id_empresa, telefone=mensagem.telefone)
    id_mensagem = mensagens.inserir_mensagem(
        sessao,
        id_empresa=instancia.id_empresa,
        id_lead=lead.id if lead else None,
        id_whatsapp_instancia=instancia.id,
        direcao=DirecaoMensagem.ENTRADA.value,
        telefone=mensagem.telefone[:32],
        nome_contato=(mensagem.nome_contato or None) and mensagem.nome_contato[:200],
        texto=mensagem.texto[:MAX_TEXTO],
        provider_message_id=mensagem.provider_message_id[:255],
        id_resposta_a=(mensagem.id_resposta_a or None) and mensagem.id_resposta_a[:255],
        momento=recebida_em,
    )
    if id_mensagem is None:
        _log.info(
            "mensagem recebida repetida ignorada",
            extra={
                "id_instancia": instancia.id,
                "provider_message_id": mensagem.provider_message_id,
            },
        )
        return ResultadoEntrada("duplicada", id_lead=lead.id if lead else None)
    metricas.mensagens_recebidas.inc()
    if lead is None:
        _log.info(
            "mensagem de número desconhecido guardada",
            extra={"id_instancia": instancia.id, "id_mensagem": id_mensagem},
        )
        return ResultadoEntrada("registrada", id_mensagem=id_mensagem)

    # Our clock, not the provider's (whole seconds): the dispatcher compares it with the
    # jobs' creation time to refuse a retry scheduled before this reply.
    lead.ultima_resposta_em = momento
    empresa = sessao.get(Empresa, instancia.id_empresa)
    optout = empresa is not None and eh_optout(mensagem.texto, palavras_optout(empresa))
    if optout:
        lead.optout_em = lead.optout_em or momento
        cancelados = automacoes.cancelar_por_optout(
            sessao=sessao, id_empresa=lead.id_empresa, id_lead=lead.id
        )
    else:
        cancelados = automacoes.cancelar_por_resposta(
            sessao=sessao, id_empresa=lead.id_empresa, id_lead=lead.id
        )
    sessao.add(lead)
    sessao.flush()
    _log.info(
        "resposta do lead",
        extra={
            "id_lead": lead.id,
            "id_instancia": instancia.id,
            "id_mensagem": id_mensagem,
            "optout": optout,
            "agendamentos_cancelados": cancelados,
        },
    )
    return ResultadoEntrada(
        "registrada", id_mensagem=id_mensagem, id_lead=lead.id, optout=optout, cancelados=cancelados
    )


def registrar_optin(*, sessao: Session, id_empresa: str, id_lead: str, id_usuario: str) -> Lead:
    """An admin or gestor clears the lead's opt-out (audited). Idempotent."""
    lead = sessao.exec(
        db.travada(select(Lead).where(Lead.id == id_lead, Lead.id_empresa == id_empresa))
    ).first()
    if lead is None:
        raise NaoEncontrado("Lead não encontrado.")
    if lead.optout_em is None:
        return lead
    anterior = lead.optout_em
    lead.optout_em = None
    sessao.add(lead)
    sessao.add(
        AuditoriaLead(
            id_empresa=id_empresa,
            id_lead=lead.id,
            id_usuario=id_usuario,
            acao=ACAO_OPTIN,
            detalhe=f"opt-out desde {anterior.isoformat()}",
        )
    )
    sessao.flush()
    _log.info("opt-in registrado", extra={"id_lead": lead.id, "id_usuario": id_usuario})
    return lead


def marcar_conversa_lida(*, sessao: Session, id_empresa: str, id_lead: str) -> None:
    """Someone opened the lead's conversation: its unread badge goes away."""
    lead = sessao.exec(
        select(Lead).where(Lead.id == id_lead, Lead.id_empresa == id_empresa)
    ).first()
    if lead is None:
        raise NaoEncontrado("Lead não encontrado.")
    lead.conversa_lida_em = agora()
    sessao.add(lead)
    sessao.flush()
