"""The contact's side of a conversation: what ``POST /__sim/responder`` (and the page's form)
accept, and the inbox grouped into conversations for the page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from whatsapp_app.simulador.eventos import FORMATOS_ENDERECO

CAMPOS_RESPOSTA = ("instance", "number", "text", "formato", "id_resposta_a", "nome")
MAX_TEXTO = 4096
MAX_NOME = 100


class ErroResposta(ValueError):
    """A bad reply request: ``campos`` maps each bad field to a pt-BR message (422)."""

    def __init__(self, campos: dict[str, str]) -> None:
        super().__init__("; ".join(f"{c}: {m}" for c, m in campos.items()))
        self.campos = campos


@dataclass(frozen=True)
class PedidoResposta:
    instancia: str
    numero: str  # digits only, country code first
    texto: str
    formato: str = "pn"
    id_resposta_a: str | None = None
    nome: str | None = None


def _texto_opcional(dados: dict[str, Any], campo: str, campos: dict[str, str]) -> str | None:
    valor = dados.get(campo)
    if valor is None or valor == "":
        return None
    if not isinstance(valor, str):
        campos[campo] = "Deve ser um texto."
        return None
    return valor.strip() or None


def validar_resposta(dados: Any) -> PedidoResposta:
    """The reply request, or ``ErroResposta`` naming every bad field."""
    if not isinstance(dados, dict):
        raise ErroResposta({"corpo": "O corpo deve ser um objeto JSON."})
    campos: dict[str, str] = {
        str(c): "Campo desconhecido." for c in dados if c not in CAMPOS_RESPOSTA
    }
    instancia = dados.get("instance")
    if not isinstance(instancia, str) or not instancia.strip():
        campos["instance"] = "Informe o nome da instância."
    numero_bruto = dados.get("number")
    numero = re.sub(r"\D", "", str(numero_bruto)) if isinstance(numero_bruto, str | int) else ""
    if not 8 <= len(numero) <= 15:
        campos["number"] = "Informe o número do contato com DDI e DDD (8 a 15 dígitos)."
    texto = dados.get("text")
    if not isinstance(texto, str) or not texto.strip():
        campos["text"] = "Escreva a mensagem do contato."
    elif len(texto) > MAX_TEXTO:
        campos["text"] = f"A mensagem pode ter no máximo {MAX_TEXTO} caracteres."
    formato = _texto_opcional(dados, "formato", campos) or "pn"
    if formato not in FORMATOS_ENDERECO:
        campos["formato"] = "Use pn (número de telefone) ou lid."
    id_resposta_a = _texto_opcional(dados, "id_resposta_a", campos)
    nome = _texto_opcional(dados, "nome", campos)
    if nome is not None and len(nome) > MAX_NOME:
        campos["nome"] = f"O nome pode ter no máximo {MAX_NOME} caracteres."
    if campos:
        raise ErroResposta(campos)
    assert isinstance(instancia, str) and isinstance(texto, str)
    return PedidoResposta(
        instancia=instancia.strip(),
        numero=numero,
        texto=texto,
        formato=formato,
        id_resposta_a=id_resposta_a,
        nome=nome,
    )


@dataclass
class Conversa:
    """One (instance, number) pair of the inbox, its latest messages oldest first."""

    instancia: str
    numero: str
    mensagens: list[dict[str, Any]]


def conversas(
    mensagens: list[dict[str, Any]], *, maximo: int = 10, por_conversa: int = 6
) -> list[Conversa]:
    """The ``maximo`` most recently active conversations, most recent first."""
    grupos: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for mensagem in mensagens:  # inbox order: oldest first
        chave = (str(mensagem["instance"]), str(mensagem["number"]))
        # Re-inserting moves the pair to the end: dict order becomes "last active last".
        lista = grupos.pop(chave, [])
        lista.append(mensagem)
        grupos[chave] = lista
    recentes = list(reversed(grupos))[:maximo]
    return [
        Conversa(instancia=i, numero=n, mensagens=grupos[(i, n)][-por_conversa:])
        for i, n in recentes
    ]
