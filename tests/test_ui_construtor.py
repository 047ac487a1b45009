"""Fast State tests (no browser, no database) for the builder's Cloud API templates and
"Parar quando o lead responder", and for the Configurações opt-out words editor.

The States are built the way Reflex's memory state manager builds them; events that only shape
the form run directly (``Handler.fn(estado, ...)``); the authorization helper is replaced by
one that lets the caller through (authorization itself is tested in test_auth.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import reflex as rx

from whatsapp_app.envio import preencher_modelo
from whatsapp_app.modules.configuracoes.state import EstadoConfiguracoes
from whatsapp_app.modules.whatsapp.modelos import (
    AVISO_SEM_MODELO,
    MODO_LIVRE,
    SEM_MODELO,
    STATUS_CARREGANDO,
    STATUS_OK,
    campos_modelo,
    modelo_da_etapa,
    parametros_para,
)
from whatsapp_app.modules.whatsapp.state import EstadoWhatsapp, _etapa_vazia
from whatsapp_app.ui.sessao import EstadoSessao, _Autorizacao

CLOUD = {"id": "cloud", "nome": "Meta", "provider": "cloud_api"}
SIMULADOR = {"id": "sim", "nome": "Simulador local", "provider": "simulador"}
BOAS_VINDAS = {
    "chave": "boas_vindas|pt_BR",
    "nome": "boas_vindas",
    "idioma": "pt_BR",
    "corpo": "Olá, {{1}}! Aqui é da {{2}}.",
    "variaveis": 2,
    "categoria": "MARKETING",
    "rotulo": "boas_vindas (pt_BR)",
}


@pytest.fixture(autouse=True)
def _sem_autorizacao(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(_Autorizacao, "contexto", lambda self, *perfis: None)
    yield


def _estado(classe: type[rx.State]) -> Any:
    raiz = rx.State(_reflex_internal_init=True)
    return raiz.substates[EstadoSessao.get_name()].substates[classe.get_name()]


@pytest.fixture
def construtor() -> Any:
    estado = _estado(EstadoWhatsapp)
    estado.instancias = [CLOUD, SIMULADOR]
    estado.estagios = [{"id": "q", "nome": "Qualificado", "cor": "blue"}]
    estado.nome_empresa = "Acme"
    estado.form_nome = "Boas-vindas"
    estado.form_estagio = "q"
    estado.form_instancia = "cloud"
    estado.etapas = [_etapa_vazia(mensagem="Oi, {{primeiro_nome}}!")]
    estado.modelos = [BOAS_VINDAS]
    estado.modelos_status = STATUS_OK
    estado.modelos_instancia = "cloud"
    return estado


def test_ajudantes_de_modelo() -> None:
    assert preencher_modelo("Olá {{1}}, da {{ 2 }}", ["Ana", "Acme"]) == "Olá Ana, da Acme"
    assert preencher_modelo("Olá {{1}}, {{3}}", ["Ana"]) == "Olá Ana, {{3}}"  # missing stays
    assert [p["valor"] for p in parametros_para(3)] == ["{{primeiro_nome}}", "", ""]
    assert [p["modo"] for p in parametros_para(2, ["{{empresa}}"])] == ["{{empresa}}", MODO_LIVRE]
    guardado = {"nome": "x", "idioma": "en_US", "variaveis": ["Oi {{nome}}"], "corpo": "{{1}}"}
    campos = campos_modelo(guardado)
    assert campos["modelo_chave"] == "x|en_US"
    assert campos["parametros"] == [{"valor": "Oi {{nome}}", "modo": MODO_LIVRE}]
    assert modelo_da_etapa(campos) == guardado
    assert modelo_da_etapa(campos_modelo(None)) is None


def test_escolher_modelo_parametros_e_previa(construtor: Any) -> None:
    E = EstadoWhatsapp
    assert construtor.instancia_cloud is True
    E.escolher_modelo.fn(construtor, 0, "boas_vindas|pt_BR")
    etapa = construtor.etapas[0]
    assert etapa["modelo_nome"] == "boas_vindas"
    assert etapa["modelo_corpo"] == "Olá, {{1}}! Aqui é da {{2}}."
    assert [p["valor"] for p in etapa["parametros"]] == ["{{primeiro_nome}}", ""]

    E.definir_modo_parametro.fn(construtor, 0, 1, "{{empresa}}")
    assert construtor.previas_modelo == ["Olá, Mariana! Aqui é da Acme."]

    # Free text keeps the variable that was there, then takes what is typed.
    E.definir_modo_parametro.fn(construtor, 0, 1, MODO_LIVRE)
    assert construtor.etapas[0]["parametros"][1] == {"valor": "{{empresa}}", "modo": MODO_LIVRE}
    E.definir_valor_parametro.fn(construtor, 0, 1, "equipe {{empresa}} ({{estagio}})")
    assert construtor.previas_modelo == ["Olá, Mariana! Aqui é da equipe Acme (Qualificado)."]

    dados, erros = construtor._validar()
    assert erros == {}
    assert dados["parar_ao_responder"] is True
    assert dados["etapas"][0]["modelo"] == {
        "nome": "boas_vindas",
        "idioma": "pt_BR",
        "variaveis": ["{{primeiro_nome}}", "equipe {{empresa}} ({{estagio}})"],
        "corpo": "Olá, {{1}}! Aqui é da {{2}}.",
    }

    E.escolher_modelo.fn(construtor, 0, SEM_MODELO)
    assert construtor.etapas[0]["modelo_nome"] == ""
    assert construtor.previas_modelo == [""]
    assert "modelo" not in construtor._validar()[0]["etapas"][0]


def test_parametro_vazio_e_erro_no_campo(construtor: Any) -> None:
    EstadoWhatsapp.escolher_modelo.fn(construtor, 0, "boas_vindas|pt_BR")
    _dados, erros = construtor._validar()
    # The form's own sentence comes first (the service's length rule says it too).
    assert next(iter(erros.items())) == ("etapas.0.modelo", "Preencha a variável {{2}} do modelo.")
    construtor._mostrar_erros(erros)
    assert construtor.etapas[0]["erro_modelo"] == "Preencha a variável {{2}} do modelo."
    assert "etapas" not in construtor.erros
    # Variables outside the known set are refused by the service's own validation.
    EstadoWhatsapp.definir_valor_parametro.fn(construtor, 0, 1, "{{apelido}}")
    _dados, erros = construtor._validar()
    assert any(k.startswith("etapas.0.modelo") for k in erros), erros


def test_sem_modelos_fora_do_cloud_api(construtor: Any) -> None:
    EstadoWhatsapp.escolher_modelo.fn(construtor, 0, "boas_vindas|pt_BR")
    EstadoWhatsapp.definir_modo_parametro.fn(construtor, 0, 1, "{{empresa}}")
    construtor.form_instancia = "sim"
    assert construtor.instancia_cloud is False
    assert construtor.previas_modelo == [""]
    # Evolution and the simulator ignore templates: nothing is saved for them.
    assert "modelo" not in construtor._validar()[0]["etapas"][0]
    assert construtor._pedir_modelos() is None
    assert construtor.modelos == [] and construtor.modelos_status == ""


def test_modelos_carregados_uma_vez_por_instancia(construtor: Any) -> None:
    construtor._cache_modelos = {}
    pedido = construtor._pedir_modelos()
    assert pedido is not None  # the background load of this instance
    assert construtor.modelos_status == STATUS_CARREGANDO
    construtor._cache_modelos = {"cloud": [BOAS_VINDAS]}
    assert construtor._pedir_modelos() is None
    assert construtor.modelos_status == STATUS_OK
    assert construtor.modelos == [BOAS_VINDAS]


def test_modelo_guardado_que_nao_esta_mais_aprovado(construtor: Any) -> None:
    construtor.etapas = [
        _etapa_vazia(mensagem="Oi", modelo={"nome": "antigo", "idioma": "pt_BR", "variaveis": []})
    ]
    construtor._conferir_modelos()
    assert "antigo não está entre os aprovados" in construtor.etapas[0]["erro_modelo"]


def test_parar_ao_responder_no_rascunho(construtor: Any) -> None:
    construtor._rascunho_inicial = construtor._rascunho()
    EstadoWhatsapp.definir_parar.fn(construtor, False)
    assert construtor._rascunho() != construtor._rascunho_inicial
    assert construtor._validar()[0]["parar_ao_responder"] is False
    assert AVISO_SEM_MODELO.startswith("Fora da janela de 24 h")


# --- Configurações: opt-out words ---------------------------------------------------------


@pytest.fixture
def configuracoes() -> Any:
    estado = _estado(EstadoConfiguracoes)
    estado._ler_palavras({"palavras_optout": ["SAIR", "PARAR"]}, ["SAIR", "PARAR"])
    return estado


def test_adicionar_palavras_com_a_validacao_do_servico(configuracoes: Any) -> None:
    E = EstadoConfiguracoes
    assert configuracoes.usar_padrao is False
    configuracoes.nova_palavra = "sair!, Não quero"
    E.adicionar_palavra.fn(configuracoes)
    assert configuracoes.palavras == ["SAIR", "PARAR", "Não quero"]
    assert configuracoes.nova_palavra == "" and configuracoes.erro_palavras == ""
    assert configuracoes.palavras_alteradas is True

    configuracoes.nova_palavra = " sáir "
    E.adicionar_palavra.fn(configuracoes)
    assert configuracoes.erro_palavras == "“sáir” já está na lista."

    configuracoes.nova_palavra = "!!!"
    E.adicionar_palavra.fn(configuracoes)
    assert configuracoes.erro_palavras == "“!!!” não tem letras nem números."

    configuracoes.nova_palavra = "   "
    E.adicionar_palavra.fn(configuracoes)
    assert configuracoes.erro_palavras == "Digite uma palavra para adicionar."


def test_remover_e_restaurar_o_padrao(configuracoes: Any) -> None:
    E = EstadoConfiguracoes
    E.remover_palavra.fn(configuracoes, "PARAR")
    assert configuracoes.palavras == ["SAIR"]
    assert configuracoes.palavras_alteradas is True
    E.restaurar_palavras_padrao.fn(configuracoes)
    assert configuracoes.usar_padrao is True
    assert configuracoes.palavras == ["SAIR", "PARAR", "STOP", "CANCELAR", "DESCADASTRAR"]


def test_sem_lista_propria_mostra_o_padrao() -> None:
    estado = _estado(EstadoConfiguracoes)
    estado._ler_palavras({"palavras_optout": ["SAIR", "PARAR", "STOP"]}, [])
    assert estado.usar_padrao is True
    assert estado.palavras == ["SAIR", "PARAR", "STOP"]
    assert estado.palavras_alteradas is False
    assert estado.total_palavras_texto == "3 palavras na lista."
