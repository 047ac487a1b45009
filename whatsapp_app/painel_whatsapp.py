"""Queries of the ``/whatsapp`` page (the instances' cards, the flow list's counts, the
builder's "same stage" warning) and the flow list's "Cancelar envios pendentes".

Each function is one grouped query for the whole company (never one query per instance or per
automation), so the page's live poller costs the same whatever the number of instances. Values
are raw (numbers, ISO instants, ids): the page formats them for display.
"""

from __future__ import annotations

from typing import TypedDict, cast

import sqlalchemy as sa
from sqlmodel import Session

from whatsapp_app import cadastro_automacoes, instancias, mensagens
from whatsapp_app import whatsapp_automations as automacoes
from whatsapp_app.logs import logger
from whatsapp_app.models import (
    DirecaoMensagem,
    StatusAgendamento,
    WhatsappAutomacao,
    WhatsappAutomacaoAgendamento,
    WhatsappMensagem,
)
from whatsapp_app.tempo import agora
from whatsapp_app.whatsapp_automations import AGUARDANDO

JANELA_24H = instancias.JANELA_FILA
_log = logger("painel_whatsapp")
_contar = instancias.contar_se

_agendamento = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]
_automacao = WhatsappAutomacao.__table__  # type: ignore[attr-defined]
_mensagem = WhatsappMensagem.__table__  # type: ignore[attr-defined]


class FilaInstancia(TypedDict):
    pendentes: int
    processando: int
    enviados_24h: int
    erros_24h: int
    incertos: int
    vencidos: int  # PENDENTE whose time has come (due now)
    aguardando: int  # PENDENTE + PAUSADO: what deleting the instance cancels


class CartaoInstancia(FilaInstancia):
    id: str
    nome: str
    provider: str
    status: str
    ultima_sincronizacao: str  # ISO instant, "" when never synchronised
    erro_conexao: str
    respostas_24h: int


class ContagemAutomacao(TypedDict):
    pendentes: int  # PENDENTE + PAUSADO: what "Cancelar envios pendentes" cancels
    enviados_24h: int
    erros_24h: int  # ERRO and INCERTO of the last 24 h
    respostas_24h: int  # leads that replied after one of its messages (24 h)


FILA_VAZIA: FilaInstancia = {
    "pendentes": 0,
    "processando": 0,
    "enviados_24h": 0,
    "erros_24h": 0,
    "incertos": 0,
    "vencidos": 0,
    "aguardando": 0,
}
CONTAGEM_VAZIA: ContagemAutomacao = {
    "pendentes": 0,
    "enviados_24h": 0,
    "erros_24h": 0,
    "respostas_24h": 0,
}


def filas_por_instancia(sessao: Session, *, id_empresa: str) -> dict[str, FilaInstancia]:
    """Queue stats of every instance of the company, in one grouped query."""
    t, a = _agendamento, _automacao
    colunas = {
        **instancias.colunas_da_fila(agora()),
        "aguardando": _contar(t.c.status.in_(AGUARDANDO)),
    }
    linhas = sessao.execute(
        sa.select(a.c.id_whatsapp_instancia, *colunas.values())
        .select_from(t.join(a, a.c.id == t.c.id_whatsapp_automacao))
        .where(t.c.id_empresa == id_empresa, a.c.id_empresa == id_empresa)
        .group_by(a.c.id_whatsapp_instancia)
    ).all()
    return {
        str(id_instancia): cast(
            FilaInstancia, {nome: int(v) for nome, v in zip(colunas, valores, strict=True)}
        )
        for id_instancia, *valores in linhas
    }


def cartoes_das_instancias(sessao: Session, *, id_empresa: str) -> list[CartaoInstancia]:
    """The instances' cards: three queries for the whole company (instances, queue, replies)."""
    filas = filas_por_instancia(sessao, id_empresa=id_empresa)
    respostas = mensagens.respostas_24h_por_instancia(sessao, id_empresa=id_empresa)
    cartoes: list[CartaoInstancia] = []
    for instancia in instancias.listar_instancias(sessao=sessao, id_empresa=id_empresa):
        publica = instancias.instancia_publica(instancia)
        cartoes.append(
            {
                "id": publica["id"],
                "nome": publica["nome"],
                "provider": publica["provider"],
                "status": publica["status"],
                "ultima_sincronizacao": publica["ultima_sincronizacao"] or "",
                "erro_conexao": publica.get("erro_conexao") or "",
                "respostas_24h": respostas.get(instancia.id, 0),
                **filas.get(instancia.id, FILA_VAZIA),
            }
        )
    return cartoes


def contagens_por_automacao(sessao: Session, *, id_empresa: str) -> dict[str, ContagemAutomacao]:
    """Per automation: waiting jobs, sent / failed in 24 h and leads that replied after one of
    its messages in 24 h, in one grouped query."""
    t, m = _agendamento, _mensagem
    desde = agora() - JANELA_24H
    respondeu = sa.exists().where(
        m.c.id_empresa == t.c.id_empresa,
        m.c.id_lead == t.c.id_lead,
        m.c.direcao == DirecaoMensagem.ENTRADA.value,
        m.c.momento >= t.c.enviado_em,
        m.c.momento >= desde,
    )
    enviado = t.c.status == StatusAgendamento.ENVIADO.value
    linhas = sessao.execute(
        sa.select(
            t.c.id_whatsapp_automacao,
            _contar(t.c.status.in_(AGUARDANDO)),
            _contar(enviado, t.c.enviado_em >= desde),
            _contar(
                t.c.status.in_([StatusAgendamento.ERRO.value, StatusAgendamento.INCERTO.value]),
                t.c.atualizado_em >= desde,
            ),
            sa.func.count(sa.distinct(sa.case((sa.and_(enviado, respondeu), t.c.id_lead)))),
        )
        .where(t.c.id_empresa == id_empresa)
        .group_by(t.c.id_whatsapp_automacao)
    ).all()
    return {
        str(id_automacao): {
            "pendentes": int(pend),
            "enviados_24h": int(env),
            "erros_24h": int(err),
            "respostas_24h": int(resp),
        }
        for id_automacao, pend, env, err, resp in linhas
    }


def aguardando_da_automacao(sessao: Session, *, id_empresa: str, id_automacao: str) -> int:
    """Jobs that deleting (or "Cancelar envios pendentes" on) this automation cancels."""
    t = _agendamento
    return int(
        sessao.execute(
            sa.select(sa.func.count()).where(
                t.c.id_empresa == id_empresa,
                t.c.id_whatsapp_automacao == id_automacao,
                t.c.status.in_(AGUARDANDO),
            )
        ).scalar_one()
    )


def aguardando_da_instancia(sessao: Session, *, id_empresa: str, id_instancia: str) -> int:
    """Jobs that deleting this instance cancels (those of every automation sending through it)."""
    t, a = _agendamento, _automacao
    return int(
        sessao.execute(
            sa.select(sa.func.count())
            .select_from(t.join(a, a.c.id == t.c.id_whatsapp_automacao))
            .where(
                t.c.id_empresa == id_empresa,
                a.c.id_empresa == id_empresa,
                a.c.id_whatsapp_instancia == id_instancia,
                t.c.status.in_(AGUARDANDO),
            )
        ).scalar_one()
    )


def concorrentes_no_estagio(
    sessao: Session,
    *,
    id_empresa: str,
    id_estagio: str,
    id_instancia: str,
    exceto: str = "",
) -> list[str]:
    """Names of the other ACTIVE automations that fire on this stage through this instance (a
    lead entering it would get both sequences)."""
    a = _automacao
    condicoes = [
        a.c.id_empresa == id_empresa,
        a.c.id_estagio_trigger == id_estagio,
        a.c.id_whatsapp_instancia == id_instancia,
        a.c.ativo.is_(True),
        a.c.excluida_em.is_(None),
    ]
    if exceto:
        condicoes.append(a.c.id != exceto)
    return [
        str(nome)
        for (nome,) in sessao.execute(sa.select(a.c.nome).where(*condicoes).order_by(a.c.nome))
    ]


# --- the flow's own action -------------------------------------------------------------------

MOTIVO_CANCELADO_NA_LISTA = "cancelado_pelo_operador"


def cancelar_envios_pendentes(sessao: Session, *, id_empresa: str, id_automacao: str) -> int:
    """The "Cancelar envios pendentes" action: cancel the automation's waiting jobs (PENDENTE,
    PAUSADO) and keep the automation as it is. Another company's automation: 404."""
    automacao = cadastro_automacoes.obter_automacao(
        sessao=sessao, id_empresa=id_empresa, id_automacao=id_automacao
    )
    cancelados = automacoes.cancelar_pendentes_da_automacao(
        sessao=sessao,
        id_empresa=id_empresa,
        id_whatsapp_automacao=automacao.id,
        motivo=MOTIVO_CANCELADO_NA_LISTA,
    )
    sessao.flush()
    _log.info(
        "envios pendentes cancelados",
        extra={"id_automacao": automacao.id, "id_empresa": id_empresa, "cancelados": cancelados},
    )
    return cancelados
