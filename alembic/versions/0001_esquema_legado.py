"""Legacy schema: the CRM as it is before the WhatsApp overhaul.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 17:40:57.168878
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

DT = sa.DateTime(timezone=True)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "empresa",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("nome", sa.String(length=200), nullable=False),
        sa.Column("fuso_horario", sa.String(length=64), nullable=False),
        sa.Column("janela_envio", sa.JSON(), nullable=True),
        sa.Column("criado_em", DT, nullable=False),
        sa.Column("atualizado_em", DT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_empresa")),
    )
    op.create_table(
        "tentativa_login",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("criado_em", DT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tentativa_login")),
    )
    op.create_index(
        op.f("ix_tentativa_login_email_criado_em"),
        "tentativa_login",
        ["email", "criado_em"],
        unique=False,
    )
    op.create_index(
        op.f("ix_tentativa_login_ip_criado_em"),
        "tentativa_login",
        ["ip", "criado_em"],
        unique=False,
    )

    op.create_table(
        "estagio",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("id_empresa", sa.String(length=32), nullable=False),
        sa.Column("nome", sa.String(length=80), nullable=False),
        sa.Column("ordem", sa.Integer(), nullable=False),
        sa.Column("cor", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["id_empresa"], ["empresa.id"], name=op.f("fk_estagio_id_empresa"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estagio")),
    )
    op.create_index(
        op.f("ix_estagio_id_empresa_ordem"), "estagio", ["id_empresa", "ordem"], unique=False
    )

    op.create_table(
        "feature_flag",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("id_empresa", sa.String(length=32), nullable=False),
        sa.Column("chave", sa.String(length=64), nullable=False),
        sa.Column("ativo", sa.Boolean(), nullable=False),
        sa.Column("atualizado_em", DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["id_empresa"],
            ["empresa.id"],
            name=op.f("fk_feature_flag_id_empresa"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_flag")),
        sa.UniqueConstraint("id_empresa", "chave", name=op.f("uq_feature_flag_id_empresa_chave")),
    )
    op.create_table(
        "usuario",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("id_empresa", sa.String(length=32), nullable=False),
        sa.Column("nome", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("senha_hash", sa.String(length=255), nullable=False),
        sa.Column("perfil", sa.String(length=16), nullable=False),
        sa.Column("tema", sa.String(length=8), nullable=False),
        sa.Column("ativo", sa.Boolean(), nullable=False),
        sa.Column("criado_em", DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["id_empresa"], ["empresa.id"], name=op.f("fk_usuario_id_empresa"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usuario")),
        sa.UniqueConstraint("email", name=op.f("uq_usuario_email")),
    )
    op.create_index(
        op.f("ix_usuario_id_empresa_perfil"), "usuario", ["id_empresa", "perfil"], unique=False
    )

    op.create_table(
        "whatsapp_instancia",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("id_empresa", sa.String(length=32), nullable=False),
        sa.Column("nome", sa.String(length=120), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("config_cifrada", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ultima_sincronizacao", DT, nullable=True),
        sa.Column("criado_em", DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["id_empresa"],
            ["empresa.id"],
            name=op.f("fk_whatsapp_instancia_id_empresa"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_instancia")),
    )
    op.create_index(
        op.f("ix_whatsapp_instancia_id_empresa"), "whatsapp_instancia", ["id_empresa"], unique=False
    )

    op.create_table(
        "lead",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("id_empresa", sa.String(length=32), nullable=False),
        sa.Column("nome", sa.String(length=200), nullable=False),
        sa.Column("telefone", sa.String(length=20), nullable=False),
        sa.Column("id_estagio", sa.String(length=32), nullable=False),
        sa.Column("id_responsavel", sa.String(length=32), nullable=True),
        sa.Column("criado_em", DT, nullable=False),
        sa.Column("atualizado_em", DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["id_empresa"], ["empresa.id"], name=op.f("fk_lead_id_empresa"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["id_estagio"], ["estagio.id"], name=op.f("fk_lead_id_estagio"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["id_responsavel"],
            ["usuario.id"],
            name=op.f("fk_lead_id_responsavel"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead")),
    )
    op.create_index(
        op.f("ix_lead_id_empresa_id_estagio"), "lead", ["id_empresa", "id_estagio"], unique=False
    )
    op.create_index(
        op.f("ix_lead_id_empresa_telefone"), "lead", ["id_empresa", "telefone"], unique=False
    )

    op.create_table(
        "sessao_usuario",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("id_empresa", sa.String(length=32), nullable=False),
        sa.Column("id_usuario", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("criado_em", DT, nullable=False),
        sa.Column("expira_em", DT, nullable=False),
        sa.Column("revogada_em", DT, nullable=True),
        sa.ForeignKeyConstraint(
            ["id_empresa"],
            ["empresa.id"],
            name=op.f("fk_sessao_usuario_id_empresa"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["id_usuario"],
            ["usuario.id"],
            name=op.f("fk_sessao_usuario_id_usuario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessao_usuario")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sessao_usuario_token_hash")),
    )
    op.create_index(
        op.f("ix_sessao_usuario_id_empresa_id_usuario"),
        "sessao_usuario",
        ["id_empresa", "id_usuario"],
        unique=False,
    )

    op.create_table(
        "whatsapp_automacao",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("id_empresa", sa.String(length=32), nullable=False),
        sa.Column("nome", sa.String(length=120), nullable=False),
        sa.Column("evento", sa.String(length=32), nullable=False),
        sa.Column("id_estagio_trigger", sa.String(length=32), nullable=False),
        sa.Column("id_whatsapp_instancia", sa.String(length=32), nullable=False),
        sa.Column("ativo", sa.Boolean(), nullable=False),
        sa.Column("reentrada", sa.String(length=16), nullable=False),
        sa.Column("cancelar_ao_sair", sa.Boolean(), nullable=False),
        sa.Column("criado_em", DT, nullable=False),
        sa.Column("atualizado_em", DT, nullable=False),
        sa.Column("excluida_em", DT, nullable=True),
        sa.ForeignKeyConstraint(
            ["id_empresa"],
            ["empresa.id"],
            name=op.f("fk_whatsapp_automacao_id_empresa"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["id_estagio_trigger"],
            ["estagio.id"],
            name=op.f("fk_whatsapp_automacao_id_estagio_trigger"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["id_whatsapp_instancia"],
            ["whatsapp_instancia.id"],
            name=op.f("fk_whatsapp_automacao_id_whatsapp_instancia"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_automacao")),
    )
    op.create_index(
        "ix_whatsapp_automacao_gatilho",
        "whatsapp_automacao",
        ["id_empresa", "id_estagio_trigger", "ativo"],
        unique=False,
    )

    op.create_table(
        "lead_estagio_historico",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("id_empresa", sa.String(length=32), nullable=False),
        sa.Column("id_lead", sa.String(length=32), nullable=False),
        sa.Column("id_estagio", sa.String(length=32), nullable=False),
        sa.Column("id_estagio_anterior", sa.String(length=32), nullable=True),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("id_usuario", sa.String(length=32), nullable=True),
        sa.Column("criado_em", DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["id_empresa"],
            ["empresa.id"],
            name=op.f("fk_lead_estagio_historico_id_empresa"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["id_estagio"],
            ["estagio.id"],
            name=op.f("fk_lead_estagio_historico_id_estagio"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["id_lead"],
            ["lead.id"],
            name=op.f("fk_lead_estagio_historico_id_lead"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_estagio_historico")),
        sa.UniqueConstraint("id_lead", "id_estagio", "ordinal", name="uq_historico_entrada"),
    )
    op.create_index(
        op.f("ix_lead_estagio_historico_id_empresa_id_lead"),
        "lead_estagio_historico",
        ["id_empresa", "id_lead"],
        unique=False,
    )

    op.create_table(
        "whatsapp_automacao_etapa",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("id_empresa", sa.String(length=32), nullable=False),
        sa.Column("id_whatsapp_automacao", sa.String(length=32), nullable=False),
        sa.Column("ordem", sa.Integer(), nullable=False),
        sa.Column("atraso_minutos", sa.Integer(), nullable=False),
        sa.Column("mensagem", sa.Text(), nullable=False),
        sa.Column("removida_em", DT, nullable=True),
        sa.ForeignKeyConstraint(
            ["id_empresa"],
            ["empresa.id"],
            name=op.f("fk_whatsapp_automacao_etapa_id_empresa"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["id_whatsapp_automacao"],
            ["whatsapp_automacao.id"],
            name=op.f("fk_whatsapp_automacao_etapa_id_whatsapp_automacao"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_automacao_etapa")),
        sa.UniqueConstraint("id_whatsapp_automacao", "ordem", name="uq_etapa_automacao_ordem"),
    )
    op.create_index(
        op.f("ix_whatsapp_automacao_etapa_id_empresa"),
        "whatsapp_automacao_etapa",
        ["id_empresa"],
        unique=False,
    )

    # The job table as it exists before the overhaul (plan section 1.2): the only dedupe is a
    # unique index on referencia_evento, which the old code built from a timestamp.
    op.create_table(
        "whatsapp_automacao_agendamento",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("id_empresa", sa.String(length=32), nullable=False),
        sa.Column("id_lead", sa.String(length=32), nullable=False),
        sa.Column("id_whatsapp_automacao", sa.String(length=32), nullable=False),
        sa.Column("id_etapa", sa.String(length=32), nullable=False),
        sa.Column("referencia_evento", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agendado_para", DT, nullable=False),
        sa.Column("tentativas", sa.Integer(), nullable=False),
        sa.Column("ultimo_erro", sa.Text(), nullable=True),
        sa.Column("criado_em", DT, nullable=False),
        sa.Column("atualizado_em", DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["id_empresa"],
            ["empresa.id"],
            name=op.f("fk_whatsapp_automacao_agendamento_id_empresa"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["id_etapa"],
            ["whatsapp_automacao_etapa.id"],
            name=op.f("fk_whatsapp_automacao_agendamento_id_etapa"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["id_lead"],
            ["lead.id"],
            name=op.f("fk_whatsapp_automacao_agendamento_id_lead"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["id_whatsapp_automacao"],
            ["whatsapp_automacao.id"],
            name=op.f("fk_whatsapp_automacao_agendamento_id_whatsapp_automacao"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_automacao_agendamento")),
        sa.UniqueConstraint(
            "id_empresa", "referencia_evento", name="uq_agendamento_referencia_evento"
        ),
    )
    op.create_index(
        "ix_agendamento_status_agendado_para",
        "whatsapp_automacao_agendamento",
        ["status", "agendado_para"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_agendamento_status_agendado_para", table_name="whatsapp_automacao_agendamento"
    )

    op.drop_table("whatsapp_automacao_agendamento")
    op.drop_index(
        op.f("ix_whatsapp_automacao_etapa_id_empresa"), table_name="whatsapp_automacao_etapa"
    )

    op.drop_table("whatsapp_automacao_etapa")
    op.drop_index(
        op.f("ix_lead_estagio_historico_id_empresa_id_lead"), table_name="lead_estagio_historico"
    )

    op.drop_table("lead_estagio_historico")
    op.drop_index("ix_whatsapp_automacao_gatilho", table_name="whatsapp_automacao")

    op.drop_table("whatsapp_automacao")
    op.drop_index(op.f("ix_sessao_usuario_id_empresa_id_usuario"), table_name="sessao_usuario")

    op.drop_table("sessao_usuario")
    op.drop_index(op.f("ix_lead_id_empresa_telefone"), table_name="lead")
    op.drop_index(op.f("ix_lead_id_empresa_id_estagio"), table_name="lead")

    op.drop_table("lead")
    op.drop_index(op.f("ix_whatsapp_instancia_id_empresa"), table_name="whatsapp_instancia")

    op.drop_table("whatsapp_instancia")
    op.drop_index(op.f("ix_usuario_id_empresa_perfil"), table_name="usuario")

    op.drop_table("usuario")
    op.drop_table("feature_flag")
    op.drop_index(op.f("ix_estagio_id_empresa_ordem"), table_name="estagio")

    op.drop_table("estagio")
    op.drop_index(op.f("ix_tentativa_login_ip_criado_em"), table_name="tentativa_login")
    op.drop_index(op.f("ix_tentativa_login_email_criado_em"), table_name="tentativa_login")

    op.drop_table("tentativa_login")
    op.drop_table("empresa")
