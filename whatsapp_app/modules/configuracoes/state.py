"""Configurações view-model: the company's sending window, its opt-out words and the flags.

Admins edit; everyone else reads. Every event starts with ``self.contexto(...)`` and calls
``empresas`` / ``feature_flags`` inside one ``db.sessao()``; validation is the services' own
(``EmpresaAtualizacao``), shown next to the fields.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypedDict

import reflex as rx
from pydantic import ValidationError

from whatsapp_app import db, empresas, feature_flags
from whatsapp_app.conversa import PALAVRAS_OPTOUT_PADRAO
from whatsapp_app.models import Perfil
from whatsapp_app.ui.sessao import EstadoSessao
from whatsapp_app.validacoes import EmpresaAtualizacao, ErroApp, erro_de_validacao

JANELA_PADRAO: dict[str, Any] = {
    "inicio": "08:00",
    "fim": "20:00",
    "dias_semana": [0, 1, 2, 3, 4, 5],
}
# 0 = Monday (contract.md section 4).
DIAS_SEMANA = (
    (0, "Seg", "Segunda-feira"),
    (1, "Ter", "Terça-feira"),
    (2, "Qua", "Quarta-feira"),
    (3, "Qui", "Quinta-feira"),
    (4, "Sex", "Sexta-feira"),
    (5, "Sáb", "Sábado"),
    (6, "Dom", "Domingo"),
)
FUSOS_BRASIL = (
    ("America/Sao_Paulo", "Brasília (SP, RJ, MG, Sul, GO, DF…)"),
    ("America/Bahia", "Bahia"),
    ("America/Fortaleza", "Fortaleza (CE, RN, PB, MA, PI)"),
    ("America/Recife", "Recife (PE)"),
    ("America/Maceio", "Maceió (AL, SE)"),
    ("America/Belem", "Belém (PA, AP)"),
    ("America/Araguaina", "Araguaína (TO)"),
    ("America/Manaus", "Manaus (AM)"),
    ("America/Cuiaba", "Cuiabá (MT)"),
    ("America/Campo_Grande", "Campo Grande (MS)"),
    ("America/Porto_Velho", "Porto Velho (RO)"),
    ("America/Boa_Vista", "Boa Vista (RR)"),
    ("America/Rio_Branco", "Rio Branco (AC)"),
    ("America/Noronha", "Fernando de Noronha"),
)
CAMPO_PALAVRAS = "palavras_optout"
# Several words may be typed or pasted at once: commas, semicolons and line breaks split them.
_SEPARADORES = re.compile(r"[,;\n]+")
ORIGENS = {
    "empresa": "Definida para esta empresa.",
    "padrao": "Valor padrão.",
}


class FlagLinha(TypedDict):
    chave: str
    descricao: str
    ativo: bool
    forcada: bool
    origem: str


class OpcaoFuso(TypedDict):
    id: str
    nome: str


class EstadoConfiguracoes(EstadoSessao):
    """The one State of the Configurações page."""

    carregando: bool = True
    salvando: bool = False
    sem_restricao: bool = False
    inicio: str = "08:00"
    fim: str = "20:00"
    dias: list[int] = []
    fuso: str = "America/Sao_Paulo"
    fusos: list[OpcaoFuso] = []
    erros: dict[str, str] = {}
    flags: list[FlagLinha] = []
    _salvo: str = ""
    alterado: bool = False

    # Opt-out words ("Palavras de descadastro"): their own form and their own "Salvar".
    palavras: list[str] = []
    usar_padrao: bool = True  # the company has no list of its own (the defaults apply)
    palavras_padrao_salvas: bool = True
    nova_palavra: str = ""
    erro_palavras: str = ""
    salvando_palavras: bool = False
    palavras_alteradas: bool = False
    _palavras_salvas: str = ""

    @rx.var(cache=True)
    def eh_admin(self) -> bool:
        return self.perfil == Perfil.ADMIN.value

    @rx.var(cache=True)
    def total_palavras_texto(self) -> str:
        total = len(self.palavras)
        return f"{total} palavra" + ("" if total == 1 else "s") + " na lista."

    # --- internals -------------------------------------------------------------------------

    def _rascunho(self) -> str:
        return json.dumps([self.sem_restricao, self.inicio, self.fim, self.dias, self.fuso])

    def _marcar(self) -> None:
        self.alterado = self._rascunho() != self._salvo

    def _ler_flags(self, id_empresa: str) -> None:
        with db.sessao() as s:
            flags = feature_flags.flags_da_empresa(sessao=s, id_empresa=id_empresa)
        self.flags = [
            {
                "chave": chave,
                "descricao": str(dados["descricao"]),
                "ativo": bool(dados["ativo"]),
                "forcada": dados["origem"] == "ambiente",
                "origem": (
                    f"Forçada {'ligada' if dados['ativo'] else 'desligada'} pelo ambiente "
                    "(FEATURE_FLAGS): não pode ser alterada aqui."
                    if dados["origem"] == "ambiente"
                    else ORIGENS.get(str(dados["origem"]), "")
                ),
            }
            for chave, dados in flags.items()
        ]

    def _rascunho_palavras(self) -> str:
        return json.dumps([self.usar_padrao, self.palavras])

    def _marcar_palavras(self) -> None:
        self.palavras_alteradas = self._rascunho_palavras() != self._palavras_salvas

    def _ler_palavras(self, publica: dict[str, Any], proprias: list[str] | None) -> None:
        self.palavras = [str(p) for p in publica[CAMPO_PALAVRAS]]
        self.usar_padrao = self.palavras_padrao_salvas = not proprias
        self.nova_palavra = self.erro_palavras = ""
        self._palavras_salvas = self._rascunho_palavras()
        self.palavras_alteradas = False

    def _ler(self, id_empresa: str) -> None:
        with db.sessao() as s:
            modelo = empresas.obter_empresa(sessao=s, id_empresa=id_empresa)
            empresa = empresas.empresa_publica(modelo)
            proprias = list(modelo.palavras_optout or [])
        self._ler_palavras(empresa, proprias)
        self._ler_flags(id_empresa)
        salva: dict[str, Any] | None = empresa["janela_envio"]
        self.sem_restricao = salva is None
        janela: dict[str, Any] = salva or JANELA_PADRAO
        self.inicio, self.fim = str(janela["inicio"]), str(janela["fim"])
        self.dias = sorted(int(d) for d in janela["dias_semana"])
        self.fuso = empresa["fuso_horario"]
        conhecidos = dict(FUSOS_BRASIL)
        fusos: list[OpcaoFuso] = [{"id": i, "nome": n} for i, n in FUSOS_BRASIL]
        if self.fuso not in conhecidos:
            fusos.append({"id": self.fuso, "nome": self.fuso})
        self.fusos = fusos
        self._salvo = self._rascunho()
        self.alterado = False
        self.erros = {}

    # --- events ----------------------------------------------------------------------------

    @rx.event
    def carregar(self):
        self.carregando = True
        yield
        try:
            self._ler(self.contexto().id_empresa)
        finally:
            self.carregando = False

    @rx.event
    def definir_sem_restricao(self, valor: bool):
        self.sem_restricao = bool(valor)
        self.erros = {}
        self._marcar()

    @rx.event
    def definir_inicio(self, valor: str):
        self.inicio = valor[:5]
        self.erros = {k: v for k, v in self.erros.items() if k not in ("inicio", "janela_envio")}
        self._marcar()

    @rx.event
    def definir_fim(self, valor: str):
        self.fim = valor[:5]
        self.erros = {k: v for k, v in self.erros.items() if k not in ("fim", "janela_envio")}
        self._marcar()

    @rx.event
    def alternar_dia(self, dia: int):
        dia = int(dia)
        if not 0 <= dia <= 6:
            return
        self.dias = sorted(set(self.dias) ^ {dia})
        self.erros = {k: v for k, v in self.erros.items() if k != "dias_semana"}
        self._marcar()

    @rx.event
    def definir_fuso(self, valor: str):
        self.fuso = valor
        self.erros = {k: v for k, v in self.erros.items() if k != "fuso_horario"}
        self._marcar()

    @rx.event
    def descartar(self):
        self._ler(self.contexto().id_empresa)

    @rx.event
    def salvar(self, _formulario: dict[str, Any] | None = None):
        contexto = self.contexto(Perfil.ADMIN)
        if self.salvando:
            return
        janela = (
            None
            if self.sem_restricao
            else {"inicio": self.inicio, "fim": self.fim, "dias_semana": self.dias}
        )
        try:
            dados = EmpresaAtualizacao(fuso_horario=self.fuso, janela_envio=janela)  # type: ignore[arg-type]
        except ValidationError as exc:
            self.erros = {
                chave.removeprefix("janela_envio."): mensagem
                for chave, mensagem in erro_de_validacao(exc).campos.items()
            }
            if "dias_semana" in self.erros and not self.dias:
                self.erros["dias_semana"] = "Escolha pelo menos um dia."
            return
        self.salvando = True
        yield
        try:
            with db.sessao() as s:
                empresas.atualizar_empresa(sessao=s, id_empresa=contexto.id_empresa, dados=dados)
        except ErroApp as exc:
            self.erros = exc.campos or {"geral": exc.mensagem}
            return
        finally:
            self.salvando = False
        self._ler(contexto.id_empresa)
        yield rx.toast.success("Janela de envio salva.")

    @rx.event
    def definir_flag(self, chave: str, ativo: bool):
        contexto = self.contexto(Perfil.ADMIN)
        anterior = list(self.flags)
        self.flags = [{**f, "ativo": bool(ativo)} if f["chave"] == chave else f for f in self.flags]
        yield
        try:
            with db.sessao() as s:
                feature_flags.definir_flag(
                    sessao=s, id_empresa=contexto.id_empresa, chave=chave, ativo=bool(ativo)
                )
        except ErroApp as exc:
            self.flags = anterior
            yield rx.toast.error(f"Não foi possível alterar o recurso: {exc.mensagem}")
            return
        self._ler_flags(contexto.id_empresa)
        yield rx.toast.success("Recurso " + ("ativado." if ativo else "desativado."))

    # --- opt-out words ---------------------------------------------------------------------

    @rx.event
    def definir_nova_palavra(self, valor: str):
        self.nova_palavra = valor[:400]
        self.erro_palavras = ""

    @rx.event
    def adicionar_palavra(self, _formulario: dict[str, Any] | None = None):
        """Add what was typed (one word, or several separated by commas or lines); the
        service's own validation says what is wrong with it."""
        self.contexto(Perfil.ADMIN)
        novas = [p.strip() for p in _SEPARADORES.split(self.nova_palavra) if p.strip()]
        if not novas:
            self.erro_palavras = "Digite uma palavra para adicionar."
            return
        try:
            validada = EmpresaAtualizacao(palavras_optout=[*self.palavras, *novas])
        except ValidationError as exc:
            campos = erro_de_validacao(exc).campos
            self.erro_palavras = campos.get(CAMPO_PALAVRAS) or next(iter(campos.values()))
            return
        limpas = list(validada.palavras_optout or [])
        if len(limpas) == len(self.palavras):
            repetidas = ", ".join(f"“{p}”" for p in novas)
            self.erro_palavras = f"{repetidas} já está na lista."
            return
        self.palavras = limpas
        self.usar_padrao = False
        self.nova_palavra = ""
        self.erro_palavras = ""
        self._marcar_palavras()

    @rx.event
    def remover_palavra(self, palavra: str):
        self.contexto(Perfil.ADMIN)
        self.palavras = [p for p in self.palavras if p != palavra]
        self.usar_padrao = False
        self.erro_palavras = ""
        self._marcar_palavras()

    @rx.event
    def restaurar_palavras_padrao(self):
        self.contexto(Perfil.ADMIN)
        self.palavras = list(PALAVRAS_OPTOUT_PADRAO)
        self.usar_padrao = True
        self.erro_palavras = ""
        self._marcar_palavras()

    @rx.event
    def descartar_palavras(self):
        contexto = self.contexto()
        with db.sessao() as s:
            modelo = empresas.obter_empresa(sessao=s, id_empresa=contexto.id_empresa)
            self._ler_palavras(empresas.empresa_publica(modelo), list(modelo.palavras_optout or []))

    @rx.event
    def salvar_palavras(self):
        contexto = self.contexto(Perfil.ADMIN)
        if self.salvando_palavras:
            return
        # The defaults are saved as "none of our own", so they follow the product's defaults.
        palavras = None if self.usar_padrao else list(self.palavras)
        try:
            dados = EmpresaAtualizacao(palavras_optout=palavras)
        except ValidationError as exc:
            campos = erro_de_validacao(exc).campos
            self.erro_palavras = campos.get(CAMPO_PALAVRAS) or next(iter(campos.values()))
            return
        self.salvando_palavras = True
        yield
        try:
            with db.sessao() as s:
                empresa = empresas.atualizar_empresa(
                    sessao=s, id_empresa=contexto.id_empresa, dados=dados
                )
                self._ler_palavras(
                    empresas.empresa_publica(empresa), list(empresa.palavras_optout or [])
                )
        except ErroApp as exc:
            self.erro_palavras = exc.campos.get(CAMPO_PALAVRAS) or next(
                iter(exc.campos.values()), exc.mensagem
            )
            return
        finally:
            self.salvando_palavras = False
        yield rx.toast.success("Palavras de descadastro salvas.")
