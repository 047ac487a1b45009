"""Applies the logged-in user's saved light/dark choice to Reflex's colour mode.

``rx.set_color_mode`` only runs from the browser (a backend event cannot call it), so the
shell mounts ``aplicar_tema()``: a React effect that calls the colour-mode context's setter
whenever ``EstadoSessao.tema`` changes, i.e. after the session loads and after a toggle.
"""

from typing import cast

import reflex as rx
from reflex.utils.imports import ImportVar
from reflex.vars import Var, VarData
from reflex_base.style import color_mode_imports

from whatsapp_app.ui.sessao import EstadoSessao


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
