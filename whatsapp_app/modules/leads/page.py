"""/leads (placeholder until the leads board ships)."""

import reflex as rx

from whatsapp_app.ui.em_construcao import em_construcao
from whatsapp_app.ui.layout import pagina


@pagina(route="/leads", title="Leads")
def leads() -> rx.Component:
    return em_construcao("Leads", "Acompanhe seus leads por etapa do funil.", "users")
