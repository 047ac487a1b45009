"""The operator actions of one follow-up in the lead drawer, and the dialog that confirms them.

Buttons show only for admins and gestores and only when the job's status allows the action
(``MixinAcoesGaveta``); each names its job for screen readers ("Reenviar: Etapa 2").
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from whatsapp_app.modules.leads.acoes_gaveta import AJUDA_INCERTO, SEM_PERMISSAO
from whatsapp_app.modules.leads.state import EstadoLeads
from whatsapp_app.ui.componentes import dialogo_confirmacao

E = EstadoLeads
# (action, flag on the row, label, lucide icon, Radix colour)
BOTOES = (
    ("reenviar", "reenviavel", "Reenviar", "rotate-cw", "gray"),
    ("marcar_enviado", "marcavel", "Marcar como enviado", "check-check", "gray"),
    ("cancelar", "cancelavel", "Cancelar envio", "ban", "red"),
)


def _botao(job: ObjectVar, acao: str, flag: str, rotulo: str, icone: str, cor: str) -> rx.Component:
    return rx.cond(
        job[flag].to(bool),
        rx.button(
            rx.icon(icone, size=14, aria_hidden="true"),
            rotulo,
            size="1",
            variant="soft",
            color_scheme=cor,  # type: ignore[arg-type]
            on_click=E.pedir_acao_job(acao, job["id"]),  # type: ignore[operator]
            aria_label=f"{rotulo}: {job['etapa']}",
            type="button",
        ),
    )


def acoes_do_job(job: ObjectVar) -> rx.Component:
    """What an operator can do with this job, plus what an INCERTO means."""
    algum = job["reenviavel"].to(bool) | job["marcavel"].to(bool) | job["cancelavel"].to(bool)
    return rx.fragment(
        rx.cond(
            job["status"] == "INCERTO",
            rx.el.p(
                rx.icon("info", size=14, aria_hidden="true", flex_shrink="0"),
                rx.el.span(AJUDA_INCERTO),
                class_name="wa-timeline-incerto",
            ),
        ),
        rx.cond(
            algum & E.pode_operar_envios,
            rx.el.div(
                *[_botao(job, *b) for b in BOTOES],
                class_name="wa-timeline-acoes",
                role="group",
                aria_label=f"Ações do envio {job['etapa']}",
            ),
        ),
    )


def aviso_sem_permissao() -> rx.Component:
    """Said once above the timeline to vendedores: who can act on the sends."""
    return rx.cond(
        E.pode_operar_envios, rx.fragment(), rx.el.p(SEM_PERMISSAO, class_name="wa-gaveta-ajuda")
    )


def confirmar_acao_job() -> rx.Component:
    return dialogo_confirmacao(
        titulo=E.confirmacao_job_titulo,
        texto=E.confirmacao_job_texto,
        botao=E.confirmacao_job_botao,
        ao_confirmar=E.confirmar_acao_job,
        aberto=E.confirmacao_job_aberta,
        ao_mudar=E.fechar_acao_job,
        perigo=E.confirmacao_job_perigo,
        executando=E.executando_acao_job,
    )
