"""Fast State tests (no browser) of the command bar and its overlay: idle → loading → success,
→ error (provider down) and → cancelled, on the real database and dispatcher.

The background event runs through a stand-in for Reflex's StateProxy: ``async with self`` is a
no-op and every attribute goes to the real State. Each block's exit is where Reflex would send
the change to the browser, so the stand-in records the phase and the status line there; that
record is the sequence the page shows. Sends are held by the provider until the State has shown
"Enviando", so the sequence does not depend on timing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import reflex as rx

from tests.assincrono import rodar
from tests.factories import agendar, contexto_de, criar_empresa
from tests.provedor_falso import ProvedorSegurado, ServidorContador
from tests.providers.falso import porta_fechada
from tests.test_disparos import _jobs
from whatsapp_app import whatsapp_automations
from whatsapp_app.config import configuracoes
from whatsapp_app.modules.whatsapp import estado_disparo
from whatsapp_app.modules.whatsapp.state import EstadoWhatsapp
from whatsapp_app.ui.sessao import EstadoSessao, _Autorizacao

E = EstadoWhatsapp


class Proxy:
    """``async with self`` without a state manager; records what each block leaves behind."""

    def __init__(self, estado: Any, ao_sair: Callable[[Any], None]) -> None:
        object.__setattr__(self, "_estado", estado)
        object.__setattr__(self, "_ao_sair", ao_sair)
        object.__setattr__(self, "fases", [])
        object.__setattr__(self, "titulos", [])

    async def __aenter__(self) -> Proxy:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.fases.append(self._estado.disparo_fase)
        self.titulos.append(self._estado.disparo_titulo)
        self._ao_sair(self._estado)

    def __getattr__(self, nome: str) -> Any:
        return getattr(self._estado, nome)

    def __setattr__(self, nome: str, valor: Any) -> None:
        setattr(self._estado, nome, valor)


def _sem_repeticao(fases: list[str]) -> list[str]:
    return [f for i, f in enumerate(fases) if i == 0 or fases[i - 1] != f]


@pytest.fixture(autouse=True)
def _rapido(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESPACHO_MSGS_POR_SEGUNDO", "80")
    configuracoes.cache_clear()
    monkeypatch.setattr(estado_disparo, "INTERVALO_PROGRESSO_S", 0.01)


@pytest.fixture
def empresa(banco, monkeypatch: pytest.MonkeyPatch) -> Any:  # type: ignore[no-untyped-def]
    empresa = criar_empresa()
    contexto = replace(contexto_de(empresa, "gestor"), nome="gestor a")  # the history's "quem"
    monkeypatch.setattr(_Autorizacao, "contexto", lambda self, *perfis: contexto)
    return empresa


def _estado() -> Any:
    raiz = rx.State(_reflex_internal_init=True)
    return raiz.substates[EstadoSessao.get_name()].substates[E.get_name()]


def _disparar(
    monkeypatch: pytest.MonkeyPatch, provedor: ProvedorSegurado, ao_enviar: Callable[[Any], None]
) -> tuple[Any, Proxy]:
    """Run "Disparar agora"; ``ao_enviar`` once the State shows "Enviando" (then the held
    sends go on)."""
    monkeypatch.setattr(whatsapp_automations, "_fabrica_padrao", lambda _i: provedor)
    estado = _estado()
    assert (estado.disparo_fase, estado.disparo_passo, estado.disparo_em_andamento) == (
        "",
        0,
        False,
    )

    def ao_sair(atual: Any) -> None:
        if atual.disparo_fase == estado_disparo.FASE_ENVIANDO and not provedor.liberar.is_set():
            ao_enviar(atual)
            provedor.liberar.set()

    proxy = Proxy(estado, ao_sair)
    try:
        rodar(E.disparar_agora.fn(proxy))
    finally:
        provedor.liberar.set()
    return estado, proxy


def test_barra_ocioso_carregando_sucesso(empresa, monkeypatch):
    agendar(empresa, 3)
    vistos: list[tuple[bool, int, str]] = []
    with ServidorContador() as servidor:
        estado, proxy = _disparar(
            monkeypatch,
            ProvedorSegurado(servidor.url),
            lambda e: vistos.append((e.disparo_em_andamento, e.disparo_passo, e.disparo_titulo)),
        )

    assert _sem_repeticao(proxy.fases) == ["reivindicando", "enviando", "concluido"]
    assert proxy.titulos[0] == "Reivindicando os envios vencidos…"
    assert vistos == [(True, 2, "Enviando 0/3…")], "the three claims, none finished yet"
    assert estado.disparo_titulo == f"Concluído às {estado.disparo_quando}"
    assert estado.disparo_quando and estado.disparo_passo == 3
    assert estado.disparo_em_andamento is False and estado.disparo_overlay is True
    assert estado.disparo_resumo["sent"] == 3 and estado.disparo_resumo["claimed"] == 3
    assert estado.disparo_texto == "Disparo concluído: 3 enviados."
    assert estado.historico_total == 1
    linha = estado.historico_linhas[0]
    assert linha["id"] == estado.disparo_id
    assert (linha["status"], linha["rotulo_status"], linha["quem"], linha["resumo"]) == (
        "CONCLUIDO",
        "Concluído",
        "gestor a",
        "3 enviados.",
    )
    assert Counter(j.status for j in _jobs()) == {"ENVIADO": 3}


def test_barra_provedor_fora_do_ar_termina_em_falhou(empresa, monkeypatch):
    agendar(empresa, 2)
    fechado = ProvedorSegurado(f"http://127.0.0.1:{porta_fechada()}")  # connection refused
    estado, proxy = _disparar(monkeypatch, fechado, lambda _e: None)

    assert _sem_repeticao(proxy.fases) == ["reivindicando", "enviando", "falhou"]
    assert estado.disparo_titulo == "O disparo falhou" and estado.disparo_passo == 3
    assert estado.disparo_erro.startswith("Nenhum envio saiu: o provedor recusou")
    assert "Conexão recusada" in estado.disparo_erro
    assert estado.disparo_texto == f"O disparo falhou: {estado.disparo_erro}"
    assert estado.disparo_resumo["retried"] == 2 and estado.disparo_resumo["sent"] == 0
    linha = estado.historico_linhas[0]
    assert (linha["status"], linha["rotulo_status"], linha["motivo"]) == (
        "FALHOU",
        "Falhou",
        estado.disparo_erro,
    )
    assert linha["resumo"] == "0 enviados, 2 reagendados."
    assert Counter(j.status for j in _jobs()) == {"PENDENTE": 2}, "retried later, not lost"


def test_barra_cancelada_devolve_o_que_nao_comecou(empresa, monkeypatch):
    monkeypatch.setenv("DESPACHO_CONCORRENCIA", "1")
    configuracoes.cache_clear()
    agendar(empresa, 3)
    avisos: list[Any] = []
    with ServidorContador() as servidor:
        provedor = ProvedorSegurado(servidor.url)

        def cancelar(atual: Any) -> None:
            # "Enviando" shows once the claims land; cancel once the first send is in flight.
            assert provedor.em_voo.acquire(timeout=10), "o envio não começou"
            E.cancelar_disparo.fn(atual)
            avisos.append((atual.disparo_cancelando, atual.disparo_titulo))

        estado, proxy = _disparar(monkeypatch, provedor, cancelar)

    assert avisos == [(True, "Cancelando: terminando os envios já iniciados…")]
    assert _sem_repeticao(proxy.fases) == ["reivindicando", "enviando", "cancelado"]
    assert estado.disparo_titulo == f"Cancelado às {estado.disparo_quando}"
    assert estado.disparo_cancelando is False and estado.disparo_passo == 3
    assert (estado.disparo_resumo["claimed"], estado.disparo_resumo["sent"]) == (3, 1)
    assert estado.disparo_texto == (
        "Disparo cancelado: 1 enviado. Os envios não iniciados voltaram para a fila."
    )
    linha = estado.historico_linhas[0]
    assert (linha["status"], linha["rotulo_status"]) == ("CANCELADO", "Cancelado")
    jobs = _jobs()
    assert Counter(j.status for j in jobs) == {"ENVIADO": 1, "PENDENTE": 2}
    assert {j.tentativas for j in jobs if j.status == "PENDENTE"} == {0}
    # A finished run cannot be cancelled again from the page: nothing happens.
    assert E.cancelar_disparo.fn(estado) is None


def test_historico_pagina_de_dez_e_ver_mais(empresa, monkeypatch):
    from whatsapp_app import db, disparos

    for _ in range(12):
        with db.sessao() as s:
            id_disparo = disparos.iniciar_disparo(
                sessao=s, id_empresa=empresa.id, id_usuario=None, nome_usuario=None
            ).id
        disparos.executar_disparo(id_empresa=empresa.id, id_disparo=id_disparo)
    estado = _estado()
    E.carregar_historico.fn(estado)
    assert len(estado.historico_linhas) == 10 and estado.historico_total == 12
    assert estado.historico_tem_mais is True
    assert estado.historico_linhas[0]["quem"] == "Sistema"
    assert estado.historico_linhas[0]["resumo"] == "Nenhum envio vencido."
    isos = [linha["quando_iso"] for linha in estado.historico_linhas]
    assert isos == sorted(isos, reverse=True), "newest first"
    E.ver_mais_historico.fn(estado)
    assert len(estado.historico_linhas) == 12 and estado.historico_tem_mais is False
    assert len({linha["id"] for linha in estado.historico_linhas}) == 12


def test_resumo_em_texto() -> None:
    resumo = {**estado_disparo.RESUMO_VAZIO, "claimed": 5, "sent": 1, "failed": 2, "cancelled": 1}
    assert estado_disparo.resumo_em_texto(resumo) == (  # type: ignore[arg-type]
        "1 enviado, 2 com erro, 1 cancelado (o lead respondeu ou saiu)."
    )
    assert estado_disparo.resumo_em_texto(estado_disparo.RESUMO_VAZIO) == "Nenhum envio vencido."
