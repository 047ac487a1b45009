"""Shared pieces of the WhatsApp page's State mixins: constants, row types and the pure
display helpers (raw value in, pt-BR string out; nothing here reads the database or decides a
business rule)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

import reflex as rx

from whatsapp_app.auth import PERFIS_GESTAO as PERFIS_GESTAO  # re-exported for the mixins
from whatsapp_app.modules.whatsapp.modelos import CamposModelo, campos_modelo
from whatsapp_app.modules.whatsapp.theme import PROVEDOR_DESCONHECIDO, PROVEDORES
from whatsapp_app.painel_whatsapp import CartaoInstancia
from whatsapp_app.ui.formatacao import data_hora, milhar, plural, tempo_relativo

ROTA = "/whatsapp"
CAMPO_OBRIGATORIO = "Campo obrigatório."
# After a refused save, the keyboard lands on the first field that needs fixing.
FOCAR_PRIMEIRO_ERRO = rx.call_script(
    "setTimeout(() => { const el = document.querySelector("
    "'.wa-wpp-painel [aria-invalid=\"true\"]'); "
    "if (el) { el.focus(); el.scrollIntoView({block: 'center'}); } }, 60)"
)

FLAG_CARDS = "whatsapp_cards_status"
FLAG_FLUXOS = "whatsapp_lista_fluxos"
FLAG_DISPARO = "whatsapp_disparo_manual"
FLAG_CONSTRUTOR = "whatsapp_construtor_lateral"

MINUTOS_POR_UNIDADE = {"minutos": 1, "horas": 60, "dias": 1440}
ROTULOS_REENTRADA = {
    "uma_vez": "Uma vez por lead",
    "a_cada_entrada": "A cada entrada no estágio",
}
ROTULOS_EVENTO = {"lead_stage_changed": "Mudança de estágio"}

InstanciaDados = CartaoInstancia  # raw card values, as the service returns them


class InstanciaCartao(TypedDict):
    """A card as the component renders it (derived from ``InstanciaDados``)."""

    id: str
    nome: str
    provider: str
    rotulo_provider: str
    status: str
    sincronizacao: str
    sincronizacao_completa: str
    pendentes: str
    processando: str
    enviados_24h: str
    erros_24h: str
    tem_erros: bool
    incertos: str
    tem_incertos: bool
    vencidos: int
    erro_conexao: str
    respostas_24h: str
    tem_respostas: bool


class Opcao(TypedDict):
    id: str
    nome: str
    cor: str


class FluxoDados(TypedDict):
    """An automation of the flow list, raw (ids, numbers, ISO instants)."""

    id: str
    nome: str
    id_estagio: str
    id_instancia: str
    ativo: bool
    reentrada: str
    cancelar_ao_sair: bool
    parar_ao_responder: bool
    atrasos: list[int]
    atualizado_em: str
    pendentes: int
    enviados_24h: int
    erros_24h: int
    respostas_24h: int
    salvando: bool


def fluxo_dados(
    dados: dict[str, Any], contagem: Mapping[str, Any], *, atualizado_em: str, salvando: bool
) -> FluxoDados:
    """An automation (``automacao_publica``'s shape, or the builder's form) as a flow-list
    entry, with its counts (``painel_whatsapp.ContagemAutomacao``)."""
    return {
        "id": dados["id"],
        "nome": dados["nome"].strip(),
        "id_estagio": dados["id_estagio_trigger"],
        "id_instancia": dados["id_whatsapp_instancia"],
        "ativo": bool(dados["ativo"]),
        "reentrada": dados["reentrada"],
        "cancelar_ao_sair": bool(dados["cancelar_ao_sair"]),
        "parar_ao_responder": bool(dados["parar_ao_responder"]),
        "atrasos": [e["atraso_minutos"] for e in dados["etapas"]],
        "atualizado_em": atualizado_em,
        "pendentes": contagem["pendentes"],
        "enviados_24h": contagem["enviados_24h"],
        "erros_24h": contagem["erros_24h"],
        "respostas_24h": contagem["respostas_24h"],
        "salvando": salvando,
    }


class FluxoLinha(TypedDict):
    """A flow row as the component renders it: Trigger (stage) → Action (instance, steps)."""

    id: str
    nome: str
    id_estagio: str
    nome_estagio: str
    cor_estagio: str
    id_instancia: str
    nome_instancia: str
    ativo: bool
    reentrada: str
    rotulo_reentrada: str
    cancelar_ao_sair: bool
    parar_ao_responder: bool
    total_etapas: int
    resumo_etapas: str
    pendentes: int
    contagens: str
    tem_erros: bool
    salvando: bool


class EtapaForm(CamposModelo):
    chave: str
    atraso: str
    unidade: str
    mensagem: str
    erro_atraso: str
    erro_mensagem: str


# --- formatting (display only) ---------------------------------------------------------------


def rotulo_atraso(minutos: int) -> str:
    """``0`` → ``0 min``, ``60`` → ``1 h``, ``1440`` → ``1 dia``, ``90`` → ``1 h 30 min``."""
    if minutos and minutos % 1440 == 0:
        dias = minutos // 1440
        return f"{dias} dia" + ("s" if dias > 1 else "")
    if minutos >= 60:
        horas, resto = divmod(minutos, 60)
        return f"{horas} h" + (f" {resto} min" if resto else "")
    return f"{minutos} min"


def resumo_etapas(atrasos: list[int]) -> str:
    """``3 mensagens · 0 min, 1 h, 1 dia``."""
    total = len(atrasos)
    palavra = "mensagem" if total == 1 else "mensagens"
    return f"{total} {palavra} · " + ", ".join(rotulo_atraso(a) for a in atrasos)


def unidade_de(minutos: int) -> tuple[str, str]:
    """The largest unit that writes ``minutos`` as a whole number: ``(valor, unidade)``."""
    if minutos and minutos % 1440 == 0:
        return str(minutos // 1440), "dias"
    if minutos and minutos % 60 == 0:
        return str(minutos // 60), "horas"
    return str(minutos), "minutos"


def etapa_vazia(
    atraso: str = "0",
    unidade: str = "minutos",
    mensagem: str = "",
    modelo: dict[str, Any] | None = None,
) -> EtapaForm:
    return {
        "chave": uuid.uuid4().hex[:8],
        "atraso": atraso,
        "unidade": unidade,
        "mensagem": mensagem,
        "erro_atraso": "",
        "erro_mensagem": "",
        **campos_modelo(modelo),
    }


_etapa_vazia = etapa_vazia  # the old private name, still used by tests


def rotulo_respostas(total: int) -> str:
    """``Nenhuma resposta em 24 h``, ``1 resposta em 24 h``, ``1.234 respostas em 24 h``."""
    if not total:
        return "Nenhuma resposta em 24 h"
    return plural(total, "resposta", "respostas") + " em 24 h"


def cartao(dados: InstanciaDados, referencia: datetime, fuso: ZoneInfo) -> InstanciaCartao:
    """One instance card's display strings."""
    rotulo, _icone = PROVEDORES.get(dados["provider"], PROVEDOR_DESCONHECIDO)
    sincronizada = dados["ultima_sincronizacao"]
    return {
        "id": dados["id"],
        "nome": dados["nome"],
        "provider": dados["provider"],
        "rotulo_provider": rotulo,
        "status": dados["status"],
        "sincronizacao": (
            f"Última sincronização {tempo_relativo(sincronizada, referencia)}"
            if sincronizada
            else "Ainda não sincronizada"
        ),
        "sincronizacao_completa": data_hora(sincronizada, fuso),
        "pendentes": milhar(dados["pendentes"]),
        "processando": milhar(dados["processando"]),
        "enviados_24h": milhar(dados["enviados_24h"]),
        "erros_24h": milhar(dados["erros_24h"]),
        "tem_erros": dados["erros_24h"] > 0,
        "incertos": milhar(dados["incertos"]),
        "tem_incertos": dados["incertos"] > 0,
        "vencidos": dados["vencidos"],
        "erro_conexao": dados["erro_conexao"],
        "respostas_24h": rotulo_respostas(dados["respostas_24h"]),
        "tem_respostas": dados["respostas_24h"] > 0,
    }


def contagens_fluxo(dados: FluxoDados) -> str:
    """``3 pendentes · 12 enviados em 24 h · 1 erro · 2 respostas``."""
    return " · ".join(
        [
            plural(dados["pendentes"], "pendente", "pendentes"),
            plural(dados["enviados_24h"], "enviado", "enviados") + " em 24 h",
            plural(dados["erros_24h"], "erro", "erros"),
            plural(dados["respostas_24h"], "resposta", "respostas"),
        ]
    )


def linha_fluxo(
    dados: FluxoDados, estagios: dict[str, Opcao], nomes_instancia: dict[str, str]
) -> FluxoLinha:
    """The one row builder of the flow list (loaded rows and optimistic ones alike)."""
    estagio = estagios.get(dados["id_estagio"])
    return {
        "id": dados["id"],
        "nome": dados["nome"],
        "id_estagio": dados["id_estagio"],
        "nome_estagio": estagio["nome"] if estagio else "Estágio removido",
        "cor_estagio": estagio["cor"] if estagio else "gray",
        "id_instancia": dados["id_instancia"],
        "nome_instancia": nomes_instancia.get(dados["id_instancia"], "Instância removida"),
        "ativo": dados["ativo"],
        "reentrada": dados["reentrada"],
        "rotulo_reentrada": ROTULOS_REENTRADA.get(dados["reentrada"], dados["reentrada"]),
        "cancelar_ao_sair": dados["cancelar_ao_sair"],
        "parar_ao_responder": dados["parar_ao_responder"],
        "total_etapas": len(dados["atrasos"]),
        "resumo_etapas": resumo_etapas(dados["atrasos"]),
        "pendentes": dados["pendentes"],
        "contagens": contagens_fluxo(dados),
        "tem_erros": dados["erros_24h"] > 0,
        "salvando": dados["salvando"],
    }


def qr_como_imagem(qr_base64: str | None) -> str:
    if not qr_base64:
        return ""
    return qr_base64 if qr_base64.startswith("data:") else f"data:image/png;base64,{qr_base64}"


def campos_amigaveis(campos: dict[str, str], valores: dict[str, Any]) -> dict[str, str]:
    """Blank required fields read "Campo obrigatório." (or "Escolha …") instead of a length rule."""
    escolha = {
        "id_estagio_trigger": "Escolha o estágio que dispara a automação.",
        "id_whatsapp_instancia": "Escolha a instância que envia as mensagens.",
    }
    amigaveis = {}
    for campo, mensagem in campos.items():
        vazio = campo in valores and not str(valores[campo] or "").strip()
        if vazio:
            mensagem = escolha.get(campo, CAMPO_OBRIGATORIO)
        amigaveis[campo] = mensagem
    return amigaveis
