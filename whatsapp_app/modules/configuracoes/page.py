"""/configuracoes: the sending window and the opt-out words (admins edit, others read) and the
feature flags."""

import reflex as rx

from whatsapp_app.modules.configuracoes.components.janela_envio import janela_envio
from whatsapp_app.modules.configuracoes.components.palavras_optout import palavras_optout
from whatsapp_app.modules.configuracoes.components.recursos_em_teste import recursos_em_teste
from whatsapp_app.modules.configuracoes.state import EstadoConfiguracoes
from whatsapp_app.ui.componentes import cabecalho_pagina
from whatsapp_app.ui.layout import pagina


@pagina(route="/configuracoes", title="Configurações", on_load=EstadoConfiguracoes.carregar)
def configuracoes() -> rx.Component:
    return rx.el.div(
        cabecalho_pagina(
            "Configurações",
            "Quando os follow-ups podem sair, quem não quer recebê-los e quais recursos novos "
            "estão ligados.",
        ),
        janela_envio(),
        palavras_optout(),
        recursos_em_teste(),
        class_name="wa-wpp-pagina wa-cfg-pagina",
    )
