"""The one confirmation dialog of the queue: single and bulk actions, with the count."""

from __future__ import annotations

import reflex as rx

from whatsapp_app.modules.fila.state import EstadoFila
from whatsapp_app.ui.componentes import dialogo_confirmacao as confirmacao

E = EstadoFila


def dialogo_confirmacao() -> rx.Component:
    return confirmacao(
        titulo=E.confirmacao_titulo,
        texto=E.confirmacao_texto,
        botao=E.confirmacao_botao,
        ao_confirmar=E.confirmar,
        aberto=E.confirmacao_aberta,
        ao_mudar=E.fechar_confirmacao,
        perigo=E.confirmacao_perigo,
        executando=E.executando,
    )
