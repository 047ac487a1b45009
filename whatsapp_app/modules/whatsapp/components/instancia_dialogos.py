"""The instance card menu's dialogs: rename, and delete (stating how many pending jobs it
cancels). Admin only, as the API's ``PATCH`` / ``DELETE /api/whatsapp/instances/{id}``."""

from __future__ import annotations

import reflex as rx

from whatsapp_app.modules.whatsapp.state import EstadoWhatsapp
from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import dialogo_confirmacao, erro_campo

E = EstadoWhatsapp
ID_CAMPO_NOME = "renomear-instancia-nome"


def dialogo_renomear() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Renomear instância", style=t.ESTILO_TITULO_SECAO),
            rx.dialog.description(
                "O nome aparece nos cartões, nas automações e na fila de envios.",
                style=t.ESTILO_CORPO,
            ),
            rx.el.form(
                rx.el.div(
                    rx.el.label("Nome", html_for=ID_CAMPO_NOME, class_name="wa-wpp-rotulo"),
                    rx.input(
                        id=ID_CAMPO_NOME,
                        name="nome",
                        value=E.renomear_nome,
                        on_change=E.definir_nome_instancia,
                        max_length=120,
                        auto_complete="off",
                        size="2",
                        width="100%",
                        aria_invalid=rx.cond(E.renomear_erro, "true", "false"),
                        aria_describedby=f"{ID_CAMPO_NOME}-erro",
                    ),
                    erro_campo(ID_CAMPO_NOME, E.renomear_erro),
                    class_name="wa-wpp-campo",
                ),
                rx.el.div(
                    rx.dialog.close(
                        rx.button("Cancelar", variant="soft", color_scheme="gray", type="button")
                    ),
                    rx.button("Salvar", type="submit"),
                    class_name="wa-wpp-dialogo-rodape",
                ),
                on_submit=E.confirmar_renomear,
                prevent_default=True,
            ),
            max_width="420px",
        ),
        open=E.renomear_id != "",
        on_open_change=E.mudar_renomear,
    )


def dialogo_excluir() -> rx.Component:
    return dialogo_confirmacao(
        titulo=E.excluir_instancia_titulo,
        texto=E.excluir_instancia_texto,
        botao="Excluir instância",
        ao_confirmar=E.confirmar_exclusao_instancia,
        aberto=E.excluir_instancia_id != "",
        ao_mudar=E.mudar_exclusao_instancia,
    )
