"""/configuracoes (placeholder until company settings ship)."""

import reflex as rx

from whatsapp_app.ui.em_construcao import em_construcao
from whatsapp_app.ui.layout import pagina


@pagina(route="/configuracoes", title="Configurações")
def configuracoes() -> rx.Component:
    return em_construcao(
        "Configurações", "Dados da empresa, fuso horário e janela de envio.", "settings"
    )
