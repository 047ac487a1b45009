"""Configurações view-model: the company's sending window and the feature flags.

Admins edit; everyone else reads. Every event starts with ``self.contexto(...)`` and calls
``empresas`` / ``feature_flags`` inside one ``db.sessao()``; validation is the services' own
(``EmpresaAtualizacao``), shown next to the fields.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

import reflex as rx
from pydantic import ValidationError

from whatsapp_app import db, empresas, feature_flags
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

    @rx.var(cache=True)
    def eh_admin(self) -> bool:
        return self.perfil == Perfil.ADMIN.value

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

    def _ler(self, id_empresa: str) -> None:
        with db.sessao() as s:
            empresa = empresas.empresa_publica(
                empresas.obter_empresa(sessao=s, id_empresa=id_empresa)
            )
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
