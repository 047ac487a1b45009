"""The database side of ``bench/mover.py`` (and ``bench/mover_lead_cpu.py``): the seed every
move works on, and what the database must hold after the moves."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

ETAPAS_POR_AUTOMACAO = (0, 60, 1440)  # minutes: 3 steps
AUTOMACOES_POR_ESTAGIO = 3
JOBS_POR_MOVIMENTO = AUTOMACOES_POR_ESTAGIO * len(ETAPAS_POR_AUTOMACAO)  # 9
JANELA = {"inicio": "08:00", "fim": "20:00", "dias_semana": [0, 1, 2, 3, 4, 5]}


@dataclass
class Cenario:
    url: str
    id_empresa: str
    origem: str
    destino: str
    email: str
    senha: str
    leads: list[str]
    proximo: int = 0

    def tomar(self, n: int) -> list[str]:
        if self.proximo + n > len(self.leads):
            raise RuntimeError("faltam leads semeados: aumente a margem em leads_necessarios()")
        fatia = self.leads[self.proximo : self.proximo + n]
        self.proximo += n
        return fatia


def semear(url: str, n_leads: int) -> Cenario:
    """One company, 4 stages, 3x3 automations on origin and destination, ``n_leads`` leads."""
    os.environ["DATABASE_URL"] = url
    from tests import factories
    from whatsapp_app import db
    from whatsapp_app.config import configuracoes

    configuracoes.cache_clear()
    empresa = factories.criar_empresa(
        "Bench",
        sufixo="bench",
        estagios=("Novo", "Origem", "Destino", "Ganho"),
        janela_envio=JANELA,
    )
    origem, destino = empresa.estagios[1], empresa.estagios[2]
    for estagio in (1, 2):
        for _ in range(AUTOMACOES_POR_ESTAGIO):
            factories.criar_automacao(empresa, estagio=estagio, atrasos=ETAPAS_POR_AUTOMACAO)
    parametros = {"emp": empresa.id, "origem": origem, "n": n_leads}
    with db.engine().begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO lead (id, id_empresa, nome, telefone, id_estagio, criado_em,"
                " atualizado_em) SELECT md5('lead' || g), :emp, 'Lead Bench ' || g,"
                " '+5511' || lpad(g::text, 9, '0'), :origem, now(), now()"
                " FROM generate_series(1, :n) g"
            ),
            parametros,
        )
        c.execute(
            sa.text(
                "INSERT INTO lead_estagio_historico (id, id_empresa, id_lead, id_estagio, ordinal,"
                " criado_em) SELECT md5('hist' || l.id), l.id_empresa, l.id, l.id_estagio, 1,"
                " now() FROM lead l WHERE l.id_empresa = :emp"
            ),
            parametros,
        )
        # The 9 pending jobs each lead got when it entered the origin stage (same keys as
        # executar_automacoes_lead_stage_changed builds for reentrada=uma_vez).
        c.execute(
            sa.text(
                "INSERT INTO whatsapp_automacao_agendamento (id, id_empresa, id_lead,"
                " id_whatsapp_automacao, id_etapa, id_estagio_trigger, chave_idempotencia,"
                " referencia_evento, status, agendado_para, tentativas, criado_em,"
                " atualizado_em)"
                " SELECT md5('job' || l.id || e.id), l.id_empresa, l.id, a.id, e.id, :origem,"
                " k.chave, k.chave, 'PENDENTE', now() + interval '1 day', 0, now(), now()"
                " FROM lead l"
                " JOIN whatsapp_automacao a ON a.id_empresa = l.id_empresa"
                "  AND a.id_estagio_trigger = :origem"
                " JOIN whatsapp_automacao_etapa e ON e.id_whatsapp_automacao = a.id"
                " CROSS JOIN LATERAL (SELECT l.id_empresa || ':' || l.id || ':' || :origem"
                "  || ':' || a.id || ':' || e.id AS chave) k"
                " WHERE l.id_empresa = :emp"
            ),
            parametros,
        )
        ids = list(
            c.execute(
                sa.text("SELECT id FROM lead WHERE id_empresa = :emp ORDER BY id"), parametros
            ).scalars()
        )
    with db.engine().connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM ANALYZE"))
    db.engine().dispose()
    return Cenario(
        url=url,
        id_empresa=empresa.id,
        origem=origem,
        destino=destino,
        email=empresa.usuarios["admin"],
        senha=factories.SENHA,
        leads=ids,
    )


def verificar(
    cenario: Cenario,
    movidos: set[str],
    talvez: set[str] | None = None,
    faixa: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """What the database must hold after the moves that answered 200.

    ``talvez``: leads sent by wrk, whose answers are counted but not named; ``faixa`` = (answered
    200 with 9/9, sent without an answer at the stop): that many of them must have moved."""
    talvez = talvez or set()
    engine = sa.create_engine(cenario.url, poolclass=sa.pool.NullPool)
    p = {"emp": cenario.id_empresa, "origem": cenario.origem, "destino": cenario.destino}
    with engine.connect() as c:

        def um(sql: str) -> int:
            return int(c.execute(sa.text(sql), p).scalar_one())

        no_destino = set(
            c.execute(
                sa.text("SELECT id FROM lead WHERE id_empresa = :emp AND id_estagio = :destino"), p
            ).scalars()
        )
        r = {
            "movimentos_ok": len(movidos),
            "leads_no_destino": len(no_destino),
            "leads_no_destino_iguais_aos_movidos": no_destino - talvez == movidos,
            "leads_wrk_no_destino": len(no_destino & talvez),
            "leads_wrk_confirmados_e_sem_resposta": list(faixa),
            "jobs_criados_destino": um(
                "SELECT count(*) FROM whatsapp_automacao_agendamento"
                " WHERE id_empresa = :emp AND id_estagio_trigger = :destino AND status = 'PENDENTE'"
            ),
            "jobs_cancelados_origem": um(
                "SELECT count(*) FROM whatsapp_automacao_agendamento"
                " WHERE id_empresa = :emp AND id_estagio_trigger = :origem"
                " AND status = 'CANCELADO' AND motivo_cancelamento = 'lead_saiu_do_estagio'"
            ),
            "historico_destino": um(
                "SELECT count(*) FROM lead_estagio_historico"
                " WHERE id_empresa = :emp AND id_estagio = :destino"
            ),
            "chaves_duplicadas": um(
                "SELECT count(*) FROM (SELECT 1 FROM whatsapp_automacao_agendamento"
                " GROUP BY id_empresa, chave_idempotencia HAVING count(*) > 1) d"
            ),
            "historico_duplicado": um(
                "SELECT count(*) FROM (SELECT 1 FROM lead_estagio_historico"
                " GROUP BY id_lead, id_estagio, ordinal HAVING count(*) > 1) d"
            ),
        }
    engine.dispose()
    n = len(no_destino)
    r["ok"] = (
        r["leads_no_destino_iguais_aos_movidos"]
        and faixa[0] <= len(no_destino & talvez) <= faixa[0] + faixa[1]
        and r["jobs_criados_destino"] == JOBS_POR_MOVIMENTO * n
        and r["jobs_cancelados_origem"] == JOBS_POR_MOVIMENTO * n
        and r["historico_destino"] == n
        and r["chaves_duplicadas"] == 0
        and r["historico_duplicado"] == 0
    )
    return r
