"""The company's opt-out words ("Palavras de descadastro"): chips, admins add and remove.

A lead whose whole reply is one of these words stops receiving follow-ups. Without a list of
its own the company uses the defaults (shown, and restorable). Errors come from the service's
validation and sit under the field.
"""

from __future__ import annotations

import reflex as rx

from whatsapp_app.modules.configuracoes.state import EstadoConfiguracoes
from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import cartao, erro_campo, esqueleto

E = EstadoConfiguracoes
ID_CAMPO = "optout-nova"


def _chip(palavra: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.span(palavra, class_name="wa-cfg-palavra-texto"),
        rx.cond(
            E.eh_admin,
            rx.el.button(
                rx.icon("x", size=12, aria_hidden="true"),
                on_click=E.remover_palavra(palavra),  # type: ignore[operator, misc]
                type="button",
                class_name="wa-cfg-palavra-remover",
                aria_label=f"Remover {palavra}",
                title=f"Remover {palavra}",
            ),
        ),
        class_name="wa-cfg-palavra",
    )


def _adicionar() -> rx.Component:
    return rx.el.form(
        rx.el.label("Nova palavra", html_for=ID_CAMPO, class_name="wa-rotulo"),
        rx.el.div(
            rx.input(
                id=ID_CAMPO,
                name="nova_palavra",
                value=E.nova_palavra,
                on_change=E.definir_nova_palavra,
                placeholder="Ex.: NÃO QUERO",
                max_length=400,
                auto_complete="off",
                size="2",
                width="100%",
                aria_invalid=rx.cond(E.erro_palavras != "", "true", "false"),
                aria_describedby=f"{ID_CAMPO}-erro {ID_CAMPO}-ajuda",
            ),
            rx.button(
                rx.icon("plus", size=14, aria_hidden="true"),
                "Adicionar",
                type="submit",
                variant="soft",
                size="2",
            ),
            class_name="wa-cfg-palavra-nova",
        ),
        rx.el.p(
            "Separe várias com vírgula. Maiúsculas, acentos e pontuação não fazem diferença.",
            class_name="wa-campo-ajuda",
            id=f"{ID_CAMPO}-ajuda",
        ),
        erro_campo(ID_CAMPO, E.erro_palavras),
        on_submit=E.adicionar_palavra,
        class_name="wa-campo",
    )


def _conteudo() -> rx.Component:
    return rx.el.div(
        rx.cond(
            E.usar_padrao,
            rx.el.p(
                rx.icon("info", size=14, aria_hidden="true", flex_shrink="0"),
                rx.el.span(
                    "Usando as palavras padrão. Adicione ou remova uma para ter a lista "
                    "da sua empresa."
                ),
                class_name="wa-campo-ajuda wa-cfg-padrao",
            ),
        ),
        rx.el.ul(
            rx.foreach(E.palavras, _chip),
            class_name="wa-cfg-palavras",
            aria_label="Palavras de descadastro",
        ),
        rx.el.p(E.total_palavras_texto, class_name="wa-sr-only", role="status"),
        rx.cond(
            E.eh_admin,
            rx.fragment(
                _adicionar(),
                rx.el.div(
                    rx.button(
                        rx.icon("rotate-ccw", size=14, aria_hidden="true"),
                        "Restaurar padrão",
                        type="button",
                        variant="ghost",
                        color_scheme="gray",
                        disabled=E.usar_padrao,
                        on_click=E.restaurar_palavras_padrao,
                        class_name="wa-cfg-restaurar",
                    ),
                    rx.button(
                        "Descartar",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        disabled=~E.palavras_alteradas,
                        on_click=E.descartar_palavras,
                    ),
                    rx.button(
                        "Salvar",
                        type="button",
                        on_click=E.salvar_palavras,
                        loading=E.salvando_palavras,
                        disabled=~E.palavras_alteradas,
                    ),
                    class_name="wa-dialogo-rodape",
                ),
            ),
            rx.el.p(
                rx.icon("lock", size=12, aria_hidden="true"),
                "Somente administradores podem alterar as palavras de descadastro.",
                class_name="wa-campo-ajuda wa-cfg-leitura",
            ),
        ),
        class_name="wa-wpp-form",
    )


def palavras_optout() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.el.h2("Palavras de descadastro", id="cfg-optout", style=t.ESTILO_TITULO_SECAO),
            rx.el.p(
                "Quando o lead responde só com uma destas palavras, ele para de receber "
                "follow-ups e os envios pendentes para ele são cancelados.",
                class_name="wa-wpp-meta",
            ),
            class_name="wa-wpp-secao-topo wa-wpp-secao-topo-coluna",
        ),
        cartao(
            rx.cond(
                E.carregando,
                rx.vstack(
                    esqueleto("28px", "70%"),
                    esqueleto("36px"),
                    spacing="3",
                    width="100%",
                    aria_hidden="true",
                ),
                _conteudo(),
            ),
            class_name="wa-cfg-cartao",
        ),
        aria_labelledby="cfg-optout",
        class_name="wa-wpp-secao",
    )
