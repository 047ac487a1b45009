"""Command bar (plan 4.4 C): the queue at a glance and "Disparar agora" (admin, gestor).

Under the header on desktop; a sticky glass footer on phones, so the action stays in reach.
"""

from __future__ import annotations

import reflex as rx

from whatsapp_app.modules.whatsapp.state import EstadoWhatsapp


def _resumo_fila() -> rx.Component:
    return rx.el.div(
        rx.center(rx.icon("send", size=16, aria_hidden="true"), class_name="wa-wpp-comando-icone"),
        rx.el.div(
            rx.el.p(
                EstadoWhatsapp.fila_texto,
                class_name="wa-wpp-comando-titulo wa-num",
            ),
            rx.el.p(
                rx.el.a(
                    EstadoWhatsapp.fila_erros_texto,
                    href="/whatsapp/fila?status=ERRO",
                    class_name="wa-num wa-wpp-link-fila",
                ),
                rx.cond(
                    EstadoWhatsapp.fila_incertos_texto != "",
                    rx.fragment(
                        " · ",
                        rx.el.a(
                            EstadoWhatsapp.fila_incertos_texto,
                            href="/whatsapp/fila?status=INCERTO",
                            class_name="wa-num wa-wpp-link-fila",
                        ),
                    ),
                ),
                " · ",
                rx.el.a("Ver fila", href="/whatsapp/fila", class_name="wa-wpp-link-fila"),
                rx.cond(
                    EstadoWhatsapp.disparo_quando != "",
                    rx.el.span(
                        " · último disparo às ",
                        rx.el.span(EstadoWhatsapp.disparo_quando, class_name="wa-num"),
                        class_name="wa-wpp-comando-ultimo",
                    ),
                ),
                class_name="wa-wpp-meta",
            ),
            class_name="wa-wpp-comando-texto",
        ),
        class_name="wa-wpp-comando-resumo",
    )


def _botao() -> rx.Component:
    return rx.button(
        rx.cond(
            EstadoWhatsapp.disparo_em_andamento,
            rx.spinner(size="2"),
            rx.icon("zap", size=16, aria_hidden="true"),
        ),
        rx.cond(
            EstadoWhatsapp.disparo_em_andamento,
            rx.fragment(
                "Disparando… ",
                rx.el.span(EstadoWhatsapp.disparo_progresso, class_name="wa-num"),
            ),
            "Disparar agora",
        ),
        on_click=rx.cond(
            EstadoWhatsapp.disparo_em_andamento,
            EstadoWhatsapp.mostrar_overlay,
            EstadoWhatsapp.disparar_agora,
        ),
        size="3",
        class_name="wa-wpp-disparar",
        aria_describedby="wa-wpp-disparar-ajuda",
    )


def dispatch_command_bar() -> rx.Component:
    return rx.el.div(
        _resumo_fila(),
        rx.cond(EstadoWhatsapp.pode_gerir, _botao()),
        rx.el.span(
            "Envia agora os follow-ups vencidos da sua empresa, respeitando a janela de envio.",
            id="wa-wpp-disparar-ajuda",
            class_name="wa-sr-only",
        ),
        role="region",
        aria_label="Fila de envios",
        class_name="wa-wpp-comando",
    )
