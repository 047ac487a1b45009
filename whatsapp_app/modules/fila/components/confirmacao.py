"""The one confirmation dialog of the queue: single and bulk actions, with the count."""

from __future__ import annotations

import reflex as rx

from whatsapp_app.modules.fila.state import EstadoFila
from whatsapp_app.ui import tokens as t

E = EstadoFila


def dialogo_confirmacao() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(E.confirmacao_titulo, style=t.ESTILO_TITULO_SECAO),
            rx.alert_dialog.description(E.confirmacao_texto, style=t.ESTILO_CORPO),
            rx.el.div(
                rx.alert_dialog.cancel(
                    rx.button("Voltar", variant="soft", color_scheme="gray", disabled=E.executando)
                ),
                rx.button(
                    rx.cond(E.executando, rx.spinner(size="2"), rx.fragment()),
                    E.confirmacao_botao,
                    on_click=E.confirmar,
                    disabled=E.executando,
                    color_scheme=rx.cond(E.confirmacao_perigo, "red", "jade"),
                ),
                class_name="wa-fila-dialogo-acoes",
            ),
            class_name="wa-fila-dialogo",
            max_width="min(440px, calc(100vw - 32px))",
        ),
        open=E.confirmacao_aberta,
        on_open_change=E.fechar_confirmacao,
    )
