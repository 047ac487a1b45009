"""The "Mover para…" menu on every card: the keyboard and touch way to move a lead."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from whatsapp_app.modules.leads.components.tema import ponto_estagio
from whatsapp_app.modules.leads.state import EstadoLeads


def menu_mover(lead: ObjectVar) -> rx.Component:
    """An icon button opening the list of the other stages; choosing one moves the lead."""
    return rx.menu.root(
        rx.menu.trigger(
            # A plain button: rx.icon_button resizes its icon to the button size (24 px at 2).
            rx.el.button(
                rx.icon("arrow-right-left", size=16, aria_hidden="true"),
                type="button",
                class_name="wa-lead-menu",
                aria_label=f"Mover {lead['nome']} para…",
                title="Mover para…",
            )
        ),
        rx.menu.content(
            rx.el.div("Mover para…", class_name="wa-menu-rotulo", aria_hidden="true"),
            rx.foreach(
                EstadoLeads.estagios,
                lambda estagio: rx.cond(
                    estagio["id"] != lead["id_estagio"],
                    rx.menu.item(
                        rx.hstack(
                            ponto_estagio(estagio["cor"]),
                            rx.text(estagio["nome"]),
                            align="center",
                            spacing="2",
                        ),
                        on_select=EstadoLeads.mover(lead["id"], estagio["id"]),  # type: ignore[operator]
                    ),
                    rx.fragment(),
                ),
            ),
            align="end",
            min_width="200px",
            aria_label="Mover para…",
        ),
    )
