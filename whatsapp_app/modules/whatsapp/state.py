"""WhatsApp view-model (the plan's ``use-whatsapp-module.ts``): ``EstadoWhatsapp``, the one
State of ``/whatsapp``, composed of one mixin per part of the page:

- ``estado_cartoes.MixinCartoes``: status cards, instances, QR, "Nova instância", live poller;
- ``estado_fluxos.MixinFluxos``: flow list, filters, sort, search, pause / resume / delete;
- ``estado_disparo.MixinDisparo``: "Disparar agora", its queue totals and overlay;
- ``estado_construtor.MixinConstrutor`` + ``estado_etapas.MixinEtapas`` +
  ``modelos.MixinModelos``: the slide-over builder.

Every event starts with ``self.contexto(...)`` and calls the service functions inside one
``db.sessao()``; no business rule lives here. The State keeps raw values (ids, numbers, ISO
instants) and derives display strings in computed vars; it never holds ORM objects.
"""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from whatsapp_app import db, empresas, feature_flags, painel_whatsapp
from whatsapp_app.auth import perfil_permite
from whatsapp_app.models import Perfil
from whatsapp_app.modules.whatsapp.estado_cartoes import MixinCartoes
from whatsapp_app.modules.whatsapp.estado_construtor import MixinConstrutor
from whatsapp_app.modules.whatsapp.estado_disparo import (
    FASE_CONCLUIDO,
    FASE_ERRO,
    FASE_FILA,
    FASE_PROCESSANDO,
    MixinDisparo,
)
from whatsapp_app.modules.whatsapp.estado_etapas import MixinEtapas
from whatsapp_app.modules.whatsapp.estado_fluxos import MixinFluxos, ler_fluxos
from whatsapp_app.modules.whatsapp.estado_instancias import MixinInstancias
from whatsapp_app.modules.whatsapp.modelos import LEAD_EXEMPLO, MixinModelos
from whatsapp_app.modules.whatsapp.tipos import (
    FLAG_CARDS,
    FLAG_CONSTRUTOR,
    FLAG_DISPARO,
    FLAG_FLUXOS,
    MINUTOS_POR_UNIDADE,
    PERFIS_GESTAO,
    ROTULOS_EVENTO,
    _etapa_vazia,
    rotulo_respostas,
)
from whatsapp_app.ui.formatacao import cor_radix
from whatsapp_app.ui.sessao import EstadoSessao

__all__ = [
    "FASE_CONCLUIDO",
    "FASE_ERRO",
    "FASE_FILA",
    "FASE_PROCESSANDO",
    "LEAD_EXEMPLO",
    "MINUTOS_POR_UNIDADE",
    "ROTULOS_EVENTO",
    "EstadoWhatsapp",
    "_etapa_vazia",
    "rotulo_respostas",
]


class EstadoWhatsapp(
    MixinCartoes,
    MixinInstancias,
    MixinFluxos,
    MixinDisparo,
    MixinConstrutor,
    MixinEtapas,
    MixinModelos,
    EstadoSessao,
):
    """The one State of the WhatsApp page."""

    carregando: bool = True

    @rx.var(cache=True)
    def pode_gerir(self) -> bool:
        return perfil_permite(self.perfil, *PERFIS_GESTAO)

    @rx.var(cache=True)
    def eh_admin(self) -> bool:
        return self.perfil == Perfil.ADMIN.value

    # --- loading -------------------------------------------------------------------------------

    def _ler_flags(self, s: Session, id_empresa: str) -> None:
        flags = feature_flags.flags_da_empresa(sessao=s, id_empresa=id_empresa)
        self.flag_cards = bool(flags[FLAG_CARDS]["ativo"])
        self.flag_fluxos = bool(flags[FLAG_FLUXOS]["ativo"])
        self.flag_disparo = bool(flags[FLAG_DISPARO]["ativo"])
        self.flag_construtor = bool(flags[FLAG_CONSTRUTOR]["ativo"])

    def _ler_tudo(self, id_empresa: str) -> None:
        with db.sessao() as s:
            self._fuso = empresas.obter_empresa(sessao=s, id_empresa=id_empresa).fuso_horario
            self._ler_flags(s, id_empresa)
            self.estagios = [
                {"id": e.id, "nome": e.nome, "cor": cor_radix(e.cor)}
                for e in empresas.listar_estagios(sessao=s, id_empresa=id_empresa)
            ]
            self.instancias = painel_whatsapp.cartoes_das_instancias(s, id_empresa=id_empresa)
            self.fluxos = ler_fluxos(s, id_empresa)

    def _recarregar(self) -> None:
        contexto = self.contexto()
        self._ler_tudo(contexto.id_empresa)

    @rx.event
    def carregar(self):
        """on_load: flags, stages, instances and flows; then the live status loop."""
        self.carregando = True
        self.painel_aberto = self.confirmar_descarte = False
        self.qr_aberto = self.instancia_aberta = False
        self.excluir_id = self.cancelar_id = self.excluir_instancia_id = self.renomear_id = ""
        self.fluxo_salvo_id = ""
        yield
        try:
            self._recarregar()
        finally:
            self.carregando = False
        if self.flag_cards:
            yield EstadoWhatsapp.acompanhar
