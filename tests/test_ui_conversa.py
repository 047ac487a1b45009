"""Fast tests (no browser, no database) for the lead drawer's conversation and the kanban badges:
the display mapping of messages, delivery ticks, cancellation reasons and live badge updates."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from whatsapp_app.modules.leads.dados_gaveta import (
    MOTIVO_DESCONHECIDO,
    bolhas,
    entrega,
    linha_agendamento,
    motivo_cancelamento,
)
from whatsapp_app.modules.leads.state import aplicar_sinais
from whatsapp_app.modules.whatsapp.state import rotulo_respostas
from whatsapp_app.ui.formatacao import hora, rotulo_dia

SP = ZoneInfo("America/Sao_Paulo")
AGORA = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo


def _mensagem(id_: str, direcao: str, iso: str, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": id_,
        "direcao": direcao,
        "texto": f"texto {id_}",
        "enviado_em": iso,
        "id_whatsapp_instancia": "inst",
        "nome_contato": None,
    }
    if direcao == "saida":
        base.update(id_agendamento=None, status_entrega=None)
    base.update(extra)
    return base


def test_hora_e_dia_no_fuso_da_empresa() -> None:
    assert hora("2026-11-25T13:05:00+00:00", SP) == "10:05"
    assert rotulo_dia("2026-11-25T13:05:00+00:00", SP, AGORA) == "Hoje"
    assert rotulo_dia("2026-11-24T20:00:00+00:00", SP, AGORA) == "Ontem"
    # 02:30 UTC on the 25th is still the 24th in São Paulo.
    assert rotulo_dia("2026-11-25T02:30:00+00:00", SP, AGORA) == "Ontem"
    assert rotulo_dia("2026-11-20T12:00:00+00:00", SP, AGORA) == "20/11/2026"
    assert hora(None, SP) == rotulo_dia(None, SP, AGORA) == ""


def test_tiques_de_entrega_tem_sempre_uma_palavra() -> None:
    assert entrega("enviado") == ("enviado", "Enviada")
    assert entrega("entregue") == ("entregue", "Entregue")
    assert entrega("lido") == ("lido", "Lida")
    assert entrega("falhou") == ("falhou", "Falhou")
    # Stored outbound messages were accepted by the provider: no status yet reads as sent.
    assert entrega(None) == ("enviado", "Enviada")
    assert entrega("desconhecido") == ("enviado", "Enviada")


def test_bolhas_lado_entrega_origem_e_separador_de_dia() -> None:
    linhas = bolhas(
        [
            _mensagem("a", "saida", "2026-11-24T13:00:00+00:00", id_agendamento="job1"),
            _mensagem("b", "entrada", "2026-11-24T14:00:00+00:00"),
            _mensagem("c", "saida", "2026-11-25T13:00:00+00:00", status_entrega="lido"),
            _mensagem("d", "saida", "2026-11-25T13:30:00+00:00", status_entrega="falhou"),
        ],
        SP,
        AGORA,
        {"job1": "Etapa 1 · Boas-vindas"},
    )
    assert [b["direcao"] for b in linhas] == ["saida", "entrada", "saida", "saida"]
    assert [b["dia"] for b in linhas] == ["Ontem", "", "Hoje", ""]
    assert [b["entrega"] for b in linhas] == ["enviado", "", "lido", "falhou"]
    assert [b["rotulo_entrega"] for b in linhas] == ["Enviada", "", "Lida", "Falhou"]
    assert linhas[0]["origem"] == "Etapa 1 · Boas-vindas"
    assert linhas[1]["origem"] == ""
    assert linhas[0]["hora"] == "10:00"
    assert linhas[0]["quando"] == "24/11/2026 10:00"
    assert linhas[0]["iso"] == "2026-11-24T13:00:00+00:00"


def test_motivos_de_cancelamento_em_palavras() -> None:
    assert motivo_cancelamento("lead_respondeu") == "Cancelado: o lead respondeu."
    assert motivo_cancelamento("lead_optout") == "Cancelado: o lead pediu para sair."
    assert motivo_cancelamento(None) == ""
    # Never an internal key on screen.
    assert motivo_cancelamento("chave_nova_qualquer") == MOTIVO_DESCONHECIDO


def test_linha_do_agendamento_marca_cancelamento_por_resposta() -> None:
    job = {
        "id": "j1",
        "id_etapa": "e1",
        "agendado_para": "2026-11-25T13:00:00+00:00",
        "status": "CANCELADO",
        "chave_idempotencia": "empresa-123456789:lead-123456789:est:aut:etapa",
        "ultimo_erro": None,
        "tentativas": 0,
        "motivo_cancelamento": "lead_respondeu",
    }
    linha = linha_agendamento(job, {"e1": (2, "Boas-vindas")}, SP)
    assert linha["etapa"] == "Etapa 2"
    assert linha["automacao"] == "Boas-vindas"
    assert linha["motivo"] == "Cancelado: o lead respondeu."
    assert linha["motivo_resposta"] is True
    assert linha["chave_curta"] == "empresa-:lead-123:est:aut:etapa"
    assert linha["agendado_para"] == "25/11/2026 10:00"


def _coluna(*cartoes: dict[str, object]) -> dict[str, object]:
    return {"id": "c", "nome": "Novo", "cor": "gray", "total": len(cartoes), "leads": list(cartoes)}


def _cartao(id_: str, nao_lida: bool = False, optout: bool = False) -> dict[str, object]:
    return {
        "id": id_,
        "nome": id_,
        "telefone_formatado": "",
        "id_estagio": "c",
        "atualizado_relativo": "",
        "atualizado_em": "",
        "resposta_nao_lida": nao_lida,
        "optout": optout,
    }


def test_sinais_atualizam_so_os_selos_e_so_quando_mudam() -> None:
    colunas = [_coluna(_cartao("a"), _cartao("b", nao_lida=True))]
    assert aplicar_sinais(colunas, {"a": (False, False), "b": (True, False)}) is None  # type: ignore[arg-type]
    novas = aplicar_sinais(colunas, {"a": (True, False), "b": (False, True)})  # type: ignore[arg-type]
    assert novas is not None
    cartoes = novas[0]["leads"]
    assert [(c["id"], c["resposta_nao_lida"], c["optout"]) for c in cartoes] == [
        ("a", True, False),
        ("b", False, True),
    ]
    # A lead the read did not see (e.g. a search elsewhere) keeps its badges; order is kept.
    assert aplicar_sinais(colunas, {}) is None  # type: ignore[arg-type]
    assert colunas[0]["leads"][0]["resposta_nao_lida"] is False  # type: ignore[index]


def test_respostas_em_24h_dizem_o_que_contam() -> None:
    assert rotulo_respostas(0) == "Nenhuma resposta em 24 h"
    assert rotulo_respostas(1) == "1 resposta em 24 h"
    assert rotulo_respostas(1234) == "1.234 respostas em 24 h"
