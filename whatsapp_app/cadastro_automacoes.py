"""Automation CRUD: the service behind ``/api/whatsapp/automations`` and the slide-over builder.

Steps are matched by ``ordem`` on edit, so jobs keep pointing at the step they came from. A
step removed while it has jobs is only marked ``removida_em`` (history stays readable) and its
pending jobs are cancelled; disabling or deleting an automation cancels its pending jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from whatsapp_app import leads, paginacao
from whatsapp_app import whatsapp_automations as automacoes
from whatsapp_app.esquemas import AgendamentoPublico, AutomacaoPublica, ComDerivados
from whatsapp_app.models import (
    Estagio,
    Lead,
    StatusAgendamento,
    WhatsappAutomacao,
    WhatsappAutomacaoAgendamento,
    WhatsappAutomacaoEtapa,
    WhatsappInstancia,
)
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import (
    AutomacaoAtualizacao,
    AutomacaoEntrada,
    ErroValidacao,
    EtapaEntrada,
    NaoEncontrado,
)

MOTIVO_ETAPA_REMOVIDA = "etapa_removida"


def _validar_referencias(
    sessao: Session, id_empresa: str, id_estagio: str | None, id_instancia: str | None
) -> None:
    campos = {}
    if id_estagio is not None:
        estagio = sessao.get(Estagio, id_estagio)
        if estagio is None or estagio.id_empresa != id_empresa:
            campos["id_estagio_trigger"] = "Estágio não encontrado nesta empresa."
    if id_instancia is not None:
        instancia = sessao.get(WhatsappInstancia, id_instancia)
        if (
            instancia is None
            or instancia.id_empresa != id_empresa
            or instancia.excluida_em is not None
        ):
            campos["id_whatsapp_instancia"] = "Instância não encontrada nesta empresa."
    if campos:
        raise ErroValidacao(campos)


def _etapas(sessao: Session, automacao: WhatsappAutomacao) -> list[WhatsappAutomacaoEtapa]:
    return list(
        sessao.exec(
            select(WhatsappAutomacaoEtapa)
            .where(
                WhatsappAutomacaoEtapa.id_empresa == automacao.id_empresa,
                WhatsappAutomacaoEtapa.id_whatsapp_automacao == automacao.id,
            )
            .order_by(col(WhatsappAutomacaoEtapa.ordem))
        ).all()
    )


def automacao_publica(sessao: Session, automacao: WhatsappAutomacao) -> dict[str, Any]:
    vigentes = [e for e in _etapas(sessao, automacao) if e.removida_em is None]
    publica = ComDerivados(automacao, etapas=vigentes)
    return AutomacaoPublica.model_validate(publica).model_dump(mode="json")


def obter_automacao(*, sessao: Session, id_empresa: str, id_automacao: str) -> WhatsappAutomacao:
    automacao = sessao.exec(
        select(WhatsappAutomacao).where(
            WhatsappAutomacao.id == id_automacao,
            WhatsappAutomacao.id_empresa == id_empresa,
            col(WhatsappAutomacao.excluida_em).is_(None),
        )
    ).first()
    if automacao is None:
        raise NaoEncontrado("Automação não encontrada.")
    return automacao


def listar_automacoes(*, sessao: Session, id_empresa: str) -> list[WhatsappAutomacao]:
    return list(
        sessao.exec(
            select(WhatsappAutomacao)
            .where(
                WhatsappAutomacao.id_empresa == id_empresa,
                col(WhatsappAutomacao.excluida_em).is_(None),
            )
            .order_by(col(WhatsappAutomacao.criado_em))
        ).all()
    )


def _aplicar_etapas(
    sessao: Session, automacao: WhatsappAutomacao, etapas: list[EtapaEntrada]
) -> None:
    existentes = {e.ordem: e for e in _etapas(sessao, automacao)}
    desejadas = {e.ordem: e for e in etapas}
    for ordem, dados in desejadas.items():
        etapa = existentes.get(ordem) or WhatsappAutomacaoEtapa(
            id_empresa=automacao.id_empresa,
            id_whatsapp_automacao=automacao.id,
            ordem=ordem,
            mensagem=dados.mensagem,
        )
        etapa.atraso_minutos = dados.atraso_minutos
        etapa.mensagem = dados.mensagem
        etapa.modelo = dados.modelo.model_dump() if dados.modelo else None
        etapa.removida_em = None
        sessao.add(etapa)
    for ordem, etapa in existentes.items():
        if ordem in desejadas or etapa.removida_em is not None:
            continue
        tem_jobs = sessao.exec(
            select(WhatsappAutomacaoAgendamento.id).where(
                WhatsappAutomacaoAgendamento.id_empresa == automacao.id_empresa,
                WhatsappAutomacaoAgendamento.id_etapa == etapa.id,
            )
        ).first()
        if tem_jobs is None:
            sessao.delete(etapa)
            continue
        etapa.removida_em = agora()
        sessao.add(etapa)
        automacoes.cancelar_pendentes(
            sessao,
            [
                WhatsappAutomacaoAgendamento.__table__.c.id_empresa == automacao.id_empresa,  # type: ignore[attr-defined]
                WhatsappAutomacaoAgendamento.__table__.c.id_etapa == etapa.id,  # type: ignore[attr-defined]
            ],
            MOTIVO_ETAPA_REMOVIDA,
        )
    sessao.flush()


def criar_automacao(
    *, sessao: Session, id_empresa: str, dados: AutomacaoEntrada
) -> WhatsappAutomacao:
    _validar_referencias(sessao, id_empresa, dados.id_estagio_trigger, dados.id_whatsapp_instancia)
    automacao = WhatsappAutomacao(
        id_empresa=id_empresa,
        nome=dados.nome,
        evento=dados.evento,
        id_estagio_trigger=dados.id_estagio_trigger,
        id_whatsapp_instancia=dados.id_whatsapp_instancia,
        ativo=dados.ativo,
        reentrada=dados.reentrada,
        cancelar_ao_sair=dados.cancelar_ao_sair,
        parar_ao_responder=dados.parar_ao_responder,
    )
    sessao.add(automacao)
    sessao.flush()
    _aplicar_etapas(sessao, automacao, dados.etapas)
    return automacao


def atualizar_automacao(
    *, sessao: Session, id_empresa: str, id_automacao: str, dados: AutomacaoAtualizacao
) -> tuple[WhatsappAutomacao, MudancaDeFila]:
    """Edit; returns the automation and what a pause or a resume did to its queue."""
    automacao = obter_automacao(sessao=sessao, id_empresa=id_empresa, id_automacao=id_automacao)
    _validar_referencias(sessao, id_empresa, dados.id_estagio_trigger, dados.id_whatsapp_instancia)
    estava_ativa = automacao.ativo
    for campo in (
        "nome",
        "id_estagio_trigger",
        "id_whatsapp_instancia",
        "ativo",
        "reentrada",
        "cancelar_ao_sair",
        "parar_ao_responder",
    ):
        valor = getattr(dados, campo)
        if campo in dados.model_fields_set and valor is not None:
            setattr(automacao, campo, valor)
    if automacao.ativo and dados.id_whatsapp_instancia is None:
        # An automation disabled when its instance was deleted must not come back to life.
        _validar_referencias(sessao, id_empresa, None, automacao.id_whatsapp_instancia)
    automacao.atualizado_em = agora()
    sessao.add(automacao)
    if dados.etapas is not None:
        _aplicar_etapas(sessao, automacao, dados.etapas)
    pausados = retomados = 0
    if estava_ativa and not automacao.ativo:
        pausados = automacoes.pausar_pendentes_da_automacao(
            sessao=sessao, id_empresa=id_empresa, id_whatsapp_automacao=automacao.id
        )
    elif automacao.ativo and not estava_ativa:
        # PATCH ativo=true resumes sending what fell due; POST .../retomar lets one choose.
        retomados, _ = automacoes.retomar_pausados(
            sessao=sessao,
            id_empresa=id_empresa,
            id_whatsapp_automacao=automacao.id,
            cancelar_vencidos=False,
        )
    sessao.flush()
    return automacao, MudancaDeFila(pausados=pausados, retomados=retomados)


@dataclass(frozen=True)
class MudancaDeFila:
    pausados: int = 0
    retomados: int = 0
    cancelados: int = 0


def retomar_automacao(
    *, sessao: Session, id_empresa: str, id_automacao: str, cancelar_vencidos: bool
) -> tuple[WhatsappAutomacao, MudancaDeFila]:
    """Resume a paused automation; the jobs that fell due during the pause are sent now or
    cancelled, as the admin chose."""
    automacao = obter_automacao(sessao=sessao, id_empresa=id_empresa, id_automacao=id_automacao)
    # An automation whose instance was deleted must not come back to life.
    _validar_referencias(sessao, id_empresa, None, automacao.id_whatsapp_instancia)
    automacao.ativo = True
    automacao.atualizado_em = agora()
    sessao.add(automacao)
    retomados, cancelados = automacoes.retomar_pausados(
        sessao=sessao,
        id_empresa=id_empresa,
        id_whatsapp_automacao=automacao.id,
        cancelar_vencidos=cancelar_vencidos,
    )
    sessao.flush()
    return automacao, MudancaDeFila(retomados=retomados, cancelados=cancelados)


def excluir_automacao(*, sessao: Session, id_empresa: str, id_automacao: str) -> int:
    """Disable, hide and cancel pending jobs; returns how many were cancelled."""
    automacao = obter_automacao(sessao=sessao, id_empresa=id_empresa, id_automacao=id_automacao)
    automacao.ativo = False
    automacao.excluida_em = automacao.atualizado_em = agora()
    sessao.add(automacao)
    cancelados = automacoes.cancelar_pendentes_da_automacao(
        sessao=sessao,
        id_empresa=id_empresa,
        id_whatsapp_automacao=automacao.id,
        motivo=automacoes.MOTIVO_AUTOMACAO_EXCLUIDA,
    )
    sessao.flush()
    return cancelados


def agendamento_publico(job: WhatsappAutomacaoAgendamento) -> dict[str, Any]:
    return AgendamentoPublico.model_validate(job).model_dump(mode="json")


STATUS_VALIDOS = {s.value for s in StatusAgendamento}


def listar_agendamentos(
    *,
    sessao: Session,
    id_empresa: str,
    status: str | None = None,
    id_lead: str | None = None,
    id_whatsapp_automacao: str | None = None,
    limite: int = 200,
) -> list[WhatsappAutomacaoAgendamento]:
    if status is not None and status not in STATUS_VALIDOS:
        raise ErroValidacao({"status": f"Use um de: {', '.join(sorted(STATUS_VALIDOS))}."})
    consulta = select(WhatsappAutomacaoAgendamento).where(
        WhatsappAutomacaoAgendamento.id_empresa == id_empresa
    )
    if status:
        consulta = consulta.where(WhatsappAutomacaoAgendamento.status == status)
    if id_lead:
        consulta = consulta.where(WhatsappAutomacaoAgendamento.id_lead == id_lead)
    if id_whatsapp_automacao:
        consulta = consulta.where(
            WhatsappAutomacaoAgendamento.id_whatsapp_automacao == id_whatsapp_automacao
        )
    consulta = consulta.order_by(col(WhatsappAutomacaoAgendamento.agendado_para)).limit(limite)
    return list(sessao.exec(consulta).all())


ORDENS_AGENDAMENTOS = {"agendado_para": False, "-agendado_para": True}  # value: descending


def _consulta_agendamentos(
    *,
    id_empresa: str,
    status: str | None,
    id_lead: str | None,
    id_whatsapp_automacao: str | None,
    id_whatsapp_instancia: str | None,
    id_estagio_trigger: str | None,
    q: str | None,
    de: datetime | None,
    ate: datetime | None,
    enviado_de: datetime | None = None,
    enviado_ate: datetime | None = None,
) -> Any:
    if status is not None and status not in STATUS_VALIDOS:
        raise ErroValidacao({"status": f"Use um de: {', '.join(sorted(STATUS_VALIDOS))}."})
    for campo, inicio, fim in (("de", de, ate), ("enviado_de", enviado_de, enviado_ate)):
        if inicio is not None and fim is not None and inicio > fim:
            raise ErroValidacao({campo: "O início do período deve ser antes do fim."})
    job = WhatsappAutomacaoAgendamento
    consulta = select(job).where(job.id_empresa == id_empresa)
    if status:
        consulta = consulta.where(job.status == status)
    if id_lead:
        consulta = consulta.where(job.id_lead == id_lead)
    if id_whatsapp_automacao:
        consulta = consulta.where(job.id_whatsapp_automacao == id_whatsapp_automacao)
    if id_estagio_trigger:
        consulta = consulta.where(job.id_estagio_trigger == id_estagio_trigger)
    if id_whatsapp_instancia:
        consulta = consulta.where(
            col(job.id_whatsapp_automacao).in_(
                select(WhatsappAutomacao.id).where(
                    WhatsappAutomacao.id_empresa == id_empresa,
                    WhatsappAutomacao.id_whatsapp_instancia == id_whatsapp_instancia,
                )
            )
        )
    if q and q.strip():
        consulta = consulta.where(
            col(job.id_lead).in_(
                select(Lead.id).where(
                    Lead.id_empresa == id_empresa, leads.busca_por_nome_ou_telefone(q)
                )
            )
        )
    if de is not None:
        consulta = consulta.where(col(job.agendado_para) >= de)
    if ate is not None:
        consulta = consulta.where(col(job.agendado_para) <= ate)
    if enviado_de is not None:
        consulta = consulta.where(col(job.enviado_em) >= enviado_de)
    if enviado_ate is not None:
        consulta = consulta.where(col(job.enviado_em) <= enviado_ate)
    return consulta


def pagina_agendamentos(
    *,
    sessao: Session,
    id_empresa: str,
    status: str | None = None,
    id_lead: str | None = None,
    id_whatsapp_automacao: str | None = None,
    id_whatsapp_instancia: str | None = None,
    id_estagio_trigger: str | None = None,
    q: str | None = None,
    de: datetime | None = None,
    ate: datetime | None = None,
    enviado_de: datetime | None = None,
    enviado_ate: datetime | None = None,
    ordem: str = "agendado_para",
    limite: int = paginacao.LIMITE_PADRAO,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One page of the company's jobs with the queue's filters (contract §7), by due time;
    ``de``/``ate`` bound the due time, ``enviado_de``/``enviado_ate`` the sent time."""
    if ordem not in ORDENS_AGENDAMENTOS:
        raise ErroValidacao({"ordem": "Use agendado_para ou -agendado_para."})
    consulta = _consulta_agendamentos(
        id_empresa=id_empresa,
        status=status,
        id_lead=id_lead,
        id_whatsapp_automacao=id_whatsapp_automacao,
        id_whatsapp_instancia=id_whatsapp_instancia,
        id_estagio_trigger=id_estagio_trigger,
        q=q,
        de=de,
        ate=ate,
        enviado_de=enviado_de,
        enviado_ate=enviado_ate,
    )
    return paginacao.paginar(
        sessao,
        consulta,
        colunas=[
            col(WhatsappAutomacaoAgendamento.agendado_para),
            col(WhatsappAutomacaoAgendamento.id),
        ],
        decrescente=ORDENS_AGENDAMENTOS[ordem],
        limite=limite,
        cursor=cursor,
        publico=agendamento_publico,
    )


def pagina_automacoes(
    *,
    sessao: Session,
    id_empresa: str,
    limite: int = paginacao.LIMITE_PADRAO,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One page of the company's automations, oldest first."""
    return paginacao.paginar(
        sessao,
        select(WhatsappAutomacao).where(
            WhatsappAutomacao.id_empresa == id_empresa,
            col(WhatsappAutomacao.excluida_em).is_(None),
        ),
        colunas=[col(WhatsappAutomacao.criado_em), col(WhatsappAutomacao.id)],
        limite=limite,
        cursor=cursor,
        publico=lambda automacao: automacao_publica(sessao, automacao),
    )
