"""WhatsApp page in a real browser: the status cards, the flow list and "Disparar agora".

The demo seed has one instance ("Simulador local") and one active automation on
"Qualificado" with 3 steps. Whatever is due at that moment (the served app also runs its own
scheduler), a manual dispatch ends with the summary in the overlay, so the test waits for
"Concluído" and the four counters, never for a given number.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import AppEmExecucao

pytestmark = pytest.mark.e2e


def _entrar_no_whatsapp(pagina: Page, app: AppEmExecucao) -> None:
    pagina.goto(f"{app.url}/login?proximo=/whatsapp")
    pagina.get_by_label("E-mail").fill(app.email)
    pagina.get_by_label("Senha").fill(app.senha)
    pagina.get_by_role("button", name="Entrar").click()
    expect(pagina).to_have_url(re.compile(r"/whatsapp/?$"))  # a full load adds the slash


def _cartoes_fluxos_e_disparo(pagina: Page, app: AppEmExecucao) -> None:
    _entrar_no_whatsapp(pagina, app)

    cartao = pagina.get_by_role("article", name="Simulador local")
    expect(cartao).to_be_visible()
    expect(cartao).to_contain_text("Simulador")
    expect(cartao.get_by_role("status")).to_contain_text(
        re.compile("Conectado|Conectando|Desconectado")
    )
    for rotulo in ("Pendentes", "Processando", "Enviados 24h", "Erros 24h"):
        expect(cartao).to_contain_text(rotulo)

    fluxo = pagina.get_by_role("listitem", name="Boas-vindas a leads qualificados")
    expect(fluxo).to_be_visible()
    expect(fluxo).to_contain_text("Lead entra em Qualificado")
    expect(fluxo).to_contain_text("3 mensagens · 0 min, 1 h, 1 dia")
    expect(fluxo).to_contain_text("Ativa")

    pagina.get_by_role("button", name="Disparar agora").click()
    painel = pagina.get_by_role("region", name="Disparo manual")
    expect(painel).to_be_visible()
    expect(painel).to_contain_text(re.compile(r"Concluído às \d{2}:\d{2}"), timeout=30_000)
    for rotulo in ("Enviados", "Com erro", "Reagendados", "Incertos"):
        expect(painel).to_contain_text(rotulo)
    passos = painel.get_by_role("list", name="Etapas do disparo").get_by_role("listitem")
    expect(passos).to_have_count(3)
    expect(painel.get_by_role("status")).to_contain_text("Disparo concluído")

    painel.get_by_role("button", name="Fechar painel do disparo").click()
    expect(painel).to_be_hidden()
    expect(
        pagina.get_by_role("button", name="Disparo em andamento: abrir o progresso")
    ).to_have_count(0)


def _construtor_mostra_erros_nos_campos(pagina: Page, app: AppEmExecucao) -> None:
    _entrar_no_whatsapp(pagina, app)
    pagina.get_by_role("button", name="Nova automação").first.click()
    painel = pagina.get_by_role("dialog", name="Nova automação")
    expect(painel).to_be_visible()

    painel.get_by_label("Mensagem", exact=True).fill("Oi {{apelido}}")
    painel.get_by_role("button", name="Criar automação").click()
    expect(painel.locator("#automacao-nome-erro")).to_have_text("Campo obrigatório.")
    expect(painel.locator("#automacao-estagio-erro")).to_have_text(
        "Escolha o estágio que dispara a automação."
    )
    expect(painel.locator("#etapa-0-mensagem-erro")).to_contain_text(
        "Variável desconhecida: apelido"
    )
    expect(painel.get_by_label("Nome", exact=True)).to_have_attribute("aria-invalid", "true")

    # Unsaved edits: Esc asks before closing.
    pagina.keyboard.press("Escape")
    confirmar = pagina.get_by_role("alertdialog", name="Descartar alterações?")
    expect(confirmar).to_be_visible()
    confirmar.get_by_role("button", name="Descartar").click()
    expect(painel).to_be_hidden()


def _busca_ordem_e_menu_da_instancia(pagina: Page, app: AppEmExecucao) -> None:
    _entrar_no_whatsapp(pagina, app)
    fluxo = pagina.get_by_role("listitem", name="Boas-vindas a leads qualificados")
    expect(fluxo).to_be_visible()
    expect(fluxo).to_contain_text(re.compile(r"\d+ pendentes? · \d+ enviados? em 24 h"))

    busca = pagina.get_by_role("searchbox", name="Buscar automação")
    busca.fill("nada com este nome")
    expect(pagina.get_by_text("Nenhuma automação com esses filtros.")).to_be_visible()
    expect(fluxo).to_have_count(0)
    pagina.get_by_role("button", name="Limpar filtros").click()
    expect(fluxo).to_be_visible()
    expect(busca).to_have_value("")

    # Rename from the card menu, then back (the other tests look the card up by its name).
    for antigo, novo in (("Simulador local", "Simulador SP"), ("Simulador SP", "Simulador local")):
        pagina.get_by_role("button", name=f"Mais ações de {antigo}").click()
        pagina.get_by_role("menuitem", name="Renomear").click()
        dialogo = pagina.get_by_role("dialog", name="Renomear instância")
        dialogo.get_by_label("Nome").fill(novo)
        dialogo.get_by_role("button", name="Salvar").click()
        expect(dialogo).to_be_hidden()
        expect(pagina.get_by_role("article", name=novo)).to_be_visible()

    # Delete from the menu states what it cancels; going back changes nothing.
    pagina.get_by_role("button", name="Mais ações de Simulador local").click()
    pagina.get_by_role("menuitem", name="Excluir").click()
    confirmar = pagina.get_by_role("alertdialog", name="Excluir a instância “Simulador local”?")
    expect(confirmar).to_contain_text(re.compile(r"(Nenhum envio pendente|\d+ envios? pendentes?)"))
    confirmar.get_by_role("button", name="Voltar").click()
    expect(confirmar).to_be_hidden()
    expect(pagina.get_by_role("article", name="Simulador local")).to_be_visible()


# Tests of one mode sit together: switching modes restarts the app.
def test_cartoes_fluxos_e_disparar_agora(app_sqlite: AppEmExecucao, pagina: Page) -> None:
    _cartoes_fluxos_e_disparo(pagina, app_sqlite)


def test_construtor_mostra_erros_nos_campos(app_sqlite: AppEmExecucao, pagina: Page) -> None:
    _construtor_mostra_erros_nos_campos(pagina, app_sqlite)


def test_busca_ordem_e_menu_da_instancia(app_sqlite: AppEmExecucao, pagina: Page) -> None:
    _busca_ordem_e_menu_da_instancia(pagina, app_sqlite)


def test_cartoes_fluxos_e_disparar_agora_escalado(
    app_escalado: AppEmExecucao, pagina: Page
) -> None:
    """Background events (polling, dispatch) with Reflex state in Redis."""
    _cartoes_fluxos_e_disparo(pagina, app_escalado)
