"""WhatsApp follow-up automations: scheduling and the single dispatcher.

Scheduling (``executar_automacoes_lead_stage_changed``) runs inside the caller's transaction,
the same one that moved the lead, and never creates a job twice: every job carries a
deterministic ``chave_idempotencia`` (contract.md section 3) and is inserted with
``ON CONFLICT DO NOTHING`` against ``UNIQUE (id_empresa, chave_idempotencia)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from whatsapp_app import metricas
from whatsapp_app.janela import proxima_abertura
from whatsapp_app.logs import logger
from whatsapp_app.models import (
    Empresa,
    Reentrada,
    StatusAgendamento,
    WhatsappAutomacao,
    WhatsappAutomacaoAgendamento,
    WhatsappAutomacaoEtapa,
    novo_id,
)
from whatsapp_app.tempo import agora

EVENTO_MUDANCA_ESTAGIO = "lead_stage_changed"
MOTIVO_SAIU_DO_ESTAGIO = "lead_saiu_do_estagio"
MOTIVO_AUTOMACAO_DESATIVADA = "automacao_desativada"
MOTIVO_AUTOMACAO_EXCLUIDA = "automacao_excluida"
VARIAVEIS_MODELO = ("nome", "primeiro_nome", "empresa", "estagio")
_VARIAVEL = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")

_log = logger("automacoes")
_agendamento = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]


def chave_idempotencia(
    *,
    id_empresa: str,
    id_lead: str,
    id_estagio_trigger: str,
    id_whatsapp_automacao: str,
    id_etapa: str,
    ordinal_entrada: int | None = None,
) -> str:
    """The job's identity. ``ordinal_entrada`` only for re-entry policy ``a_cada_entrada``."""
    chave = f"{id_empresa}:{id_lead}:{id_estagio_trigger}:{id_whatsapp_automacao}:{id_etapa}"
    return chave if ordinal_entrada is None else f"{chave}:{ordinal_entrada}"


def variaveis_desconhecidas(mensagem: str) -> list[str]:
    return sorted({v for v in _VARIAVEL.findall(mensagem) if v not in VARIAVEIS_MODELO})


def renderizar_mensagem(mensagem: str, *, nome: str, empresa: str, estagio: str) -> str:
    valores = {
        "nome": nome,
        "primeiro_nome": nome.split()[0] if nome.strip() else nome,
        "empresa": empresa,
        "estagio": estagio,
    }
    return _VARIAVEL.sub(lambda m: valores.get(m.group(1), m.group(0)), mensagem)


def _inserir_ignorando_duplicatas(sessao: Session, linhas: list[dict[str, Any]]) -> set[str]:
    """Insert jobs; returns the keys really inserted (the others already existed)."""
    if not linhas:
        return set()
    dialeto = postgresql if sessao.get_bind().dialect.name == "postgresql" else sqlite
    comando = (
        dialeto.insert(_agendamento)
        .values(linhas)
        .on_conflict_do_nothing()
        .returning(_agendamento.c.chave_idempotencia)
    )
    return set(sessao.execute(comando).scalars().all())


@dataclass(frozen=True)
class EntradaNoEstagio:
    """A lead entering a stage: what scheduling needs to know about the move."""

    id_empresa: str
    id_lead: str
    id_estagio: str
    ordinal: int  # this lead's n-th entry into this stage (from LeadEstagioHistorico)
    momento: datetime


def executar_automacoes_lead_stage_changed(*, sessao: Session, entrada: EntradaNoEstagio) -> int:
    """Schedule every step of the company's active automations for the destination stage.

    Steps are cumulative from the move: step n is due ``atraso_minutos`` after it, pushed to
    the next opening of the company's sending window. Returns how many jobs were created.
    """
    automacoes = sessao.exec(
        select(WhatsappAutomacao).where(
            WhatsappAutomacao.id_empresa == entrada.id_empresa,
            WhatsappAutomacao.id_estagio_trigger == entrada.id_estagio,
            WhatsappAutomacao.evento == EVENTO_MUDANCA_ESTAGIO,
            col(WhatsappAutomacao.ativo).is_(True),
        )
    ).all()
    if not automacoes:
        return 0
    empresa = sessao.get(Empresa, entrada.id_empresa)
    assert empresa is not None
    etapas = sessao.exec(
        select(WhatsappAutomacaoEtapa)
        .where(
            WhatsappAutomacaoEtapa.id_empresa == entrada.id_empresa,
            col(WhatsappAutomacaoEtapa.id_whatsapp_automacao).in_([a.id for a in automacoes]),
            col(WhatsappAutomacaoEtapa.removida_em).is_(None),
        )
        .order_by(col(WhatsappAutomacaoEtapa.ordem))
    ).all()
    por_automacao = {a.id: a for a in automacoes}
    momento = agora()
    linhas = []
    for etapa in etapas:
        automacao = por_automacao[etapa.id_whatsapp_automacao]
        chave = chave_idempotencia(
            id_empresa=entrada.id_empresa,
            id_lead=entrada.id_lead,
            id_estagio_trigger=entrada.id_estagio,
            id_whatsapp_automacao=automacao.id,
            id_etapa=etapa.id,
            ordinal_entrada=(
                entrada.ordinal if automacao.reentrada == Reentrada.A_CADA_ENTRADA else None
            ),
        )
        devido = entrada.momento + timedelta(minutes=etapa.atraso_minutos)
        linhas.append(
            {
                "id": novo_id(),
                "id_empresa": entrada.id_empresa,
                "id_lead": entrada.id_lead,
                "id_whatsapp_automacao": automacao.id,
                "id_etapa": etapa.id,
                "id_estagio_trigger": entrada.id_estagio,
                "chave_idempotencia": chave,
                "referencia_evento": chave,
                "status": StatusAgendamento.PENDENTE.value,
                "agendado_para": proxima_abertura(
                    devido, empresa.janela_envio, empresa.fuso_horario
                ),
                "tentativas": 0,
                "criado_em": momento,
                "atualizado_em": momento,
            }
        )
    inseridas = _inserir_ignorando_duplicatas(sessao, linhas)
    for linha in linhas:
        if linha["chave_idempotencia"] not in inseridas:
            metricas.jobs_duplicate_blocked.inc()
            _log.info(
                "agendamento duplicado bloqueado",
                extra={
                    "chave_idempotencia": linha["chave_idempotencia"],
                    "id_lead": entrada.id_lead,
                },
            )
    for chave in inseridas:
        _log.info(
            "agendamento criado", extra={"chave_idempotencia": chave, "id_lead": entrada.id_lead}
        )
    return len(inseridas)


def cancelar_pendentes(sessao: Session, condicoes: list[Any], motivo: str) -> int:
    momento = agora()
    resultado = sessao.execute(
        sa.update(_agendamento)
        .where(_agendamento.c.status == StatusAgendamento.PENDENTE.value, *condicoes)
        .values(
            status=StatusAgendamento.CANCELADO.value,
            motivo_cancelamento=motivo,
            atualizado_em=momento,
        )
    )
    return int(resultado.rowcount or 0)  # type: ignore[attr-defined]


def cancelar_ao_sair_do_estagio(
    *, sessao: Session, id_empresa: str, id_lead: str, id_estagio_origem: str
) -> int:
    """The lead left a stage: cancel its pending jobs of automations that ask for it."""
    automacoes = select(WhatsappAutomacao.id).where(
        WhatsappAutomacao.id_empresa == id_empresa,
        col(WhatsappAutomacao.cancelar_ao_sair).is_(True),
    )
    return cancelar_pendentes(
        sessao,
        [
            _agendamento.c.id_empresa == id_empresa,
            _agendamento.c.id_lead == id_lead,
            _agendamento.c.id_estagio_trigger == id_estagio_origem,
            _agendamento.c.id_whatsapp_automacao.in_(automacoes),
        ],
        MOTIVO_SAIU_DO_ESTAGIO,
    )


def cancelar_pendentes_da_automacao(
    *, sessao: Session, id_empresa: str, id_whatsapp_automacao: str, motivo: str
) -> int:
    return cancelar_pendentes(
        sessao,
        [
            _agendamento.c.id_empresa == id_empresa,
            _agendamento.c.id_whatsapp_automacao == id_whatsapp_automacao,
        ],
        motivo,
    )
