"""History of manual dispatches ("Disparar agora"): who, when, what it did, newest first.

The last ten, loaded when the section mounts and again after each run; "Ver mais" pages on.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from whatsapp_app.modules.whatsapp.components.secao import contagem, topo_secao
from whatsapp_app.modules.whatsapp.state import EstadoWhatsapp

ID_TITULO = "secao-historico-disparos"
# Status → (colour, icon); the word always goes with them (ui.md: never colour alone).
STATUS_DISPARO = {
    "EM_ANDAMENTO": ("blue", "loader"),
    "CONCLUIDO": ("green", "circle-check"),
    "CANCELADO": ("gray", "circle-slash"),
    "FALHOU": ("red", "circle-alert"),
}


def _selo(linha: Any) -> rx.Component:
    def _um(status: str) -> rx.Component:
        cor, icone = STATUS_DISPARO[status]
        return rx.badge(
            rx.icon(icone, size=12, aria_hidden="true"),
            linha["rotulo_status"],
            color_scheme=cor,  # type: ignore[arg-type]
            variant="soft",
            high_contrast=True,
            radius="full",
        )

    return rx.match(
        linha["status"],
        *[(status, _um(status)) for status in STATUS_DISPARO],
        _um("CONCLUIDO"),
    )


def _linha(linha: Any) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.div(
                _selo(linha),
                rx.el.time(linha["quando"], date_time=linha["quando_iso"], class_name="wa-num"),
                class_name="wa-wpp-historico-topo",
            ),
            rx.el.span(
                "por ",
                rx.el.strong(linha["quem"]),
                class_name="wa-wpp-meta",
            ),
            class_name="wa-wpp-historico-cabeca",
        ),
        rx.el.p(linha["resumo"], class_name="wa-wpp-historico-resumo wa-num"),
        rx.cond(
            linha["motivo"] != "",
            rx.el.p(linha["motivo"], class_name="wa-wpp-historico-motivo"),
        ),
        class_name="wa-wpp-historico-item",
        data_status=linha["status"],
    )


def historico_disparos() -> rx.Component:
    e = EstadoWhatsapp
    return rx.el.section(
        topo_secao(
            "Disparos manuais",
            ID_TITULO,
            rx.cond(e.historico_total > 0, contagem(e.historico_total)),
            descricao="Cada “Disparar agora”: quem disparou, quando e o que saiu.",
        ),
        rx.cond(
            e.historico_linhas.length() > 0,  # type: ignore[attr-defined]
            rx.el.ol(
                rx.foreach(e.historico_linhas, _linha),
                class_name="wa-wpp-historico",
                aria_labelledby=ID_TITULO,
            ),
            rx.el.p("Nenhum disparo manual ainda.", class_name="wa-wpp-meta"),
        ),
        rx.cond(
            e.historico_tem_mais,
            rx.button(
                "Ver mais",
                variant="soft",
                color_scheme="gray",
                on_click=e.ver_mais_historico,
                class_name="wa-wpp-historico-mais",
            ),
        ),
        on_mount=e.carregar_historico,
        class_name="wa-wpp-secao",
        aria_labelledby=ID_TITULO,
    )
