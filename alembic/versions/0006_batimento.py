"""Heartbeat of claims in flight: ``whatsapp_automacao_agendamento.batimento_em``.

The dispatcher that owns a PROCESSANDO job refreshes it every BATIMENTO_INTERVALO_S; the reaper
takes back the claims whose owner went silent (a SIGKILLed worker) within BATIMENTO_PRAZO_S,
instead of waiting for the whole claim deadline. NULL on existing rows: the reaper then falls
back to ``claimed_at``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("whatsapp_automacao_agendamento") as batch:
        batch.add_column(sa.Column("batimento_em", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_automacao_agendamento") as batch:
        batch.drop_column("batimento_em")
