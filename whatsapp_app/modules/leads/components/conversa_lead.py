"""The lead's WhatsApp conversation in the drawer, and the opt-out banner.

Bubbles: the lead's messages on the left with a "Respondeu" marker, ours on the right with the
follow-up step that sent them and the delivery status as ticks plus a word (enviada ✓,
entregue ✓✓, lida ✓✓ in the accent colour, falhou with an icon): never colour alone. The list
is a polite live region, so a reply arriving while the drawer is open is announced.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from whatsapp_app.modules.leads.state import EstadoLeads
from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import esqueleto

E = EstadoLeads
# Delivery code → (lucide icon, modifier class). The word comes from the row.
ICONES_ENTREGA = {
    "enviado": "check",
    "entregue": "check-check",
    "lido": "check-check",
    "falhou": "circle-alert",
}


def _entrega(m: ObjectVar) -> rx.Component:
    def _com(icone: str) -> rx.Component:
        return rx.icon(icone, size=14, aria_hidden="true", class_name="wa-conversa-tique")

    return rx.el.span(
        rx.match(
            m["entrega"],
            *[(codigo, _com(icone)) for codigo, icone in ICONES_ENTREGA.items()],
            _com("check"),
        ),
        rx.el.span(m["rotulo_entrega"]),
        class_name="wa-conversa-entrega",
        data_entrega=m["entrega"],
    )


def _bolha(m: ObjectVar) -> rx.Component:
    entrada = m["direcao"] == "entrada"
    return rx.el.li(
        rx.cond(
            m["dia"] != "",
            rx.el.div(rx.el.span(m["dia"]), class_name="wa-conversa-dia", aria_hidden="true"),
        ),
        rx.el.div(
            rx.cond(
                entrada,
                rx.el.span(
                    rx.icon("reply", size=12, aria_hidden="true"),
                    "Respondeu",
                    class_name="wa-conversa-respondeu",
                ),
                rx.el.span(
                    rx.el.span("Mensagem enviada", class_name="wa-sr-only"),
                    rx.cond(
                        m["origem"] != "",
                        rx.el.span(
                            rx.icon("workflow", size=12, aria_hidden="true"),
                            rx.el.span(m["origem"], class_name="wa-truncar"),
                            class_name="wa-conversa-origem",
                        ),
                    ),
                ),
            ),
            rx.el.p(m["texto"], class_name="wa-conversa-texto"),
            rx.el.div(
                rx.el.time(
                    rx.el.span(m["hora"], aria_hidden="true"),
                    rx.el.span(m["quando"], class_name="wa-sr-only"),
                    date_time=m["iso"],
                    title=m["quando"],
                    class_name="wa-num",
                ),
                rx.cond(~entrada, _entrega(m)),
                class_name="wa-conversa-meta",
            ),
            class_name="wa-conversa-bolha",
        ),
        class_name="wa-conversa-item",
        data_direcao=m["direcao"],
    )


def _vazia() -> rx.Component:
    return rx.el.div(
        rx.icon("messages-square", size=20, aria_hidden="true"),
        rx.el.span(
            "Nenhuma mensagem ainda. Os follow-ups enviados e as respostas do lead aparecem aqui."
        ),
        class_name="wa-kanban-vazio",
    )


def conversa() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.el.h2("Conversa no WhatsApp", class_name="wa-gaveta-secao", id="gaveta-conversa"),
            # The live region stays mounted, so a new message is announced by its count.
            rx.el.span(
                rx.cond(E.carregando_lead, "", E.resumo_conversa),
                class_name="wa-gaveta-contagem wa-num",
                role="status",
                aria_live="polite",
            ),
            class_name="wa-gaveta-secao-topo wa-gaveta-secao-topo-coluna",
        ),
        rx.cond(
            E.carregando_lead,
            rx.vstack(
                esqueleto("48px", "70%", border_radius=t.RAIO_3),
                esqueleto("48px", "60%", border_radius=t.RAIO_3, align_self="flex-end"),
                spacing="3",
                width="100%",
                aria_hidden="true",
            ),
            rx.cond(
                E.total_mensagens > 0,
                rx.el.div(
                    rx.el.ol(
                        rx.foreach(E.mensagens, _bolha),
                        class_name="wa-conversa",
                        aria_labelledby="gaveta-conversa",
                    ),
                    id="gaveta-conversa-rolagem",
                    class_name="wa-conversa-rolagem",
                    tab_index=0,
                    role="region",
                    aria_label="Mensagens da conversa",
                ),
                _vazia(),
            ),
        ),
        aria_busy=rx.cond(E.carregando_lead, "true", "false"),
        aria_labelledby="gaveta-conversa",
        class_name="wa-gaveta-bloco",
    )


def aviso_optout() -> rx.Component:
    """ "Não quer receber mensagens": no follow-up is scheduled or sent while it stands."""
    return rx.cond(
        E.lead["optout"] & ~E.carregando_lead,
        rx.el.div(
            rx.icon("bell-off", size=18, aria_hidden="true", class_name="wa-optout-icone"),
            rx.el.div(
                rx.el.p("Não quer receber mensagens", class_name="wa-optout-titulo"),
                rx.el.p(
                    "O lead pediu para sair",
                    rx.cond(E.lead["optout_em"] != "", f" em {E.lead['optout_em']}", ""),
                    ". Nenhum follow-up é agendado nem enviado para ele.",
                    class_name="wa-optout-texto wa-num",
                ),
                rx.cond(
                    E.pode_permitir_mensagens,
                    rx.button(
                        rx.icon("bell-ring", size=14, aria_hidden="true"),
                        "Permitir mensagens novamente",
                        variant="soft",
                        color_scheme="gray",
                        size="2",
                        on_click=E.pedir_optin,
                        type="button",
                        class_name="wa-optout-acao",
                    ),
                ),
                class_name="wa-optout-corpo",
            ),
            class_name="wa-optout",
            role="status",
        ),
    )


def confirmar_optin() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Permitir mensagens novamente?", style=t.ESTILO_TITULO_SECAO),
            rx.alert_dialog.description(
                rx.el.span(E.lead["nome"]),
                " pediu para não receber mensagens. Confirme só se o lead autorizou de novo o "
                "contato. Os próximos follow-ups voltam a ser agendados quando ele entrar num "
                "estágio com automação; a liberação fica registrada com o seu nome.",
                style=t.ESTILO_CORPO,
            ),
            rx.el.div(
                rx.alert_dialog.cancel(
                    rx.button("Cancelar", variant="soft", color_scheme="gray", type="button")
                ),
                rx.button(
                    "Permitir mensagens",
                    on_click=E.permitir_mensagens,
                    loading=E.salvando_optin,
                    type="button",
                ),
                class_name="wa-dialogo-rodape",
            ),
            max_width="420px",
        ),
        open=E.confirmar_optin,
        on_open_change=E.mudar_confirmar_optin,
    )
