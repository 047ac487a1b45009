"""The send queue as people read it: a page of jobs turned into display rows, and one pt-BR
mapping for provider errors.

``linhas_da_fila`` takes the ``itens`` of ``cadastro_automacoes.pagina_agendamentos`` and adds,
in three queries whatever the page size, what a row shows: the lead, the step, the rendered
message (the text that went out, for a sent job), automation, stage and instance names and the
delivery status. Times stay ISO instants; the screen formats them in the company's time zone.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlmodel import Session, col

from whatsapp_app import paginacao
from whatsapp_app.envio import substituir_variaveis, valores_variaveis
from whatsapp_app.models import (
    DirecaoMensagem,
    Empresa,
    Estagio,
    Lead,
    StatusAgendamento,
    WhatsappAutomacao,
    WhatsappAutomacaoAgendamento,
    WhatsappAutomacaoEtapa,
    WhatsappInstancia,
    WhatsappMensagem,
)
from whatsapp_app.validacoes import formatar_telefone


class LinhaFila(TypedDict):
    id: str
    status: str
    id_lead: str
    nome_lead: str
    telefone: str  # as people read it: +55 11 98765-4321
    ordem_etapa: int
    nome_automacao: str
    nome_estagio: str
    nome_instancia: str
    mensagem: str
    agendado_para: str  # ISO instant
    enviado_em: str  # ISO instant or ""
    tentativas: int
    status_entrega: str  # enviado | entregue | lido | falhou | ""
    erro: str  # pt-BR, never an exception class name; "" when none
    motivo_cancelamento: str  # pt-BR; "" unless CANCELADO


# --- errors in pt-BR --------------------------------------------------------------------------

MOTIVOS_CANCELAMENTO = {
    "lead_respondeu": "O lead respondeu.",
    "lead_optout": "O lead pediu para sair.",
    "lead_saiu_do_estagio": "O lead saiu do estágio antes do envio.",
    "automacao_desativada": "A automação foi desativada.",
    "automacao_excluida": "A automação foi excluída.",
    "etapa_removida": "A etapa foi removida da automação.",
    "instancia_excluida": "A instância de WhatsApp foi excluída.",
    "cancelado_pelo_operador": "Cancelado por um operador.",
    "vencido_durante_pausa": "Venceu enquanto a automação estava pausada.",
    "duplicata_migracao": "Envio duplicado, descartado na migração.",
}

# Raw texts a provider or a library may leave behind, in English, → what they mean here.
_TRADUCOES = (
    (re.compile(r"timed? ?out|timeout", re.I), "O provedor demorou demais para responder."),
    (
        re.compile(r"connection (refused|reset|closed|aborted)", re.I),
        "A conexão com o provedor caiu.",
    ),
    (re.compile(r"server disconnected|remote ?protocol", re.I), "A conexão com o provedor caiu."),
    (
        re.compile(r"name or service not known|getaddrinfo|dns", re.I),
        "Endereço do provedor não encontrado.",
    ),
    (re.compile(r"too many requests|rate limit", re.I), "Limite de envios do provedor atingido."),
    (
        re.compile(r"unauthori[sz]ed|forbidden|invalid token", re.I),
        "Credenciais do provedor recusadas.",
    ),
    (re.compile(r"internal server error", re.I), "Erro interno no provedor."),
    (re.compile(r"connection closed", re.I), "Instância desconectada do WhatsApp."),
)
# "(RemoteProtocolError)", "(httpx.ReadTimeout)", "ConnectError:" — class names, never shown.
_NOME_EXCECAO = r"(?:[a-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Timeout|Exc|Warning)\w*"
_PARENTESES_EXCECAO = re.compile(rf"\s*\(\s*{_NOME_EXCECAO}(?::[^)]*)?\s*\)")
_EXCECAO_SOLTA = re.compile(rf"\b{_NOME_EXCECAO}\b:?\s*")
_TRACEBACK = re.compile(r"Traceback \(most recent call last\).*", re.S)
ERRO_GENERICO = "Falha no envio. Confira a instância e tente novamente."


def erro_legivel(texto: str | None) -> str:
    """A stored error (``ultimo_erro``, ``erro_entrega``) as an operator reads it, in pt-BR.

    Our own messages are already pt-BR and pass through, minus any exception class name a
    provider adapter appended; raw English text from a library is translated; anything left
    that carries no word is replaced by a generic sentence.
    """
    if not texto or not texto.strip():
        return ""
    limpo = _TRACEBACK.sub("", texto)
    tinha_excecao = bool(_PARENTESES_EXCECAO.search(limpo) or _EXCECAO_SOLTA.search(limpo))
    limpo = _PARENTESES_EXCECAO.sub("", limpo)
    limpo = _EXCECAO_SOLTA.sub("", limpo).strip(" :;-")
    if _parece_ingles(limpo) or (tinha_excecao and not limpo):
        for padrao, traducao in _TRADUCOES:
            if padrao.search(texto):
                return traducao
        return ERRO_GENERICO if not limpo or _parece_ingles(limpo) else limpo
    return limpo or ERRO_GENERICO


_PALAVRAS_PT = re.compile(
    r"[áéíóúâêôãõç]|\b(não|nao|sem|de|do|da|no|na|para|com|foi|provedor|mensagem|envio|"
    r"tente|confirme|fora|janela|limite|resposta|erro|falha)\b",
    re.I,
)
_PALAVRAS_EN = re.compile(
    r"\b(the|is|not|was|failed|error|refused|request|invalid|server|connection|unknown|"
    r"with|status|could|cannot|unable|from|timed|reset|closed)\b",
    re.I,
)


def _parece_ingles(texto: str) -> bool:
    return bool(_PALAVRAS_EN.search(texto)) and not _PALAVRAS_PT.search(texto)


def motivo_legivel(codigo: str | None) -> str:
    if not codigo:
        return ""
    return MOTIVOS_CANCELAMENTO.get(codigo, "Cancelado.")


# --- rows -------------------------------------------------------------------------------------


def linhas_da_fila(
    sessao: Session, *, id_empresa: str, itens: list[dict[str, Any]]
) -> list[LinhaFila]:
    """Display rows for a page of jobs (``agendamento_publico`` dicts), in the page's order."""
    ids = [str(item["id"]) for item in itens]
    if not ids:
        return []
    job = WhatsappAutomacaoAgendamento
    linhas = sessao.execute(
        sa.select(
            job,
            col(Lead.nome),
            col(Lead.telefone),
            col(WhatsappAutomacaoEtapa.ordem),
            col(WhatsappAutomacaoEtapa.mensagem),
            col(WhatsappAutomacao.nome),
            col(Estagio.nome),
            col(WhatsappInstancia.nome),
        )
        .join(Lead, col(Lead.id) == job.id_lead)
        .join(WhatsappAutomacaoEtapa, col(WhatsappAutomacaoEtapa.id) == job.id_etapa)
        .join(WhatsappAutomacao, col(WhatsappAutomacao.id) == job.id_whatsapp_automacao)
        .join(
            WhatsappInstancia, col(WhatsappInstancia.id) == WhatsappAutomacao.id_whatsapp_instancia
        )
        .outerjoin(Estagio, col(Estagio.id) == job.id_estagio_trigger)
        .where(col(job.id).in_(ids), col(job.id_empresa) == id_empresa)
    ).all()
    nome_empresa = (
        sessao.execute(sa.select(col(Empresa.nome)).where(col(Empresa.id) == id_empresa)).scalar()
        or ""
    )
    # What really went out (a Cloud API template, the text as it was then) wins over the step.
    enviados: dict[str | None, str] = dict(
        sessao.execute(
            sa.select(col(WhatsappMensagem.id_agendamento), col(WhatsappMensagem.texto)).where(
                col(WhatsappMensagem.id_empresa) == id_empresa,
                col(WhatsappMensagem.id_agendamento).in_(ids),
                col(WhatsappMensagem.direcao) == DirecaoMensagem.SAIDA.value,
            )
        ).all()
    )
    por_id: dict[str, LinhaFila] = {}
    for j, nome, telefone, ordem, mensagem, automacao, estagio, instancia in linhas:
        valores = valores_variaveis(nome=nome, empresa=nome_empresa, estagio=estagio or "")
        erro = j.ultimo_erro if j.status != "ENVIADO" else None
        por_id[j.id] = LinhaFila(
            id=j.id,
            status=j.status,
            id_lead=j.id_lead,
            nome_lead=nome,
            telefone=formatar_telefone(telefone),
            ordem_etapa=int(ordem),
            nome_automacao=automacao,
            nome_estagio=estagio or "",
            nome_instancia=instancia,
            mensagem=enviados.get(j.id) or substituir_variaveis(mensagem, valores),
            agendado_para=_iso(j.agendado_para),
            enviado_em=_iso(j.enviado_em),
            tentativas=j.tentativas,
            status_entrega=j.status_entrega or "",
            erro=erro_legivel(erro or j.erro_entrega),
            motivo_cancelamento=motivo_legivel(j.motivo_cancelamento)
            if j.status == "CANCELADO"
            else "",
        )
    return [por_id[i] for i in ids if i in por_id]


def _iso(valor: datetime | None) -> str:
    return valor.isoformat() if valor is not None else ""  # always aware (tempo.DataHoraUtc)


def contagem_por_status(sessao: Session, *, id_empresa: str) -> dict[str, int]:
    """How many jobs the company has in each status, for the chips: one statement of bounded
    counts (each status counted up to ``paginacao.LIMITE_CONTAGEM + 1`` on the (empresa,
    status) index), so the chips stay fast at millions of jobs; a value above the limit means
    "more than". Statuses with no job are left out."""
    job = WhatsappAutomacaoAgendamento
    teto = paginacao.LIMITE_CONTAGEM + 1
    partes = [
        sa.select(sa.literal(status.value).label("status"), sa.func.count().label("n")).select_from(
            sa.select(col(job.id))
            .where(col(job.id_empresa) == id_empresa, col(job.status) == status.value)
            .limit(teto)
            .subquery()
        )
        for status in StatusAgendamento
    ]
    linhas = sessao.execute(sa.union_all(*partes)).all()
    return {str(status): int(n) for status, n in linhas if n}


def opcoes_filtros(sessao: Session, *, id_empresa: str) -> dict[str, Any]:
    """The queue's filter choices (instances, automations, trigger stages) and the company's
    time zone."""
    instancias = sessao.execute(
        sa.select(col(WhatsappInstancia.id), col(WhatsappInstancia.nome))
        .where(col(WhatsappInstancia.id_empresa) == id_empresa)
        .order_by(WhatsappInstancia.nome)
    ).all()
    automacoes = sessao.execute(
        sa.select(col(WhatsappAutomacao.id), col(WhatsappAutomacao.nome))
        .where(col(WhatsappAutomacao.id_empresa) == id_empresa)
        .order_by(WhatsappAutomacao.nome)
    ).all()
    estagios = sessao.execute(
        sa.select(col(Estagio.id), col(Estagio.nome))
        .where(col(Estagio.id_empresa) == id_empresa)
        .order_by(col(Estagio.ordem))
    ).all()
    fuso = sessao.execute(
        sa.select(col(Empresa.fuso_horario)).where(col(Empresa.id) == id_empresa)
    ).scalar()
    return {
        "fuso": fuso or "",
        "instancias": [{"id": i, "nome": n} for i, n in instancias],
        "automacoes": [{"id": i, "nome": n} for i, n in automacoes],
        "estagios": [{"id": i, "nome": n} for i, n in estagios],
    }
