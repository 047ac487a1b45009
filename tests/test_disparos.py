"""Manual dispatches ("Disparar agora"): the history row, rounds until nothing is due, a cancel
that reaches a running dispatch (unclaimed work stays, started sends finish), the REST routes."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from sqlmodel import col, select

from tests.factories import (
    agendar,
    comandos_sql,
    criar_automacao,
    criar_empresa,
    criar_instancia,
    criar_lead,
    login,
    mover,
    resumo_despacho,
)
from tests.provedor_falso import ProvedorSegurado, ProvedorTeste, ServidorContador
from tests.providers.falso import porta_fechada
from whatsapp_app import db, disparos, whatsapp_automations
from whatsapp_app.config import configuracoes
from whatsapp_app.models import WhatsappAutomacaoAgendamento, WhatsappDisparoManual
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import Conflito

ROTA_DISPARO = "/api/whatsapp/automations/follow-up/dispatch"


@pytest.fixture(autouse=True)
def _ritmo_alto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESPACHO_MSGS_POR_SEGUNDO", "80")
    configuracoes.cache_clear()


@pytest.fixture
def servidor():  # type: ignore[no-untyped-def]
    with ServidorContador() as s:
        yield s


def _jobs() -> list[WhatsappAutomacaoAgendamento]:
    with db.sessao() as s:
        return list(s.exec(select(WhatsappAutomacaoAgendamento)).all())


def _linha(id_disparo: str) -> WhatsappDisparoManual:
    with db.sessao() as s:
        linha = s.get(WhatsappDisparoManual, id_disparo)
        assert linha is not None
        return linha


def _iniciar(empresa: Any, nome_usuario: str | None = None) -> str:
    with db.sessao() as s:
        return disparos.iniciar_disparo(
            sessao=s, id_empresa=empresa.id, id_usuario=None, nome_usuario=nome_usuario
        ).id


def _em_segundo_plano(
    empresa: Any, id_disparo: str, provedor: ProvedorTeste
) -> tuple[threading.Thread, dict[str, Any]]:
    """``executar_disparo`` in a thread (not started); the dict gets its final row."""
    final: dict[str, Any] = {}
    execucao = threading.Thread(
        target=lambda: final.update(
            disparos.executar_disparo(
                id_empresa=empresa.id, id_disparo=id_disparo, fabrica_provedor=lambda _i: provedor
            )
        )
    )
    return execucao, final


def _gestor(empresa: Any) -> tuple[str | None, str]:
    return empresa.ids_usuarios["gestor"], "gestor a"


def test_disparo_roda_em_rodadas_e_soma_o_resumo_na_linha(banco, servidor, monkeypatch):
    monkeypatch.setenv("DESPACHO_LOTE", "2")
    configuracoes.cache_clear()
    empresa = criar_empresa()
    agendar(empresa, 5)
    id_usuario, nome = _gestor(empresa)

    disparo = disparos.disparar(
        id_empresa=empresa.id,
        id_usuario=id_usuario,
        nome_usuario=nome,
        fabrica_provedor=lambda _i: ProvedorTeste(servidor.url),
    )

    assert disparo["status"] == "CONCLUIDO"
    assert disparo["resumo"] == resumo_despacho(claimed=5, sent=5), (
        "three rounds of at most 2 claims, summed"
    )
    assert (disparo["id_usuario"], disparo["nome_usuario"]) == (id_usuario, "gestor a")
    assert disparo["concluido_em"] >= disparo["iniciado_em"]
    assert disparo["motivo_falha"] is None and disparo["cancelamento_solicitado_em"] is None
    assert Counter(j.status for j in _jobs()) == {"ENVIADO": 5}
    assert set(servidor.contagem.values()) == {1} and len(servidor.contagem) == 5
    assert _linha(disparo["id"]).resumo["sent"] == 5


def test_cancelar_no_meio_devolve_os_nao_iniciados_e_termina_os_iniciados(
    banco, cliente, servidor, monkeypatch
):
    monkeypatch.setenv("DESPACHO_CONCORRENCIA", "2")
    monkeypatch.setenv("DESPACHO_LOTE", "6")
    configuracoes.cache_clear()
    empresa = criar_empresa()
    agendar(empresa, 8)  # one round claims 6; 2 stay unclaimed
    devidos = {j.id: j.agendado_para for j in _jobs()}
    provedor = ProvedorSegurado(servidor.url)
    id_disparo = _iniciar(empresa, "gestor a")
    execucao, final = _em_segundo_plano(empresa, id_disparo, provedor)
    execucao.start()
    try:
        for _ in range(2):  # both sends in flight: their envio_iniciado_em is written
            assert provedor.em_voo.acquire(timeout=10), "os envios não começaram"
        gestor = login(cliente, empresa.usuarios["gestor"])
        resposta = cliente.post(f"/api/whatsapp/dispatches/{id_disparo}/cancelar", headers=gestor)
        assert resposta.status_code == 200, resposta.text
        assert resposta.json()["status"] == "EM_ANDAMENTO"
        assert resposta.json()["cancelamento_solicitado_em"] is not None
    finally:
        provedor.liberar.set()
        execucao.join(timeout=30)
    assert not execucao.is_alive()

    assert final["status"] == "CANCELADO" and final["motivo_falha"] is None
    assert (final["resumo"]["claimed"], final["resumo"]["sent"]) == (6, 2)
    jobs = _jobs()
    assert Counter(j.status for j in jobs) == {"ENVIADO": 2, "PENDENTE": 6}
    enviados = [j for j in jobs if j.status == "ENVIADO"]
    assert all(j.provider_message_id == f"msg-{j.id}" and j.tentativas == 1 for j in enviados)
    assert sorted(servidor.contagem) == sorted(j.id for j in enviados)
    for job in (j for j in jobs if j.status == "PENDENTE"):
        # Given back untouched: no attempt counted, no claim, no send, its own due time.
        assert (job.tentativas, job.claimed_by, job.envio_iniciado_em) == (0, None, None)
        assert job.agendado_para == devidos[job.id]

    again = cliente.post(f"/api/whatsapp/dispatches/{id_disparo}/cancelar", headers=gestor)
    assert again.status_code == 409
    assert again.json()["erro"]["mensagem"] == (
        "Este disparo já terminou (cancelado): não há o que cancelar."
    )


def test_cancelamento_de_outro_processo_chega_pelo_batimento(banco, servidor, monkeypatch):
    """A cancel written by another process (no notice in this one) reaches the run at its next
    heartbeat, the write that also stores the summary so far; the send threads never read or
    write the row (they only look at a flag)."""
    for nome, valor in {
        "DESPACHO_CONCORRENCIA": "2",
        "DESPACHO_LOTE": "6",
        "BATIMENTO_INTERVALO_S": "60",  # no heartbeat on its own during the test: we run it
        "BATIMENTO_PRAZO_S": "120",
    }.items():
        monkeypatch.setenv(nome, valor)
    monkeypatch.setattr(disparos, "INTERVALO_ACOMPANHAMENTO_S", 60.0)
    configuracoes.cache_clear()
    empresa = criar_empresa()
    agendar(empresa, 8)
    provedor = ProvedorSegurado(servidor.url)
    id_disparo = _iniciar(empresa)
    execucao, final = _em_segundo_plano(empresa, id_disparo, provedor)

    def da_linha_numa_thread_de_envio(sql: str) -> bool:
        envio = threading.current_thread().name.startswith("ThreadPoolExecutor")
        return envio and "whatsapp_disparo_manual" in sql

    with comandos_sql(da_linha_numa_thread_de_envio) as das_threads_de_envio:
        execucao.start()
        try:
            for _ in range(2):
                assert provedor.em_voo.acquire(timeout=10), "os envios não começaram"
            with db.sessao() as s:
                s.execute(
                    sa.update(WhatsappDisparoManual)
                    .where(col(WhatsappDisparoManual.id) == id_disparo)
                    .values(cancelamento_solicitado_em=agora())
                )
            acompanhamento = disparos._locais[id_disparo]
            assert acompanhamento() is False, "no notice in this process: not seen yet"
            assert _linha(id_disparo).resumo["claimed"] == 0
            acompanhamento.sincronizar()  # what the run's heartbeat thread does
            assert acompanhamento() is True
            assert (_linha(id_disparo).resumo["claimed"], _linha(id_disparo).resumo["sent"]) == (
                6,
                0,
            ), "the summary so far, written by the heartbeat"
        finally:
            provedor.liberar.set()
            execucao.join(timeout=30)
    assert not execucao.is_alive()

    assert final["status"] == "CANCELADO"
    assert (final["resumo"]["claimed"], final["resumo"]["sent"]) == (6, 2)
    assert Counter(j.status for j in _jobs()) == {"ENVIADO": 2, "PENDENTE": 6}
    assert das_threads_de_envio == []
    assert id_disparo not in disparos._locais, "the run is forgotten once it ended"


def test_cancelado_antes_de_comecar_nao_reivindica_nada(banco, servidor):
    empresa = criar_empresa()
    agendar(empresa, 3)
    id_disparo = _iniciar(empresa)
    pedidos = []
    for _ in range(2):  # asking twice is harmless: the first request's time is kept
        with db.sessao() as s:
            pedidos.append(
                disparos.solicitar_cancelamento(
                    sessao=s, id_empresa=empresa.id, id_disparo=id_disparo
                )
            )
    assert pedidos[0]["cancelamento_solicitado_em"] == pedidos[1]["cancelamento_solicitado_em"]
    assert pedidos[1]["status"] == "EM_ANDAMENTO"
    final = disparos.executar_disparo(
        id_empresa=empresa.id,
        id_disparo=id_disparo,
        fabrica_provedor=lambda _i: ProvedorTeste(servidor.url),
    )
    assert final["status"] == "CANCELADO" and final["resumo"]["claimed"] == 0
    assert Counter((j.status, j.tentativas) for j in _jobs()) == {("PENDENTE", 0): 3}
    assert servidor.contagem == {}


def test_provedor_fora_do_ar_termina_em_falhou_com_motivo(banco):
    empresa = criar_empresa()
    agendar(empresa, 2)
    url = f"http://127.0.0.1:{porta_fechada()}"
    final = disparos.disparar(
        id_empresa=empresa.id,
        id_usuario=None,
        nome_usuario=None,
        fabrica_provedor=lambda _i: ProvedorTeste(url),
    )
    assert final["status"] == "FALHOU"
    assert final["resumo"]["retried"] == 2 and final["resumo"]["sent"] == 0
    assert final["motivo_falha"] == (
        "Nenhum envio saiu: o provedor recusou ou não respondeu (2 tentativas). Último erro: "
        "Conexão recusada. Confira a conexão da instância e tente de novo."
    )
    assert Counter(j.status for j in _jobs()) == {"PENDENTE": 2}, "retried later, not lost"


def test_filtro_de_instancia_so_envia_daquela_instancia(banco, servidor):
    empresa = criar_empresa()
    uma, outra = criar_instancia(empresa), criar_instancia(empresa)
    agendar(empresa, 2, id_instancia=uma)
    criar_automacao(empresa, estagio=1, atrasos=(0,), id_instancia=outra)
    lead = criar_lead(empresa, nome="Outro", telefone="+5521987650000")
    mover(empresa, lead)
    # 2 leads moved before the second automation existed, the third fired both: 3 jobs on
    # "uma", 1 on "outra".
    final = disparos.disparar(
        id_empresa=empresa.id,
        id_usuario=None,
        nome_usuario=None,
        id_whatsapp_instancia=outra,
        fabrica_provedor=lambda _i: ProvedorTeste(servidor.url),
    )
    assert final["id_whatsapp_instancia"] == outra
    assert (final["resumo"]["claimed"], final["resumo"]["sent"]) == (1, 1)
    with db.sessao() as s:
        enviado = s.exec(
            select(WhatsappAutomacaoAgendamento).where(
                WhatsappAutomacaoAgendamento.status == "ENVIADO"
            )
        ).one()
    assert enviado.id_lead == lead
    assert Counter(j.status for j in _jobs()) == {"ENVIADO": 1, "PENDENTE": 3}


def test_rotas_historico_paginado_papeis_e_outra_empresa(banco, cliente, servidor, monkeypatch):
    monkeypatch.setattr(
        whatsapp_automations, "_fabrica_padrao", lambda _i: ProvedorTeste(servidor.url)
    )
    empresa = criar_empresa()
    agendar(empresa, 1)
    outra = criar_empresa("Outra", sufixo="b")
    gestor = login(cliente, empresa.usuarios["gestor"])
    vendedor = login(cliente, empresa.usuarios["vendedor"])
    gestor_b = login(cliente, outra.usuarios["gestor"])

    resumos = [cliente.post(ROTA_DISPARO, headers=gestor).json() for _ in range(3)]
    assert resumos[0] == resumo_despacho(claimed=1, sent=1), "the route still answers the summary"
    assert [r["claimed"] for r in resumos[1:]] == [0, 0]
    assert cliente.post(ROTA_DISPARO, headers=vendedor).status_code == 403

    pagina = cliente.get("/api/whatsapp/dispatches?limite=2", headers=vendedor).json()
    assert pagina["total"] == 3 and pagina["proximo_cursor"]
    seguinte = cliente.get(
        f"/api/whatsapp/dispatches?limite=2&cursor={pagina['proximo_cursor']}", headers=vendedor
    ).json()
    itens = pagina["itens"] + seguinte["itens"]
    assert seguinte["proximo_cursor"] is None and len(itens) == 3
    assert [i["resumo"]["sent"] for i in itens] == [0, 0, 1], "newest first"
    assert {(i["status"], i["nome_usuario"]) for i in itens} == {("CONCLUIDO", "gestor a")}
    assert {i["id_usuario"] for i in itens} == {empresa.ids_usuarios["gestor"]}

    id_disparo = itens[0]["id"]
    assert (
        cliente.get(f"/api/whatsapp/dispatches/{id_disparo}", headers=vendedor).json() == itens[0]
    )
    assert cliente.get("/api/whatsapp/dispatches", headers=gestor_b).json()["total"] == 0
    for cabecalho, status in ((gestor_b, 404), (vendedor, 403)):
        resposta = cliente.post(
            f"/api/whatsapp/dispatches/{id_disparo}/cancelar", headers=cabecalho
        )
        assert resposta.status_code == status
    estranho = cliente.get(f"/api/whatsapp/dispatches/{id_disparo}", headers=gestor_b)
    assert estranho.status_code == 404
    assert estranho.json()["erro"]["mensagem"] == "Disparo não encontrado."
    terminado = cliente.post(f"/api/whatsapp/dispatches/{id_disparo}/cancelar", headers=gestor)
    assert terminado.status_code == 409
    assert "já terminou (concluído)" in terminado.json()["erro"]["mensagem"]
    # Another company's instance as the filter: 404, and no history row is written.
    id_instancia_b = criar_instancia(outra)
    resposta = cliente.post(
        f"{ROTA_DISPARO}?id_whatsapp_instancia={id_instancia_b}", headers=gestor
    )
    assert resposta.status_code == 404
    assert resposta.json()["erro"]["mensagem"] == "Instância não encontrada."
    assert cliente.get("/api/whatsapp/dispatches", headers=gestor).json()["total"] == 3
    cursor_ruim = cliente.get("/api/whatsapp/dispatches?cursor=xx", headers=gestor)
    assert cursor_ruim.status_code == 422


def test_disparo_cujo_processo_morreu_fecha_como_falhou(banco):
    empresa = criar_empresa()
    with time_machine.travel(agora(), tick=False) as viagem:
        id_disparo = _iniciar(empresa)
        viagem.shift(timedelta(seconds=15))  # under BATIMENTO_PRAZO_S (20 s): still alive
        with db.sessao() as s:
            itens = disparos.pagina_disparos(sessao=s, id_empresa=empresa.id)["itens"]
        assert [i["status"] for i in itens] == ["EM_ANDAMENTO"]
        viagem.shift(timedelta(seconds=10))  # silent past the deadline: its process died
        with db.sessao() as s:
            item = disparos.pagina_disparos(sessao=s, id_empresa=empresa.id)["itens"][0]
        assert (item["status"], item["motivo_falha"]) == ("FALHOU", disparos.MOTIVO_ABANDONADO)
        assert item["concluido_em"] is not None
        with db.sessao() as s, pytest.raises(Conflito):
            disparos.solicitar_cancelamento(sessao=s, id_empresa=empresa.id, id_disparo=id_disparo)
