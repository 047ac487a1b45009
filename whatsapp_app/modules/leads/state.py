"""Leads view-model: the kanban, the optimistic move, search, lead creation and the lead drawer.

Every event starts with ``self.contexto()`` and calls the service functions inside one
``db.sessao()``; no business rule lives here. The State keeps plain rows (TypedDicts of
strings) and ids, formatted for display once on the server (pt-BR, company time zone).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

import reflex as rx
from pydantic import ValidationError
from sqlmodel import Session

from whatsapp_app import cadastro_automacoes, db, empresas, leads
from whatsapp_app.logs import logger
from whatsapp_app.tempo import agora
from whatsapp_app.ui.formatacao import cor_radix, data_hora, fuso_da_empresa, plural, tempo_relativo
from whatsapp_app.ui.sessao import EstadoSessao
from whatsapp_app.validacoes import ErroApp, LeadEntrada, erro_de_validacao

_log = logger("ui.leads")

CAMPO_OBRIGATORIO = "Campo obrigatório."
ESPERA_BUSCA_MS = 300  # milliseconds of typing pause before the search runs
MOTIVOS_CANCELAMENTO = {
    "lead_saiu_do_estagio": "O lead saiu do estágio antes do envio.",
    "automacao_desativada": "A automação foi desativada.",
    "automacao_excluida": "A automação foi excluída.",
    "etapa_removida": "A etapa foi removida da automação.",
    "cancelado_pelo_operador": "Cancelado por um operador.",
}


class LeadCartao(TypedDict):
    id: str
    nome: str
    telefone_formatado: str
    id_estagio: str
    atualizado_relativo: str
    atualizado_em: str


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


class LeadDetalhe(TypedDict):
    id: str
    nome: str
    telefone_formatado: str
    id_estagio: str
    nome_estagio: str
    cor_estagio: str
    criado_em: str
    atualizado_em: str


class AgendamentoLinha(TypedDict):
    id: str
    etapa: str
    automacao: str
    agendado_para: str
    status: str
    chave: str
    chave_curta: str
    erro: str
    tentativas: int
    motivo: str


LEAD_VAZIO: LeadDetalhe = {
    "id": "",
    "nome": "",
    "telefone_formatado": "",
    "id_estagio": "",
    "nome_estagio": "",
    "cor_estagio": "gray",
    "criado_em": "",
    "atualizado_em": "",
}


# --- formatting (display only) ---------------------------------------------------------------


def chave_curta(chave: str) -> str:
    """Each id in the key cut to 8 characters, like a short commit hash (full key on hover)."""
    return ":".join(parte[:8] for parte in chave.split(":"))


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
    }


class EstadoLeads(EstadoSessao):
    """The one State of the Leads page."""

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

    @rx.var(cache=True)
    def estagios(self) -> list[EstagioOpcao]:
        return [{"id": c["id"], "nome": c["nome"], "cor": c["cor"]} for c in self.colunas]

    @rx.var(cache=True)
    def total_leads(self) -> int:
        return sum(c["total"] for c in self.colunas)

    @rx.var(cache=True)
    def total_agendamentos(self) -> int:
        return len(self.agendamentos)

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

    def _carregar_lead(self, id_lead: str) -> None:
        contexto = self.contexto()
        with db.sessao() as s:
            empresa = empresas.obter_empresa(sessao=s, id_empresa=contexto.id_empresa)
            fuso = fuso_da_empresa(empresa.fuso_horario)
            publico = leads.lead_publico(
                leads.obter_lead(sessao=s, id_empresa=contexto.id_empresa, id_lead=id_lead)
            )
            estagios = {
                e.id: empresas.estagio_publico(e)
                for e in empresas.listar_estagios(sessao=s, id_empresa=contexto.id_empresa)
            }
            # Step order and automation name per step id, for the timeline.
            etapas: dict[str, tuple[int, str]] = {}
            for automacao in cadastro_automacoes.listar_automacoes(
                sessao=s, id_empresa=contexto.id_empresa
            ):
                dados = cadastro_automacoes.automacao_publica(s, automacao)
                for etapa in dados["etapas"]:
                    etapas[etapa["id"]] = (etapa["ordem"], dados["nome"])
            jobs = [
                cadastro_automacoes.agendamento_publico(j)
                for j in cadastro_automacoes.listar_agendamentos(
                    sessao=s, id_empresa=contexto.id_empresa, id_lead=id_lead
                )
            ]
        estagio = estagios.get(publico["id_estagio"], {})
        self.lead = {
            "id": publico["id"],
            "nome": publico["nome"],
            "telefone_formatado": publico["telefone_formatado"],
            "id_estagio": publico["id_estagio"],
            "nome_estagio": str(estagio.get("nome", "")),
            "cor_estagio": cor_radix(estagio.get("cor")),
            "criado_em": data_hora(publico["criado_em"], fuso),
            "atualizado_em": data_hora(publico["atualizado_em"], fuso),
        }
        linhas: list[AgendamentoLinha] = []
        for job in jobs:
            ordem, nome_automacao = etapas.get(job["id_etapa"], (0, ""))
            linhas.append(
                {
                    "id": job["id"],
                    "etapa": f"Etapa {ordem}" if ordem else "Etapa removida",
                    "automacao": nome_automacao,
                    "agendado_para": data_hora(job["agendado_para"], fuso),
                    "status": job["status"],
                    "chave": job["chave_idempotencia"],
                    "chave_curta": chave_curta(job["chave_idempotencia"]),
                    "erro": job["ultimo_erro"] or "",
                    "tentativas": job["tentativas"],
                    "motivo": MOTIVOS_CANCELAMENTO.get(
                        job["motivo_cancelamento"] or "", job["motivo_cancelamento"] or ""
                    ),
                }
            )
        self.agendamentos = linhas

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
        self.carregando_lead = True
        self.gaveta_aberta = True
        yield
        try:
            self._carregar_lead(id_lead)
        except ErroApp:
            self.gaveta_aberta = False
            raise
        finally:
            self.carregando_lead = False

    @rx.event
    def mudar_gaveta(self, aberta: bool):
        self.gaveta_aberta = aberta

    @rx.event
    def atualizar_lead(self):
        if self.lead["id"]:
            self._carregar_lead(self.lead["id"])
