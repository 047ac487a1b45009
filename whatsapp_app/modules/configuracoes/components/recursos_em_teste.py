"""Admin-only "Recursos em teste": the feature flags of the WhatsApp module, with switches.

A flag forced by the environment (``FEATURE_FLAGS``) shows its switch disabled and says why.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from whatsapp_app.modules.configuracoes.state import EstadoConfiguracoes
from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import cartao

E = EstadoConfiguracoes


def _linha(flag: ObjectVar) -> rx.Component:
    id_campo = f"flag-{flag['chave']}"
    return rx.el.li(
        rx.el.div(
            rx.el.label(flag["descricao"], html_for=id_campo, class_name="wa-rotulo"),
            rx.el.p(
                # People read the flag's name and where its value comes from, never its key.
                flag["origem"],
                class_name="wa-campo-ajuda",
                id=f"{id_campo}-ajuda",
            ),
            class_name="wa-wpp-interruptor-texto",
        ),
        rx.switch(
            id=id_campo,
            checked=flag["ativo"].to(bool),
            disabled=flag["forcada"].to(bool),
            on_change=lambda v: E.definir_flag(flag["chave"], v),  # type: ignore[call-arg, operator, misc]
            aria_describedby=f"{id_campo}-ajuda",
        ),
        class_name="wa-wpp-interruptor wa-cfg-flag",
        data_forcada=rx.cond(flag["forcada"].to(bool), "1", "0"),
    )


def recursos_em_teste() -> rx.Component:
    return rx.cond(
        E.eh_admin,
        rx.el.section(
            rx.el.div(
                rx.el.h2("Recursos em teste", id="cfg-recursos", style=t.ESTILO_TITULO_SECAO),
                rx.el.p(
                    "Liga e desliga partes novas da página WhatsApp para esta empresa. "
                    "Desligada, a parte some da página sem afetar os envios.",
                    class_name="wa-wpp-meta",
                ),
                class_name="wa-wpp-secao-topo wa-wpp-secao-topo-coluna",
            ),
            cartao(
                rx.el.ul(rx.foreach(E.flags, _linha), class_name="wa-cfg-flags"),
                class_name="wa-cfg-cartao",
            ),
            aria_labelledby="cfg-recursos",
            class_name="wa-wpp-secao",
        ),
    )
