"""Instances API, provider webhooks and the connectivity poller.

``whatsapp_instancia``: ``excluida_em`` (DELETE hides, history stays), ``webhook_configurado_em``,
``phone_number_id`` (Meta webhooks name the number; indexed), ``erro_conexao``, the poller's
debounce candidate (``status_candidato``, ``_desde``, ``_vezes``) and ``eventos_pendentes``
(delivery webhooks that arrived before their job had a provider message id).

``whatsapp_automacao_agendamento``: ``status_entrega``, ``status_entrega_em``, ``erro_entrega``
and an index on ``(id_empresa, provider_message_id)`` for webhook matching.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("whatsapp_instancia") as batch:
        batch.add_column(sa.Column("excluida_em", DT, nullable=True))
        batch.add_column(sa.Column("webhook_configurado_em", DT, nullable=True))
        batch.add_column(sa.Column("phone_number_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("erro_conexao", sa.Text(), nullable=True))
        batch.add_column(sa.Column("status_candidato", sa.String(16), nullable=True))
        batch.add_column(sa.Column("status_candidato_desde", DT, nullable=True))
        batch.add_column(
            sa.Column("status_candidato_vezes", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("eventos_pendentes", sa.JSON(), nullable=True))
    op.create_index(
        "ix_whatsapp_instancia_phone_number_id", "whatsapp_instancia", ["phone_number_id"]
    )
    with op.batch_alter_table("whatsapp_automacao_agendamento") as batch:
        batch.add_column(sa.Column("status_entrega", sa.String(16), nullable=True))
        batch.add_column(sa.Column("status_entrega_em", DT, nullable=True))
        batch.add_column(sa.Column("erro_entrega", sa.Text(), nullable=True))
    op.create_index(
        "ix_agendamento_empresa_provider_message_id",
        "whatsapp_automacao_agendamento",
        ["id_empresa", "provider_message_id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_agendamento_empresa_provider_message_id", table_name="whatsapp_automacao_agendamento"
    )
    with op.batch_alter_table("whatsapp_automacao_agendamento") as batch:
        batch.drop_column("erro_entrega")
        batch.drop_column("status_entrega_em")
        batch.drop_column("status_entrega")
    op.drop_index("ix_whatsapp_instancia_phone_number_id", table_name="whatsapp_instancia")
    with op.batch_alter_table("whatsapp_instancia") as batch:
        batch.drop_column("eventos_pendentes")
        batch.drop_column("status_candidato_vezes")
        batch.drop_column("status_candidato_desde")
        batch.drop_column("status_candidato")
        batch.drop_column("erro_conexao")
        batch.drop_column("phone_number_id")
        batch.drop_column("webhook_configurado_em")
        batch.drop_column("excluida_em")
