"""The "Novo lead" dialog: Nome, Telefone, Estágio, with the errors next to their fields."""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

from whatsapp_app.modules.leads.components.tema import ponto_estagio
from whatsapp_app.modules.leads.state import EstadoLeads
from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import campo


def _campo(
    rotulo: str, id_campo: str, controle: rx.Component, erro: Var | str, ajuda: str = ""
) -> rx.Component:
    return campo(rotulo, id_campo, controle, erro, ajuda)


def _entrada(id_campo: str, erro: Var | str, **props) -> rx.Component:
    return rx.input(
        id=id_campo,
        size="3",
        width="100%",
        aria_invalid=rx.cond(erro != "", "true", "false"),
        aria_describedby=f"{id_campo}-erro",
        **props,
    )


def _seletor_estagio() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(
            id="novo-lead-estagio",
            width="100%",
            aria_invalid=rx.cond(EstadoLeads.erro_estagio != "", "true", "false"),
            aria_describedby="novo-lead-estagio-erro",
        ),
        rx.select.content(
            rx.foreach(
                EstadoLeads.estagios,
                lambda e: rx.select.item(
                    rx.hstack(ponto_estagio(e["cor"]), rx.text(e["nome"]), align="center"),
                    value=e["id"],
                ),
            ),
            position="popper",
        ),
        value=EstadoLeads.novo_estagio,
        on_change=EstadoLeads.escolher_estagio,
        size="3",
    )


def _formulario() -> rx.Component:
    return rx.form(
        rx.vstack(
            _campo(
                "Nome",
                "novo-lead-nome",
                _entrada(
                    "novo-lead-nome",
                    EstadoLeads.erro_nome,
                    name="nome",
                    placeholder="Nome do contato",
                    auto_complete="off",
                    auto_focus=True,
                    max_length=200,
                ),
                EstadoLeads.erro_nome,
            ),
            _campo(
                "Telefone",
                "novo-lead-telefone",
                _entrada(
                    "novo-lead-telefone",
                    EstadoLeads.erro_telefone,
                    name="telefone",
                    type="tel",
                    input_mode="tel",
                    placeholder="(11) 98765-4321",
                    auto_complete="off",
                    max_length=32,
                ),
                EstadoLeads.erro_telefone,
                ajuda="Com DDD. Números de outros países começam com +.",
            ),
            _campo(
                "Estágio",
                "novo-lead-estagio",
                _seletor_estagio(),
                EstadoLeads.erro_estagio,
            ),
            rx.cond(
                EstadoLeads.erro_geral != "",
                rx.callout(
                    EstadoLeads.erro_geral,
                    icon="circle-alert",
                    color_scheme="red",
                    size="1",
                    width="100%",
                ),
            ),
            rx.hstack(
                rx.dialog.close(
                    rx.button("Cancelar", type="button", variant="soft", color_scheme="gray")
                ),
                rx.button("Criar lead", type="submit", loading=EstadoLeads.salvando),
                justify="end",
                spacing="3",
                width="100%",
                padding_top=t.ESPACO_2,
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=EstadoLeads.criar,
        reset_on_submit=False,
        width="100%",
    )


def dialogo_novo_lead() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Novo lead", style=t.ESTILO_TITULO_SECAO, margin_bottom=t.ESPACO_1),
            rx.dialog.description(
                "Cadastre um contato direto em um estágio do funil.",
                style=t.ESTILO_CORPO,
                margin_bottom=t.ESPACO_4,
            ),
            _formulario(),
            max_width="440px",
            class_name="wa-dialogo-lead",
        ),
        open=EstadoLeads.dialogo_aberto,
        on_open_change=EstadoLeads.mudar_dialogo,
    )
