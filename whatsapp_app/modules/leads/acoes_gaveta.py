"""Operator actions on the lead drawer's follow-ups: retry, mark as sent, cancel.

The same service function the send queue uses (``operacao.acoes_em_lote``, which audits every
change) and the API's role rule: admins and gestores act, vendedores only read. Each action
asks first (one confirmation dialog for the drawer); the timeline reloads afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import reflex as rx

from whatsapp_app import auth, db, operacao
from whatsapp_app.modules.fila.tipos import ACOES, EXPLICACAO_INCERTO, MOTIVO_SEM_PERMISSAO

if TYPE_CHECKING:
    from whatsapp_app.auth import Contexto
    from whatsapp_app.models import Perfil
    from whatsapp_app.modules.leads.dados_gaveta import AgendamentoLinha, LeadDetalhe

# Action → the row flag (dados_gaveta.AgendamentoLinha) that says the job's status allows it.
FLAG_DA_ACAO = {"reenviar": "reenviavel", "marcar_enviado": "marcavel", "cancelar": "cancelavel"}
TEXTOS_CONFIRMACAO = {
    "reenviar": (
        "A mensagem volta para a fila e sai na próxima rodada do despacho. "
        "Se um envio incerto já chegou ao lead, ele recebe de novo."
    ),
    "marcar_enviado": (
        "A mensagem passa a constar como enviada e entra na conversa do lead. Nada é enviado agora."
    ),
    "cancelar": "A mensagem não será enviada. Não dá para desfazer.",
}
SUCESSO = {
    "reenviar": "Envio reenviado: sai na próxima rodada do despacho.",
    "marcar_enviado": "Envio marcado como enviado.",
    "cancelar": "Envio cancelado.",
}
AJUDA_INCERTO = EXPLICACAO_INCERTO
SEM_PERMISSAO = MOTIVO_SEM_PERMISSAO


class MixinAcoesGaveta(rx.State, mixin=True):
    """The drawer's pending operator action (what the confirmation dialog asks about)."""

    acao_job: str = ""  # reenviar | marcar_enviado | cancelar, while the dialog is open
    id_job_acao: str = ""
    executando_acao_job: bool = False

    if TYPE_CHECKING:  # fields and helpers of EstadoLeads / EstadoSessao
        perfil: str
        lead: LeadDetalhe
        agendamentos: list[AgendamentoLinha]

        def contexto(self, *perfis: Perfil) -> Contexto: ...

        def _carregar_lead(self, id_lead: str, marcar_lida: bool = True) -> None: ...

    # --- derived -----------------------------------------------------------------------------

    @rx.var(cache=True)
    def pode_operar_envios(self) -> bool:
        return auth.perfil_permite(self.perfil, *auth.PERFIS_GESTAO)

    @rx.var(cache=True)
    def confirmacao_job_aberta(self) -> bool:
        return self.acao_job != ""

    @rx.var(cache=True)
    def confirmacao_job_titulo(self) -> str:
        return f"{ACOES[self.acao_job][0]}?" if self.acao_job in ACOES else ""

    @rx.var(cache=True)
    def confirmacao_job_texto(self) -> str:
        if self.acao_job not in TEXTOS_CONFIRMACAO:
            return ""
        job = next((j for j in self.agendamentos if j["id"] == self.id_job_acao), None)
        texto = TEXTOS_CONFIRMACAO[self.acao_job]
        if job and job["automacao"]:
            return f"{job['etapa']} · {job['automacao']}: {texto[0].lower()}{texto[1:]}"
        return texto

    @rx.var(cache=True)
    def confirmacao_job_botao(self) -> str:
        return ACOES[self.acao_job][0] if self.acao_job in ACOES else ""

    @rx.var(cache=True)
    def confirmacao_job_perigo(self) -> bool:
        return self.acao_job == "cancelar"

    # --- events ------------------------------------------------------------------------------

    def _job_permite(self, acao: str, id_job: str) -> bool:
        flag = FLAG_DA_ACAO.get(acao)
        job = next((j for j in self.agendamentos if j["id"] == id_job), None)
        return bool(flag and job and job[flag])  # type: ignore[literal-required]

    @rx.event
    def pedir_acao_job(self, acao: str, id_job: str):
        """A timeline button: the dialog asks before anything changes (vendedores cannot)."""
        self.contexto(*auth.PERFIS_GESTAO)
        if self._job_permite(acao, id_job):
            self.acao_job, self.id_job_acao = acao, id_job

    @rx.event
    def fechar_acao_job(self, aberto: bool = False):
        if not aberto and not self.executando_acao_job:
            self.acao_job, self.id_job_acao = "", ""

    @rx.event
    def confirmar_acao_job(self):
        acao, id_job, id_lead = self.acao_job, self.id_job_acao, self.lead["id"]
        if not acao or not id_job or self.executando_acao_job:
            return
        contexto = self.contexto(*auth.PERFIS_GESTAO)
        self.executando_acao_job = True
        yield
        try:
            with db.sessao() as s:
                (resultado,) = operacao.acoes_em_lote(
                    sessao=s,
                    id_empresa=contexto.id_empresa,
                    id_usuario=contexto.id_usuario,
                    ids=[id_job],
                    acao=acao,
                )
        finally:
            self.executando_acao_job = False
        self.acao_job, self.id_job_acao = "", ""
        if id_lead:
            self._carregar_lead(id_lead, marcar_lida=False)
        yield _toast(acao, resultado)


def _toast(acao: str, resultado: dict[str, Any]) -> Any:
    if resultado["ok"]:
        return rx.toast.success(SUCESSO[acao], id="gaveta-acao")
    if resultado["erro"]["codigo"] == "nao_encontrado":
        return rx.toast.error("Este envio não existe mais.", id="gaveta-acao")
    return rx.toast.error(
        "Nada mudou: o status deste envio já era outro. A lista foi atualizada.", id="gaveta-acao"
    )
