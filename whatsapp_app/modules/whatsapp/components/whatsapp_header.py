"""The page header: title, one line of context and "Nova automação" (admin, gestor)."""

from __future__ import annotations

import reflex as rx

from whatsapp_app.modules.whatsapp.state import EstadoWhatsapp
from whatsapp_app.ui.componentes import cabecalho_pagina


def _nova_automacao() -> rx.Component:
    return rx.cond(
        EstadoWhatsapp.pode_gerir & EstadoWhatsapp.flag_construtor,
        rx.button(
            rx.icon("plus", size=16, aria_hidden="true"),
            "Nova automação",
            on_click=EstadoWhatsapp.abrir_nova,
            disabled=EstadoWhatsapp.carregando,
            size="2",
            class_name="wa-wpp-nova-automacao",
        ),
    )


def whatsapp_header() -> rx.Component:
    return cabecalho_pagina(
        "WhatsApp",
        "Conexões, automações de follow-up e a fila de envios da sua empresa.",
        _nova_automacao(),
    )
