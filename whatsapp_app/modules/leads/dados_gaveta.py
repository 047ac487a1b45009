"""What the lead drawer shows, read in one session and formatted once on the server.

The drawer has three parts: the lead's details, the WhatsApp conversation (both directions,
as chat bubbles) and the follow-up timeline. ``ler_gaveta`` reads them through the service
functions and turns them into display-ready rows (pt-BR, the company's time zone); nothing here
decides anything about the data. It runs in a worker thread for the drawer's live refresh, so it
touches no State.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from whatsapp_app import cadastro_automacoes, conversa, db, empresas, fila, leads, mensagens
from whatsapp_app.fila import LinhaFila, erro_legivel
from whatsapp_app.operacao import acao_se_aplica
from whatsapp_app.tempo import agora
from whatsapp_app.ui.formatacao import cor_radix, data_hora, fuso_da_empresa, hora, rotulo_dia

LIMITE_CONVERSA = 100  # the drawer shows the last messages; older ones stay in the API
MOTIVOS_CANCELAMENTO = {
    "lead_respondeu": "Cancelado: o lead respondeu.",
    "lead_optout": "Cancelado: o lead pediu para sair.",
    "lead_saiu_do_estagio": "O lead saiu do estágio antes do envio.",
    "automacao_desativada": "A automação foi desativada.",
    "automacao_excluida": "A automação foi excluída.",
    "etapa_removida": "A etapa foi removida da automação.",
    "instancia_excluida": "A instância de WhatsApp foi excluída.",
    "cancelado_pelo_operador": "Cancelado por um operador.",
    "vencido_durante_pausa": "Venceu enquanto a automação estava pausada.",
    "duplicata_migracao": "Envio duplicado, descartado na migração.",
}
MOTIVO_DESCONHECIDO = "Cancelado."
# Delivery status of an outbound message → the word under its bubble. A stored outbound message
# was accepted by the provider, so "no status yet" reads as sent.
ROTULOS_ENTREGA = {
    "enviado": "Enviada",
    "entregue": "Entregue",
    "lido": "Lida",
    "falhou": "Falhou",
}
ENTREGA_PADRAO = "enviado"


class LeadDetalhe(TypedDict):
    id: str
    nome: str
    telefone_formatado: str
    id_estagio: str
    nome_estagio: str
    cor_estagio: str
    criado_em: str
    atualizado_em: str
    optout: bool
    optout_em: str
    resposta_nao_lida: bool


class AgendamentoLinha(TypedDict):
    id: str
    etapa: str
    automacao: str
    agendado_para: str  # 25/11/2026 14:05 in the company's zone
    agendado_iso: str  # for <time datetime>
    enviado_em: str  # "" until it went out
    enviado_iso: str
    mensagem: str  # the text that went out, or the step's text filled for this lead
    entrega: str  # "" unless sent; enviado | entregue | lido | falhou
    rotulo_entrega: str  # Enviada / Entregue / Lida / Falhou
    status: str
    chave: str
    chave_curta: str
    erro: str
    tentativas: int
    motivo: str
    motivo_resposta: bool
    # Which operator actions the job's status allows (the role rule is the State's).
    reenviavel: bool
    marcavel: bool
    cancelavel: bool


class MensagemBolha(TypedDict):
    id: str
    direcao: str  # "entrada" (the lead wrote) | "saida" (we sent)
    texto: str
    hora: str  # 14:05
    quando: str  # 25/11/2026 14:05 (the bubble's title)
    iso: str  # for <time datetime>
    entrega: str  # "" on inbound; enviado | entregue | lido | falhou
    rotulo_entrega: str
    origem: str  # "Etapa 1 · Boas-vindas" when a follow-up sent it
    dia: str  # "Hoje" / "Ontem" / "25/11/2026" on the first message of each day, else ""


LEAD_VAZIO: LeadDetalhe = {
    "id": "",
    "nome": "",
    "telefone_formatado": "",
    "id_estagio": "",
    "nome_estagio": "",
    "cor_estagio": "gray",
    "criado_em": "",
    "atualizado_em": "",
    "optout": False,
    "optout_em": "",
    "resposta_nao_lida": False,
}


def chave_curta(chave: str) -> str:
    """Each id in the key cut to 8 characters, like a short commit hash (full key on hover)."""
    return ":".join(parte[:8] for parte in chave.split(":"))


def motivo_cancelamento(codigo: str | None) -> str:
    """The reason a job was cancelled, in words (never the internal key)."""
    if not codigo:
        return ""
    return MOTIVOS_CANCELAMENTO.get(codigo, MOTIVO_DESCONHECIDO)


def entrega(status: str | None) -> tuple[str, str]:
    """``(código, rótulo)`` of an outbound message's delivery status."""
    codigo = status if status in ROTULOS_ENTREGA else ENTREGA_PADRAO
    return codigo, ROTULOS_ENTREGA[codigo]


def bolhas(
    publicas: list[dict[str, Any]],
    zona: ZoneInfo,
    referencia: datetime,
    origens: dict[str, str] | None = None,
) -> list[MensagemBolha]:
    """``mensagem_publica`` rows (time order) → chat bubbles with a day label on each new day."""
    origens = origens or {}
    linhas: list[MensagemBolha] = []
    dia_anterior = ""
    for m in publicas:
        saida = m["direcao"] == "saida"
        codigo, rotulo = entrega(m.get("status_entrega")) if saida else ("", "")
        dia = rotulo_dia(m["enviado_em"], zona, referencia)
        linhas.append(
            {
                "id": m["id"],
                "direcao": "saida" if saida else "entrada",
                "texto": m["texto"],
                "hora": hora(m["enviado_em"], zona),
                "quando": data_hora(m["enviado_em"], zona),
                "iso": m["enviado_em"],
                "entrega": codigo,
                "rotulo_entrega": rotulo,
                "origem": origens.get(m.get("id_agendamento") or "", "") if saida else "",
                "dia": dia if dia != dia_anterior else "",
            }
        )
        dia_anterior = dia
    return linhas


def em_ordem_do_tempo(
    jobs: list[dict[str, Any]], etapas: dict[str, tuple[int, str]]
) -> list[dict[str, Any]]:
    """The timeline's order: by due time, and steps due at the same moment (say, a 0-minute
    step held for the sending window's opening, with the next step due then too) in step
    order."""
    return sorted(
        jobs,
        key=lambda j: (
            datetime.fromisoformat(j["agendado_para"]),
            etapas.get(j["id_etapa"], (0, ""))[0],
        ),
    )


def linha_agendamento(
    job: dict[str, Any],
    etapas: dict[str, tuple[int, str]],
    zona: ZoneInfo,
    da_fila: LinhaFila | None = None,
) -> AgendamentoLinha:
    """One timeline item: the job (``agendamento_publico``) plus what the queue's row knows
    (``fila.linhas_da_fila``: rendered message, delivery status, the error in pt-BR)."""
    ordem, nome_automacao = etapas.get(job["id_etapa"], (0, ""))
    status = job["status"]
    enviado_iso = job.get("enviado_em") or ""
    codigo_entrega, rotulo = ("", "")
    if status == "ENVIADO":
        codigo_entrega, rotulo = entrega(da_fila["status_entrega"] if da_fila else None)
    if da_fila is not None:
        erro = da_fila["erro"]
    else:
        erro = erro_legivel(job["ultimo_erro"]) if job["ultimo_erro"] else ""
    return {
        "id": job["id"],
        "etapa": f"Etapa {ordem}" if ordem else "Etapa removida",
        "automacao": nome_automacao,
        "agendado_para": data_hora(job["agendado_para"], zona),
        "agendado_iso": job["agendado_para"],
        "enviado_em": data_hora(enviado_iso, zona),
        "enviado_iso": enviado_iso,
        "mensagem": da_fila["mensagem"] if da_fila is not None else "",
        "entrega": codigo_entrega,
        "rotulo_entrega": rotulo,
        "status": status,
        "chave": job["chave_idempotencia"],
        "chave_curta": chave_curta(job["chave_idempotencia"]),
        "erro": erro,
        "tentativas": job["tentativas"],
        "motivo": motivo_cancelamento(job["motivo_cancelamento"]),
        "motivo_resposta": job["motivo_cancelamento"] in ("lead_respondeu", "lead_optout"),
        "reenviavel": acao_se_aplica("reenviar", status),
        "marcavel": acao_se_aplica("marcar_enviado", status),
        "cancelavel": acao_se_aplica("cancelar", status),
    }


def detalhe(publico: dict[str, Any], estagio: dict[str, Any], zona: ZoneInfo) -> LeadDetalhe:
    return {
        "id": publico["id"],
        "nome": publico["nome"],
        "telefone_formatado": publico["telefone_formatado"],
        "id_estagio": publico["id_estagio"],
        "nome_estagio": str(estagio.get("nome", "")),
        "cor_estagio": cor_radix(estagio.get("cor")),
        "criado_em": data_hora(publico["criado_em"], zona),
        "atualizado_em": data_hora(publico["atualizado_em"], zona),
        "optout": publico["optout_em"] is not None,
        "optout_em": data_hora(publico["optout_em"], zona),
        "resposta_nao_lida": bool(publico["resposta_nao_lida"]),
    }


@dataclass(frozen=True)
class Gaveta:
    lead: LeadDetalhe
    agendamentos: list[AgendamentoLinha]
    mensagens: list[MensagemBolha]


def ler_gaveta(*, id_empresa: str, id_lead: str, marcar_lida: bool = False) -> Gaveta:
    """The drawer's three parts. ``marcar_lida``: someone is looking at the conversation, so
    an unread reply stops being unread (written only when there is one)."""
    with db.sessao() as s:
        zona = fuso_da_empresa(empresas.obter_empresa(sessao=s, id_empresa=id_empresa).fuso_horario)
        lead = leads.obter_lead(sessao=s, id_empresa=id_empresa, id_lead=id_lead)
        if marcar_lida and leads.resposta_nao_lida(lead):
            conversa.marcar_conversa_lida(sessao=s, id_empresa=id_empresa, id_lead=id_lead)
        publico = leads.lead_publico(lead)
        estagios = {
            e.id: empresas.estagio_publico(e)
            for e in empresas.listar_estagios(sessao=s, id_empresa=id_empresa)
        }
        # Step order and automation name per step id, for the timeline and the bubbles.
        etapas: dict[str, tuple[int, str]] = {}
        for automacao in cadastro_automacoes.listar_automacoes(sessao=s, id_empresa=id_empresa):
            dados = cadastro_automacoes.automacao_publica(s, automacao)
            for etapa in dados["etapas"]:
                etapas[etapa["id"]] = (etapa["ordem"], dados["nome"])
        jobs = [
            cadastro_automacoes.agendamento_publico(j)
            for j in cadastro_automacoes.listar_agendamentos(
                sessao=s, id_empresa=id_empresa, id_lead=id_lead
            )
        ]
        da_fila = {
            linha["id"]: linha
            for linha in fila.linhas_da_fila(s, id_empresa=id_empresa, itens=jobs)
        }
        conversa_publica = [
            mensagens.mensagem_publica(m)
            for m in mensagens.conversa_recente(
                s, id_empresa=id_empresa, id_lead=id_lead, limite=LIMITE_CONVERSA
            )
        ]
    jobs = em_ordem_do_tempo(jobs, etapas)
    linhas = [linha_agendamento(job, etapas, zona, da_fila.get(job["id"])) for job in jobs]
    origens = {
        linha["id"]: " · ".join(p for p in (linha["etapa"], linha["automacao"]) if p)
        for linha in linhas
    }
    return Gaveta(
        lead=detalhe(publico, estagios.get(publico["id_estagio"], {}), zona),
        agendamentos=linhas,
        mensagens=bolhas(conversa_publica, zona, agora(), origens),
    )
