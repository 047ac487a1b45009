"""``/``: no page of its own; sends the visitor to the app or to the login."""

import reflex as rx

from whatsapp_app.ui.componentes import esqueleto_pagina
from whatsapp_app.ui.sessao import EstadoSessao


@rx.page(route="/", title="Follow-up", on_load=EstadoSessao.ir_para_inicio)
def inicio() -> rx.Component:
    return rx.box(esqueleto_pagina(), padding="var(--space-5)")
