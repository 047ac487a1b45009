"""/whatsapp: status cards, the flow list, "Disparar agora" and the builder (composition only).

Each part sits behind its feature flag (plan 5, K): a flag that is off hides the part.
"""

import reflex as rx

from whatsapp_app.modules.whatsapp.components.automacoes_list import automacoes_list
from whatsapp_app.modules.whatsapp.components.create_automation_slideover import (
    create_automation_slideover,
)
from whatsapp_app.modules.whatsapp.components.dispatch_command_bar import dispatch_command_bar
from whatsapp_app.modules.whatsapp.components.dispatch_progress_overlay import (
    dispatch_progress_overlay,
)
from whatsapp_app.modules.whatsapp.components.historico_disparos import historico_disparos
from whatsapp_app.modules.whatsapp.components.instances_list import instances_list
from whatsapp_app.modules.whatsapp.components.whatsapp_header import whatsapp_header
from whatsapp_app.modules.whatsapp.state import EstadoWhatsapp
from whatsapp_app.ui.layout import pagina


@pagina(route="/whatsapp", title="WhatsApp", on_load=EstadoWhatsapp.carregar)
def whatsapp() -> rx.Component:
    e = EstadoWhatsapp
    return rx.el.div(
        whatsapp_header(),
        rx.cond(e.flag_disparo, dispatch_command_bar()),
        rx.cond(e.flag_cards, instances_list()),
        rx.cond(e.flag_fluxos, automacoes_list()),
        rx.cond(e.flag_disparo, historico_disparos()),
        rx.cond(e.flag_disparo, dispatch_progress_overlay()),
        rx.cond(e.flag_construtor, create_automation_slideover()),
        on_unmount=e.parar_acompanhamento,
        class_name="wa-wpp-pagina",
        data_disparo=rx.cond(e.flag_disparo & e.pode_gerir, "1", "0"),
    )
