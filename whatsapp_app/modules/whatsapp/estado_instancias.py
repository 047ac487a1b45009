"""Instance management of ``EstadoWhatsapp`` (card menu and header): "Nova instância", rename and
delete (whose confirmation states how many pending jobs it cancels)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import reflex as rx
from pydantic import ValidationError

from whatsapp_app import db, instancias, painel_whatsapp
from whatsapp_app.models import Perfil
from whatsapp_app.modules.whatsapp.theme import PROVEDORES
from whatsapp_app.modules.whatsapp.tipos import InstanciaDados, campos_amigaveis
from whatsapp_app.ui.formatacao import milhar
from whatsapp_app.validacoes import ErroApp, erro_de_validacao

if TYPE_CHECKING:
    from whatsapp_app.auth import Contexto


class MixinInstancias(rx.State, mixin=True):
    # "Nova instância" dialog.
    instancia_aberta: bool = False
    instancia_provider: str = "simulador"
    instancia_salvando: bool = False
    instancia_erros: dict[str, str] = {}

    # Rename and delete (card menu).
    renomear_id: str = ""
    renomear_nome: str = ""
    renomear_erro: str = ""
    excluir_instancia_id: str = ""
    excluir_instancia_nome: str = ""
    excluir_instancia_pendentes: int = 0

    if TYPE_CHECKING:  # fields and helpers of EstadoWhatsapp / EstadoSessao / other mixins
        instancias: list[InstanciaDados]

        def contexto(self, *perfis: Perfil) -> Contexto: ...
        def _recarregar(self) -> None: ...

    @rx.var(cache=True)
    def excluir_instancia_titulo(self) -> str:
        return f"Excluir a instância “{self.excluir_instancia_nome}”?"

    @rx.var(cache=True)
    def excluir_instancia_texto(self) -> str:
        n = self.excluir_instancia_pendentes
        base = "As automações que enviam por ela serão desativadas."
        if not n:
            return base + " Nenhum envio pendente será cancelado."
        palavra = "envio pendente será cancelado" if n == 1 else "envios pendentes serão cancelados"
        return f"{base} {milhar(n)} {palavra}."

    # --- rename and delete -------------------------------------------------------------------

    @rx.event
    def pedir_renomear(self, id_instancia: str):
        self.contexto(Perfil.ADMIN)
        dados = next((c for c in self.instancias if c["id"] == id_instancia), None)
        if dados is not None:
            self.renomear_id, self.renomear_nome = dados["id"], dados["nome"]
            self.renomear_erro = ""

    @rx.event
    def mudar_renomear(self, aberto: bool):
        if not aberto:
            self.renomear_id = self.renomear_nome = self.renomear_erro = ""

    @rx.event
    def definir_nome_instancia(self, valor: str):
        self.renomear_nome = valor
        self.renomear_erro = ""

    @rx.event
    def confirmar_renomear(self, _formulario: dict[str, Any] | None = None):
        contexto = self.contexto(Perfil.ADMIN)
        if not self.renomear_id:
            return
        try:
            with db.sessao() as s:
                instancia = instancias.renomear_instancia(
                    sessao=s,
                    id_empresa=contexto.id_empresa,
                    id_instancia=self.renomear_id,
                    nome=self.renomear_nome,
                )
                nome = instancia.nome
        except ErroApp as exc:
            self.renomear_erro = (exc.campos or {}).get("nome", exc.mensagem)
            return
        self.renomear_id = self.renomear_nome = ""
        self._recarregar()
        yield rx.toast.success(f"Instância renomeada para “{nome}”.")

    @rx.event
    def pedir_exclusao_instancia(self, id_instancia: str):
        contexto = self.contexto(Perfil.ADMIN)
        dados = next((c for c in self.instancias if c["id"] == id_instancia), None)
        if dados is None:
            return
        with db.sessao() as s:
            pendentes = painel_whatsapp.aguardando_da_instancia(
                s, id_empresa=contexto.id_empresa, id_instancia=id_instancia
            )
        self.excluir_instancia_id, self.excluir_instancia_nome = dados["id"], dados["nome"]
        self.excluir_instancia_pendentes = pendentes

    @rx.event
    def mudar_exclusao_instancia(self, aberto: bool):
        if not aberto:
            self.excluir_instancia_id = self.excluir_instancia_nome = ""
            self.excluir_instancia_pendentes = 0

    @rx.event
    def confirmar_exclusao_instancia(self):
        contexto = self.contexto(Perfil.ADMIN)
        id_instancia, nome = self.excluir_instancia_id, self.excluir_instancia_nome
        self.excluir_instancia_id = self.excluir_instancia_nome = ""
        self.excluir_instancia_pendentes = 0
        if not id_instancia:
            return
        try:
            with db.sessao() as s:
                resultado = instancias.excluir_instancia(
                    sessao=s, id_empresa=contexto.id_empresa, id_instancia=id_instancia
                )
        except ErroApp as exc:
            yield rx.toast.error(f"Não foi possível excluir a instância: {exc.mensagem}")
            return
        self._recarregar()
        texto = f"Instância “{nome}” excluída."
        if cancelados := resultado["agendamentos_cancelados"]:
            texto += f" {milhar(cancelados)} envio(s) pendente(s) cancelado(s)."
        yield rx.toast.success(texto)

    # --- "Nova instância" --------------------------------------------------------------------

    @rx.event
    def abrir_nova_instancia(self):
        self.contexto(Perfil.ADMIN)
        self.instancia_provider = "simulador"
        self.instancia_erros = {}
        self.instancia_aberta = True

    @rx.event
    def mudar_nova_instancia(self, aberto: bool):
        if not aberto and self.instancia_salvando:
            return
        self.instancia_aberta = aberto
        if not aberto:
            self.instancia_erros = {}

    @rx.event
    def escolher_provider(self, provider: str | list[str]):
        provider = provider[0] if isinstance(provider, list) else provider
        if provider in PROVEDORES:
            self.instancia_provider = provider
            self.instancia_erros = {}

    @rx.event
    def criar_instancia(self, dados: dict[str, Any]):
        contexto = self.contexto(Perfil.ADMIN)
        if self.instancia_salvando:
            return
        config = {
            chave.removeprefix("config_"): str(valor).strip()
            for chave, valor in dados.items()
            if chave.startswith("config_") and str(valor).strip()
        }
        bruto = {
            "nome": str(dados.get("nome", "")),
            "provider": self.instancia_provider,
            "config": config,
        }
        try:
            entrada = instancias.InstanciaEntrada.model_validate(bruto)
        except ValidationError as exc:
            self.instancia_erros = campos_amigaveis(erro_de_validacao(exc).campos, bruto)
            return
        self.instancia_salvando = True
        self.instancia_erros = {}
        yield
        try:
            with db.sessao() as s:
                instancia = instancias.criar_instancia(
                    sessao=s, id_empresa=contexto.id_empresa, dados=entrada
                )
                id_instancia, nome = instancia.id, instancia.nome
        except ErroApp as exc:
            self.instancia_erros = exc.campos or {"geral": exc.mensagem}
            return
        finally:
            self.instancia_salvando = False
        self.instancia_aberta = False
        self._recarregar()
        yield rx.toast.success(f"Instância {nome} criada. Use “Conectar” para parear o número.")
        yield type(self).configurar_webhook(id_instancia)  # type: ignore[misc, operator]
        yield type(self).acompanhar  # type: ignore[attr-defined]

    @rx.event(background=True)
    async def configurar_webhook(self, id_instancia: str):
        """Point the new instance's webhook at us (a provider call: off the state lock)."""
        async with self:
            contexto = self.contexto(Perfil.ADMIN)
        await asyncio.to_thread(
            instancias.configurar_webhook,
            id_empresa=contexto.id_empresa,
            id_instancia=id_instancia,
        )
