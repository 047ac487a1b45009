"""The "Novo lead" dialog of ``EstadoLeads``: stage choice, inline field errors and the call to
``leads.criar_lead`` (the validation is ``LeadEntrada``'s, the service's)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import reflex as rx
from pydantic import ValidationError

from whatsapp_app import db, leads
from whatsapp_app.validacoes import ErroApp, LeadEntrada, erro_de_validacao

if TYPE_CHECKING:
    from whatsapp_app.auth import Contexto
    from whatsapp_app.models import Perfil
    from whatsapp_app.modules.leads.cartoes import Coluna

CAMPO_OBRIGATORIO = "Campo obrigatório."
CAMPOS_DO_FORMULARIO = ("nome", "telefone", "id_estagio")


class MixinNovoLead(rx.State, mixin=True):
    dialogo_aberto: bool = False
    salvando: bool = False
    novo_estagio: str = ""
    erro_nome: str = ""
    erro_telefone: str = ""
    erro_estagio: str = ""
    erro_geral: str = ""

    if TYPE_CHECKING:  # of EstadoLeads / EstadoSessao
        colunas: list[Coluna]

        def contexto(self, *perfis: Perfil) -> Contexto: ...

        def _recarregar_quadro(self) -> None: ...

    def _limpar_erros(self) -> None:
        self.erro_nome = self.erro_telefone = self.erro_estagio = self.erro_geral = ""

    def _mostrar_erros(self, campos: dict[str, str], mensagem: str) -> None:
        self.erro_nome = campos.get("nome", "")
        self.erro_telefone = campos.get("telefone", "")
        self.erro_estagio = campos.get("id_estagio", "")
        outros = [v for k, v in campos.items() if k not in CAMPOS_DO_FORMULARIO]
        self.erro_geral = outros[0] if outros else ("" if campos else mensagem)

    @rx.event
    def abrir_novo(self):
        self.contexto()
        self._limpar_erros()
        self.novo_estagio = self.colunas[0]["id"] if self.colunas else ""
        self.dialogo_aberto = True

    @rx.event
    def mudar_dialogo(self, aberto: bool):
        if not aberto and self.salvando:
            return
        self.dialogo_aberto = aberto
        if not aberto:
            self._limpar_erros()

    @rx.event
    def escolher_estagio(self, id_estagio: str):
        self.novo_estagio = id_estagio
        self.erro_estagio = ""

    @rx.event
    def criar(self, dados: dict[str, Any]):
        contexto = self.contexto()
        if self.salvando:
            return
        self._limpar_erros()
        try:
            entrada = LeadEntrada(
                nome=str(dados.get("nome", "")),
                telefone=str(dados.get("telefone", "")),
                id_estagio=self.novo_estagio,
            )
        except ValidationError as exc:
            erro = erro_de_validacao(exc)
            valores = {**dados, "id_estagio": self.novo_estagio}
            campos = {
                campo: CAMPO_OBRIGATORIO if not str(valores.get(campo, "")).strip() else mensagem
                for campo, mensagem in erro.campos.items()
            }
            self._mostrar_erros(campos, erro.mensagem)
            return
        self.salvando = True
        yield
        try:
            with db.sessao() as s:
                lead = leads.criar_lead(sessao=s, id_empresa=contexto.id_empresa, dados=entrada)
                nome = lead.nome
        except ErroApp as exc:
            self._mostrar_erros(exc.campos, exc.mensagem)
            return
        finally:
            self.salvando = False
        self.dialogo_aberto = False
        self._recarregar_quadro()
        yield rx.toast.success(f"Lead {nome} criado.")
