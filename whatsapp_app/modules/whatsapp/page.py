"""/whatsapp (placeholder until the WhatsApp module ships; composition only)."""

import reflex as rx

from whatsapp_app.ui.em_construcao import em_construcao
from whatsapp_app.ui.layout import pagina


@pagina(route="/whatsapp", title="WhatsApp")
def whatsapp() -> rx.Component:
    return em_construcao(
        "WhatsApp", "Conexões, automações de follow-up e fila de envios.", "message-circle"
    )
