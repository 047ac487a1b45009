"""Leads-specific tokens on top of ``whatsapp_app.ui.tokens`` (no colour literals here either)."""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

LARGURA_COLUNA = "280px"
LARGURA_GAVETA = "480px"


def cor_estagio(cor: Var | str) -> Var | str:
    """The stage's Radix scale at step 9 (``cor`` is validated against the palette by the State)."""
    return f"var(--{cor}-9)"


def ponto_estagio(cor: Var | str) -> rx.Component:
    """The small round stage marker; the stage name always sits next to it."""
    return rx.box(class_name="wa-ponto", color=cor_estagio(cor), aria_hidden="true")
