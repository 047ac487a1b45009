"""Automations (CRUD) and their jobs (contract.md section 4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query

from whatsapp_app import cadastro_automacoes as cadastro
from whatsapp_app import db, painel_whatsapp
from whatsapp_app.api.deps import GestorAtual, PaginaDep, SessaoDep, UsuarioAtual
from whatsapp_app.esquemas import (
    AgendamentoPublico,
    AutomacaoAtualizada,
    AutomacaoExcluida,
    AutomacaoPublica,
    Pagina,
    erros,
)
from whatsapp_app.operacao import ACOES_OPERADOR, acao_do_operador
from whatsapp_app.validacoes import (
    AutomacaoAtualizacao,
    AutomacaoEntrada,
    ErroValidacao,
    NaoEncontrado,
    RetomadaEntrada,
)

router = APIRouter(prefix="/api/whatsapp", tags=["automacoes"])


@router.get("/automations", response_model=Pagina[AutomacaoPublica], responses=erros(401))
def listar(sessao: SessaoDep, usuario: UsuarioAtual, pagina: PaginaDep) -> dict[str, Any]:
    """The company's automations with their steps (paginated)."""
    return cadastro.pagina_automacoes(
        sessao=sessao, id_empresa=usuario.id_empresa, limite=pagina.limite, cursor=pagina.cursor
    )


@router.post(
    "/automations",
    status_code=201,
    response_model=AutomacaoPublica,
    responses=erros(400, 401, 403),
)
def criar(dados: AutomacaoEntrada, usuario: GestorAtual) -> dict[str, Any]:
    """Create an automation (admin, gestor)."""
    with db.sessao() as sessao:
        automacao = cadastro.criar_automacao(
            sessao=sessao, id_empresa=usuario.id_empresa, dados=dados
        )
        return cadastro.automacao_publica(sessao, automacao)


@router.get(
    "/automations/{id_automacao}", response_model=AutomacaoPublica, responses=erros(401, 404)
)
def obter(id_automacao: str, sessao: SessaoDep, usuario: UsuarioAtual) -> dict[str, Any]:
    """One automation."""
    automacao = cadastro.obter_automacao(
        sessao=sessao, id_empresa=usuario.id_empresa, id_automacao=id_automacao
    )
    return cadastro.automacao_publica(sessao, automacao)


@router.patch(
    "/automations/{id_automacao}",
    response_model=AutomacaoAtualizada,
    responses=erros(400, 401, 403, 404),
)
def atualizar(
    id_automacao: str, dados: AutomacaoAtualizacao, usuario: GestorAtual
) -> dict[str, Any]:
    """Edit; pausing (``ativo: false``) keeps the pending jobs in the queue as PAUSADO,
    ``ativo: true`` resumes them (those that fell due go out now)."""
    with db.sessao() as sessao:
        automacao, mudanca = cadastro.atualizar_automacao(
            sessao=sessao, id_empresa=usuario.id_empresa, id_automacao=id_automacao, dados=dados
        )
        return _atualizada(sessao, automacao, mudanca)


@router.post(
    "/automations/{id_automacao}/retomar",
    response_model=AutomacaoAtualizada,
    responses=erros(400, 401, 403, 404),
)
def retomar(id_automacao: str, dados: RetomadaEntrada, usuario: GestorAtual) -> dict[str, Any]:
    """Resume a paused automation: the jobs that fell due during the pause are sent now
    (``vencidos: "enviar"``) or cancelled (``"cancelar"``, ``vencido_durante_pausa``)."""
    with db.sessao() as sessao:
        automacao, mudanca = cadastro.retomar_automacao(
            sessao=sessao,
            id_empresa=usuario.id_empresa,
            id_automacao=id_automacao,
            cancelar_vencidos=dados.vencidos == "cancelar",
        )
        return _atualizada(sessao, automacao, mudanca)


def _atualizada(sessao: Any, automacao: Any, mudanca: cadastro.MudancaDeFila) -> dict[str, Any]:
    return {
        **cadastro.automacao_publica(sessao, automacao),
        "agendamentos_cancelados": mudanca.cancelados,
        "agendamentos_pausados": mudanca.pausados,
        "agendamentos_retomados": mudanca.retomados,
    }


@router.delete(
    "/automations/{id_automacao}",
    response_model=AutomacaoExcluida,
    responses=erros(401, 403, 404),
)
def excluir(id_automacao: str, usuario: GestorAtual) -> dict[str, Any]:
    """Disable, hide and cancel pending jobs (history is kept)."""
    with db.sessao() as sessao:
        cancelados = cadastro.excluir_automacao(
            sessao=sessao, id_empresa=usuario.id_empresa, id_automacao=id_automacao
        )
    return {"ok": True, "agendamentos_cancelados": cancelados}


@router.post(
    "/automations/{id_automacao}/cancelar-pendentes",
    response_model=AutomacaoExcluida,
    responses=erros(401, 403, 404),
)
def cancelar_pendentes(id_automacao: str, usuario: GestorAtual) -> dict[str, Any]:
    """The "Cancelar envios pendentes" action: cancel the waiting jobs (PENDENTE, PAUSADO); the
    automation stays as it is (admin, gestor)."""
    with db.sessao() as sessao:
        cancelados = painel_whatsapp.cancelar_envios_pendentes(
            sessao, id_empresa=usuario.id_empresa, id_automacao=id_automacao
        )
    return {"ok": True, "agendamentos_cancelados": cancelados}


@router.get("/agendamentos", response_model=Pagina[AgendamentoPublico], responses=erros(401))
def agendamentos(
    sessao: SessaoDep,
    usuario: UsuarioAtual,
    pagina: PaginaDep,
    status: str | None = Query(default=None, max_length=16),
    id_lead: str | None = Query(default=None, max_length=32),
    id_whatsapp_automacao: str | None = Query(default=None, max_length=32),
    id_whatsapp_instancia: str | None = Query(default=None, max_length=32),
    id_estagio_trigger: str | None = Query(default=None, max_length=32),
    q: str | None = Query(default=None, max_length=100, description="Nome ou telefone do lead."),
    de: datetime | None = Query(default=None, description="Devidos a partir de (ISO 8601)."),
    ate: datetime | None = Query(default=None, description="Devidos até (ISO 8601)."),
    enviado_de: datetime | None = Query(
        default=None, description="Enviados a partir de (ISO 8601)."
    ),
    enviado_ate: datetime | None = Query(default=None, description="Enviados até (ISO 8601)."),
    ordem: str = Query(default="agendado_para", max_length=16),
) -> dict[str, Any]:
    """The company's jobs, by due time, with the queue's filters (paginated)."""
    return cadastro.pagina_agendamentos(
        sessao=sessao,
        id_empresa=usuario.id_empresa,
        status=status,
        id_lead=id_lead,
        id_whatsapp_automacao=id_whatsapp_automacao,
        id_whatsapp_instancia=id_whatsapp_instancia,
        id_estagio_trigger=id_estagio_trigger,
        q=q,
        de=_com_fuso(de, "de"),
        ate=_com_fuso(ate, "ate"),
        enviado_de=_com_fuso(enviado_de, "enviado_de"),
        enviado_ate=_com_fuso(enviado_ate, "enviado_ate"),
        ordem=ordem,
        limite=pagina.limite,
        cursor=pagina.cursor,
    )


def _com_fuso(valor: datetime | None, campo: str) -> datetime | None:
    if valor is None:
        return None
    if valor.tzinfo is None:
        raise ErroValidacao({campo: "Informe o fuso horário (ex.: 2026-12-01T08:00:00-03:00)."})
    try:
        # Stored as UTC: 0001-01-01T00:00+01:00 or 9999-12-31T23:59-05:00 has no UTC instant.
        return valor.astimezone(UTC)
    except OverflowError:
        raise ErroValidacao({campo: "Data fora do intervalo aceito."}) from None


@router.post(
    "/agendamentos/{id_agendamento}/{acao}",
    response_model=AgendamentoPublico,
    responses=erros(401, 403, 404, 409),
)
def acao_operador(id_agendamento: str, acao: str, usuario: GestorAtual) -> dict[str, Any]:
    """Operator action on a job: ``reenviar`` (ERRO/INCERTO), ``marcar-enviado`` (INCERTO),
    ``cancelar`` (PENDENTE). Each is audited."""
    chave = acao.replace("-", "_")
    if chave not in ACOES_OPERADOR:
        raise NaoEncontrado("Ação desconhecida.")
    with db.sessao() as sessao:
        job = acao_do_operador(
            sessao=sessao,
            id_empresa=usuario.id_empresa,
            id_usuario=usuario.id_usuario,
            id_agendamento=id_agendamento,
            acao=chave,
        )
        return cadastro.agendamento_publico(job)
