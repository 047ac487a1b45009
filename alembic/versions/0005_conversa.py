"""Conversation-aware follow-ups: inbound messages, stop on reply, opt-out, Cloud API templates.

- ``whatsapp_mensagem``: every message, both directions; ``provider_message_id`` unique per
  instance (a redelivered webhook stores nothing twice).
- ``auditoria_lead``: opt-in by hand after an opt-out.
- ``lead``: ``optout_em``, ``ultima_resposta_em``, ``conversa_lida_em``.
- ``whatsapp_automacao.parar_ao_responder`` (existing automations: true, the new default).
- ``whatsapp_automacao_etapa.modelo`` (Cloud API template outside the 24-hour window).
- ``empresa.palavras_optout`` (NULL = the default words).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("empresa") as batch:
        batch.add_column(sa.Column("palavras_optout", sa.JSON(), nullable=True))
    with op.batch_alter_table("lead") as batch:
        batch.add_column(sa.Column("optout_em", DT, nullable=True))
        batch.add_column(sa.Column("ultima_resposta_em", DT, nullable=True))
        batch.add_column(sa.Column("conversa_lida_em", DT, nullable=True))
    with op.batch_alter_table("whatsapp_automacao") as batch:
        batch.add_column(
            sa.Column(
                "parar_ao_responder", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
    with op.batch_alter_table("whatsapp_automacao_etapa") as batch:
        batch.add_column(sa.Column("modelo", sa.JSON(), nullable=True))

    op.create_table(
        "whatsapp_mensagem",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("id_empresa", sa.String(32), nullable=False),
        sa.Column("id_lead", sa.String(32), nullable=True),
        sa.Column("id_whatsapp_instancia", sa.String(32), nullable=False),
        sa.Column("direcao", sa.String(8), nullable=False),
        sa.Column("telefone", sa.String(32), nullable=False),
        sa.Column("nome_contato", sa.String(200), nullable=True),
        sa.Column("texto", sa.Text(), nullable=False),
        sa.Column("provider_message_id", sa.String(255), nullable=True),
        sa.Column("id_resposta_a", sa.String(255), nullable=True),
        sa.Column("id_agendamento", sa.String(32), nullable=True),
        sa.Column("status_entrega", sa.String(16), nullable=True),
        sa.Column("status_entrega_em", DT, nullable=True),
        sa.Column("momento", DT, nullable=False),
        sa.Column("criado_em", DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["id_empresa"], ["empresa.id"], name="fk_whatsapp_mensagem_id_empresa", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["id_lead"], ["lead.id"], name="fk_whatsapp_mensagem_id_lead", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["id_whatsapp_instancia"],
            ["whatsapp_instancia.id"],
            name="fk_whatsapp_mensagem_id_whatsapp_instancia",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["id_agendamento"],
            ["whatsapp_automacao_agendamento.id"],
            name="fk_whatsapp_mensagem_id_agendamento",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_whatsapp_mensagem"),
        sa.UniqueConstraint(
            "id_whatsapp_instancia", "provider_message_id", name="uq_mensagem_instancia_provider"
        ),
    )
    op.create_index(
        "ix_mensagem_empresa_lead_momento", "whatsapp_mensagem", ["id_empresa", "id_lead", "momento"]
    )
    op.create_index(
        "ix_mensagem_instancia_direcao_momento",
        "whatsapp_mensagem",
        ["id_whatsapp_instancia", "direcao", "momento"],
    )
    op.create_index("ix_mensagem_agendamento", "whatsapp_mensagem", ["id_agendamento"])
    op.create_table(
        "auditoria_lead",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("id_empresa", sa.String(32), nullable=False),
        sa.Column("id_lead", sa.String(32), nullable=False),
        sa.Column("id_usuario", sa.String(32), nullable=True),
        sa.Column("acao", sa.String(32), nullable=False),
        sa.Column("detalhe", sa.Text(), nullable=True),
        sa.Column("criado_em", DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["id_empresa"], ["empresa.id"], name="fk_auditoria_lead_id_empresa", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["id_lead"], ["lead.id"], name="fk_auditoria_lead_id_lead", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_auditoria_lead"),
    )
    op.create_index("ix_auditoria_lead_empresa_lead", "auditoria_lead", ["id_empresa", "id_lead"])


def downgrade() -> None:
    op.drop_index("ix_auditoria_lead_empresa_lead", table_name="auditoria_lead")
    op.drop_table("auditoria_lead")
    op.drop_index("ix_mensagem_agendamento", table_name="whatsapp_mensagem")
    op.drop_index("ix_mensagem_instancia_direcao_momento", table_name="whatsapp_mensagem")
    op.drop_index("ix_mensagem_empresa_lead_momento", table_name="whatsapp_mensagem")
    op.drop_table("whatsapp_mensagem")
    with op.batch_alter_table("whatsapp_automacao_etapa") as batch:
        batch.drop_column("modelo")
    with op.batch_alter_table("whatsapp_automacao") as batch:
        batch.drop_column("parar_ao_responder")
    with op.batch_alter_table("lead") as batch:
        batch.drop_column("conversa_lida_em")
        batch.drop_column("ultima_resposta_em")
        batch.drop_column("optout_em")
    with op.batch_alter_table("empresa") as batch:
        batch.drop_column("palavras_optout")
