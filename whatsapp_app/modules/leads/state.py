"""Leads view-model: ``EstadoLeads``, the kanban, the optimistic move, search and the live
badges; the "Novo lead" dialog is ``estado_novo_lead.MixinNovoLead``, the lead drawer
``estado_gaveta.MixinGaveta`` and its operator actions ``acoes_gaveta.MixinAcoesGaveta``.

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
from typing import Any

import reflex as rx
from sqlmodel import Session

from whatsapp_app import db, empresas, leads
from whatsapp_app.logs import logger
from whatsapp_app.modules.leads.acoes_gaveta import MixinAcoesGaveta
from whatsapp_app.modules.leads.cartoes import (
    Coluna,
    EstagioOpcao,
    LeadCartao,
    aplicar_sinais,
    cartao_do_lead,
    ler_sinais,
    resumo_movimento,
)
from whatsapp_app.modules.leads.dados_gaveta import Gaveta, ler_gaveta
from whatsapp_app.modules.leads.estado_gaveta import ROLAR_CONVERSA, MixinGaveta
from whatsapp_app.modules.leads.estado_novo_lead import MixinNovoLead
from whatsapp_app.tempo import agora
from whatsapp_app.ui.formatacao import cor_radix, fuso_da_empresa
from whatsapp_app.ui.sessao import EstadoSessao
from whatsapp_app.validacoes import ErroApp

__all__ = ["ESPERA_BUSCA_MS", "EstadoLeads", "aplicar_sinais", "resumo_movimento"]

_log = logger("ui.leads")

ROTA = "/leads"
ESPERA_BUSCA_MS = 300  # milliseconds of typing pause before the search runs
INTERVALO_SONDAGEM_S = 5.0  # seconds between two reads of the reply badges / open conversation
DURACAO_MAX_SONDAGEM_S = 30 * 60  # a forgotten tab stops polling after this


def _mensagem(exc: ErroApp) -> str:
    if exc.campos:
        return next(iter(exc.campos.values()))
    return exc.mensagem


class EstadoLeads(MixinGaveta, MixinNovoLead, MixinAcoesGaveta, EstadoSessao):
    """The one State of the Leads page."""

    carregando: bool = True
    colunas: list[Coluna] = []
    busca: str = ""

    # Live badges and conversation (one loop per tab).
    _geracao_sondagem: int = 0
    _sondagem_viva: int = 0

    @rx.var(cache=True)
    def estagios(self) -> list[EstagioOpcao]:
        return [{"id": c["id"], "nome": c["nome"], "cor": c["cor"]} for c in self.colunas]

    @rx.var(cache=True)
    def total_leads(self) -> int:
        return sum(c["total"] for c in self.colunas)

    # --- internals -------------------------------------------------------------------------

    def _montar_colunas(self, sessao: Session, id_empresa: str) -> None:
        fuso = fuso_da_empresa(
            empresas.obter_empresa(sessao=sessao, id_empresa=id_empresa).fuso_horario
        )
        referencia = agora()
        por_estagio: dict[str, list[LeadCartao]] = {}
        for lead in leads.listar_leads(sessao=sessao, id_empresa=id_empresa, q=self.busca):
            cartao = cartao_do_lead(leads.lead_publico(lead), referencia, fuso)
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
