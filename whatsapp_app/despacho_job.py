"""One claimed job, from the checks at send time to its recorded outcome (the dispatcher's
round, ``processar_agendamentos_follow_up_whatsapp``, runs this for each job of its batch,
concurrently). Every write goes through the claim (``reivindicacao.finalizar``)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta

from sqlmodel import select

from whatsapp_app import contadores, db, metricas
from whatsapp_app import envio as envio_
from whatsapp_app.config import configuracoes
from whatsapp_app.despacho_controle import (
    FabricaProvedor,
    aguardar_vaga,
    parada_solicitada,
    portao,
)
from whatsapp_app.envio import ERRO_FORA_DA_JANELA_SEM_MODELO, MOTIVO_LEAD_OPTOUT
from whatsapp_app.janela import dentro_da_janela, proxima_abertura
from whatsapp_app.logs import logger
from whatsapp_app.models import StatusAgendamento, WhatsappInstancia
from whatsapp_app.providers.base import Desfecho, ResultadoEnvio
from whatsapp_app.reivindicacao import JobReivindicado, ResumoDespacho, finalizar, liberar
from whatsapp_app.tempo import agora

ESPERA_MAXIMA_VAGA_S = 60.0  # a rate-limit slot further away than this is released, not awaited

_log = logger("automacoes")


def reservar_vaga(id_instancia: str, msgs_por_segundo: float) -> float:
    """Take the instance's next send slot (shared by all processes); seconds to wait for it."""
    intervalo = timedelta(seconds=1 / msgs_por_segundo)
    with db.sessao() as sessao:
        instancia = sessao.exec(
            db.travada(select(WhatsappInstancia).where(WhatsappInstancia.id == id_instancia))
        ).one()
        momento = agora()
        vaga = max(momento, instancia.proximo_envio_em or momento)
        instancia.proximo_envio_em = vaga + intervalo
        sessao.add(instancia)
    return (vaga - momento).total_seconds()


def atraso_backoff(tentativas: int) -> float:
    """Exponential backoff with full jitter between half and all of the exponential step."""
    cfg = configuracoes()
    teto = min(
        cfg.despacho_backoff_max_s, cfg.despacho_backoff_base_s * 2 ** max(0, tentativas - 1)
    )
    return random.uniform(teto / 2, teto)


def processar(
    job: JobReivindicado,
    worker_id: str,
    fabrica: FabricaProvedor,
    resumo: ResumoDespacho,
    parar: Callable[[], bool] = parada_solicitada,
) -> None:
    cfg = configuracoes()
    if parar():  # stopping (shutdown, a manual dispatch's cancel): back untouched, still due
        liberar(job, worker_id, job.agendado_para)
        return
    contexto = envio_.carregar_contexto(id_agendamento=job.id, id_empresa=job.id_empresa)
    momento = agora()
    motivo = envio_.motivo_para_nao_enviar(contexto)
    if motivo is not None:
        _cancelar_reivindicado(job, worker_id, motivo, resumo)
        return
    if not dentro_da_janela(momento, contexto.janela, contexto.fuso_horario):
        liberar(job, worker_id, proxima_abertura(momento, contexto.janela, contexto.fuso_horario))
        _log.info(
            "fora da janela: adiado", extra={"id_agendamento": job.id, "worker_id": worker_id}
        )
        return
    envio = envio_.preparar_envio(contexto)
    if envio is None:
        resultado = ResultadoEnvio(Desfecho.PERMANENTE, erro=ERRO_FORA_DA_JANELA_SEM_MODELO)
        registrar_resultado(job, worker_id, resultado, resumo, 0.0)
        return
    espera = reservar_vaga(contexto.instancia.id, cfg.despacho_msgs_por_segundo)
    if espera > ESPERA_MAXIMA_VAGA_S:
        liberar(job, worker_id, agora() + timedelta(seconds=espera))
        return
    if (espera > 0 and aguardar_vaga(espera, parar)) or parar():
        liberar(job, worker_id, job.agendado_para)  # stopping: the slot is lost, the job is not
        return
    with portao():  # the send's clock starts once it may really go out
        if parar():
            liberar(job, worker_id, job.agendado_para)
            return
        if not finalizar(job.id, worker_id, envio_iniciado_em=agora()):
            return  # the claim was taken back (reaper): someone else owns the job now
        inicio = time.monotonic()
        try:
            resultado = envio_.enviar(fabrica(contexto.instancia), contexto, envio, job.id)
        except Exception as exc:  # an adapter bug after the request may have left: never resend
            _log.exception("falha inesperada no provedor", extra={"id_agendamento": job.id})
            resultado = ResultadoEnvio(Desfecho.DESCONHECIDO, erro=f"Falha inesperada: {exc}")
        latencia_ms = round((time.monotonic() - inicio) * 1000, 1)
    registrar_resultado(
        job,
        worker_id,
        resultado,
        resumo,
        latencia_ms,
        saida=envio_.Saida(contexto.instancia.id, contexto.id_lead, contexto.telefone, envio.texto),
    )


def _cancelar_reivindicado(
    job: JobReivindicado, worker_id: str, motivo: str, resumo: ResumoDespacho
) -> None:
    gravado = finalizar(
        job.id,
        worker_id,
        status=StatusAgendamento.CANCELADO.value,
        motivo_cancelamento=motivo,
        tentativas=job.tentativas - 1,  # nothing was attempted
    )
    if gravado:
        resumo.somar("cancelled")
        if motivo == MOTIVO_LEAD_OPTOUT:
            contadores.somar(contadores.CANCELADOS_OPTOUT, job.id_empresa)
        else:
            contadores.somar(contadores.CANCELADOS_RESPOSTA, job.id_empresa)
    _log.info(
        "envio recusado na hora do envio",
        extra={
            "id_agendamento": job.id,
            "chave_idempotencia": job.chave_idempotencia,
            "worker_id": worker_id,
            "motivo": motivo,
            "gravado": gravado,
        },
    )


def processar_com_seguranca(
    job: JobReivindicado,
    worker_id: str,
    fabrica: FabricaProvedor,
    resumo: ResumoDespacho,
    parar: Callable[[], bool],
) -> None:
    """One job's failure (e.g. the database went away) must not stop its siblings; the
    reaper recovers whatever claim it left behind."""
    try:
        processar(job, worker_id, fabrica, resumo, parar)
    except Exception:
        _log.exception(
            "falha ao processar agendamento",
            extra={"id_agendamento": job.id, "worker_id": worker_id},
        )


def registrar_resultado(
    job: JobReivindicado,
    worker_id: str,
    resultado: ResultadoEnvio,
    resumo: ResumoDespacho,
    latencia_ms: float,
    saida: envio_.Saida | None = None,
) -> None:
    cfg = configuracoes()
    momento = agora()
    desfecho = resultado.desfecho
    erro: str | None
    if desfecho == Desfecho.RETENTAVEL and job.tentativas >= cfg.despacho_max_tentativas:
        desfecho = Desfecho.PERMANENTE
        erro = f"{resultado.erro or 'Falha temporária'} (tentativas esgotadas: {job.tentativas})"
    else:
        erro = resultado.erro
    if desfecho == Desfecho.ACEITO:
        gravado = finalizar(
            job.id,
            worker_id,
            status=StatusAgendamento.ENVIADO.value,
            enviado_em=momento,
            provider_message_id=resultado.provider_message_id,
            ultimo_erro=None,
            depois=(
                (
                    lambda sessao: saida.registrar(
                        sessao, job.id_empresa, job.id, resultado.provider_message_id
                    )
                )
                if saida is not None
                else None
            ),
        )
        if gravado:
            resumo.somar("sent")
            contadores.somar(contadores.ENVIADOS, job.id_empresa)
            metricas.latencia_despacho.observe(
                max(0.0, (momento - job.agendado_para).total_seconds())
            )
    elif desfecho == Desfecho.RETENTAVEL:
        atraso = resultado.tentar_apos_s or atraso_backoff(job.tentativas)
        gravado = finalizar(
            job.id,
            worker_id,
            status=StatusAgendamento.PENDENTE.value,
            agendado_para=momento + timedelta(seconds=atraso),
            ultimo_erro=erro,
            claimed_by=None,
            claimed_at=None,
            envio_iniciado_em=None,
        )
        if gravado:
            resumo.somar("retried")
            metricas.jobs_retried.inc()
    elif desfecho == Desfecho.PERMANENTE:
        gravado = finalizar(
            job.id, worker_id, status=StatusAgendamento.ERRO.value, ultimo_erro=erro
        )
        if gravado:
            resumo.somar("failed")
            metricas.jobs_failed.inc()
    else:
        gravado = finalizar(
            job.id,
            worker_id,
            status=StatusAgendamento.INCERTO.value,
            ultimo_erro=erro or "Resultado desconhecido: confirme no provedor.",
        )
        if gravado:
            resumo.somar("uncertain")
            contadores.somar(contadores.INCERTOS, job.id_empresa)
    _log.info(
        "resultado do envio",
        extra={
            "chave_idempotencia": job.chave_idempotencia,
            "id_agendamento": job.id,
            "worker_id": worker_id,
            "tentativa": job.tentativas,
            "desfecho": desfecho.value,
            "gravado": gravado,
            "latencia_ms": latencia_ms,
            "erro": erro,
        },
    )
