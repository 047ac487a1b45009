"""Small shared building blocks: brand mark, page header, card, empty state, skeletons."""

import reflex as rx
from reflex.vars.base import Var

from whatsapp_app.ui import tokens as t

NOME_PRODUTO = "Follow-up"
DESCRICAO_PRODUTO = "CRM de vendas com follow-up automático por WhatsApp"


def marca(tamanho: str = "32px", icone: str = "18") -> rx.Component:
    """The product's square mark: a chat bubble on the accent colour."""
    return rx.center(
        rx.icon("message-circle-more", size=int(icone), stroke_width=2.25),
        width=tamanho,
        height=tamanho,
        min_width=tamanho,
        border_radius=t.RAIO_3,
        background=t.ACENTO,
        color=t.ACENTO_CONTRASTE,
        aria_hidden="true",
    )


def cabecalho_pagina(titulo: str, descricao: str = "", *acoes: rx.Component) -> rx.Component:
    """Page title (24/semibold), one line of description, actions on the right."""
    return rx.flex(
        rx.vstack(
            rx.heading(titulo, as_="h1", style=t.ESTILO_TITULO_PAGINA),
            rx.text(descricao, style=t.ESTILO_CORPO) if descricao else rx.fragment(),
            spacing="1",
            min_width="0",
        ),
        rx.hstack(*acoes, spacing="3", wrap="wrap") if acoes else rx.fragment(),
        justify="between",
        align=rx.breakpoints(initial="start", sm="end"),
        direction=rx.breakpoints(initial="column", sm="row"),
        gap=t.ESPACO_4,
        width="100%",
    )


def cartao(*filhos: rx.Component, **props) -> rx.Component:
    """A surface with the 1px gray-a5 border and radius 3; lifts gently on hover."""
    return rx.box(*filhos, class_name="wa-cartao", style=t.ESTILO_CARTAO, **props)


def estado_vazio(
    icone: str,
    titulo: str,
    texto: str,
    acao: rx.Component | None = None,
) -> rx.Component:
    """An icon, one sentence and (when there is one) the primary action."""
    return rx.center(
        rx.vstack(
            rx.center(
                rx.icon(icone, size=22),
                width="48px",
                height="48px",
                border_radius=t.RAIO_CHEIO,
                background=t.FUNDO_ACENTO_SUAVE,
                color=t.TEXTO_ACENTO,
                aria_hidden="true",
            ),
            rx.heading(titulo, as_="h2", style=t.ESTILO_TITULO_SECAO),
            rx.text(texto, style=t.ESTILO_CORPO, text_align="center", max_width="360px"),
            acao if acao is not None else rx.fragment(),
            align="center",
            spacing="3",
        ),
        class_name="wa-cartao wa-estado-vazio",
        style={**t.ESTILO_CARTAO, "padding": f"{t.ESPACO_6} {t.ESPACO_4}"},
        border_style="dashed",
        width="100%",
        min_height="280px",
    )


def esqueleto(altura: str = "16px", largura: str = "100%", **props) -> rx.Component:
    """A shimmering placeholder bar (CSS in assets/app.css; still under reduced motion)."""
    props.setdefault("border_radius", t.RAIO_2)
    return rx.box(
        class_name="wa-esqueleto",
        height=altura,
        width=largura,
        aria_hidden="true",
        **props,
    )


def esqueleto_pagina() -> rx.Component:
    """What a protected page shows while its session is being checked."""
    return rx.vstack(
        rx.vstack(
            esqueleto("28px", "220px"),
            esqueleto("16px", "320px", max_width="100%"),
            spacing="2",
            width="100%",
        ),
        rx.grid(
            *[esqueleto("96px", border_radius=t.RAIO_3) for _ in range(3)],
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            gap=t.ESPACO_4,
            width="100%",
        ),
        esqueleto("240px", border_radius=t.RAIO_3),
        spacing="5",
        width="100%",
        role="status",
        aria_live="polite",
        aria_label="Carregando",
    )


def erro_campo(id_campo: str, mensagem: Var | str) -> rx.Component:
    """The inline error under a field (``{id_campo}-erro``, for ``aria-describedby``)."""
    return rx.cond(
        mensagem,
        rx.el.p(
            rx.icon("circle-alert", size=14, aria_hidden="true", flex_shrink="0"),
            rx.el.span(mensagem),
            id=f"{id_campo}-erro",
            class_name="wa-campo-erro wa-surgir",
        ),
    )
