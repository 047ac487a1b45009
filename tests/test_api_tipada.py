"""Typed API: the OpenAPI documents, for every route, a success body with a real schema (never
a free-form object) and each error status it can answer, all in the one error shape; real
answers read back into their models unchanged; the serializers the UI calls still hand out
dicts with ISO 8601 strings.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlmodel import select

from tests.factories import criar_automacao, criar_empresa, criar_instancia, criar_lead, login
from tests.providers.falso import porta_fechada
from whatsapp_app import cadastro_automacoes, db, empresas, instancias, leads, mensagens
from whatsapp_app.api import criar_api
from whatsapp_app.cripto import eh_chave_secreta
from whatsapp_app.esquemas import (
    AgendamentoPublico,
    AutomacaoPublica,
    EmpresaPublica,
    InstanciaPublica,
    LeadDetalhe,
    LeadPublico,
    MovimentoLead,
    Pagina,
    PaginaMensagens,
    RespostaErro,
    StatusInstanciaPublico,
)
from whatsapp_app.models import (
    Empresa,
    Estagio,
    Lead,
    WhatsappAutomacao,
    WhatsappAutomacaoAgendamento,
    WhatsappInstancia,
    WhatsappMensagem,
)

OPENAPI = criar_api().openapi()
COMPONENTES = OPENAPI["components"]["schemas"]
REF_ERRO = {"$ref": "#/components/schemas/RespostaErro"}
SEM_SESSAO = {  # no 401: anyone may call them (Meta's handshake refuses a wrong token, 403)
    ("get", "/api/health"),
    ("get", "/api/webhooks/meta"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/sessao"),
    ("post", "/api/auth/logout"),
}


def _rotas() -> list[Any]:
    rotas = []
    for caminho, metodos in OPENAPI["paths"].items():
        for metodo in metodos:
            rotas.append(pytest.param(metodo, caminho, id=f"{metodo} {caminho}"))
    return rotas


def _resolver(esquema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in esquema:
        esquema = COMPONENTES[esquema["$ref"].rsplit("/", 1)[-1]]
    return esquema


def _tipado(esquema: dict[str, Any]) -> bool:
    """A schema that says what is inside: no bare ``object`` (or ``{}``) at any level that
    holds data, though a typed dict (``additionalProperties`` with a schema) is fine."""
    esquema = _resolver(esquema)
    for chave in ("anyOf", "oneOf", "allOf"):
        if chave in esquema:
            return all(_tipado(s) for s in esquema[chave])
    tipo = esquema.get("type")
    if tipo == "array":
        return _tipado(esquema.get("items", {}))
    if tipo == "object" or "properties" in esquema:
        extras = esquema.get("additionalProperties")
        if esquema.get("properties"):
            return all(_tipado(s) for s in esquema["properties"].values())
        return isinstance(extras, dict) and bool(extras) and _tipado(extras)
    return tipo in ("string", "integer", "number", "boolean", "null") or "const" in esquema


@pytest.mark.parametrize(("metodo", "caminho"), _rotas())
def test_rota_documenta_sucesso_tipado_e_cada_erro(metodo: str, caminho: str) -> None:
    operacao = OPENAPI["paths"][caminho][metodo]
    respostas = operacao["responses"]
    sucesso = [s for s in respostas if s.startswith("2")]
    assert len(sucesso) == 1, respostas
    conteudo = respostas[sucesso[0]]["content"]
    assert conteudo and all(_tipado(c["schema"]) for c in conteudo.values()), conteudo

    erros = {s: r for s, r in respostas.items() if s[0] in "45" and s != "503"}
    assert {"413", "422"} <= set(erros), "a camada de entrada responde a qualquer rota"
    for status, resposta in erros.items():
        assert resposta["content"] == {"application/json": {"schema": REF_ERRO}}, status
    assert "HTTPValidationError" not in json.dumps(operacao)
    if (metodo, caminho) not in SEM_SESSAO:
        assert "401" in erros  # a user session, a provider's secret or a service token
    if metodo != "get" and not caminho.startswith("/api/webhooks/"):
        assert "403" in erros  # profile, or the CSRF check on cookie calls
    if "{" in caminho and not caminho.startswith("/api/webhooks/"):
        assert "404" in erros
    if "requestBody" in operacao and not caminho.startswith("/api/webhooks/"):
        assert "400" in erros  # a body that is not UTF-8 text


def test_nenhum_modelo_publico_tem_campo_de_segredo() -> None:
    publicos = {n: s for n, s in COMPONENTES.items() if n.endswith(("Publico", "Publica"))}
    assert {"LeadPublico", "InstanciaPublica", "AgendamentoPublico"} <= set(publicos)
    for nome, esquema in publicos.items():
        segredos = [c for c in esquema.get("properties", {}) if eh_chave_secreta(c)]
        assert not segredos, (nome, segredos)
    assert "config_cifrada" not in InstanciaPublica.model_fields


# --- real answers against their models ---------------------------------------------------------


def _le_de_volta(modelo: Any, corpo: Any) -> None:
    """The answer validates against its model and the model writes it back unchanged (same
    keys, same ISO strings)."""
    adaptador = TypeAdapter(modelo)
    assert adaptador.dump_python(adaptador.validate_python(corpo), mode="json") == corpo


def _iso_utc(valor: str) -> datetime:
    assert valor.endswith("+00:00"), valor  # isoformat(), as the UI and clients parse it
    return datetime.fromisoformat(valor)


@pytest.fixture
def cenario(cliente: Any) -> tuple[Any, dict[str, str], str, str]:
    empresa = criar_empresa()
    id_lead = criar_lead(empresa)
    id_instancia = criar_instancia(empresa)
    criar_automacao(empresa, id_instancia=id_instancia, atrasos=(60,))
    cabecalho = login(cliente, empresa.usuarios["admin"])
    cliente.cookies.clear()
    return empresa, cabecalho, id_lead, id_instancia


def test_respostas_seguem_os_modelos(cliente: Any, cenario: Any) -> None:
    empresa, cabecalho, id_lead, _id_instancia = cenario
    get = lambda url: cliente.get(url, headers=cabecalho)

    movido = cliente.patch(
        f"/api/leads/{id_lead}/mover",
        json={"id_estagio_destino": empresa.estagios[1]},
        headers=cabecalho,
    )
    assert movido.status_code == 200
    _le_de_volta(MovimentoLead, movido.json())
    assert movido.json()["agendamentos_criados"] == 1

    pagina = get("/api/leads").json()
    _le_de_volta(Pagina[LeadPublico], pagina)
    lead = pagina["itens"][0]
    assert lead["telefone_formatado"] == "+55 11 98765-4321"
    _iso_utc(lead["criado_em"])

    detalhe = get(f"/api/leads/{id_lead}").json()
    _le_de_volta(LeadDetalhe, detalhe)
    assert [j["status"] for j in detalhe["agendamentos"]] == ["PENDENTE"]
    _iso_utc(detalhe["agendamentos"][0]["agendado_para"])

    _le_de_volta(Pagina[AgendamentoPublico], get("/api/whatsapp/agendamentos").json())
    _le_de_volta(Pagina[AutomacaoPublica], get("/api/whatsapp/automations").json())
    _le_de_volta(EmpresaPublica, get("/api/empresa").json())

    nao_existe = get("/api/leads/" + "0" * 32)
    assert nao_existe.status_code == 404
    _le_de_volta(RespostaErro, nao_existe.json())
    assert "campos" not in nao_existe.json()["erro"]
    invalido = get("/api/leads?limite=0")
    assert invalido.status_code == 422
    assert RespostaErro.model_validate(invalido.json()).erro.campos == {
        "limite": "Deve ser maior ou igual a 1."
    }


def test_instancia_com_segredos_mascarados_segue_o_modelo(cliente: Any, cenario: Any) -> None:
    _empresa, cabecalho, _id_lead, id_simulador = cenario
    chave = "evo-chave-super-secreta-0001"
    criada = cliente.post(
        "/api/whatsapp/instances",
        json={
            "nome": "Loja",
            "provider": "evolution",
            "config": {
                "base_url": f"http://127.0.0.1:{porta_fechada()}",
                "api_key": chave,
                "instance_name": "loja",
            },
        },
        headers=cabecalho,
    )
    assert criada.status_code == 201, criada.text
    corpo = criada.json()
    _le_de_volta(InstanciaPublica, corpo)
    assert chave not in criada.text and corpo["config"]["api_key"] == "••••0001"
    assert "segredo_webhook" not in corpo["config"]
    assert corpo["webhook_configurado"] is False  # the provider could not be reached

    lista = cliente.get("/api/whatsapp/instances", headers=cabecalho)
    _le_de_volta(Pagina[InstanciaPublica], lista.json())
    assert chave not in lista.text
    status = cliente.get(f"/api/whatsapp/instances/{id_simulador}/status", headers=cabecalho)
    _le_de_volta(StatusInstanciaPublico, status.json())


def test_conversa_segue_o_modelo_por_direcao(cliente: Any, cenario: Any) -> None:
    empresa, cabecalho, id_lead, id_instancia = cenario
    with db.sessao() as sessao:
        for direcao, texto in (("entrada", "Oi!"), ("saida", "Olá")):
            mensagens.inserir_mensagem(
                sessao,
                id_empresa=empresa.id,
                id_lead=id_lead,
                id_whatsapp_instancia=id_instancia,
                direcao=direcao,
                telefone="5511987654321",
                texto=texto,
            )
    pagina = cliente.get(f"/api/leads/{id_lead}/mensagens", headers=cabecalho).json()
    _le_de_volta(PaginaMensagens, pagina)
    entrada, saida = sorted(pagina["itens"], key=lambda m: m["direcao"])
    assert "id_agendamento" not in entrada and "status_entrega" not in entrada
    assert saida["id_agendamento"] is None and saida["status_entrega"] is None
    _iso_utc(entrada["enviado_em"])


@pytest.mark.parametrize(("lida", "esperado"), [(None, True), (-1, True), (1, False)])
def test_resposta_nao_lida_sobrevive_a_validacao_da_resposta(
    cliente: Any, cenario: Any, lida: int | None, esperado: bool
) -> None:
    """The badge depends on ``conversa_lida_em``, which no model shows: the API validates the
    serializer's dict again against ``LeadPublico`` and must keep the value it was given."""
    _empresa, cabecalho, id_lead, _id_instancia = cenario
    resposta_em = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    with db.sessao() as sessao:
        lead = sessao.get(Lead, id_lead)
        assert lead is not None
        lead.ultima_resposta_em = resposta_em
        lead.conversa_lida_em = None if lida is None else resposta_em + timedelta(minutes=lida)
        sessao.add(lead)
    assert (
        cliente.get("/api/leads", headers=cabecalho).json()["itens"][0]["resposta_nao_lida"]
        is esperado
    )
    assert (
        cliente.get(f"/api/leads/{id_lead}", headers=cabecalho).json()["resposta_nao_lida"]
        is esperado
    )


def test_serializadores_da_ui_devolvem_dicts_com_iso(cliente: Any, cenario: Any) -> None:
    """The UI calls the ``*_publico`` functions directly: plain dicts, instants as strings."""
    empresa, cabecalho, id_lead, id_instancia = cenario
    cliente.patch(
        f"/api/leads/{id_lead}/mover",
        json={"id_estagio_destino": empresa.estagios[1]},
        headers=cabecalho,
    )
    with db.sessao() as s:
        lead = s.get(Lead, id_lead)
        job = s.exec(select(WhatsappAutomacaoAgendamento)).first()
        automacao = s.exec(select(WhatsappAutomacao)).first()
        instancia = s.get(WhatsappInstancia, id_instancia)
        empresa_linha = s.get(Empresa, empresa.id)
        estagio = s.get(Estagio, empresa.estagios[0])
        assert lead and job and automacao and instancia and empresa_linha and estagio
        publicos: dict[str, dict[str, Any]] = {
            "lead": leads.lead_publico(lead),
            "agendamento": cadastro_automacoes.agendamento_publico(job),
            "automacao": cadastro_automacoes.automacao_publica(s, automacao),
            "instancia": instancias.instancia_publica(instancia),
            "status": instancias.status_instancia(
                sessao=s, id_empresa=empresa.id, id_instancia=id_instancia
            ),
            "empresa": empresas.empresa_publica(empresa_linha),
            "estagio": empresas.estagio_publico(estagio),
        }
        mensagens.inserir_mensagem(
            s,
            id_empresa=empresa.id,
            id_lead=id_lead,
            id_whatsapp_instancia=id_instancia,
            direcao="saida",
            telefone="5511987654321",
            texto="Olá",
            id_agendamento=job.id,
        )
        mensagem = s.exec(select(WhatsappMensagem)).first()
        assert mensagem is not None
        publicos["mensagem"] = mensagens.mensagem_publica(mensagem)
    for nome, publico in publicos.items():
        assert type(publico) is dict, nome
        assert json.loads(json.dumps(publico)) == publico, nome  # JSON-ready as it is
    _iso_utc(publicos["lead"]["criado_em"])
    _iso_utc(publicos["agendamento"]["agendado_para"])
    _iso_utc(publicos["automacao"]["criado_em"])
    assert [e["atraso_minutos"] for e in publicos["automacao"]["etapas"]] == [60]
    _iso_utc(publicos["mensagem"]["enviado_em"])
    assert publicos["mensagem"]["id_agendamento"] == job.id
    assert publicos["lead"]["resposta_nao_lida"] is False
    assert publicos["estagio"] == {
        "id": estagio.id,
        "nome": estagio.nome,
        "ordem": estagio.ordem,
        "cor": estagio.cor,
    }
    assert set(publicos["status"]["fila"]) == {
        "pendentes",
        "processando",
        "enviados_24h",
        "erros_24h",
        "incertos",
        "vencidos",
    }


def test_resumo_do_despacho_segue_o_modelo(cliente: Any, cenario: Any) -> None:
    _empresa, cabecalho, _id_lead, _id_instancia = cenario
    resposta = cliente.post("/api/whatsapp/automations/follow-up/dispatch", headers=cabecalho)
    assert resposta.status_code == 200
    assert resposta.json() == {
        "claimed": 0,
        "sent": 0,
        "failed": 0,
        "retried": 0,
        "uncertain": 0,
        "skipped_already_claimed": 0,
        "cancelled": 0,
    }
