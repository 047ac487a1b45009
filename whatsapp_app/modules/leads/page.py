"""/leads: the pipeline kanban with search, "Novo lead" and the lead drawer (composition only)."""

import reflex as rx

from whatsapp_app.modules.leads.components.barra import barra_ferramentas
from whatsapp_app.modules.leads.components.dialogo_novo_lead import dialogo_novo_lead
from whatsapp_app.modules.leads.components.gaveta_lead import gaveta_lead
from whatsapp_app.modules.leads.components.quadro import quadro
from whatsapp_app.modules.leads.state import EstadoLeads
from whatsapp_app.ui.componentes import cabecalho_pagina
from whatsapp_app.ui.layout import pagina


@pagina(route="/leads", title="Leads", on_load=EstadoLeads.carregar)
def leads() -> rx.Component:
    return rx.vstack(
        cabecalho_pagina(
            "Leads",
            "Acompanhe seus leads por estágio do funil e mova-os para disparar os follow-ups.",
        ),
        barra_ferramentas(),
        quadro(),
        dialogo_novo_lead(),
        gaveta_lead(),
        on_unmount=EstadoLeads.parar_acompanhamento,
        spacing="4",
        width="100%",
        min_width="0",
    )
