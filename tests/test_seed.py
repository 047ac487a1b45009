"""The demo seed is idempotent, valid and honours DEMO_SENHA."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from whatsapp_app import db
from whatsapp_app.models import Empresa, Estagio, Lead, Usuario
from whatsapp_app.seed import ESTAGIOS_DEMO, semear
from whatsapp_app.validacoes import normalizar_telefone


def _contagens() -> tuple[int, int, int, int]:
    with db.sessao() as s:
        return tuple(
            s.exec(select(sa.func.count()).select_from(m)).one()
            for m in (Empresa, Estagio, Lead, Usuario)
        )  # type: ignore[return-value]


def test_seed_cria_uma_vez_e_reaproveita(banco, cliente, monkeypatch):
    monkeypatch.setenv("DEMO_SENHA", "demo-senha-1")
    from whatsapp_app.config import configuracoes

    configuracoes.cache_clear()
    assert semear() == ("demo-senha-1", False, True)
    primeira = _contagens()
    assert semear()[2] is False
    assert _contagens() == primeira == (1, 6, 30, 3)

    with db.sessao() as s:
        assert [e.nome for e in s.exec(select(Estagio).order_by(Estagio.ordem)).all()] == [
            n for n, _c in ESTAGIOS_DEMO
        ]
        telefones = [lead.telefone for lead in s.exec(select(Lead)).all()]
    assert len(set(telefones)) == 30
    assert all(normalizar_telefone(t) == t and t.startswith("+55") for t in telefones)

    entra = lambda senha: (
        cliente.post(
            "/api/auth/login", json={"email": "admin@demo.com.br", "senha": senha}
        ).status_code
    )
    assert entra("demo-senha-1") == 200
    # A new DEMO_SENHA on a later run replaces the demo users' password.
    monkeypatch.setenv("DEMO_SENHA", "outra-senha-2")
    configuracoes.cache_clear()
    semear()
    assert entra("outra-senha-2") == 200
    assert entra("demo-senha-1") == 401
