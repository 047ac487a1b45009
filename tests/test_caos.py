"""Acceptance and chaos for the dispatcher (issue 4), with real OS processes end to end.

Every scenario runs ``python -m whatsapp_app.worker`` subprocesses, the REST API served by
granian (both dispatch entry points, called concurrently), and the built-in simulator as a
subprocess (``python -m whatsapp_app.simulador``), all on loopback, on the ``banco`` database.
The simulator's inbox is the ground truth for "sent": its ``/__sim/contagem`` counts messages
per ``(instance, number, text)``, and every seeded job has its own number, so a count of 2 is a
job sent twice.

How ``jobs_claimed`` is checked (acceptance, no injected faults): each job is claimed once plus
once per logged event that rightly hands it back (a retryable outcome, nothing sent, or the
reaper returning a silent owner's claim), checked per job against ``tentativas`` in the database
(each claim adds one); and two independent totals must agree with that: the ``jobs_claimed``
counter summed over every process by ``GET /api/metrics`` (``PROMETHEUS_MULTIPROC_DIR`` shared
by the workers and the API), and the workers' ``claim`` log lines plus the ``claimed`` of the
HTTP summaries. On a quiet machine there is no such event and every count equals the jobs; a
loaded CI machine once produced 165 extra claims of 2,000, all sent exactly once.

Every wait polls a condition against a deadline; every subprocess is killed in a ``finally``.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.caos_apoio import (
    STATUS_FINAIS,
    TOKEN_INTERNO,
    ChamadasParalelas,
    Frota,
    ServidorApi,
    Simulador,
    ambiente,
    esperar,
)
from tests.caos_dados import contar_status, inbox_por_chave, linhas_jobs, semear

ROTA_MANUAL = "/api/whatsapp/automations/follow-up/dispatch"
ROTA_INTERNA = "/api/internal/whatsapp/follow-up/dispatch"
CHAVES_RESUMO = {
    "claimed",
    "sent",
    "failed",
    "retried",
    "uncertain",
    "skipped_already_claimed",
    "cancelled",
}
N_WORKERS = 8
# The in-app scheduler's deployment: Reflex backends (about 250 MB and 3 s to start each), so
# fewer of them; each runs the same scheduler, dispatcher and reaper as a worker.
N_APPS = 4
DISPATCHERS = {"worker": N_WORKERS, "app": N_APPS}
# 4 x 40 msg/s: the 2,000 jobs take 12 s or more to go out, so the kill schedule (every 0.3-1.5 s)
# lands its SIGKILLs while work is in hand however fast the dispatcher itself is.
N_INSTANCIAS = 4
MSGS_POR_SEGUNDO = 40
SEMENTE = 20240611


# SQLite (one file lock for every write) drains the full load about as fast as PostgreSQL here
# (~20 s of dispatch), so both engines run the same 2,000 jobs: no smaller SQLite variant.
N_JOBS = 2000


class Cenario:
    """Simulator + API + a fleet of dispatchers (``implantacao``: standalone workers, or app
    processes running the in-app scheduler) for one test; ``fechar`` kills everything."""

    def __init__(self, banco: Any, pasta: Path, implantacao: str = "worker", **config: Any) -> None:
        self.n = DISPATCHERS[implantacao]
        self.sim: Simulador | None = None
        self.api: ServidorApi | None = None
        self.frota: Frota | None = None
        try:
            self.sim = Simulador(pasta)
            prometheus = pasta / "prometheus"
            prometheus.mkdir()
            self.env = ambiente(
                banco.url,
                self.sim.porta,
                prometheus_multiproc_dir=prometheus,
                agendador_intervalo_s=0.2,
                despacho_msgs_por_segundo=MSGS_POR_SEGUNDO,
                # 8 workers + the API on one PostgreSQL (max_connections=100): the wake-up's
                # LISTEN connection per worker pushed CI over it ("too many clients"). The tick
                # here is 0.2 s, so the wake-up adds nothing this suite proves; its own tests
                # are tests/test_despertador.py.
                despertador_ativo="false",
                **config,
            )
            self.api = ServidorApi(pasta, self.env)
            self.frota = Frota(pasta, self.env, self.n, implantacao)
        except BaseException:
            self.fechar()
            raise

    def chamadas_http(self, email_gestor: str) -> ChamadasParalelas:
        """4 concurrent calls to each dispatch entry point."""
        assert self.api is not None
        gestor = {"Authorization": f"Bearer {self.api.token_gestor(email_gestor)}"}
        interno = {"Authorization": f"Bearer {TOKEN_INTERNO}"}
        return ChamadasParalelas(
            self.api.url, [(ROTA_MANUAL, gestor)] * 4 + [(ROTA_INTERNA, interno)] * 4
        )

    def iniciar_workers(self, enquanto_iniciam: Callable[[], Any] = lambda: None) -> None:
        assert self.frota is not None
        self.frota.iniciar()
        enquanto_iniciam()
        frota = self.frota
        esperar(
            lambda: frota.prontos() >= self.n,
            limite_s=90,
            oque="os despachantes iniciarem",
        )

    def fechar(self) -> None:
        for parte in (self.frota, self.api, self.sim):
            if parte is not None:
                parte.fechar()


def _resumos(respostas: list[Any]) -> list[dict[str, int]]:
    for r in respostas:
        assert r.status_code == 200, r.text
        assert set(r.json()) == CHAVES_RESUMO, r.json()
    return [r.json() for r in respostas]


def test_aceitacao_8_workers_e_http_enviam_cada_job_uma_vez(banco, tmp_path):
    n = N_JOBS
    semeadura = semear(n, n_instancias=N_INSTANCIAS)
    cenario = None
    try:
        cenario = Cenario(banco, tmp_path)
        assert cenario.sim and cenario.api and cenario.frota
        # Workers and HTTP calls start together: they race for the same due jobs.
        chamadas: list[ChamadasParalelas] = []
        cenario.iniciar_workers(
            lambda: chamadas.append(cenario.chamadas_http(semeadura.email_gestor))
        )
        resumos = _resumos(chamadas[0].resultado(limite_s=180))
        esperar(
            lambda: not {"PENDENTE", "PROCESSANDO"} & set(contar_status()),
            limite_s=150,
            intervalo_s=0.25,
            oque="todos os jobs saírem de PENDENTE/PROCESSANDO",
            diagnostico=contar_status,
        )
        avisos = cenario.frota.avisos() + Counter(_avisos_api(tmp_path))
        assert contar_status() == {"ENVIADO": n}, avisos
        codigos = cenario.frota.parar()
        assert codigos == [0] * N_WORKERS, "SIGTERM: every worker exits 0"

        contagem = cenario.sim.contagem()
        esperado = {j.chave_inbox for j in semeadura.jobs}
        recebido = {(m["instance"], m["number"], m["text"]) for m in contagem["por_mensagem"]}
        assert contagem["duplicadas"] == []
        assert contagem["total"] == n and recebido == esperado, "every job sent exactly once"

        # One claim per job, unless the logs explain the extra one: a retryable outcome
        # (nothing was sent: e.g. a connect timeout on a loaded machine) or the reaper giving
        # back a claim whose owner fell silent. Every claim is accounted for, per job.
        registros = _registros(cenario, tmp_path)
        explicadas = _reclamacoes_explicadas(registros)
        linhas = linhas_jobs()
        sem_explicacao = {
            j["id"]: j["tentativas"] for j in linhas if j["tentativas"] != 1 + explicadas[j["id"]]
        }
        assert not sem_explicacao, _historia(registros, sem_explicacao)
        extras = sum(explicadas.values())
        claims_workers = cenario.frota.linhas_log("claim")
        claims_http = sum(r["claimed"] for r in resumos)
        assert claims_http > 0, "the HTTP entry points took part"
        assert len(claims_workers) + claims_http == n + extras
        assert cenario.api.metrica("jobs_claimed") == n + extras
        assert cenario.api.metrica("jobs_sent") == n
        assert sum(r["sent"] for r in resumos) + len(_enviados_nos_logs(cenario.frota)) == n
        assert cenario.frota.erros_nos_logs() == []
    finally:
        if cenario is not None:
            cenario.fechar()


def _avisos_api(pasta: Path) -> list[str]:
    return [
        f"api: {r.get('message')} {r.get('erro', '')}"
        for r in Frota._registros(pasta / "api.log")
        if r.get("nivel") in ("WARNING", "ERROR")
    ]


def _registros(cenario: Cenario, pasta: Path) -> list[dict[str, Any]]:
    """Every JSON log record of the scenario: all worker incarnations and the API."""
    assert cenario.frota is not None
    registros = [r for e in cenario.frota.todas for r in Frota._registros(e.log)]
    return registros + Frota._registros(pasta / "api.log")


def _reclamacoes_explicadas(registros: list[dict[str, Any]]) -> Counter[str]:
    """Per job, the logged events after which it is rightly claimed again."""
    explicadas: Counter[str] = Counter()
    for r in registros:
        mensagem = r.get("message")
        retentavel = (
            mensagem == "resultado do envio" and r.get("desfecho") == "retentavel" and r["gravado"]
        )
        devolvido = mensagem == "reaper: devolvido a PENDENTE" or (
            mensagem == "reaper: reconciliado" and r.get("desfecho") == "pendentes"
        )
        if retentavel or devolvido:
            explicadas[r["id_agendamento"]] += 1
    return explicadas


def _historia(registros: list[dict[str, Any]], tentativas: dict[str, int]) -> str:
    """Diagnostics: what the logs say about the jobs whose claims are not explained."""
    eventos = Counter(
        f"{r.get('message')} {r.get('desfecho', '')}".strip()
        for r in registros
        if r.get("id_agendamento") in tentativas
    )
    return f"{len(tentativas)} jobs with unexplained claims ({tentativas}); their log: {eventos}"


def _enviados_nos_logs(frota: Frota) -> list[dict[str, Any]]:
    return [
        r
        for r in frota.linhas_log("resultado do envio")
        if r["desfecho"] == "aceito" and r["gravado"]
    ]


# --- chaos ---------------------------------------------------------------------------------

# The client timeout must stay well above a normal send's time on a loaded 2-core machine, or a
# slow answer becomes an INCERTO that no injected fault explains (seen at 1 s).
PROVEDOR_TIMEOUT_S = 3.0
PRAZO_S = 3.5  # PRAZO_REIVINDICACAO_S: longer than the provider timeout
CAOS = {
    "provedor_timeout_s": PROVEDOR_TIMEOUT_S,
    "prazo_reivindicacao_s": PRAZO_S,
    "despacho_backoff_base_s": 0.2,
    "despacho_backoff_max_s": 1.0,
    "despacho_max_tentativas": 6,
    # Workers run the reaper too (every second), and take back a silent sibling's claims.
    "batimento_intervalo_s": 1.0,
    "batimento_prazo_s": 3.0,
    "reaper_intervalo_s": 1.0,
}
FALHAS = {
    "semente": SEMENTE,
    "latencia_ms": 20,  # sends are in flight long enough for a SIGKILL to land mid-request
    "taxa_429": 0.04,
    "taxa_500": 0.04,
    "taxa_timeout": 0.015,
    "taxa_queda": 0.02,  # dropped connection, before or after storing the message
    "timeout_s": PROVEDOR_TIMEOUT_S + 0.5,  # a "timeout" answers after the client gave up
}
FALHAS_INCERTAS = {"timeout_apos_envio", "queda_apos_envio"}
MAX_MORTES = 12
CAOS_S = 20.0
MAX_RODADAS_DRENAGEM = 4


def _de_processo(claimed_by: str | None, processos: set[str]) -> bool:
    """``claimed_by`` is ``host:pid`` or ``host:pid:<round>``: does it name one of these?"""
    return any(claimed_by == p or (claimed_by or "").startswith(f"{p}:") for p in processos)


def _processando_so_de_mortos(mortos: set[str]) -> Any:
    """Nothing left to claim now or soon, and every claim left belongs to a killed worker."""
    linhas = [j for j in linhas_jobs() if j["status"] in ("PENDENTE", "PROCESSANDO")]
    if any(j["status"] == "PENDENTE" for j in linhas):
        return False
    return all(_de_processo(j["claimed_by"], mortos) for j in linhas)


@pytest.mark.parametrize("implantacao", ["worker", "app"])
def test_caos_sigkill_e_falhas_nao_duplicam_nem_perdem(banco, tmp_path, monkeypatch, implantacao):
    """The same chaos on both deployment shapes: standalone workers, and app processes whose
    in-app scheduler dispatches (SIGKILLed as a whole process group, restarted at once)."""
    from whatsapp_app.config import configuracoes
    from whatsapp_app.recuperacao import recuperar_reivindicacoes_vencidas

    n = N_JOBS
    rng = random.Random(SEMENTE)
    semeadura = semear(n, n_instancias=N_INSTANCIAS)
    cenario = None
    try:
        cenario = Cenario(banco, tmp_path, implantacao, **CAOS)
        assert cenario.sim and cenario.api and cenario.frota
        frota = cenario.frota
        # The test process runs the reaper with the same settings as the workers.
        for chave, valor in {**CAOS, "simulador_port": cenario.sim.porta}.items():
            monkeypatch.setenv(chave.upper(), str(valor))
        configuracoes.cache_clear()
        cenario.sim.falhas(**FALHAS)

        chamadas: list[ChamadasParalelas] = []

        def chamar() -> None:
            chamadas.append(cenario.chamadas_http(semeadura.email_gestor))

        if implantacao == "worker":
            cenario.iniciar_workers(chamar)  # the HTTP calls race the workers' start
        else:
            # A Reflex backend takes 40-60 s to start on a loaded 2-core machine: calls made
            # meanwhile drain every job before any app could be killed with work in hand.
            cenario.iniciar_workers()
            chamar()
        # Phase 1: SIGKILL a random worker at random moments (seeded), restarting it at once.
        mortos: list[Any] = []
        fim = time.monotonic() + CAOS_S
        while time.monotonic() < fim and len(mortos) < MAX_MORTES:
            time.sleep(rng.uniform(0.3, 1.5))  # the kill schedule itself, not a wait for state
            if contar_status().get("PENDENTE", 0) == 0:
                break
            mortos.append(frota.matar(rng.randrange(cenario.n)))
        resumos = _resumos(chamadas[0].resultado(limite_s=180))
        assert mortos, "the chaos phase killed at least one worker"

        # Phase 2, bounded: let the fleet drain what is due; then stop it (SIGTERM), let the
        # reaper recover the claims the killed workers left, and go again while work remains.
        # The reaper runs only while no dispatcher is alive: killed claims are recovered here,
        # the reaper racing live sends has its own test below.
        recuperados: Counter[str] = Counter()
        for _rodada in range(MAX_RODADAS_DRENAGEM):
            ids_mortos = frota.ids_worker(mortos)
            esperar(
                lambda: _processando_so_de_mortos(ids_mortos),  # noqa: B023
                limite_s=90,
                intervalo_s=0.25,
                oque="a frota drenar os jobs devidos",
                diagnostico=contar_status,
            )
            codigos = frota.parar()
            assert codigos == [0] * cenario.n, "SIGTERM: every dispatcher exits 0"
            agora_status = contar_status()
            if not agora_status.get("PROCESSANDO", 0):
                if not agora_status.get("PENDENTE", 0):
                    break
                # Given back after the drain was seen: a live dispatcher's reaper took back a
                # killed one's claims (3 s after the kill), and SIGTERM returned what it had
                # claimed again and not started. Still owed: the next fleet sends them.
                frota.iniciar()
                continue

            # The reaper takes a claim back once it is silent past the deadline, and a started
            # send only once no provider call can still be running (envio_iniciado_em +
            # PROVEDOR_TIMEOUT_S): run it until no claim is left.
            def _recuperar_orfaos() -> bool:
                recuperados.update(recuperar_reivindicacoes_vencidas())
                return not contar_status().get("PROCESSANDO", 0)

            esperar(
                _recuperar_orfaos,
                limite_s=PRAZO_S + PROVEDOR_TIMEOUT_S + 10,
                intervalo_s=0.25,
                oque="o reaper recuperar as reivindicações órfãs",
                diagnostico=contar_status,
            )
            if contar_status().get("PENDENTE", 0) == 0:
                break
            frota.iniciar()  # fresh workers for what the reaper gave back
        status = contar_status()
        print(
            f"\ncaos[{banco.nome}, {implantacao}]: {len(mortos)} SIGKILL, reaper {dict(recuperados)}, "
            f"falhas {cenario.sim.contadores()}, final {dict(status)}, "
            f"HTTP claimed {sum(r['claimed'] for r in resumos)}"
        )
        assert set(status) <= STATUS_FINAIS, f"jobs left outside a final state: {status}"
        assert sum(status.values()) == n

        contagem = cenario.sim.contagem()
        assert contagem["duplicadas"] == [], "no job was sent twice"
        inbox = inbox_por_chave(cenario.sim.mensagens())
        por_id = semeadura.por_id()
        assert set(inbox) <= {j.chave_inbox for j in semeadura.jobs}
        linhas = linhas_jobs(["ultimo_erro"])
        todos = frota.ids_worker(frota.todas)
        sem_registro = []
        for job in linhas:
            recebidas = inbox.get(por_id[job["id"]].chave_inbox, [])
            if job["status"] == "ENVIADO":
                assert len(recebidas) == 1, job
            elif job["status"] == "ERRO":
                assert recebidas == [], f"ERRO but the provider has it: {job}"
            else:  # INCERTO: explained by an injected fault or by a SIGKILL mid-send
                reaper = "Processo interrompido" in (job["ultimo_erro"] or "")
                if reaper:
                    assert job["envio_iniciado_em"] is not None and mortos, job
                elif recebidas:
                    origem = "worker" if _de_processo(job["claimed_by"], todos) else "API"
                    assert recebidas[0].get("falha_injetada") in FALHAS_INCERTAS, (
                        f"INCERTO sem falha injetada, despachado pelo processo da {origem}",
                        job,
                        recebidas,
                    )
                else:
                    sem_registro.append(job)  # the connection dropped before the message
                assert reaper or "O provedor não respondeu" in job["ultimo_erro"], job
        contadores = cenario.sim.contadores()
        assert len(sem_registro) <= contadores.get("queda_antes", 0), (sem_registro, contadores)
        assert status.get("INCERTO", 0) <= (
            contadores.get("timeout", 0)
            + contadores.get("queda_antes", 0)
            + contadores.get("queda_depois", 0)
            + recuperados["incertos"]
        )
        assert cenario.frota.erros_nos_logs() == []
    finally:
        if cenario is not None:
            cenario.fechar()


# --- regressions: minimal reproductions of the bugs the scenarios above found ---------------


def test_simulador_aguenta_rajada_de_200_conexoes():
    """The simulator's listen backlog was socketserver's default (5): a burst of connections
    overflowed the kernel's queue and clients saw resets after writing their request (INCERTO
    with no injected fault) or connect timeouts."""
    import json
    import socket
    import threading

    from whatsapp_app.simulador import SIMULADOR_API_KEY
    from whatsapp_app.simulador.servidor import iniciar_em_thread

    n = 200
    barreira = threading.Barrier(n)
    resultados: Counter[str] = Counter()
    trava = threading.Lock()
    with iniciar_em_thread(criar_sob_demanda=True) as sim:

        def enviar(i: int) -> None:
            corpo = json.dumps({"number": f"55119{i:08d}", "text": "oi"}).encode()
            pedido = (
                "POST /message/sendText/rajada HTTP/1.1\r\nHost: sim\r\n"
                f"apikey: {SIMULADOR_API_KEY}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(corpo)}\r\nConnection: close\r\n\r\n"
            ).encode() + corpo
            barreira.wait(timeout=30)
            try:
                with socket.create_connection(("127.0.0.1", sim.porta), timeout=3) as s:
                    s.sendall(pedido)
                    resposta = s.recv(64)
                    chave = resposta.split(b" ")[1].decode() if resposta else "sem resposta"
            except OSError as exc:
                chave = type(exc).__name__
            with trava:
                resultados[chave] += 1

        threads = [threading.Thread(target=enviar, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert resultados == {"201": n}
        assert sim.simulador.contagem()["total"] == n


def test_envios_simultaneos_de_um_processo_cabem_no_pool_http(banco, tmp_path, monkeypatch):
    """Several dispatch calls in one process (the API with 8 concurrent calls = 64 sends) used to
    put more requests on the shared httpx client than its pool had connections (50); with
    requests queued, httpcore 1.0.9 can close a connection already handed to another request
    (encode/httpcore#1110): ReadError/EBADF after the message was delivered, so INCERTO."""
    import threading

    from whatsapp_app.config import configuracoes
    from whatsapp_app.providers import evolution, fabrica
    from whatsapp_app.whatsapp_automations import processar_agendamentos_follow_up_whatsapp

    sim = Simulador(tmp_path)
    try:
        sim.falhas(latencia_ms=500)  # every send stays in flight for half a second
        monkeypatch.setenv("SIMULADOR_PORT", str(sim.porta))
        monkeypatch.setenv("DESPACHO_MSGS_POR_SEGUNDO", "80")
        configuracoes.cache_clear()
        semear(80, n_instancias=N_INSTANCIAS)
        em_voo, pico = [0], [0]
        trava = threading.Lock()
        original = evolution.ProvedorEvolution._requisitar

        def contando(self: Any, *args: Any, **kwargs: Any) -> Any:
            with trava:
                em_voo[0] += 1
                pico[0] = max(pico[0], em_voo[0])
            try:
                return original(self, *args, **kwargs)
            finally:
                with trava:
                    em_voo[0] -= 1

        monkeypatch.setattr(evolution.ProvedorEvolution, "_requisitar", contando)
        # What the API process does for 8 concurrent dispatch calls.
        despachos = [
            threading.Thread(
                target=processar_agendamentos_follow_up_whatsapp, kwargs={"limite": 10}
            )
            for _ in range(8)
        ]
        for t in despachos:
            t.start()
        for t in despachos:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in despachos)
        limite_pool = fabrica.cliente_http()._transport._pool._max_connections  # type: ignore[attr-defined]
        assert pico[0] <= limite_pool, f"{pico[0]} envios simultâneos num pool de {limite_pool}"
        assert contar_status() == {"ENVIADO": 80}
    finally:
        sim.fechar()


def test_reaper_nao_reenvia_envio_ainda_em_andamento(banco, monkeypatch):
    """The reaper used to expire a started send by ``claimed_at``: a send that began late (after
    a rate-limit wait) was still in flight when it was reconciled, not found at the provider,
    put back to PENDENTE and sent a second time. The dispatcher no longer books a slot past a
    claim's deadline, but a send can still begin late (held at the gate or by the pool): here
    the slot wait past the deadline is let through on purpose."""
    import threading

    from whatsapp_app import db, despacho_lote
    from whatsapp_app.config import configuracoes
    from whatsapp_app.models import WhatsappInstancia
    from whatsapp_app.recuperacao import recuperar_reivindicacoes_vencidas
    from whatsapp_app.simulador.servidor import iniciar_em_thread
    from whatsapp_app.tempo import agora
    from whatsapp_app.whatsapp_automations import processar_agendamentos_follow_up_whatsapp

    espera_vaga_s, latencia_s, timeout_s, prazo_s = 6.0, 4.0, 6.0, 6.5  # prazo > timeout
    with iniciar_em_thread(criar_sob_demanda=True) as sim:
        sim.simulador.definir_falhas({"latencia_ms": int(latencia_s * 1000)})
        for chave, valor in {
            "SIMULADOR_PORT": sim.porta,
            "PROVEDOR_TIMEOUT_S": timeout_s,
            "PRAZO_REIVINDICACAO_S": prazo_s,
            "DESPACHO_MSGS_POR_SEGUNDO": 80,
        }.items():
            monkeypatch.setenv(chave, str(valor))
        configuracoes.cache_clear()
        monkeypatch.setattr(despacho_lote, "espera_maxima_vaga_s", lambda: 60.0)
        semeadura = semear(1, n_instancias=1)
        # Other dispatchers already reserved the instance's next seconds of sending.
        with db.sessao() as s:
            s.execute(
                sa.update(WhatsappInstancia)
                .where(WhatsappInstancia.id == semeadura.instancias[0])
                .values(proximo_envio_em=agora() + timedelta(seconds=espera_vaga_s))
            )
        primeiro = threading.Thread(
            target=processar_agendamentos_follow_up_whatsapp, kwargs={"worker_id": "vivo:1"}
        )
        primeiro.start()
        try:
            # The live worker's send is in flight and its claim is older than the deadline.
            esperar(
                lambda: any(
                    j["envio_iniciado_em"] is not None
                    and j["claimed_at"] < agora() - timedelta(seconds=prazo_s)
                    for j in linhas_jobs()
                ),
                limite_s=espera_vaga_s + prazo_s + 5,
                intervalo_s=0.05,
                oque="o envio começar e a reivindicação vencer",
            )
            recuperar_reivindicacoes_vencidas()
            processar_agendamentos_follow_up_whatsapp(worker_id="outro:2")
        finally:
            primeiro.join(timeout=30)
        assert sim.simulador.contagem()["duplicadas"] == [], "sent twice"
