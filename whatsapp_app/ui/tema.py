"""The theme: Claro / Escuro / Sistema, chosen from the user menu and remembered per user.

``rx.set_color_mode`` only runs from the browser (a backend event cannot call it), so the
shell mounts ``aplicar_tema()``: a React effect that calls the colour-mode context's setter
whenever ``EstadoSessao.tema`` changes, i.e. after the session loads and after a choice. A
choice also sets the colour mode in the browser at once (Reflex keeps it in localStorage, so
the page opens in it before the session is known) and is saved on the user
(``EstadoTema.escolher_tema``). "Sistema" follows the operating system's light/dark setting.
"""

from typing import Literal, cast

import reflex as rx
from reflex.utils.imports import ImportVar
from reflex.vars import Var, VarData
from reflex_base.style import color_mode_imports, set_color_mode

from whatsapp_app import auth
from whatsapp_app.auth import TEMAS
from whatsapp_app.ui.sessao import EstadoSessao

# (colour-mode value, pt-BR label, lucide icon), in the menu's order.
OPCOES_TEMA: tuple[tuple[Literal["light", "dark", "system"], str, str], ...] = (
    ("light", "Claro", "sun"),
    ("dark", "Escuro", "moon"),
    ("system", "Sistema", "monitor"),
)
# The browser's current choice ("light" | "dark" | "system"), not the resolved one.
MODO_ESCOLHIDO = cast(Var, rx.color_mode)


class EstadoTema(EstadoSessao):
    """The theme choice (a substate, so the session State keeps only the session)."""

    @rx.event
    def escolher_tema(self, tema: str):
        """Remember ``tema`` for this user; the shell's effect applies it."""
        if tema not in TEMAS:
            return
        contexto = self.contexto()
        if self.tema != tema:
            auth.salvar_tema(contexto, tema)
        self.tema = tema
        self._contexto_cache = {**self._contexto_cache, "tema": tema}


def ao_escolher(tema: Literal["light", "dark", "system"]) -> list[object]:
    """The events of one option: the colour mode now, then the saved choice."""
    return [set_color_mode(tema), EstadoTema.escolher_tema(tema)]  # type: ignore[operator]


def _icone_ativo(tema: str) -> rx.Component:
    return rx.cond(
        tema == MODO_ESCOLHIDO,
        rx.icon("check", size=16, aria_hidden="true", class_name="wa-tema-marca"),
        rx.box(width="16px", aria_hidden="true"),
    )


def itens_menu_tema() -> list[rx.Component]:
    """The user menu's theme options (children of ``rx.menu.content``): a caption and three
    radio items, the active one checked."""
    return [
        rx.el.div("Tema", class_name="wa-menu-rotulo", aria_hidden="true"),
        *[
            rx.menu.item(
                rx.hstack(
                    rx.icon(icone, size=16, aria_hidden="true"),
                    rx.text(rotulo),
                    rx.spacer(),
                    _icone_ativo(valor),
                    spacing="2",
                    align="center",
                    width="100%",
                ),
                # Reflex would read ``role`` as a style prop here: an attribute it must stay.
                custom_attrs={"role": "menuitemradio"},
                aria_checked=rx.cond(valor == MODO_ESCOLHIDO, "true", "false"),
                on_select=ao_escolher(valor),
                data_tema=valor,
            )
            for valor, rotulo, icone in OPCOES_TEMA
        ],
    ]


def botoes_tema() -> rx.Component:
    """The phone drawer's theme choice: three toggle buttons, the active one pressed."""
    return rx.el.div(
        rx.el.span("Tema", class_name="wa-tema-rotulo", id="tema-rotulo"),
        rx.el.div(
            *[
                rx.el.button(
                    rx.icon(icone, size=16, aria_hidden="true"),
                    rotulo,
                    on_click=ao_escolher(valor),
                    aria_pressed=rx.cond(valor == MODO_ESCOLHIDO, "true", "false"),
                    class_name="wa-tema-opcao",
                    data_tema=valor,
                    type="button",
                )
                for valor, rotulo, icone in OPCOES_TEMA
            ],
            class_name="wa-tema-opcoes",
        ),
        role="group",
        aria_labelledby="tema-rotulo",
        class_name="wa-tema",
    )


class _AplicarTema(rx.Fragment):
    """Renders nothing; its hook keeps the colour mode equal to the user's saved theme."""

    def add_hooks(self) -> list[str | Var]:
        tema = cast(Var, EstadoSessao.tema)
        codigo = (
            "const modoDeCorDoUsuario = useContext(ColorModeContext);\n"
            "useEffect(() => {\n"
            f"  const tema = {tema!s};\n"
            "  if (tema && tema !== modoDeCorDoUsuario.rawColorMode) {\n"
            "    modoDeCorDoUsuario.setColorMode(tema);\n"
            "  }\n"
            f"}}, [{tema!s}]);"
        )
        return [
            Var(
                _js_expr=codigo,
                _var_data=VarData.merge(
                    tema._get_all_var_data(),
                    VarData(
                        imports={
                            **color_mode_imports,
                            "react": [ImportVar(tag="useContext"), ImportVar(tag="useEffect")],
                        }
                    ),
                ),
            )
        ]


def aplicar_tema() -> rx.Component:
    return _AplicarTema.create()
