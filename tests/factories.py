"""Factories: real rows in the real test database, built through the models."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from whatsapp_app import db, leads
from whatsapp_app.auth import Contexto, hash_senha
from whatsapp_app.models import (
    Empresa,
    Estagio,
    Lead,
    LeadEstagioHistorico,
    Perfil,
    Usuario,
    WhatsappAutomacao,
    WhatsappAutomacaoAgendamento,
    WhatsappAutomacaoEtapa,
    WhatsappInstancia,
    novo_id,
)

SENHA = "senha-de-teste-123"


@lru_cache
def _hash() -> str:
    return hash_senha(SENHA)


@dataclass
class EmpresaTeste:
    id: str
    estagios: list[str]
    usuarios: dict[str, str] = field(default_factory=dict)  # perfil -> e-mail
    ids_usuarios: dict[str, str] = field(default_factory=dict)  # perfil -> id


def criar_empresa(
    nome: str = "Empresa Teste",
    *,
    sufixo: str = "a",
    estagios: tuple[str, ...] = ("Novo", "Qualificado", "Proposta"),
    janela_envio: dict | None = None,
    fuso_horario: str = "America/Sao_Paulo",
) -> EmpresaTeste:
    with db.sessao() as s:
        empresa = Empresa(nome=nome, janela_envio=janela_envio, fuso_horario=fuso_horario)
        s.add(empresa)
        s.flush()
        ids = []
        for ordem, nome_estagio in enumerate(estagios):
            estagio = Estagio(id_empresa=empresa.id, nome=nome_estagio, ordem=ordem)
            s.add(estagio)
            s.flush()
            ids.append(estagio.id)
        resultado = EmpresaTeste(id=empresa.id, estagios=ids)
        for perfil in Perfil:
            email = f"{perfil.value}.{sufixo}@teste.com.br"
            usuario = Usuario(
                id_empresa=empresa.id,
                nome=f"{perfil.value} {sufixo}",
                email=email,
                senha_hash=_hash(),
                perfil=perfil.value,
            )
            s.add(usuario)
            s.flush()
            resultado.usuarios[perfil.value] = email
            resultado.ids_usuarios[perfil.value] = usuario.id
    return resultado


def criar_lead(
    empresa: EmpresaTeste,
    *,
    nome: str = "Maria Silva",
    telefone: str = "+5511987654321",
    estagio: int = 0,
) -> str:
    with db.sessao() as s:
        lead = Lead(
            id_empresa=empresa.id,
            nome=nome,
            telefone=telefone,
            id_estagio=empresa.estagios[estagio],
        )
        s.add(lead)
        s.flush()
        s.add(
            LeadEstagioHistorico(
                id_empresa=empresa.id, id_lead=lead.id, id_estagio=lead.id_estagio, ordinal=1
            )
        )
        return lead.id


def criar_instancia(empresa: EmpresaTeste, *, provider: str = "simulador") -> str:
    with db.sessao() as s:
        instancia = WhatsappInstancia(id_empresa=empresa.id, nome="Instância", provider=provider)
        s.add(instancia)
        s.flush()
        return instancia.id


def criar_automacao(
    empresa: EmpresaTeste,
    *,
    estagio: int = 1,
    atrasos: tuple[int, ...] = (0, 60),
    reentrada: str = "uma_vez",
    cancelar_ao_sair: bool = True,
    ativo: bool = True,
    id_instancia: str | None = None,
    parar_ao_responder: bool = True,
) -> str:
    id_instancia = id_instancia or criar_instancia(empresa)
    with db.sessao() as s:
        automacao = WhatsappAutomacao(
            id_empresa=empresa.id,
            nome="Automação",
            id_estagio_trigger=empresa.estagios[estagio],
            id_whatsapp_instancia=id_instancia,
            reentrada=reentrada,
            cancelar_ao_sair=cancelar_ao_sair,
            ativo=ativo,
            parar_ao_responder=parar_ao_responder,
        )
        s.add(automacao)
        s.flush()
        for ordem, atraso in enumerate(atrasos, start=1):
            s.add(
                WhatsappAutomacaoEtapa(
                    id_empresa=empresa.id,
                    id_whatsapp_automacao=automacao.id,
                    ordem=ordem,
                    atraso_minutos=atraso,
                    mensagem=f"Olá {{{{primeiro_nome}}}}, passo {ordem}",
                )
            )
        return automacao.id


def login(cliente, email: str, senha: str = SENHA) -> dict[str, str]:  # type: ignore[no-untyped-def]
    resposta = cliente.post("/api/auth/login", json={"email": email, "senha": senha})
    assert resposta.status_code == 200, resposta.text
    # The bearer is the credential here: a session cookie kept by the client would make
    # state-changing calls cookie calls, which need a same-origin Origin (CSRF).
    cliente.cookies.clear()
    return {"Authorization": f"Bearer {resposta.json()['token']}"}


def criar_job(
    empresa: EmpresaTeste, id_lead: str, id_automacao: str, status: str, **extra: Any
) -> str:
    """A job of the automation's first step for the lead, in ``status`` (columns in ``extra``)."""
    with db.sessao() as s:
        etapa = s.exec(
            select(WhatsappAutomacaoEtapa).where(
                WhatsappAutomacaoEtapa.id_whatsapp_automacao == id_automacao
            )
        ).first()
        assert etapa is not None
        job = WhatsappAutomacaoAgendamento(
            id_empresa=empresa.id,
            id_lead=id_lead,
            id_whatsapp_automacao=id_automacao,
            id_etapa=etapa.id,
            id_estagio_trigger=empresa.estagios[1],
            chave_idempotencia=novo_id(),
            status=status,
            **extra,
        )
        s.add(job)
        s.flush()
        return job.id


def contexto_de(empresa: EmpresaTeste, perfil: str) -> Contexto:
    """The signed-in context of the company's user of ``perfil`` (for page States)."""
    return Contexto(
        id_usuario=empresa.ids_usuarios[perfil],
        id_empresa=empresa.id,
        perfil=perfil,
        nome=perfil,
        email=empresa.usuarios[perfil],
        tema="system",
        nome_empresa="Empresa Teste",
    )


def mover(empresa: EmpresaTeste, id_lead: str, estagio: int = 1) -> leads.ResultadoMovimento:
    """Move the lead to the company's ``estagio``-th stage in a transaction of its own."""
    with db.sessao() as s:
        return leads.mover_lead(
            sessao=s,
            id_empresa=empresa.id,
            id_lead=id_lead,
            id_estagio_destino=empresa.estagios[estagio],
        )


def entradas_no_estagio(id_lead: str, id_estagio: str) -> list[LeadEstagioHistorico]:
    """The lead's history rows of its entries into ``id_estagio``."""
    with db.sessao() as s:
        return list(
            s.exec(
                select(LeadEstagioHistorico).where(
                    LeadEstagioHistorico.id_lead == id_lead,
                    LeadEstagioHistorico.id_estagio == id_estagio,
                )
            ).all()
        )


def agendar(
    empresa: EmpresaTeste,
    n: int,
    *,
    atrasos: tuple[int, ...] = (0,),
    id_instancia: str | None = None,
    telefone: str = "+55119876{:05d}",
) -> list[str]:
    """An automation on stage 1 and ``n`` leads moved there (each gets its jobs); the leads."""
    criar_automacao(empresa, estagio=1, atrasos=atrasos, id_instancia=id_instancia)
    ids = []
    for i in range(n):
        ids.append(criar_lead(empresa, nome=f"Lead {i}", telefone=telefone.format(i)))
        mover(empresa, ids[-1])
    return ids


def resumo_despacho(**valores: int) -> dict[str, int]:
    """A dispatch summary as the API answers it: every field, the ones not given at 0."""
    campos = ("claimed", "sent", "failed", "retried", "uncertain", "skipped_already_claimed")
    return {**dict.fromkeys((*campos, "cancelled"), 0), **valores}


@contextmanager
def comandos_sql(filtro: Callable[[str], bool] = lambda _sql: True) -> Iterator[list[str]]:
    """The SQL statements this process sends while inside that ``filtro`` keeps (BEGIN
    excluded), whitespace collapsed."""
    vistos: list[str] = []

    def _anotar(_c: Any, _cur: Any, sql: str, *_a: Any) -> None:
        if not sql.lstrip().upper().startswith("BEGIN") and filtro(sql):
            vistos.append(" ".join(sql.split()))

    motor = db.engine()
    sa.event.listen(motor, "before_cursor_execute", _anotar)
    try:
        yield vistos
    finally:
        sa.event.remove(motor, "before_cursor_execute", _anotar)
