"""Feature flags: per company, admin only, environment override wins."""

from __future__ import annotations

from tests.factories import criar_empresa, login


def test_flags_por_empresa_e_override_do_ambiente(cliente, monkeypatch):
    a = criar_empresa("A", sufixo="a")
    b = criar_empresa("B", sufixo="b")
    admin_a = login(cliente, a.usuarios["admin"])
    admin_b = login(cliente, b.usuarios["admin"])
    assert cliente.get("/api/feature-flags", headers=admin_a).json()["whatsapp_disparo_manual"] == {
        "ativo": True,
        "origem": "padrao",
        "descricao": "Barra “Disparar agora” com progresso",
    }

    resposta = cliente.patch(
        "/api/feature-flags",
        json={"chave": "whatsapp_disparo_manual", "ativo": False},
        headers=admin_a,
    )
    assert resposta.json()["whatsapp_disparo_manual"]["ativo"] is False
    assert resposta.json()["whatsapp_disparo_manual"]["origem"] == "empresa"
    assert (
        cliente.get("/api/feature-flags", headers=admin_b).json()["whatsapp_disparo_manual"][
            "ativo"
        ]
        is True
    )

    from whatsapp_app.config import configuracoes

    monkeypatch.setenv("FEATURE_FLAGS", "whatsapp_disparo_manual=1, whatsapp_lista_fluxos=0")
    configuracoes.cache_clear()
    flags = cliente.get("/api/feature-flags", headers=admin_a).json()
    assert flags["whatsapp_disparo_manual"] == {
        **flags["whatsapp_disparo_manual"],
        "ativo": True,
        "origem": "ambiente",
    }
    assert flags["whatsapp_lista_fluxos"]["ativo"] is False


def test_so_admin_altera_e_chave_desconhecida_e_422(cliente):
    empresa = criar_empresa()
    gestor = login(cliente, empresa.usuarios["gestor"])
    admin = login(cliente, empresa.usuarios["admin"])
    assert (
        cliente.patch(
            "/api/feature-flags",
            json={"chave": "whatsapp_disparo_manual", "ativo": False},
            headers=gestor,
        ).status_code
        == 403
    )
    desconhecida = cliente.patch(
        "/api/feature-flags", json={"chave": "nao_existe", "ativo": True}, headers=admin
    )
    assert desconhecida.status_code == 422
    assert desconhecida.json()["erro"]["campos"] == {"chave": "Flag desconhecida."}
