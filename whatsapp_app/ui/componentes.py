"""Small shared building blocks: brand mark, page header, card, empty state, skeletons, form
fields and the side sheet (one class set for leads, WhatsApp and Configurações, in app.css)."""

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


def cartao(*filhos: rx.Component, class_name: str = "", **props) -> rx.Component:
    """A surface with the 1px gray-a5 border and radius 3; lifts gently on hover."""
    return rx.box(
        *filhos, class_name=f"wa-cartao {class_name}".strip(), style=t.ESTILO_CARTAO, **props
    )


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


def campo(
    rotulo: str,
    id_campo: str,
    controle: rx.Component,
    erro: Var | str = "",
    ajuda: str | Var = "",
) -> rx.Component:
    """A labelled form field: label, control, helper text and the inline error.

    The control should carry ``id=id_campo``, ``aria-describedby=f"{id_campo}-erro"`` and
    ``aria-invalid`` (an invalid field is ringed in red by app.css)."""
    return rx.el.div(
        rx.el.label(rotulo, html_for=id_campo, class_name="wa-rotulo"),
        controle,
        rx.el.p(ajuda, class_name="wa-campo-ajuda", id=f"{id_campo}-ajuda")
        if ajuda
        else rx.fragment(),
        erro_campo(id_campo, erro),
        class_name="wa-campo",
    )


def botao_fechar(rotulo: str = "Fechar", tamanho: int = 18, **props) -> rx.Component:
    """The ghost "x" that closes a sheet, a drawer or a panel (``rotulo`` is its aria-label)."""
    return rx.icon_button(
        rx.icon("x", size=tamanho),
        variant="ghost",
        color_scheme="gray",
        aria_label=rotulo,
        **props,
    )


def folha_lateral(
    *corpo: rx.Component,
    titulo: Var | str,
    descricao: Var | str,
    aberta: Var | bool,
    ao_mudar: object,
    rodape: rx.Component | None = None,
    class_name: str = "",
    extras: tuple[rx.Component, ...] = (),
) -> rx.Component:
    """A right-side sheet (a bottom sheet on phones) on Radix's Dialog: focus trap, Esc and
    the close button close it, labelled by its title. ``extras`` are dialogs it opens."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.el.div(
                rx.vstack(
                    rx.dialog.title(titulo, class_name="wa-folha-titulo"),
                    rx.dialog.description(descricao, class_name="wa-folha-descricao"),
                    spacing="1",
                    min_width="0",
                ),
                rx.dialog.close(botao_fechar()),
                class_name="wa-folha-cabecalho",
            ),
            rx.el.div(*corpo, class_name="wa-folha-corpo"),
            rx.el.div(rodape, class_name="wa-folha-rodape")
            if rodape is not None
            else rx.fragment(),
            class_name=f"wa-folha {class_name}".strip(),
            aria_describedby=None,
        ),
        *extras,
        open=aberta,
        on_open_change=ao_mudar,
    )


def dialogo_confirmacao(
    *,
    titulo: Var | str,
    texto: Var | str | rx.Component,
    botao: Var | str,
    ao_confirmar: object,
    aberto: Var | bool,
    ao_mudar: object,
    perigo: Var | bool = True,
    executando: Var | bool = False,
    voltar: str = "Voltar",
) -> rx.Component:
    """The one confirmation dialog (queue, lead drawer, flow list, instances): a title, what
    will happen (with the count), "Voltar" and the action, red when it destroys something."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(titulo, style=t.ESTILO_TITULO_SECAO),
            rx.alert_dialog.description(texto, style=t.ESTILO_CORPO),
            rx.el.div(
                rx.alert_dialog.cancel(
                    rx.button(
                        voltar,
                        variant="soft",
                        color_scheme="gray",
                        disabled=executando,
                        type="button",
                    )
                ),
                rx.button(
                    botao,
                    on_click=ao_confirmar,
                    loading=executando,
                    color_scheme=rx.cond(perigo, "red", "jade")
                    if isinstance(perigo, Var)
                    else ("red" if perigo else "jade"),
                    type="button",
                ),
                class_name="wa-dialogo-rodape",
            ),
            max_width="min(440px, calc(100vw - 32px))",
        ),
        open=aberto,
        on_open_change=ao_mudar,
    )
