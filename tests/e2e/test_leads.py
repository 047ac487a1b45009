"""Leads page in a real browser: move a lead with the "Mover para…" menu and see its follow-ups.

The demo seed has an active automation with 3 steps on "Qualificado", so moving a lead that
never was there schedules exactly 3 jobs, shown in the lead drawer as PENDENTE.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import AppEmExecucao

pytestmark = pytest.mark.e2e


def _entrar(pagina: Page, app: AppEmExecucao) -> None:
    pagina.goto(f"{app.url}/login?proximo=/leads")
    pagina.get_by_label("E-mail").fill(app.email)
    pagina.get_by_label("Senha").fill(app.senha)
    pagina.get_by_role("button", name="Entrar").click()
    expect(pagina).to_have_url(re.compile(r"/leads/?$"))  # a full load adds the slash


def _mover_pelo_menu_e_ver_na_gaveta(pagina: Page, app: AppEmExecucao) -> None:
    _entrar(pagina, app)
    novo = pagina.get_by_role("region", name="Novo", exact=True)
    qualificado = pagina.get_by_role("region", name="Qualificado", exact=True)
    cartao = novo.get_by_role("listitem").first
    expect(cartao).to_be_visible()
    nome = cartao.locator(".wa-lead-nome").inner_text()
    em_qualificado = qualificado.get_by_role("listitem").count()

    # Keyboard path: focus the card's menu button, open it with Enter, pick the stage.
    cartao.get_by_role("button", name=f"Mover {nome} para…").focus()
    pagina.keyboard.press("Enter")
    pagina.get_by_role("menuitem", name="Qualificado").click()

    expect(
        pagina.get_by_text("Lead movido para Qualificado · 3 follow-ups agendados")
    ).to_be_visible()
    movido = qualificado.get_by_role("listitem").filter(has_text=nome)
    expect(movido).to_be_visible()
    expect(qualificado.get_by_role("listitem")).to_have_count(em_qualificado + 1)
    expect(novo.get_by_role("listitem").filter(has_text=nome)).to_have_count(0)

    movido.get_by_role("button", name=re.compile("^" + re.escape(nome))).click()
    gaveta = pagina.get_by_role("dialog", name=nome)
    expect(gaveta).to_be_visible()
    expect(gaveta).to_contain_text("a partir do momento em que o lead entra no estágio")
    jobs = gaveta.get_by_role("list", name="Follow-ups por WhatsApp").get_by_role("listitem")
    expect(jobs).to_have_count(3)
    for ordem in (1, 2, 3):
        job = jobs.nth(ordem - 1)
        expect(job).to_contain_text(f"Etapa {ordem}")
        # The 0-minute step may already be out (the scheduler runs inside the app, and the
        # simulator is connected); the later ones wait for their delay.
        expect(job).to_contain_text(re.compile("Pendente|Enviad") if ordem == 1 else "Pendente")
        expect(job).to_contain_text(re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}"))
    chaves = [jobs.nth(i).locator("code").get_attribute("title") or "" for i in range(3)]
    assert len(set(chaves)) == 3, chaves
    assert all(len(chave.split(":")) == 5 for chave in chaves), chaves

    pagina.keyboard.press("Escape")
    expect(gaveta).to_be_hidden()


# Tests of one mode sit together: switching modes restarts the app.
def test_mover_pelo_menu_agenda_follow_ups_e_mostra_na_gaveta(
    app_sqlite: AppEmExecucao, pagina: Page
) -> None:
    _mover_pelo_menu_e_ver_na_gaveta(pagina, app_sqlite)


def test_mover_pelo_menu_agenda_follow_ups_e_mostra_na_gaveta_escalado(
    app_escalado: AppEmExecucao, pagina: Page
) -> None:
    """PostgreSQL (row lock on the move) and Reflex state in Redis."""
    _mover_pelo_menu_e_ver_na_gaveta(pagina, app_escalado)
