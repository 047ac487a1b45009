"""Operator actions on one job (API and UI): retry, mark as sent, cancel. Each is audited."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from whatsapp_app.envio import registrar_saida_do_job
from whatsapp_app.logs import logger
from whatsapp_app.models import (
    AuditoriaAgendamento,
    StatusAgendamento,
    WhatsappAutomacaoAgendamento,
)
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import Conflito, NaoEncontrado

_log = logger("operacao")
_agendamento = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]


ACOES_OPERADOR: dict[str, tuple[tuple[str, ...], str]] = {
    # action: (statuses it applies to, resulting status)
    "reenviar": (
        (StatusAgendamento.ERRO.value, StatusAgendamento.INCERTO.value),
        StatusAgendamento.PENDENTE.value,
    ),
    "marcar_enviado": ((StatusAgendamento.INCERTO.value,), StatusAgendamento.ENVIADO.value),
    "cancelar": ((StatusAgendamento.PENDENTE.value,), StatusAgendamento.CANCELADO.value),
}
MOTIVO_OPERADOR = "cancelado_pelo_operador"


def acao_se_aplica(acao: str, status: str) -> bool:
    """Whether the operator action ``acao`` applies to a job in ``status``."""
    return status in ACOES_OPERADOR[acao][0]


def acao_do_operador(
    *, sessao: Session, id_empresa: str, id_usuario: str, id_agendamento: str, acao: str
) -> WhatsappAutomacaoAgendamento:
    origens, destino = ACOES_OPERADOR[acao]
    job = sessao.exec(
        select(WhatsappAutomacaoAgendamento).where(
            WhatsappAutomacaoAgendamento.id == id_agendamento,
            WhatsappAutomacaoAgendamento.id_empresa == id_empresa,
        )
    ).first()
    if job is None:
        raise NaoEncontrado("Agendamento não encontrado.")
    anterior = job.status
    momento = agora()
    valores: dict[str, Any] = {"status": destino, "atualizado_em": momento}
    if acao == "reenviar":
        valores.update(
            status_entrega=None,
            status_entrega_em=None,
            erro_entrega=None,
            agendado_para=momento,
            tentativas=0,
            claimed_by=None,
            claimed_at=None,
            envio_iniciado_em=None,
        )
    elif acao == "marcar_enviado":
        valores.update(enviado_em=momento)
    else:
        valores.update(motivo_cancelamento=MOTIVO_OPERADOR)
    alterado = sessao.execute(
        sa.update(_agendamento)
        .where(_agendamento.c.id == job.id, _agendamento.c.status.in_(origens))
        .values(**valores)
    ).rowcount  # type: ignore[attr-defined]
    if not alterado:
        raise Conflito(
            f"Não é possível {acao.replace('_', ' ')} um agendamento {anterior}.",
            codigo="status_incompativel",
        )
    if acao == "marcar_enviado":
        registrar_saida_do_job(
            sessao,
            id_empresa=id_empresa,
            id_agendamento=job.id,
            provider_message_id=job.provider_message_id,
        )
    sessao.add(
        AuditoriaAgendamento(
            id_empresa=id_empresa,
            id_agendamento=job.id,
            id_usuario=id_usuario,
            acao=acao,
            status_anterior=anterior,
            status_novo=destino,
            criado_em=momento,
        )
    )
    sessao.flush()
    sessao.refresh(job)
    _log.info(
        "ação do operador",
        extra={
            "id_agendamento": job.id,
            "acao": acao,
            "id_usuario": id_usuario,
            "de": anterior,
            "para": destino,
        },
    )
    return job


MAX_IDS_LOTE = 200  # one page of the queue at most


def acoes_em_lote(
    *, sessao: Session, id_empresa: str, id_usuario: str, ids: list[str], acao: str
) -> list[dict[str, Any]]:
    """The same action on many jobs, each in its own savepoint: one outcome per id, in order.

    A job in the wrong status, or not of this company, is reported (``status_incompativel``,
    ``nao_encontrado``) and never fails the others. Each success is audited like the single
    action, because it *is* the single action.
    """
    resultados: list[dict[str, Any]] = []
    vistos: set[str] = set()
    for id_agendamento in ids:
        if id_agendamento in vistos:
            continue
        vistos.add(id_agendamento)
        try:
            with sessao.begin_nested():
                job = acao_do_operador(
                    sessao=sessao,
                    id_empresa=id_empresa,
                    id_usuario=id_usuario,
                    id_agendamento=id_agendamento,
                    acao=acao,
                )
            resultados.append({"id": id_agendamento, "ok": True, "status": job.status})
        except (NaoEncontrado, Conflito) as exc:
            resultados.append(
                {
                    "id": id_agendamento,
                    "ok": False,
                    "erro": {"codigo": exc.codigo, "mensagem": exc.mensagem},
                }
            )
    return resultados
