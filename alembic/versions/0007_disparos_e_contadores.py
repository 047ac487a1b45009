"""Manual dispatch history and per-hour dispatch counters.

``whatsapp_disparo_manual``: one row per "Disparar agora" (who, when, summary, status), with
``cancelamento_solicitado_em`` so a cancel reaches the dispatch in whatever process runs it,
``motivo_falha`` (why a run failed, pt-BR) and ``batimento_em`` (the running process's
heartbeat, so a run whose process died is closed as failed).
``whatsapp_contador_despacho``: the dispatcher's counters per company and hour, summed across
processes, for the admins' "Saúde do despacho".
``ix_agendamento_empresa_agendado_para``: the send queue's default view (a company's jobs by due
time, in its keyset order) as an index range instead of a sort of every row, and
``ix_agendamento_empresa_status_agendado_para`` for its status filter and the chips' bounded
counts, and ``ix_agendamento_empresa_enviado_em`` for its sent-time filter (bench/escala.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 15:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_agendamento_empresa_agendado_para",
        "whatsapp_automacao_agendamento",
        ["id_empresa", "agendado_para", "id"],
    )
    op.create_index(
        "ix_agendamento_empresa_status_agendado_para",
        "whatsapp_automacao_agendamento",
        ["id_empresa", "status", "agendado_para", "id"],
    )
    op.create_index(
        "ix_agendamento_empresa_enviado_em",
        "whatsapp_automacao_agendamento",
        ["id_empresa", "enviado_em"],
    )
    op.create_table(
        "whatsapp_disparo_manual",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("id_empresa", sa.String(32), nullable=False),
        sa.Column("id_usuario", sa.String(32), nullable=True),
        sa.Column("nome_usuario", sa.String(255), nullable=True),
        sa.Column("id_whatsapp_instancia", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resumo", sa.JSON(), nullable=False),
        sa.Column("iniciado_em", sa.DateTime(timezone=True), nullable=False),
        sa.Column("concluido_em", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelamento_solicitado_em", sa.DateTime(timezone=True), nullable=True),
        sa.Column("motivo_falha", sa.Text(), nullable=True),
        sa.Column("batimento_em", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["id_empresa"],
            ["empresa.id"],
            name="fk_whatsapp_disparo_manual_id_empresa",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_whatsapp_disparo_manual"),
    )
    op.create_index(
        "ix_whatsapp_disparo_manual_id_empresa_iniciado_em",
        "whatsapp_disparo_manual",
        ["id_empresa", "iniciado_em"],
    )
    op.create_table(
        "whatsapp_contador_despacho",
        sa.Column("id_empresa", sa.String(32), nullable=False),
        sa.Column("hora", sa.DateTime(timezone=True), nullable=False),
        sa.Column("nome", sa.String(48), nullable=False),
        sa.Column("valor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["id_empresa"],
            ["empresa.id"],
            name="fk_whatsapp_contador_despacho_id_empresa",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_empresa", "hora", "nome", name="pk_whatsapp_contador_despacho"),
    )


def downgrade() -> None:
    op.drop_index("ix_agendamento_empresa_enviado_em", table_name="whatsapp_automacao_agendamento")
    op.drop_index(
        "ix_agendamento_empresa_status_agendado_para",
        table_name="whatsapp_automacao_agendamento",
    )
    op.drop_index(
        "ix_agendamento_empresa_agendado_para", table_name="whatsapp_automacao_agendamento"
    )
    op.drop_table("whatsapp_contador_despacho")
    op.drop_index(
        "ix_whatsapp_disparo_manual_id_empresa_iniciado_em", table_name="whatsapp_disparo_manual"
    )
    op.drop_table("whatsapp_disparo_manual")
