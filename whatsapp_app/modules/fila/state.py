"""Send queue view-model (``/whatsapp/fila``): filters, pages, selection and operator actions.

Rows are stored raw (``fila.LinhaFila``: ISO instants, status keys) and every display string is
derived in computed vars. Queries and actions come from the service layer
(``cadastro_automacoes.pagina_agendamentos``, ``fila.linhas_da_fila``,
``operacao.acoes_em_lote``); the role rule is the API's (admin and gestor act).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, TypedDict
from urllib.parse import urlencode

import reflex as rx

from whatsapp_app import cadastro_automacoes, db, fila, operacao, paginacao
from whatsapp_app.fila import LinhaFila
from whatsapp_app.models import Perfil
from whatsapp_app.ui.formatacao import FUSO_PADRAO, data_hora, fuso_da_empresa, milhar, plural
from whatsapp_app.ui.sessao import EstadoSessao
from whatsapp_app.validacoes import ErroValidacao

ROTA = "/whatsapp/fila"
TAMANHO_PAGINA = 25
PERFIS_ACAO = (Perfil.ADMIN, Perfil.GESTOR)

# Status key → (chip label, Radix colour, lucide icon): colour is never alone (ui.md).
STATUS: dict[str, tuple[str, str, str]] = {
    "PENDENTE": ("Pendente", "gray", "clock"),
    "PAUSADO": ("Pausado", "gray", "pause"),
    "PROCESSANDO": ("Processando", "blue", "loader"),
    "ENVIADO": ("Enviado", "green", "check"),
    "ERRO": ("Erro", "red", "circle-x"),
    "INCERTO": ("Incerto", "amber", "circle-help"),
    "CANCELADO": ("Cancelado", "gray", "ban"),
}
STATUS_FILTRO = [s for s in STATUS if s in cadastro_automacoes.STATUS_VALIDOS]
ENTREGA = {"enviado": "Enviada", "entregue": "Entregue", "lido": "Lida", "falhou": "Falhou"}
# Action → (statuses it applies to, button verb, toast noun in the past tense).
ACOES: dict[str, tuple[tuple[str, ...], str, tuple[str, str]]] = {
    "reenviar": (("ERRO", "INCERTO"), "Reenviar", ("reenviado", "reenviados")),
    "marcar_enviado": (
        ("INCERTO",),
        "Marcar como enviado",
        ("marcado como enviado", "marcados como enviados"),
    ),
    "cancelar": (("PENDENTE",), "Cancelar envio", ("cancelado", "cancelados")),
}
EXPLICACAO_INCERTO = (
    "O provedor não confirmou se a mensagem saiu. Confira no WhatsApp do número se o lead "
    "recebeu: se recebeu, marque como enviado; se não, reenvie."
)
MOTIVO_SEM_PERMISSAO = "Só administradores e gestores podem reenviar, marcar ou cancelar envios."


# The date range bounds the due time or the sent time (the API's de/ate or enviado_de/ate).
PERIODO_VENCIMENTO = "agendado"
PERIODO_ENVIO = "enviado"


def contagem_limitada(n: int) -> str:
    """A bounded count as the chips show it: "10.000+" above ``paginacao.LIMITE_CONTAGEM``."""
    teto = paginacao.LIMITE_CONTAGEM
    return f"{milhar(teto)}+" if n > teto else milhar(n)


class Opcao(TypedDict):
    id: str
    nome: str


class ChipStatus(TypedDict):
    valor: str
    rotulo: str
    cor: str
    icone: str
    contagem: str
    ativo: bool


class LinhaExibida(TypedDict):
    id: str
    status: str
    rotulo_status: str
    cor_status: str
    icone_status: str
    nome_lead: str
    telefone: str
    etapa: str
    estagio: str
    instancia: str
    mensagem: str
    agendado: str
    enviado: str
    tentativas: str
    entrega: str
    erro: str
    motivo: str
    incerto: bool
    pode_reenviar: bool
    pode_marcar: bool
    pode_cancelar: bool
    selecionado: bool


def intervalo_do_dia(de: str, ate: str, fuso: str) -> tuple[datetime | None, datetime | None]:
    """``AAAA-MM-DD`` inputs → the start of ``de`` and the end of ``ate`` in the company's zone."""
    zona = fuso_da_empresa(fuso)
    try:
        inicio = datetime.combine(datetime.fromisoformat(de).date(), time.min, zona) if de else None
        fim = (
            datetime.combine(datetime.fromisoformat(ate).date(), time.min, zona)
            + timedelta(days=1)
            - timedelta(microseconds=1)
            if ate
            else None
        )
    except ValueError:
        raise ErroValidacao({"de": "Data inválida."}) from None
    return inicio, fim


class EstadoFila(EstadoSessao):
    """The one State of ``/whatsapp/fila``."""

    filtro_status: str = ""
    filtro_instancia: str = ""
    filtro_automacao: str = ""
    filtro_estagio: str = ""
    filtro_de: str = ""
    filtro_ate: str = ""
    periodo: str = PERIODO_VENCIMENTO  # which time the date range bounds: due or sent
    busca: str = ""
    ordem: str = "agendado_para"

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

    selecionados: list[str] = []
    acao_pendente: str = ""  # the action waiting for confirmation
    ids_pendentes: list[str] = []
    executando: bool = False
    anuncio: str = ""  # aria-live: what the last load or action did

    # --- derived values ------------------------------------------------------------------------

    @rx.var(cache=True)
    def pode_agir(self) -> bool:
        return self.perfil in {p.value for p in PERFIS_ACAO}

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
            pode_reenviar=pode and status in ACOES["reenviar"][0],
            pode_marcar=pode and status in ACOES["marcar_enviado"][0],
            pode_cancelar=pode and status in ACOES["cancelar"][0],
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

    @rx.var(cache=True)
    def filtros_ativos(self) -> bool:
        return any(
            (
                self.filtro_status,
                self.filtro_instancia,
                self.filtro_automacao,
                self.filtro_estagio,
                self.filtro_de,
                self.filtro_ate,
                self.busca.strip(),
            )
        )

    @rx.var(cache=True)
    def n_selecionados(self) -> int:
        return len(self.selecionados)

    @rx.var(cache=True)
    def texto_selecao(self) -> str:
        return plural(len(self.selecionados), "envio selecionado", "envios selecionados")

    @rx.var(cache=True)
    def todos_visiveis_marcados(self) -> bool:
        return bool(self.linhas) and len(self.selecionados) == len(self.linhas)

    def _elegiveis(self, acao: str, ids: list[str]) -> list[str]:
        origens = ACOES[acao][0]
        status = {linha["id"]: linha["status"] for linha in self.linhas}
        return [i for i in ids if status.get(i) in origens]

    @rx.var(cache=True)
    def selecao_reenviar(self) -> int:
        return len(self._elegiveis("reenviar", self.selecionados))

    @rx.var(cache=True)
    def selecao_marcar(self) -> int:
        return len(self._elegiveis("marcar_enviado", self.selecionados))

    @rx.var(cache=True)
    def selecao_cancelar(self) -> int:
        return len(self._elegiveis("cancelar", self.selecionados))

    @rx.var(cache=True)
    def confirmacao_aberta(self) -> bool:
        return self.acao_pendente != ""

    @rx.var(cache=True)
    def confirmacao_titulo(self) -> str:
        if not self.acao_pendente:
            return ""
        n = len(self.ids_pendentes)
        verbo = ACOES[self.acao_pendente][1]
        return f"{verbo} {plural(n, 'envio', 'envios')}?" if n > 1 else f"{verbo}?"

    @rx.var(cache=True)
    def confirmacao_texto(self) -> str:
        n = len(self.ids_pendentes)
        alvo = "esta mensagem" if n == 1 else f"estas {milhar(n)} mensagens"
        if self.acao_pendente == "reenviar":
            return (
                f"{alvo.capitalize()} volta para a fila e sai na próxima rodada do despacho. "
                "Se um envio incerto já chegou ao lead, ele recebe de novo."
            )
        if self.acao_pendente == "marcar_enviado":
            return (
                f"{alvo.capitalize()} passa a constar como enviada e entra na conversa do lead. "
                "Nada é enviado agora."
            )
        if self.acao_pendente == "cancelar":
            return f"{alvo.capitalize()} não será enviada. Não dá para desfazer."
        return ""

    @rx.var(cache=True)
    def confirmacao_botao(self) -> str:
        return ACOES[self.acao_pendente][1] if self.acao_pendente else ""

    @rx.var(cache=True)
    def confirmacao_perigo(self) -> bool:
        return self.acao_pendente == "cancelar"

    # --- loading -------------------------------------------------------------------------------

    def _consulta(self) -> dict[str, Any]:
        inicio, fim = intervalo_do_dia(self.filtro_de, self.filtro_ate, self.fuso)
        por_envio = self.periodo == PERIODO_ENVIO
        return {
            "status": self.filtro_status or None,
            "id_whatsapp_instancia": self.filtro_instancia or None,
            "id_whatsapp_automacao": self.filtro_automacao or None,
            "id_estagio_trigger": self.filtro_estagio or None,
            "q": self.busca.strip() or None,
            "de": None if por_envio else inicio,
            "ate": None if por_envio else fim,
            "enviado_de": inicio if por_envio else None,
            "enviado_ate": fim if por_envio else None,
            "ordem": self.ordem,
        }

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

    def _ler_query_string(self) -> None:
        q = self.router.url.query_parameters
        status = str(q.get("status", "")).upper()
        self.filtro_status = status if status in STATUS_FILTRO else ""
        self.filtro_instancia = str(q.get("instancia", ""))[:32]
        self.filtro_automacao = str(q.get("automacao", ""))[:32]
        self.filtro_estagio = str(q.get("estagio", ""))[:32]
        self.filtro_de = _data(q.get("de"))
        self.filtro_ate = _data(q.get("ate"))
        self.periodo = PERIODO_ENVIO if q.get("periodo") == PERIODO_ENVIO else PERIODO_VENCIMENTO
        self.busca = str(q.get("q", ""))[:100]
        self.ordem = "-agendado_para" if q.get("ordem") == "-agendado_para" else "agendado_para"

    def _url(self) -> str:
        pares = {
            "status": self.filtro_status,
            "instancia": self.filtro_instancia,
            "automacao": self.filtro_automacao,
            "estagio": self.filtro_estagio,
            "de": self.filtro_de,
            "ate": self.filtro_ate,
            "periodo": PERIODO_ENVIO if self.periodo == PERIODO_ENVIO else "",
            "q": self.busca.strip(),
            "ordem": "-agendado_para" if self.ordem == "-agendado_para" else "",
        }
        consulta = urlencode({k: v for k, v in pares.items() if v})
        return f"{ROTA}?{consulta}" if consulta else ROTA

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

    # --- filters -------------------------------------------------------------------------------

    @rx.event
    def filtrar_status(self, status: str):
        self.filtro_status = status if status in STATUS_FILTRO else ""
        yield from self._recarregar()

    @rx.event
    def filtrar(self, campo: str, valor: str):
        """One of the selects or date inputs changed (``todos`` clears a select)."""
        valor = "" if valor == "todos" else str(valor)[:32]
        if campo == "instancia":
            self.filtro_instancia = valor
        elif campo == "automacao":
            self.filtro_automacao = valor
        elif campo == "estagio":
            self.filtro_estagio = valor
        elif campo == "de":
            self.filtro_de = _data(valor)
        elif campo == "ate":
            self.filtro_ate = _data(valor)
        elif campo == "periodo":
            self.periodo = PERIODO_ENVIO if valor == PERIODO_ENVIO else PERIODO_VENCIMENTO
        elif campo == "ordem":
            self.ordem = "-agendado_para" if valor == "-agendado_para" else "agendado_para"
        yield from self._recarregar()

    @rx.event
    def buscar(self, texto: str):
        self.busca = texto[:100]
        yield from self._recarregar()

    @rx.event
    def limpar_filtros(self):
        self.filtro_status = self.filtro_instancia = self.filtro_automacao = ""
        self.filtro_estagio = self.filtro_de = self.filtro_ate = self.busca = ""
        self.periodo = PERIODO_VENCIMENTO
        yield rx.call_script(
            "const b = document.getElementById('fila-busca'); if (b) { b.value = ''; }"
        )
        yield from self._recarregar()

    # --- selection and actions ----------------------------------------------------------------

    @rx.event
    def alternar_selecao(self, id_agendamento: str):
        if id_agendamento in self.selecionados:
            self.selecionados = [i for i in self.selecionados if i != id_agendamento]
        elif any(linha["id"] == id_agendamento for linha in self.linhas):
            self.selecionados = [*self.selecionados, id_agendamento]

    @rx.event
    def alternar_todos(self, marcar: bool):
        self.selecionados = [linha["id"] for linha in self.linhas] if marcar else []

    @rx.event
    def pedir_confirmacao(self, acao: str, id_agendamento: str):
        """A row's action button: the dialog asks before anything changes."""
        if acao in ACOES and self.pode_agir and self._elegiveis(acao, [id_agendamento]):
            self.acao_pendente, self.ids_pendentes = acao, [id_agendamento]

    @rx.event
    def pedir_confirmacao_lote(self, acao: str):
        """The selection bar's action: only the selected jobs the action applies to."""
        if acao in ACOES and self.pode_agir and (ids := self._elegiveis(acao, self.selecionados)):
            self.acao_pendente, self.ids_pendentes = acao, ids

    @rx.event
    def fechar_confirmacao(self, aberto: bool = False):
        if not aberto and not self.executando:
            self.acao_pendente, self.ids_pendentes = "", []

    @rx.event
    def confirmar(self):
        acao, ids = self.acao_pendente, list(self.ids_pendentes)
        if not acao or not ids or self.executando:
            return
        self.executando = True
        yield
        try:
            contexto = self.contexto(*PERFIS_ACAO)
            with db.sessao() as sessao:
                resultados = operacao.acoes_em_lote(
                    sessao=sessao,
                    id_empresa=contexto.id_empresa,
                    id_usuario=contexto.id_usuario,
                    ids=ids,
                    acao=acao,
                )
            self._atualizar_linhas(ids)
        finally:
            self.executando = False
        self.acao_pendente, self.ids_pendentes = "", []
        self.selecionados = [i for i in self.selecionados if i not in set(ids)]
        yield _toast_do_resultado(acao, resultados)
        self.anuncio = _texto_resultado(acao, resultados)

    def _atualizar_linhas(self, ids: list[str]) -> None:
        """The changed rows in place (the list keeps its order and scroll position)."""
        contexto = self.contexto()
        with db.sessao() as sessao:
            novas = {
                linha["id"]: linha
                for linha in fila.linhas_da_fila(
                    sessao, id_empresa=contexto.id_empresa, itens=[{"id": i} for i in ids]
                )
            }
            self.contagens = fila.contagem_por_status(sessao, id_empresa=contexto.id_empresa)
        self.linhas = [novas.get(linha["id"], linha) for linha in self.linhas]


def _data(valor: object) -> str:
    texto = str(valor or "")[:10]
    try:
        return datetime.fromisoformat(texto).date().isoformat() if texto else ""
    except ValueError:
        return ""


def _texto_resultado(acao: str, resultados: list[dict[str, Any]]) -> str:
    feitos = sum(1 for r in resultados if r["ok"])
    falhas = len(resultados) - feitos
    singular, plural_ = ACOES[acao][2]
    if feitos == 1 and not falhas:
        texto = f"Envio {singular}."
    else:
        texto = f"{plural(feitos, 'envio', 'envios')} {singular if feitos == 1 else plural_}."
    if falhas:
        verbo = "mudou" if falhas == 1 else "mudaram"
        texto += f" {plural(falhas, 'envio', 'envios')} não {verbo}: o status já era outro."
    return texto


def _toast_do_resultado(acao: str, resultados: list[dict[str, Any]]) -> Any:
    texto = _texto_resultado(acao, resultados)
    if all(not r["ok"] for r in resultados):
        return rx.toast.error(texto, id="fila-acao")
    if any(not r["ok"] for r in resultados):
        return rx.toast.warning(texto, id="fila-acao")
    return rx.toast.success(texto, id="fila-acao")
