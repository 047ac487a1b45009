"""Status cards of ``EstadoWhatsapp``: the instances (raw values, cards derived), the live status
poller, the QR dialog and the connection actions ("Nova instância", rename and delete are in
``estado_instancias``).

Provider calls can take seconds: they run in background events, in a worker thread, outside
``async with self`` (the state lock is held only to read inputs and write results).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import reflex as rx

from whatsapp_app import db, instancias, painel_whatsapp
from whatsapp_app.logs import logger
from whatsapp_app.models import Perfil
from whatsapp_app.modules.whatsapp.tipos import (
    PERFIS_GESTAO,
    ROTA,
    InstanciaCartao,
    InstanciaDados,
    Opcao,
    cartao,
    qr_como_imagem,
)
from whatsapp_app.tempo import agora
from whatsapp_app.ui.formatacao import FUSO_PADRAO, fuso_da_empresa
from whatsapp_app.validacoes import ErroApp

if TYPE_CHECKING:
    from whatsapp_app.auth import Contexto

_log = logger("ui.whatsapp")

INTERVALO_SONDAGEM_S = 4.0  # seconds between two reads of the instances' status
INTERVALO_SONDAGEM_QR_S = 2.0  # faster while the QR dialog waits for the scan
RENOVAR_QR_S = 20.0  # seconds before a QR still waiting for the scan is fetched again
DURACAO_MAX_SONDAGEM_S = 30 * 60  # a forgotten tab stops polling after this


esperar = asyncio.sleep  # the poller's pause between reads (tests drive the ticks)


def ler_cartoes(id_empresa: str) -> list[InstanciaDados]:
    """The instances' raw card values, read fresh (run in a worker thread by the poller)."""
    with db.sessao() as s:
        return painel_whatsapp.cartoes_das_instancias(s, id_empresa=id_empresa)


class MixinCartoes(rx.State, mixin=True):
    _fuso: str = FUSO_PADRAO
    flag_cards: bool = True
    instancias: list[InstanciaDados] = []

    # Live polling of the instances' status.
    ao_vivo: bool = False
    _geracao_sondagem: int = 0
    _sondagem_viva: int = 0

    # QR dialog.
    qr_aberto: bool = False
    qr_id_instancia: str = ""
    qr_nome: str = ""
    qr_imagem: str = ""
    qr_codigo: str = ""
    qr_status: str = ""
    qr_carregando: bool = False
    qr_erro: str = ""
    _qr_em: float = 0.0

    if TYPE_CHECKING:  # helpers of EstadoWhatsapp / EstadoSessao

        def contexto(self, *perfis: Perfil) -> Contexto: ...
        def _recarregar(self) -> None: ...

    # --- derived -----------------------------------------------------------------------------

    @rx.var(cache=True)
    def cartoes(self) -> list[InstanciaCartao]:
        referencia, fuso = agora(), fuso_da_empresa(self._fuso)
        return [cartao(i, referencia, fuso) for i in self.instancias]

    @rx.var(cache=True)
    def opcoes_instancia(self) -> list[Opcao]:
        return [{"id": i["id"], "nome": i["nome"], "cor": "gray"} for i in self.instancias]

    # --- live status (background) ------------------------------------------------------------

    @rx.event(background=True)
    async def acompanhar(self):
        """Poll the instances' status while this page is open (one loop per tab)."""
        async with self:
            if self._sondagem_viva and self._sondagem_viva == self._geracao_sondagem:
                return  # a loop of this visit is already running
            self._geracao_sondagem += 1
            geracao = self._sondagem_viva = self._geracao_sondagem
            self.ao_vivo = True
        inicio = time.monotonic()
        intervalo = INTERVALO_SONDAGEM_S
        try:
            while time.monotonic() - inicio < DURACAO_MAX_SONDAGEM_S:
                await esperar(intervalo)
                async with self:
                    if (
                        self._geracao_sondagem != geracao
                        or not self.flag_cards
                        or self.router.url.path.rstrip("/") != ROTA
                    ):
                        break
                    id_empresa = self.contexto().id_empresa
                    qr_id = self.qr_id_instancia if self.qr_aberto else ""
                    renovar_qr = bool(qr_id) and time.monotonic() - self._qr_em > RENOVAR_QR_S
                cartoes = await asyncio.to_thread(ler_cartoes, id_empresa)
                status_qr = next((c["status"] for c in cartoes if c["id"] == qr_id), "")
                resposta_qr: dict[str, Any] | None = None
                if renovar_qr and status_qr == "conectando":
                    try:
                        resposta_qr = await asyncio.to_thread(
                            instancias.conectar_instancia, id_empresa=id_empresa, id_instancia=qr_id
                        )
                    except ErroApp as exc:
                        _log.info("QR não renovado", extra={"erro": exc.mensagem})
                async with self:
                    if self._geracao_sondagem != geracao:
                        break
                    self._aplicar_sondagem(cartoes, resposta_qr)
                    intervalo = INTERVALO_SONDAGEM_QR_S if self.qr_aberto else INTERVALO_SONDAGEM_S
        finally:
            async with self:
                if self._sondagem_viva == geracao:
                    self._sondagem_viva = 0
                    self.ao_vivo = False

    def _aplicar_sondagem(
        self, cartoes: list[InstanciaDados], resposta_qr: dict[str, Any] | None = None
    ) -> None:
        """One poll's result: the cards, and the open QR dialog's status."""
        self.instancias = cartoes
        if not self.qr_aberto:
            return
        status_qr = next((c["status"] for c in cartoes if c["id"] == self.qr_id_instancia), "")
        if status_qr:
            self.qr_status = status_qr
            if resposta_qr is not None:
                self._aplicar_qr(resposta_qr)

    @rx.event
    def parar_acompanhamento(self):
        """The page was left (unmount): the loop stops at its next tick."""
        self._geracao_sondagem += 1

    # --- instance actions --------------------------------------------------------------------

    def _aplicar_qr(self, resposta: dict[str, Any]) -> None:
        self.qr_status = str(resposta.get("status") or self.qr_status)
        imagem = qr_como_imagem(resposta.get("qr_base64"))
        if imagem:
            self.qr_imagem = imagem
        self.qr_codigo = str(resposta.get("pairing_code") or self.qr_codigo)
        self._qr_em = time.monotonic()

    def _definir_status_local(self, id_instancia: str, status: str) -> None:
        self.instancias = [
            {**c, "status": status} if c["id"] == id_instancia else c for c in self.instancias
        ]

    @rx.event(background=True)
    async def conectar(self, id_instancia: str):
        """Conectar / Abrir QR: start pairing and show the QR while the instance connects."""
        async with self:
            contexto = self.contexto(*PERFIS_GESTAO)
            dados = next((c for c in self.instancias if c["id"] == id_instancia), None)
            if dados is None:
                return
            self.qr_id_instancia = id_instancia
            self.qr_nome = dados["nome"]
            self.qr_status = dados["status"]
            self.qr_imagem = self.qr_codigo = self.qr_erro = ""
            self.qr_carregando = True
            self.qr_aberto = True
        try:
            resposta = await asyncio.to_thread(
                instancias.conectar_instancia,
                id_empresa=contexto.id_empresa,
                id_instancia=id_instancia,
            )
        except ErroApp as exc:
            async with self:
                self.qr_erro = exc.mensagem
                self.qr_carregando = False
            return
        except Exception:
            _log.exception("falha ao conectar instância", extra={"id_instancia": id_instancia})
            async with self:
                self.qr_erro = "Não foi possível falar com o provedor. Tente novamente."
                self.qr_carregando = False
            return
        cartoes = await asyncio.to_thread(ler_cartoes, contexto.id_empresa)
        async with self:
            self.qr_carregando = False
            if self.qr_id_instancia == id_instancia:
                self._aplicar_qr(resposta)
            self.instancias = cartoes
        yield type(self).acompanhar

    @rx.event
    def mudar_qr(self, aberto: bool):
        self.qr_aberto = aberto
        if not aberto:
            self.qr_imagem = self.qr_codigo = self.qr_erro = ""

    @rx.event(background=True)
    async def reconectar(self, id_instancia: str):
        """Reconectar: restart the provider session and read its state back."""
        async with self:
            contexto = self.contexto(*PERFIS_GESTAO)
            self._definir_status_local(id_instancia, "conectando")
        try:
            resposta = await asyncio.to_thread(
                instancias.reiniciar_instancia,
                id_empresa=contexto.id_empresa,
                id_instancia=id_instancia,
            )
        except ErroApp as exc:
            yield rx.toast.error(f"Não foi possível reconectar: {exc.mensagem}")
            resposta = None
        cartoes = await asyncio.to_thread(ler_cartoes, contexto.id_empresa)
        async with self:
            self.instancias = cartoes
        if resposta is not None:
            yield rx.toast.success("Reconexão solicitada. O status se atualiza sozinho.")
        yield type(self).acompanhar

    @rx.event(background=True)
    async def desconectar(self, id_instancia: str):
        async with self:
            contexto = self.contexto(*PERFIS_GESTAO)
        try:
            await asyncio.to_thread(
                instancias.desconectar_instancia,
                id_empresa=contexto.id_empresa,
                id_instancia=id_instancia,
            )
        except ErroApp as exc:
            yield rx.toast.error(f"Não foi possível desconectar: {exc.mensagem}")
            return
        cartoes = await asyncio.to_thread(ler_cartoes, contexto.id_empresa)
        async with self:
            self.instancias = cartoes
        yield rx.toast.success("Instância desconectada.")
