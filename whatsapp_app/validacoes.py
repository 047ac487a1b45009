"""Validation and the one error shape every 4xx/5xx uses (contract.md section 4).

Services raise ``ErroApp`` subclasses; the API turns them into
``{"erro": {"codigo", "mensagem", "campos"?}}`` and the UI shows ``mensagem`` (or the field
messages next to their fields). Pydantic errors are translated to pt-BR here, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class ErroApp(Exception):
    status = 400
    codigo = "requisicao_invalida"

    def __init__(
        self, mensagem: str, *, campos: Mapping[str, str] | None = None, codigo: str | None = None
    ) -> None:
        super().__init__(mensagem)
        self.mensagem = mensagem
        self.campos = dict(campos or {})
        if codigo:
            self.codigo = codigo

    def corpo(self) -> dict[str, Any]:
        return corpo_erro(self.codigo, self.mensagem, self.campos or None)


class ErroValidacao(ErroApp):
    status = 422
    codigo = "validacao"

    def __init__(self, campos: Mapping[str, str], mensagem: str = "Dados inválidos.") -> None:
        super().__init__(mensagem, campos=campos)


class NaoAutenticado(ErroApp):
    status = 401
    codigo = "nao_autenticado"


class SemPermissao(ErroApp):
    status = 403
    codigo = "sem_permissao"


class NaoEncontrado(ErroApp):
    status = 404
    codigo = "nao_encontrado"

    def __init__(self, mensagem: str = "Registro não encontrado.") -> None:
        super().__init__(mensagem)


class Conflito(ErroApp):
    status = 409
    codigo = "conflito"


class MuitasTentativas(ErroApp):
    status = 429
    codigo = "muitas_tentativas"


def corpo_erro(codigo: str, mensagem: str, campos: Mapping[str, str] | None = None) -> dict:
    erro: dict[str, Any] = {"codigo": codigo, "mensagem": mensagem}
    if campos:
        erro["campos"] = dict(campos)
    return {"erro": erro}


_MENSAGENS = {
    "missing": "Campo obrigatório.",
    "string_too_short": "Deve ter pelo menos {min_length} caractere(s).",
    "string_too_long": "Deve ter no máximo {max_length} caracteres.",
    "string_type": "Deve ser um texto.",
    "int_type": "Deve ser um número inteiro.",
    "int_parsing": "Deve ser um número inteiro.",
    "bool_type": "Deve ser verdadeiro ou falso.",
    "bool_parsing": "Deve ser verdadeiro ou falso.",
    "greater_than_equal": "Deve ser maior ou igual a {ge}.",
    "less_than_equal": "Deve ser menor ou igual a {le}.",
    "greater_than": "Deve ser maior que {gt}.",
    "less_than": "Deve ser menor que {lt}.",
    "literal_error": "Valor inválido; use um de: {expected}.",
    "enum": "Valor inválido; use um de: {expected}.",
    "list_type": "Deve ser uma lista.",
    "too_short": "Deve ter pelo menos {min_length} item(ns).",
    "too_long": "Deve ter no máximo {max_length} itens.",
    "dict_type": "Deve ser um objeto.",
    "model_type": "Deve ser um objeto.",
    "extra_forbidden": "Campo desconhecido.",
    "json_invalid": "JSON inválido.",
    "string_pattern_mismatch": "Formato inválido.",
    "value_error": "{erro}",
}


def _caminho(loc: Iterable[Any]) -> str:
    partes = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(partes) or "corpo"


def traduzir_erros(erros: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Pydantic/FastAPI error list → ``{"campo": "mensagem pt-BR"}`` (first error per field)."""
    campos: dict[str, str] = {}
    for erro in erros:
        campo = _caminho(erro.get("loc", ()))
        if campo in campos:
            continue
        contexto = dict(erro.get("ctx") or {})
        if erro.get("type") == "value_error":
            contexto["erro"] = str(contexto.get("error", erro.get("msg", ""))).removeprefix(
                "Value error, "
            )
        modelo = _MENSAGENS.get(str(erro.get("type")), "Valor inválido.")
        try:
            campos[campo] = modelo.format(**contexto)
        except (KeyError, IndexError):
            campos[campo] = "Valor inválido."
    return campos


def erro_de_validacao(exc: ValidationError) -> ErroValidacao:
    return ErroValidacao(traduzir_erros(exc.errors()))


def normalizar_telefone(valor: str, *, regiao: str = "BR") -> str:
    """A phone number as E.164, or ValueError with a pt-BR message."""
    try:
        numero = phonenumbers.parse(valor, regiao)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Telefone inválido.") from exc
    if not phonenumbers.is_valid_number(numero):
        raise ValueError("Telefone inválido para o país informado.")
    return phonenumbers.format_number(numero, phonenumbers.PhoneNumberFormat.E164)


def formatar_telefone(e164: str) -> str:
    """E.164 → the way people read it here: ``+55 11 98765-4321``."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


def variantes_telefone(digitos_ou_e164: str) -> list[str]:
    """The E.164 forms one WhatsApp contact may arrive as. Brazilian mobiles exist with and
    without the ninth digit (``55 DD 9XXXXXXXX`` and ``55 DD XXXXXXXX`` are the same person:
    WhatsApp still uses the 8-digit form for many older accounts). Landlines (local number
    starting 2-5) never gain a 9."""
    numero = "".join(ch for ch in digitos_ou_e164 if ch.isdigit())
    if not numero:
        return []
    formas = [numero]
    if numero.startswith("55"):
        local = numero[4:]
        if len(numero) == 13 and local.startswith("9") and local[1:2] in {"6", "7", "8", "9"}:
            formas.append(numero[:4] + local[1:])
        elif len(numero) == 12 and local[:1] in {"6", "7", "8", "9"}:
            formas.append(numero[:4] + "9" + local)
    return [f"+{n}" for n in formas]


# ---------------------------------------------------------------------------------------------
# Request schemas shared by the REST API and the UI states.
# ---------------------------------------------------------------------------------------------


_HORA = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Entrada(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginEntrada(Entrada):
    email: str = Field(min_length=3, max_length=254)
    senha: str = Field(min_length=1, max_length=512)


class JanelaEnvio(Entrada):
    inicio: str = "08:00"
    fim: str = "20:00"
    dias_semana: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4, 5], min_length=1)

    @field_validator("inicio", "fim")
    @classmethod
    def _hora(cls, valor: str) -> str:
        if not _HORA.match(valor):
            raise ValueError("Use o formato HH:MM (00:00 a 23:59).")
        return valor

    @field_validator("dias_semana")
    @classmethod
    def _dias(cls, dias: list[int]) -> list[int]:
        if any(d < 0 or d > 6 for d in dias):
            raise ValueError("Dias da semana vão de 0 (segunda) a 6 (domingo).")
        return sorted(set(dias))

    @model_validator(mode="after")
    def _ordem(self) -> JanelaEnvio:
        if self.inicio >= self.fim:
            raise ValueError("O início da janela deve ser antes do fim.")
        return self


MAX_PALAVRAS_OPTOUT = 30


class EmpresaAtualizacao(Entrada):
    nome: str | None = Field(default=None, min_length=1, max_length=200)
    fuso_horario: str | None = Field(default=None, max_length=64)
    janela_envio: JanelaEnvio | None = None
    palavras_optout: list[str] | None = Field(default=None, max_length=MAX_PALAVRAS_OPTOUT)

    @field_validator("palavras_optout")
    @classmethod
    def _palavras(cls, palavras: list[str] | None) -> list[str] | None:
        if palavras is None:
            return None
        from whatsapp_app.conversa import normalizar_palavra

        limpas: list[str] = []
        for palavra in palavras:
            texto = palavra.strip()
            if not 1 <= len(texto) <= 40:
                raise ValueError("Cada palavra deve ter de 1 a 40 caracteres.")
            if not normalizar_palavra(texto):
                raise ValueError(f"“{texto}” não tem letras nem números.")
            if normalizar_palavra(texto) not in {normalizar_palavra(p) for p in limpas}:
                limpas.append(texto)
        if not limpas:
            raise ValueError("Informe pelo menos uma palavra.")
        return limpas

    @field_validator("fuso_horario")
    @classmethod
    def _fuso(cls, valor: str | None) -> str | None:
        if valor is None:
            return None
        try:
            ZoneInfo(valor)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "America" is a folder
            raise ValueError("Fuso horário desconhecido (ex.: America/Sao_Paulo).") from exc
        return valor


class LeadEntrada(Entrada):
    nome: str = Field(min_length=1, max_length=200)
    telefone: str = Field(min_length=8, max_length=32)
    id_estagio: str = Field(min_length=1, max_length=32)
    id_responsavel: str | None = Field(default=None, min_length=1, max_length=32)

    @field_validator("telefone")
    @classmethod
    def _telefone(cls, valor: str) -> str:
        return normalizar_telefone(valor)


class MoverEntrada(Entrada):
    id_estagio_destino: str = Field(min_length=1, max_length=32)


MAX_ATRASO_MINUTOS = 60 * 24 * 365  # one year
MAX_ETAPAS = 20


def _sem_variaveis_desconhecidas(texto: str) -> str:
    from whatsapp_app.envio import VARIAVEIS_MODELO, variaveis_desconhecidas

    desconhecidas = variaveis_desconhecidas(texto)
    if desconhecidas:
        conhecidas = ", ".join("{{" + v + "}}" for v in VARIAVEIS_MODELO)
        raise ValueError(f"Variável desconhecida: {', '.join(desconhecidas)}. Use {conhecidas}.")
    return texto


MAX_VARIAVEIS_MODELO = 20


class ModeloEtapa(Entrada):
    """A Cloud API message template (approved by Meta) sent outside the 24-hour window."""

    nome: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    idioma: str = Field(
        default="pt_BR", min_length=2, max_length=15, pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$"
    )
    # Values of the body parameters {{1}}, {{2}}... in order, from the message variables.
    variaveis: list[str] = Field(default_factory=list, max_length=MAX_VARIAVEIS_MODELO)
    # The template body as Meta approved it (the builder fills it in; used for the preview and
    # to record what was sent).
    corpo: str | None = Field(default=None, max_length=4096)

    @field_validator("variaveis")
    @classmethod
    def _variaveis(cls, variaveis: list[str]) -> list[str]:
        for valor in variaveis:
            if not 1 <= len(valor) <= 200:
                raise ValueError("Cada variável do modelo deve ter de 1 a 200 caracteres.")
            _sem_variaveis_desconhecidas(valor)
        return variaveis


class EtapaEntrada(Entrada):
    ordem: int = Field(ge=1, le=MAX_ETAPAS)
    atraso_minutos: int = Field(ge=0, le=MAX_ATRASO_MINUTOS)
    mensagem: str = Field(min_length=1, max_length=4096)
    modelo: ModeloEtapa | None = None

    @field_validator("mensagem")
    @classmethod
    def _variaveis(cls, mensagem: str) -> str:
        return _sem_variaveis_desconhecidas(mensagem)


def _etapas_validas(etapas: list[EtapaEntrada] | None) -> list[EtapaEntrada] | None:
    if etapas is None:
        return None
    ordens = [e.ordem for e in etapas]
    if len(set(ordens)) != len(ordens):
        raise ValueError("Cada etapa precisa de uma ordem diferente.")
    return sorted(etapas, key=lambda e: e.ordem)


class AutomacaoEntrada(Entrada):
    nome: str = Field(min_length=1, max_length=120)
    evento: Literal["lead_stage_changed"] = "lead_stage_changed"
    id_estagio_trigger: str = Field(min_length=1, max_length=32)
    id_whatsapp_instancia: str = Field(min_length=1, max_length=32)
    ativo: bool = True
    reentrada: Literal["uma_vez", "a_cada_entrada"] = "uma_vez"
    cancelar_ao_sair: bool = True
    parar_ao_responder: bool = True
    etapas: list[EtapaEntrada] = Field(min_length=1, max_length=MAX_ETAPAS)

    @field_validator("etapas")
    @classmethod
    def _ordens_unicas(cls, etapas: list[EtapaEntrada] | None) -> list[EtapaEntrada] | None:
        return _etapas_validas(etapas)


class AutomacaoAtualizacao(Entrada):
    nome: str | None = Field(default=None, min_length=1, max_length=120)
    id_estagio_trigger: str | None = Field(default=None, min_length=1, max_length=32)
    id_whatsapp_instancia: str | None = Field(default=None, min_length=1, max_length=32)
    ativo: bool | None = None
    reentrada: Literal["uma_vez", "a_cada_entrada"] | None = None
    cancelar_ao_sair: bool | None = None
    parar_ao_responder: bool | None = None
    etapas: list[EtapaEntrada] | None = Field(default=None, min_length=1, max_length=MAX_ETAPAS)

    @field_validator("etapas")
    @classmethod
    def _ordens_unicas(cls, etapas: list[EtapaEntrada] | None) -> list[EtapaEntrada] | None:
        return _etapas_validas(etapas)


class RetomadaEntrada(Entrada):
    """Resuming a paused automation: what to do with the jobs that fell due meanwhile."""

    vencidos: Literal["enviar", "cancelar"]
