"""The lead drawer: a right-side sheet (bottom sheet on phones) with the lead, its WhatsApp
conversation and its follow-up timeline.

The sheet is the app's one side sheet (``ui.componentes.folha_lateral``: Radix Themes'
Dialog, focus trap, Esc closes, labelled by its title; geometry and motion in app.css). The conversation and the
opt-out banner are in ``conversa_lead.py``.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar, Var

from whatsapp_app.modules.fila.tipos import STATUS as STATUS_AGENDAMENTO
from whatsapp_app.modules.leads.components.acoes_envio import (
    acoes_do_job,
    aviso_sem_permissao,
    confirmar_acao_job,
)
from whatsapp_app.modules.leads.components.conversa_lead import (
    aviso_optout,
    confirmar_optin,
    conversa,
)
from whatsapp_app.modules.leads.components.tema import ponto_estagio
from whatsapp_app.modules.leads.state import EstadoLeads
from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import esqueleto, folha_lateral

AJUDA_TIMELINE = (
    "As etapas de follow-up contam a partir do momento em que o lead entra no estágio; "
    "horários fora da janela de envio passam para a próxima abertura."
)


def chip_status(status: Var) -> rx.Component:
    """Colour + icon + word; CANCELADO is also struck through."""

    def _chip(codigo: str) -> rx.Component:
        rotulo, cor, icone = STATUS_AGENDAMENTO[codigo]
        return rx.badge(
            rx.icon(icone, size=12, aria_hidden="true"),
            rotulo,
            color_scheme=cor,  # type: ignore[arg-type]
            variant="soft",
            radius="full",
            class_name="wa-status" + (" wa-status-cancelado" if codigo == "CANCELADO" else ""),
            data_status=codigo,
        )

    return rx.match(
        status,
        *[(codigo, _chip(codigo)) for codigo in STATUS_AGENDAMENTO],
        rx.badge(status, color_scheme="gray", variant="outline", radius="full"),
    )


def _momento(icone: str, rotulo: str, texto: Var, iso: Var) -> rx.Component:
    return rx.el.div(
        rx.icon(icone, size=14, aria_hidden="true"),
        rx.el.span(rotulo),
        rx.el.time(texto, date_time=iso, class_name="wa-num"),
        class_name="wa-timeline-linha",
    )


def _entrega(job: ObjectVar) -> rx.Component:
    """Delivery and read status of a sent job: a word, and the double tick when delivered."""
    return rx.cond(
        job["rotulo_entrega"] != "",
        rx.el.div(
            rx.match(
                job["entrega"],
                ("lido", rx.icon("check-check", size=14, aria_hidden="true")),
                ("entregue", rx.icon("check-check", size=14, aria_hidden="true")),
                ("falhou", rx.icon("circle-alert", size=14, aria_hidden="true")),
                rx.icon("check", size=14, aria_hidden="true"),
            ),
            rx.el.span("Entrega: "),
            rx.el.span(job["rotulo_entrega"], class_name="wa-timeline-entrega-rotulo"),
            class_name="wa-timeline-linha wa-timeline-entrega",
            data_entrega=job["entrega"],
        ),
    )


def _item_timeline(job: ObjectVar) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.span(job["etapa"], class_name="wa-timeline-etapa"),
            chip_status(job["status"]),
            class_name="wa-timeline-topo",
        ),
        rx.cond(
            job["automacao"] != "",
            rx.el.div(
                rx.icon("workflow", size=14, aria_hidden="true"),
                rx.el.span(job["automacao"], class_name="wa-truncar"),
                class_name="wa-timeline-linha",
            ),
        ),
        rx.cond(
            job["mensagem"] != "",
            rx.el.blockquote(job["mensagem"], class_name="wa-timeline-mensagem"),
        ),
        _momento("calendar-clock", "Previsto para ", job["agendado_para"], job["agendado_iso"]),
        rx.cond(
            job["enviado_em"] != "",
            _momento("send", "Enviado em ", job["enviado_em"], job["enviado_iso"]),
        ),
        _entrega(job),
        rx.cond(
            job["tentativas"].to(int) > 0,
            rx.el.div(
                rx.icon("repeat", size=14, aria_hidden="true"),
                rx.el.span(f"Tentativas: {job['tentativas']}", class_name="wa-num"),
                class_name="wa-timeline-linha",
            ),
        ),
        rx.cond(
            job["erro"] != "",
            rx.el.p(
                rx.icon("circle-alert", size=14, aria_hidden="true", flex_shrink="0"),
                rx.el.span(job["erro"]),
                class_name="wa-timeline-erro",
            ),
        ),
        rx.cond(
            job["motivo"] != "",
            rx.el.p(
                rx.cond(
                    job["motivo_resposta"].to(bool),
                    rx.icon("reply", size=14, aria_hidden="true", flex_shrink="0"),
                ),
                rx.el.span(job["motivo"]),
                class_name="wa-timeline-motivo",
                data_resposta=rx.cond(job["motivo_resposta"].to(bool), "1", "0"),
            ),
        ),
        acoes_do_job(job),
        rx.el.div(
            rx.el.code(
                job["chave_curta"],
                class_name="wa-timeline-chave wa-truncar",
                title=job["chave"],
                aria_label=f"Chave de idempotência {job['chave']}",
            ),
            rx.icon_button(
                rx.icon("copy", size=12),
                variant="ghost",
                color_scheme="gray",
                size="1",
                on_click=[
                    rx.set_clipboard(job["chave"]),
                    rx.toast.info("Chave de idempotência copiada.", id="chave-copiada"),
                ],
                aria_label="Copiar chave de idempotência",
                title="Copiar chave completa",
            ),
            class_name="wa-timeline-chave-linha",
        ),
        class_name="wa-timeline-item",
        data_status=job["status"],
    )


def _timeline() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.el.h2("Follow-ups por WhatsApp", class_name="wa-gaveta-secao", id="gaveta-timeline"),
            rx.icon_button(
                rx.icon("refresh-cw", size=14),
                variant="ghost",
                color_scheme="gray",
                size="1",
                on_click=EstadoLeads.atualizar_lead,
                aria_label="Atualizar follow-ups",
                title="Atualizar",
            ),
            class_name="wa-gaveta-secao-topo",
        ),
        rx.el.p(AJUDA_TIMELINE, class_name="wa-gaveta-ajuda"),
        aviso_sem_permissao(),
        rx.cond(
            EstadoLeads.carregando_lead,
            rx.vstack(
                *[esqueleto("88px", border_radius=t.RAIO_3) for _ in range(3)],
                spacing="3",
                width="100%",
                aria_hidden="true",
            ),
            rx.cond(
                EstadoLeads.total_agendamentos > 0,
                rx.el.ol(
                    rx.foreach(EstadoLeads.agendamentos, _item_timeline),
                    class_name="wa-timeline",
                    aria_labelledby="gaveta-timeline",
                ),
                rx.el.div(
                    rx.icon("message-circle-dashed", size=20, aria_hidden="true"),
                    rx.el.span(
                        "Nenhum follow-up agendado para este lead. "
                        "Mova-o para um estágio com automação ativa."
                    ),
                    class_name="wa-kanban-vazio",
                ),
            ),
        ),
        aria_busy=rx.cond(EstadoLeads.carregando_lead, "true", "false"),
        class_name="wa-gaveta-bloco",
    )


def _detalhe(rotulo: str, valor: rx.Component | Var) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(rotulo, min_width="96px"),
        rx.data_list.value(valor),
    )


def _detalhes() -> rx.Component:
    lead = EstadoLeads.lead
    return rx.cond(
        EstadoLeads.carregando_lead,
        rx.vstack(
            *[esqueleto("18px", largura) for largura in ("60%", "45%", "50%")],
            spacing="3",
            width="100%",
            aria_hidden="true",
        ),
        rx.data_list.root(
            _detalhe(
                "Estágio",
                rx.hstack(
                    ponto_estagio(lead["cor_estagio"]),
                    rx.text(lead["nome_estagio"]),
                    align="center",
                    spacing="2",
                ),
            ),
            _detalhe("Telefone", rx.text(lead["telefone_formatado"], class_name="wa-num")),
            _detalhe("Criado em", rx.text(lead["criado_em"], class_name="wa-num")),
            _detalhe("Atualizado em", rx.text(lead["atualizado_em"], class_name="wa-num")),
            orientation="horizontal",
            size="2",
        ),
    )


def gaveta_lead() -> rx.Component:
    return folha_lateral(
        rx.el.div(_detalhes(), class_name="wa-gaveta-bloco"),
        aviso_optout(),
        conversa(),
        _timeline(),
        titulo=rx.cond(EstadoLeads.lead["nome"] != "", EstadoLeads.lead["nome"], "Lead"),
        descricao="Detalhes do lead, conversa e follow-ups por WhatsApp.",
        aberta=EstadoLeads.gaveta_aberta,
        ao_mudar=EstadoLeads.mudar_gaveta,
        class_name="wa-gaveta",
        extras=(confirmar_optin(), confirmar_acao_job()),
    )
