"""A claimed batch, from the checks at send time to its recorded outcomes, in groups (the
dispatcher's round, ``processar_agendamentos_follow_up_whatsapp``, runs this per batch).

- one query loads every job's context (``envio.consultar_contextos``), one more the Cloud API
  24-hour windows of the batch (``envio.janelas_de_atendimento``);
- the jobs refused (opt-out, reply), outside the sending window or without a template are
  written in one statement per group;
- each instance's rate-limit slots for the whole group are reserved in one statement;
- just before a group's sends go out (their slots within ``ADIANTAMENTO_S``),
  ``envio_iniciado_em`` is committed for the group in one conditional statement: only the
  jobs whose claim is still held are sent; a job of that group that is then not sent (a stop
  request) is given back in one conditional write that clears the mark; a send that waited
  longer than ``REMARCAR_APOS_S`` for the gate checks its claim and marks itself again;
- outcomes go to a collector thread that writes them in small groups (every ``DESCARGA_N``
  results or ``DESCARGA_S`` seconds), one statement per outcome group: a crash loses at most
  the results in flight, which the reaper reconciles (their ``envio_iniciado_em`` is set).
"""

from __future__ import annotations

import functools
import queue
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as aguardar_todos
from dataclasses import dataclass
from datetime import datetime, timedelta

from whatsapp_app import db
from whatsapp_app import envio as envio_
from whatsapp_app.config import configuracoes
from whatsapp_app.despacho_controle import (
    VERIFICAR_PARADA_S,
    Batimento,
    FabricaProvedor,
    aguardar_vaga,
    observar_latencia,
    portao,
    vagas_para,
)
from whatsapp_app.despacho_job import (
    Resultado,
    cancelar,
    espera_maxima_vaga_s,
    registrar_resultados,
    reservar_vagas,
)
from whatsapp_app.envio import ERRO_FORA_DA_JANELA_SEM_MODELO, ContextoEnvio, Envio
from whatsapp_app.janela import dentro_da_janela, proxima_abertura
from whatsapp_app.logs import logger
from whatsapp_app.providers.base import Desfecho, ResultadoEnvio
from whatsapp_app.reivindicacao import (
    JobReivindicado,
    ResumoDespacho,
    bater,
    finalizar,
    liberar_lote,
    marcar_iniciados,
)
from whatsapp_app.tempo import agora

ADIANTAMENTO_S = 0.2  # a group is marked started once its slots are this close
REMARCAR_APOS_S = 0.5  # a send held longer than this after its mark checks its claim again
DESCARGA_N = 16  # outcomes written together, at most
DESCARGA_S = 0.05  # seconds an outcome waits for its group, at most

_log = logger("automacoes")


@dataclass(frozen=True)
class _Pronto:
    job: JobReivindicado
    contexto: ContextoEnvio
    envio: Envio
    prazo: float  # time.monotonic() of its rate-limit slot


class Coletor:
    """Outcomes from the send threads, written by one thread in small groups (each group per
    batch: a batch's writes are conditional on its own claim)."""

    _FIM = object()

    def __init__(self, resumo: ResumoDespacho) -> None:
        self._resumo = resumo
        self._fila: queue.Queue[object] = queue.Queue()
        self._trava = threading.Lock()
        self._por_lote: Counter[str] = Counter()  # outcomes delivered and not yet written
        self._thread = threading.Thread(target=self._rodar, name="coletor", daemon=True)

    def entregar(self, worker_id: str, resultado: Resultado) -> None:
        with self._trava:
            self._por_lote[worker_id] += 1
        self._fila.put((worker_id, resultado))

    def pendentes(self, worker_id: str) -> int:
        with self._trava:
            return self._por_lote[worker_id]

    def _rodar(self) -> None:
        pendentes: list[tuple[str, Resultado]] = []
        limite = 0.0
        while True:
            espera = max(0.0, limite - time.monotonic()) if pendentes else None
            try:
                item = self._fila.get(timeout=espera)
            except queue.Empty:
                item = None
            if item is self._FIM:
                self._descarregar(pendentes)
                return
            if isinstance(item, tuple):
                if not pendentes:
                    limite = time.monotonic() + DESCARGA_S
                pendentes.append(item)
            if pendentes and (len(pendentes) >= DESCARGA_N or time.monotonic() >= limite):
                self._descarregar(pendentes)
                pendentes = []

    def _descarregar(self, itens: list[tuple[str, Resultado]]) -> None:
        por_lote: dict[str, list[Resultado]] = defaultdict(list)
        for worker_id, resultado in itens:
            por_lote[worker_id].append(resultado)
        for worker_id, resultados in por_lote.items():
            try:
                registrar_resultados(resultados, worker_id, self._resumo)
            except Exception:  # the reaper reconciles them: their envio_iniciado_em is set
                _log.exception(
                    "falha ao registrar resultados",
                    extra={
                        "worker_id": worker_id,
                        "ids_agendamento": [r.job.id for r in resultados],
                    },
                )
            finally:
                with self._trava:
                    self._por_lote[worker_id] -= len(resultados)

    def __enter__(self) -> Coletor:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._fila.put(self._FIM)
        self._thread.join()


class Vagas:
    """Sends marked started and not yet done, at most ``limite`` (resized per batch)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._em_uso = 0
        self._limite = 1

    def ajustar(self, limite: int) -> None:
        with self._cond:
            self._limite = max(1, limite)
            self._cond.notify_all()

    def obter(self, parar: Callable[[], bool], *, bloquear: bool = True) -> bool:
        with self._cond:
            while self._em_uso >= self._limite:
                if not bloquear or parar():
                    return False
                self._cond.wait(VERIFICAR_PARADA_S)
            self._em_uso += 1
            return True

    def devolver(self) -> None:
        with self._cond:
            self._em_uso -= 1
            self._cond.notify()


class Esteira:
    """The send side of one dispatch call, kept across its batches: while a batch's last sends
    are in flight the call claims and prepares the next one (the pool stays fed instead of
    claim-all / wait-all rounds). Every batch has its own ``worker_id`` (its claims' owner);
    one heartbeat thread beats every batch that still has claims in flight."""

    def __init__(
        self, fabrica: FabricaProvedor, resumo: ResumoDespacho, parar: Callable[[], bool]
    ) -> None:
        teto = 2 * configuracoes().despacho_concorrencia  # as ``vagas_para``
        self.fabrica, self.resumo, self.parar = fabrica, resumo, parar
        self.pool = ThreadPoolExecutor(max_workers=teto, thread_name_prefix="envio")
        self.vagas = Vagas()
        self.coletor = Coletor(resumo)
        self._trava = threading.Lock()
        self._lotes: dict[str, list[Future[None]]] = {}
        self._batimento = Batimento(self._bater, nome="batimento", extra={})

    def _bater(self) -> None:
        with self._trava:
            vivos = list(self._lotes)
        bater(*vivos)

    def enviar(self, jobs: list[JobReivindicado], worker_id: str) -> None:
        """Send a claimed batch; returns once each of its jobs is handed to the pool (or
        written, or given back), while its sends may still be in flight."""
        with self._trava:
            self._lotes = {
                w: futuros
                for w, futuros in self._lotes.items()
                if not all(f.done() for f in futuros) or self.coletor.pendentes(w)
            }
            self._lotes[worker_id] = []
        try:  # the claims were stamped before their statement ran, which under load takes long
            bater(worker_id)
        except Exception:  # the heartbeat thread beats it again
            _log.warning("batimento falhou", extra={"worker_id": worker_id})
        processar_lote(jobs, worker_id, self)

    def submeter(self, worker_id: str, tarefa: Callable[[], None]) -> None:
        futuro = self.pool.submit(tarefa)
        with self._trava:
            self._lotes[worker_id].append(futuro)

    def __enter__(self) -> Esteira:
        self.coletor.__enter__()
        self._batimento.__enter__()
        return self

    def __exit__(self, *_: object) -> None:
        try:
            with self._trava:
                futuros = [f for lote in self._lotes.values() for f in lote]
            aguardar_todos(futuros)
            self.pool.shutdown(wait=True)
            self.coletor.__exit__()
        finally:
            self._batimento.__exit__()


def processar_lote(jobs: list[JobReivindicado], worker_id: str, esteira: Esteira) -> None:
    """Send a claimed batch. A failure (e.g. the database went away) leaves the claims not yet
    written to the reaper, which recovers them."""
    try:
        _processar_lote(jobs, worker_id, esteira)
    except Exception:
        _log.exception(
            "falha ao processar agendamento",
            extra={"worker_id": worker_id, "ids_agendamento": [j.id for j in jobs]},
        )


def _processar_lote(jobs: list[JobReivindicado], worker_id: str, esteira: Esteira) -> None:
    cfg = configuracoes()
    resumo, parar = esteira.resumo, esteira.parar
    if parar():  # stopping (shutdown, a manual dispatch's cancel): back untouched, still due
        liberar_lote([(job, job.agendado_para) for job in jobs], worker_id)
        return
    with db.sessao() as sessao:
        contextos = envio_.consultar_contextos(sessao, {job.id: job.id_empresa for job in jobs})
    janelas = envio_.janelas_de_atendimento(contextos.values())
    momento = agora()
    recusados: list[tuple[JobReivindicado, str]] = []
    adiados: list[tuple[JobReivindicado, datetime]] = []
    sem_modelo: list[Resultado] = []
    por_instancia: dict[str, list[tuple[JobReivindicado, ContextoEnvio, Envio]]] = defaultdict(list)
    for job in jobs:
        contexto = contextos.get(job.id)
        if contexto is None:  # its rows are gone: the reaper gives the claim back
            _log.error(
                "falha ao processar agendamento: contexto ausente",
                extra={"id_agendamento": job.id, "worker_id": worker_id},
            )
            continue
        motivo = envio_.motivo_para_nao_enviar(contexto)
        if motivo is not None:
            recusados.append((job, motivo))
            continue
        if not dentro_da_janela(momento, contexto.janela, contexto.fuso_horario):
            adiados.append((job, proxima_abertura(momento, contexto.janela, contexto.fuso_horario)))
            continue
        try:
            envio = envio_.preparar_envio(contexto, janelas)
        except Exception:
            _log.exception(
                "falha ao processar agendamento",
                extra={"id_agendamento": job.id, "worker_id": worker_id},
            )
            continue
        if envio is None:
            erro = ResultadoEnvio(Desfecho.PERMANENTE, erro=ERRO_FORA_DA_JANELA_SEM_MODELO)
            sem_modelo.append(Resultado(job, erro, 0.0))
            continue
        por_instancia[contexto.instancia.id].append((job, contexto, envio))
    cancelar(recusados, worker_id, resumo)
    liberar_lote(adiados, worker_id)
    for job, _quando in adiados:
        _log.info(
            "fora da janela: adiado", extra={"id_agendamento": job.id, "worker_id": worker_id}
        )
    registrar_resultados(sem_modelo, worker_id, resumo)
    fila: list[_Pronto] = []
    longe: list[tuple[JobReivindicado, datetime]] = []
    # Slots are booked only within espera_maxima_vaga_s(): the jobs that do not fit go back,
    # not an attempt, due when the instance's next free slot comes.
    ritmo = cfg.despacho_msgs_por_segundo
    reservas = reservar_vagas(
        {i: len(g) for i, g in por_instancia.items()}, ritmo, espera_maxima_vaga_s()
    )
    relogio, momento = time.monotonic(), agora()
    for id_instancia, grupo in por_instancia.items():
        reserva = reservas.get(id_instancia)
        if reserva is None:  # the instance's row is gone: its claims are left to the reaper
            _log.error(
                "falha ao processar agendamento: instância ausente",
                extra={"worker_id": worker_id, "ids_agendamento": [j.id for j, _c, _e in grupo]},
            )
            continue
        for k, (job, contexto, envio) in enumerate(grupo):
            if k < len(reserva.esperas):
                fila.append(_Pronto(job, contexto, envio, relogio + reserva.esperas[k]))
            else:
                longe.append((job, momento + timedelta(seconds=reserva.proxima_s)))
    liberar_lote(longe, worker_id)
    fila.sort(key=lambda p: p.prazo)
    # Sends marked and not done, sized from the rate this batch may go out at and the
    # measured latency (``vagas_para``).
    ritmo_lote = len({p.contexto.instancia.id for p in fila}) * ritmo
    esteira.vagas.ajustar(vagas_para(ritmo_lote, len(fila), ADIANTAMENTO_S))
    _enviar(deque(fila), worker_id, esteira)


def _enviar(fila: deque[_Pronto], worker_id: str, esteira: Esteira) -> None:
    """Mark and hand out groups as their slots come near, with at most ``esteira.vagas``
    sends marked and not yet done (one that waits for a thread or the gate longer than
    ``REMARCAR_APOS_S`` checks its claim again before it leaves)."""
    parar, vagas = esteira.parar, esteira.vagas
    try:
        while fila:
            espera = fila[0].prazo - time.monotonic() - ADIANTAMENTO_S
            if (espera > 0 and aguardar_vaga(espera, parar)) or parar():
                break
            if not vagas.obter(parar):
                break
            grupo = [fila.popleft()]
            limite = time.monotonic() + ADIANTAMENTO_S
            while fila and fila[0].prazo <= limite and vagas.obter(parar, bloquear=False):
                grupo.append(fila.popleft())
            iniciados = marcar_iniciados([p.job.id for p in grupo], worker_id)
            marcado_em = time.monotonic()
            for p in grupo:
                if p.job.id not in iniciados:  # the claim was taken back: not ours to send
                    vagas.devolver()
                    continue
                esteira.submeter(
                    worker_id, functools.partial(_enviar_um, p, marcado_em, worker_id, esteira)
                )
    finally:  # stopping: the slots are lost, the jobs are not
        liberar_lote([(p.job, p.job.agendado_para) for p in fila], worker_id)


def _enviar_um(p: _Pronto, marcado_em: float, worker_id: str, esteira: Esteira) -> None:
    parar = esteira.parar
    job = p.job
    try:
        espera = p.prazo - time.monotonic()
        if (espera > 0 and aguardar_vaga(espera, parar)) or parar():
            # stopping: the mark cleared, the claim given back; the slot is lost, the job is not
            liberar_lote([(job, job.agendado_para)], worker_id)
            return
        with portao():  # the send's clock starts once it may really go out
            if parar():
                liberar_lote([(job, job.agendado_para)], worker_id)
                return
            if time.monotonic() - marcado_em > REMARCAR_APOS_S and not finalizar(
                job.id, worker_id, envio_iniciado_em=agora()
            ):
                return  # held (pool, gate) and the claim was taken back meanwhile
            inicio = time.monotonic()
            try:
                resultado = envio_.enviar(
                    esteira.fabrica(p.contexto.instancia), p.contexto, p.envio, job.id
                )
            except Exception as exc:  # an adapter bug after the request may have left: never resend
                _log.exception("falha inesperada no provedor", extra={"id_agendamento": job.id})
                resultado = ResultadoEnvio(Desfecho.DESCONHECIDO, erro=f"Falha inesperada: {exc}")
            latencia_s = time.monotonic() - inicio
        observar_latencia(latencia_s)
        saida = envio_.Saida(
            p.contexto.instancia.id, p.contexto.id_lead, p.contexto.telefone, p.envio.texto
        )
        esteira.coletor.entregar(
            worker_id, Resultado(job, resultado, round(latencia_s * 1000, 1), saida)
        )
    except Exception:
        _log.exception(
            "falha ao processar agendamento",
            extra={"id_agendamento": job.id, "worker_id": worker_id},
        )
    finally:
        esteira.vagas.devolver()
