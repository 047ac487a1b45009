"""Above the queue: status chips (with counts), search, instance / automation / stage, due
date range and the sort order. Chip rows wrap; nothing here is wider than a phone."""

from __future__ import annotations

from typing import Any

import reflex as rx

from whatsapp_app.modules.fila.estado_filtros import ORDEM_PADRAO, ORDEM_RECENTES
from whatsapp_app.modules.fila.state import PERIODO_ENVIO, PERIODO_VENCIMENTO, EstadoFila
from whatsapp_app.ui import tokens as t

ESPERA_BUSCA_MS = 350


def _chip(chip: Any) -> rx.Component:
    return rx.el.button(
        rx.icon(chip["icone"].to(str), size=14, aria_hidden="true"),
        rx.el.span(chip["rotulo"]),
        rx.el.span(chip["contagem"], class_name="wa-fila-chip-n wa-num"),
        on_click=EstadoFila.filtrar_status(chip["valor"]),  # type: ignore[operator, misc]
        class_name="wa-fila-chip",
        data_cor=chip["cor"],
        data_ativo=rx.cond(chip["ativo"], "1", "0"),
        aria_pressed=rx.cond(chip["ativo"], "true", "false"),
        type="button",
    )


def _select(campo: str, rotulo: str, valor: Any, *itens: rx.Component) -> rx.Component:
    """A labelled select of the filter row; a change reloads through ``filtrar(campo, ...)``."""
    id_campo = f"fila-filtro-{campo}"
    return rx.el.div(
        rx.el.label(rotulo, html_for=id_campo, class_name="wa-fila-rotulo"),
        rx.select.root(
            rx.select.trigger(id=id_campo, width="100%", aria_label=rotulo),
            rx.select.content(*itens, position="popper"),
            value=valor,
            on_change=lambda v: EstadoFila.filtrar(campo, v),  # type: ignore[operator, misc]
            size="2",
        ),
        class_name="wa-fila-campo",
    )


def _seletor(campo: str, rotulo: str, valor: Any, opcoes: Any, todos: str) -> rx.Component:
    return _select(
        campo,
        rotulo,
        rx.cond(valor == "", "todos", valor),
        rx.select.item(todos, value="todos"),
        rx.foreach(opcoes, lambda o: rx.select.item(o["nome"], value=o["id"])),
    )


def _data(campo: str, rotulo: str, valor: Any) -> rx.Component:
    id_campo = f"fila-filtro-{campo}"
    return rx.el.div(
        rx.el.label(rotulo, html_for=id_campo, class_name="wa-fila-rotulo"),
        rx.input(
            id=id_campo,
            type="date",
            value=valor,
            on_change=lambda v: EstadoFila.filtrar(campo, v),  # type: ignore[operator, misc]
            size="2",
            width="100%",
        ),
        class_name="wa-fila-campo",
    )


def _periodo() -> rx.Component:
    return _select(
        "periodo",
        "Datas de",
        EstadoFila.periodo,
        rx.select.item("Vencimento", value=PERIODO_VENCIMENTO),
        rx.select.item("Envio", value=PERIODO_ENVIO),
    )


def _ordem() -> rx.Component:
    return _select(
        "ordem",
        "Ordem",
        EstadoFila.ordem,
        rx.select.item("Mais antigos primeiro", value=ORDEM_PADRAO),
        rx.select.item("Mais recentes primeiro", value=ORDEM_RECENTES),
    )


def filtros() -> rx.Component:
    e = EstadoFila
    return rx.el.section(
        rx.el.div(
            rx.foreach(e.chips_status, _chip),
            class_name="wa-fila-chips",
            role="group",
            aria_label="Filtrar por status",
        ),
        rx.el.div(
            rx.el.div(
                rx.el.label("Buscar lead", html_for="fila-busca", class_name="wa-fila-rotulo"),
                rx.input(
                    rx.input.slot(rx.icon("search", size=16, aria_hidden="true")),
                    id="fila-busca",
                    placeholder="Nome ou telefone",
                    default_value=e.busca,
                    on_change=e.buscar.debounce(ESPERA_BUSCA_MS),  # type: ignore[attr-defined]
                    size="2",
                    width="100%",
                    type="search",
                ),
                class_name="wa-fila-campo wa-fila-campo-busca",
            ),
            _seletor("instancia", "Instância", e.filtro_instancia, e.instancias, "Todas"),
            _seletor("automacao", "Automação", e.filtro_automacao, e.automacoes, "Todas"),
            _seletor("estagio", "Estágio", e.filtro_estagio, e.estagios, "Todos"),
            _periodo(),
            _data("de", "De", e.filtro_de),
            _data("ate", "Até", e.filtro_ate),
            _ordem(),
            class_name="wa-fila-campos",
        ),
        rx.cond(
            e.filtros_ativos,
            rx.button(
                rx.icon("x", size=14, aria_hidden="true"),
                "Limpar filtros",
                on_click=e.limpar_filtros,
                variant="ghost",
                color_scheme="gray",
                size="1",
                align_self="start",
            ),
        ),
        class_name="wa-fila-filtros",
        aria_label="Filtros da fila",
        style={"gap": t.ESPACO_3},
    )
