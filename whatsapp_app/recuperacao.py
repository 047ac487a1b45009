"""The reaper: claims left behind by a dispatcher that died (``recuperar_reivindicacoes_vencidas``,
run by the scheduler every REAPER_INTERVALO_S)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from whatsapp_app import contadores, db
from whatsapp_app import envio as envio_
from whatsapp_app.config import configuracoes
from whatsapp_app.despacho_controle import FabricaProvedor, fabrica_padrao, identificador_worker
from whatsapp_app.logs import logger
from whatsapp_app.models import StatusAgendamento, WhatsappAutomacaoAgendamento
from whatsapp_app.providers.base import Confirmacao
from whatsapp_app.reivindicacao import JobReivindicado, finalizar
from whatsapp_app.tempo import agora

MARGEM_ENVIO_EM_VOO_S = 5.0  # beyond the provider timeout before a started send is reconciled

_log = logger("automacoes")
_agendamento = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]


def recuperar_reivindicacoes_vencidas(
    *, fabrica_provedor: FabricaProvedor | None = None, prazo_s: float | None = None
) -> dict[str, int]:
    """Recover the PROCESSANDO jobs of a dispatcher that died.

    Dead means silent: its claims' heartbeat (``batimento_em``, else ``claimed_at``) is older
    than BATIMENTO_PRAZO_S, so a SIGKILLed worker's batch is back within about half a minute,
    while a live dispatcher's slow send (beating) is never taken. ``prazo_s`` (default
    PRAZO_REIVINDICACAO_S) is the ceiling for any claim, beating or not.

    No send started (``envio_iniciado_em`` NULL) → back to PENDENTE. A send started → once it
    is older than any provider call can last, ask the provider (``confirmar_envio``):
    confirmed → ENVIADO, confirmed absent → PENDENTE, unknown → INCERTO for an operator.
    Never resent on a guess.
    """
    cfg = configuracoes()
    fabrica = fabrica_provedor or fabrica_padrao
    t = _agendamento
    momento = agora()
    vencido = momento - timedelta(seconds=prazo_s or cfg.prazo_reivindicacao_s)
    calado = sa.func.coalesce(t.c.batimento_em, t.c.claimed_at) < momento - timedelta(
        seconds=cfg.batimento_prazo_s
    )
    envio_encerrado = t.c.envio_iniciado_em < momento - timedelta(
        seconds=cfg.provedor_timeout_s + MARGEM_ENVIO_EM_VOO_S
    )
    reaper_id = f"reaper:{identificador_worker()}"
    resultado = {"pendentes": 0, "enviados": 0, "incertos": 0}
    processando = t.c.status == StatusAgendamento.PROCESSANDO.value
    with db.sessao() as sessao:
        # No send started and the owner went silent (or the claim is past the ceiling).
        devolvidos = sessao.execute(
            sa.update(t)
            .where(
                processando,
                t.c.envio_iniciado_em.is_(None),
                sa.or_(calado, t.c.claimed_at < vencido),
            )
            .values(
                status=StatusAgendamento.PENDENTE.value,
                claimed_by=None,
                claimed_at=None,
                batimento_em=None,
                atualizado_em=momento,
            )
            .returning(t.c.id, t.c.chave_idempotencia, t.c.id_empresa)
        ).all()
        # A started send whose owner went silent, once no provider call can still be in flight
        # (or past the ceiling): take it over (a fresh heartbeat keeps other reapers off it).
        assumidos = sessao.execute(
            sa.update(t)
            .where(
                processando,
                t.c.envio_iniciado_em.is_not(None),
                sa.or_(sa.and_(calado, envio_encerrado), t.c.envio_iniciado_em < vencido),
            )
            .values(
                claimed_by=reaper_id,
                claimed_at=momento,
                batimento_em=momento,
                atualizado_em=momento,
            )
            .returning(
                t.c.id,
                t.c.id_empresa,
                t.c.chave_idempotencia,
                t.c.tentativas,
                t.c.agendado_para,
                t.c.envio_iniciado_em,
            )
        ).all()
    for id_job, chave, empresa_do_job in devolvidos:
        resultado["pendentes"] += 1
        contadores.somar(contadores.RECUPERADOS, empresa_do_job)
        _log.info(
            "reaper: devolvido a PENDENTE",
            extra={"id_agendamento": id_job, "chave_idempotencia": chave},
        )
    for linha in assumidos:
        job = JobReivindicado(*linha[:5])
        desfecho = _reconciliar(job, linha[5], reaper_id, fabrica)
        resultado[desfecho] += 1
        contadores.somar(contadores.RECUPERADOS, job.id_empresa)
    contadores.descarregar()
    return resultado


def _reconciliar(
    job: JobReivindicado, iniciado_em: datetime, reaper_id: str, fabrica: FabricaProvedor
) -> str:
    contexto = envio_.carregar_contexto(id_agendamento=job.id, id_empresa=job.id_empresa)
    try:
        confirmacao = fabrica(contexto.instancia).confirmar_envio(
            numero_e164=contexto.telefone,
            texto=contexto.texto,
            id_agendamento=job.id,
            desde=iniciado_em,
        )
        estado = confirmacao.confirmacao
    except Exception:
        _log.exception("reaper: confirmação falhou", extra={"id_agendamento": job.id})
        estado, confirmacao = Confirmacao.DESCONHECIDO, None
    if estado == Confirmacao.ENVIADO:
        id_mensagem = confirmacao.provider_message_id if confirmacao else None
        saida = envio_.Saida(
            contexto.instancia.id, contexto.id_lead, contexto.telefone, contexto.texto
        )
        finalizar(
            job.id,
            reaper_id,
            status=StatusAgendamento.ENVIADO.value,
            enviado_em=agora(),
            provider_message_id=id_mensagem,
            depois=lambda sessao: saida.registrar(sessao, job.id_empresa, job.id, id_mensagem),
        )
        contadores.somar(contadores.ENVIADOS, job.id_empresa)
        desfecho = "enviados"
    elif estado == Confirmacao.AUSENTE:
        finalizar(
            job.id,
            reaper_id,
            status=StatusAgendamento.PENDENTE.value,
            claimed_by=None,
            claimed_at=None,
            envio_iniciado_em=None,
            agendado_para=agora(),
        )
        desfecho = "pendentes"
    else:
        finalizar(
            job.id,
            reaper_id,
            status=StatusAgendamento.INCERTO.value,
            ultimo_erro="Processo interrompido durante o envio; confirme no provedor.",
        )
        contadores.somar(contadores.INCERTOS, job.id_empresa)
        desfecho = "incertos"
    _log.info(
        "reaper: reconciliado",
        extra={
            "id_agendamento": job.id,
            "desfecho": desfecho,
            "chave_idempotencia": job.chave_idempotencia,
        },
    )
    return desfecho
