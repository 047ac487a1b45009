"""What happens to claimed jobs around their send, written in groups: the rate-limit slots of
an instance (``reservar_vagas``), the jobs refused at send time (``cancelar``) and the outcomes
(``registrar_resultados``: one conditional statement per outcome group). The pipeline that
drives a claimed batch through them is ``despacho_lote``. Every write goes through the claim
(``reivindicacao.finalizar_lote``); logs and metrics stay per job."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from whatsapp_app import contadores, db, metricas
from whatsapp_app import envio as envio_
from whatsapp_app.config import configuracoes
from whatsapp_app.envio import MOTIVO_LEAD_OPTOUT
from whatsapp_app.logs import logger
from whatsapp_app.models import StatusAgendamento, WhatsappInstancia
from whatsapp_app.providers.base import Desfecho, ResultadoEnvio
from whatsapp_app.reivindicacao import (
    JobReivindicado,
    ResumoDespacho,
    finalizar_grupo,
    finalizar_lote,
    finalizar_restantes,
)
from whatsapp_app.tempo import agora

ESPERA_MAXIMA_VAGA_S = 60.0  # a rate-limit slot further away than this is not booked nor awaited

_log = logger("automacoes")
_instancia = WhatsappInstancia.__table__  # type: ignore[attr-defined]


def espera_maxima_vaga_s() -> float:
    """How far ahead a batch books send slots: ESPERA_MAXIMA_VAGA_S, and never later than a
    claim may live (PRAZO_REIVINDICACAO_S minus the send's own timeout, so a claim that waited
    for its slot still ends before the deadline the reaper holds every claim to)."""
    cfg = configuracoes()
    return min(ESPERA_MAXIMA_VAGA_S, cfg.prazo_reivindicacao_s - cfg.provedor_timeout_s)


@dataclass(frozen=True)
class Reserva:
    """The send slots taken from one instance for a batch."""

    esperas: list[float]  # seconds to wait for each slot taken (at most the quantity asked)
    proxima_s: float  # seconds until the instance's first slot not taken: the rest are due then


def reservar_vagas(
    quantidades: Mapping[str, int], msgs_por_segundo: float, espera_maxima_s: float
) -> dict[str, Reserva]:
    """Take up to ``quantidades[id]`` next send slots of each instance (shared by all
    processes) in one transaction, only those within ``espera_maxima_s`` of now: a slot booked
    and then not used would be lost to every dispatcher, so what does not fit is not booked
    (the caller gives those jobs back, due at ``proxima_s``). The rows are read locked, in id
    order (two batches that share instances cannot deadlock; PostgreSQL ``FOR NO KEY UPDATE``,
    which does not wait for the key-share locks that inserting a conversation message takes
    on its instance), then written in one statement. An instance whose row is gone is left
    out."""
    if not quantidades:
        return {}
    passo = 1 / msgs_por_segundo
    momento = agora()
    t = _instancia
    reservas: dict[str, Reserva] = {}
    novos: list[dict[str, object]] = []
    with db.sessao() as sessao:
        linhas = sessao.execute(
            sa.select(t.c.id, t.c.proximo_envio_em)
            .where(t.c.id.in_(sorted(quantidades)))
            .order_by(t.c.id)
            .with_for_update(key_share=True)
        ).all()
        for id_instancia, proximo in linhas:
            inicio = max(0.0, (proximo - momento).total_seconds()) if proximo else 0.0
            cabem = max(0, math.ceil(round((espera_maxima_s - inicio) * msgs_por_segundo, 6)))
            tomadas = min(quantidades[id_instancia], cabem)
            fim = inicio + tomadas * passo
            reservas[id_instancia] = Reserva([inicio + k * passo for k in range(tomadas)], fim)
            if tomadas:
                novos.append({"b_id": id_instancia, "b_proximo": momento + timedelta(seconds=fim)})
        if novos:
            sessao.execute(
                sa.update(t)
                .where(t.c.id == sa.bindparam("b_id"))
                .values(proximo_envio_em=sa.bindparam("b_proximo")),
                novos,
            )
    return reservas


def atraso_backoff(tentativas: int) -> float:
    """Exponential backoff with full jitter between half and all of the exponential step."""
    cfg = configuracoes()
    teto = min(
        cfg.despacho_backoff_max_s, cfg.despacho_backoff_base_s * 2 ** max(0, tentativas - 1)
    )
    return random.uniform(teto / 2, teto)


def cancelar(
    recusados: list[tuple[JobReivindicado, str]], worker_id: str, resumo: ResumoDespacho
) -> None:
    """Jobs refused at send time (the lead opted out or replied): CANCELADO, not an attempt."""
    if not recusados:
        return
    gravados = finalizar_grupo(
        worker_id,
        {
            job.id: {"motivo_cancelamento": motivo, "tentativas": job.tentativas - 1}
            for job, motivo in recusados
        },
        status=StatusAgendamento.CANCELADO.value,
    )
    for job, motivo in recusados:
        gravado = job.id in gravados
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


@dataclass(frozen=True)
class Resultado:
    """One send's outcome, waiting to be written with its group."""

    job: JobReivindicado
    resultado: ResultadoEnvio
    latencia_ms: float
    saida: envio_.Saida | None = None


def registrar_resultados(
    resultados: list[Resultado], worker_id: str, resumo: ResumoDespacho
) -> None:
    """Write outcomes in one transaction, one conditional statement per outcome group
    (ENVIADO with its conversation messages, retry, ERRO, INCERTO); then count and log each."""
    if not resultados:
        return
    cfg = configuracoes()
    momento = agora()
    grupos: dict[Desfecho, dict[str, dict[str, object]]] = {d: {} for d in Desfecho}
    desfechos: list[tuple[Resultado, Desfecho, str | None]] = []
    for r in resultados:
        desfecho = r.resultado.desfecho
        erro: str | None
        if desfecho == Desfecho.RETENTAVEL and r.job.tentativas >= cfg.despacho_max_tentativas:
            desfecho = Desfecho.PERMANENTE
            erro = (
                f"{r.resultado.erro or 'Falha temporária'} "
                f"(tentativas esgotadas: {r.job.tentativas})"
            )
        else:
            erro = r.resultado.erro
        if desfecho == Desfecho.ACEITO:
            grupos[desfecho][r.job.id] = {"provider_message_id": r.resultado.provider_message_id}
        elif desfecho == Desfecho.RETENTAVEL:
            atraso = r.resultado.tentar_apos_s or atraso_backoff(r.job.tentativas)
            grupos[desfecho][r.job.id] = {
                "agendado_para": momento + timedelta(seconds=atraso),
                "ultimo_erro": erro,
            }
        elif desfecho == Desfecho.PERMANENTE:
            grupos[desfecho][r.job.id] = {"ultimo_erro": erro}
        else:
            erro = erro or "Resultado desconhecido: confirme no provedor."
            grupos[desfecho][r.job.id] = {"ultimo_erro": erro}
        desfechos.append((r, desfecho, erro))
    fixos: dict[Desfecho, dict[str, object]] = {
        Desfecho.ACEITO: {
            "status": StatusAgendamento.ENVIADO.value,
            "enviado_em": momento,
            "ultimo_erro": None,
        },
        Desfecho.RETENTAVEL: {
            "status": StatusAgendamento.PENDENTE.value,
            "claimed_by": None,
            "claimed_at": None,
            "envio_iniciado_em": None,
        },
        Desfecho.PERMANENTE: {"status": StatusAgendamento.ERRO.value},
        Desfecho.DESCONHECIDO: {"status": StatusAgendamento.INCERTO.value},
    }
    aceitos = grupos[Desfecho.ACEITO]  # only an accepted send joins the conversation
    saidas = {r.job.id: r for r in resultados if r.saida is not None and r.job.id in aceitos}
    gravados: set[str] = set()
    with db.sessao() as sessao:
        for desfecho in Desfecho:
            gravados |= finalizar_lote(sessao, worker_id, grupos[desfecho], **fixos[desfecho])
        envio_.registrar_saidas(
            sessao, [_saida(r) for id_job, r in saidas.items() if id_job in gravados]
        )
    # Rows that were busy (locked) at that moment, one by one; a lost claim stays unwritten.
    for desfecho in Desfecho:
        gravados |= finalizar_restantes(
            worker_id,
            grupos[desfecho],
            gravados,
            depois={id_job: _registrador(r) for id_job, r in saidas.items()},
            **fixos[desfecho],
        )
    for r, desfecho, erro in desfechos:
        _contar_e_logar(r, desfecho, erro, r.job.id in gravados, worker_id, resumo, momento)


def _saida(r: Resultado) -> tuple[envio_.Saida, str, str, str | None]:
    assert r.saida is not None
    return (r.saida, r.job.id_empresa, r.job.id, r.resultado.provider_message_id)


def _registrador(r: Resultado) -> Callable[[Session], None]:
    return lambda sessao: envio_.registrar_saidas(sessao, [_saida(r)])


def _contar_e_logar(
    r: Resultado,
    desfecho: Desfecho,
    erro: str | None,
    gravado: bool,
    worker_id: str,
    resumo: ResumoDespacho,
    momento: datetime,
) -> None:
    job = r.job
    if gravado:
        if desfecho == Desfecho.ACEITO:
            resumo.somar("sent")
            contadores.somar(contadores.ENVIADOS, job.id_empresa)
            metricas.latencia_despacho.observe(
                max(0.0, (momento - job.agendado_para).total_seconds())
            )
        elif desfecho == Desfecho.RETENTAVEL:
            resumo.somar("retried")
            metricas.jobs_retried.inc()
        elif desfecho == Desfecho.PERMANENTE:
            resumo.somar("failed")
            metricas.jobs_failed.inc()
        else:
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
            "latencia_ms": r.latencia_ms,
            "erro": erro,
        },
    )
