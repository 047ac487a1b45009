"""Company settings and pipeline stages: service functions shared by the API and the UI."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from whatsapp_app import paginacao
from whatsapp_app.conversa import palavras_optout
from whatsapp_app.esquemas import ComDerivados, EmpresaPublica, EstagioPublico
from whatsapp_app.models import Empresa, Estagio
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import EmpresaAtualizacao, NaoEncontrado


def empresa_publica(empresa: Empresa) -> dict[str, Any]:
    publica = ComDerivados(empresa, palavras_optout=palavras_optout(empresa))
    return EmpresaPublica.model_validate(publica).model_dump(mode="json")


def obter_empresa(*, sessao: Session, id_empresa: str) -> Empresa:
    empresa = sessao.get(Empresa, id_empresa)
    if empresa is None:
        raise NaoEncontrado("Empresa não encontrada.")
    return empresa


def atualizar_empresa(*, sessao: Session, id_empresa: str, dados: EmpresaAtualizacao) -> Empresa:
    empresa = obter_empresa(sessao=sessao, id_empresa=id_empresa)
    enviados = dados.model_fields_set
    if "nome" in enviados and dados.nome:
        empresa.nome = dados.nome
    if "fuso_horario" in enviados and dados.fuso_horario:
        empresa.fuso_horario = dados.fuso_horario
    if "palavras_optout" in enviados:
        empresa.palavras_optout = dados.palavras_optout
    if "janela_envio" in enviados:
        empresa.janela_envio = dados.janela_envio.model_dump() if dados.janela_envio else None
    empresa.atualizado_em = agora()
    sessao.add(empresa)
    sessao.flush()
    return empresa


def listar_estagios(*, sessao: Session, id_empresa: str) -> list[Estagio]:
    return list(
        sessao.exec(
            select(Estagio).where(Estagio.id_empresa == id_empresa).order_by(col(Estagio.ordem))
        ).all()
    )


def estagio_publico(estagio: Estagio) -> dict[str, Any]:
    return EstagioPublico.model_validate(estagio).model_dump(mode="json")


def pagina_estagios(
    *, sessao: Session, id_empresa: str, limite: int, cursor: str | None
) -> dict[str, Any]:
    """The company's pipeline stages in order, one page."""
    return paginacao.paginar(
        sessao,
        select(Estagio).where(Estagio.id_empresa == id_empresa),
        colunas=[col(Estagio.ordem), col(Estagio.id)],
        limite=limite,
        cursor=cursor,
        publico=estagio_publico,
    )
