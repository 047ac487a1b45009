"""Dispatch counters in the database: summed per company and hour across processes, written
once per round, kept when a write fails, and incremented by the dispatcher itself."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from prometheus_client import REGISTRY

from tests.factories import criar_automacao, criar_empresa, criar_lead, mover
from tests.provedor_falso import ProvedorTeste, ServidorContador
from whatsapp_app import contadores, db, recuperacao, saude_despacho
from whatsapp_app import whatsapp_automations as automacoes
from whatsapp_app.config import configuracoes
from whatsapp_app.models import WhatsappAutomacaoAgendamento, WhatsappContadorDespacho
from whatsapp_app.tempo import agora

_tabela = WhatsappContadorDespacho.__table__  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _sem_sobras() -> Iterator[None]:
    contadores.descartar()  # counts another test's process left unwritten are not ours
    yield
    contadores.descartar()


def _linhas(id_empresa: str) -> dict[tuple[datetime, str], int]:
    with db.sessao() as s:
        return {
            (hora, nome): int(valor)
            for hora, nome, valor in s.execute(
                sa.select(_tabela.c.hora, _tabela.c.nome, _tabela.c.valor).where(
                    _tabela.c.id_empresa == id_empresa
                )
            ).all()
        }


def _por_nome(id_empresa: str) -> dict[str, int]:
    total: dict[str, int] = {}
    for (_hora, nome), valor in _linhas(id_empresa).items():
        total[nome] = total.get(nome, 0) + valor
    return total


def _processo(codigo: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", codigo], env=dict(os.environ))


def test_somar_conta_uma_vez_no_prometheus_e_na_tabela(banco) -> None:
    """Every counter of the page is also this process's Prometheus counter of the same name:
    one call counts both, by the same amount."""
    empresa = criar_empresa()
    nomes = sorted(saude_despacho.CAMPOS)

    def prometheus() -> dict[str, float]:
        return {nome: REGISTRY.get_sample_value(f"{nome}_total") or 0.0 for nome in nomes}

    antes = prometheus()
    for nome in nomes:
        contadores.somar(nome, empresa.id, 2)
    assert contadores.descarregar() == 2 * len(nomes)
    depois = prometheus()
    assert {nome: depois[nome] - antes[nome] for nome in nomes} == dict.fromkeys(nomes, 2.0)
    assert _por_nome(empresa.id) == dict.fromkeys(nomes, 2)


def test_dois_processos_somam_na_mesma_linha(banco) -> None:
    empresa = criar_empresa()
    com_descarga = (
        "from whatsapp_app import contadores\n"
        f"contadores.somar('jobs_claimed', {empresa.id!r}, 3)\n"
        f"contadores.somar('jobs_duplicate_blocked', {empresa.id!r})\n"
        "assert contadores.descarregar() == 4\n"
        "assert contadores.descarregar() == 0\n"  # nothing left: an empty flush is free
    )
    # The second process never flushes: its exit does (atexit).
    so_na_saida = (
        "from whatsapp_app import contadores\n"
        f"contadores.somar('jobs_claimed', {empresa.id!r}, 2)\n"
    )
    processos = [_processo(com_descarga), _processo(so_na_saida)]
    assert [p.wait(timeout=120) for p in processos] == [0, 0]

    linhas = _linhas(empresa.id)
    assert len({hora for hora, _nome in linhas}) == 1  # one hour, one row per counter
    assert _por_nome(empresa.id) == {"jobs_claimed": 5, "jobs_duplicate_blocked": 1}


def test_cada_evento_fica_na_sua_hora_e_na_sua_empresa(banco) -> None:
    a, b = criar_empresa(sufixo="a"), criar_empresa(sufixo="b")
    with time_machine.travel(datetime(2026, 12, 1, 10, 59, tzinfo=UTC), tick=False):
        contadores.somar(contadores.ENVIADOS, a.id)
        contadores.somar(contadores.ENVIADOS, b.id, 4)
    with time_machine.travel(datetime(2026, 12, 1, 11, 1, tzinfo=UTC), tick=False):
        contadores.somar(contadores.ENVIADOS, a.id, 2)
        assert contadores.descarregar() == 7  # written after 11:00, still counted at 10:00

    dez, onze = datetime(2026, 12, 1, 10, tzinfo=UTC), datetime(2026, 12, 1, 11, tzinfo=UTC)
    assert _linhas(a.id) == {(dez, "jobs_sent"): 1, (onze, "jobs_sent"): 2}
    assert _linhas(b.id) == {(dez, "jobs_sent"): 4}


def test_falha_ao_gravar_guarda_as_contagens(banco, monkeypatch, tmp_path) -> None:
    empresa = criar_empresa()
    contadores.somar(contadores.INCERTOS, empresa.id, 2)
    # A database that cannot be opened: the write fails, the counts wait in memory.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/sem/pasta/nenhum.db")
    configuracoes.cache_clear()
    assert contadores.descarregar() == 0
    assert sum(contadores.pendentes().values()) == 2

    monkeypatch.setenv("DATABASE_URL", banco.url)
    configuracoes.cache_clear()
    assert contadores.descarregar() == 2
    assert contadores.pendentes() == {}
    assert _por_nome(empresa.id) == {"jobs_uncertain": 2}


def test_empresa_excluida_nao_trava_as_outras(banco) -> None:
    empresa = criar_empresa()
    contadores.somar(contadores.ENVIADOS, "empresa-que-nao-existe")
    contadores.somar(contadores.ENVIADOS, empresa.id, 3)

    assert contadores.descarregar() == 3
    assert contadores.pendentes() == {}  # the ghost company's count is dropped, not retried
    assert _por_nome(empresa.id) == {"jobs_sent": 3}


def test_contagem_da_transacao_so_vale_se_confirmada(banco) -> None:
    empresa = criar_empresa()
    with db.sessao() as s:
        contadores.somar(contadores.CANCELADOS_RESPOSTA, empresa.id, 2, sessao=s)
        assert contadores.pendentes() == {}  # nothing before the commit
    assert _por_nome(empresa.id) == {"jobs_cancelados_resposta": 2}  # written at the commit

    with pytest.raises(RuntimeError), db.sessao() as s:
        contadores.somar(contadores.CANCELADOS_OPTOUT, empresa.id, 5, sessao=s)
        raise RuntimeError("rollback")
    assert contadores.pendentes() == {}
    assert _por_nome(empresa.id) == {"jobs_cancelados_resposta": 2}


@pytest.fixture
def servidor() -> Iterator[ServidorContador]:
    with ServidorContador() as s:
        yield s


def test_despacho_agendamento_e_resposta_contam_na_tabela(banco, servidor, monkeypatch) -> None:
    monkeypatch.setenv("DESPACHO_MSGS_POR_SEGUNDO", "80")
    configuracoes.cache_clear()
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0, 600))
    lead = criar_lead(empresa)
    mover(empresa, lead, 1)  # two steps scheduled
    mover(empresa, lead, 0)  # left the stage: cancelled
    mover(empresa, lead, 1)  # same keys again (uma_vez): both refused
    assert _por_nome(empresa.id) == {"jobs_duplicate_blocked": 2}

    outro = criar_lead(empresa, nome="João", telefone="+5511912345678")
    mover(empresa, outro, 1)
    resumo = automacoes.processar_agendamentos_follow_up_whatsapp(
        id_empresa=empresa.id, fabrica_provedor=lambda _i: ProvedorTeste(servidor.url)
    )
    assert resumo["claimed"] == resumo["sent"] == 1  # the first step of João; Maria's are gone

    with db.sessao() as s:
        cancelados = automacoes.cancelar_por_resposta(
            sessao=s, id_empresa=empresa.id, id_lead=outro
        )
    assert cancelados == 1  # João's second step
    assert _por_nome(empresa.id) == {
        "jobs_duplicate_blocked": 2,
        "jobs_claimed": 1,
        "jobs_sent": 1,
        "jobs_cancelados_resposta": 1,
    }
    assert contadores.pendentes() == {}


def test_reaper_conta_recuperados_e_incertos(banco, servidor) -> None:
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0,))
    parado, enviando = criar_lead(empresa), criar_lead(empresa, telefone="+5511912345678")
    mover(empresa, parado, 1)
    mover(empresa, enviando, 1)
    inicio = agora()
    with db.sessao() as s:
        ids = dict(
            s.execute(
                sa.select(WhatsappAutomacaoAgendamento.id_lead, WhatsappAutomacaoAgendamento.id)  # type: ignore[call-overload]
            ).all()
        )
        # Both claimed by a dispatcher that died; one had started its send.
        for id_lead, iniciado in ((parado, None), (enviando, inicio)):
            s.execute(
                sa.update(WhatsappAutomacaoAgendamento)
                .where(WhatsappAutomacaoAgendamento.id == ids[id_lead])  # type: ignore[arg-type]
                .values(
                    status="PROCESSANDO",
                    claimed_by="morto:1",
                    claimed_at=inicio,
                    batimento_em=inicio,
                    envio_iniciado_em=iniciado,
                    tentativas=1,
                )
            )
    with time_machine.travel(inicio + timedelta(minutes=10), tick=False):
        # The fake provider cannot confirm the started send: INCERTO.
        resultado = recuperacao.recuperar_reivindicacoes_vencidas(
            fabrica_provedor=lambda _i: ProvedorTeste(servidor.url)
        )
    assert resultado == {"pendentes": 1, "enviados": 0, "incertos": 1}
    assert _por_nome(empresa.id) == {"jobs_reaped": 2, "jobs_uncertain": 1}
    assert contadores.pendentes() == {}  # the pass wrote its counts
