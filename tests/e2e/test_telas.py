"""Every screen at 1440, 390 and 320 px, light and dark: axe-core finds no serious or critical
violation, and the page is never wider than the window (no horizontal scroll).

One browser context logs in once and walks the screens; the theme is switched through the
media query the demo user's "Sistema" theme follows (``emulate_media``), and the dark class on
``<html>`` is awaited before axe runs. Each screen collects the results of its four
combinations and fails once, listing them all. The login moves one lead to "Qualificado" so
the drawer shows follow-ups with their operator actions (one is then cancelled from the
drawer, with its confirmation). The last test uses the user menu's theme choice
(Claro / Escuro / Sistema) with the keyboard and goes back to "Sistema".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import (
    ESCURO,
    AppEmExecucao,
    _ServidorApp,
    aplicar_esquema,
    assentada,
    violacoes_axe,
)

pytestmark = pytest.mark.e2e

TAMANHOS = {"desktop": (1440, 900), "celular": (390, 844), "celular estreito": (320, 640)}
ESQUEMAS = ("light", "dark")


@pytest.fixture(scope="module")
def app_telas(servidor_app: _ServidorApp) -> AppEmExecucao:
    return servidor_app.garantir("sqlite")


@dataclass
class Logado:
    contexto: BrowserContext
    lead_com_envios: str = ""


@pytest.fixture(scope="module")
def logado(navegador: Browser, app_telas: AppEmExecucao) -> Iterator[Logado]:
    contexto = navegador.new_context(
        locale="pt-BR", reduced_motion="reduce", viewport={"width": 1440, "height": 900}
    )
    contexto.set_default_timeout(20_000)
    pagina = contexto.new_page()
    pagina.goto(f"{app_telas.url}/login?proximo=/leads")
    pagina.get_by_label("E-mail").fill(app_telas.email)
    pagina.get_by_label("Senha").fill(app_telas.senha)
    pagina.get_by_role("button", name="Entrar").click()
    # Not the URL: "/login?proximo=/leads" ends in /leads too.
    novo = pagina.get_by_role("region", name="Novo", exact=True)
    expect(novo).to_be_visible()
    # One lead moved to "Qualificado": its follow-ups fill the drawer's timeline (with the
    # operator actions) and the send queue.
    cartao = novo.get_by_role("listitem").first
    nome = cartao.locator(".wa-lead-nome").inner_text()
    cartao.get_by_role("button", name=f"Mover {nome} para…").click()
    pagina.get_by_role("menuitem", name="Qualificado").click()
    expect(pagina.get_by_text(re.compile("Lead movido para Qualificado")).first).to_be_visible()
    try:
        yield Logado(contexto, nome)
    finally:
        contexto.close()


@pytest.fixture
def pagina_logada(logado: Logado) -> Page:
    return logado.contexto.pages[0]


def _percorrer(
    pagina: Page,
    preparar: Callable[[Page], str],
    *,
    antes: Callable[[Page], None] | None = None,
) -> None:
    """``preparar`` opens the screen at the current size and returns axe's root selector."""
    problemas: list[str] = []
    for nome_tamanho, (largura, altura) in TAMANHOS.items():
        pagina.set_viewport_size({"width": largura, "height": altura})
        if antes is not None:
            antes(pagina)
        seletor = preparar(pagina)
        assentada(pagina)
        for esquema in ESQUEMAS:
            aplicar_esquema(pagina, esquema)
            combinacao = f"{nome_tamanho} {largura}px {esquema}"
            rolagem, janela = pagina.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            if rolagem > janela:
                problemas.append(f"{combinacao}: a página tem {rolagem} px numa janela de {janela}")
            for v in violacoes_axe(pagina, seletor):
                problemas.append(f"{combinacao}: {v['id']} ({v['impacto']}): {v['alvos']}")
    pagina.emulate_media(color_scheme="light")
    assert not problemas, "\n".join(problemas)


def _abrir(url: str, espera: Callable[[Page], object]) -> Callable[[Page], str]:
    def preparar(pagina: Page) -> str:
        pagina.goto(url)
        espera(pagina)
        return "body"

    return preparar


def test_login(navegador: Browser, app_telas: AppEmExecucao) -> None:
    contexto = navegador.new_context(locale="pt-BR", reduced_motion="reduce")
    try:
        pagina = contexto.new_page()
        _percorrer(
            pagina,
            _abrir(
                f"{app_telas.url}/login",
                lambda p: expect(p.get_by_role("button", name="Entrar")).to_be_visible(),
            ),
        )
    finally:
        contexto.close()


def _quadro(pagina: Page) -> None:
    expect(pagina.get_by_role("region", name="Novo", exact=True)).to_be_visible()
    expect(pagina.locator(".wa-lead-nome").first).to_be_visible()


def test_leads(pagina_logada: Page, app_telas: AppEmExecucao) -> None:
    _percorrer(pagina_logada, _abrir(f"{app_telas.url}/leads", _quadro))


def test_leads_com_a_gaveta_aberta(
    pagina_logada: Page, logado: Logado, app_telas: AppEmExecucao
) -> None:
    nome = logado.lead_com_envios

    def preparar(pagina: Page) -> str:
        pagina.goto(f"{app_telas.url}/leads")
        _quadro(pagina)
        qualificados = pagina.get_by_role("region", name="Qualificado", exact=True)
        qualificados.locator(".wa-lead-nome").filter(has_text=nome).first.click()
        gaveta = pagina.locator(".wa-gaveta")
        expect(gaveta).to_be_visible()
        expect(gaveta.get_by_role("heading", name="Follow-ups por WhatsApp")).to_be_visible()
        expect(gaveta.locator("[aria-busy='true']")).to_have_count(0)
        timeline = gaveta.get_by_role("list", name="Follow-ups por WhatsApp")
        expect(timeline.get_by_role("listitem")).to_have_count(3)
        # The later steps wait: each can be cancelled from here (the admin may act).
        expect(
            gaveta.get_by_role("button", name=re.compile("^Cancelar envio: Etapa"))
        ).not_to_have_count(0)
        return ".wa-gaveta"

    def fechar(pagina: Page) -> None:
        if pagina.locator(".wa-gaveta").count():
            pagina.keyboard.press("Escape")
            expect(pagina.locator(".wa-gaveta")).to_have_count(0)

    _percorrer(pagina_logada, preparar, antes=fechar)
    fechar(pagina_logada)


def test_gaveta_cancela_um_envio_pendente_com_confirmacao(
    pagina_logada: Page, logado: Logado, app_telas: AppEmExecucao
) -> None:
    """The drawer's operator action: ask, then cancel through the queue's service."""
    pagina, nome = pagina_logada, logado.lead_com_envios
    pagina.set_viewport_size({"width": 1440, "height": 900})
    pagina.goto(f"{app_telas.url}/leads")
    _quadro(pagina)
    pagina.get_by_role("region", name="Qualificado", exact=True).locator(".wa-lead-nome").filter(
        has_text=nome
    ).first.click()
    gaveta = pagina.locator(".wa-gaveta")
    jobs = gaveta.get_by_role("list", name="Follow-ups por WhatsApp").get_by_role("listitem")
    expect(jobs).to_have_count(3)
    ultima = jobs.nth(2)
    expect(ultima).to_contain_text("Pendente")
    ultima.get_by_role("button", name="Cancelar envio: Etapa 3").click()
    dialogo = pagina.get_by_role("alertdialog", name="Cancelar envio?")
    expect(dialogo).to_contain_text("Não dá para desfazer.")
    dialogo.get_by_role("button", name="Cancelar envio").click()
    expect(pagina.get_by_text("Envio cancelado.").first).to_be_visible()
    expect(dialogo).to_be_hidden()
    expect(ultima).to_contain_text("Cancelado por um operador.")
    expect(ultima.get_by_role("button", name="Cancelar envio: Etapa 3")).to_have_count(0)
    pagina.keyboard.press("Escape")
    expect(gaveta).to_have_count(0)


def _whatsapp(pagina: Page) -> None:
    expect(pagina.get_by_role("button", name="Nova automação").first).to_be_visible()
    expect(pagina.get_by_role("article").first).to_be_visible()


def test_whatsapp(pagina_logada: Page, app_telas: AppEmExecucao) -> None:
    _percorrer(pagina_logada, _abrir(f"{app_telas.url}/whatsapp", _whatsapp))


def test_whatsapp_com_o_construtor_aberto(pagina_logada: Page, app_telas: AppEmExecucao) -> None:
    def preparar(pagina: Page) -> str:
        pagina.goto(f"{app_telas.url}/whatsapp")
        _whatsapp(pagina)
        pagina.get_by_role("button", name="Nova automação").first.click()
        expect(pagina.get_by_role("dialog", name="Nova automação")).to_be_visible()
        return ".wa-wpp-painel"

    def fechar(pagina: Page) -> None:
        if pagina.locator(".wa-wpp-painel").count():
            pagina.keyboard.press("Escape")
            descartar = pagina.get_by_role("alertdialog", name="Descartar alterações?")
            if descartar.count():
                descartar.get_by_role("button", name="Descartar").click()
            expect(pagina.locator(".wa-wpp-painel")).to_have_count(0)

    _percorrer(pagina_logada, preparar, antes=fechar)
    fechar(pagina_logada)


def test_fila_de_envios(pagina_logada: Page, app_telas: AppEmExecucao) -> None:
    _percorrer(
        pagina_logada,
        _abrir(
            f"{app_telas.url}/whatsapp/fila",
            lambda p: expect(p.get_by_role("heading", name="Fila de envios")).to_be_visible(),
        ),
    )


def test_saude_do_despacho(pagina_logada: Page, app_telas: AppEmExecucao) -> None:
    _percorrer(
        pagina_logada,
        _abrir(
            f"{app_telas.url}/whatsapp/saude",
            lambda p: expect(p.locator("main h1").first).to_be_visible(),
        ),
    )


def test_configuracoes(pagina_logada: Page, app_telas: AppEmExecucao) -> None:
    _percorrer(
        pagina_logada,
        _abrir(
            f"{app_telas.url}/configuracoes",
            lambda p: expect(p.get_by_role("heading", name="Configurações")).to_be_visible(),
        ),
    )


def test_menu_de_tema_claro_escuro_sistema(pagina_logada: Page, app_telas: AppEmExecucao) -> None:
    pagina = pagina_logada
    pagina.set_viewport_size({"width": 1440, "height": 900})
    pagina.emulate_media(color_scheme="light")
    pagina.goto(f"{app_telas.url}/leads")
    _quadro(pagina)
    html = pagina.locator("html")

    def escolher(rotulo: str) -> None:
        gatilho = pagina.get_by_role("button", name=re.compile("^Menu do usuário"))
        gatilho.focus()
        pagina.keyboard.press("Enter")
        opcao = pagina.get_by_role("menuitemradio", name=rotulo)
        expect(opcao).to_be_visible()
        for _ in range(8):  # arrow keys move through the menu's items
            if opcao.evaluate("el => el === document.activeElement"):
                break
            pagina.keyboard.press("ArrowDown")
        expect(opcao).to_be_focused()
        pagina.keyboard.press("Enter")
        expect(pagina.get_by_role("menu")).to_have_count(0)

    escolher("Escuro")
    expect(html).to_have_class(ESCURO)
    pagina.reload()  # the choice persists
    _quadro(pagina)
    expect(html).to_have_class(ESCURO)
    pagina.get_by_role("button", name=re.compile("^Menu do usuário")).click()
    expect(pagina.get_by_role("menuitemradio", name="Escuro")).to_have_attribute(
        "aria-checked", "true"
    )
    expect(pagina.get_by_role("menuitemradio", name="Sistema")).to_have_attribute(
        "aria-checked", "false"
    )
    pagina.keyboard.press("Escape")

    escolher("Claro")
    expect(html).not_to_have_class(ESCURO)

    # Back to "Sistema": the page follows the operating system again.
    escolher("Sistema")
    pagina.emulate_media(color_scheme="dark")
    expect(html).to_have_class(ESCURO)
    pagina.emulate_media(color_scheme="light")
    expect(html).not_to_have_class(ESCURO)
    assert pagina.evaluate("localStorage.getItem('theme')") == "system"
