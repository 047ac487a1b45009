"""Manual dispatches ("Disparar agora"): a history row per run, rounds until nothing is due.

``disparar`` records who asked and when, then runs the one dispatcher
(``processar_agendamentos_follow_up_whatsapp``) round after round for the company until no
due job is left, adding each round's summary to the row as it goes (so any process, and the
page, can follow it). ``solicitar_cancelamento`` only marks the row: the run sees the mark
between sends, claims nothing more, gives back the claims whose send has not started and lets
the sends already started finish. The REST routes and the page call these functions.

The send threads never touch the row: they read an in-memory flag (``_Acompanhamento``). The
run's heartbeat thread writes the summary so far and reads the cancel mark every
INTERVALO_ACOMPANHAMENTO_S (one statement); a cancel asked in this process sets the flag at
its commit, one asked in another process is seen at the next heartbeat.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from whatsapp_app import db, paginacao
from whatsapp_app.config import configuracoes
from whatsapp_app.despacho_controle import Batimento, FabricaProvedor
from whatsapp_app.esquemas import ComDerivados, DisparoManualPublico
from whatsapp_app.fila import erro_legivel
from whatsapp_app.logs import logger
from whatsapp_app.models import (
    StatusDisparoManual,
    WhatsappAutomacaoAgendamento,
    WhatsappDisparoManual,
    WhatsappInstancia,
)
from whatsapp_app.reivindicacao import ResumoDespacho
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import Conflito, NaoEncontrado
from whatsapp_app.whatsapp_automations import processar_agendamentos_follow_up_whatsapp

_log = logger("disparos")
_disparo = WhatsappDisparoManual.__table__  # type: ignore[attr-defined]

# The outcomes a claim can end in (a claim given back untouched ends in none of them).
DESFECHOS = ("sent", "failed", "retried", "uncertain", "cancelled")
MAX_RODADAS = 1000  # a ceiling, never reached in practice: retries wait for their backoff
# Seconds between two writes of a run's summary (the page reads it every 0.5 s) and reads of a
# cancel asked in another process; never more than BATIMENTO_INTERVALO_S (it is the heartbeat).
INTERVALO_ACOMPANHAMENTO_S = 0.5
MOTIVO_ABANDONADO = (
    "O processo que fazia este disparo parou antes do fim. Os envios já feitos foram "
    "registrados; os que não começaram voltam para a fila."
)
ROTULOS_STATUS = {
    StatusDisparoManual.EM_ANDAMENTO.value: "Em andamento",
    StatusDisparoManual.CONCLUIDO.value: "Concluído",
    StatusDisparoManual.CANCELADO.value: "Cancelado",
    StatusDisparoManual.FALHOU.value: "Falhou",
}


def disparo_publico(linha: WhatsappDisparoManual) -> dict[str, Any]:
    publico = ComDerivados(linha, resumo={**ResumoDespacho().publico(), **(linha.resumo or {})})
    return DisparoManualPublico.model_validate(publico).model_dump(mode="json")


def obter_disparo(*, sessao: Session, id_empresa: str, id_disparo: str) -> WhatsappDisparoManual:
    linha = sessao.exec(
        select(WhatsappDisparoManual)
        .where(
            WhatsappDisparoManual.id == id_disparo, WhatsappDisparoManual.id_empresa == id_empresa
        )
        .execution_options(populate_existing=True)
    ).first()
    if linha is None:
        raise NaoEncontrado("Disparo não encontrado.")
    return linha


def pagina_disparos(
    *,
    sessao: Session,
    id_empresa: str,
    limite: int = paginacao.LIMITE_PADRAO,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The company's manual dispatches, newest first."""
    encerrar_abandonados(sessao=sessao, id_empresa=id_empresa)
    return paginacao.paginar(
        sessao,
        select(WhatsappDisparoManual).where(WhatsappDisparoManual.id_empresa == id_empresa),
        colunas=[col(WhatsappDisparoManual.iniciado_em), col(WhatsappDisparoManual.id)],
        decrescente=True,
        limite=limite,
        cursor=cursor,
        publico=disparo_publico,
    )


def iniciar_disparo(
    *,
    sessao: Session,
    id_empresa: str,
    id_usuario: str | None,
    nome_usuario: str | None,
    id_whatsapp_instancia: str | None = None,
) -> WhatsappDisparoManual:
    """The history row of a run about to start (EM_ANDAMENTO, summary at zero)."""
    if id_whatsapp_instancia is not None:
        instancia = sessao.get(WhatsappInstancia, id_whatsapp_instancia)
        if instancia is None or instancia.id_empresa != id_empresa:
            raise NaoEncontrado("Instância não encontrada.")
    linha = WhatsappDisparoManual(
        id_empresa=id_empresa,
        id_usuario=id_usuario,
        nome_usuario=nome_usuario,
        id_whatsapp_instancia=id_whatsapp_instancia,
        status=StatusDisparoManual.EM_ANDAMENTO.value,
        resumo=ResumoDespacho().publico(),
        iniciado_em=agora(),
        batimento_em=agora(),
    )
    sessao.add(linha)
    sessao.flush()
    return linha


def solicitar_cancelamento(*, sessao: Session, id_empresa: str, id_disparo: str) -> dict[str, Any]:
    """Ask a running dispatch to stop (whatever process runs it); asking twice is harmless."""
    encerrar_abandonados(sessao=sessao, id_empresa=id_empresa)
    d = _disparo
    sessao.execute(
        sa.update(d)
        .where(
            d.c.id == id_disparo,
            d.c.id_empresa == id_empresa,
            d.c.status == StatusDisparoManual.EM_ANDAMENTO.value,
            d.c.cancelamento_solicitado_em.is_(None),  # the first request's time is kept
        )
        .values(cancelamento_solicitado_em=agora())
    )
    linha = obter_disparo(sessao=sessao, id_empresa=id_empresa, id_disparo=id_disparo)
    if linha.status != StatusDisparoManual.EM_ANDAMENTO.value:
        rotulo = ROTULOS_STATUS.get(linha.status, linha.status).lower()
        raise Conflito(f"Este disparo já terminou ({rotulo}): não há o que cancelar.")
    # This process's run (if it is here) stops at the commit, without waiting for a heartbeat.
    sa.event.listen(sessao, "after_commit", lambda _s: _avisar_cancelamento(id_disparo), once=True)
    _log.info("cancelamento de disparo solicitado", extra={"id_disparo": id_disparo})
    return disparo_publico(linha)


def encerrar_abandonados(*, sessao: Session, id_empresa: str) -> int:
    """Close as FALHOU the company's runs whose process went silent (it died mid-run: its
    claims are the reaper's, the row would otherwise read "em andamento" forever)."""
    d = _disparo
    momento = agora()
    calado = sa.func.coalesce(d.c.batimento_em, d.c.iniciado_em) < momento - timedelta(
        seconds=configuracoes().batimento_prazo_s
    )
    resultado = sessao.execute(
        sa.update(d)
        .where(
            d.c.id_empresa == id_empresa,
            d.c.status == StatusDisparoManual.EM_ANDAMENTO.value,
            calado,
        )
        .values(
            status=StatusDisparoManual.FALHOU.value,
            motivo_falha=MOTIVO_ABANDONADO,
            concluido_em=momento,
        )
    )
    return int(resultado.rowcount or 0)  # type: ignore[attr-defined]


class _Acompanhamento:
    """A run's link to its row. The dispatcher's ``deve_parar`` (asked between sends, from
    every send thread) only reads ``cancelado``; ``sincronizar`` (the run's heartbeat thread)
    writes the summary so far with the heartbeat and reads the cancel mark, in one statement."""

    def __init__(self, id_disparo: str, *, cancelado: bool) -> None:
        self.id = id_disparo
        self.resumo = ResumoDespacho()  # every round adds to it
        self.cancelado = threading.Event()
        if cancelado:
            self.cancelado.set()

    def __call__(self) -> bool:
        return self.cancelado.is_set()

    def sincronizar(self) -> None:
        d = _disparo
        with db.sessao() as sessao:
            pedido = sessao.execute(
                sa.update(d)
                .where(d.c.id == self.id, d.c.status == StatusDisparoManual.EM_ANDAMENTO.value)
                .values(resumo=self.resumo.publico(), batimento_em=agora())
                .returning(d.c.cancelamento_solicitado_em)
            ).scalar_one_or_none()
        if pedido is not None:
            self.cancelado.set()


_trava_locais = threading.Lock()
_locais: dict[str, _Acompanhamento] = {}  # the runs going on in this process


def _avisar_cancelamento(id_disparo: str) -> None:
    with _trava_locais:
        acompanhamento = _locais.get(id_disparo)
    if acompanhamento is not None:
        acompanhamento.cancelado.set()


def _ultimo_erro(id_empresa: str, desde: Any) -> str:
    """The provider's last word on this company's sends since ``desde``, in pt-BR."""
    t = WhatsappAutomacaoAgendamento
    with db.sessao() as sessao:
        erro = sessao.exec(
            select(t.ultimo_erro)
            .where(
                t.id_empresa == id_empresa,
                col(t.atualizado_em) >= desde,
                col(t.ultimo_erro).is_not(None),
            )
            .order_by(col(t.atualizado_em).desc())
            .limit(1)
        ).first()
    return erro_legivel(erro)


def motivo_sem_envios(resumo: dict[str, int], erro_provedor: str) -> str | None:
    """A run that claimed sends and got none out failed (e.g. the provider is down)."""
    tentativas = resumo["failed"] + resumo["retried"] + resumo["uncertain"]
    if resumo["sent"] > 0 or tentativas == 0:
        return None
    detalhe = f" Último erro: {erro_provedor.rstrip('.')}." if erro_provedor else ""
    return (
        "Nenhum envio saiu: o provedor recusou ou não respondeu"
        f" ({tentativas} {'tentativa' if tentativas == 1 else 'tentativas'}).{detalhe}"
        " Confira a conexão da instância e tente de novo."
    )


def _rodadas(
    id_empresa: str,
    id_instancia: str | None,
    fabrica_provedor: FabricaProvedor | None,
    acompanhamento: _Acompanhamento,
) -> None:
    """Dispatcher rounds until a round finishes nothing (nothing due is left, or every claim
    was given back: window closed, shutting down) or a cancel came."""
    for _ in range(MAX_RODADAS):
        antes = acompanhamento.resumo.publico()
        depois = processar_agendamentos_follow_up_whatsapp(
            id_empresa=id_empresa,
            id_whatsapp_instancia=id_instancia,
            fabrica_provedor=fabrica_provedor,
            deve_parar=acompanhamento,
            resumo=acompanhamento.resumo,
        )
        concluidos = sum(depois[c] - antes[c] for c in DESFECHOS)
        if acompanhamento() or concluidos == 0:
            return


def executar_disparo(
    *,
    id_empresa: str,
    id_disparo: str,
    fabrica_provedor: FabricaProvedor | None = None,
) -> dict[str, Any]:
    """Run a started dispatch to its end; returns its public row (final status and summary)."""
    with db.sessao() as sessao:
        linha = obter_disparo(sessao=sessao, id_empresa=id_empresa, id_disparo=id_disparo)
        id_instancia, iniciado_em = linha.id_whatsapp_instancia, linha.iniciado_em
        acompanhamento = _Acompanhamento(
            id_disparo, cancelado=linha.cancelamento_solicitado_em is not None
        )
    motivo: str | None = None
    with _trava_locais:
        _locais[id_disparo] = acompanhamento
    try:
        with Batimento(
            acompanhamento.sincronizar,
            nome="batimento-disparo",
            extra={"id_disparo": id_disparo},
            intervalo=min(INTERVALO_ACOMPANHAMENTO_S, configuracoes().batimento_intervalo_s),
        ):
            _rodadas(id_empresa, id_instancia, fabrica_provedor, acompanhamento)
        motivo = motivo_sem_envios(
            acompanhamento.resumo.publico(), _ultimo_erro(id_empresa, iniciado_em)
        )
    except Exception:
        referencia = uuid.uuid4().hex[:12]
        _log.exception(
            "falha no disparo manual", extra={"id_disparo": id_disparo, "referencia": referencia}
        )
        motivo = (
            f"O disparo parou por um erro inesperado (referência {referencia}). Os envios já "
            "feitos foram registrados; tente de novo."
        )
    finally:
        with _trava_locais:
            _locais.pop(id_disparo, None)
    return _encerrar(id_empresa, id_disparo, acompanhamento.resumo.publico(), motivo)


def _encerrar(
    id_empresa: str, id_disparo: str, resumo: dict[str, int], motivo: str | None
) -> dict[str, Any]:
    """The final status in one conditional write: a cancel requested at any point wins."""
    d = _disparo
    pedido = d.c.cancelamento_solicitado_em.is_not(None)
    final = StatusDisparoManual.FALHOU.value if motivo else StatusDisparoManual.CONCLUIDO.value
    with db.sessao() as sessao:
        sessao.execute(
            sa.update(d)
            .where(d.c.id == id_disparo, d.c.status == StatusDisparoManual.EM_ANDAMENTO.value)
            .values(
                status=sa.case((pedido, StatusDisparoManual.CANCELADO.value), else_=final),
                motivo_falha=sa.case((pedido, None), else_=motivo),
                resumo=resumo,
                concluido_em=agora(),
            )
        )
        linha = obter_disparo(sessao=sessao, id_empresa=id_empresa, id_disparo=id_disparo)
        _log.info(
            "disparo manual encerrado",
            extra={"id_disparo": id_disparo, "status": linha.status, **resumo},
        )
        return disparo_publico(linha)


def disparar(
    *,
    id_empresa: str,
    id_usuario: str | None,
    nome_usuario: str | None,
    id_whatsapp_instancia: str | None = None,
    fabrica_provedor: FabricaProvedor | None = None,
) -> dict[str, Any]:
    """Start a manual dispatch and run it to its end (the REST route's whole work)."""
    with db.sessao() as sessao:
        id_disparo = iniciar_disparo(
            sessao=sessao,
            id_empresa=id_empresa,
            id_usuario=id_usuario,
            nome_usuario=nome_usuario,
            id_whatsapp_instancia=id_whatsapp_instancia,
        ).id
    return executar_disparo(
        id_empresa=id_empresa, id_disparo=id_disparo, fabrica_provedor=fabrica_provedor
    )
