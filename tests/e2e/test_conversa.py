"""The whole conversation loop in a real browser, against the real simulator.

Move a lead into "Qualificado" (the demo automation: 3 steps, the first at once) → the first
follow-up reaches the simulator → the contact replies from the simulator's inbox page
("Responder como o contato") → without a reload, the lead's card shows "Nova resposta" → the
drawer shows the reply bubble and the remaining follow-ups cancelled because the lead replied;
opening it clears the badge. axe finds no serious or critical violation in the drawer with the
conversation open, light and dark.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import AppEmExecucao, aplicar_esquema, violacoes_axe

pytestmark = pytest.mark.e2e
RESPOSTA = "Oi! Tenho interesse, pode me mandar os valores?"
PRAZO_ENVIO_S = 60.0


def _entrar(pagina: Page, app: AppEmExecucao, destino: str) -> None:
    pagina.goto(f"{app.url}/login?proximo={destino}")
    pagina.get_by_label("E-mail").fill(app.email)
    pagina.get_by_label("Senha").fill(app.senha)
    pagina.get_by_role("button", name="Entrar").click()
    expect(pagina).to_have_url(re.compile(re.escape(destino) + "/?$"))  # a full load adds "/"


def _sem_restricao_de_horario(pagina: Page, app: AppEmExecucao) -> None:
    """The demo's window is 08:00-20:00 Mon-Sat: open it, so the first step goes out now."""
    _entrar(pagina, app, "/configuracoes")
    interruptor = pagina.get_by_role("switch", name="Sem restrição de horário")
    expect(interruptor).to_be_visible()
    if interruptor.get_attribute("aria-checked") != "true":
        interruptor.click()
        janela = pagina.get_by_role("region", name="Janela de envio")
        janela.get_by_role("button", name="Salvar").click()
        expect(pagina.get_by_text("Janela de envio salva.")).to_be_visible()


def _mensagens_no_simulador(app: AppEmExecucao, numero: str) -> list[dict[str, object]]:
    consulta = urllib.parse.urlencode({"number": numero, "direcao": "saida"})
    with urllib.request.urlopen(f"{app.simulador_url}/__sim/mensagens?{consulta}", timeout=5) as r:
        corpo = json.loads(r.read())
    return list(corpo if isinstance(corpo, list) else corpo.get("mensagens", []))


def _esperar_primeiro_follow_up(app: AppEmExecucao, numero: str) -> str:
    limite = time.monotonic() + PRAZO_ENVIO_S
    while not (recebidas := _mensagens_no_simulador(app, numero)):
        assert time.monotonic() < limite, f"nenhum follow-up chegou ao simulador para {numero}"
        time.sleep(0.5)
    return str(recebidas[0]["text"])


def test_resposta_do_contato_aparece_na_gaveta_e_cancela_os_follow_ups(
    app_sqlite: AppEmExecucao, pagina: Page
) -> None:
    app = app_sqlite
    _sem_restricao_de_horario(pagina, app)

    pagina.goto(f"{app.url}/leads")
    novo = pagina.get_by_role("region", name="Novo", exact=True)
    qualificado = pagina.get_by_role("region", name="Qualificado", exact=True)
    cartao = novo.get_by_role("listitem").first
    expect(cartao).to_be_visible()
    nome = cartao.locator(".wa-lead-nome").inner_text()
    numero = re.sub(r"\D", "", cartao.locator(".wa-lead-meta").first.inner_text())
    cartao.get_by_role("button", name=f"Mover {nome} para…").click()
    pagina.get_by_role("menuitem", name="Qualificado").click()
    expect(
        pagina.get_by_text("Lead movido para Qualificado · 3 follow-ups agendados")
    ).to_be_visible()
    movido = qualificado.get_by_role("listitem").filter(has_text=nome)
    expect(movido).to_be_visible()

    # The first step (no delay) reaches the simulator.
    primeiro = _esperar_primeiro_follow_up(app, numero)
    assert nome.split()[0] in primeiro

    # The contact answers from the simulator's inbox page, in another tab.
    simulador = pagina.context.new_page()
    simulador.goto(app.simulador_url + "/")
    conversa = simulador.get_by_role("region", name=re.compile(numero))
    formulario = conversa.get_by_role("form", name=f"Responder como o contato {numero}")
    formulario.get_by_label("Mensagem do contato").fill(RESPOSTA)
    formulario.get_by_role("button", name="Responder como o contato").click()
    expect(simulador.get_by_role("status")).to_contain_text("Resposta do contato entregue")
    simulador.close()

    # Back on the board, without a reload: the card gets the unread badge.
    selo = movido.get_by_role("img", name="Nova resposta do lead")
    expect(selo).to_be_visible(timeout=20_000)
    expect(movido).to_contain_text("Nova resposta")

    movido.get_by_role("button", name=re.compile("^" + re.escape(nome))).click()
    gaveta = pagina.get_by_role("dialog", name=nome)
    expect(gaveta).to_be_visible()
    bolhas = gaveta.get_by_role("list", name="Conversa no WhatsApp").get_by_role("listitem")
    expect(bolhas).to_have_count(2)
    expect(bolhas.nth(0)).to_contain_text(primeiro)
    expect(bolhas.nth(0)).to_contain_text(re.compile("Enviada|Entregue|Lida"))
    expect(bolhas.nth(1)).to_contain_text(RESPOSTA)
    expect(bolhas.nth(1)).to_contain_text("Respondeu")
    expect(gaveta.get_by_role("status").filter(has_text="mensagens")).to_contain_text(
        "2 mensagens, 1 resposta do lead."
    )

    jobs = gaveta.get_by_role("list", name="Follow-ups por WhatsApp").get_by_role("listitem")
    expect(jobs).to_have_count(3)
    expect(jobs.nth(0)).to_contain_text("Enviado")
    for ordem in (1, 2):
        expect(jobs.nth(ordem)).to_contain_text("Cancelado")
        expect(jobs.nth(ordem)).to_contain_text("o lead respondeu")

    # Opening the drawer read the conversation: the badge is gone.
    expect(movido.get_by_role("img", name="Nova resposta do lead")).to_have_count(0)

    # The demo user's theme follows the system: emulate each scheme and check the drawer.
    for esquema in ("light", "dark"):
        aplicar_esquema(pagina, esquema)
        assert violacoes_axe(pagina, ".wa-gaveta") == [], esquema

    pagina.keyboard.press("Escape")
    expect(gaveta).to_be_hidden()
