"""/whatsapp/saude: "Saúde do despacho", the dispatch counters of every process over 24 h and
7 days, for admins watching a rollout (composition only)."""

import reflex as rx

from whatsapp_app.modules.saude.components.cartoes import destaque_duplicados, grade_contadores
from whatsapp_app.modules.saude.components.grafico import grafico_horas, tabela_dias
from whatsapp_app.modules.saude.state import ROTA, EstadoSaudeDespacho
from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import cabecalho_pagina, esqueleto, estado_vazio
from whatsapp_app.ui.layout import pagina

E = EstadoSaudeDespacho


def _atualizar() -> rx.Component:
    return rx.cond(
        E.eh_admin,
        rx.button(
            rx.icon("refresh-cw", size=16, aria_hidden="true"),
            "Atualizar",
            on_click=E.atualizar,
            loading=E.carregando,
            variant="soft",
            color_scheme="gray",
        ),
    )


def _carregando() -> rx.Component:
    return rx.el.div(
        esqueleto("160px", border_radius=t.RAIO_3),
        rx.el.div(
            *[esqueleto("120px", border_radius=t.RAIO_3) for _ in range(4)],
            class_name="wa-saude-grade",
        ),
        class_name="wa-saude-conteudo",
        role="status",
        aria_label="Carregando",
    )


def _conteudo() -> rx.Component:
    return rx.el.div(
        destaque_duplicados(),
        grade_contadores(),
        rx.el.div(grafico_horas(), tabela_dias(), class_name="wa-saude-paineis"),
        rx.text(E.atualizado_em, style=t.ESTILO_META, aria_live="polite"),
        class_name="wa-saude-conteudo",
    )


@pagina(route=ROTA, title="Saúde do despacho", on_load=E.carregar)
def saude() -> rx.Component:
    return rx.el.div(
        cabecalho_pagina(
            "Saúde do despacho",
            "Quantos envios o despacho assumiu, enviou, recuperou e barrou, somando todos os "
            "processos.",
            _atualizar(),
        ),
        rx.cond(
            E.eh_admin,
            rx.cond(E.carregando & (E.gerado_em == ""), _carregando(), _conteudo()),
            estado_vazio(
                "lock",
                "Sem permissão",
                "Seu perfil não permite ver a saúde do despacho. Peça a um administrador.",
            ),
        ),
        class_name="wa-saude-pagina",
    )
