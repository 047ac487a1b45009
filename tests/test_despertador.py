"""Wake-up (``despertador``): a job due now reaches an idle dispatcher at commit, not at the tick.

PostgreSQL: ``pg_notify`` inside the scheduling transaction, heard by a LISTEN connection.
SQLite: an in-process poke after the commit. A rolled-back move wakes nobody.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.factories import criar_automacao, criar_empresa, criar_lead, mover
from whatsapp_app import agendador, db, despertador
from whatsapp_app.config import configuracoes
from whatsapp_app.models import WhatsappAutomacaoAgendamento
from whatsapp_app.simulador.servidor import iniciar_em_thread

PRAZO_S = 20.0


class Contador:
    def __init__(self) -> None:
        self.evento = threading.Event()

    def __call__(self) -> None:
        self.evento.set()


def _ouvidos(ouvinte: despertador.Ouvinte) -> list[str]:
    """Every notice the listener heard so far, in order. On PostgreSQL a sentinel notice goes
    last and is awaited (notices arrive in commit order, so all earlier ones are in); SQLite's
    pokes are synchronous with the commit."""
    with db.sessao() as s:
        if not db.eh_postgres(s):
            return list(ouvinte.avisos)
        s.execute(sa.select(sa.func.pg_notify(despertador.CANAL, "fim")))
    fim = time.monotonic() + PRAZO_S
    while "fim" not in ouvinte.avisos:
        assert time.monotonic() < fim, "the sentinel notice arrived"
        time.sleep(0.02)
    avisos = list(ouvinte.avisos)
    ouvinte.avisos.clear()
    return avisos[: avisos.index("fim")]


def test_aviso_chega_no_commit_e_nunca_de_um_rollback(banco) -> None:  # type: ignore[no-untyped-def]
    contador = Contador()
    ouvinte = despertador.Ouvinte(contador).iniciar()
    try:
        assert ouvinte.pronto.wait(PRAZO_S)
        with pytest.raises(RuntimeError), db.sessao() as s:
            despertador.avisar(s)
            raise RuntimeError("a move that fails after scheduling")
        assert _ouvidos(ouvinte) == [], "a rolled-back transaction wakes nobody"
        with db.sessao() as s:
            despertador.avisar(s)
            despertador.avisar(s)  # twice in one transaction: one wake-up
        assert _ouvidos(ouvinte) == [""]
        assert contador.evento.is_set(), "each notice heard calls the wake-up"
    finally:
        ouvinte.parar()


def test_mover_com_etapa_imediata_acorda_o_ouvinte(banco) -> None:  # type: ignore[no-untyped-def]
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(60,))  # not due now: no wake-up
    lead = criar_lead(empresa)
    contador = Contador()
    ouvinte = despertador.Ouvinte(contador).iniciar()
    try:
        assert ouvinte.pronto.wait(PRAZO_S)
        mover(empresa, lead, 1)
        assert _ouvidos(ouvinte) == [], "a job due in an hour wakes nobody"
        criar_automacao(empresa, estagio=2, atrasos=(0, 60))
        mover(empresa, lead, 2)
        assert _ouvidos(ouvinte) == [""], "the move that scheduled a job due now woke it, once"
        assert contador.evento.is_set()
    finally:
        ouvinte.parar()


def test_agendador_envia_etapa_imediata_sem_esperar_o_tick(banco, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With a one-hour tick, the 0-minute step still goes out: the move woke the scheduler."""
    with iniciar_em_thread(criar_sob_demanda=True) as simulador:
        monkeypatch.setenv("SIMULADOR_PORT", str(simulador.porta))
        monkeypatch.setenv("AGENDADOR_INTERVALO_S", "3600")
        monkeypatch.setenv("REAPER_INTERVALO_S", "3600")
        monkeypatch.setenv("CONECTIVIDADE_INTERVALO_S", "3600")
        configuracoes.cache_clear()
        empresa = criar_empresa()
        criar_automacao(empresa, estagio=1, atrasos=(0,))
        lead = criar_lead(empresa)
        rodadas_antes = agendador.estado["rodadas"]
        tarefas = agendador.criar_agendador()
        tarefas.start()
        try:
            fim = time.monotonic() + PRAZO_S
            while agendador.estado["rodadas"] == rodadas_antes:  # the start's own first round
                assert time.monotonic() < fim, "the scheduler ran its first round"
                time.sleep(0.05)
            mover(empresa, lead)
            while _status() != {"ENVIADO": 1}:
                assert time.monotonic() < fim, f"the job went out without a tick: {_status()}"
                time.sleep(0.05)
        finally:
            agendador.parar_agendador(tarefas)
            from whatsapp_app import despacho_controle

            despacho_controle.retomar()
        assert simulador.simulador.contagem()["total"] == 1


def _status() -> Counter[str]:
    with db.sessao() as s:
        return Counter(s.exec(select(WhatsappAutomacaoAgendamento.status)).all())
