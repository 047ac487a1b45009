"""Leads view-model: the kanban, the optimistic move, search, lead creation and the lead drawer.

Every event starts with ``self.contexto()`` and calls the service functions inside one
``db.sessao()``; no business rule lives here. The State keeps plain rows (TypedDicts of
strings) and ids, formatted for display once on the server (pt-BR, company time zone).
While the page is open a background loop keeps the cards' reply badges and the open drawer's
conversation current (reads in a worker thread, the state lock held only to write results).
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

import reflex as rx
from pydantic import ValidationError
from sqlmodel import Session

from whatsapp_app import conversa, db, empresas, leads
from whatsapp_app.logs import logger
from whatsapp_app.models import Perfil
from whatsapp_app.modules.leads.acoes_gaveta import MixinAcoesGaveta
from whatsapp_app.modules.leads.dados_gaveta import (
    LEAD_VAZIO,
    AgendamentoLinha,
    Gaveta,
    LeadDetalhe,
    MensagemBolha,
    ler_gaveta,
)
from whatsapp_app.tempo import agora
from whatsapp_app.ui.formatacao import cor_radix, data_hora, fuso_da_empresa, plural, tempo_relativo
from whatsapp_app.ui.sessao import EstadoSessao
from whatsapp_app.validacoes import ErroApp, LeadEntrada, erro_de_validacao

_log = logger("ui.leads")

ROTA = "/leads"
CAMPO_OBRIGATORIO = "Campo obrigatório."
ESPERA_BUSCA_MS = 300  # milliseconds of typing pause before the search runs
INTERVALO_SONDAGEM_S = 5.0  # seconds between two reads of the reply badges / open conversation
DURACAO_MAX_SONDAGEM_S = 30 * 60  # a forgotten tab stops polling after this
PERFIS_OPTIN = (Perfil.ADMIN, Perfil.GESTOR)
ROLAR_CONVERSA = rx.call_script(
    "setTimeout(() => { const el = document.getElementById('gaveta-conversa-rolagem'); "
    "if (el) { el.scrollTop = el.scrollHeight; } }, 60)"
)


class LeadCartao(TypedDict):
    id: str
    nome: str
    telefone_formatado: str
    id_estagio: str
    atualizado_relativo: str
    atualizado_em: str
    resposta_nao_lida: bool
    optout: bool


class Coluna(TypedDict):
    id: str
    nome: str
    cor: str
    total: int
    leads: list[LeadCartao]


class EstagioOpcao(TypedDict):
    id: str
    nome: str
    cor: str


# --- formatting (display only) ---------------------------------------------------------------


def resumo_movimento(nome_estagio: str, noop: bool, criados: int, cancelados: int) -> str:
    """The success toast: ``Lead movido para Proposta · 3 follow-ups agendados``."""
    partes = [f"Lead movido para {nome_estagio}"]
    if not noop:
        if criados:
            partes.append(plural(criados, "follow-up agendado", "follow-ups agendados"))
        if cancelados:
            partes.append(plural(cancelados, "follow-up cancelado", "follow-ups cancelados"))
    return " · ".join(partes)


def _mensagem(exc: ErroApp) -> str:
    if exc.campos:
        return next(iter(exc.campos.values()))
    return exc.mensagem


def _cartao(lead: dict[str, Any], referencia: datetime, fuso: ZoneInfo) -> LeadCartao:
    return {
        "id": lead["id"],
        "nome": lead["nome"],
        "telefone_formatado": lead["telefone_formatado"],
        "id_estagio": lead["id_estagio"],
        "atualizado_relativo": tempo_relativo(lead["atualizado_em"], referencia),
        "atualizado_em": data_hora(lead["atualizado_em"], fuso),
        "resposta_nao_lida": bool(lead["resposta_nao_lida"]),
        "optout": lead["optout_em"] is not None,
    }


def ler_sinais(id_empresa: str, busca: str) -> dict[str, tuple[bool, bool]]:
    """Per lead on the board: ``(resposta_nao_lida, optout)`` (the polling loop's read)."""
    with db.sessao() as s:
        return {
            lead.id: (leads.resposta_nao_lida(lead), lead.optout_em is not None)
            for lead in leads.listar_leads(sessao=s, id_empresa=id_empresa, q=busca)
        }


def aplicar_sinais(
    colunas: list[Coluna], sinais: dict[str, tuple[bool, bool]]
) -> list[Coluna] | None:
    """The board with fresh badges, or None when nothing changed (cards never move here)."""
    mudou = False
    novas: list[Coluna] = []
    for coluna in colunas:
        cartoes: list[LeadCartao] = []
        for cartao in coluna["leads"]:
            nao_lida, optout = sinais.get(
                cartao["id"], (cartao["resposta_nao_lida"], cartao["optout"])
            )
            if (nao_lida, optout) != (cartao["resposta_nao_lida"], cartao["optout"]):
                mudou = True
                cartao = {**cartao, "resposta_nao_lida": nao_lida, "optout": optout}
            cartoes.append(cartao)
        novas.append({**coluna, "leads": cartoes})
    return novas if mudou else None


class EstadoLeads(MixinAcoesGaveta, EstadoSessao):
    """The one State of the Leads page (the drawer's operator actions: ``MixinAcoesGaveta``)."""

    carregando: bool = True
    colunas: list[Coluna] = []
    busca: str = ""

    # "Novo lead" dialog.
    dialogo_aberto: bool = False
    salvando: bool = False
    novo_estagio: str = ""
    erro_nome: str = ""
    erro_telefone: str = ""
    erro_estagio: str = ""
    erro_geral: str = ""

    # Lead drawer.
    gaveta_aberta: bool = False
    carregando_lead: bool = False
    lead: LeadDetalhe = LEAD_VAZIO
    agendamentos: list[AgendamentoLinha] = []
    mensagens: list[MensagemBolha] = []
    confirmar_optin: bool = False
    salvando_optin: bool = False

    # Live badges and conversation (one loop per tab).
    _geracao_sondagem: int = 0
    _sondagem_viva: int = 0

    @rx.var(cache=True)
    def estagios(self) -> list[EstagioOpcao]:
        return [{"id": c["id"], "nome": c["nome"], "cor": c["cor"]} for c in self.colunas]

    @rx.var(cache=True)
    def total_leads(self) -> int:
        return sum(c["total"] for c in self.colunas)

    @rx.var(cache=True)
    def total_agendamentos(self) -> int:
        return len(self.agendamentos)

    @rx.var(cache=True)
    def total_mensagens(self) -> int:
        return len(self.mensagens)

    @rx.var(cache=True)
    def pode_permitir_mensagens(self) -> bool:
        """Only admins and gestores clear an opt-out (the service's rule, mirrored for the UI)."""
        return self.perfil in {p.value for p in PERFIS_OPTIN}

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

    # --- internals -------------------------------------------------------------------------

    def _montar_colunas(self, sessao: Session, id_empresa: str) -> None:
        fuso = fuso_da_empresa(
            empresas.obter_empresa(sessao=sessao, id_empresa=id_empresa).fuso_horario
        )
        referencia = agora()
        por_estagio: dict[str, list[LeadCartao]] = {}
        for lead in leads.listar_leads(sessao=sessao, id_empresa=id_empresa, q=self.busca):
            cartao = _cartao(leads.lead_publico(lead), referencia, fuso)
            por_estagio.setdefault(cartao["id_estagio"], []).append(cartao)
        colunas: list[Coluna] = []
        for estagio in empresas.listar_estagios(sessao=sessao, id_empresa=id_empresa):
            publico = empresas.estagio_publico(estagio)
            cartoes = por_estagio.get(publico["id"], [])
            colunas.append(
                {
                    "id": publico["id"],
                    "nome": publico["nome"],
                    "cor": cor_radix(publico["cor"]),
                    "total": len(cartoes),
                    "leads": cartoes,
                }
            )
        self.colunas = colunas

    def _recarregar_quadro(self) -> None:
        contexto = self.contexto()
        with db.sessao() as s:
            self._montar_colunas(s, contexto.id_empresa)

    def _reconciliar(self) -> None:
        """After a failed move, show what the server has (the lead may be gone or moved)."""
        try:
            self._recarregar_quadro()
        except Exception:
            _log.warning("quadro não recarregado após falha ao mover", exc_info=True)

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

    def _limpar_erros(self) -> None:
        self.erro_nome = self.erro_telefone = self.erro_estagio = self.erro_geral = ""

    def _mostrar_erros(self, campos: dict[str, str], mensagem: str) -> None:
        self.erro_nome = campos.get("nome", "")
        self.erro_telefone = campos.get("telefone", "")
        self.erro_estagio = campos.get("id_estagio", "")
        outros = [v for k, v in campos.items() if k not in {"nome", "telefone", "id_estagio"}]
        self.erro_geral = outros[0] if outros else ("" if campos else mensagem)

    # --- board -----------------------------------------------------------------------------

    @rx.event
    def carregar(self):
        """on_load: stages and leads; the skeleton shows until this returns."""
        self.carregando = True
        self.gaveta_aberta = False
        self.dialogo_aberto = False
        yield
        try:
            self._recarregar_quadro()
        finally:
            self.carregando = False
        yield EstadoLeads.acompanhar

    # --- live badges and conversation (background) -------------------------------------------

    @rx.event(background=True)
    async def acompanhar(self):
        """Keep the reply badges, and the open drawer's conversation, current while the page
        is open. Cards only change their badges here: a move or a drag in progress is safe."""
        async with self:
            if self._sondagem_viva and self._sondagem_viva == self._geracao_sondagem:
                return  # a loop of this visit is already running
            self._geracao_sondagem += 1
            geracao = self._sondagem_viva = self._geracao_sondagem
        inicio = time.monotonic()
        try:
            while time.monotonic() - inicio < DURACAO_MAX_SONDAGEM_S:
                await asyncio.sleep(INTERVALO_SONDAGEM_S)
                async with self:
                    if (
                        self._geracao_sondagem != geracao
                        or self.router.url.path.rstrip("/") != ROTA
                    ):
                        break
                    id_empresa = self.contexto().id_empresa
                    busca = self.busca
                    id_lead = self.lead["id"] if self.gaveta_aberta else ""
                sinais = await asyncio.to_thread(ler_sinais, id_empresa, busca)
                gaveta: Gaveta | None = None
                if id_lead:
                    try:
                        gaveta = await asyncio.to_thread(
                            ler_gaveta, id_empresa=id_empresa, id_lead=id_lead, marcar_lida=True
                        )
                    except ErroApp:
                        gaveta = None  # the lead is gone: the drawer keeps what it shows
                async with self:
                    if self._geracao_sondagem != geracao:
                        break
                    novas = aplicar_sinais(self.colunas, sinais)
                    if novas is not None:
                        self.colunas = novas
                    novas_mensagens = False
                    if (
                        gaveta is not None
                        and self.gaveta_aberta
                        and not self.carregando_lead
                        and self.lead["id"] == id_lead
                    ):
                        novas_mensagens = len(gaveta.mensagens) != len(self.mensagens)
                        self._aplicar_gaveta(gaveta)
                if novas_mensagens:
                    yield ROLAR_CONVERSA
        finally:
            async with self:
                if self._sondagem_viva == geracao:
                    self._sondagem_viva = 0

    @rx.event
    def parar_acompanhamento(self):
        """The page was left (unmount): the loop stops at its next tick."""
        self._geracao_sondagem += 1

    @rx.event
    def buscar(self, termo: str):
        """Debounced search by name or phone (the service does the matching)."""
        self.busca = termo.strip()[:100]
        self._recarregar_quadro()

    @rx.event
    def mover(self, id_lead: str, id_estagio_destino: str):
        """ "Mover para…" menu: move ``id_lead`` to ``id_estagio_destino``."""
        yield from self._mover(id_lead, id_estagio_destino)

    @rx.event
    def soltar(self, id_estagio_destino: str, id_lead: str):
        """A card dropped on a column (the column binds its id; the drop gives the lead's)."""
        yield from self._mover(id_lead, id_estagio_destino)

    def _mover(self, id_lead: str, id_estagio_destino: str) -> Iterator[Any]:
        """Optimistic move: the card moves now; the service decides; rollback on failure."""
        contexto = self.contexto()
        anterior = copy.deepcopy(self.colunas)
        destino = next((c for c in self.colunas if c["id"] == id_estagio_destino), None)
        origem = next(
            (c for c in self.colunas if any(lead["id"] == id_lead for lead in c["leads"])), None
        )
        if destino is None or origem is None or origem["id"] == destino["id"]:
            return
        cartao = next(lead for lead in origem["leads"] if lead["id"] == id_lead)
        colunas = copy.deepcopy(self.colunas)
        for coluna in colunas:
            if coluna["id"] == origem["id"]:
                coluna["leads"] = [lead for lead in coluna["leads"] if lead["id"] != id_lead]
                coluna["total"] = len(coluna["leads"])
            elif coluna["id"] == destino["id"]:
                coluna["leads"] = [
                    {**cartao, "id_estagio": destino["id"], "atualizado_relativo": "agora mesmo"},
                    *coluna["leads"],
                ]
                coluna["total"] = len(coluna["leads"])
        self.colunas = colunas
        yield
        try:
            with db.sessao() as s:
                resultado = leads.mover_lead(
                    sessao=s,
                    id_empresa=contexto.id_empresa,
                    id_lead=id_lead,
                    id_estagio_destino=id_estagio_destino,
                    id_usuario=contexto.id_usuario,
                )
        except ErroApp as exc:
            self.colunas = anterior
            yield rx.toast.error(f"Não foi possível mover o lead: {_mensagem(exc)}")
            self._reconciliar()
            return
        except Exception:
            _log.exception("falha ao mover lead", extra={"id_lead": id_lead})
            self.colunas = anterior
            yield rx.toast.error("Não foi possível mover o lead: erro inesperado. Tente novamente.")
            self._reconciliar()
            return
        yield rx.toast.success(
            resumo_movimento(
                destino["nome"],
                resultado.noop,
                resultado.agendamentos_criados,
                resultado.agendamentos_cancelados,
            )
        )
        if self.gaveta_aberta and self.lead["id"] == id_lead:
            self._carregar_lead(id_lead)

    # --- "Novo lead" -------------------------------------------------------------------------

    @rx.event
    def abrir_novo(self):
        self.contexto()
        self._limpar_erros()
        self.novo_estagio = self.colunas[0]["id"] if self.colunas else ""
        self.dialogo_aberto = True

    @rx.event
    def mudar_dialogo(self, aberto: bool):
        if not aberto and self.salvando:
            return
        self.dialogo_aberto = aberto
        if not aberto:
            self._limpar_erros()

    @rx.event
    def escolher_estagio(self, id_estagio: str):
        self.novo_estagio = id_estagio
        self.erro_estagio = ""

    @rx.event
    def criar(self, dados: dict[str, Any]):
        contexto = self.contexto()
        if self.salvando:
            return
        self._limpar_erros()
        try:
            entrada = LeadEntrada(
                nome=str(dados.get("nome", "")),
                telefone=str(dados.get("telefone", "")),
                id_estagio=self.novo_estagio,
            )
        except ValidationError as exc:
            erro = erro_de_validacao(exc)
            valores = {**dados, "id_estagio": self.novo_estagio}
            campos = {
                campo: CAMPO_OBRIGATORIO if not str(valores.get(campo, "")).strip() else mensagem
                for campo, mensagem in erro.campos.items()
            }
            self._mostrar_erros(campos, erro.mensagem)
            return
        self.salvando = True
        yield
        try:
            with db.sessao() as s:
                lead = leads.criar_lead(sessao=s, id_empresa=contexto.id_empresa, dados=entrada)
                nome = lead.nome
        except ErroApp as exc:
            self._mostrar_erros(exc.campos, exc.mensagem)
            return
        finally:
            self.salvando = False
        self.dialogo_aberto = False
        self._recarregar_quadro()
        yield rx.toast.success(f"Lead {nome} criado.")

    # --- drawer ----------------------------------------------------------------------------

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
        self.contexto(*PERFIS_OPTIN)
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
        contexto = self.contexto(*PERFIS_OPTIN)
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
