"""The lead drawer of ``EstadoLeads``: details, conversation and follow-up timeline (read by
``dados_gaveta.ler_gaveta``), and "Permitir mensagens novamente" (``conversa.registrar_optin``;
admins and gestores, the service's rule)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import reflex as rx

from whatsapp_app import auth, conversa, db
from whatsapp_app.modules.leads.cartoes import aplicar_sinais
from whatsapp_app.modules.leads.dados_gaveta import (
    LEAD_VAZIO,
    AgendamentoLinha,
    Gaveta,
    LeadDetalhe,
    MensagemBolha,
    ler_gaveta,
)
from whatsapp_app.ui.formatacao import plural
from whatsapp_app.validacoes import ErroApp

if TYPE_CHECKING:
    from whatsapp_app.auth import Contexto
    from whatsapp_app.models import Perfil
    from whatsapp_app.modules.leads.cartoes import Coluna

ROLAR_CONVERSA = rx.call_script(
    "setTimeout(() => { const el = document.getElementById('gaveta-conversa-rolagem'); "
    "if (el) { el.scrollTop = el.scrollHeight; } }, 60)"
)


class MixinGaveta(rx.State, mixin=True):
    gaveta_aberta: bool = False
    carregando_lead: bool = False
    lead: LeadDetalhe = LEAD_VAZIO
    agendamentos: list[AgendamentoLinha] = []
    mensagens: list[MensagemBolha] = []
    confirmar_optin: bool = False
    salvando_optin: bool = False

    if TYPE_CHECKING:  # of EstadoLeads / MixinAcoesGaveta / EstadoSessao
        perfil: str
        colunas: list[Coluna]
        acao_job: str
        id_job_acao: str

        def contexto(self, *perfis: Perfil) -> Contexto: ...

    @rx.var(cache=True)
    def total_agendamentos(self) -> int:
        return len(self.agendamentos)

    @rx.var(cache=True)
    def total_mensagens(self) -> int:
        return len(self.mensagens)

    @rx.var(cache=True)
    def pode_permitir_mensagens(self) -> bool:
        """Only admins and gestores clear an opt-out (the service's rule, mirrored for the UI)."""
        return auth.perfil_permite(self.perfil, *auth.PERFIS_GESTAO)

    @rx.var(cache=True)
    def resumo_conversa(self) -> str:
        """What the conversation holds, for the section's live region."""
        if not self.mensagens:
            return "Nenhuma mensagem ainda."
        respostas = sum(1 for m in self.mensagens if m["direcao"] == "entrada")
        return (
            plural(len(self.mensagens), "mensagem", "mensagens")
            + ", "
            + plural(respostas, "resposta do lead", "respostas do lead")
            + "."
        )

    def _aplicar_gaveta(self, gaveta: Gaveta) -> None:
        """Write only what changed: the live loop calls this every few seconds."""
        if self.lead != gaveta.lead:
            self.lead = gaveta.lead
        if self.agendamentos != gaveta.agendamentos:
            self.agendamentos = gaveta.agendamentos
        if self.mensagens != gaveta.mensagens:
            self.mensagens = gaveta.mensagens
        # The card follows what the drawer knows (read now, opted out).
        sinais = {gaveta.lead["id"]: (gaveta.lead["resposta_nao_lida"], gaveta.lead["optout"])}
        novas = aplicar_sinais(self.colunas, sinais)
        if novas is not None:
            self.colunas = novas

    def _carregar_lead(self, id_lead: str, marcar_lida: bool = True) -> None:
        contexto = self.contexto()
        self._aplicar_gaveta(
            ler_gaveta(id_empresa=contexto.id_empresa, id_lead=id_lead, marcar_lida=marcar_lida)
        )

    @rx.event
    def abrir_lead(self, id_lead: str):
        self.contexto()
        self.lead = {**LEAD_VAZIO, "id": id_lead}
        self.agendamentos = []
        self.mensagens = []
        self.confirmar_optin = False
        self.acao_job = self.id_job_acao = ""
        self.carregando_lead = True
        self.gaveta_aberta = True
        yield
        try:
            # Opening the drawer is reading the conversation: the unread badge goes away.
            self._carregar_lead(id_lead, marcar_lida=True)
        except ErroApp:
            self.gaveta_aberta = False
            raise
        finally:
            self.carregando_lead = False
        yield ROLAR_CONVERSA

    @rx.event
    def mudar_gaveta(self, aberta: bool):
        self.gaveta_aberta = aberta
        if not aberta:
            self.confirmar_optin = False
            self.acao_job = self.id_job_acao = ""

    @rx.event
    def atualizar_lead(self):
        if self.lead["id"]:
            self._carregar_lead(self.lead["id"])
            yield ROLAR_CONVERSA

    # --- opt-in ("Permitir mensagens novamente") -----------------------------------------------

    @rx.event
    def pedir_optin(self):
        self.contexto(*auth.PERFIS_GESTAO)
        if self.lead["optout"]:
            self.confirmar_optin = True

    @rx.event
    def mudar_confirmar_optin(self, aberto: bool):
        if not aberto and self.salvando_optin:
            return
        self.confirmar_optin = aberto

    @rx.event
    def permitir_mensagens(self):
        """The lead asked to stop; an admin or gestor records that it may hear from us again."""
        contexto = self.contexto(*auth.PERFIS_GESTAO)
        id_lead, nome = self.lead["id"], self.lead["nome"]
        if not id_lead or self.salvando_optin:
            return
        self.salvando_optin = True
        yield
        try:
            with db.sessao() as s:
                conversa.registrar_optin(
                    sessao=s,
                    id_empresa=contexto.id_empresa,
                    id_lead=id_lead,
                    id_usuario=contexto.id_usuario,
                )
        except ErroApp as exc:
            yield rx.toast.error(f"Não foi possível permitir as mensagens: {exc.mensagem}")
            return
        finally:
            self.salvando_optin = False
        self.confirmar_optin = False
        self._carregar_lead(id_lead, marcar_lida=False)
        yield rx.toast.success(
            f"{nome} pode receber mensagens novamente. Os próximos follow-ups são agendados "
            "quando o lead entrar num estágio com automação."
        )
