"""/configuracoes: the sending window (admins edit, others read) and the feature flags."""

import reflex as rx

from whatsapp_app.modules.configuracoes.components.janela_envio import janela_envio
from whatsapp_app.modules.configuracoes.components.recursos_em_teste import recursos_em_teste
from whatsapp_app.modules.configuracoes.state import EstadoConfiguracoes
from whatsapp_app.ui.componentes import cabecalho_pagina
from whatsapp_app.ui.layout import pagina


@pagina(route="/configuracoes", title="Configurações", on_load=EstadoConfiguracoes.carregar)
def configuracoes() -> rx.Component:
    return rx.el.div(
        cabecalho_pagina(
            "Configurações",
            "Quando os follow-ups podem sair e quais recursos novos estão ligados.",
        ),
        janela_envio(),
        recursos_em_teste(),
        class_name="wa-wpp-pagina wa-cfg-pagina",
    )
