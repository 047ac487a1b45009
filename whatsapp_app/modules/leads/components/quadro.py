"""The kanban: one column per stage, lead cards, a skeleton while loading, empty columns."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from whatsapp_app.modules.leads.components.arrastar import ZonaSoltar, atributos_arrastavel
from whatsapp_app.modules.leads.components.menu_mover import menu_mover
from whatsapp_app.modules.leads.components.tema import ponto_estagio
from whatsapp_app.modules.leads.state import EstadoLeads
from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import esqueleto, estado_vazio


def _selos(lead: ObjectVar) -> rx.Component:
    """An unread reply and an opt-out: an icon and words (role img, so the card's name says it)."""
    nao_lida = lead["resposta_nao_lida"].to(bool)
    optout = lead["optout"].to(bool)
    return rx.cond(
        nao_lida | optout,
        rx.el.span(
            rx.cond(
                nao_lida,
                rx.el.span(
                    rx.icon("message-circle-reply", size=12, aria_hidden="true"),
                    rx.el.span("Nova resposta", aria_hidden="true"),
                    class_name="wa-lead-selo wa-lead-selo-resposta",
                    role="img",
                    aria_label="Nova resposta do lead",
                ),
            ),
            rx.cond(
                optout,
                rx.el.span(
                    rx.icon("bell-off", size=12, aria_hidden="true"),
                    rx.el.span("Não quer receber mensagens", aria_hidden="true"),
                    class_name="wa-lead-selo wa-lead-selo-optout",
                    role="img",
                    aria_label="Não quer receber mensagens",
                ),
            ),
            class_name="wa-lead-selos",
        ),
    )


def _cartao(lead: ObjectVar) -> rx.Component:
    return rx.el.li(
        # The whole card opens the drawer (the button's ::after covers it); the menu sits above.
        rx.el.button(
            rx.el.span(lead["nome"], class_name="wa-lead-nome wa-truncar"),
            rx.el.span(lead["telefone_formatado"], class_name="wa-lead-meta wa-num"),
            rx.el.span(
                "Atualizado ",
                rx.el.time(lead["atualizado_relativo"], title=lead["atualizado_em"]),
                class_name="wa-lead-meta wa-num",
            ),
            _selos(lead),
            on_click=EstadoLeads.abrir_lead(lead["id"]),  # type: ignore[operator]
            class_name="wa-lead-abrir",
            type="button",
        ),
        menu_mover(lead),
        class_name="wa-lead-cartao",
        data_id_lead=lead["id"],
        data_nao_lida=rx.cond(lead["resposta_nao_lida"].to(bool), "1", "0"),
        **atributos_arrastavel(),
    )


def _vazio_coluna() -> rx.Component:
    return rx.el.div(
        rx.icon("inbox", size=18, aria_hidden="true"),
        rx.el.span(
            rx.cond(
                EstadoLeads.busca != "",
                "Nenhum lead encontrado aqui.",
                "Nenhum lead neste estágio. Arraste um card para cá.",
            )
        ),
        class_name="wa-kanban-vazio",
    )


def _coluna(coluna: ObjectVar) -> rx.Component:
    id_titulo = f"coluna-{coluna['id']}"
    return ZonaSoltar.create(
        rx.el.header(
            ponto_estagio(coluna["cor"]),
            rx.el.h2(coluna["nome"], id=id_titulo, class_name="wa-kanban-titulo wa-truncar"),
            rx.el.span(
                coluna["total"],
                class_name="wa-kanban-contagem wa-num",
                aria_label=f"{coluna['total']} leads",
            ),
            class_name="wa-kanban-cabecalho",
        ),
        rx.cond(
            coluna["total"].to(int) > 0,
            rx.el.ul(
                rx.foreach(coluna["leads"], _cartao),
                class_name="wa-kanban-lista",
                aria_labelledby=id_titulo,
            ),
            _vazio_coluna(),
        ),
        on_drop=EstadoLeads.soltar(coluna["id"]).prevent_default,  # type: ignore[operator]
        class_name="wa-kanban-coluna",
        role="region",
        aria_labelledby=id_titulo,
        data_id_estagio=coluna["id"],
    )


def _esqueleto_coluna(cartoes: int) -> rx.Component:
    return rx.el.div(
        rx.el.div(
            esqueleto("12px", "12px", border_radius=t.RAIO_CHEIO),
            esqueleto("16px", "96px"),
            class_name="wa-kanban-cabecalho",
        ),
        rx.el.div(
            *[esqueleto("76px", border_radius=t.RAIO_3) for _ in range(cartoes)],
            class_name="wa-kanban-lista",
        ),
        class_name="wa-kanban-coluna",
    )


def _esqueleto_quadro() -> rx.Component:
    return rx.el.div(
        *[_esqueleto_coluna(n) for n in (4, 3, 2, 2)],
        class_name="wa-kanban",
        role="status",
        aria_live="polite",
        aria_label="Carregando leads",
    )


def quadro() -> rx.Component:
    return rx.cond(
        EstadoLeads.carregando,
        _esqueleto_quadro(),
        rx.cond(
            EstadoLeads.estagios.length() > 0,
            rx.el.div(
                rx.foreach(EstadoLeads.colunas, _coluna),
                class_name="wa-kanban",
                aria_label="Quadro de leads por estágio",
                role="group",
            ),
            estado_vazio(
                "columns-3",
                "Nenhum estágio no funil",
                "Cadastre os estágios do funil em Configurações para começar a mover leads.",
                rx.link(rx.button("Abrir configurações", variant="soft"), href="/configuracoes"),
            ),
        ),
    )
