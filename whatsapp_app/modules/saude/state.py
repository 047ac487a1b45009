"""Saúde do despacho view-model (``/whatsapp/saude``, admins only).

Stores the service's raw numbers (``saude_despacho.saude_despacho``: counts per counter, ISO
instants and days) and derives every display string in computed vars, in pt-BR through
``ui.formatacao`` (Babel). Other profiles see the "sem permissão" state and load nothing.
"""

from __future__ import annotations

from typing import Any, TypedDict

import reflex as rx

from whatsapp_app import db, saude_despacho
from whatsapp_app.models import Perfil
from whatsapp_app.ui.formatacao import (
    FUSO_PADRAO,
    data,
    data_hora,
    dia_curto,
    fuso_da_empresa,
    hora_cheia,
    milhar,
)
from whatsapp_app.ui.sessao import EstadoSessao

ROTA = "/whatsapp/saude"
DESTAQUE = "duplicados_bloqueados"
EXPLICACAO_DUPLICADOS = (
    "Cada um é um follow-up que sairia em dobro e foi barrado pela chave de idempotência: "
    "nas primeiras 24 a 72 h, acompanhe se o número fica estável; se subir sem parar, algo "
    "está repetindo as mudanças de estágio."
)
# Counter → (label, what it counts, lucide icon), in the order of the cards.
CONTADORES: dict[str, tuple[str, str, str]] = {
    "reivindicados": ("Assumidos", "Envios que um despachante pegou da fila.", "hand"),
    "enviados": ("Enviados", "Mensagens aceitas pelo provedor.", "send"),
    "reivindicacoes_perdidas": (
        "Disputas perdidas",
        "Envios que outro processo pegou primeiro; normal com vários despachantes.",
        "users",
    ),
    "recuperados": (
        "Recuperados",
        "Envios de um processo que parou, devolvidos à fila ou conferidos no provedor.",
        "life-buoy",
    ),
    "incertos": (
        "Incertos",
        "Sem confirmação do provedor: confira na fila de envios.",
        "circle-help",
    ),
    "cancelados_resposta": (
        "Cancelados por resposta",
        "O lead respondeu antes do envio.",
        "message-square-reply",
    ),
    "cancelados_optout": (
        "Cancelados por descadastro",
        "O lead pediu para não receber mais mensagens.",
        "user-x",
    ),
}


class Cartao(TypedDict):
    chave: str
    rotulo: str
    descricao: str
    icone: str
    valor_24h: str
    valor_7d: str


class PontoGrafico(TypedDict):
    hora: str
    enviados: int
    reivindicados: int


class LinhaDia(TypedDict):
    dia: str
    dia_completo: str
    enviados: str
    reivindicados: str
    duplicados: str


class EstadoSaudeDespacho(EstadoSessao):
    """The one State of ``/whatsapp/saude``."""

    carregando: bool = True
    fuso: str = FUSO_PADRAO
    gerado_em: str = ""  # ISO instant
    ultimas_24h: dict[str, int] = {}
    ultimos_7_dias: dict[str, int] = {}
    por_hora: list[dict[str, Any]] = []  # {"inicio": ISO, "enviados": n, "reivindicados": n}
    por_dia: list[dict[str, Any]] = []  # {"dia": "AAAA-MM-DD", counters...}

    @rx.var(cache=True)
    def eh_admin(self) -> bool:
        return self.perfil == Perfil.ADMIN.value

    @rx.var(cache=True)
    def cartoes(self) -> list[Cartao]:
        return [
            Cartao(
                chave=chave,
                rotulo=rotulo,
                descricao=descricao,
                icone=icone,
                valor_24h=milhar(self.ultimas_24h.get(chave, 0)),
                valor_7d=milhar(self.ultimos_7_dias.get(chave, 0)),
            )
            for chave, (rotulo, descricao, icone) in CONTADORES.items()
        ]

    @rx.var(cache=True)
    def duplicados_24h(self) -> str:
        return milhar(self.ultimas_24h.get(DESTAQUE, 0))

    @rx.var(cache=True)
    def duplicados_7d(self) -> str:
        return milhar(self.ultimos_7_dias.get(DESTAQUE, 0))

    @rx.var(cache=True)
    def serie_horas(self) -> list[PontoGrafico]:
        zona = fuso_da_empresa(self.fuso)
        return [
            PontoGrafico(
                hora=hora_cheia(p["inicio"], zona),
                enviados=int(p["enviados"]),
                reivindicados=int(p["reivindicados"]),
            )
            for p in self.por_hora
        ]

    @rx.var(cache=True)
    def resumo_grafico(self) -> str:
        """The chart in one sentence, for screen readers."""
        enviados = sum(int(p["enviados"]) for p in self.por_hora)
        assumidos = sum(int(p["reivindicados"]) for p in self.por_hora)
        return f"Nas últimas 24 horas: {milhar(assumidos)} assumidos e {milhar(enviados)} enviados."

    @rx.var(cache=True)
    def linhas_dias(self) -> list[LinhaDia]:
        return [
            LinhaDia(
                dia=dia_curto(d["dia"]),
                dia_completo=data(d["dia"]),
                enviados=milhar(int(d["enviados"])),
                reivindicados=milhar(int(d["reivindicados"])),
                duplicados=milhar(int(d[DESTAQUE])),
            )
            for d in reversed(self.por_dia)  # today first
        ]

    @rx.var(cache=True)
    def atualizado_em(self) -> str:
        if not self.gerado_em:
            return ""
        return f"Atualizado em {data_hora(self.gerado_em, fuso_da_empresa(self.fuso))}."

    # --- events --------------------------------------------------------------------------------

    def _mostrar(self, saude: saude_despacho.SaudeDespacho) -> None:
        """Keep the service's numbers as raw values (ISO instants and days)."""
        self.fuso = saude["fuso_horario"]
        self.gerado_em = saude["gerado_em"].isoformat()
        self.ultimas_24h = saude["ultimas_24h"]
        self.ultimos_7_dias = saude["ultimos_7_dias"]
        self.por_hora = [
            {
                "inicio": p["inicio"].isoformat(),
                "enviados": p["contagens"]["enviados"],
                "reivindicados": p["contagens"]["reivindicados"],
            }
            for p in saude["por_hora"]
        ]
        self.por_dia = [{"dia": d["dia"].isoformat(), **d["contagens"]} for d in saude["por_dia"]]

    def _buscar(self) -> None:
        contexto = self.contexto(Perfil.ADMIN)
        with db.sessao() as sessao:
            saude = saude_despacho.saude_despacho(sessao=sessao, id_empresa=contexto.id_empresa)
        self._mostrar(saude)

    @rx.event
    def carregar(self):
        """on_load: admins get the counters; everyone else the "sem permissão" state."""
        self.carregando = True
        yield
        try:
            if self.contexto().perfil == Perfil.ADMIN.value:
                self._buscar()
        finally:
            self.carregando = False

    @rx.event
    def atualizar(self):
        self.carregando = True
        yield
        try:
            self._buscar()
        finally:
            self.carregando = False
