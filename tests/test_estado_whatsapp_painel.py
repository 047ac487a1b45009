"""The /whatsapp page's service queries (``painel_whatsapp``): one grouped queue-stats query for
every instance (the same numbers as the per-instance status route, in a constant number of
statements), and the flow's "Cancelar envios pendentes" route (roles, other tenants, counts)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from tests.factories import (
    criar_automacao,
    criar_empresa,
    criar_instancia,
    criar_job,
    criar_lead,
    login,
)
from whatsapp_app import db, instancias, painel_whatsapp
from whatsapp_app.models import WhatsappAutomacaoAgendamento
from whatsapp_app.tempo import agora


@contextmanager
def _contar_consultas() -> Iterator[list[str]]:
    consultas: list[str] = []

    def ouvir(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            consultas.append(sql)

    motor = db.engine()
    sa.event.listen(motor, "before_cursor_execute", ouvir)
    try:
        yield consultas
    finally:
        sa.event.remove(motor, "before_cursor_execute", ouvir)


def test_filas_agrupadas_batem_com_a_rota_de_status_e_custam_o_mesmo(banco) -> None:
    empresa = criar_empresa()
    outra_empresa = criar_empresa("Outra", sufixo="b")
    lead = criar_lead(empresa)
    momento = agora()
    ids = [criar_instancia(empresa) for _ in range(3)]
    for n, id_instancia in enumerate(ids):
        automacao = criar_automacao(empresa, id_instancia=id_instancia, atrasos=(0,))
        for _ in range(n + 1):
            criar_job(empresa, lead, automacao, "PENDENTE")
        criar_job(empresa, lead, automacao, "PENDENTE", agendado_para=momento + timedelta(hours=1))
        criar_job(empresa, lead, automacao, "PAUSADO")
        criar_job(empresa, lead, automacao, "ENVIADO", enviado_em=momento - timedelta(hours=n * 20))
        criar_job(empresa, lead, automacao, "ERRO", atualizado_em=momento - timedelta(hours=2))
        criar_job(empresa, lead, automacao, "INCERTO")
    alheia = criar_automacao(outra_empresa, atrasos=(0,))
    criar_job(outra_empresa, criar_lead(outra_empresa), alheia, "PENDENTE")

    with db.sessao() as s:
        filas = painel_whatsapp.filas_por_instancia(s, id_empresa=empresa.id)
        for id_instancia in ids:
            unitaria = instancias.fila_da_instancia(
                sessao=s, id_empresa=empresa.id, id_instancia=id_instancia
            )
            agrupada = dict(filas[id_instancia])
            assert agrupada.pop("aguardando") == agrupada["pendentes"] + 1  # + the paused one
            assert agrupada == unitaria
        assert set(filas) == set(ids), "another company's jobs are not counted"
        assert filas[ids[2]]["vencidos"] == 3 and filas[ids[2]]["enviados_24h"] == 0

        with _contar_consultas() as poucas:
            painel_whatsapp.cartoes_das_instancias(s, id_empresa=empresa.id)
    for _ in range(4):
        criar_automacao(empresa, id_instancia=criar_instancia(empresa), atrasos=(0,))
    with db.sessao() as s, _contar_consultas() as muitas:
        cartoes = painel_whatsapp.cartoes_das_instancias(s, id_empresa=empresa.id)
    assert len(cartoes) == 7
    assert len(muitas) == len(poucas) <= 4, "one grouped query, not one per instance"


def test_rota_cancelar_pendentes(cliente) -> None:
    empresa = criar_empresa()
    outra_empresa = criar_empresa("Outra", sufixo="b")
    lead = criar_lead(empresa)
    automacao = criar_automacao(empresa, atrasos=(0,))
    vizinha = criar_automacao(empresa, atrasos=(0,))
    aguardando = [criar_job(empresa, lead, automacao, s) for s in ("PENDENTE", "PAUSADO")]
    outros = [
        criar_job(empresa, lead, automacao, "ENVIADO"),
        criar_job(empresa, lead, automacao, "INCERTO"),
        criar_job(empresa, lead, vizinha, "PENDENTE"),
    ]
    alheia = criar_automacao(outra_empresa, atrasos=(0,))
    url = f"/api/whatsapp/automations/{automacao}/cancelar-pendentes"

    vendedor = login(cliente, empresa.usuarios["vendedor"])
    assert cliente.post(url, headers=vendedor).status_code == 403
    gestor = login(cliente, empresa.usuarios["gestor"])
    resposta = cliente.post(url, headers=gestor)
    assert resposta.status_code == 200, resposta.text
    assert resposta.json() == {"ok": True, "agendamentos_cancelados": 2}
    with db.sessao() as s:
        status = {j: s.get(WhatsappAutomacaoAgendamento, j) for j in aguardando + outros}
        assert [status[j].status for j in aguardando] == ["CANCELADO", "CANCELADO"]  # type: ignore[union-attr]
        assert [status[j].status for j in outros] == ["ENVIADO", "INCERTO", "PENDENTE"]  # type: ignore[union-attr]
    automacao_lida = cliente.get(f"/api/whatsapp/automations/{automacao}", headers=gestor).json()
    assert automacao_lida["ativo"] is True, "the automation itself is untouched"
    assert cliente.post(url, headers=gestor).json()["agendamentos_cancelados"] == 0
    alheia_url = f"/api/whatsapp/automations/{alheia}/cancelar-pendentes"
    assert cliente.post(alheia_url, headers=gestor).status_code == 404
