"""A builder step's Cloud API template: the approved-template picker, the body parameters
``{{1}}..{{n}}`` (each a message variable or free text containing them) and the warning shown
when the step has none. Rendered only when the chosen instance is on the Cloud API."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars import ObjectVar

from whatsapp_app.modules.whatsapp.modelos import (
    AVISO_SEM_MODELO,
    MODO_LIVRE,
    SEM_MODELO,
    STATUS_CARREGANDO,
    STATUS_ERRO,
    TOKENS_VARIAVEIS,
)
from whatsapp_app.modules.whatsapp.state import EstadoWhatsapp
from whatsapp_app.ui.componentes import erro_campo, esqueleto

E = EstadoWhatsapp
AJUDA_MODELO = (
    "Fora da janela de 24 h (sem resposta do lead nesse período) o WhatsApp só aceita um "
    "modelo aprovado pela Meta; dentro dela vai a mensagem acima."
)


def _parametro(indice: Any, numero: Any, p: ObjectVar, posicao: Any) -> rx.Component:
    id_campo = f"etapa-{indice}-parametro-{posicao}"
    return rx.el.div(
        rx.el.label(
            "Parâmetro {{",
            posicao + 1,
            "}}",
            html_for=id_campo,
            class_name="wa-wpp-rotulo wa-num",
        ),
        rx.el.div(
            rx.select.root(
                rx.select.trigger(id=id_campo, width="100%"),
                rx.select.content(
                    *[rx.select.item(token, value=token) for token in TOKENS_VARIAVEIS],
                    rx.select.separator(),
                    rx.select.item("Texto livre…", value=MODO_LIVRE),
                    position="popper",
                ),
                value=p["modo"],
                on_change=lambda v: E.definir_modo_parametro(indice, posicao, v),  # type: ignore[call-arg, operator, misc]
                size="2",
            ),
            rx.cond(
                p["modo"] == MODO_LIVRE,
                rx.input(
                    value=p["valor"],
                    on_change=lambda v: E.definir_valor_parametro(indice, posicao, v),  # type: ignore[call-arg, operator, misc]
                    placeholder="Ex.: {{primeiro_nome}}, tudo bem?",
                    max_length=200,
                    size="2",
                    width="100%",
                    aria_label=f"Texto do parâmetro {posicao + 1} do modelo da etapa {numero}",
                ),
            ),
            class_name="wa-wpp-parametro",
        ),
        class_name="wa-wpp-campo",
    )


def _seletor(etapa: ObjectVar, indice: Any, numero: Any) -> rx.Component:
    id_modelo = f"etapa-{indice}-modelo"
    return rx.select.root(
        rx.select.trigger(
            id=id_modelo,
            placeholder="Escolha um modelo aprovado",
            width="100%",
            aria_invalid=rx.cond(etapa["erro_modelo"] != "", "true", "false"),
            aria_describedby=f"{id_modelo}-erro {id_modelo}-ajuda",
        ),
        rx.select.content(
            rx.foreach(
                E.modelos,
                lambda m: rx.select.item(m["rotulo"], value=m["chave"]),
            ),
            rx.select.separator(),
            rx.select.item("Nenhum modelo", value=SEM_MODELO),
            position="popper",
        ),
        value=etapa["modelo_chave"],
        on_change=lambda v: E.escolher_modelo(indice, v),  # type: ignore[call-arg, operator, misc]
        size="2",
    )


def _lista(etapa: ObjectVar, indice: Any, numero: Any) -> rx.Component:
    """The picker once the templates are known; a loading line or the error before that."""
    return rx.match(
        E.modelos_status,
        (
            STATUS_CARREGANDO,
            rx.el.div(
                esqueleto("32px"),
                rx.el.span("Carregando os modelos aprovados…", class_name="wa-campo-ajuda"),
                class_name="wa-wpp-modelo-carregando",
                role="status",
            ),
        ),
        (
            STATUS_ERRO,
            rx.callout.root(
                rx.callout.icon(rx.icon("circle-alert", size=16)),
                rx.callout.text(E.modelos_erro),
                rx.button(
                    rx.icon("refresh-cw", size=14, aria_hidden="true"),
                    "Tentar novamente",
                    variant="soft",
                    color_scheme="gray",
                    size="1",
                    on_click=E.tentar_modelos_novamente,
                    type="button",
                    justify_self="start",
                    width="auto",
                ),
                color_scheme="red",
                size="1",
                role="alert",
                class_name="wa-wpp-modelo-erro",
            ),
        ),
        rx.cond(
            E.modelos.length() > 0,  # type: ignore[attr-defined]
            _seletor(etapa, indice, numero),
            rx.el.p(
                "Nenhum modelo aprovado nesta conta do WhatsApp Business. Crie um no "
                "Gerenciador do WhatsApp da Meta e aguarde a aprovação.",
                class_name="wa-campo-ajuda",
                role="status",
            ),
        ),
    )


def modelo_etapa(etapa: ObjectVar, indice: Any) -> rx.Component:
    numero = indice + 1
    id_modelo = f"etapa-{indice}-modelo"
    return rx.el.div(
        rx.el.label(
            "Modelo para fora da janela de 24 h",
            html_for=id_modelo,
            class_name="wa-wpp-rotulo",
        ),
        rx.el.p(AJUDA_MODELO, class_name="wa-campo-ajuda", id=f"{id_modelo}-ajuda"),
        _lista(etapa, indice, numero),
        rx.cond(
            etapa["modelo_nome"] != "",
            rx.el.div(
                rx.foreach(
                    etapa["parametros"],
                    lambda p, posicao: _parametro(indice, numero, p, posicao),
                ),
                class_name="wa-wpp-parametros",
            ),
            rx.el.p(
                rx.icon("triangle-alert", size=14, aria_hidden="true", flex_shrink="0"),
                rx.el.span(AVISO_SEM_MODELO),
                class_name="wa-wpp-aviso-modelo",
                role="note",
            ),
        ),
        erro_campo(id_modelo, etapa["erro_modelo"]),
        class_name="wa-wpp-campo wa-wpp-modelo",
    )
