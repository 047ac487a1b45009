"""/whatsapp/fila: every follow-up job of the company, with filters and the operator's
actions (composition only)."""

import reflex as rx

from whatsapp_app.modules.fila.components.confirmacao import dialogo_confirmacao
from whatsapp_app.modules.fila.components.filtros import filtros
from whatsapp_app.modules.fila.components.lista import barra_selecao, lista
from whatsapp_app.modules.fila.state import ROTA, EstadoFila
from whatsapp_app.ui.componentes import cabecalho_pagina
from whatsapp_app.ui.layout import pagina


@pagina(route=ROTA, title="Fila de envios", on_load=EstadoFila.carregar)
def fila() -> rx.Component:
    return rx.el.div(
        cabecalho_pagina(
            "Fila de envios",
            "Cada mensagem de follow-up: quando sai, como saiu e o que fazer quando falha.",
        ),
        filtros(),
        barra_selecao(),
        lista(),
        dialogo_confirmacao(),
        class_name="wa-fila-pagina",
    )
