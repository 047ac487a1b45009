"""/login: a centred card with e-mail and password (composition only)."""

import reflex as rx

from whatsapp_app.modules.login.state import ID_FORMULARIO, EstadoLogin
from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import DESCRICAO_PRODUTO, NOME_PRODUTO, marca


def _campo(rotulo: str, id_campo: str, **props) -> rx.Component:
    return rx.vstack(
        rx.el.label(rotulo, html_for=id_campo, style=t.ESTILO_ROTULO),
        rx.input(id=id_campo, size="3", width="100%", required=True, **props),
        spacing="2",
        width="100%",
    )


def _erro() -> rx.Component:
    return rx.box(
        rx.cond(
            EstadoLogin.erro != "",
            rx.hstack(
                rx.icon("circle-alert", size=16, flex_shrink="0", aria_hidden="true"),
                rx.text(EstadoLogin.erro, size="2"),
                align="center",
                spacing="2",
                color=t.TEXTO_ERRO,
                background=t.FUNDO_ERRO,
                border_radius=t.RAIO_2,
                padding=f"{t.ESPACO_2} {t.ESPACO_3}",
                width="100%",
                class_name="wa-surgir",
            ),
        ),
        role="alert",
        aria_live="assertive",
        width="100%",
    )


def _formulario() -> rx.Component:
    return rx.form(
        rx.vstack(
            _campo(
                "E-mail",
                "login-email",
                name="email",
                type="email",
                auto_complete="username",
                placeholder="voce@empresa.com.br",
                auto_focus=True,
            ),
            _campo(
                "Senha",
                "login-senha",
                name="senha",
                type="password",
                auto_complete="current-password",
            ),
            _erro(),
            rx.button(
                "Entrar",
                type="submit",
                size="3",
                width="100%",
                loading=EstadoLogin.enviando,
            ),
            spacing="4",
            width="100%",
        ),
        id=ID_FORMULARIO,
        on_submit=EstadoLogin.entrar,
        reset_on_submit=False,
        width="100%",
    )


@rx.page(route="/login", title="Entrar", on_load=EstadoLogin.ao_abrir)
def login() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.vstack(
                marca("40px", "22"),
                rx.vstack(
                    rx.heading(NOME_PRODUTO, as_="h1", style=t.ESTILO_TITULO_PAGINA),
                    rx.text(DESCRICAO_PRODUTO, style=t.ESTILO_CORPO, text_align="center"),
                    spacing="1",
                    align="center",
                ),
                spacing="4",
                align="center",
                width="100%",
            ),
            rx.box(
                _formulario(),
                style={**t.ESTILO_CARTAO, "padding": t.ESPACO_5},
                width="100%",
            ),
            rx.text(
                "Acesso restrito aos usuários da sua empresa.",
                style=t.ESTILO_META,
                text_align="center",
            ),
            spacing="5",
            align="center",
            width="100%",
            max_width="400px",
        ),
        min_height="100dvh",
        padding=t.PADDING_PAGINA,
        background=t.FUNDO_LOGIN,
    )
