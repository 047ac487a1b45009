"""The body of a page whose feature has not shipped yet."""

import reflex as rx

from whatsapp_app.ui.componentes import cabecalho_pagina, estado_vazio


def em_construcao(titulo: str, descricao: str, icone: str) -> rx.Component:
    return rx.vstack(
        cabecalho_pagina(titulo, descricao),
        estado_vazio(
            icone,
            "Em construção",
            "Esta área ainda está sendo preparada e chega em uma das próximas entregas.",
        ),
        spacing="5",
        width="100%",
    )
