"""The connectivity poller against the real simulator, with fake time for the debounce.

Rule under test (conectividade.py): a polled state that differs from the stored one is
written once seen ``CONECTIVIDADE_CONFIRMACOES`` consecutive times and for at least
``CONECTIVIDADE_ESTABILIDADE_S`` seconds; seeing the stored state again drops it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine

from tests.factories import criar_empresa, criar_instancia
from tests.providers.falso import porta_fechada
from tests.test_instancias import _sem_provedores_reais, sim  # noqa: F401  (fixtures)
from whatsapp_app import agendador, db
from whatsapp_app.conectividade import atualizar_conectividade, gravar_estado
from whatsapp_app.config import configuracoes
from whatsapp_app.cripto import cifrar_config
from whatsapp_app.models import WhatsappInstancia
from whatsapp_app.providers.base import EstadoConexao, StatusConexao
from whatsapp_app.simulador.servidor import ServidorSimulador

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


@pytest.fixture
def regra(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def definir(confirmacoes: int, estabilidade_s: float) -> None:
        monkeypatch.setenv("CONECTIVIDADE_CONFIRMACOES", str(confirmacoes))
        monkeypatch.setenv("CONECTIVIDADE_ESTABILIDADE_S", str(estabilidade_s))
        configuracoes.cache_clear()

    return definir


def ler(id_instancia: str) -> WhatsappInstancia:
    with db.sessao() as s:
        linha = s.get(WhatsappInstancia, id_instancia)
        assert linha is not None
        return linha


def conectada(sim: ServidorSimulador) -> str:  # noqa: F811
    """A simulator instance paired on the simulator and ``conectado`` in our database."""
    id_instancia = criar_instancia(criar_empresa())
    sim.simulador.criar(id_instancia)
    assert sim.simulador.escanear(id_instancia)
    with db.sessao() as s:
        gravar_estado(s, id_instancia, StatusConexao.CONECTADO, origem="teste")
    return id_instancia


def desconectar_no_simulador(sim: ServidorSimulador, id_instancia: str) -> None:  # noqa: F811
    resposta = httpx.post(f"{sim.url}/__sim/instancias/{id_instancia}/desconectar")
    assert resposta.json() == {"ok": True, "state": "close"}


def test_mudanca_so_e_gravada_depois_de_n_vezes_e_t_segundos(banco, sim, regra) -> None:  # noqa: F811
    regra(2, 20)
    id_instancia = conectada(sim)
    with time_machine.travel(T0, tick=False) as viagem:
        assert atualizar_conectividade()["verificadas"] == 1
        assert (ler(id_instancia).status, ler(id_instancia).ultima_sincronizacao) == (
            "conectado",
            T0,
        )
        desconectar_no_simulador(sim, id_instancia)

        viagem.shift(5)  # 1st sighting at T0+5
        assert atualizar_conectividade()["alteradas"] == 0
        linha = ler(id_instancia)
        assert (linha.status, linha.status_candidato, linha.status_candidato_vezes) == (
            "conectado",
            "desconectado",
            1,
        )
        assert linha.ultima_sincronizacao == T0 + timedelta(seconds=5)

        viagem.shift(10)  # 2nd sighting, only 10 s after the first: not yet
        atualizar_conectividade()
        assert (ler(id_instancia).status, ler(id_instancia).status_candidato_vezes) == (
            "conectado",
            2,
        )

        viagem.shift(9.9)  # 19.9 s: still not
        atualizar_conectividade()
        assert ler(id_instancia).status == "conectado"

        viagem.shift(0.1)  # 20 s after the first sighting, 4 sightings: written
        assert atualizar_conectividade()["alteradas"] == 1
        linha = ler(id_instancia)
        assert (linha.status, linha.status_candidato, linha.status_candidato_vezes) == (
            "desconectado",
            None,
            0,
        )
        assert linha.ultima_sincronizacao == T0 + timedelta(seconds=25)


def test_regra_so_por_contagem(banco, sim, regra) -> None:  # noqa: F811
    regra(3, 0)
    id_instancia = conectada(sim)
    desconectar_no_simulador(sim, id_instancia)
    with time_machine.travel(T0, tick=False):
        assert [atualizar_conectividade()["alteradas"] for _ in range(3)] == [0, 0, 1]
    assert ler(id_instancia).status == "desconectado"


def test_oscilacao_nao_chega_a_tela(banco, sim, regra) -> None:  # noqa: F811
    regra(2, 0)
    id_instancia = conectada(sim)
    with time_machine.travel(T0, tick=False) as viagem:
        desconectar_no_simulador(sim, id_instancia)
        atualizar_conectividade()
        assert ler(id_instancia).status_candidato == "desconectado"

        sim.simulador.conectar(id_instancia)  # back before the second sighting
        sim.simulador.escanear(id_instancia)
        viagem.shift(30)
        atualizar_conectividade()
        linha = ler(id_instancia)
        assert (linha.status, linha.status_candidato, linha.status_candidato_vezes) == (
            "conectado",
            None,
            0,
        )

        desconectar_no_simulador(sim, id_instancia)  # the count starts over
        viagem.shift(30)
        atualizar_conectividade()
        assert (ler(id_instancia).status, ler(id_instancia).status_candidato_vezes) == (
            "conectado",
            1,
        )
        # A third state replaces the candidate instead of adding to it.
        sim.simulador.conectar(id_instancia)  # close → connecting (QR on screen)
        viagem.shift(30)
        atualizar_conectividade()
        linha = ler(id_instancia)
        assert (linha.status, linha.status_candidato, linha.status_candidato_vezes) == (
            "conectado",
            "conectando",
            1,
        )
        viagem.shift(30)
        atualizar_conectividade()
        assert ler(id_instancia).status == "conectando"


def test_erro_do_provedor_conta_como_desconectado(banco, sim, regra) -> None:  # noqa: F811
    regra(2, 0)
    empresa = criar_empresa()
    config = {
        "base_url": f"http://127.0.0.1:{porta_fechada()}",
        "api_key": "k",
        "instance_name": "loja",
    }
    with db.sessao() as s:
        linha = WhatsappInstancia(
            id_empresa=empresa.id,
            nome="Fora do ar",
            provider="evolution",
            config_cifrada=cifrar_config(config),
            status="conectado",
            ultima_sincronizacao=T0,
        )
        s.add(linha)
        s.flush()
        id_instancia = linha.id
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False) as viagem:
        resumo = atualizar_conectividade()
        assert (resumo["erros"], resumo["alteradas"]) == (1, 0)
        linha = ler(id_instancia)
        assert linha.status == "conectado"
        assert linha.erro_conexao is not None and "inacessível" in linha.erro_conexao
        assert linha.ultima_sincronizacao == T0, "only a real answer is a sync"
        viagem.shift(30)
        assert atualizar_conectividade()["alteradas"] == 1
        assert ler(id_instancia).status == "desconectado"


def test_webhook_e_acoes_gravam_na_hora(banco, sim, regra) -> None:  # noqa: F811
    regra(5, 300)
    id_instancia = conectada(sim)
    desconectar_no_simulador(sim, id_instancia)
    atualizar_conectividade()
    assert ler(id_instancia).status_candidato == "desconectado"
    with db.sessao() as s:
        gravar_estado(s, id_instancia, StatusConexao.DESCONECTADO, origem="webhook")
    linha = ler(id_instancia)
    assert (linha.status, linha.status_candidato, linha.erro_conexao) == (
        "desconectado",
        None,
        None,
    )


def test_so_instancias_ativas_sao_consultadas(banco) -> None:
    empresa = criar_empresa()
    ativa = criar_instancia(empresa)
    excluida = criar_instancia(empresa)
    with db.sessao() as s:
        linha = s.get(WhatsappInstancia, excluida)
        assert linha is not None
        linha.excluida_em = T0
        s.add(linha)
    consultadas: list[str] = []

    class Falso:
        def __init__(self, instancia: WhatsappInstancia) -> None:
            consultadas.append(instancia.id)

        def estado_conexao(self) -> EstadoConexao:
            return EstadoConexao(StatusConexao.DESCONECTADO)

    assert atualizar_conectividade(fabrica=Falso)["verificadas"] == 1
    assert consultadas == [ativa]


def test_agendador_registra_a_verificacao(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONECTIVIDADE_INTERVALO_S", "7")
    configuracoes.cache_clear()
    try:
        tarefa = agendador.criar_agendador().get_job(agendador.ID_TAREFA_CONECTIVIDADE)
    finally:
        configuracoes.cache_clear()
    assert tarefa is not None
    assert tarefa.trigger.interval == timedelta(seconds=7)
    assert tarefa.max_instances == 1
