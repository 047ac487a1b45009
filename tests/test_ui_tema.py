"""Fast State test (no browser) for the theme menu's choice: Claro / Escuro / Sistema is saved
on the user (so the next session opens in it) and an unknown value changes nothing."""

from __future__ import annotations

import pytest
import reflex as rx

from tests.factories import contexto_de, criar_empresa
from whatsapp_app import db
from whatsapp_app.models import Usuario
from whatsapp_app.ui.sessao import EstadoSessao, _Autorizacao
from whatsapp_app.ui.tema import OPCOES_TEMA, EstadoTema


def _tema_salvo(id_usuario: str) -> str:
    with db.sessao() as s:
        usuario = s.get(Usuario, id_usuario)
        assert usuario is not None
        return usuario.tema


def test_escolher_tema_salva_no_usuario_e_volta_para_sistema(  # type: ignore[no-untyped-def]
    banco, monkeypatch: pytest.MonkeyPatch
) -> None:
    empresa = criar_empresa()
    id_usuario = empresa.ids_usuarios["vendedor"]
    contexto = contexto_de(empresa, "vendedor")
    monkeypatch.setattr(_Autorizacao, "contexto", lambda self, *perfis: contexto.exigir(*perfis))
    raiz = rx.State(_reflex_internal_init=True)
    sessao = raiz.substates[EstadoSessao.get_name()]
    estado = sessao.substates[EstadoTema.get_name()]

    assert [rotulo for _, rotulo, _ in OPCOES_TEMA] == ["Claro", "Escuro", "Sistema"]
    EstadoTema.escolher_tema.fn(estado, "dark")
    assert _tema_salvo(id_usuario) == "dark"
    assert sessao.tema == "dark"  # the session State drives the shell's colour-mode effect
    EstadoTema.escolher_tema.fn(estado, "light")
    assert _tema_salvo(id_usuario) == "light"
    EstadoTema.escolher_tema.fn(estado, "system")
    assert _tema_salvo(id_usuario) == "system" and sessao.tema == "system"

    EstadoTema.escolher_tema.fn(estado, "roxo")
    assert _tema_salvo(id_usuario) == "system" and sessao.tema == "system"
