"""Manual dispatches ("Disparar agora"): a history row per run, rounds until nothing is due.

``disparar`` records who asked and when, then runs the one dispatcher
(``processar_agendamentos_follow_up_whatsapp``) round after round for the company until no
due job is left, adding each round's summary to the row as it goes (so any process, and the
page, can follow it). ``solicitar_cancelamento`` only marks the row: the run sees the mark
between sends, claims nothing more, gives back the claims whose send has not started and lets
the sends already started finish. The REST routes and the page call these functions.
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
from whatsapp_app.esquemas import ComDerivados, DisparoManualPublico, ResumoDespachoPublico
from whatsapp_app.fila import erro_legivel
from whatsapp_app.logs import logger
from whatsapp_app.models import (
    StatusDisparoManual,
    WhatsappAutomacaoAgendamento,
    WhatsappDisparoManual,
    WhatsappInstancia,
)
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import Conflito, NaoEncontrado
from whatsapp_app.whatsapp_automations import (
    Batimento,
    FabricaProvedor,
    ResumoDespacho,
    processar_agendamentos_follow_up_whatsapp,
)

_log = logger("disparos")
_disparo = WhatsappDisparoManual.__table__  # type: ignore[attr-defined]

CAMPOS_RESUMO = tuple(ResumoDespachoPublico.model_fields)
# The outcomes a claim can end in (a claim given back untouched ends in none of them).
DESFECHOS = ("sent", "failed", "retried", "uncertain", "cancelled")
MAX_RODADAS = 1000  # a ceiling, never reached in practice: retries wait for their backoff
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


def resumo_zerado() -> dict[str, int]:
    return dict.fromkeys(CAMPOS_RESUMO, 0)


def somar(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {campo: int(a.get(campo, 0)) + int(b.get(campo, 0)) for campo in CAMPOS_RESUMO}


def disparo_publico(linha: WhatsappDisparoManual) -> dict[str, Any]:
    publico = ComDerivados(linha, resumo=somar(resumo_zerado(), linha.resumo or {}))
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
        resumo=resumo_zerado(),
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


def _bater(id_disparo: str) -> None:
    """Refresh the run's heartbeat (a run that died goes silent: ``encerrar_abandonados``)."""
    d = _disparo
    with db.sessao() as sessao:
        sessao.execute(sa.update(d).where(d.c.id == id_disparo).values(batimento_em=agora()))


class _Acompanhamento:
    """The ``deve_parar`` a run hands the dispatcher: called between sends (from its threads),
    it writes the summary so far to the row when it changed and reads the cancel mark."""

    def __init__(self, id_disparo: str, anterior: dict[str, int], rodada: ResumoDespacho) -> None:
        self._id = id_disparo
        self._anterior = anterior
        self._rodada = rodada
        self._trava = threading.Lock()
        self._gravado: dict[str, int] | None = None
        self.cancelado = False

    def __call__(self) -> bool:
        with self._trava:
            if self.cancelado:
                return True
            atual = somar(self._anterior, self._rodada.publico())
            self.cancelado = _gravar_progresso(self._id, atual if atual != self._gravado else None)
            self._gravado = atual
            return self.cancelado


def _gravar_progresso(id_disparo: str, resumo: dict[str, int] | None) -> bool:
    """Store the summary so far (when given); True when a cancel was requested."""
    d = _disparo
    with db.sessao() as sessao:
        if resumo is not None:
            sessao.execute(
                sa.update(d)
                .where(d.c.id == id_disparo, d.c.status == StatusDisparoManual.EM_ANDAMENTO.value)
                .values(resumo=resumo)
            )
        pedido = sessao.execute(
            sa.select(d.c.cancelamento_solicitado_em).where(d.c.id == id_disparo)
        ).scalar_one_or_none()
    return pedido is not None


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
    id_disparo: str,
    id_instancia: str | None,
    fabrica_provedor: FabricaProvedor | None,
    total: dict[str, int],
) -> None:
    """Dispatcher rounds until nothing due is left or a cancel came; ``total`` sums them."""
    for _ in range(MAX_RODADAS):
        rodada = ResumoDespacho()
        acompanhamento = _Acompanhamento(id_disparo, dict(total), rodada)
        resultado = processar_agendamentos_follow_up_whatsapp(
            id_empresa=id_empresa,
            id_whatsapp_instancia=id_instancia,
            fabrica_provedor=fabrica_provedor,
            deve_parar=acompanhamento,
            resumo=rodada,
        )
        total.update(somar(total, resultado))
        _gravar_progresso(id_disparo, total)
        terminou = resultado["claimed"] == 0
        # Every claim given back (window closed, shutting down): nothing moves, stop.
        parado = resultado["claimed"] > 0 and not any(resultado[c] for c in DESFECHOS)
        if acompanhamento.cancelado or terminou or parado:
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
    total = resumo_zerado()
    motivo: str | None = None
    try:
        with Batimento(
            lambda: _bater(id_disparo), nome="batimento-disparo", extra={"id_disparo": id_disparo}
        ):
            _rodadas(id_empresa, id_disparo, id_instancia, fabrica_provedor, total)
        motivo = motivo_sem_envios(total, _ultimo_erro(id_empresa, iniciado_em))
    except Exception:
        referencia = uuid.uuid4().hex[:12]
        _log.exception(
            "falha no disparo manual", extra={"id_disparo": id_disparo, "referencia": referencia}
        )
        motivo = (
            f"O disparo parou por um erro inesperado (referência {referencia}). Os envios já "
            "feitos foram registrados; tente de novo."
        )
    return _encerrar(id_empresa, id_disparo, total, motivo)


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
