"""The batched dispatch pipeline (issue 11): a claimed batch loads its contexts in one query,
reserves each instance's slots in one statement, marks each group started in one statement and
writes its outcomes in one statement per outcome group, with every write conditional on the
claim."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from sqlmodel import select

from tests.factories import agendar, comandos_sql, criar_empresa
from whatsapp_app import db, despacho_lote
from whatsapp_app.config import configuracoes
from whatsapp_app.models import WhatsappAutomacaoAgendamento, WhatsappMensagem
from whatsapp_app.providers.base import Desfecho, ResultadoEnvio
from whatsapp_app.whatsapp_automations import processar_agendamentos_follow_up_whatsapp


@pytest.fixture(autouse=True)
def _ritmo_alto(monkeypatch):
    monkeypatch.setenv("DESPACHO_MSGS_POR_SEGUNDO", "80")
    configuracoes.cache_clear()


class ProvedorRoteiro:
    """Answers each send by the number's last digit: 6 retry, 7 error, 8 unknown, the rest
    accepted; ``ao_enviar`` runs before the answer (the send is in flight)."""

    def __init__(self, ao_enviar: Any = None) -> None:
        self.enviados: list[str] = []
        self._trava = threading.Lock()
        self._ao_enviar = ao_enviar

    def enviar_texto(self, *, numero_e164: str, texto: str, id_agendamento: str) -> ResultadoEnvio:
        with self._trava:
            self.enviados.append(id_agendamento)
        if self._ao_enviar is not None:
            self._ao_enviar(id_agendamento)
        digito = int(numero_e164[-1])
        if digito == 6:
            return ResultadoEnvio(Desfecho.RETENTAVEL, erro="tente depois", tentar_apos_s=60)
        if digito == 7:
            return ResultadoEnvio(Desfecho.PERMANENTE, erro="número inválido")
        if digito == 8:
            return ResultadoEnvio(Desfecho.DESCONHECIDO, erro="sem resposta")
        return ResultadoEnvio(Desfecho.ACEITO, provider_message_id=f"m-{id_agendamento}")


def _jobs() -> list[WhatsappAutomacaoAgendamento]:
    with db.sessao() as s:
        return list(s.exec(select(WhatsappAutomacaoAgendamento)).all())


def _mensagens() -> int:
    with db.sessao() as s:
        return len(s.exec(select(WhatsappMensagem)).all())


def _sobre(tabela: str, inicio: str) -> Any:
    return lambda sql: sql.lstrip().upper().startswith(inicio) and tabela in sql


def _set(comando: str) -> str:
    """The SET clause of an UPDATE."""
    return comando.split(" SET ", 1)[1].split(" WHERE ", 1)[0].split(" FROM ", 1)[0]


def test_um_lote_em_poucos_comandos(banco, monkeypatch):
    """20 jobs on 2 instances with mixed outcomes: 1 context query, 1 slot reservation for
    both instances, and, results written together, 1 statement per outcome group."""
    monkeypatch.setattr(despacho_lote, "DESCARGA_N", 1000)
    monkeypatch.setattr(despacho_lote, "DESCARGA_S", 30.0)  # one write, when the batch ends
    monkeypatch.setattr(despacho_lote, "ADIANTAMENTO_S", 1.0)
    agendar(criar_empresa(sufixo="a"), 10)
    agendar(criar_empresa(sufixo="b"), 10, telefone="+55219876{:05d}")
    provedor = ProvedorRoteiro()
    with comandos_sql() as comandos:
        resumo = processar_agendamentos_follow_up_whatsapp(fabrica_provedor=lambda _i: provedor)
    assert resumo["claimed"] == 20
    assert (resumo["sent"], resumo["retried"], resumo["failed"], resumo["uncertain"]) == (
        14,
        2,
        2,
        2,
    )
    contextos = [c for c in comandos if c.startswith("SELECT") and "JOIN lead" in c]
    assert len(contextos) == 1, "one query loads the contexts of the whole batch"
    reservas = [c for c in comandos if _sobre("whatsapp_instancia", "UPDATE")(c)]
    assert len(reservas) == 1, "one slot reservation for every instance of the batch"
    escritas = [
        c
        for c in comandos
        if _sobre("whatsapp_automacao_agendamento", "UPDATE")(c) and "ultimo_erro" in c
    ]
    assert len(escritas) == 4, "one outcome write per group: sent, retry, error, unknown"
    insercoes = [c for c in comandos if _sobre("whatsapp_mensagem", "INSERT")(c)]
    assert len(insercoes) == 1, "the sent messages join the conversation in one insert"
    marcas = [
        c
        for c in comandos
        if _sobre("whatsapp_automacao_agendamento", "UPDATE")(c)
        and "envio_iniciado_em" in _set(c)
        and "status" not in _set(c)
    ]
    assert 1 <= len(marcas) < 10, "started marks go by group, not by job"
    assert Counter(j.status for j in _jobs()) == {
        "ENVIADO": 14,
        "PENDENTE": 2,
        "ERRO": 2,
        "INCERTO": 2,
    }
    assert _mensagens() == 14
    assert all(j.envio_iniciado_em is not None for j in _jobs() if j.status == "ENVIADO")


def test_os_espacos_de_envio_sao_consecutivos(banco):
    """N slots reserved at once: the instance's next slot moves N intervals ahead."""
    from whatsapp_app.despacho_job import reservar_vagas
    from whatsapp_app.models import WhatsappInstancia

    agendar(criar_empresa(), 1)
    with db.sessao() as s:
        instancia = s.exec(select(WhatsappInstancia)).one()
    esperas = reservar_vagas({instancia.id: 5}, 10.0, 60.0)[instancia.id].esperas
    assert esperas[0] == pytest.approx(0.0, abs=0.05)
    assert [round(b - a, 3) for a, b in itertools.pairwise(esperas)] == [0.1] * 4
    seguintes = reservar_vagas({instancia.id: 2}, 10.0, 60.0)[instancia.id].esperas
    assert seguintes[0] == pytest.approx(0.5, abs=0.05), "after the 5 already taken"


def test_so_reserva_as_vagas_dentro_da_espera_maxima(banco):
    """At 10 msg/s with 1 s at most: 10 of 25 slots are booked and the instance's next slot
    moves 1 s; the next batch finds the horizon full and books nothing (no slot is booked to
    be given back, which would push every dispatcher's sends later for nothing)."""
    from whatsapp_app.despacho_job import reservar_vagas
    from whatsapp_app.models import WhatsappInstancia
    from whatsapp_app.tempo import agora

    agendar(criar_empresa(), 1)
    with db.sessao() as s:
        instancia = s.exec(select(WhatsappInstancia)).one()
    with time_machine.travel(agora(), tick=False):
        inicio = agora()
        reserva = reservar_vagas({instancia.id: 25}, 10.0, 1.0)[instancia.id]
        assert len(reserva.esperas) == 10 and reserva.proxima_s == pytest.approx(1.0)
        with db.sessao() as s:
            proximo = s.exec(select(WhatsappInstancia)).one().proximo_envio_em
        assert (proximo - inicio).total_seconds() == pytest.approx(1.0)
        cheia = reservar_vagas({instancia.id: 5}, 10.0, 1.0)[instancia.id]
        assert cheia.esperas == [] and cheia.proxima_s == pytest.approx(1.0)
        with db.sessao() as s:
            assert s.exec(select(WhatsappInstancia)).one().proximo_envio_em == proximo
    with time_machine.travel(inicio + timedelta(seconds=0.5), tick=False):
        metade = reservar_vagas({instancia.id: 25}, 10.0, 1.0)[instancia.id]
        assert len(metade.esperas) == 5, "half a second later, half a second of slots is free"
        assert metade.esperas[0] == pytest.approx(0.5)


def test_vagas_de_varias_instancias_numa_reserva(banco):
    """One reservation for a batch's instances: each instance's slots start from its own next
    slot, and an instance whose row is gone is left out (its jobs go to the reaper)."""
    from whatsapp_app.despacho_job import reservar_vagas
    from whatsapp_app.models import WhatsappInstancia

    agendar(criar_empresa(sufixo="a"), 1)
    agendar(criar_empresa(sufixo="b"), 1, telefone="+55219876{:05d}")
    with db.sessao() as s:
        a, b = sorted(i.id for i in s.exec(select(WhatsappInstancia)))
    reservar_vagas({a: 3}, 10.0, 60.0)
    reservas = reservar_vagas({b: 2, a: 2, "sumiu": 4}, 10.0, 60.0)
    assert set(reservas) == {a, b}
    assert reservas[a].esperas[0] == pytest.approx(0.3, abs=0.05), "after a's 3 already taken"
    assert reservas[b].esperas[0] == pytest.approx(0.0, abs=0.05)
    assert [round(y - x, 3) for x, y in itertools.pairwise(reservas[a].esperas)] == [0.1]


def test_reservas_concorrentes_nao_perdem_vagas_nem_travam(banco_postgres):
    """8 threads, each reserving 40 times over overlapping sets of 5 instances given in random
    order, beside 4 threads that take key-share locks on the instances in random order (what
    inserting conversation messages does, through their foreign key): no deadlock (rows are
    locked in id order, and not against key-share), and no slot is lost: each instance's next
    slot moved by exactly the slots taken from it."""
    import random
    from concurrent.futures import ThreadPoolExecutor

    from whatsapp_app.despacho_job import reservar_vagas
    from whatsapp_app.models import WhatsappInstancia
    from whatsapp_app.tempo import agora

    for i in range(5):
        agendar(criar_empresa(sufixo=f"r{i}"), 1, telefone=f"+55{21 + i}9876{{:05d}}")
    with db.sessao() as s:
        ids = [i.id for i in s.exec(select(WhatsappInstancia))]
    inicio = agora()
    tomadas: Counter[str] = Counter()
    trava = threading.Lock()

    def reservar(semente: int) -> None:
        sorte = random.Random(semente)
        for _ in range(40):
            escolhidas = sorte.sample(ids, 3)
            pedido = {i: sorte.randint(1, 4) for i in escolhidas}
            reservar_vagas(pedido, 0.5, 1e6)  # 2 s per slot, no cap: every slot asked is taken
            with trava:
                tomadas.update(pedido)

    def compartilhar(semente: int) -> None:
        sorte = random.Random(semente)
        for _ in range(60):
            with db.sessao() as s:
                for id_instancia in sorte.sample(ids, 3):
                    s.execute(
                        sa.select(WhatsappInstancia.id)
                        .where(WhatsappInstancia.id == id_instancia)
                        .with_for_update(read=True, key_share=True)
                    )

    with ThreadPoolExecutor(12) as pool:
        futuros = [pool.submit(reservar, i) for i in range(8)]
        futuros += [pool.submit(compartilhar, 100 + i) for i in range(4)]
        for futuro in futuros:
            futuro.result()
    with db.sessao() as s:
        proximos = {i.id: i.proximo_envio_em for i in s.exec(select(WhatsappInstancia))}
    for id_instancia in ids:
        segundos = (proximos[id_instancia] - inicio).total_seconds()
        assert segundos == pytest.approx(2 * tomadas[id_instancia], abs=2), id_instancia


def test_claim_retomado_durante_o_envio_nao_e_sobrescrito(banco, monkeypatch):
    """A claim the reaper took over while its send was in flight keeps the reaper's state; the
    batch's other outcomes in the same statement are written."""
    monkeypatch.setattr(despacho_lote, "DESCARGA_N", 1000)
    monkeypatch.setattr(despacho_lote, "DESCARGA_S", 30.0)
    agendar(criar_empresa(), 4)
    alvo: list[str] = []

    def tomar(id_agendamento: str) -> None:
        if alvo:
            return
        alvo.append(id_agendamento)
        t = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]
        with db.sessao() as s:
            s.execute(
                sa.update(t).where(t.c.id == id_agendamento).values(claimed_by="reaper:outro")
            )

    provedor = ProvedorRoteiro(ao_enviar=tomar)
    resumo = processar_agendamentos_follow_up_whatsapp(fabrica_provedor=lambda _i: provedor)
    assert resumo["sent"] == 3
    por_id = {j.id: j for j in _jobs()}
    tomado = por_id[alvo[0]]
    assert (tomado.status, tomado.claimed_by) == ("PROCESSANDO", "reaper:outro")
    assert tomado.provider_message_id is None and tomado.envio_iniciado_em is not None
    assert Counter(j.status for j in por_id.values()) == {"ENVIADO": 3, "PROCESSANDO": 1}
    assert _mensagens() == 3, "no message for the send whose claim was lost"


def test_parada_depois_da_marca_devolve_sem_marca(banco, monkeypatch):
    """A stop after a group was marked started and before its sends began: each job goes back
    to PENDENTE with the mark cleared (not an attempt, nothing sent)."""
    agendar(criar_empresa(), 3)
    parar = threading.Event()
    marcar = despacho_lote.marcar_iniciados

    def marcar_e_parar(ids: list[str], worker_id: str) -> set[str]:
        marcados = marcar(ids, worker_id)
        parar.set()
        return marcados

    monkeypatch.setattr(despacho_lote, "marcar_iniciados", marcar_e_parar)
    provedor = ProvedorRoteiro()
    resumo = processar_agendamentos_follow_up_whatsapp(
        fabrica_provedor=lambda _i: provedor, deve_parar=parar.is_set
    )
    assert resumo["claimed"] == 3 and resumo["sent"] == 0
    assert provedor.enviados == []
    for job in _jobs():
        assert (job.status, job.envio_iniciado_em, job.claimed_by, job.tentativas) == (
            "PENDENTE",
            None,
            None,
            0,
        )


def test_marca_so_os_claims_mantidos(banco, monkeypatch):
    """A job whose claim was taken back before its group was marked is not sent."""
    agendar(criar_empresa(), 3)
    marcar = despacho_lote.marcar_iniciados
    tomado: list[str] = []

    def tomar_e_marcar(ids: list[str], worker_id: str) -> set[str]:
        if not tomado:
            tomado.append(ids[0])
            t = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]
            with db.sessao() as s:
                s.execute(sa.update(t).where(t.c.id == ids[0]).values(claimed_by="reaper:x"))
        return marcar(ids, worker_id)

    monkeypatch.setattr(despacho_lote, "marcar_iniciados", tomar_e_marcar)
    provedor = ProvedorRoteiro()
    resumo = processar_agendamentos_follow_up_whatsapp(fabrica_provedor=lambda _i: provedor)
    assert resumo["sent"] == 2
    assert tomado[0] not in provedor.enviados and len(provedor.enviados) == 2
    por_id = {j.id: j for j in _jobs()}
    assert por_id[tomado[0]].envio_iniciado_em is None
    assert por_id[tomado[0]].claimed_by == "reaper:x"


def test_resultados_gravados_antes_do_fim_do_lote(banco, monkeypatch):
    """Outcomes are written as they come back, not when the whole batch is done: a crash
    loses at most the sends in flight."""
    monkeypatch.setenv("DESPACHO_MSGS_POR_SEGUNDO", "20")
    configuracoes.cache_clear()
    agendar(criar_empresa(), 6)
    vistos: list[int] = []

    def contar_enviados(_id: str) -> None:
        vistos.append(sum(1 for j in _jobs() if j.status == "ENVIADO"))

    provedor = ProvedorRoteiro(ao_enviar=contar_enviados)
    resumo = processar_agendamentos_follow_up_whatsapp(fabrica_provedor=lambda _i: provedor)
    assert resumo["sent"] == 6
    assert vistos[-1] >= 3, f"earlier outcomes were already committed: {vistos}"


def test_linha_ocupada_e_gravada_sozinha_depois(banco_postgres):
    """PostgreSQL: a group's write skips a row another transaction holds (it never holds some
    rows while it waits for others, so it cannot deadlock with another many-row write, e.g.
    the reaper's), then writes that row alone once it is free."""
    from whatsapp_app.despacho_job import Resultado, registrar_resultados
    from whatsapp_app.envio import Saida, consultar_contextos
    from whatsapp_app.reivindicacao import ResumoDespacho, reivindicar

    agendar(criar_empresa(), 3)
    resumo = ResumoDespacho()
    with db.sessao() as s:
        jobs = reivindicar(s, id_empresa=None, limite=10, worker_id="w:1", resumo=resumo)
    assert len(jobs) == 3
    with db.sessao() as s:
        ctx = consultar_contextos(s, {j.id: j.id_empresa for j in jobs})
    t = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]
    preso, solto = threading.Event(), threading.Event()

    def segurar() -> None:
        with db.engine().connect() as c, c.begin():
            c.execute(sa.select(t.c.id).where(t.c.id == jobs[0].id).with_for_update())
            preso.set()
            solto.wait(10)

    outro = threading.Thread(target=segurar)
    outro.start()
    assert preso.wait(10)
    resultados = [
        Resultado(
            j,
            ResultadoEnvio(Desfecho.ACEITO, provider_message_id=f"m-{j.id}"),
            1.0,
            Saida(ctx[j.id].instancia.id, ctx[j.id].id_lead, ctx[j.id].telefone, "oi"),
        )
        for j in jobs
    ]
    threading.Timer(0.3, solto.set).start()
    with comandos_sql(_sobre("whatsapp_automacao_agendamento", "UPDATE")) as comandos:
        registrar_resultados(resultados, "w:1", resumo)
    outro.join(10)
    assert len(comandos) == 2, "the group (2 rows), then the busy row alone"
    assert resumo.sent == 3
    assert {j.status for j in _jobs()} == {"ENVIADO"}
    assert _mensagens() == 3


def test_numero_lento_so_reserva_o_que_sai_no_prazo(banco, monkeypatch):
    """A slow number (0.05 msg/s: one slot every 20 s) with a batch of 5: only the 3 slots that
    fall within ESPERA_MAXIMA_VAGA_S (60 s) are booked; the other 2 go back, not an attempt,
    due when those 3 slots are used up, and leave the instance's next slot untouched."""
    from whatsapp_app.models import WhatsappInstancia
    from whatsapp_app.tempo import agora

    monkeypatch.setenv("DESPACHO_MSGS_POR_SEGUNDO", "0.05")
    configuracoes.cache_clear()
    agendar(criar_empresa(), 5)
    parar = threading.Event()
    provedor = ProvedorRoteiro(ao_enviar=lambda _id: parar.set())  # stop after the first send
    inicio = agora()
    resumo = processar_agendamentos_follow_up_whatsapp(
        fabrica_provedor=lambda _i: provedor, deve_parar=parar.is_set
    )
    fim = agora()
    assert (resumo["claimed"], resumo["sent"]) == (5, 1)
    with db.sessao() as s:
        proximo = s.exec(select(WhatsappInstancia)).one().proximo_envio_em
    assert inicio.timestamp() + 60 <= proximo.timestamp() <= fim.timestamp() + 60, "3 x 20 s"
    pendentes = [j for j in _jobs() if j.status == "PENDENTE"]
    assert len(pendentes) == 4 and all(j.tentativas == 0 for j in pendentes)
    adiados = [j for j in pendentes if j.agendado_para.timestamp() >= inicio.timestamp() + 59]
    assert len(adiados) == 2, "the 2 beyond the booked slots, due once they are used up"


def test_vagas_nunca_alem_do_prazo_da_reivindicacao(monkeypatch):
    """A batch books slots at most 60 s ahead, and never past what a claim may live (the
    claim's deadline minus the send's timeout): a claim that waited for its slot still ends
    before the reaper's deadline for every claim."""
    from whatsapp_app.despacho_job import espera_maxima_vaga_s

    configuracoes.cache_clear()
    assert espera_maxima_vaga_s() == 60.0, "defaults: 300 s deadline, 30 s timeout"
    monkeypatch.setenv("PRAZO_REIVINDICACAO_S", "12")
    monkeypatch.setenv("PROVEDOR_TIMEOUT_S", "10")
    configuracoes.cache_clear()
    assert espera_maxima_vaga_s() == 2.0
