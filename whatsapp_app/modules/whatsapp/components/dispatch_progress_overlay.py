"""Dispatch progress (plan 4.4 C): a glass panel beside the page, never over the command bar.

Steps reivindicando → enviando n/N → concluído / cancelado / falhou, read from the run's
history row. "Cancelar disparo" stops claiming (started sends finish). Closing never stops the
work: a small progress chip stays until the run is done and reopens the panel. On desktop the
panel sits at the bottom right, away from the bar under the header; on phones it sits above
the bar's sticky footer (assets/whatsapp.css, "dispatch" block at the end).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from whatsapp_app.modules.whatsapp.estado_disparo import (
    FASE_CANCELADO,
    FASE_CONCLUIDO,
    FASE_ENVIANDO,
    FASE_ERRO,
    FASE_REIVINDICANDO,
)
from whatsapp_app.modules.whatsapp.state import EstadoWhatsapp
from whatsapp_app.ui.componentes import botao_fechar

E = EstadoWhatsapp


def _terminou() -> Any:
    return (
        (E.disparo_fase == FASE_CONCLUIDO)
        | (E.disparo_fase == FASE_CANCELADO)
        | (E.disparo_fase == FASE_ERRO)
    )


def _rotulo_final() -> Any:
    return rx.match(
        E.disparo_fase,
        (FASE_CANCELADO, "Cancelado"),
        (FASE_ERRO, "Falhou"),
        "Concluído",
    )


def _passo(indice: int, fase: str, rotulo: Any) -> rx.Component:
    atual = E.disparo_passo
    ultimo = indice == 3
    estado = rx.cond(
        ultimo & (E.disparo_fase == FASE_ERRO),
        "erro",
        rx.cond(
            ultimo & (E.disparo_fase == FASE_CANCELADO),
            "cancelado",
            rx.cond(
                atual > indice,
                "feito",
                rx.cond(atual == indice, "feito" if ultimo else "atual", "pendente"),
            ),
        ),
    )
    return rx.el.li(
        rx.el.span(
            rx.match(
                estado,
                ("feito", rx.icon("check", size=12, aria_hidden="true")),
                ("erro", rx.icon("x", size=12, aria_hidden="true")),
                ("cancelado", rx.icon("ban", size=12, aria_hidden="true")),
                ("atual", rx.spinner(size="1")),
                rx.el.span(str(indice), class_name="wa-num"),
            ),
            class_name="wa-wpp-passo-marca",
        ),
        rx.el.span(rotulo, class_name="wa-wpp-passo-rotulo wa-num"),
        class_name="wa-wpp-passo",
        data_estado=estado,
        data_fase=fase,
        aria_current=rx.cond(estado == "atual", "step", None),  # type: ignore[arg-type]
    )


def _numero(rotulo: str, chave: str, cor: str) -> rx.Component:
    return rx.el.div(
        rx.el.dt(rotulo, class_name="wa-wpp-estat-rotulo"),
        rx.el.dd(
            E.resumo_formatado[chave],
            class_name="wa-wpp-resumo-valor wa-num",
            data_cor=cor,
        ),
        class_name="wa-wpp-resumo-item",
    )


def _numeros() -> rx.Component:
    return rx.el.dl(
        _numero("Enviados", "sent", "green"),
        _numero("Com erro", "failed", "red"),
        _numero("Reagendados", "retried", "blue"),
        _numero("Incertos", "uncertain", "amber"),
        class_name="wa-wpp-resumo",
    )


def _resultado() -> rx.Component:
    resumo: Any = E.disparo_resumo
    return rx.match(
        E.disparo_fase,
        (
            FASE_CONCLUIDO,
            rx.el.div(
                _numeros(),
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
            FASE_CANCELADO,
            rx.el.div(
                _numeros(),
                rx.el.p(
                    "Os envios que ainda não tinham começado voltaram para a fila; os que já "
                    "tinham começado terminaram e foram registrados.",
                    class_name="wa-wpp-meta",
                ),
            ),
        ),
        (
            FASE_ERRO,
            rx.el.div(
                rx.callout(
                    E.disparo_erro,
                    icon="circle-alert",
                    color_scheme="red",
                    size="1",
                    role="alert",
                ),
                rx.cond(resumo["claimed"].to(int) > 0, _numeros()),
                rx.el.a(
                    "Ver a fila de envios",
                    href="/whatsapp/fila",
                    class_name="wa-wpp-link-fila wa-wpp-meta",
                ),
            ),
        ),
        rx.el.p(
            "Você pode fechar este painel: o disparo continua em segundo plano.",
            class_name="wa-wpp-meta",
        ),
    )


def _acoes() -> rx.Component:
    return rx.cond(
        _terminou(),
        rx.el.div(
            rx.button(
                "Fechar",
                variant="soft",
                color_scheme="gray",
                on_click=E.fechar_overlay,
            ),
            rx.button(
                rx.icon("zap", size=14, aria_hidden="true"),
                "Disparar de novo",
                variant="soft",
                on_click=E.disparar_agora,
            ),
            class_name="wa-wpp-dialogo-rodape",
        ),
        rx.el.div(
            rx.button(
                rx.cond(
                    E.disparo_cancelando,
                    rx.spinner(size="1"),
                    rx.icon("ban", size=14, aria_hidden="true"),
                ),
                rx.cond(E.disparo_cancelando, "Cancelando…", "Cancelar disparo"),
                variant="soft",
                color_scheme="red",
                on_click=E.cancelar_disparo,
                disabled=E.disparo_cancelando | (E.disparo_id == ""),
                aria_describedby="wa-wpp-cancelar-ajuda",
            ),
            rx.el.span(
                "Para de reivindicar envios; os que já começaram terminam e são registrados.",
                id="wa-wpp-cancelar-ajuda",
                class_name="wa-sr-only",
            ),
            class_name="wa-wpp-dialogo-rodape",
        ),
    )


def _painel() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.div(
                rx.el.h2(
                    "Disparo manual", id="wa-wpp-overlay-titulo", class_name="wa-wpp-overlay-titulo"
                ),
                rx.el.p(E.disparo_titulo, class_name="wa-wpp-overlay-status wa-num"),
                rx.el.p(
                    E.disparo_texto,
                    class_name="wa-sr-only",
                    aria_live="polite",
                    role="status",
                ),
                class_name="wa-wpp-overlay-cabecalho-texto",
            ),
            botao_fechar("Fechar painel do disparo", 16, on_click=E.fechar_overlay),
            class_name="wa-wpp-overlay-cabecalho",
        ),
        rx.el.ol(
            _passo(1, FASE_REIVINDICANDO, "Reivindicando"),
            _passo(2, FASE_ENVIANDO, E.disparo_rotulo_envio),
            _passo(3, "final", _rotulo_final()),
            class_name="wa-wpp-passos",
            aria_label="Etapas do disparo",
        ),
        _resultado(),
        _acoes(),
        class_name="wa-vidro wa-wpp-overlay wa-surgir",
        role="region",
        aria_labelledby="wa-wpp-overlay-titulo",
        data_fase=E.disparo_fase,
    )


def _chip_progresso() -> rx.Component:
    return rx.el.button(
        rx.spinner(size="1"),
        rx.el.span("Disparando… ", rx.el.span(E.disparo_progresso, class_name="wa-num")),
        on_click=E.mostrar_overlay,
        class_name="wa-vidro wa-wpp-chip-progresso wa-surgir",
        aria_label="Disparo em andamento: abrir o progresso",
        type="button",
    )


def dispatch_progress_overlay() -> rx.Component:
    return rx.fragment(
        rx.cond(E.disparo_overlay & (E.disparo_fase != ""), _painel()),
        rx.cond(~E.disparo_overlay & E.disparo_em_andamento, _chip_progresso()),
    )
