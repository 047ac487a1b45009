"""Flow list of ``EstadoWhatsapp``: the automations (raw values, rows derived), filters, sort,
search, per-automation counts, pause / resume, "Cancelar envios pendentes" and delete."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import reflex as rx
from sqlmodel import Session

from whatsapp_app import cadastro_automacoes, db, painel_whatsapp
from whatsapp_app import whatsapp_automations as automacoes
from whatsapp_app.models import Perfil
from whatsapp_app.modules.whatsapp.tipos import (
    PERFIS_GESTAO,
    ROTULOS_EVENTO,
    FluxoDados,
    FluxoLinha,
    InstanciaDados,
    Opcao,
    fluxo_dados,
    linha_fluxo,
)
from whatsapp_app.ui.formatacao import milhar
from whatsapp_app.validacoes import AutomacaoAtualizacao, ErroApp

if TYPE_CHECKING:
    from whatsapp_app.auth import Contexto

ORDENS = {
    "nome": "Nome",
    "estagio": "Estágio",
    "alteracao": "Última alteração",
    "pendentes": "Envios pendentes",
}
ORDEM_PADRAO = "nome"


def ler_fluxos(s: Session, id_empresa: str) -> list[FluxoDados]:
    """The company's automations with their counts (one grouped query for every count)."""
    contagens = painel_whatsapp.contagens_por_automacao(s, id_empresa=id_empresa)
    fluxos: list[FluxoDados] = []
    for automacao in cadastro_automacoes.listar_automacoes(sessao=s, id_empresa=id_empresa):
        dados = cadastro_automacoes.automacao_publica(s, automacao)
        conta = contagens.get(dados["id"], painel_whatsapp.CONTAGEM_VAZIA)
        fluxos.append(
            fluxo_dados(dados, conta, atualizado_em=str(dados["atualizado_em"]), salvando=False)
        )
    return fluxos


class MixinFluxos(rx.State, mixin=True):
    flag_fluxos: bool = True
    estagios: list[Opcao] = []
    fluxos: list[FluxoDados] = []

    # Filters ("" = all), search and sort.
    filtro_evento: str = ""
    filtro_status: str = ""
    filtro_instancia: str = ""
    busca_fluxo: str = ""
    ordem_fluxos: str = ORDEM_PADRAO
    # The automation just saved: the list scrolls to it, or says why it is not shown.
    fluxo_salvo_id: str = ""

    # Resuming a paused automation whose jobs fell due during the pause: ask first.
    retomar_id: str = ""
    retomar_nome: str = ""
    retomar_vencidos: int = 0

    # Delete / "Cancelar envios pendentes" confirmations (with the count they cancel).
    excluir_id: str = ""
    excluir_nome: str = ""
    excluir_pendentes: int = 0
    cancelar_id: str = ""
    cancelar_nome: str = ""
    cancelar_pendentes: int = 0

    if TYPE_CHECKING:  # fields and helpers of EstadoWhatsapp / EstadoSessao
        instancias: list[InstanciaDados]

        def contexto(self, *perfis: Perfil) -> Contexto: ...
        def _recarregar(self) -> None: ...

    # --- derived -----------------------------------------------------------------------------

    def _linhas(self, fluxos: list[FluxoDados]) -> list[FluxoLinha]:
        estagios = {e["id"]: e for e in self.estagios}
        nomes = {i["id"]: i["nome"] for i in self.instancias}
        return [linha_fluxo(f, estagios, nomes) for f in fluxos]

    @rx.var(cache=True)
    def fluxos_filtrados(self) -> list[FluxoLinha]:
        """The rows the list shows: filtered, searched by name, sorted."""
        linhas = self._linhas(self.fluxos)
        if self.filtro_status:
            ativo = self.filtro_status == "ativa"
            linhas = [f for f in linhas if f["ativo"] == ativo]
        if self.filtro_instancia:
            linhas = [f for f in linhas if f["id_instancia"] == self.filtro_instancia]
        # One event exists today ("lead_stage_changed"): every flow matches it.
        if busca := self.busca_fluxo.strip().casefold():
            linhas = [f for f in linhas if busca in f["nome"].casefold()]
        if self.ordem_fluxos == "estagio":  # the funnel's order, then by name
            posicao = {e["id"]: i for i, e in enumerate(self.estagios)}
            return sorted(
                linhas,
                key=lambda f: (posicao.get(f["id_estagio"], len(posicao)), f["nome"].casefold()),
            )
        if self.ordem_fluxos == "pendentes":  # most pending first, then by name A→Z
            return sorted(linhas, key=lambda f: (-f["pendentes"], f["nome"].casefold()))
        if self.ordem_fluxos == "alteracao":  # most recently changed first
            alteracao = {f["id"]: f["atualizado_em"] for f in self.fluxos}
            return sorted(linhas, key=lambda f: alteracao.get(f["id"], ""), reverse=True)
        return sorted(linhas, key=lambda f: f["nome"].casefold())

    @rx.var(cache=True)
    def total_fluxos(self) -> int:
        return len(self.fluxos)

    @rx.var(cache=True)
    def tem_filtro(self) -> bool:
        return bool(
            self.filtro_evento or self.filtro_status or self.filtro_instancia or self.busca_fluxo
        )

    @rx.var(cache=True)
    def aviso_fluxo_oculto(self) -> str:
        """The automation just saved exists but the active filters hide it: say so."""
        if not self.fluxo_salvo_id:
            return ""
        salvo = next((f for f in self.fluxos if f["id"] == self.fluxo_salvo_id), None)
        if salvo is None or any(f["id"] == salvo["id"] for f in self.fluxos_filtrados):
            return ""
        return f"A automação “{salvo['nome']}” foi salva, mas os filtros ativos a escondem."

    @rx.var(cache=True)
    def excluir_texto(self) -> str:
        n = self.excluir_pendentes
        if not n:
            return "O histórico é mantido. Nenhum envio pendente será cancelado."
        palavra = "envio pendente será cancelado" if n == 1 else "envios pendentes serão cancelados"
        return f"O histórico é mantido. {milhar(n)} {palavra}."

    @rx.var(cache=True)
    def cancelar_titulo(self) -> str:
        n = self.cancelar_pendentes
        return f"Cancelar {milhar(n)} envio{'' if n == 1 else 's'} pendente{'' if n == 1 else 's'}?"

    # --- filters, search, sort -----------------------------------------------------------------

    @rx.event
    def filtrar_evento(self, evento: str):
        self.filtro_evento = evento if evento in ROTULOS_EVENTO else ""
        self.fluxo_salvo_id = ""  # the user chose what to see: no note about the last save

    @rx.event
    def filtrar_status(self, status: str):
        self.filtro_status = status if status in ("ativa", "pausada") else ""
        self.fluxo_salvo_id = ""  # the user chose what to see: no note about the last save

    @rx.event
    def filtrar_instancia(self, id_instancia: str):
        self.filtro_instancia = id_instancia
        self.fluxo_salvo_id = ""  # the user chose what to see: no note about the last save

    @rx.event
    def buscar_fluxo(self, texto: str):
        self.busca_fluxo = texto[:120]
        self.fluxo_salvo_id = ""  # the user chose what to see: no note about the last save

    @rx.event
    def ordenar_fluxos(self, ordem: str):
        self.ordem_fluxos = ordem if ordem in ORDENS else ORDEM_PADRAO

    @rx.event
    def limpar_filtros(self):
        self.filtro_evento = self.filtro_status = self.filtro_instancia = self.busca_fluxo = ""
        if self.fluxo_salvo_id:
            return rx.scroll_to(f"fluxo-{self.fluxo_salvo_id}")
        return None

    # --- pause / resume ------------------------------------------------------------------------

    @rx.event
    def alternar_ativo(self, id_automacao: str):
        """Ativar / pausar, optimistic: the chip flips now; rollback if the service refuses."""
        contexto = self.contexto(*PERFIS_GESTAO)
        linha = next((f for f in self.fluxos if f["id"] == id_automacao), None)
        if linha is None or linha["salvando"]:
            return
        anterior = copy.deepcopy(self.fluxos)
        novo = not linha["ativo"]
        self.fluxos = [
            {**f, "ativo": novo, "salvando": True} if f["id"] == id_automacao else f
            for f in self.fluxos
        ]
        yield
        try:
            with db.sessao() as s:
                vencidos = (
                    automacoes.contar_vencidos_na_pausa(
                        sessao=s,
                        id_empresa=contexto.id_empresa,
                        id_whatsapp_automacao=id_automacao,
                    )
                    if novo
                    else 0
                )
                if vencidos:
                    # Ask before sending what fell due during the pause.
                    self.fluxos = anterior
                    self.retomar_id, self.retomar_nome = id_automacao, linha["nome"]
                    self.retomar_vencidos = vencidos
                    return
                _, mudanca = cadastro_automacoes.atualizar_automacao(
                    sessao=s,
                    id_empresa=contexto.id_empresa,
                    id_automacao=id_automacao,
                    dados=AutomacaoAtualizacao(ativo=novo),
                )
        except ErroApp as exc:
            self.fluxos = anterior
            yield rx.toast.error(f"Não foi possível alterar a automação: {exc.mensagem}")
            return
        self._recarregar()
        if novo:
            texto = "Automação retomada."
            if mudanca.retomados:
                texto += f" {milhar(mudanca.retomados)} envio(s) voltaram para a fila."
        else:
            texto = "Automação pausada."
            if mudanca.pausados:
                texto += (
                    f" {milhar(mudanca.pausados)} envio(s) ficam na fila, pausados, "
                    "até você retomar."
                )
        yield rx.toast.success(texto)

    @rx.event
    def mudar_retomada(self, aberto: bool):
        if not aberto:
            self.retomar_id = self.retomar_nome = ""
            self.retomar_vencidos = 0

    @rx.event
    def confirmar_retomada(self, vencidos: str):
        """The admin chose what to do with the jobs that fell due during the pause."""
        contexto = self.contexto(*PERFIS_GESTAO)
        id_automacao = self.retomar_id
        self.retomar_id = self.retomar_nome = ""
        self.retomar_vencidos = 0
        if not id_automacao:
            return
        try:
            with db.sessao() as s:
                _, mudanca = cadastro_automacoes.retomar_automacao(
                    sessao=s,
                    id_empresa=contexto.id_empresa,
                    id_automacao=id_automacao,
                    cancelar_vencidos=vencidos == "cancelar",
                )
        except ErroApp as exc:
            yield rx.toast.error(f"Não foi possível retomar a automação: {exc.mensagem}")
            return
        self._recarregar()
        texto = f"Automação retomada. {milhar(mudanca.retomados)} envio(s) voltaram para a fila."
        if mudanca.cancelados:
            texto += f" {milhar(mudanca.cancelados)} vencido(s) durante a pausa cancelado(s)."
        yield rx.toast.success(texto)

    # --- "Cancelar envios pendentes" and delete ------------------------------------------------

    def _aguardando(self, id_automacao: str) -> int:
        contexto = self.contexto(*PERFIS_GESTAO)
        with db.sessao() as s:
            return painel_whatsapp.aguardando_da_automacao(
                s, id_empresa=contexto.id_empresa, id_automacao=id_automacao
            )

    @rx.event
    def pedir_cancelamento(self, id_automacao: str):
        linha = next((f for f in self.fluxos if f["id"] == id_automacao), None)
        if linha is None:
            return
        self.cancelar_pendentes = self._aguardando(id_automacao)
        self.cancelar_id, self.cancelar_nome = linha["id"], linha["nome"]

    @rx.event
    def mudar_cancelamento(self, aberto: bool):
        if not aberto:
            self.cancelar_id = self.cancelar_nome = ""
            self.cancelar_pendentes = 0

    @rx.event
    def confirmar_cancelamento(self):
        contexto = self.contexto(*PERFIS_GESTAO)
        id_automacao, nome = self.cancelar_id, self.cancelar_nome
        self.cancelar_id = self.cancelar_nome = ""
        self.cancelar_pendentes = 0
        if not id_automacao:
            return
        try:
            with db.sessao() as s:
                cancelados = painel_whatsapp.cancelar_envios_pendentes(
                    s, id_empresa=contexto.id_empresa, id_automacao=id_automacao
                )
        except ErroApp as exc:
            yield rx.toast.error(f"Não foi possível cancelar os envios: {exc.mensagem}")
            return
        self._recarregar()
        yield rx.toast.success(
            f"{milhar(cancelados)} envio(s) pendente(s) de “{nome}” cancelado(s)."
        )

    @rx.event
    def pedir_exclusao(self, id_automacao: str):
        linha = next((f for f in self.fluxos if f["id"] == id_automacao), None)
        if linha is not None:
            self.excluir_pendentes = self._aguardando(id_automacao)
            self.excluir_id, self.excluir_nome = linha["id"], linha["nome"]

    @rx.event
    def mudar_exclusao(self, aberto: bool):
        if not aberto:
            self.excluir_id = self.excluir_nome = ""
            self.excluir_pendentes = 0

    @rx.event
    def confirmar_exclusao(self):
        contexto = self.contexto(*PERFIS_GESTAO)
        id_automacao, nome = self.excluir_id, self.excluir_nome
        if not id_automacao:
            return
        self.excluir_id = self.excluir_nome = ""
        self.excluir_pendentes = 0
        anterior = copy.deepcopy(self.fluxos)
        self.fluxos = [f for f in self.fluxos if f["id"] != id_automacao]
        yield
        try:
            with db.sessao() as s:
                cancelados = cadastro_automacoes.excluir_automacao(
                    sessao=s, id_empresa=contexto.id_empresa, id_automacao=id_automacao
                )
        except ErroApp as exc:
            self.fluxos = anterior
            yield rx.toast.error(f"Não foi possível excluir: {exc.mensagem}")
            return
        self._recarregar()
        texto = f"Automação “{nome}” excluída."
        if cancelados:
            texto += f" {milhar(cancelados)} envio(s) pendente(s) cancelado(s)."
        yield rx.toast.success(texto)
