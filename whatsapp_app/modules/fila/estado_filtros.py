"""Filters of ``EstadoFila``: status chips, selects, dates, search and sort, read from and kept
in the URL (shareable links), and the query they make for ``pagina_agendamentos``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import reflex as rx

from whatsapp_app.modules.fila.tipos import (
    PERIODO_ENVIO,
    PERIODO_VENCIMENTO,
    ROTA,
    STATUS_FILTRO,
    data_iso,
    intervalo_do_dia,
)

ORDEM_RECENTES = "-agendado_para"
ORDEM_PADRAO = "agendado_para"


def _periodo(valor: object) -> str:
    return PERIODO_ENVIO if valor == PERIODO_ENVIO else PERIODO_VENCIMENTO


def _ordem(valor: object) -> str:
    return ORDEM_RECENTES if valor == ORDEM_RECENTES else ORDEM_PADRAO


def _status(valor: str) -> str:
    return valor if valor in STATUS_FILTRO else ""


class MixinFiltrosFila(rx.State, mixin=True):
    filtro_status: str = ""
    filtro_instancia: str = ""
    filtro_automacao: str = ""
    filtro_estagio: str = ""
    filtro_de: str = ""
    filtro_ate: str = ""
    periodo: str = PERIODO_VENCIMENTO  # which time the date range bounds: due or sent
    busca: str = ""
    ordem: str = ORDEM_PADRAO

    if TYPE_CHECKING:  # of EstadoFila
        fuso: str

        def _recarregar(self) -> Iterator[Any]: ...

    @rx.var(cache=True)
    def filtros_ativos(self) -> bool:
        return any(
            (
                self.filtro_status,
                self.filtro_instancia,
                self.filtro_automacao,
                self.filtro_estagio,
                self.filtro_de,
                self.filtro_ate,
                self.busca.strip(),
            )
        )

    def _consulta(self) -> dict[str, Any]:
        inicio, fim = intervalo_do_dia(self.filtro_de, self.filtro_ate, self.fuso)
        por_envio = self.periodo == PERIODO_ENVIO
        return {
            "status": self.filtro_status or None,
            "id_whatsapp_instancia": self.filtro_instancia or None,
            "id_whatsapp_automacao": self.filtro_automacao or None,
            "id_estagio_trigger": self.filtro_estagio or None,
            "q": self.busca.strip() or None,
            "de": None if por_envio else inicio,
            "ate": None if por_envio else fim,
            "enviado_de": inicio if por_envio else None,
            "enviado_ate": fim if por_envio else None,
            "ordem": self.ordem,
        }

    def _ler_query_string(self) -> None:
        q = self.router.url.query_parameters
        self.filtro_status = _status(str(q.get("status", "")).upper())
        self.filtro_instancia = str(q.get("instancia", ""))[:32]
        self.filtro_automacao = str(q.get("automacao", ""))[:32]
        self.filtro_estagio = str(q.get("estagio", ""))[:32]
        self.filtro_de = data_iso(q.get("de"))
        self.filtro_ate = data_iso(q.get("ate"))
        self.periodo = _periodo(q.get("periodo"))
        self.busca = str(q.get("q", ""))[:100]
        self.ordem = _ordem(q.get("ordem"))

    def _url(self) -> str:
        pares = {
            "status": self.filtro_status,
            "instancia": self.filtro_instancia,
            "automacao": self.filtro_automacao,
            "estagio": self.filtro_estagio,
            "de": self.filtro_de,
            "ate": self.filtro_ate,
            "periodo": PERIODO_ENVIO if self.periodo == PERIODO_ENVIO else "",
            "q": self.busca.strip(),
            "ordem": ORDEM_RECENTES if self.ordem == ORDEM_RECENTES else "",
        }
        consulta = urlencode({k: v for k, v in pares.items() if v})
        return f"{ROTA}?{consulta}" if consulta else ROTA

    @rx.event
    def filtrar_status(self, status: str):
        self.filtro_status = _status(status)
        yield from self._recarregar()

    @rx.event
    def filtrar(self, campo: str, valor: str):
        """One of the selects or date inputs changed (``todos`` clears a select)."""
        valor = "" if valor == "todos" else str(valor)[:32]
        if campo == "instancia":
            self.filtro_instancia = valor
        elif campo == "automacao":
            self.filtro_automacao = valor
        elif campo == "estagio":
            self.filtro_estagio = valor
        elif campo == "de":
            self.filtro_de = data_iso(valor)
        elif campo == "ate":
            self.filtro_ate = data_iso(valor)
        elif campo == "periodo":
            self.periodo = _periodo(valor)
        elif campo == "ordem":
            self.ordem = _ordem(valor)
        yield from self._recarregar()

    @rx.event
    def buscar(self, texto: str):
        self.busca = texto[:100]
        yield from self._recarregar()

    @rx.event
    def limpar_filtros(self):
        self.filtro_status = self.filtro_instancia = self.filtro_automacao = ""
        self.filtro_estagio = self.filtro_de = self.filtro_ate = self.busca = ""
        self.periodo = PERIODO_VENCIMENTO
        yield rx.call_script(
            "const b = document.getElementById('fila-busca'); if (b) { b.value = ''; }"
        )
        yield from self._recarregar()
