"""Dispatch progress (plan 4.4 C): a glass panel over the page, never blocking it.

Steps na fila → processando → concluído, then the summary. Closing it never stops the work:
a small progress chip stays (bottom right) until the run is done and reopens the panel.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from whatsapp_app.modules.whatsapp.state import (
    FASE_CONCLUIDO,
    FASE_ERRO,
    FASE_FILA,
    FASE_PROCESSANDO,
    EstadoWhatsapp,
)

PASSOS = (
    (FASE_FILA, "Na fila"),
    (FASE_PROCESSANDO, "Processando"),
    (FASE_CONCLUIDO, "Concluído"),
)


def _passo(indice: int, fase: str, rotulo: str) -> rx.Component:
    atual = EstadoWhatsapp.disparo_passo
    estado = rx.cond(
        (EstadoWhatsapp.disparo_fase == FASE_ERRO) & (indice == 3),
        "erro",
        rx.cond(
            atual > indice,
            "feito",
            rx.cond(
                atual == indice,
                rx.cond(indice == 3, "feito", "atual"),
                "pendente",
            ),
        ),
    )
    return rx.el.li(
        rx.el.span(
            rx.match(
                estado,
                ("feito", rx.icon("check", size=12, aria_hidden="true")),
                ("erro", rx.icon("x", size=12, aria_hidden="true")),
                ("atual", rx.spinner(size="1")),
                rx.el.span(str(indice), class_name="wa-num"),
            ),
            class_name="wa-wpp-passo-marca",
        ),
        rx.el.span(
            rx.cond((indice == 3) & (EstadoWhatsapp.disparo_fase == FASE_ERRO), "Falhou", rotulo),
            class_name="wa-wpp-passo-rotulo",
        ),
        class_name="wa-wpp-passo",
        data_estado=estado,
        data_fase=fase,
        aria_current=rx.cond(estado == "atual", "step", None),  # type: ignore[arg-type]
    )


def _numero(rotulo: str, chave: str, cor: str) -> rx.Component:
    return rx.el.div(
        rx.el.dt(rotulo, class_name="wa-wpp-estat-rotulo"),
        rx.el.dd(
            EstadoWhatsapp.resumo_formatado[chave],
            class_name="wa-wpp-resumo-valor wa-num",
            data_cor=cor,
        ),
        class_name="wa-wpp-resumo-item",
    )


def _resultado() -> rx.Component:
    resumo: Any = EstadoWhatsapp.disparo_resumo
    return rx.match(
        EstadoWhatsapp.disparo_fase,
        (
            FASE_CONCLUIDO,
            rx.el.div(
                rx.el.dl(
                    _numero("Enviados", "sent", "green"),
                    _numero("Com erro", "failed", "red"),
                    _numero("Reagendados", "retried", "blue"),
                    _numero("Incertos", "uncertain", "amber"),
                    class_name="wa-wpp-resumo",
                ),
                rx.cond(
                    resumo["claimed"].to(int) == 0,
                    rx.el.p(
                        "Nenhum follow-up estava vencido agora. Os próximos saem no horário "
                        "agendado.",
                        class_name="wa-wpp-meta",
                    ),
                    rx.cond(
                        resumo["skipped_already_claimed"].to(int) > 0,
                        rx.el.p(
                            resumo["skipped_already_claimed"],
                            " já estavam sendo enviados por outro processo.",
                            class_name="wa-wpp-meta",
                        ),
                    ),
                ),
            ),
        ),
        (
            FASE_ERRO,
            rx.callout(
                EstadoWhatsapp.disparo_erro,
                icon="circle-alert",
                color_scheme="red",
                size="1",
                role="alert",
            ),
        ),
        rx.el.p(
            "Você pode fechar este painel: o disparo continua em segundo plano.",
            class_name="wa-wpp-meta",
        ),
    )


def _painel() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.div(
                rx.el.h2(
                    "Disparo manual", id="wa-wpp-overlay-titulo", class_name="wa-wpp-overlay-titulo"
                ),
                rx.el.p(EstadoWhatsapp.disparo_titulo, class_name="wa-wpp-overlay-status wa-num"),
                rx.el.p(
                    EstadoWhatsapp.disparo_texto,
                    class_name="wa-sr-only",
                    aria_live="polite",
                    role="status",
                ),
                class_name="wa-wpp-overlay-cabecalho-texto",
            ),
            rx.icon_button(
                rx.icon("x", size=16),
                variant="ghost",
                color_scheme="gray",
                on_click=EstadoWhatsapp.fechar_overlay,
                aria_label="Fechar painel do disparo",
            ),
            class_name="wa-wpp-overlay-cabecalho",
        ),
        rx.el.ol(
            *[_passo(i, fase, rotulo) for i, (fase, rotulo) in enumerate(PASSOS, start=1)],
            class_name="wa-wpp-passos",
            aria_label="Etapas do disparo",
        ),
        _resultado(),
        rx.cond(
            (EstadoWhatsapp.disparo_fase == FASE_CONCLUIDO)
            | (EstadoWhatsapp.disparo_fase == FASE_ERRO),
            rx.el.div(
                rx.button(
                    "Fechar",
                    variant="soft",
                    color_scheme="gray",
                    on_click=EstadoWhatsapp.fechar_overlay,
                ),
                rx.button(
                    rx.icon("zap", size=14, aria_hidden="true"),
                    "Disparar de novo",
                    variant="soft",
                    on_click=EstadoWhatsapp.disparar_agora,
                ),
                class_name="wa-wpp-dialogo-rodape",
            ),
        ),
        class_name="wa-vidro wa-wpp-overlay wa-surgir",
        role="region",
        aria_labelledby="wa-wpp-overlay-titulo",
        data_fase=EstadoWhatsapp.disparo_fase,
    )


def _chip_progresso() -> rx.Component:
    return rx.el.button(
        rx.spinner(size="1"),
        rx.el.span("Disparando…"),
        on_click=EstadoWhatsapp.mostrar_overlay,
        class_name="wa-vidro wa-wpp-chip-progresso wa-surgir",
        aria_label="Disparo em andamento: abrir o progresso",
        type="button",
    )


def dispatch_progress_overlay() -> rx.Component:
    return rx.fragment(
        rx.cond(
            EstadoWhatsapp.disparo_overlay & (EstadoWhatsapp.disparo_fase != ""),
            _painel(),
        ),
        rx.cond(
            ~EstadoWhatsapp.disparo_overlay & EstadoWhatsapp.disparo_em_andamento,
            _chip_progresso(),
        ),
    )
