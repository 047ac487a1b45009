"""The send queue in a real browser: a newcomer finds an uncertain send, reads what to check,
marks it as sent, and retries a failed one; axe light and dark, and no overflow at 390 px.

The failures are made the way production makes them: the simulator drops the connection after
storing the message (the app cannot know it went out → INCERTO) and refuses a number that is
not on WhatsApp (→ ERRO).
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
from tests.e2e.test_conversa import _entrar, _mensagens_no_simulador, _sem_restricao_de_horario

pytestmark = pytest.mark.e2e
PRAZO_S = 60.0


def _falhas(app: AppEmExecucao, **falhas: object) -> None:
    pedido = urllib.request.Request(
        f"{app.simulador_url}/__sim/falhas",
        data=json.dumps(falhas).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(pedido, timeout=5) as r:
        assert r.status == 200


def _mover_primeiro_novo(pagina: Page, app: AppEmExecucao) -> tuple[str, str]:
    pagina.goto(f"{app.url}/leads")
    novo = pagina.get_by_role("region", name="Novo", exact=True)
    cartao = novo.get_by_role("listitem").first
    expect(cartao).to_be_visible()
    nome = cartao.locator(".wa-lead-nome").inner_text()
    numero = re.sub(r"\D", "", cartao.locator(".wa-lead-meta").first.inner_text())
    cartao.get_by_role("button", name=f"Mover {nome} para…").click()
    pagina.get_by_role("menuitem", name="Qualificado").click()
    expect(pagina.get_by_text("Lead movido para Qualificado")).to_be_visible()
    expect(novo.get_by_role("listitem").filter(has_text=nome)).to_have_count(0)
    return nome, numero


def _esperar_status(pagina: Page, app: AppEmExecucao, nome: str, status: str) -> None:
    consulta = urllib.parse.urlencode({"status": status, "q": nome})
    limite = time.monotonic() + PRAZO_S
    while True:
        resposta = pagina.request.get(f"{app.url}/api/whatsapp/agendamentos?{consulta}")
        assert resposta.ok, resposta.text()
        if resposta.json()["total"]:
            return
        assert time.monotonic() < limite, f"nenhum envio {status} para {nome}"
        time.sleep(0.5)


def test_novato_encontra_incerto_marca_enviado_e_reenvia_erro(
    app_sqlite: AppEmExecucao, pagina: Page
) -> None:
    app = app_sqlite
    _sem_restricao_de_horario(pagina, app)

    # An uncertain send: the connection drops after the simulator stored the message.
    _falhas(app, proximas=["queda_depois"], numeros_inexistentes=[])
    nome_incerto, _ = _mover_primeiro_novo(pagina, app)
    _esperar_status(pagina, app, nome_incerto, "INCERTO")
    # A failed one: a number that is not on WhatsApp.
    pagina.goto(f"{app.url}/leads")
    cartao = pagina.get_by_role("region", name="Novo", exact=True).get_by_role("listitem").first
    numero_erro = re.sub(r"\D", "", cartao.locator(".wa-lead-meta").first.inner_text())
    _falhas(app, proximas=[], numeros_inexistentes=[numero_erro])
    nome_erro, _ = _mover_primeiro_novo(pagina, app)
    _esperar_status(pagina, app, nome_erro, "ERRO")
    _falhas(app, proximas=[], numeros_inexistentes=[])

    # The newcomer opens the queue from the menu and filters the uncertain sends.
    pagina.goto(f"{app.url}/whatsapp")
    pagina.get_by_role("link", name="Fila de envios").click()
    expect(pagina).to_have_url(re.compile(r"/whatsapp/fila"))
    expect(pagina.get_by_role("heading", name="Fila de envios")).to_be_visible()
    pagina.get_by_role("group", name="Filtrar por status").get_by_role(
        "button", name=re.compile("^Incerto")
    ).click()
    expect(pagina).to_have_url(re.compile(r"status=INCERTO"))
    envios = pagina.get_by_role("list", name="Envios")
    linha = envios.get_by_role("listitem").filter(has_text=nome_incerto)
    expect(linha).to_be_visible()
    expect(linha).to_contain_text("O provedor não confirmou se a mensagem saiu.")
    expect(linha).to_contain_text("se recebeu, marque como enviado; se não, reenvie.")
    expect(linha).to_contain_text("Etapa 1 · Boas-vindas a leads qualificados")
    expect(linha).to_contain_text(nome_incerto.split()[0])  # the rendered message
    expect(pagina.locator("main")).not_to_contain_text("RemoteProtocolError")
    expect(pagina.locator("main")).not_to_contain_text("Error")

    linha.get_by_role("button", name=f"Marcar como enviado: {nome_incerto}").click()
    dialogo = pagina.get_by_role("alertdialog", name="Marcar como enviado?")
    expect(dialogo).to_contain_text("Nada é enviado agora.")
    dialogo.get_by_role("button", name="Marcar como enviado").click()
    expect(pagina.get_by_text("Envio marcado como enviado.").first).to_be_visible()
    expect(dialogo).to_be_hidden()
    expect(linha).to_contain_text("Enviado")
    expect(linha.get_by_role("button", name=re.compile("Marcar como enviado"))).to_have_count(0)

    # The failed one: its error in pt-BR, then "Reenviar", and it really goes out.
    pagina.get_by_role("group", name="Filtrar por status").get_by_role(
        "button", name=re.compile("^Erro")
    ).click()
    linha_erro = envios.get_by_role("listitem").filter(has_text=nome_erro)
    expect(linha_erro).to_contain_text("Número não está no WhatsApp.")
    linha_erro.get_by_role("button", name=f"Reenviar: {nome_erro}").click()
    dialogo = pagina.get_by_role("alertdialog", name="Reenviar?")
    dialogo.get_by_role("button", name="Reenviar").click()
    expect(pagina.get_by_text("Envio reenviado.").first).to_be_visible()
    expect(linha_erro).to_contain_text(re.compile("Pendente|Processando|Enviado"))
    limite = time.monotonic() + PRAZO_S
    while not _mensagens_no_simulador(app, numero_erro):
        assert time.monotonic() < limite, "o envio reenviado não chegou ao simulador"
        time.sleep(0.5)

    # axe, light and dark, on the whole queue (filters, rows and the selection bar).
    pagina.get_by_role("group", name="Filtrar por status").get_by_role(
        "button", name=re.compile("^Todos")
    ).click()
    expect(envios.get_by_role("listitem").first).to_be_visible()
    for esquema in ("light", "dark"):
        aplicar_esquema(pagina, esquema)
        assert violacoes_axe(pagina, "#conteudo") == [], esquema


def test_fila_no_celular_sem_rolagem_horizontal(app_sqlite: AppEmExecucao, pagina: Page) -> None:
    app = app_sqlite
    pagina.set_viewport_size({"width": 390, "height": 844})
    _entrar(pagina, app, "/whatsapp/fila")
    expect(pagina.get_by_role("heading", name="Fila de envios")).to_be_visible()
    expect(pagina.get_by_role("list", name="Envios").get_by_role("listitem").first).to_be_visible()
    largura = pagina.evaluate("document.documentElement.scrollWidth")
    assert largura <= 390, f"a página tem {largura} px de largura a 390 px"
    # A dialog fits the phone and closes.
    botao = pagina.get_by_role("button", name=re.compile("^(Reenviar|Cancelar envio): ")).first
    if botao.count():
        botao.click()
        dialogo = pagina.get_by_role("alertdialog")
        caixa = dialogo.bounding_box()
        assert caixa is not None and caixa["x"] >= 0 and caixa["x"] + caixa["width"] <= 390
        dialogo.get_by_role("button", name="Voltar").click()
        expect(dialogo).to_be_hidden()
    for esquema in ("light", "dark"):
        aplicar_esquema(pagina, esquema)
        assert violacoes_axe(pagina, "#conteudo") == [], esquema
