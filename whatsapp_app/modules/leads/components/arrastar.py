"""HTML5 drag and drop for the kanban, with as little round-tripping as possible.

Reflex 0.10's HTML elements have no drag triggers, so:

- the card sets the lead id on ``dataTransfer`` in plain JavaScript (``onDragStart``), nothing
  goes to the server while dragging;
- the column is a ``div`` with an ``on_drop`` trigger whose argument is that id, read from
  ``dataTransfer`` during the drop, so the State receives ``(id_estagio, id_lead)`` in one event;
- ``onDragOver`` accepts only our own drags (``preventDefault``) and marks the column under the
  pointer with ``data-alvo`` for the highlight; ``onDragLeave``/``onDragEnd`` clear it.
"""

from __future__ import annotations

from typing import Any

from reflex.vars import Var
from reflex_base.event import EventHandler
from reflex_components_core.el.elements.typography import Div

TIPO_ARRASTO = "application/x-wa-lead"


def _js(codigo: str) -> Var:
    return Var(_js_expr=codigo)


def _lead_arrastado(e: Var) -> tuple[Var[str]]:
    return (
        Var(_js_expr=f"(({e!s}).dataTransfer?.getData({TIPO_ARRASTO!r}) ?? '')", _var_type=str),
    )


_LIMPAR_ALVOS = (
    "document.querySelectorAll('[data-alvo]').forEach((n) => n.removeAttribute('data-alvo'))"
)


class ZonaSoltar(Div):
    """A ``div`` that accepts dropped lead cards; ``on_drop`` receives the dragged lead id."""

    on_drop: EventHandler[_lead_arrastado]  # type: ignore[type-arg,valid-type]

    @classmethod
    def create(cls, *children: Any, **props: Any) -> ZonaSoltar:
        custom = dict(props.pop("custom_attrs", {}) or {})
        custom.update(
            {
                "onDragOver": _js(
                    "(e) => { if (Array.from(e.dataTransfer?.types ?? []).includes("
                    f"{TIPO_ARRASTO!r})) {{ e.preventDefault(); e.dataTransfer.dropEffect = 'move';"
                    " e.currentTarget.setAttribute('data-alvo', '1'); } }"
                ),
                "onDragLeave": _js(
                    "(e) => { if (!e.currentTarget.contains(e.relatedTarget)) "
                    "e.currentTarget.removeAttribute('data-alvo'); }"
                ),
            }
        )
        props["custom_attrs"] = custom
        return super().create(*children, **props)  # type: ignore[return-value]


def atributos_arrastavel() -> dict[str, Any]:
    """Props that make an element a draggable lead card (it needs ``data_id_lead``)."""
    return {
        "draggable": True,
        "custom_attrs": {
            "onDragStart": _js(
                "(e) => { const id = e.currentTarget.dataset.idLead; if (!id) return;"
                f" e.dataTransfer.setData({TIPO_ARRASTO!r}, id);"
                " e.dataTransfer.effectAllowed = 'move';"
                " e.currentTarget.setAttribute('data-arrastando', '1'); }"
            ),
            "onDragEnd": _js(
                f"(e) => {{ e.currentTarget.removeAttribute('data-arrastando'); {_LIMPAR_ALVOS}; }}"
            ),
        },
    }
