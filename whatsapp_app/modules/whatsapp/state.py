"""WhatsApp view-model (the plan's ``use-whatsapp-module.ts``): the one State of ``/whatsapp``.

Every event starts with ``self.contexto(...)`` and calls the service functions inside one
``db.sessao()``; no business rule lives here. Provider calls and the dispatcher can take
seconds, so they run in background events, in a worker thread, outside ``async with self``
(the state lock is held only to read inputs and write results). Rows are plain TypedDicts of
display-ready strings; the State keeps ids, never ORM objects.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from datetime import datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

import reflex as rx
from pydantic import ValidationError
from sqlmodel import Session

from whatsapp_app import cadastro_automacoes, db, empresas, feature_flags, instancias, mensagens
from whatsapp_app import whatsapp_automations as automacoes
from whatsapp_app.logs import logger
from whatsapp_app.models import Perfil
from whatsapp_app.modules.whatsapp.modelos import (
    LEAD_EXEMPLO,
    CamposModelo,
    MixinModelos,
    campos_modelo,
    erros_modelo,
    modelo_da_etapa,
)
from whatsapp_app.modules.whatsapp.theme import PROVEDOR_DESCONHECIDO, PROVEDORES
from whatsapp_app.tempo import agora
from whatsapp_app.ui.formatacao import (
    FUSO_PADRAO,
    cor_radix,
    fuso_da_empresa,
    milhar,
    plural,
    tempo_relativo,
)
from whatsapp_app.ui.sessao import EstadoSessao
from whatsapp_app.validacoes import (
    MAX_ATRASO_MINUTOS,
    MAX_ETAPAS,
    AutomacaoAtualizacao,
    AutomacaoEntrada,
    ErroApp,
    erro_de_validacao,
)
from whatsapp_app.whatsapp_automations import (
    VARIAVEIS_MODELO,
    processar_agendamentos_follow_up_whatsapp,
    renderizar_mensagem,
)

_log = logger("ui.whatsapp")

ROTA = "/whatsapp"
INTERVALO_SONDAGEM_S = 4.0  # seconds between two reads of the instances' status
INTERVALO_SONDAGEM_QR_S = 2.0  # faster while the QR dialog waits for the scan
RENOVAR_QR_S = 20.0  # seconds before a QR still waiting for the scan is fetched again
DURACAO_MAX_SONDAGEM_S = 30 * 60  # a forgotten tab stops polling after this
CAMPO_OBRIGATORIO = "Campo obrigatório."
PERFIS_GESTAO = (Perfil.ADMIN, Perfil.GESTOR)
# After a refused save, the keyboard lands on the first field that needs fixing.
FOCAR_PRIMEIRO_ERRO = rx.call_script(
    "setTimeout(() => { const el = document.querySelector("
    "'.wa-wpp-painel [aria-invalid=\"true\"]'); "
    "if (el) { el.focus(); el.scrollIntoView({block: 'center'}); } }, 60)"
)

FLAG_CARDS = "whatsapp_cards_status"
FLAG_FLUXOS = "whatsapp_lista_fluxos"
FLAG_DISPARO = "whatsapp_disparo_manual"
FLAG_CONSTRUTOR = "whatsapp_construtor_lateral"

MINUTOS_POR_UNIDADE = {"minutos": 1, "horas": 60, "dias": 1440}
ROTULOS_REENTRADA = {
    "uma_vez": "Uma vez por lead",
    "a_cada_entrada": "A cada entrada no estágio",
}
ROTULOS_EVENTO = {"lead_stage_changed": "Mudança de estágio"}

# Dispatch phases shown by the overlay's steps.
FASE_FILA = "fila"
FASE_PROCESSANDO = "processando"
FASE_CONCLUIDO = "concluido"
FASE_ERRO = "erro"
FASES_EM_ANDAMENTO = (FASE_FILA, FASE_PROCESSANDO)


class InstanciaCartao(TypedDict):
    id: str
    nome: str
    provider: str
    rotulo_provider: str
    status: str
    sincronizacao: str
    sincronizacao_completa: str
    pendentes: str
    processando: str
    enviados_24h: str
    erros_24h: str
    tem_erros: bool
    incertos: str
    tem_incertos: bool
    vencidos: int
    erro_conexao: str
    respostas_24h: str
    tem_respostas: bool


class Opcao(TypedDict):
    id: str
    nome: str
    cor: str


class FluxoLinha(TypedDict):
    id: str
    nome: str
    id_estagio: str
    nome_estagio: str
    cor_estagio: str
    id_instancia: str
    nome_instancia: str
    ativo: bool
    reentrada: str
    rotulo_reentrada: str
    cancelar_ao_sair: bool
    parar_ao_responder: bool
    total_etapas: int
    resumo_etapas: str
    salvando: bool


class EtapaForm(CamposModelo):
    chave: str
    atraso: str
    unidade: str
    mensagem: str
    erro_atraso: str
    erro_mensagem: str


class Resumo(TypedDict):
    claimed: int
    sent: int
    failed: int
    retried: int
    uncertain: int
    skipped_already_claimed: int


RESUMO_VAZIO: Resumo = {
    "claimed": 0,
    "sent": 0,
    "failed": 0,
    "retried": 0,
    "uncertain": 0,
    "skipped_already_claimed": 0,
}


# --- formatting (display only) ---------------------------------------------------------------


def rotulo_atraso(minutos: int) -> str:
    """``0`` → ``0 min``, ``60`` → ``1 h``, ``1440`` → ``1 dia``, ``90`` → ``1 h 30 min``."""
    if minutos and minutos % 1440 == 0:
        dias = minutos // 1440
        return f"{dias} dia" + ("s" if dias > 1 else "")
    if minutos >= 60:
        horas, resto = divmod(minutos, 60)
        return f"{horas} h" + (f" {resto} min" if resto else "")
    return f"{minutos} min"


def resumo_etapas(atrasos: list[int]) -> str:
    """``3 mensagens · 0 min, 1 h, 1 dia``."""
    total = len(atrasos)
    palavra = "mensagem" if total == 1 else "mensagens"
    return f"{total} {palavra} · " + ", ".join(rotulo_atraso(a) for a in atrasos)


def unidade_de(minutos: int) -> tuple[str, str]:
    """The largest unit that writes ``minutos`` as a whole number: ``(valor, unidade)``."""
    if minutos and minutos % 1440 == 0:
        return str(minutos // 1440), "dias"
    if minutos and minutos % 60 == 0:
        return str(minutos // 60), "horas"
    return str(minutos), "minutos"


def _etapa_vazia(
    atraso: str = "0",
    unidade: str = "minutos",
    mensagem: str = "",
    modelo: dict[str, Any] | None = None,
) -> EtapaForm:
    return {
        "chave": uuid.uuid4().hex[:8],
        "atraso": atraso,
        "unidade": unidade,
        "mensagem": mensagem,
        "erro_atraso": "",
        "erro_mensagem": "",
        **campos_modelo(modelo),
    }


def rotulo_respostas(total: int) -> str:
    """``Nenhuma resposta em 24 h``, ``1 resposta em 24 h``, ``1.234 respostas em 24 h``."""
    if not total:
        return "Nenhuma resposta em 24 h"
    return plural(total, "resposta", "respostas") + " em 24 h"


def _cartao(
    publica: dict[str, Any],
    fila: dict[str, int],
    referencia: datetime,
    fuso: ZoneInfo,
    respostas: int = 0,
):
    rotulo, _icone = PROVEDORES.get(publica["provider"], PROVEDOR_DESCONHECIDO)
    sincronizada = publica["ultima_sincronizacao"]
    completa = (
        datetime.fromisoformat(sincronizada).astimezone(fuso).strftime("%d/%m/%Y %H:%M")
        if sincronizada
        else ""
    )
    cartao: InstanciaCartao = {
        "id": publica["id"],
        "nome": publica["nome"],
        "provider": publica["provider"],
        "rotulo_provider": rotulo,
        "status": publica["status"],
        "sincronizacao": (
            f"Última sincronização {tempo_relativo(sincronizada, referencia)}"
            if sincronizada
            else "Ainda não sincronizada"
        ),
        "sincronizacao_completa": completa,
        "pendentes": milhar(fila["pendentes"]),
        "processando": milhar(fila["processando"]),
        "enviados_24h": milhar(fila["enviados_24h"]),
        "erros_24h": milhar(fila["erros_24h"]),
        "tem_erros": fila["erros_24h"] > 0,
        "incertos": milhar(fila.get("incertos", 0)),
        "tem_incertos": fila.get("incertos", 0) > 0,
        "vencidos": int(fila.get("vencidos", 0)),
        "erro_conexao": publica.get("erro_conexao") or "",
        "respostas_24h": rotulo_respostas(respostas),
        "tem_respostas": respostas > 0,
    }
    return cartao


def ler_cartoes(id_empresa: str) -> list[InstanciaCartao]:
    """The instances' cards, read fresh (run in a worker thread by the polling loop)."""
    with db.sessao() as s:
        return _ler_cartoes(s, id_empresa)


def _ler_cartoes(s: Session, id_empresa: str) -> list[InstanciaCartao]:
    fuso = fuso_da_empresa(empresas.obter_empresa(sessao=s, id_empresa=id_empresa).fuso_horario)
    referencia = agora()
    # One grouped query for every instance's replies.
    respostas = mensagens.respostas_24h_por_instancia(s, id_empresa=id_empresa)
    cartoes = []
    for instancia in instancias.listar_instancias(sessao=s, id_empresa=id_empresa):
        fila = instancias.fila_da_instancia(
            sessao=s, id_empresa=id_empresa, id_instancia=instancia.id
        )
        cartoes.append(
            _cartao(
                instancias.instancia_publica(instancia),
                fila,
                referencia,
                fuso,
                respostas.get(instancia.id, 0),
            )
        )
    return cartoes


def _qr_como_imagem(qr_base64: str | None) -> str:
    if not qr_base64:
        return ""
    return qr_base64 if qr_base64.startswith("data:") else f"data:image/png;base64,{qr_base64}"


def _campos_amigaveis(campos: dict[str, str], valores: dict[str, Any]) -> dict[str, str]:
    """Blank required fields read "Campo obrigatório." (or "Escolha …") instead of a length rule."""
    escolha = {
        "id_estagio_trigger": "Escolha o estágio que dispara a automação.",
        "id_whatsapp_instancia": "Escolha a instância que envia as mensagens.",
    }
    amigaveis = {}
    for campo, mensagem in campos.items():
        vazio = campo in valores and not str(valores[campo] or "").strip()
        if vazio:
            mensagem = escolha.get(campo, CAMPO_OBRIGATORIO)
        amigaveis[campo] = mensagem
    return amigaveis


class EstadoWhatsapp(MixinModelos, EstadoSessao):
    """The one State of the WhatsApp page."""

    carregando: bool = True
    _fuso: str = FUSO_PADRAO
    flag_cards: bool = True
    flag_fluxos: bool = True
    flag_disparo: bool = True
    flag_construtor: bool = True

    instancias: list[InstanciaCartao] = []
    estagios: list[Opcao] = []
    fluxos: list[FluxoLinha] = []

    # Flow-list filters ("" = all).
    filtro_evento: str = ""
    filtro_status: str = ""
    filtro_instancia: str = ""

    # Live polling of the instances' status.
    ao_vivo: bool = False
    _geracao_sondagem: int = 0
    _sondagem_viva: int = 0

    # QR dialog.
    qr_aberto: bool = False
    qr_id_instancia: str = ""
    qr_nome: str = ""
    qr_imagem: str = ""
    qr_codigo: str = ""
    qr_status: str = ""
    qr_carregando: bool = False
    qr_erro: str = ""
    _qr_em: float = 0.0

    # "Nova instância" dialog.
    instancia_aberta: bool = False
    instancia_provider: str = "simulador"
    instancia_salvando: bool = False
    instancia_erros: dict[str, str] = {}

    # Dispatch ("Disparar agora") and its overlay.
    disparo_fase: str = ""
    disparo_overlay: bool = False
    disparo_resumo: Resumo = RESUMO_VAZIO
    disparo_erro: str = ""
    disparo_quando: str = ""

    # Slide-over builder.
    painel_aberto: bool = False
    editando_id: str = ""
    form_nome: str = ""
    form_estagio: str = ""
    form_instancia: str = ""
    form_reentrada: str = "uma_vez"
    form_cancelar: bool = True
    form_ativo: bool = True
    # Resuming a paused automation whose jobs fell due during the pause: ask first.
    retomar_id: str = ""
    retomar_nome: str = ""
    retomar_vencidos: int = 0
    etapas: list[EtapaForm] = []
    erros: dict[str, str] = {}
    salvando: bool = False
    confirmar_descarte: bool = False
    _rascunho_inicial: str = ""

    # Delete confirmation.
    excluir_id: str = ""
    excluir_nome: str = ""

    # --- derived -----------------------------------------------------------------------------

    @rx.var(cache=True)
    def pode_gerir(self) -> bool:
        return self.perfil in {p.value for p in PERFIS_GESTAO}

    @rx.var(cache=True)
    def eh_admin(self) -> bool:
        return self.perfil == Perfil.ADMIN.value

    @rx.var(cache=True)
    def opcoes_instancia(self) -> list[Opcao]:
        return [{"id": i["id"], "nome": i["nome"], "cor": "gray"} for i in self.instancias]

    @rx.var(cache=True)
    def fluxos_filtrados(self) -> list[FluxoLinha]:
        linhas = self.fluxos
        if self.filtro_status:
            ativo = self.filtro_status == "ativa"
            linhas = [f for f in linhas if f["ativo"] == ativo]
        if self.filtro_instancia:
            linhas = [f for f in linhas if f["id_instancia"] == self.filtro_instancia]
        # One event exists today ("lead_stage_changed"): every flow matches it.
        return linhas

    @rx.var(cache=True)
    def total_fluxos(self) -> int:
        return len(self.fluxos)

    @rx.var(cache=True)
    def tem_filtro(self) -> bool:
        return bool(self.filtro_evento or self.filtro_status or self.filtro_instancia)

    @rx.var(cache=True)
    def fila_texto(self) -> str:
        total = sum(int(i["pendentes"].replace(".", "")) for i in self.instancias)
        vencidos = sum(i["vencidos"] for i in self.instancias)
        texto = plural(total, "envio pendente", "envios pendentes") + " na fila"
        # "Pendentes" (all) is not "vencidos agora" (due): say both.
        return f"{texto} · {plural(vencidos, 'vencido', 'vencidos')} agora" if total else texto

    @rx.var(cache=True)
    def fila_erros_texto(self) -> str:
        total = sum(int(i["erros_24h"].replace(".", "")) for i in self.instancias)
        return plural(total, "erro", "erros") + " nas últimas 24 h"

    @rx.var(cache=True)
    def fila_incertos_texto(self) -> str:
        """Uncertain sends wait for an operator whatever their age: counted apart."""
        total = sum(int(i["incertos"].replace(".", "")) for i in self.instancias)
        return plural(total, "envio incerto", "envios incertos") if total else ""

    @rx.var(cache=True)
    def disparo_em_andamento(self) -> bool:
        return self.disparo_fase in FASES_EM_ANDAMENTO

    @rx.var(cache=True)
    def disparo_passo(self) -> int:
        """1 na fila, 2 processando, 3 concluído (or failed); 0 when idle."""
        return {FASE_FILA: 1, FASE_PROCESSANDO: 2, FASE_CONCLUIDO: 3, FASE_ERRO: 3}.get(
            self.disparo_fase, 0
        )

    @rx.var(cache=True)
    def disparo_titulo(self) -> str:
        """The overlay's visible status line."""
        return {
            FASE_FILA: "Na fila…",
            FASE_PROCESSANDO: "Enviando os follow-ups vencidos…",
            FASE_CONCLUIDO: f"Concluído às {self.disparo_quando}",
            FASE_ERRO: "O disparo não terminou",
        }.get(self.disparo_fase, "")

    @rx.var(cache=True)
    def disparo_texto(self) -> str:
        """The whole outcome in one sentence, for aria-live."""
        r = self.disparo_resumo
        return {
            FASE_FILA: "Disparo na fila.",
            FASE_PROCESSANDO: "Processando os envios vencidos.",
            FASE_CONCLUIDO: (
                "Disparo concluído: nenhum envio vencido agora."
                if r["claimed"] == 0
                else "Disparo concluído: "
                + ", ".join(
                    [
                        plural(r["sent"], "enviado", "enviados"),
                        f"{milhar(r['failed'])} com erro",
                        plural(r["retried"], "reagendado", "reagendados"),
                        plural(r["uncertain"], "incerto", "incertos"),
                    ]
                )
                + "."
            ),
            FASE_ERRO: f"O disparo falhou: {self.disparo_erro}",
        }.get(self.disparo_fase, "")

    @rx.var(cache=True)
    def resumo_formatado(self) -> dict[str, str]:
        return {chave: milhar(int(str(valor))) for chave, valor in self.disparo_resumo.items()}

    @rx.var(cache=True)
    def nome_estagio_form(self) -> str:
        return next((e["nome"] for e in self.estagios if e["id"] == self.form_estagio), "")

    @rx.var(cache=True)
    def previas(self) -> list[str]:
        """Each step rendered for a sample lead, as the WhatsApp bubble shows it."""
        estagio = self.nome_estagio_form or "Qualificado"
        empresa = self.nome_empresa or "sua empresa"
        return [
            renderizar_mensagem(e["mensagem"], nome=LEAD_EXEMPLO, empresa=empresa, estagio=estagio)
            for e in self.etapas
        ]

    @rx.var(cache=True)
    def atrasos_previa(self) -> list[str]:
        """The delay label of each step for the preview ("assim que entrar", "após 1 h")."""
        rotulos = []
        for e in self.etapas:
            try:
                minutos = int(e["atraso"]) * MINUTOS_POR_UNIDADE.get(e["unidade"], 1)
            except ValueError:
                rotulos.append("atraso inválido")
                continue
            rotulos.append(
                "Assim que entrar no estágio" if minutos == 0 else f"Após {rotulo_atraso(minutos)}"
            )
        return rotulos

    @rx.var(cache=True)
    def total_etapas(self) -> int:
        return len(self.etapas)

    @rx.var(cache=True)
    def pode_adicionar_etapa(self) -> bool:
        return len(self.etapas) < MAX_ETAPAS

    # --- loading -------------------------------------------------------------------------------

    def _ler_flags(self, s: Session, id_empresa: str) -> None:
        flags = feature_flags.flags_da_empresa(sessao=s, id_empresa=id_empresa)
        self.flag_cards = bool(flags[FLAG_CARDS]["ativo"])
        self.flag_fluxos = bool(flags[FLAG_FLUXOS]["ativo"])
        self.flag_disparo = bool(flags[FLAG_DISPARO]["ativo"])
        self.flag_construtor = bool(flags[FLAG_CONSTRUTOR]["ativo"])

    def _ler_fluxos(self, s: Session, id_empresa: str) -> None:
        nomes_instancia = {i["id"]: i["nome"] for i in self.instancias}
        estagios = {e["id"]: e for e in self.estagios}
        linhas: list[FluxoLinha] = []
        for automacao in cadastro_automacoes.listar_automacoes(sessao=s, id_empresa=id_empresa):
            dados = cadastro_automacoes.automacao_publica(s, automacao)
            estagio = estagios.get(dados["id_estagio_trigger"])
            atrasos = [e["atraso_minutos"] for e in dados["etapas"]]
            linhas.append(
                {
                    "id": dados["id"],
                    "nome": dados["nome"],
                    "id_estagio": dados["id_estagio_trigger"],
                    "nome_estagio": estagio["nome"] if estagio else "Estágio removido",
                    "cor_estagio": estagio["cor"] if estagio else "gray",
                    "id_instancia": dados["id_whatsapp_instancia"],
                    "nome_instancia": nomes_instancia.get(
                        dados["id_whatsapp_instancia"], "Instância removida"
                    ),
                    "ativo": bool(dados["ativo"]),
                    "reentrada": dados["reentrada"],
                    "rotulo_reentrada": ROTULOS_REENTRADA.get(
                        dados["reentrada"], dados["reentrada"]
                    ),
                    "cancelar_ao_sair": bool(dados["cancelar_ao_sair"]),
                    "parar_ao_responder": bool(dados.get("parar_ao_responder", True)),
                    "total_etapas": len(atrasos),
                    "resumo_etapas": resumo_etapas(atrasos),
                    "salvando": False,
                }
            )
        self.fluxos = linhas

    def _ler_tudo(self, id_empresa: str) -> None:
        with db.sessao() as s:
            self._fuso = empresas.obter_empresa(sessao=s, id_empresa=id_empresa).fuso_horario
            self._ler_flags(s, id_empresa)
            self.estagios = [
                {"id": e.id, "nome": e.nome, "cor": cor_radix(e.cor)}
                for e in empresas.listar_estagios(sessao=s, id_empresa=id_empresa)
            ]
            self.instancias = _ler_cartoes(s, id_empresa)
            self._ler_fluxos(s, id_empresa)

    def _recarregar(self) -> None:
        contexto = self.contexto()
        self._ler_tudo(contexto.id_empresa)

    @rx.event
    def carregar(self):
        """on_load: flags, stages, instances and flows; then the live status loop."""
        self.carregando = True
        self.painel_aberto = self.confirmar_descarte = False
        self.qr_aberto = self.instancia_aberta = False
        self.excluir_id = ""
        yield
        try:
            self._recarregar()
        finally:
            self.carregando = False
        if self.flag_cards:
            yield EstadoWhatsapp.acompanhar

    # --- live status (background) --------------------------------------------------------------

    @rx.event(background=True)
    async def acompanhar(self):
        """Poll the instances' status while this page is open (one loop per tab)."""
        async with self:
            if self._sondagem_viva and self._sondagem_viva == self._geracao_sondagem:
                return  # a loop of this visit is already running
            self._geracao_sondagem += 1
            geracao = self._sondagem_viva = self._geracao_sondagem
            self.ao_vivo = True
        inicio = time.monotonic()
        intervalo = INTERVALO_SONDAGEM_S
        try:
            while time.monotonic() - inicio < DURACAO_MAX_SONDAGEM_S:
                await asyncio.sleep(intervalo)
                async with self:
                    if (
                        self._geracao_sondagem != geracao
                        or not self.flag_cards
                        or self.router.url.path.rstrip("/") != ROTA
                    ):
                        break
                    id_empresa = self.contexto().id_empresa
                    qr_id = self.qr_id_instancia if self.qr_aberto else ""
                    renovar_qr = bool(qr_id) and time.monotonic() - self._qr_em > RENOVAR_QR_S
                cartoes = await asyncio.to_thread(ler_cartoes, id_empresa)
                status_qr = next((c["status"] for c in cartoes if c["id"] == qr_id), "")
                resposta_qr: dict[str, Any] | None = None
                if renovar_qr and status_qr == "conectando":
                    try:
                        resposta_qr = await asyncio.to_thread(
                            instancias.conectar_instancia, id_empresa=id_empresa, id_instancia=qr_id
                        )
                    except ErroApp as exc:
                        _log.info("QR não renovado", extra={"erro": exc.mensagem})
                async with self:
                    if self._geracao_sondagem != geracao:
                        break
                    self.instancias = cartoes
                    if self.qr_aberto and self.qr_id_instancia == qr_id and status_qr:
                        self.qr_status = status_qr
                        if resposta_qr is not None:
                            self._aplicar_qr(resposta_qr)
                    intervalo = INTERVALO_SONDAGEM_QR_S if self.qr_aberto else INTERVALO_SONDAGEM_S
        finally:
            async with self:
                if self._sondagem_viva == geracao:
                    self._sondagem_viva = 0
                    self.ao_vivo = False

    @rx.event
    def parar_acompanhamento(self):
        """The page was left (unmount): the loop stops at its next tick."""
        self._geracao_sondagem += 1

    # --- instance actions ----------------------------------------------------------------------

    def _aplicar_qr(self, resposta: dict[str, Any]) -> None:
        self.qr_status = str(resposta.get("status") or self.qr_status)
        imagem = _qr_como_imagem(resposta.get("qr_base64"))
        if imagem:
            self.qr_imagem = imagem
        self.qr_codigo = str(resposta.get("pairing_code") or self.qr_codigo)
        self._qr_em = time.monotonic()

    def _definir_status_local(self, id_instancia: str, status: str) -> None:
        self.instancias = [
            {**c, "status": status} if c["id"] == id_instancia else c for c in self.instancias
        ]

    @rx.event(background=True)
    async def conectar(self, id_instancia: str):
        """Conectar / Abrir QR: start pairing and show the QR while the instance connects."""
        async with self:
            contexto = self.contexto(*PERFIS_GESTAO)
            cartao = next((c for c in self.instancias if c["id"] == id_instancia), None)
            if cartao is None:
                return
            self.qr_id_instancia = id_instancia
            self.qr_nome = cartao["nome"]
            self.qr_status = cartao["status"]
            self.qr_imagem = self.qr_codigo = self.qr_erro = ""
            self.qr_carregando = True
            self.qr_aberto = True
        try:
            resposta = await asyncio.to_thread(
                instancias.conectar_instancia,
                id_empresa=contexto.id_empresa,
                id_instancia=id_instancia,
            )
        except ErroApp as exc:
            async with self:
                self.qr_erro = exc.mensagem
                self.qr_carregando = False
            return
        except Exception:
            _log.exception("falha ao conectar instância", extra={"id_instancia": id_instancia})
            async with self:
                self.qr_erro = "Não foi possível falar com o provedor. Tente novamente."
                self.qr_carregando = False
            return
        cartoes = await asyncio.to_thread(ler_cartoes, contexto.id_empresa)
        async with self:
            self.qr_carregando = False
            if self.qr_id_instancia == id_instancia:
                self._aplicar_qr(resposta)
            self.instancias = cartoes
        yield EstadoWhatsapp.acompanhar

    @rx.event
    def mudar_qr(self, aberto: bool):
        self.qr_aberto = aberto
        if not aberto:
            self.qr_imagem = self.qr_codigo = self.qr_erro = ""

    @rx.event(background=True)
    async def reconectar(self, id_instancia: str):
        """Reconectar: restart the provider session and read its state back."""
        async with self:
            contexto = self.contexto(*PERFIS_GESTAO)
            self._definir_status_local(id_instancia, "conectando")
        try:
            resposta = await asyncio.to_thread(
                instancias.reiniciar_instancia,
                id_empresa=contexto.id_empresa,
                id_instancia=id_instancia,
            )
        except ErroApp as exc:
            yield rx.toast.error(f"Não foi possível reconectar: {exc.mensagem}")
            resposta = None
        cartoes = await asyncio.to_thread(ler_cartoes, contexto.id_empresa)
        async with self:
            self.instancias = cartoes
        if resposta is not None:
            yield rx.toast.success("Reconexão solicitada. O status se atualiza sozinho.")
        yield EstadoWhatsapp.acompanhar

    @rx.event(background=True)
    async def desconectar(self, id_instancia: str):
        async with self:
            contexto = self.contexto(*PERFIS_GESTAO)
        try:
            await asyncio.to_thread(
                instancias.desconectar_instancia,
                id_empresa=contexto.id_empresa,
                id_instancia=id_instancia,
            )
        except ErroApp as exc:
            yield rx.toast.error(f"Não foi possível desconectar: {exc.mensagem}")
            return
        cartoes = await asyncio.to_thread(ler_cartoes, contexto.id_empresa)
        async with self:
            self.instancias = cartoes
        yield rx.toast.success("Instância desconectada.")

    # --- "Nova instância" ---------------------------------------------------------------------

    @rx.event
    def abrir_nova_instancia(self):
        self.contexto(Perfil.ADMIN)
        self.instancia_provider = "simulador"
        self.instancia_erros = {}
        self.instancia_aberta = True

    @rx.event
    def mudar_nova_instancia(self, aberto: bool):
        if not aberto and self.instancia_salvando:
            return
        self.instancia_aberta = aberto
        if not aberto:
            self.instancia_erros = {}

    @rx.event
    def escolher_provider(self, provider: str | list[str]):
        provider = provider[0] if isinstance(provider, list) else provider
        if provider in PROVEDORES:
            self.instancia_provider = provider
            self.instancia_erros = {}

    @rx.event
    def criar_instancia(self, dados: dict[str, Any]):
        contexto = self.contexto(Perfil.ADMIN)
        if self.instancia_salvando:
            return
        config = {
            chave.removeprefix("config_"): str(valor).strip()
            for chave, valor in dados.items()
            if chave.startswith("config_") and str(valor).strip()
        }
        bruto = {
            "nome": str(dados.get("nome", "")),
            "provider": self.instancia_provider,
            "config": config,
        }
        try:
            entrada = instancias.InstanciaEntrada.model_validate(bruto)
        except ValidationError as exc:
            self.instancia_erros = _campos_amigaveis(erro_de_validacao(exc).campos, bruto)
            return
        self.instancia_salvando = True
        self.instancia_erros = {}
        yield
        try:
            with db.sessao() as s:
                instancia = instancias.criar_instancia(
                    sessao=s, id_empresa=contexto.id_empresa, dados=entrada
                )
                id_instancia, nome = instancia.id, instancia.nome
        except ErroApp as exc:
            self.instancia_erros = exc.campos or {"geral": exc.mensagem}
            return
        finally:
            self.instancia_salvando = False
        self.instancia_aberta = False
        self._recarregar()
        yield rx.toast.success(f"Instância {nome} criada. Use “Conectar” para parear o número.")
        yield EstadoWhatsapp.configurar_webhook(id_instancia)  # type: ignore[misc]
        yield EstadoWhatsapp.acompanhar

    @rx.event(background=True)
    async def configurar_webhook(self, id_instancia: str):
        """Point the new instance's webhook at us (a provider call: off the state lock)."""
        async with self:
            contexto = self.contexto(Perfil.ADMIN)
        await asyncio.to_thread(
            instancias.configurar_webhook,
            id_empresa=contexto.id_empresa,
            id_instancia=id_instancia,
        )

    # --- dispatch ("Disparar agora") ----------------------------------------------------------

    @rx.event(background=True)
    async def disparar_agora(self):
        """Run the dispatcher for the caller's company; the overlay follows each phase."""
        async with self:
            contexto = self.contexto(*PERFIS_GESTAO)
            if not self.flag_disparo:
                return
            self.disparo_overlay = True
            if self.disparo_fase in FASES_EM_ANDAMENTO:
                return  # one run at a time per tab; the overlay shows the one going on
            self.disparo_fase = FASE_FILA
            self.disparo_resumo = RESUMO_VAZIO
            self.disparo_erro = ""
        resumo: dict[str, int] | None = None
        erro = ""
        try:
            async with self:
                self.disparo_fase = FASE_PROCESSANDO
            resumo = await asyncio.to_thread(
                processar_agendamentos_follow_up_whatsapp, id_empresa=contexto.id_empresa
            )
        except ErroApp as exc:
            erro = exc.mensagem
        except Exception:
            referencia = uuid.uuid4().hex[:12]
            _log.exception("falha no disparo manual", extra={"referencia": referencia})
            erro = f"erro inesperado (referência {referencia}). Tente novamente."
        finally:
            async with self:
                if resumo is not None:
                    self.disparo_resumo = {**RESUMO_VAZIO, **resumo}  # type: ignore[typeddict-item]
                    self.disparo_fase = FASE_CONCLUIDO
                else:
                    self.disparo_erro = erro or "erro inesperado."
                    self.disparo_fase = FASE_ERRO
                self.disparo_quando = (
                    agora().astimezone(fuso_da_empresa(self._fuso)).strftime("%H:%M")
                )
        if resumo is not None:
            cartoes = await asyncio.to_thread(ler_cartoes, contexto.id_empresa)
            async with self:
                self.instancias = cartoes

    @rx.event
    def mostrar_overlay(self):
        self.disparo_overlay = True

    @rx.event
    def fechar_overlay(self):
        """Closing never stops the work: the progress chip stays until it is done."""
        self.disparo_overlay = False
        if self.disparo_fase not in FASES_EM_ANDAMENTO:
            self.disparo_fase = ""

    # --- flow list ---------------------------------------------------------------------------

    @rx.event
    def filtrar_evento(self, evento: str):
        self.filtro_evento = evento if evento in ROTULOS_EVENTO else ""

    @rx.event
    def filtrar_status(self, status: str):
        self.filtro_status = status if status in ("ativa", "pausada") else ""

    @rx.event
    def filtrar_instancia(self, id_instancia: str):
        self.filtro_instancia = id_instancia

    @rx.event
    def limpar_filtros(self):
        self.filtro_evento = self.filtro_status = self.filtro_instancia = ""

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

    @rx.event
    def pedir_exclusao(self, id_automacao: str):
        self.contexto(*PERFIS_GESTAO)
        linha = next((f for f in self.fluxos if f["id"] == id_automacao), None)
        if linha is not None:
            self.excluir_id, self.excluir_nome = linha["id"], linha["nome"]

    @rx.event
    def mudar_exclusao(self, aberto: bool):
        if not aberto:
            self.excluir_id = self.excluir_nome = ""

    @rx.event
    def confirmar_exclusao(self):
        contexto = self.contexto(*PERFIS_GESTAO)
        id_automacao, nome = self.excluir_id, self.excluir_nome
        if not id_automacao:
            return
        self.excluir_id = self.excluir_nome = ""
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

    # --- slide-over builder ------------------------------------------------------------------

    def _rascunho(self) -> str:
        return json.dumps(
            [
                self.form_nome,
                self.form_estagio,
                self.form_instancia,
                self.form_reentrada,
                self.form_cancelar,
                self.form_ativo,
                self.form_parar,
                [
                    [
                        e["atraso"],
                        e["unidade"],
                        e["mensagem"],
                        e["modelo_chave"],
                        [p["valor"] for p in e["parametros"]],
                    ]
                    for e in self.etapas
                ],
            ]
        )

    def _abrir_painel(self) -> None:
        self.erros = {}
        self.confirmar_descarte = False
        self._rascunho_inicial = self._rascunho()
        self.painel_aberto = True

    @rx.event
    def abrir_nova(self):
        self.contexto(*PERFIS_GESTAO)
        if not self.flag_construtor:
            return
        self.editando_id = ""
        self.form_nome = ""
        self.form_estagio = ""
        self.form_instancia = self.instancias[0]["id"] if len(self.instancias) == 1 else ""
        self.form_reentrada = "uma_vez"
        self.form_cancelar = True
        self.form_ativo = True
        self.form_parar = True
        self.etapas = [_etapa_vazia()]
        self._abrir_painel()
        return self._pedir_modelos()

    @rx.event
    def abrir_edicao(self, id_automacao: str):
        contexto = self.contexto(*PERFIS_GESTAO)
        if not self.flag_construtor:
            return
        with db.sessao() as s:
            dados = cadastro_automacoes.automacao_publica(
                s,
                cadastro_automacoes.obter_automacao(
                    sessao=s, id_empresa=contexto.id_empresa, id_automacao=id_automacao
                ),
            )
        self.editando_id = dados["id"]
        self.form_nome = dados["nome"]
        self.form_estagio = dados["id_estagio_trigger"]
        self.form_instancia = dados["id_whatsapp_instancia"]
        self.form_reentrada = dados["reentrada"]
        self.form_cancelar = bool(dados["cancelar_ao_sair"])
        self.form_ativo = bool(dados["ativo"])
        self.form_parar = bool(dados.get("parar_ao_responder", True))
        self.etapas = [
            _etapa_vazia(
                *unidade_de(e["atraso_minutos"]), mensagem=e["mensagem"], modelo=e.get("modelo")
            )
            for e in dados["etapas"]
        ] or [_etapa_vazia()]
        self._abrir_painel()
        return self._pedir_modelos()

    @rx.event
    def mudar_painel(self, aberto: bool):
        """Esc, the close button or a click outside: ask first when there are unsaved edits."""
        if aberto:
            self.painel_aberto = True
            return
        if self.salvando:
            return
        if self._rascunho() != self._rascunho_inicial:
            self.confirmar_descarte = True
            return
        self.painel_aberto = False

    @rx.event
    def descartar(self):
        self.confirmar_descarte = False
        self.painel_aberto = False
        self.erros = {}

    @rx.event
    def continuar_editando(self):
        self.confirmar_descarte = False

    @rx.event
    def mudar_descarte(self, aberto: bool):
        self.confirmar_descarte = aberto

    def _sem_erro(self, *campos: str) -> None:
        if any(c in self.erros for c in campos):
            self.erros = {k: v for k, v in self.erros.items() if k not in campos}

    @rx.event
    def definir_nome(self, valor: str):
        self.form_nome = valor
        self._sem_erro("nome")

    @rx.event
    def definir_estagio(self, valor: str):
        self.form_estagio = valor
        self._sem_erro("id_estagio_trigger")

    @rx.event
    def definir_instancia(self, valor: str):
        self.form_instancia = valor
        self._sem_erro("id_whatsapp_instancia")
        return self._pedir_modelos()

    @rx.event
    def definir_reentrada(self, valor: str | list[str]):
        valor = valor[0] if isinstance(valor, list) else valor
        if valor in ROTULOS_REENTRADA:
            self.form_reentrada = valor

    @rx.event
    def definir_cancelar(self, valor: bool):
        self.form_cancelar = bool(valor)

    @rx.event
    def definir_ativo(self, valor: bool):
        self.form_ativo = bool(valor)

    def _mudar_etapa(self, indice: int, **valores: str) -> None:
        if not 0 <= indice < len(self.etapas):
            return
        etapas = [dict(e) for e in self.etapas]
        etapas[indice].update(valores)
        self.etapas = etapas  # type: ignore[assignment]

    @rx.event
    def definir_atraso(self, indice: int, valor: str):
        self._mudar_etapa(indice, atraso=valor.strip()[:6], erro_atraso="")

    @rx.event
    def definir_unidade(self, indice: int, valor: str):
        if valor in MINUTOS_POR_UNIDADE:
            self._mudar_etapa(indice, unidade=valor, erro_atraso="")

    @rx.event
    def definir_mensagem(self, indice: int, valor: str):
        self._mudar_etapa(indice, mensagem=valor[:4096], erro_mensagem="")

    @rx.event
    def adicionar_etapa(self):
        if len(self.etapas) >= MAX_ETAPAS:
            return
        ultima = self.etapas[-1] if self.etapas else None
        # A new step usually waits longer than the last one: start from a day after it.
        self.etapas = [*self.etapas, _etapa_vazia("1", "dias") if ultima else _etapa_vazia()]
        self._sem_erro("etapas")
        indice = len(self.etapas) - 1
        return rx.call_script(
            f"setTimeout(() => document.getElementById('etapa-{indice}-mensagem')?.focus(), 50)"
        )

    @rx.event
    def remover_etapa(self, indice: int):
        if len(self.etapas) <= 1 or not 0 <= indice < len(self.etapas):
            return
        self.etapas = [e for i, e in enumerate(self.etapas) if i != indice]

    @rx.event
    def mover_etapa(self, indice: int, deslocamento: int):
        destino = indice + deslocamento
        if not (0 <= indice < len(self.etapas) and 0 <= destino < len(self.etapas)):
            return
        etapas = list(self.etapas)
        etapas[indice], etapas[destino] = etapas[destino], etapas[indice]
        self.etapas = etapas

    @rx.event
    def inserir_variavel(self, indice: int, variavel: str):
        """A variable chip: insert ``{{variavel}}`` where the caret is (read in the browser)."""
        if variavel not in VARIAVEIS_MODELO or not 0 <= indice < len(self.etapas):
            return None
        marcador = "{{" + variavel + "}}"
        script = (
            "(() => {"
            f"const el = document.getElementById('etapa-{indice}-mensagem');"
            "const v = el ? el.value : '';"
            "const a = el && el.selectionStart != null ? el.selectionStart : v.length;"
            "const b = el && el.selectionEnd != null ? el.selectionEnd : v.length;"
            f"return {{indice: {indice}, texto: v.slice(0, a) + {json.dumps(marcador)} + v.slice(b),"
            f" cursor: a + {len(marcador)}}};"
            "})()"
        )
        return rx.call_script(script, callback=EstadoWhatsapp.aplicar_insercao)  # type: ignore[misc]

    @rx.event
    def aplicar_insercao(self, resultado: dict[str, Any]):
        indice = int(resultado.get("indice", -1))
        self._mudar_etapa(indice, mensagem=str(resultado.get("texto", ""))[:4096], erro_mensagem="")
        cursor = int(resultado.get("cursor", 0))
        return rx.call_script(
            "setTimeout(() => {"
            f"const el = document.getElementById('etapa-{indice}-mensagem');"
            f"if (el) {{ el.focus(); el.setSelectionRange({cursor}, {cursor}); }}"
            "}, 30)"
        )

    def _mostrar_erros(self, campos: dict[str, str]) -> None:
        self.erros = {k: v for k, v in campos.items() if not k.startswith("etapas.")}
        etapas = [dict(e) for e in self.etapas]
        for i, etapa in enumerate(etapas):
            etapa["erro_atraso"] = campos.get(f"etapas.{i}.atraso_minutos", "")
            etapa["erro_mensagem"] = campos.get(f"etapas.{i}.mensagem", "")
            etapa["erro_modelo"] = next(
                (v for k, v in campos.items() if k.startswith(f"etapas.{i}.modelo")), ""
            )
        self.etapas = etapas  # type: ignore[assignment]
        outros = [
            v
            for k, v in campos.items()
            if k.startswith("etapas.")
            and not k.endswith((".atraso_minutos", ".mensagem"))
            and ".modelo" not in k
        ]
        if outros and "etapas" not in self.erros:
            self.erros = {**self.erros, "etapas": outros[0]}

    def _validar(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The payload for the service, and field errors keyed like ``etapas.0.mensagem``."""
        erros: dict[str, str] = {}
        etapas = []
        for i, e in enumerate(self.etapas):
            try:
                quantidade = int(e["atraso"])
            except ValueError:
                quantidade = 0
                erros[f"etapas.{i}.atraso_minutos"] = "Informe um número inteiro (0 ou mais)."
            minutos = quantidade * MINUTOS_POR_UNIDADE.get(e["unidade"], 1)
            if minutos > MAX_ATRASO_MINUTOS:
                erros[f"etapas.{i}.atraso_minutos"] = "O atraso máximo é de 365 dias."
            elif minutos < 0:
                erros[f"etapas.{i}.atraso_minutos"] = "O atraso não pode ser negativo."
            etapa: dict[str, Any] = {
                "ordem": i + 1,
                "atraso_minutos": minutos,
                "mensagem": e["mensagem"],
            }
            # Templates only matter on the Cloud API (Evolution and the simulator ignore them).
            if self.instancia_cloud and e["modelo_nome"]:
                etapa["modelo"] = modelo_da_etapa(e)
                if erro := erros_modelo(e):
                    erros[f"etapas.{i}.modelo"] = erro
            etapas.append(etapa)
        dados: dict[str, Any] = {
            "nome": self.form_nome,
            "id_estagio_trigger": self.form_estagio,
            "id_whatsapp_instancia": self.form_instancia,
            "ativo": self.form_ativo,
            "reentrada": self.form_reentrada,
            "cancelar_ao_sair": self.form_cancelar,
            "parar_ao_responder": self.form_parar,
            "etapas": etapas,
        }
        try:
            AutomacaoEntrada.model_validate(dados)
        except ValidationError as exc:
            valores = {
                **dados,
                **{f"etapas.{i}.mensagem": e["mensagem"] for i, e in enumerate(etapas)},
            }
            for campo, mensagem in _campos_amigaveis(
                erro_de_validacao(exc).campos, valores
            ).items():
                erros.setdefault(campo, mensagem)
        return dados, erros

    def _linha_otimista(self, dados: dict[str, Any], id_linha: str) -> FluxoLinha:
        estagio = next((e for e in self.estagios if e["id"] == dados["id_estagio_trigger"]), None)
        instancia = next(
            (i for i in self.instancias if i["id"] == dados["id_whatsapp_instancia"]), None
        )
        atrasos = [e["atraso_minutos"] for e in dados["etapas"]]
        return {
            "id": id_linha,
            "nome": dados["nome"].strip(),
            "id_estagio": dados["id_estagio_trigger"],
            "nome_estagio": estagio["nome"] if estagio else "",
            "cor_estagio": estagio["cor"] if estagio else "gray",
            "id_instancia": dados["id_whatsapp_instancia"],
            "nome_instancia": instancia["nome"] if instancia else "",
            "ativo": bool(dados["ativo"]),
            "reentrada": dados["reentrada"],
            "rotulo_reentrada": ROTULOS_REENTRADA.get(dados["reentrada"], ""),
            "cancelar_ao_sair": bool(dados["cancelar_ao_sair"]),
            "parar_ao_responder": bool(dados["parar_ao_responder"]),
            "total_etapas": len(atrasos),
            "resumo_etapas": resumo_etapas(atrasos),
            "salvando": True,
        }

    @rx.event
    def salvar(self, _formulario: dict[str, Any] | None = None):
        """Validate here (instant inline errors), then save optimistically: the row shows up
        "Salvando…" at once, the panel closes, and reopens with the errors if the server refuses."""
        contexto = self.contexto(*PERFIS_GESTAO)
        if self.salvando:
            return
        dados, erros = self._validar()
        if erros:
            self._mostrar_erros(erros)
            yield FOCAR_PRIMEIRO_ERRO
            return
        self._mostrar_erros({})
        anterior = copy.deepcopy(self.fluxos)
        editando = self.editando_id
        linha = self._linha_otimista(dados, editando or "salvando")
        if editando:
            self.fluxos = [linha if f["id"] == editando else f for f in self.fluxos]
        else:
            self.fluxos = [*self.fluxos, linha]
        self.salvando = True
        self.painel_aberto = False
        yield
        try:
            with db.sessao() as s:
                if editando:
                    cadastro_automacoes.atualizar_automacao(
                        sessao=s,
                        id_empresa=contexto.id_empresa,
                        id_automacao=editando,
                        dados=AutomacaoAtualizacao.model_validate(dados),
                    )
                else:
                    cadastro_automacoes.criar_automacao(
                        sessao=s,
                        id_empresa=contexto.id_empresa,
                        dados=AutomacaoEntrada.model_validate(dados),
                    )
        except ErroApp as exc:
            self.fluxos = anterior
            self._mostrar_erros(exc.campos or {"geral": exc.mensagem})
            self.painel_aberto = True
            yield rx.toast.error(f"A automação não foi salva: {exc.mensagem}")
            yield FOCAR_PRIMEIRO_ERRO
            return
        finally:
            self.salvando = False
        self._recarregar()
        self._rascunho_inicial = self._rascunho()
        yield rx.toast.success(
            f"Automação “{linha['nome']}” " + ("atualizada." if editando else "criada.")
        )
