"""Above the board: the search box (debounced), the lead total and "Novo lead"."""

from __future__ import annotations

import reflex as rx

from whatsapp_app.modules.leads.state import ESPERA_BUSCA_MS, EstadoLeads


def _total() -> rx.Component:
    return rx.el.p(
        rx.cond(
            EstadoLeads.carregando,
            "Carregando…",
            rx.cond(
                EstadoLeads.total_leads == 1,
                "1 lead",
                f"{EstadoLeads.total_leads} leads",
            ),
        ),
        rx.cond(EstadoLeads.busca != "", " encontrados", ""),
        class_name="wa-kanban-total wa-num",
        aria_live="polite",
    )


def barra_ferramentas() -> rx.Component:
    return rx.el.div(
        rx.input(
            rx.input.slot(rx.icon("search", size=16, aria_hidden="true")),
            type="search",
            placeholder="Buscar por nome ou telefone",
            aria_label="Buscar leads por nome ou telefone",
            default_value=EstadoLeads.busca,
            on_change=EstadoLeads.buscar.debounce(ESPERA_BUSCA_MS),  # type: ignore[attr-defined]
            size="2",
            class_name="wa-kanban-busca",
        ),
        _total(),
        rx.button(
            rx.icon("plus", size=16, aria_hidden="true"),
            "Novo lead",
            on_click=EstadoLeads.abrir_novo,
            disabled=EstadoLeads.carregando,
            class_name="wa-kanban-novo",
        ),
        class_name="wa-kanban-barra",
    )
