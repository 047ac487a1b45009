"""Dispatch ("Disparar agora") of ``EstadoWhatsapp``: the command bar's queue totals, the run,
its cancel and the history of manual dispatches.

The run is a background event: ``disparos.executar_disparo`` works in a worker thread, off the
state lock, and writes its progress to its history row; the event reads that row while the
thread runs, so the overlay's steps are the real phases ("Reivindicando" → "Enviando n/N" →
"Concluído" / "Cancelado" / "Falhou"), never a timer's guess."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any, TypedDict, cast

import reflex as rx

from whatsapp_app import db, disparos
from whatsapp_app.logs import logger
from whatsapp_app.models import Perfil, StatusDisparoManual
from whatsapp_app.modules.whatsapp.estado_cartoes import ler_cartoes
from whatsapp_app.modules.whatsapp.tipos import PERFIS_GESTAO, InstanciaDados
from whatsapp_app.ui.formatacao import data_hora, fuso_da_empresa, hora, milhar, plural
from whatsapp_app.validacoes import Conflito, ErroApp

if TYPE_CHECKING:
    from whatsapp_app.auth import Contexto

_log = logger("ui.whatsapp.disparo")

# Dispatch phases shown by the overlay's steps (from the run's history row).
FASE_REIVINDICANDO = "reivindicando"
FASE_ENVIANDO = "enviando"
FASE_CONCLUIDO = "concluido"
FASE_CANCELADO = "cancelado"
FASE_ERRO = "falhou"
FASE_FILA = FASE_REIVINDICANDO  # the names state.py re-exports
FASE_PROCESSANDO = FASE_ENVIANDO
FASES_EM_ANDAMENTO = (FASE_REIVINDICANDO, FASE_ENVIANDO)
FASE_DO_STATUS = {
    StatusDisparoManual.CONCLUIDO.value: FASE_CONCLUIDO,
    StatusDisparoManual.CANCELADO.value: FASE_CANCELADO,
    StatusDisparoManual.FALHOU.value: FASE_ERRO,
}
INTERVALO_PROGRESSO_S = 0.5  # seconds between two reads of a running dispatch's row
HISTORICO_POR_PAGINA = 10


class Resumo(TypedDict):
    claimed: int
    sent: int
    failed: int
    retried: int
    uncertain: int
    skipped_already_claimed: int
    cancelled: int


RESUMO_VAZIO = Resumo(
    claimed=0, sent=0, failed=0, retried=0, uncertain=0, skipped_already_claimed=0, cancelled=0
)


class DisparoDados(TypedDict):
    """A history row's raw values (``disparos.disparo_publico`` minus what the page ignores)."""

    id: str
    status: str
    nome_usuario: str
    iniciado_em: str  # ISO instant
    concluido_em: str  # ISO instant or ""
    resumo: Resumo
    motivo_falha: str


class DisparoLinha(TypedDict):
    """A history row as the list renders it."""

    id: str
    status: str
    rotulo_status: str
    quem: str
    quando: str
    quando_iso: str
    resumo: str
    motivo: str


def dados_do_disparo(publico: dict[str, Any]) -> DisparoDados:
    return {
        "id": publico["id"],
        "status": publico["status"],
        "nome_usuario": publico["nome_usuario"] or "",
        "iniciado_em": publico["iniciado_em"],
        "concluido_em": publico["concluido_em"] or "",
        "resumo": {**RESUMO_VAZIO, **publico["resumo"]},  # type: ignore[typeddict-item]
        "motivo_falha": publico["motivo_falha"] or "",
    }


def fase_do_disparo(dados: DisparoDados) -> str:
    """A running dispatch is claiming until its first claims land, then sending."""
    if dados["status"] in FASE_DO_STATUS:
        return FASE_DO_STATUS[dados["status"]]
    return FASE_ENVIANDO if dados["resumo"]["claimed"] > 0 else FASE_REIVINDICANDO


def concluidos(resumo: Resumo) -> int:
    """Claims that reached an outcome (a claim given back untouched reaches none)."""
    valores = cast(dict[str, int], resumo)
    return sum(valores[c] for c in disparos.DESFECHOS)


def resumo_em_texto(resumo: Resumo) -> str:
    """``3 enviados, 1 com erro, 2 reagendados`` (zeros left out but the sent count)."""
    valores = cast(dict[str, int], resumo)
    if valores["claimed"] == 0:
        return "Nenhum envio vencido."
    partes = [plural(resumo["sent"], "enviado", "enviados")]
    for campo, singular, varios in (
        ("failed", "com erro", "com erro"),
        ("retried", "reagendado", "reagendados"),
        ("uncertain", "incerto", "incertos"),
        (
            "cancelled",
            "cancelado (o lead respondeu ou saiu)",
            "cancelados (o lead respondeu ou saiu)",
        ),
    ):
        if valores[campo]:
            partes.append(plural(valores[campo], singular, varios))
    return ", ".join(partes) + "."


def _iniciar(contexto: Contexto) -> str:
    with db.sessao() as s:
        return disparos.iniciar_disparo(
            sessao=s,
            id_empresa=contexto.id_empresa,
            id_usuario=contexto.id_usuario,
            nome_usuario=contexto.nome,
        ).id


def _ler(id_empresa: str, id_disparo: str) -> DisparoDados:
    with db.sessao() as s:
        linha = disparos.obter_disparo(sessao=s, id_empresa=id_empresa, id_disparo=id_disparo)
        return dados_do_disparo(disparos.disparo_publico(linha))


def ler_historico(id_empresa: str, cursor: str = "") -> tuple[list[DisparoDados], str, int]:
    with db.sessao() as s:
        pagina = disparos.pagina_disparos(
            sessao=s, id_empresa=id_empresa, limite=HISTORICO_POR_PAGINA, cursor=cursor or None
        )
    itens = [dados_do_disparo(i) for i in pagina["itens"]]
    return itens, pagina["proximo_cursor"] or "", int(pagina["total"])


class MixinDisparo(rx.State, mixin=True):
    flag_disparo: bool = True
    disparo_fase: str = ""
    disparo_overlay: bool = False
    disparo_id: str = ""
    disparo_resumo: Resumo = RESUMO_VAZIO
    disparo_erro: str = ""
    disparo_fim: str = ""  # ISO instant the last run ended
    disparo_cancelando: bool = False
    historico: list[DisparoDados] = []
    historico_cursor: str = ""
    historico_total: int = 0

    if TYPE_CHECKING:  # fields and helpers of EstadoWhatsapp / EstadoSessao
        _fuso: str
        instancias: list[InstanciaDados]

        def contexto(self, *perfis: Perfil) -> Contexto: ...

    # --- the command bar's queue totals (raw numbers in, sentences out) ------------------------

    @rx.var(cache=True)
    def fila_texto(self) -> str:
        total = sum(i["pendentes"] for i in self.instancias)
        vencidos = sum(i["vencidos"] for i in self.instancias)
        texto = plural(total, "envio pendente", "envios pendentes") + " na fila"
        # "Pendentes" (all) is not "vencidos agora" (due): say both.
        return f"{texto} · {plural(vencidos, 'vencido', 'vencidos')} agora" if total else texto

    @rx.var(cache=True)
    def fila_erros_texto(self) -> str:
        total = sum(i["erros_24h"] for i in self.instancias)
        return plural(total, "erro", "erros") + " nas últimas 24 h"

    @rx.var(cache=True)
    def fila_incertos_texto(self) -> str:
        """Uncertain sends wait for an operator whatever their age: counted apart."""
        total = sum(i["incertos"] for i in self.instancias)
        return plural(total, "envio incerto", "envios incertos") if total else ""

    # --- the overlay ---------------------------------------------------------------------------

    @rx.var(cache=True)
    def disparo_em_andamento(self) -> bool:
        return self.disparo_fase in FASES_EM_ANDAMENTO

    @rx.var(cache=True)
    def disparo_quando(self) -> str:
        return hora(self.disparo_fim, fuso_da_empresa(self._fuso))

    @rx.var(cache=True)
    def disparo_passo(self) -> int:
        """1 reivindicando, 2 enviando, 3 terminado (concluído, cancelado or failed); 0 idle."""
        if self.disparo_fase in FASES_EM_ANDAMENTO:
            return FASES_EM_ANDAMENTO.index(self.disparo_fase) + 1
        return 3 if self.disparo_fase else 0

    @rx.var(cache=True)
    def disparo_progresso(self) -> str:
        """``n/N``: claims with an outcome over claims made, so far ("" before any claim)."""
        r = self.disparo_resumo
        return f"{milhar(concluidos(r))}/{milhar(r['claimed'])}" if r["claimed"] else ""

    @rx.var(cache=True)
    def disparo_rotulo_envio(self) -> str:
        """The second step: ``Enviando 2/5`` once claims landed, else ``Enviando``."""
        return f"Enviando {self.disparo_progresso}".strip()

    @rx.var(cache=True)
    def disparo_titulo(self) -> str:
        """The overlay's visible status line."""
        if self.disparo_cancelando and self.disparo_fase in FASES_EM_ANDAMENTO:
            return "Cancelando: terminando os envios já iniciados…"
        return {
            FASE_REIVINDICANDO: "Reivindicando os envios vencidos…",
            FASE_ENVIANDO: f"{self.disparo_rotulo_envio}…",
            FASE_CONCLUIDO: f"Concluído às {self.disparo_quando}",
            FASE_CANCELADO: f"Cancelado às {self.disparo_quando}",
            FASE_ERRO: "O disparo falhou",
        }.get(self.disparo_fase, "")

    @rx.var(cache=True)
    def disparo_texto(self) -> str:
        """The whole outcome in one sentence, for aria-live."""
        resumo = resumo_em_texto(self.disparo_resumo)
        return {
            FASE_REIVINDICANDO: "Reivindicando os envios vencidos.",
            FASE_ENVIANDO: f"Enviando: {self.disparo_progresso}.",
            FASE_CONCLUIDO: (
                "Disparo concluído: nenhum envio vencido agora."
                if self.disparo_resumo["claimed"] == 0
                else f"Disparo concluído: {resumo}"
            ),
            FASE_CANCELADO: (
                f"Disparo cancelado: {resumo} Os envios não iniciados voltaram para a fila."
            ),
            FASE_ERRO: f"O disparo falhou: {self.disparo_erro}",
        }.get(self.disparo_fase, "")

    @rx.var(cache=True)
    def resumo_formatado(self) -> dict[str, str]:
        valores = cast(dict[str, int], self.disparo_resumo)
        return {chave: milhar(valor) for chave, valor in valores.items()}

    # --- the history ---------------------------------------------------------------------------

    @rx.var(cache=True)
    def historico_linhas(self) -> list[DisparoLinha]:
        zona = fuso_da_empresa(self._fuso)
        return [
            {
                "id": d["id"],
                "status": d["status"],
                "rotulo_status": disparos.ROTULOS_STATUS.get(d["status"], d["status"]),
                "quem": d["nome_usuario"] or "Sistema",
                "quando": data_hora(d["iniciado_em"], zona),
                "quando_iso": d["iniciado_em"],
                "resumo": (
                    "Em andamento…"
                    if d["status"] == StatusDisparoManual.EM_ANDAMENTO.value
                    else resumo_em_texto(d["resumo"])
                ),
                "motivo": d["motivo_falha"],
            }
            for d in self.historico
        ]

    @rx.var(cache=True)
    def historico_tem_mais(self) -> bool:
        return bool(self.historico_cursor)

    # --- helpers (not events) --------------------------------------------------------------------

    def _aplicar_disparo(self, dados: DisparoDados) -> None:
        self.disparo_resumo = dados["resumo"]
        self.disparo_fase = fase_do_disparo(dados)
        self.disparo_erro = dados["motivo_falha"]
        if dados["concluido_em"]:
            self.disparo_fim = dados["concluido_em"]

    # --- events ----------------------------------------------------------------------------------

    @rx.event(background=True)
    async def disparar_agora(self):
        """Start a manual dispatch for the caller's company and follow its row to the end."""
        async with self:
            contexto = self.contexto(*PERFIS_GESTAO)
            if not self.flag_disparo:
                return
            self.disparo_overlay = True
            if self.disparo_fase in FASES_EM_ANDAMENTO:
                return  # one run at a time per tab; the overlay shows the one going on
            self.disparo_fase = FASE_REIVINDICANDO
            self.disparo_resumo = RESUMO_VAZIO
            self.disparo_erro = ""
            self.disparo_id = ""
            self.disparo_cancelando = False
        final: DisparoDados | None = None
        erro = ""
        try:
            id_disparo = await asyncio.to_thread(_iniciar, contexto)
            async with self:
                self.disparo_id = id_disparo
            execucao = asyncio.ensure_future(
                asyncio.to_thread(
                    disparos.executar_disparo, id_empresa=contexto.id_empresa, id_disparo=id_disparo
                )
            )
            while not execucao.done():
                await asyncio.wait({execucao}, timeout=INTERVALO_PROGRESSO_S)
                if not execucao.done():
                    dados = await asyncio.to_thread(_ler, contexto.id_empresa, id_disparo)
                    async with self:
                        self._aplicar_disparo(dados)
            final = dados_do_disparo(execucao.result())
        except ErroApp as exc:
            erro = exc.mensagem
        except Exception:
            referencia = uuid.uuid4().hex[:12]
            _log.exception("falha no disparo manual", extra={"referencia": referencia})
            erro = f"Erro inesperado (referência {referencia}). Tente novamente."
        cartoes = await asyncio.to_thread(ler_cartoes, contexto.id_empresa)
        historico = await asyncio.to_thread(ler_historico, contexto.id_empresa)
        async with self:
            if final is not None:
                self._aplicar_disparo(final)
            else:
                self.disparo_erro = erro
                self.disparo_fase = FASE_ERRO
            self.disparo_cancelando = False
            self.instancias = cartoes
            self.historico, self.historico_cursor, self.historico_total = historico

    @rx.event
    def cancelar_disparo(self):
        """Ask the running dispatch to stop: unclaimed work stays queued, started sends finish."""
        contexto = self.contexto(*PERFIS_GESTAO)
        if not self.disparo_id or self.disparo_fase not in FASES_EM_ANDAMENTO:
            return None
        try:
            with db.sessao() as s:
                disparos.solicitar_cancelamento(
                    sessao=s, id_empresa=contexto.id_empresa, id_disparo=self.disparo_id
                )
        except Conflito:
            return None  # it ended meanwhile: the run shows how
        self.disparo_cancelando = True  # the status line says so (a toast would cover the panel)
        return None

    @rx.event
    def carregar_historico(self):
        contexto = self.contexto()
        self.historico, self.historico_cursor, self.historico_total = ler_historico(
            contexto.id_empresa
        )

    @rx.event
    def ver_mais_historico(self):
        contexto = self.contexto()
        if not self.historico_cursor:
            return
        itens, self.historico_cursor, self.historico_total = ler_historico(
            contexto.id_empresa, self.historico_cursor
        )
        vistos = {d["id"] for d in self.historico}
        self.historico = self.historico + [d for d in itens if d["id"] not in vistos]

    @rx.event
    def mostrar_overlay(self):
        self.disparo_overlay = True

    @rx.event
    def fechar_overlay(self):
        """Closing never stops the work: the progress chip stays until it is done."""
        self.disparo_overlay = False
        if self.disparo_fase not in FASES_EM_ANDAMENTO:
            self.disparo_fase = ""
