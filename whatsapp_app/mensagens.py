"""The conversation table (``whatsapp_mensagem``): store and read messages, both directions.

Writes are idempotent: ``UNIQUE (id_whatsapp_instancia, provider_message_id)`` with ON CONFLICT
DO NOTHING, so a webhook delivered twice, or a send recorded by two paths, stores one row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from whatsapp_app import paginacao
from whatsapp_app.esquemas import LEITOR_MENSAGEM
from whatsapp_app.models import DirecaoMensagem, WhatsappMensagem, novo_id
from whatsapp_app.tempo import agora

_mensagem = WhatsappMensagem.__table__  # type: ignore[attr-defined]

JANELA_ATENDIMENTO = timedelta(hours=24)  # Cloud API: free text only this long after a reply


def inserir_mensagem(sessao: Session, **valores: Any) -> str | None:
    """Insert one message; its id, or None when that provider message is already stored."""
    dialeto = postgresql if sessao.get_bind().dialect.name == "postgresql" else sqlite
    momento = agora()
    linha = {"id": novo_id(), "criado_em": momento, "momento": momento, **valores}
    comando = dialeto.insert(_mensagem).values(**linha).on_conflict_do_nothing()
    resultado = sessao.execute(comando.returning(_mensagem.c.id)).first()
    return resultado[0] if resultado else None


def ultimas_entradas(
    sessao: Session, pares: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], datetime]:
    """Each (lead, instance)'s last message to that instance (the start of its 24-hour
    window), for many pairs in one query; a pair that never wrote is left out."""
    procurados = set(pares)
    if not procurados:
        return {}
    t = _mensagem
    # max() keeps the column's type, so the value comes back timezone-aware on both engines.
    linhas = sessao.execute(
        sa.select(t.c.id_lead, t.c.id_whatsapp_instancia, sa.func.max(t.c.momento))
        .where(
            t.c.direcao == DirecaoMensagem.ENTRADA.value,
            t.c.id_lead.in_({lead for lead, _i in procurados}),
            t.c.id_whatsapp_instancia.in_({instancia for _l, instancia in procurados}),
        )
        .group_by(t.c.id_lead, t.c.id_whatsapp_instancia)
    ).all()
    return {(lead, inst): momento for lead, inst, momento in linhas if (lead, inst) in procurados}


def janela_aberta(ultima: datetime | None, momento: datetime | None = None) -> bool:
    return ultima is not None and (momento or agora()) < ultima + JANELA_ATENDIMENTO


def respostas_24h_por_instancia(sessao: Session, *, id_empresa: str) -> dict[str, int]:
    """Inbound messages per instance over the last 24 hours (the /whatsapp cards)."""
    t = _mensagem
    linhas = sessao.execute(
        sa.select(t.c.id_whatsapp_instancia, sa.func.count())
        .where(
            t.c.id_empresa == id_empresa,
            t.c.direcao == DirecaoMensagem.ENTRADA.value,
            t.c.momento >= agora() - timedelta(hours=24),
        )
        .group_by(t.c.id_whatsapp_instancia)
    ).all()
    return {str(id_instancia): int(n) for id_instancia, n in linhas}


def mensagem_publica(mensagem: WhatsappMensagem) -> dict[str, Any]:
    """Outbound messages also carry ``id_agendamento`` and ``status_entrega``."""
    return LEITOR_MENSAGEM.validate_python(mensagem).model_dump(mode="json")


def listar_mensagens(
    sessao: Session,
    *,
    id_empresa: str,
    id_lead: str,
    limite: int = paginacao.LIMITE_PADRAO,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The lead's conversation, oldest first, one page (contract §7)."""
    consulta = select(WhatsappMensagem).where(
        WhatsappMensagem.id_empresa == id_empresa, WhatsappMensagem.id_lead == id_lead
    )
    return paginacao.paginar(
        sessao,
        consulta,
        colunas=[col(WhatsappMensagem.momento), col(WhatsappMensagem.id)],
        limite=limite,
        cursor=cursor,
        publico=mensagem_publica,
    )


def conversa_recente(
    sessao: Session, *, id_empresa: str, id_lead: str, limite: int = 100
) -> list[WhatsappMensagem]:
    """The last ``limite`` messages of a lead, in time order (the drawer shows these)."""
    recentes = sessao.exec(
        select(WhatsappMensagem)
        .where(WhatsappMensagem.id_empresa == id_empresa, WhatsappMensagem.id_lead == id_lead)
        .order_by(col(WhatsappMensagem.momento).desc(), col(WhatsappMensagem.id).desc())
        .limit(limite)
    ).all()
    return list(reversed(recentes))
