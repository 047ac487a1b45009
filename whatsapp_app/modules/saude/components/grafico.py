"""Sent and claimed per hour over the last 24 h (a small bar chart, summarised for screen
readers), and the last 7 days as a table."""

from __future__ import annotations

from typing import Any

import reflex as rx

from whatsapp_app.modules.saude.state import EstadoSaudeDespacho
from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import cartao

E = EstadoSaudeDespacho
COR_ASSUMIDOS = rx.color("gray", 9)
COR_ENVIADOS = rx.color("accent", 10)


def grafico_horas() -> rx.Component:
    return cartao(
        rx.heading("Por hora, últimas 24 h", as_="h2", style=t.ESTILO_TITULO_SECAO),
        rx.text(E.resumo_grafico, class_name="wa-sr-only"),
        rx.box(
            rx.recharts.responsive_container(
                rx.recharts.bar_chart(
                    rx.recharts.cartesian_grid(vertical=False, stroke_dasharray="3 3"),
                    rx.recharts.x_axis(data_key="hora", interval=3),  # every 4th hour
                    rx.recharts.y_axis(allow_decimals=False, width=40),
                    rx.recharts.graphing_tooltip(),
                    rx.recharts.legend(),
                    rx.recharts.bar(data_key="reivindicados", name="Assumidos", fill=COR_ASSUMIDOS),
                    rx.recharts.bar(data_key="enviados", name="Enviados", fill=COR_ENVIADOS),
                    data=E.serie_horas,
                    bar_gap=2,
                    # Recharts' keyboard layer would put a focus stop inside an aria-hidden
                    # chart; the summary and the daily table carry the numbers instead.
                    custom_attrs={"accessibilityLayer": False},
                ),
                width="100%",
                height=240,
            ),
            class_name="wa-saude-grafico",
            aria_hidden="true",
        ),
        class_name="wa-saude-painel",
    )


def _linha_dia(d: Any) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.el.abbr(d["dia"], title=d["dia_completo"])),
        rx.table.cell(d["reivindicados"], class_name="wa-num", text_align="right"),
        rx.table.cell(d["enviados"], class_name="wa-num", text_align="right"),
        rx.table.cell(d["duplicados"], class_name="wa-num", text_align="right"),
    )


def tabela_dias() -> rx.Component:
    return cartao(
        rx.heading("Por dia, últimos 7 dias", as_="h2", style=t.ESTILO_TITULO_SECAO),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Dia"),
                        rx.table.column_header_cell("Assumidos", text_align="right"),
                        rx.table.column_header_cell("Enviados", text_align="right"),
                        rx.table.column_header_cell("Duplicados", text_align="right"),
                    )
                ),
                rx.table.body(rx.foreach(E.linhas_dias, _linha_dia)),
                size="1",
                width="100%",
            ),
            class_name="wa-saude-tabela",
            # A narrow phone scrolls the table sideways: the region takes keyboard focus so the
            # scroll is reachable without a pointer (WCAG 2.1.1; axe scrollable-region-focusable).
            tab_index=0,
            role="region",
            aria_label="Tabela por dia, últimos 7 dias",
        ),
        class_name="wa-saude-painel",
    )
