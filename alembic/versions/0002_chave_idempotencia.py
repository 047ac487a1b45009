"""Deterministic idempotency for follow-up jobs, plus the dispatcher's claim columns.

Adds ``id_estagio_trigger`` and ``chave_idempotencia``, backfills both for existing rows,
resolves existing duplicates and creates ``UNIQUE (id_empresa, chave_idempotencia)``.

Duplicates: rows that share a key are one logical job. The row kept is the most advanced one
(ENVIADO, then PROCESSANDO, PENDENTE, ERRO, CANCELADO), the oldest among equals. Every other
row keeps its history under ``<key>:legado:<id>``; those still ``PENDENTE`` become
``CANCELADO`` with ``motivo_cancelamento = 'duplicata_migracao'``, so nothing is sent twice and
nothing already stored is deleted.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DT = sa.DateTime(timezone=True)
TABELA = "whatsapp_automacao_agendamento"
MOTIVO_DUPLICATA = "duplicata_migracao"
PRIORIDADE = {"ENVIADO": 0, "PROCESSANDO": 1, "PENDENTE": 2, "ERRO": 3, "CANCELADO": 4}
LOTE = 500

agendamento = sa.table(
    TABELA,
    sa.column("id", sa.String),
    sa.column("id_empresa", sa.String),
    sa.column("id_lead", sa.String),
    sa.column("id_whatsapp_automacao", sa.String),
    sa.column("id_etapa", sa.String),
    sa.column("id_estagio_trigger", sa.String),
    sa.column("chave_idempotencia", sa.String),
    sa.column("status", sa.String),
    sa.column("motivo_cancelamento", sa.String),
    sa.column("criado_em", DT),
    sa.column("atualizado_em", DT),
)
automacao = sa.table(
    "whatsapp_automacao", sa.column("id", sa.String), sa.column("id_estagio_trigger", sa.String)
)


def _backfill(conexao: sa.Connection) -> None:
    linhas = conexao.execute(
        sa.select(
            agendamento.c.id,
            agendamento.c.id_empresa,
            agendamento.c.id_lead,
            agendamento.c.id_whatsapp_automacao,
            agendamento.c.id_etapa,
            agendamento.c.status,
            agendamento.c.criado_em,
            automacao.c.id_estagio_trigger,
        ).join(automacao, automacao.c.id == agendamento.c.id_whatsapp_automacao)
    ).all()

    grupos: dict[str, list[sa.Row]] = {}
    for linha in linhas:
        chave = (
            f"{linha.id_empresa}:{linha.id_lead}:{linha.id_estagio_trigger}:"
            f"{linha.id_whatsapp_automacao}:{linha.id_etapa}"
        )
        grupos.setdefault(chave, []).append(linha)

    agora = datetime.now(UTC)
    atualizacoes: list[dict] = []
    for chave, membros in grupos.items():
        membros.sort(key=lambda r: (PRIORIDADE.get(r.status, 9), r.criado_em, r.id))
        mantida, *duplicadas = membros
        atualizacoes.append(
            {"_id": mantida.id, "_chave": chave, "_trigger": mantida.id_estagio_trigger,
             "_status": mantida.status, "_motivo": None}
        )
        for dup in duplicadas:
            pendente = dup.status == "PENDENTE"
            atualizacoes.append(
                {"_id": dup.id, "_chave": f"{chave}:legado:{dup.id}",
                 "_trigger": dup.id_estagio_trigger,
                 "_status": "CANCELADO" if pendente else dup.status,
                 "_motivo": MOTIVO_DUPLICATA if pendente else None}
            )

    comando = (
        agendamento.update()
        .where(agendamento.c.id == sa.bindparam("_id"))
        .values(
            chave_idempotencia=sa.bindparam("_chave"),
            id_estagio_trigger=sa.bindparam("_trigger"),
            status=sa.bindparam("_status"),
            motivo_cancelamento=sa.bindparam("_motivo"),
        )
    )
    for inicio in range(0, len(atualizacoes), LOTE):
        lote = atualizacoes[inicio : inicio + LOTE]
        conexao.execute(comando, lote)
    canceladas = [a["_id"] for a in atualizacoes if a["_motivo"] == MOTIVO_DUPLICATA]
    for inicio in range(0, len(canceladas), LOTE):
        conexao.execute(
            agendamento.update()
            .where(agendamento.c.id.in_(canceladas[inicio : inicio + LOTE]))
            .values(atualizado_em=agora)
        )


def upgrade() -> None:
    with op.batch_alter_table(TABELA) as batch:
        batch.add_column(sa.Column("id_estagio_trigger", sa.String(32), nullable=True))
        batch.add_column(sa.Column("chave_idempotencia", sa.String(255), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("claimed_at", DT, nullable=True))
        batch.add_column(sa.Column("envio_iniciado_em", DT, nullable=True))
        batch.add_column(sa.Column("enviado_em", DT, nullable=True))
        batch.add_column(sa.Column("provider_message_id", sa.String(255), nullable=True))
        batch.add_column(sa.Column("motivo_cancelamento", sa.String(64), nullable=True))

    _backfill(op.get_bind())

    with op.batch_alter_table(TABELA) as batch:
        batch.alter_column("id_estagio_trigger", existing_type=sa.String(32), nullable=False)
        batch.alter_column("chave_idempotencia", existing_type=sa.String(255), nullable=False)
        # New code fills it with the key; legacy readers still find a value.
        batch.alter_column("referencia_evento", existing_type=sa.String(255), nullable=True)
        batch.create_unique_constraint("uq_agendamento_chave", ["id_empresa", "chave_idempotencia"])
    op.create_index("ix_agendamento_empresa_lead", TABELA, ["id_empresa", "id_lead"])
    op.create_index(
        "ix_agendamento_empresa_automacao", TABELA, ["id_empresa", "id_whatsapp_automacao", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_agendamento_empresa_automacao", table_name=TABELA)
    op.drop_index("ix_agendamento_empresa_lead", table_name=TABELA)
    conexao = op.get_bind()
    # Rows written after the upgrade may lack the legacy reference: give them their key.
    conexao.execute(
        sa.text(
            f"UPDATE {TABELA} SET referencia_evento = chave_idempotencia "
            "WHERE referencia_evento IS NULL"
        )
    )
    with op.batch_alter_table(TABELA) as batch:
        batch.drop_constraint("uq_agendamento_chave", type_="unique")
        batch.alter_column("referencia_evento", existing_type=sa.String(255), nullable=False)
        for coluna in (
            "motivo_cancelamento",
            "provider_message_id",
            "enviado_em",
            "envio_iniciado_em",
            "claimed_at",
            "claimed_by",
            "chave_idempotencia",
            "id_estagio_trigger",
        ):
            batch.drop_column(coluna)
