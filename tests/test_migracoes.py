"""The user's migration story on both engines: legacy table with duplicates → idempotency."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from alembic import command
from tests.bancos import (
    BANCOS_USADOS,
    PG_PADRAO,
    apagar_banco_pg,
    config_alembic,
    criar_banco_pg,
    migrar,
    pg_disponivel,
)

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def url_vazia(request, tmp_path):
    BANCOS_USADOS.add(request.param)
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migracao.db'}"
        return
    base = os.environ.get("TEST_DATABASE_URL", PG_PADRAO)
    if not pg_disponivel(base):
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL inacessível e CI=true")
        BANCOS_USADOS.discard("postgres")
        pytest.skip("PostgreSQL inacessível")
    url = criar_banco_pg(base, f"wa_mig_{uuid.uuid4().hex[:10]}")
    yield url
    apagar_banco_pg(url)


def _inserir_legado(conexao: sa.Connection) -> dict[str, str]:
    """A company with two automations and jobs as the old code left them."""
    ins = lambda tabela, **v: conexao.execute(
        sa.table(tabela, *[sa.column(k) for k in v]).insert().values(**v)
    )
    ins(
        "empresa",
        id="emp",
        nome="Legado",
        fuso_horario="America/Sao_Paulo",
        criado_em=T0,
        atualizado_em=T0,
    )
    for i, nome in enumerate(["Novo", "Qualificado"]):
        ins("estagio", id=f"est{i}", id_empresa="emp", nome=nome, ordem=i, cor="gray")
    ins(
        "lead",
        id="lead1",
        id_empresa="emp",
        nome="Ana",
        telefone="+5511987654321",
        id_estagio="est1",
        criado_em=T0,
        atualizado_em=T0,
    )
    ins(
        "lead",
        id="lead2",
        id_empresa="emp",
        nome="Bia",
        telefone="+5511987654322",
        id_estagio="est1",
        criado_em=T0,
        atualizado_em=T0,
    )
    ins(
        "whatsapp_instancia",
        id="inst",
        id_empresa="emp",
        nome="I",
        provider="evolution",
        config_cifrada="",
        status="desconectado",
        criado_em=T0,
    )
    ins(
        "whatsapp_automacao",
        id="aut",
        id_empresa="emp",
        nome="A",
        evento="lead_stage_changed",
        id_estagio_trigger="est1",
        id_whatsapp_instancia="inst",
        ativo=True,
        reentrada="uma_vez",
        cancelar_ao_sair=True,
        criado_em=T0,
        atualizado_em=T0,
    )
    for ordem in (1, 2):
        ins(
            "whatsapp_automacao_etapa",
            id=f"et{ordem}",
            id_empresa="emp",
            id_whatsapp_automacao="aut",
            ordem=ordem,
            atraso_minutos=0,
            mensagem="oi",
        )

    def job(id_: str, lead: str, etapa: str, status: str, minutos: int) -> None:
        criado = T0 + timedelta(minutes=minutos)
        ins(
            "whatsapp_automacao_agendamento",
            id=id_,
            id_empresa="emp",
            id_lead=lead,
            id_whatsapp_automacao="aut",
            id_etapa=etapa,
            referencia_evento=f"{lead}:{etapa}:{int(criado.timestamp() * 1000)}",
            status=status,
            agendado_para=criado,
            tentativas=0,
            criado_em=criado,
            atualizado_em=criado,
        )

    # lead1/et1: three PENDENTE copies from retried requests → keep the oldest.
    job("j1", "lead1", "et1", "PENDENTE", 0)
    job("j2", "lead1", "et1", "PENDENTE", 1)
    job("j3", "lead1", "et1", "PENDENTE", 2)
    # lead1/et2: already sent once, a later duplicate still pending → keep ENVIADO, cancel the other.
    job("j4", "lead1", "et2", "PENDENTE", 0)
    job("j5", "lead1", "et2", "ENVIADO", 5)
    # lead2/et1: a single job, untouched apart from its new key.
    job("j6", "lead2", "et1", "PENDENTE", 0)
    return {}


def _jobs(conexao: sa.Connection) -> dict[str, dict]:
    linhas = (
        conexao.execute(sa.text("SELECT * FROM whatsapp_automacao_agendamento")).mappings().all()
    )
    return {linha["id"]: dict(linha) for linha in linhas}


def test_upgrade_resolve_duplicatas_e_cria_indice_unico(url_vazia):
    migrar(url_vazia, "0001")
    engine = sa.create_engine(url_vazia, poolclass=sa.pool.NullPool)
    with engine.begin() as c:
        _inserir_legado(c)

    migrar(url_vazia, "head")

    with engine.connect() as c:
        jobs = _jobs(c)
    chave = lambda lead, etapa: f"emp:{lead}:est1:aut:{etapa}"
    assert len(jobs) == 6, "nenhuma linha é apagada"
    assert (jobs["j1"]["status"], jobs["j1"]["chave_idempotencia"]) == (
        "PENDENTE",
        chave("lead1", "et1"),
    )
    for dup in ("j2", "j3"):
        assert jobs[dup]["status"] == "CANCELADO"
        assert jobs[dup]["motivo_cancelamento"] == "duplicata_migracao"
        assert jobs[dup]["chave_idempotencia"] == f"{chave('lead1', 'et1')}:legado:{dup}"
    assert jobs["j5"]["status"] == "ENVIADO"
    assert jobs["j5"]["chave_idempotencia"] == chave("lead1", "et2")
    assert jobs["j4"]["status"] == "CANCELADO"
    assert jobs["j6"]["chave_idempotencia"] == chave("lead2", "et1")
    assert jobs["j6"]["status"] == "PENDENTE" and jobs["j6"]["motivo_cancelamento"] is None
    assert all(j["id_estagio_trigger"] == "est1" for j in jobs.values())
    assert jobs["j1"]["referencia_evento"].startswith("lead1:et1:"), "legacy value kept"

    # The database itself now refuses a second job for the same key.
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO whatsapp_automacao_agendamento (id, id_empresa, id_lead, "
                "id_whatsapp_automacao, id_etapa, id_estagio_trigger, chave_idempotencia, "
                "status, agendado_para, tentativas, criado_em, atualizado_em) VALUES "
                "('novo', 'emp', 'lead2', 'aut', 'et1', 'est1', :k, 'PENDENTE', :t, 0, :t, :t)"
            ),
            {"k": chave("lead2", "et1"), "t": T0},
        )

    # alembic check: the migrated schema equals the models.
    command.check(config_alembic(url_vazia))

    # Downgrade keeps the rows and gives back the legacy shape.
    command.downgrade(config_alembic(url_vazia), "0001")
    with engine.connect() as c:
        colunas = {
            col["name"] for col in sa.inspect(c).get_columns("whatsapp_automacao_agendamento")
        }
        jobs = _jobs(c)
    assert "chave_idempotencia" not in colunas and "claimed_by" not in colunas
    assert len(jobs) == 6 and all(j["referencia_evento"] for j in jobs.values())
    command.downgrade(config_alembic(url_vazia), "base")
    with engine.connect() as c:
        assert "whatsapp_automacao_agendamento" not in sa.inspect(c).get_table_names()
    engine.dispose()
