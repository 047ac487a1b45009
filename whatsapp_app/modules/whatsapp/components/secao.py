"""The top of a section of the WhatsApp page: its h2 (the section's label), what stands next
to it (a count, the live badge) and either one line of context or an action on the right."""

from __future__ import annotations

from typing import Any

import reflex as rx

from whatsapp_app.ui import tokens as t


def topo_secao(
    titulo: str,
    id_titulo: str,
    ao_lado: rx.Component,
    *,
    descricao: str = "",
    acao: rx.Component | None = None,
) -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.h2(titulo, id=id_titulo, style=t.ESTILO_TITULO_SECAO),
            ao_lado,
            class_name="wa-wpp-secao-titulo",
        ),
        rx.el.p(descricao, class_name="wa-wpp-meta") if descricao else rx.fragment(),
        acao if acao is not None else rx.fragment(),
        class_name="wa-wpp-secao-topo wa-wpp-secao-topo-coluna"
        if descricao
        else "wa-wpp-secao-topo",
    )


def contagem(valor: Any, **props) -> rx.Component:
    """The count badge next to a section's title."""
    return rx.el.span(valor, class_name="wa-wpp-contagem wa-num", **props)
