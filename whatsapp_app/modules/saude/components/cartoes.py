"""The counters: duplicates blocked first and highlighted (what the rollout watches), then one
card per other counter with its 24 h and 7-day totals."""

from __future__ import annotations

from typing import Any

import reflex as rx

from whatsapp_app.modules.saude.state import EXPLICACAO_DUPLICADOS, EstadoSaudeDespacho
from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import cartao

E = EstadoSaudeDespacho


def _numero(valor: Any, rotulo: str, tamanho: str = "28px") -> rx.Component:
    return rx.el.div(
        rx.el.span(
            valor,
            class_name="wa-num",
            style={
                "font_size": tamanho,
                "line_height": "1.2",
                "font_weight": t.PESO_SEMIBOLD,
                "color": t.TEXTO_TITULO,
            },
        ),
        rx.el.span(rotulo, style=t.ESTILO_META),
        class_name="wa-saude-numero",
    )


def destaque_duplicados() -> rx.Component:
    return rx.el.section(
        rx.hstack(
            rx.center(
                rx.icon("shield-check", size=20, aria_hidden="true"),
                class_name="wa-saude-icone-destaque",
            ),
            rx.heading("Duplicados bloqueados", as_="h2", style=t.ESTILO_TITULO_SECAO),
            align="center",
            spacing="3",
        ),
        rx.el.div(
            _numero(E.duplicados_24h, "nas últimas 24 h", "32px"),
            _numero(E.duplicados_7d, "nos últimos 7 dias", "32px"),
            class_name="wa-saude-numeros",
        ),
        rx.text(EXPLICACAO_DUPLICADOS, style=t.ESTILO_CORPO),
        class_name="wa-cartao wa-saude-destaque",
        aria_label="Duplicados bloqueados",
    )


def _cartao(c: Any) -> rx.Component:
    return cartao(
        rx.hstack(
            rx.icon(c["icone"].to(str), size=16, color=t.TEXTO_ACENTO, aria_hidden="true"),
            rx.heading(c["rotulo"], as_="h3", style=t.ESTILO_ROTULO),
            align="center",
            spacing="2",
        ),
        rx.el.div(
            _numero(c["valor_24h"], "24 h"),
            _numero(c["valor_7d"], "7 dias", "20px"),
            class_name="wa-saude-numeros",
        ),
        rx.text(c["descricao"], style=t.ESTILO_META),
        class_name="wa-saude-cartao",
        data_contador=c["chave"],
    )


def grade_contadores() -> rx.Component:
    return rx.el.div(
        rx.foreach(E.cartoes, _cartao),
        class_name="wa-saude-grade",
    )
