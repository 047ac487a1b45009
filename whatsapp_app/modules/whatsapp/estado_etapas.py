"""The builder's steps of ``EstadoWhatsapp``: each step's delay and message, the variable chips,
order, and the live preview rendered by the server's ``renderizar_mensagem``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import reflex as rx

from whatsapp_app.envio import VARIAVEIS_MODELO, renderizar_mensagem
from whatsapp_app.modules.whatsapp.modelos import LEAD_EXEMPLO
from whatsapp_app.modules.whatsapp.tipos import (
    MINUTOS_POR_UNIDADE,
    EtapaForm,
    Opcao,
    etapa_vazia,
    rotulo_atraso,
)
from whatsapp_app.validacoes import MAX_ETAPAS


def minutos_da_etapa(etapa: EtapaForm) -> int | None:
    """The step's delay in minutes (``None`` when the typed amount is not a whole number)."""
    try:
        return int(etapa["atraso"]) * MINUTOS_POR_UNIDADE.get(etapa["unidade"], 1)
    except ValueError:
        return None


class MixinEtapas(rx.State, mixin=True):
    etapas: list[EtapaForm] = []

    if TYPE_CHECKING:  # fields and helpers of EstadoWhatsapp / EstadoSessao
        estagios: list[Opcao]
        form_estagio: str
        nome_empresa: str

        def _sem_erro(self, *campos: str) -> None: ...

    # --- derived -----------------------------------------------------------------------------

    @rx.var(cache=True)
    def nome_estagio_form(self) -> str:
        return next((e["nome"] for e in self.estagios if e["id"] == self.form_estagio), "")

    @rx.var(cache=True)
    def previas(self) -> list[str]:
        """Each step rendered for a sample lead, as the WhatsApp bubble shows it."""
        estagio = self.nome_estagio_form or "Qualificado"
        empresa = self.nome_empresa or "sua empresa"
        return [
            renderizar_mensagem(e["mensagem"], nome=LEAD_EXEMPLO, empresa=empresa, estagio=estagio)
            for e in self.etapas
        ]

    @rx.var(cache=True)
    def atrasos_previa(self) -> list[str]:
        """The delay label of each step for the preview ("assim que entrar", "após 1 h")."""
        rotulos = []
        for e in self.etapas:
            minutos = minutos_da_etapa(e)
            if minutos is None:
                rotulos.append("atraso inválido")
            elif minutos == 0:
                rotulos.append("Assim que entrar no estágio")
            else:
                rotulos.append(f"Após {rotulo_atraso(minutos)}")
        return rotulos

    @rx.var(cache=True)
    def total_etapas(self) -> int:
        return len(self.etapas)

    @rx.var(cache=True)
    def pode_adicionar_etapa(self) -> bool:
        return len(self.etapas) < MAX_ETAPAS

    # --- events ----------------------------------------------------------------------------------

    def _mudar_etapa(self, indice: int, **valores: str) -> None:
        if not 0 <= indice < len(self.etapas):
            return
        etapas = [dict(e) for e in self.etapas]
        etapas[indice].update(valores)
        self.etapas = etapas  # type: ignore[assignment]

    @rx.event
    def definir_atraso(self, indice: int, valor: str):
        self._mudar_etapa(indice, atraso=valor.strip()[:6], erro_atraso="")

    @rx.event
    def definir_unidade(self, indice: int, valor: str):
        if valor in MINUTOS_POR_UNIDADE:
            self._mudar_etapa(indice, unidade=valor, erro_atraso="")

    @rx.event
    def definir_mensagem(self, indice: int, valor: str):
        self._mudar_etapa(indice, mensagem=valor[:4096], erro_mensagem="")

    @rx.event
    def adicionar_etapa(self):
        if len(self.etapas) >= MAX_ETAPAS:
            return
        ultima = self.etapas[-1] if self.etapas else None
        # A new step usually waits longer than the last one: start from a day after it.
        self.etapas = [*self.etapas, etapa_vazia("1", "dias") if ultima else etapa_vazia()]
        self._sem_erro("etapas")
        indice = len(self.etapas) - 1
        return rx.call_script(
            f"setTimeout(() => document.getElementById('etapa-{indice}-mensagem')?.focus(), 50)"
        )

    @rx.event
    def remover_etapa(self, indice: int):
        if len(self.etapas) <= 1 or not 0 <= indice < len(self.etapas):
            return
        self.etapas = [e for i, e in enumerate(self.etapas) if i != indice]

    @rx.event
    def mover_etapa(self, indice: int, deslocamento: int):
        destino = indice + deslocamento
        if not (0 <= indice < len(self.etapas) and 0 <= destino < len(self.etapas)):
            return
        etapas = list(self.etapas)
        etapas[indice], etapas[destino] = etapas[destino], etapas[indice]
        self.etapas = etapas

    @rx.event
    def inserir_variavel(self, indice: int, variavel: str):
        """A variable chip: insert ``{{variavel}}`` where the caret is (read in the browser)."""
        if variavel not in VARIAVEIS_MODELO or not 0 <= indice < len(self.etapas):
            return None
        marcador = "{{" + variavel + "}}"
        script = (
            "(() => {"
            f"const el = document.getElementById('etapa-{indice}-mensagem');"
            "const v = el ? el.value : '';"
            "const a = el && el.selectionStart != null ? el.selectionStart : v.length;"
            "const b = el && el.selectionEnd != null ? el.selectionEnd : v.length;"
            f"return {{indice: {indice}, texto: v.slice(0, a) + {json.dumps(marcador)} + v.slice(b),"
            f" cursor: a + {len(marcador)}}};"
            "})()"
        )
        return rx.call_script(script, callback=type(self).aplicar_insercao)  # type: ignore[arg-type]

    @rx.event
    def aplicar_insercao(self, resultado: dict[str, Any]):
        indice = int(resultado.get("indice", -1))
        self._mudar_etapa(indice, mensagem=str(resultado.get("texto", ""))[:4096], erro_mensagem="")
        cursor = int(resultado.get("cursor", 0))
        return rx.call_script(
            "setTimeout(() => {"
            f"const el = document.getElementById('etapa-{indice}-mensagem');"
            f"if (el) {{ el.focus(); el.setSelectionRange({cursor}, {cursor}); }}"
            "}, 30)"
        )
