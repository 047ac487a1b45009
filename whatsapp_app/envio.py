"""What a follow-up job sends: its context, the checks made at send time, text or template.

The dispatcher (``whatsapp_automations``) owns claiming and status writes; this module answers
"what would this job send, to whom, and may it go out at all?" for one claimed job:

- a lead who opted out, or who replied after the job was scheduled, gets nothing
  (``motivo_para_nao_enviar``);
- on the Cloud API, free text only inside the 24-hour window opened by the lead's last message
  to that number; outside it the step's approved template, or nothing (``preparar_envio``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import NoResultFound
from sqlmodel import Session, col

from whatsapp_app import db, mensagens
from whatsapp_app.models import (
    DirecaoMensagem,
    Empresa,
    Estagio,
    Lead,
    WhatsappAutomacao,
    WhatsappAutomacaoAgendamento,
    WhatsappAutomacaoEtapa,
    WhatsappInstancia,
    WhatsappMensagem,
    novo_id,
)
from whatsapp_app.models import Provedor as ProvedorTipo
from whatsapp_app.providers.base import Desfecho, Provedor, ProvedorComModelos, ResultadoEnvio
from whatsapp_app.tempo import agora

MOTIVO_LEAD_RESPONDEU = "lead_respondeu"
MOTIVO_LEAD_OPTOUT = "lead_optout"
ERRO_FORA_DA_JANELA_SEM_MODELO = (
    "Fora da janela de 24 h: escolha um modelo aprovado para esta etapa"
)

VARIAVEIS_MODELO = ("nome", "primeiro_nome", "empresa", "estagio")
_VARIAVEL = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def variaveis_desconhecidas(mensagem: str) -> list[str]:
    return sorted({v for v in _VARIAVEL.findall(mensagem) if v not in VARIAVEIS_MODELO})


_PARAMETRO_MODELO = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def preencher_modelo(corpo: str, parametros: list[str]) -> str:
    """A template body with its ``{{1}}..{{n}}`` filled in (a missing value stays visible)."""

    def trocar(m: re.Match[str]) -> str:
        posicao = int(m.group(1))
        valor = parametros[posicao - 1] if 0 < posicao <= len(parametros) else ""
        return valor or m.group(0)

    return _PARAMETRO_MODELO.sub(trocar, corpo)


def valores_variaveis(*, nome: str, empresa: str, estagio: str) -> dict[str, str]:
    return {
        "nome": nome,
        "primeiro_nome": nome.split()[0] if nome.strip() else nome,
        "empresa": empresa,
        "estagio": estagio,
    }


def substituir_variaveis(texto: str, valores: dict[str, str]) -> str:
    return _VARIAVEL.sub(lambda m: valores.get(m.group(1), m.group(0)), texto)


def renderizar_mensagem(mensagem: str, *, nome: str, empresa: str, estagio: str) -> str:
    return substituir_variaveis(
        mensagem, valores_variaveis(nome=nome, empresa=empresa, estagio=estagio)
    )


@dataclass(frozen=True)
class ContextoEnvio:
    instancia: WhatsappInstancia
    id_lead: str
    telefone: str
    texto: str
    janela: dict[str, Any] | None
    fuso_horario: str
    optout_em: datetime | None
    ultima_resposta_em: datetime | None
    parar_ao_responder: bool
    job_criado_em: datetime
    modelo: dict[str, Any] | None  # the step's Cloud API template, if any
    valores: dict[str, str]  # the message variables for this lead


def carregar_contexto(*, id_agendamento: str, id_empresa: str) -> ContextoEnvio:
    with db.sessao() as sessao:
        return consultar_contexto(sessao, id_agendamento=id_agendamento, id_empresa=id_empresa)


def consultar_contexto(sessao: Session, *, id_agendamento: str, id_empresa: str) -> ContextoEnvio:
    contextos = consultar_contextos(sessao, {id_agendamento: id_empresa})
    if id_agendamento not in contextos:
        raise NoResultFound(f"agendamento {id_agendamento} sem contexto de envio")
    return contextos[id_agendamento]


def consultar_contextos(
    sessao: Session, empresas_por_job: Mapping[str, str]
) -> dict[str, ContextoEnvio]:
    """The send context of many jobs in one query: job id -> context (``empresas_por_job``
    maps each job id to its company; a job of another company, or gone, is left out)."""
    if not empresas_por_job:
        return {}
    linhas = sessao.execute(
        sa.select(
            WhatsappAutomacaoAgendamento,
            Lead,
            WhatsappAutomacaoEtapa,
            Empresa,
            Estagio,
            WhatsappInstancia,
            WhatsappAutomacao,
        )
        .join(Lead, col(Lead.id) == WhatsappAutomacaoAgendamento.id_lead)
        .join(
            WhatsappAutomacaoEtapa,
            col(WhatsappAutomacaoEtapa.id) == WhatsappAutomacaoAgendamento.id_etapa,
        )
        .join(
            WhatsappAutomacao,
            col(WhatsappAutomacao.id) == WhatsappAutomacaoAgendamento.id_whatsapp_automacao,
        )
        .join(
            WhatsappInstancia,
            col(WhatsappInstancia.id) == WhatsappAutomacao.id_whatsapp_instancia,
        )
        .join(Empresa, col(Empresa.id) == WhatsappAutomacaoAgendamento.id_empresa)
        .join(Estagio, col(Estagio.id) == WhatsappAutomacaoAgendamento.id_estagio_trigger)
        .where(col(WhatsappAutomacaoAgendamento.id).in_(list(empresas_por_job)))
    ).all()
    contextos: dict[str, ContextoEnvio] = {}
    for agendamento, lead, etapa, empresa, estagio, instancia, automacao in linhas:
        if empresas_por_job[agendamento.id] != agendamento.id_empresa:
            continue
        valores = valores_variaveis(nome=lead.nome, empresa=empresa.nome, estagio=estagio.nome)
        contextos[agendamento.id] = ContextoEnvio(
            instancia=instancia,
            id_lead=lead.id,
            telefone=lead.telefone,
            texto=substituir_variaveis(etapa.mensagem, valores),
            janela=empresa.janela_envio,
            fuso_horario=empresa.fuso_horario,
            optout_em=lead.optout_em,
            ultima_resposta_em=lead.ultima_resposta_em,
            parar_ao_responder=automacao.parar_ao_responder,
            job_criado_em=agendamento.criado_em,
            modelo=etapa.modelo,
            valores=valores,
        )
    return contextos


def motivo_para_nao_enviar(contexto: ContextoEnvio) -> str | None:
    """Checked again at send time: a lead who opted out, or who replied after this job was
    scheduled (a retry that was PROCESSANDO when the reply came), gets nothing more."""
    if contexto.optout_em is not None:
        return MOTIVO_LEAD_OPTOUT
    if (
        contexto.parar_ao_responder
        and contexto.ultima_resposta_em is not None
        and contexto.ultima_resposta_em > contexto.job_criado_em
    ):
        return MOTIVO_LEAD_RESPONDEU
    return None


@dataclass(frozen=True)
class Envio:
    """What goes out: free text, or a Cloud API template (outside the 24-hour window)."""

    texto: str  # what the conversation records
    modelo: dict[str, Any] | None = None  # {"nome", "idioma", "parametros": [...]}


def janelas_de_atendimento(
    contextos: Iterable[ContextoEnvio],
) -> dict[tuple[str, str], datetime]:
    """The start of the 24-hour window (the lead's last message) of every Cloud API context
    of a batch, in one query: (lead, instance) -> moment; ``preparar_envio`` reads it."""
    pares = {
        (c.id_lead, c.instancia.id)
        for c in contextos
        if c.instancia.provider == ProvedorTipo.CLOUD_API.value
    }
    if not pares:
        return {}
    with db.sessao() as sessao:
        return mensagens.ultimas_entradas(sessao, pares)


def preparar_envio(
    contexto: ContextoEnvio, janelas: Mapping[tuple[str, str], datetime]
) -> Envio | None:
    """Text inside the Cloud API's 24-hour window (``janelas``: ``janelas_de_atendimento``;
    or on providers without one), the step's template outside it; None when outside with no
    template (an ERRO, Meta is not called)."""
    if contexto.instancia.provider != ProvedorTipo.CLOUD_API.value:
        return Envio(contexto.texto)
    ultima = janelas.get((contexto.id_lead, contexto.instancia.id))
    if mensagens.janela_aberta(ultima):
        return Envio(contexto.texto)
    if not contexto.modelo or not contexto.modelo.get("nome"):
        return None
    parametros = [
        substituir_variaveis(str(v), contexto.valores)
        for v in contexto.modelo.get("variaveis") or []
    ]
    corpo = contexto.modelo.get("corpo")
    if corpo:
        texto = preencher_modelo(str(corpo), parametros)
    else:
        texto = f"[Modelo {contexto.modelo['nome']}] " + " · ".join(parametros)
    return Envio(
        texto.strip(),
        {
            "nome": str(contexto.modelo["nome"]),
            "idioma": str(contexto.modelo.get("idioma") or "pt_BR"),
            "parametros": parametros,
        },
    )


def enviar(
    provedor: Provedor, contexto: ContextoEnvio, envio: Envio, id_job: str
) -> ResultadoEnvio:
    if envio.modelo is None:
        return provedor.enviar_texto(
            numero_e164=contexto.telefone, texto=envio.texto, id_agendamento=id_job
        )
    if not isinstance(provedor, ProvedorComModelos):
        return ResultadoEnvio(Desfecho.PERMANENTE, erro="Este provedor não envia modelos.")
    componentes = (
        [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": p} for p in envio.modelo["parametros"]],
            }
        ]
        if envio.modelo["parametros"]
        else None
    )
    return provedor.enviar_template(
        numero_e164=contexto.telefone,
        nome=envio.modelo["nome"],
        idioma=envio.modelo["idioma"],
        componentes=componentes,
        id_agendamento=id_job,
    )


def registrar_saida_do_job(
    sessao: Session, *, id_empresa: str, id_agendamento: str, provider_message_id: str | None
) -> None:
    """A job became ENVIADO outside the dispatcher (reaper, webhook proof, operator): its
    message joins the conversation, in the caller's transaction."""
    contexto = consultar_contexto(sessao, id_agendamento=id_agendamento, id_empresa=id_empresa)
    Saida(contexto.instancia.id, contexto.id_lead, contexto.telefone, contexto.texto).registrar(
        sessao, id_empresa, id_agendamento, provider_message_id
    )


@dataclass(frozen=True)
class Saida:
    """The message a send puts in the conversation once the provider accepted it."""

    id_instancia: str
    id_lead: str
    telefone: str
    texto: str

    def registrar(
        self, sessao: Session, id_empresa: str, id_agendamento: str, provider_message_id: str | None
    ) -> None:
        mensagens.inserir_mensagem(
            sessao,
            id_empresa=id_empresa,
            id_lead=self.id_lead,
            id_whatsapp_instancia=self.id_instancia,
            direcao=DirecaoMensagem.SAIDA.value,
            telefone=self.telefone.lstrip("+"),
            texto=self.texto,
            provider_message_id=provider_message_id,
            id_agendamento=id_agendamento,
        )


def registrar_saidas(sessao: Session, saidas: list[tuple[Saida, str, str, str | None]]) -> None:
    """Many sends' messages in one INSERT, in the caller's transaction (each item: the
    ``Saida``, its company, its job and the provider's message id); idempotent like
    ``mensagens.inserir_mensagem``."""
    if not saidas:
        return
    dialeto = postgresql if db.eh_postgres(sessao) else sqlite
    momento = agora()
    linhas = [
        {
            "id": novo_id(),
            "criado_em": momento,
            "momento": momento,
            "id_empresa": id_empresa,
            "id_lead": saida.id_lead,
            "id_whatsapp_instancia": saida.id_instancia,
            "direcao": DirecaoMensagem.SAIDA.value,
            "telefone": saida.telefone.lstrip("+"),
            "texto": saida.texto,
            "provider_message_id": provider_message_id,
            "id_agendamento": id_agendamento,
        }
        for saida, id_empresa, id_agendamento, provider_message_id in saidas
    ]
    tabela = WhatsappMensagem.__table__  # type: ignore[attr-defined]
    sessao.execute(dialeto.insert(tabela).values(linhas).on_conflict_do_nothing())
