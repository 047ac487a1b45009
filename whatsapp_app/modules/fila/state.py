"""Send queue view-model (``/whatsapp/fila``): ``EstadoFila``, loading and the displayed rows;
the filters are ``estado_filtros.MixinFiltrosFila``, the selection and operator actions
``estado_acoes.MixinAcoesFila``.

Rows are stored raw (``fila.LinhaFila``: ISO instants, status keys) and every display string is
derived in computed vars. Queries and actions come from the service layer
(``cadastro_automacoes.pagina_agendamentos``, ``fila.linhas_da_fila``,
``operacao.acoes_em_lote``); the role rule is the API's (admin and gestor act).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from whatsapp_app import cadastro_automacoes, db, fila, operacao, paginacao
from whatsapp_app.fila import LinhaFila
from whatsapp_app.modules.fila.estado_acoes import MixinAcoesFila
from whatsapp_app.modules.fila.estado_filtros import MixinFiltrosFila
from whatsapp_app.modules.fila.tipos import (
    ACOES,
    ENTREGA,
    EXPLICACAO_INCERTO,
    MOTIVO_SEM_PERMISSAO,
    PERIODO_ENVIO,
    PERIODO_VENCIMENTO,
    ROTA,
    STATUS,
    STATUS_FILTRO,
    TAMANHO_PAGINA,
    ChipStatus,
    LinhaExibida,
    Opcao,
    contagem_limitada,
    intervalo_do_dia,
)
from whatsapp_app.ui.formatacao import FUSO_PADRAO, data_hora, fuso_da_empresa, milhar, plural
from whatsapp_app.ui.sessao import EstadoSessao

__all__ = [
    "ACOES",
    "EXPLICACAO_INCERTO",
    "MOTIVO_SEM_PERMISSAO",
    "PERIODO_ENVIO",
    "PERIODO_VENCIMENTO",
    "ROTA",
    "EstadoFila",
    "contagem_limitada",
    "intervalo_do_dia",
]


class EstadoFila(MixinFiltrosFila, MixinAcoesFila, EstadoSessao):
    """The one State of ``/whatsapp/fila``."""

    linhas: list[LinhaFila] = []
    proximo_cursor: str = ""
    total: int = 0
    total_exato: bool = True  # False: more than ``total`` (counts are bounded: paginacao)
    contagens: dict[str, int] = {}
    fuso: str = FUSO_PADRAO
    instancias: list[Opcao] = []
    automacoes: list[Opcao] = []
    estagios: list[Opcao] = []
    carregando: bool = True
    carregando_mais: bool = False

    # --- derived values ------------------------------------------------------------------------

    @rx.var(cache=True)
    def chips_status(self) -> list[ChipStatus]:
        teto = paginacao.LIMITE_CONTAGEM
        total = sum(min(n, teto) for n in self.contagens.values())
        algum_limitado = any(n > teto for n in self.contagens.values())
        chips = [
            ChipStatus(
                valor="",
                rotulo="Todos",
                cor="gray",
                icone="list",
                contagem=f"{milhar(total)}+" if algum_limitado else milhar(total),
                ativo=self.filtro_status == "",
            )
        ]
        for valor in STATUS_FILTRO:
            rotulo, cor, icone = STATUS[valor]
            chips.append(
                ChipStatus(
                    valor=valor,
                    rotulo=rotulo,
                    cor=cor,
                    icone=icone,
                    contagem=contagem_limitada(self.contagens.get(valor, 0)),
                    ativo=self.filtro_status == valor,
                )
            )
        return chips

    @rx.var(cache=True)
    def linhas_exibidas(self) -> list[LinhaExibida]:
        zona = fuso_da_empresa(self.fuso)
        marcados = set(self.selecionados)
        return [self._exibir(linha, zona, linha["id"] in marcados) for linha in self.linhas]

    def _exibir(self, linha: LinhaFila, zona: Any, selecionado: bool) -> LinhaExibida:
        status = linha["status"]
        rotulo, cor, icone = STATUS.get(status, (status.capitalize(), "gray", "circle"))
        pode = self.pode_agir
        return LinhaExibida(
            id=linha["id"],
            status=status,
            rotulo_status=rotulo,
            cor_status=cor,
            icone_status=icone,
            nome_lead=linha["nome_lead"],
            telefone=linha["telefone"],
            etapa=f"Etapa {linha['ordem_etapa']} · {linha['nome_automacao']}",
            estagio=linha["nome_estagio"],
            instancia=linha["nome_instancia"],
            mensagem=linha["mensagem"],
            agendado=data_hora(linha["agendado_para"], zona),
            enviado=data_hora(linha["enviado_em"], zona),
            tentativas=plural(linha["tentativas"], "tentativa", "tentativas"),
            entrega=ENTREGA.get(linha["status_entrega"], ""),
            erro=linha["erro"],
            motivo=linha["motivo_cancelamento"],
            incerto=status == "INCERTO",
            pode_reenviar=pode and operacao.acao_se_aplica("reenviar", status),
            pode_marcar=pode and operacao.acao_se_aplica("marcar_enviado", status),
            pode_cancelar=pode and operacao.acao_se_aplica("cancelar", status),
            selecionado=selecionado,
        )

    @rx.var(cache=True)
    def resumo(self) -> str:
        if self.total == 0:
            return "Nenhum envio com estes filtros."
        mostrando = len(self.linhas)
        if not self.total_exato:
            return f"Mostrando {milhar(mostrando)} de mais de {milhar(self.total)} envios"
        if mostrando >= self.total:
            return plural(self.total, "envio", "envios")
        return f"Mostrando {milhar(mostrando)} de {plural(self.total, 'envio', 'envios')}"

    @rx.var(cache=True)
    def tem_mais(self) -> bool:
        return self.proximo_cursor != ""

    # --- loading -------------------------------------------------------------------------------

    def _buscar(self, cursor: str | None) -> None:
        contexto = self.contexto()
        with db.sessao() as sessao:
            pagina = cadastro_automacoes.pagina_agendamentos(
                sessao=sessao,
                id_empresa=contexto.id_empresa,
                limite=TAMANHO_PAGINA,
                cursor=cursor,
                **self._consulta(),
            )
            novas = fila.linhas_da_fila(
                sessao, id_empresa=contexto.id_empresa, itens=pagina["itens"]
            )
            self.contagens = fila.contagem_por_status(sessao, id_empresa=contexto.id_empresa)
        self.linhas = [*self.linhas, *novas] if cursor else novas
        self.proximo_cursor = pagina["proximo_cursor"] or ""
        self.total = int(pagina["total"])
        self.total_exato = bool(pagina["total_exato"])
        if not cursor:
            self.selecionados = []
        self.anuncio = self.resumo

    def _recarregar(self):
        """Reload the first page and keep the URL in step with the filters (shareable links)."""
        self.carregando = True
        yield
        try:
            self._buscar(None)
        finally:
            self.carregando = False
        yield rx.call_script(f"window.history.replaceState(null, '', {self._url()!r})")

    @rx.event
    def carregar(self):
        """on_load: filters from the query string, the filter choices, the first page."""
        self.carregando = True
        self.acao_pendente = ""
        self._ler_query_string()
        yield
        try:
            contexto = self.contexto()
            with db.sessao() as sessao:
                opcoes = fila.opcoes_filtros(sessao, id_empresa=contexto.id_empresa)
            self.fuso = opcoes["fuso"] or FUSO_PADRAO
            self.instancias = opcoes["instancias"]
            self.automacoes = opcoes["automacoes"]
            self.estagios = opcoes["estagios"]
            self._buscar(None)
        finally:
            self.carregando = False

    @rx.event
    def carregar_mais(self):
        if not self.proximo_cursor or self.carregando_mais:
            return
        self.carregando_mais = True
        yield
        try:
            self._buscar(self.proximo_cursor)
        finally:
            self.carregando_mais = False
