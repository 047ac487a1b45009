"""Dispatcher support: a shared per-instance send slot (rate limit) and the operator audit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("whatsapp_instancia") as batch:
        batch.add_column(sa.Column("proximo_envio_em", DT, nullable=True))
    op.create_table(
        "auditoria_agendamento",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("id_empresa", sa.String(32), nullable=False),
        sa.Column("id_agendamento", sa.String(32), nullable=False),
        sa.Column("id_usuario", sa.String(32), nullable=True),
        sa.Column("acao", sa.String(32), nullable=False),
        sa.Column("status_anterior", sa.String(16), nullable=False),
        sa.Column("status_novo", sa.String(16), nullable=False),
        sa.Column("criado_em", DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["id_empresa"], ["empresa.id"], name=op.f("fk_auditoria_agendamento_id_empresa"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["id_agendamento"], ["whatsapp_automacao_agendamento.id"],
            name=op.f("fk_auditoria_agendamento_id_agendamento"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auditoria_agendamento")),
    )
    op.create_index(
        "ix_auditoria_empresa_agendamento", "auditoria_agendamento", ["id_empresa", "id_agendamento"]
    )


def downgrade() -> None:
    op.drop_index("ix_auditoria_empresa_agendamento", table_name="auditoria_agendamento")
    op.drop_table("auditoria_agendamento")
    with op.batch_alter_table("whatsapp_instancia") as batch:
        batch.drop_column("proximo_envio_em")
