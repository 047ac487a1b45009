"""The connectivity badge: a dot with a slow pulse plus the word (never colour alone).

The pulse is ``.wa-ponto-pulsando`` from ``assets/app.css``; it stops under
``prefers-reduced-motion``. The word sits in an ``aria-live`` region, so a screen reader hears
"Conectado" when the live polling flips the status.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

from whatsapp_app.modules.whatsapp.theme import STATUS_CONEXAO, STATUS_CONEXAO_NEUTRO


def _badge(cor: str, rotulo: str, status: str, pulsar: bool) -> rx.Component:
    return rx.badge(
        rx.box(
            class_name="wa-ponto" + (" wa-ponto-pulsando" if pulsar else ""),
            color=rx.color(cor, 9),  # type: ignore[arg-type]
            aria_hidden="true",
        ),
        rotulo,
        color_scheme=cor,  # type: ignore[arg-type]
        variant="soft",
        radius="full",
        size="2",
        class_name="wa-wpp-conexao",
        data_status=status,
    )


def connectivity_badge(status: Var | str) -> rx.Component:
    """``conectado`` green, ``conectando`` amber, ``desconectado`` red; anything else gray."""
    casos = [
        (codigo, _badge(cor, rotulo, codigo, pulsar=True))
        for codigo, (cor, rotulo, _icone) in STATUS_CONEXAO.items()
    ]
    cor, rotulo, _icone = STATUS_CONEXAO_NEUTRO
    return rx.el.span(
        rx.match(status, *casos, _badge(cor, rotulo, "desconhecido", pulsar=False)),
        role="status",
        aria_live="polite",
        class_name="wa-wpp-conexao-regiao",
    )
