"""Connectivity: each instance's WhatsApp state, as the UI's status cards show it.

Three sources write ``WhatsappInstancia.status`` (``conectado`` | ``desconectado`` |
``conectando``) and ``ultima_sincronizacao``:

- operator actions (connect, restart, logout) and provider webhooks (``connection.update``)
  are authoritative: ``gravar_estado`` writes them at once and discards any pending candidate;
- the poller (``atualizar_conectividade``, run by the scheduler every
  ``CONECTIVIDADE_INTERVALO_S``) asks each active instance's adapter, and is debounced.

The debounce rule: a polled state that differs from the stored ``status`` becomes the
*candidate*. It is written only once the same candidate has been observed
``CONECTIVIDADE_CONFIRMACOES`` consecutive times **and** its first observation is at least
``CONECTIVIDADE_ESTABILIDADE_S`` seconds old. Observing the stored state again drops the
candidate (a flap never reaches the UI); observing a third state restarts the count. The
seconds part holds when several processes poll at once (each observation counts, time does
not speed up). A provider error counts as observing ``desconectado`` (an instance we cannot
reach cannot send) and is kept in ``erro_conexao``; only a successful answer moves
``ultima_sincronizacao``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session, col, select

from whatsapp_app import db
from whatsapp_app.config import configuracoes
from whatsapp_app.logs import logger
from whatsapp_app.models import WhatsappInstancia
from whatsapp_app.providers.base import EstadoConexao, StatusConexao
from whatsapp_app.providers.comum import ErroProvedor
from whatsapp_app.tempo import agora

_log = logger("conectividade")

MAX_CONSULTAS_SIMULTANEAS = 8  # provider calls in flight per polling round
ERRO_INESPERADO = "Falha inesperada ao consultar o provedor."


class ComEstado(Protocol):
    """All the poller asks of an adapter."""

    def estado_conexao(self) -> EstadoConexao: ...


FabricaEstado = Callable[[WhatsappInstancia], ComEstado]


def _fabrica_padrao(instancia: WhatsappInstancia) -> ComEstado:
    from whatsapp_app.providers.fabrica import provedor_para

    return provedor_para(instancia)


def travar_instancia(sessao: Session, id_instancia: str) -> WhatsappInstancia | None:
    """The active instance row, locked for this transaction (``db.travada``;
    SQLite already holds the database write lock)."""
    return sessao.exec(
        db.travada(
            select(WhatsappInstancia).where(
                WhatsappInstancia.id == id_instancia, col(WhatsappInstancia.excluida_em).is_(None)
            )
        )
    ).first()


def _limpar_candidato(instancia: WhatsappInstancia) -> None:
    instancia.status_candidato = None
    instancia.status_candidato_desde = None
    instancia.status_candidato_vezes = 0


def gravar_estado(
    sessao: Session,
    id_instancia: str,
    status: StatusConexao | str,
    *,
    momento: datetime | None = None,
    origem: str,
) -> bool:
    """Write an authoritative state now (operator action or webhook). False when the instance
    is gone (deleted)."""
    instancia = travar_instancia(sessao, id_instancia)
    if instancia is None:
        return False
    novo = StatusConexao(status).value
    anterior = instancia.status
    instancia.status = novo
    instancia.ultima_sincronizacao = momento or agora()
    instancia.erro_conexao = None
    _limpar_candidato(instancia)
    sessao.add(instancia)
    sessao.flush()
    if anterior != novo:
        _log.info(
            "conexão alterada",
            extra={"id_instancia": id_instancia, "de": anterior, "para": novo, "origem": origem},
        )
    return True


@dataclass(frozen=True)
class Observacao:
    """One poll of one instance: the state seen, or the provider's error (pt-BR)."""

    status: StatusConexao
    erro: str | None = None


def observar_estado(id_instancia: str, observacao: Observacao, *, momento: datetime) -> str | None:
    """Apply one poll through the debounce; returns the new status when it was written."""
    cfg = configuracoes()
    estabilidade = timedelta(seconds=cfg.conectividade_estabilidade_s)
    with db.sessao() as sessao:
        instancia = travar_instancia(sessao, id_instancia)
        if instancia is None:
            return None
        if observacao.erro is None:
            instancia.ultima_sincronizacao = momento
        elif observacao.erro != instancia.erro_conexao:
            _log.warning(
                "provedor não respondeu ao estado da conexão",
                extra={"id_instancia": id_instancia, "erro": observacao.erro},
            )
        instancia.erro_conexao = observacao.erro
        visto = observacao.status.value
        escrito: str | None = None
        if visto == instancia.status:
            _limpar_candidato(instancia)
        else:
            if instancia.status_candidato == visto and instancia.status_candidato_desde:
                instancia.status_candidato_vezes += 1
            else:
                instancia.status_candidato = visto
                instancia.status_candidato_desde = momento
                instancia.status_candidato_vezes = 1
            desde = instancia.status_candidato_desde or momento
            if (
                instancia.status_candidato_vezes >= cfg.conectividade_confirmacoes
                and momento - desde >= estabilidade
            ):
                _log.info(
                    "conexão alterada",
                    extra={
                        "id_instancia": id_instancia,
                        "de": instancia.status,
                        "para": visto,
                        "origem": "verificacao",
                        "observacoes": instancia.status_candidato_vezes,
                    },
                )
                instancia.status = escrito = visto
                _limpar_candidato(instancia)
        sessao.add(instancia)
    return escrito


def consultar_estado(instancia: WhatsappInstancia, fabrica: FabricaEstado) -> Observacao:
    """Ask the provider; every failure becomes an observation of ``desconectado``."""
    try:
        estado: EstadoConexao = fabrica(instancia).estado_conexao()
        return Observacao(estado.status)
    except ErroProvedor as exc:
        return Observacao(StatusConexao.DESCONECTADO, erro=exc.mensagem)
    except ValueError as exc:  # incomplete or unreadable config (messages carry no secrets)
        return Observacao(StatusConexao.DESCONECTADO, erro=str(exc))
    except Exception:
        _log.exception(
            "falha inesperada ao consultar conexão", extra={"id_instancia": instancia.id}
        )
        return Observacao(StatusConexao.DESCONECTADO, erro=ERRO_INESPERADO)


def atualizar_conectividade(
    *, fabrica: FabricaEstado | None = None, id_empresa: str | None = None
) -> dict[str, int]:
    """One polling round over every active (not deleted) instance; the scheduler's job.

    Also applies delivery webhooks parked until their job had a provider message id.
    Returns ``{"verificadas", "alteradas", "erros", "eventos_aplicados"}``.
    """
    from whatsapp_app.webhooks import aplicar_eventos_pendentes

    fabrica = fabrica or _fabrica_padrao
    with db.sessao() as sessao:
        consulta = select(WhatsappInstancia).where(col(WhatsappInstancia.excluida_em).is_(None))
        if id_empresa is not None:
            consulta = consulta.where(WhatsappInstancia.id_empresa == id_empresa)
        instancias = list(sessao.exec(consulta).all())
    resumo = {"verificadas": 0, "alteradas": 0, "erros": 0, "eventos_aplicados": 0}
    if not instancias:
        return resumo

    def _uma(instancia: WhatsappInstancia) -> tuple[Observacao, str | None, int]:
        observacao = consultar_estado(instancia, fabrica)
        escrito = observar_estado(instancia.id, observacao, momento=agora())
        aplicados = aplicar_eventos_pendentes(instancia.id) if instancia.eventos_pendentes else 0
        return observacao, escrito, aplicados

    with ThreadPoolExecutor(max_workers=min(MAX_CONSULTAS_SIMULTANEAS, len(instancias))) as pool:
        for observacao, escrito, aplicados in pool.map(_uma, instancias):
            resumo["verificadas"] += 1
            resumo["alteradas"] += escrito is not None
            resumo["erros"] += observacao.erro is not None
            resumo["eventos_aplicados"] += aplicados
    return resumo
