"""The chaos/acceptance tests' job set, for them and the dispatch benchmark.

- ``semear``: one company, N ``simulador`` instances (one automation + one step each) and as many
  due ``PENDENTE`` jobs as asked, bulk-inserted (each on its own lead and phone number, so every
  job maps to exactly one simulator inbox key ``(instance, number, text)``);
- ``linhas_jobs`` / ``contar_status``: the job rows as they are now;
- ``inbox_por_chave``: the simulator's inbox grouped by that key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

# --- seeding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSemeado:
    id: str
    instancia: str  # the simulator's instance name (= WhatsappInstancia.id)
    numero: str  # digits, as the simulator stores it
    texto: str  # the rendered message

    @property
    def chave_inbox(self) -> tuple[str, str, str]:
        return (self.instancia, self.numero, self.texto)


@dataclass
class Semeadura:
    id_empresa: str
    email_gestor: str
    instancias: list[str]
    jobs: list[JobSemeado]

    def por_id(self) -> dict[str, JobSemeado]:
        return {j.id: j for j in self.jobs}


def semear(
    n_jobs: int, *, n_instancias: int = 4, atraso_s: float = -1.0, sufixo: str = "caos"
) -> Semeadura:
    """Seed through the app's settings (``DATABASE_URL`` must point at the target database).

    Jobs are due ``atraso_s`` from now (negative: already due)."""
    from tests.factories import criar_automacao, criar_empresa
    from whatsapp_app import db
    from whatsapp_app.envio import renderizar_mensagem
    from whatsapp_app.models import (
        Lead,
        LeadEstagioHistorico,
        WhatsappAutomacao,
        WhatsappAutomacaoAgendamento,
        WhatsappAutomacaoEtapa,
        novo_id,
    )
    from whatsapp_app.tempo import agora
    from whatsapp_app.whatsapp_automations import chave_idempotencia

    empresa = criar_empresa(f"Empresa {sufixo}", sufixo=sufixo)
    automacoes = [criar_automacao(empresa, estagio=1, atrasos=(0,)) for _ in range(n_instancias)]
    with db.sessao() as s:
        etapas = {
            e.id_whatsapp_automacao: e
            for e in s.exec(
                sa.select(WhatsappAutomacaoEtapa).where(
                    WhatsappAutomacaoEtapa.id_whatsapp_automacao.in_(automacoes)  # type: ignore[attr-defined]
                )
            ).scalars()
        }
        instancia_de = {
            a.id: a.id_whatsapp_instancia
            for a in s.exec(
                sa.select(WhatsappAutomacao).where(WhatsappAutomacao.id.in_(automacoes))  # type: ignore[attr-defined]
            ).scalars()
        }
    momento = agora()
    devido = momento + timedelta(seconds=atraso_s)
    estagio = empresa.estagios[1]
    leads, historicos, jobs_linhas, jobs = [], [], [], []
    for i in range(n_jobs):
        id_automacao = automacoes[i % n_instancias]
        etapa = etapas[id_automacao]
        id_lead = novo_id()
        nome = f"Lead{i:05d} {sufixo}"
        telefone = f"+5511{9_0000_0000 + i:09d}"
        leads.append(
            Lead(
                id=id_lead,
                id_empresa=empresa.id,
                nome=nome,
                telefone=telefone,
                id_estagio=estagio,
                criado_em=momento,
                atualizado_em=momento,
            ).model_dump()
        )
        historicos.append(
            LeadEstagioHistorico(
                id_empresa=empresa.id, id_lead=id_lead, id_estagio=estagio, ordinal=1
            ).model_dump()
        )
        chave = chave_idempotencia(
            id_empresa=empresa.id,
            id_lead=id_lead,
            id_estagio_trigger=estagio,
            id_whatsapp_automacao=id_automacao,
            id_etapa=etapa.id,
        )
        job = WhatsappAutomacaoAgendamento(
            id_empresa=empresa.id,
            id_lead=id_lead,
            id_whatsapp_automacao=id_automacao,
            id_etapa=etapa.id,
            id_estagio_trigger=estagio,
            chave_idempotencia=chave,
            referencia_evento=chave,
            agendado_para=devido,
            criado_em=momento,
            atualizado_em=momento,
        ).model_dump()
        jobs_linhas.append(job)
        texto = renderizar_mensagem(
            etapa.mensagem, nome=nome, empresa=f"Empresa {sufixo}", estagio=""
        )
        jobs.append(
            JobSemeado(
                job["id"], instancia_de[id_automacao], "".join(filter(str.isdigit, telefone)), texto
            )
        )
    with db.sessao() as s:
        for tabela, linhas in (
            (Lead.__table__, leads),  # type: ignore[attr-defined]
            (LeadEstagioHistorico.__table__, historicos),  # type: ignore[attr-defined]
            (WhatsappAutomacaoAgendamento.__table__, jobs_linhas),  # type: ignore[attr-defined]
        ):
            for inicio in range(0, len(linhas), 2000):
                s.execute(sa.insert(tabela), linhas[inicio : inicio + 2000])
    return Semeadura(empresa.id, empresa.usuarios["gestor"], list(instancia_de.values()), jobs)


def linhas_jobs(colunas: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Every job row (id, status, tentativas, ... plus ``colunas``)."""
    from whatsapp_app import db
    from whatsapp_app.models import WhatsappAutomacaoAgendamento

    t = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]
    nomes = ["id", "status", "tentativas", "claimed_by", "claimed_at", "envio_iniciado_em"]
    nomes += [c for c in colunas if c not in nomes]
    with db.sessao() as s:
        return [dict(r._mapping) for r in s.execute(sa.select(*(t.c[n] for n in nomes)))]


def contar_status() -> Counter[str]:
    from whatsapp_app import db
    from whatsapp_app.models import WhatsappAutomacaoAgendamento

    t = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]
    with db.sessao() as s:
        return Counter(
            dict(s.execute(sa.select(t.c.status, sa.func.count()).group_by(t.c.status)).all())
        )


def inbox_por_chave(
    mensagens: list[dict[str, Any]],
) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    por: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for m in mensagens:
        por.setdefault((m["instance"], m["number"], m["text"]), []).append(m)
    return por
