"""Cloud API adapter against a local fake Graph API; webhook signature and handshake."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.providers.falso import (
    Requisicao,
    Resposta,
    ServidorFalso,
    porta_fechada,
    servidor_falso,
)
from whatsapp_app.providers.base import TEXTO_MIDIA, Confirmacao, Desfecho, StatusConexao
from whatsapp_app.providers.cloud_api import (
    CODIGOS_RETENTAVEIS,
    ERRO_JANELA_24H,
    ERRO_NAO_ENTREGAVEL,
    ERRO_PERMISSAO_MODELOS,
    ERRO_TOKEN,
    ERRO_WABA,
    ProvedorCloudApi,
    interpretar_webhook,
    responder_verificacao,
    verificar_assinatura,
)
from whatsapp_app.providers.evolution import ErroProvedor

PNID = "106540352242922"
MENSAGENS = f"/v21.0/{PNID}/messages"
SEGREDO = "segredo-do-app-meta"


@pytest.fixture
def cloud(falso: ServidorFalso) -> Iterator[ProvedorCloudApi]:
    with ProvedorCloudApi(
        graph_base_url=falso.url,
        phone_number_id=PNID,
        access_token="EAAG-token-de-acesso",
        app_secret=SEGREDO,
        verify_token="verifica-123",
        timeout_s=0.5,
    ) as provedor:
        yield provedor


def _erro_graph(codigo: int, mensagem: str = "erro") -> dict[str, object]:
    return {
        "error": {
            "message": mensagem,
            "type": "OAuthException",
            "code": codigo,
            "error_data": {"messaging_product": "whatsapp", "details": "detalhe"},
            "fbtrace_id": "AbC",
        }
    }


def _aceito(wamid: str = "wamid.HBgM") -> Resposta:
    return Resposta(
        200,
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "5511988887777", "wa_id": "5511988887777"}],
            "messages": [{"id": wamid}],
        },
    )


def test_envio_de_texto_aceito(falso: ServidorFalso, cloud: ProvedorCloudApi) -> None:
    falso.rota("POST", MENSAGENS, _aceito())
    resultado = cloud.enviar_texto(
        numero_e164="+5511988887777", texto="Oi, Ana", id_agendamento="ag-42"
    )
    assert resultado.desfecho == Desfecho.ACEITO
    assert resultado.provider_message_id == "wamid.HBgM"
    (req,) = falso.recebidas("POST", MENSAGENS)
    assert req.cabecalhos["authorization"] == "Bearer EAAG-token-de-acesso"
    assert req.json["messaging_product"] == "whatsapp"
    assert req.json["to"] == "5511988887777"
    assert req.json["type"] == "text"
    assert req.json["text"]["body"] == "Oi, Ana"
    assert req.json["biz_opaque_callback_data"] == "ag-42"


def test_131048_e_retentavel_com_mensagem_propria(
    falso: ServidorFalso, cloud: ProvedorCloudApi
) -> None:
    falso.rota("POST", MENSAGENS, Resposta(400, _erro_graph(131048, "Spam rate limit hit")))
    resultado = cloud.enviar_texto(numero_e164="+5511988887777", texto="x", id_agendamento="a")
    assert resultado.desfecho == Desfecho.RETENTAVEL
    assert resultado.erro == CODIGOS_RETENTAVEIS[131048]
    assert "spam" in resultado.erro.lower()


def test_texto_da_janela_de_24h() -> None:
    assert ERRO_JANELA_24H == "Fora da janela de 24 h: escolha um modelo aprovado para esta etapa"


def test_envio_de_template_corpo_exato(falso: ServidorFalso, cloud: ProvedorCloudApi) -> None:
    # Meta's "Send template messages": template.name, template.language.code and body
    # parameters of type text, next to messaging_product/recipient_type/to/type.
    falso.rota("POST", MENSAGENS, _aceito("wamid.MODELO"))
    resultado = cloud.enviar_template(
        numero_e164="+55 (11) 98888-7777",
        nome="retomada_contato",
        id_agendamento="ag-77",
        idioma="pt_BR",
        componentes=[
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "Loja"}],
            }
        ],
    )
    assert resultado.desfecho == Desfecho.ACEITO
    (req,) = falso.recebidas("POST", MENSAGENS)
    assert req.cabecalhos["authorization"] == "Bearer EAAG-token-de-acesso"
    assert req.cabecalhos["content-type"] == "application/json"
    assert req.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511988887777",
        "type": "template",
        "template": {
            "name": "retomada_contato",
            "language": {"code": "pt_BR"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ana"},
                        {"type": "text", "text": "Loja"},
                    ],
                }
            ],
        },
        "biz_opaque_callback_data": "ag-77",
    }


def test_envio_de_template(falso: ServidorFalso, cloud: ProvedorCloudApi) -> None:
    falso.rota("POST", MENSAGENS, _aceito("wamid.T"))
    componentes = [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]
    resultado = cloud.enviar_template(
        numero_e164="+5511988887777",
        nome="follow_up_1",
        componentes=componentes,
        id_agendamento="ag-7",
    )
    assert resultado.provider_message_id == "wamid.T"
    (req,) = falso.recebidas("POST", MENSAGENS)
    assert req.json["type"] == "template"
    assert req.json["template"] == {
        "name": "follow_up_1",
        "language": {"code": "pt_BR"},
        "components": componentes,
    }
    assert req.json["biz_opaque_callback_data"] == "ag-7"


@pytest.mark.parametrize(
    ("status", "corpo", "desfecho", "erro"),
    [
        (400, _erro_graph(131047), Desfecho.PERMANENTE, ERRO_JANELA_24H),
        (401, _erro_graph(190), Desfecho.PERMANENTE, ERRO_TOKEN),
        (400, _erro_graph(131026), Desfecho.PERMANENTE, ERRO_NAO_ENTREGAVEL),
        (400, _erro_graph(130429), Desfecho.RETENTAVEL, None),
        (400, _erro_graph(131056), Desfecho.RETENTAVEL, None),
        (400, _erro_graph(131048, "Spam rate limit hit"), Desfecho.RETENTAVEL, None),
        (429, _erro_graph(80007), Desfecho.RETENTAVEL, None),
        (500, _erro_graph(131000), Desfecho.RETENTAVEL, None),
        (503, None, Desfecho.RETENTAVEL, None),
        (504, None, Desfecho.DESCONHECIDO, None),
        (401, None, Desfecho.PERMANENTE, ERRO_TOKEN),
        (400, _erro_graph(100, "Invalid parameter"), Desfecho.PERMANENTE, None),
    ],
)
def test_mapeamento_de_erros(
    falso: ServidorFalso,
    cloud: ProvedorCloudApi,
    status: int,
    corpo: object,
    desfecho: Desfecho,
    erro: str | None,
) -> None:
    falso.rota("POST", MENSAGENS, Resposta(status, corpo))
    resultado = cloud.enviar_texto(numero_e164="+5511988887777", texto="x", id_agendamento="a")
    assert resultado.desfecho == desfecho
    assert resultado.erro
    if erro:
        assert resultado.erro == erro


def test_outro_4xx_leva_a_mensagem_do_provedor(
    falso: ServidorFalso, cloud: ProvedorCloudApi
) -> None:
    falso.rota("POST", MENSAGENS, Resposta(400, _erro_graph(100, "Invalid parameter")))
    resultado = cloud.enviar_texto(numero_e164="+5511988887777", texto="x", id_agendamento="a")
    assert resultado.erro is not None
    assert "Invalid parameter" in resultado.erro
    assert "100" in resultado.erro


def test_retry_after_no_limite_de_vazao(falso: ServidorFalso, cloud: ProvedorCloudApi) -> None:
    falso.rota("POST", MENSAGENS, Resposta(400, _erro_graph(130429), {"Retry-After": "12"}))
    resultado = cloud.enviar_texto(numero_e164="+5511988887777", texto="x", id_agendamento="a")
    assert resultado.tentar_apos_s == 12


def test_timeout_e_desconhecido_e_recusa_e_retentavel(
    falso: ServidorFalso, cloud: ProvedorCloudApi
) -> None:
    falso.rota("POST", MENSAGENS, Resposta(200, {"messages": [{"id": "tarde"}]}, dormir_s=1.5))
    assert (
        cloud.enviar_texto(numero_e164="+5511988887777", texto="x", id_agendamento="a").desfecho
        == Desfecho.DESCONHECIDO
    )
    with ProvedorCloudApi(
        graph_base_url=f"http://127.0.0.1:{porta_fechada()}", phone_number_id=PNID, access_token="t"
    ) as fora:
        assert (
            fora.enviar_texto(numero_e164="+5511988887777", texto="x", id_agendamento="a").desfecho
            == Desfecho.RETENTAVEL
        )


def test_estado_conexao(falso: ServidorFalso, cloud: ProvedorCloudApi) -> None:
    falso.rota("GET", f"/v21.0/{PNID}", Resposta(200, {"id": PNID, "verified_name": "Loja"}))
    assert cloud.estado_conexao().status == StatusConexao.CONECTADO
    assert cloud.conectar().status == StatusConexao.CONECTADO
    falso.rota("GET", f"/v21.0/{PNID}", Resposta(401, _erro_graph(190)))
    with pytest.raises(ErroProvedor) as erro:
        cloud.estado_conexao()
    assert erro.value.mensagem == ERRO_TOKEN


def test_confirmar_envio_fica_para_os_webhooks(cloud: ProvedorCloudApi) -> None:
    resultado = cloud.confirmar_envio(
        numero_e164="+5511988887777", texto="x", id_agendamento="a", desde=datetime.now(UTC)
    )
    assert resultado.confirmacao == Confirmacao.DESCONHECIDO


# --- webhooks ----------------------------------------------------------------------------------


def _assinar(corpo: bytes, segredo: str = SEGREDO) -> str:
    return "sha256=" + hmac.new(segredo.encode(), corpo, hashlib.sha256).hexdigest()


def test_assinatura_valida_invalida_e_ausente(cloud: ProvedorCloudApi) -> None:
    corpo = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    assert verificar_assinatura(corpo, _assinar(corpo), SEGREDO)
    assert cloud.verificar_assinatura(corpo, _assinar(corpo))
    assert verificar_assinatura(corpo, _assinar(corpo).upper().replace("SHA256", "sha256"), SEGREDO)
    assert not verificar_assinatura(corpo + b" ", _assinar(corpo), SEGREDO)  # body changed
    assert not verificar_assinatura(corpo, _assinar(corpo, "outro-segredo"), SEGREDO)
    assert not verificar_assinatura(corpo, None, SEGREDO)
    assert not verificar_assinatura(corpo, "", SEGREDO)
    assert not verificar_assinatura(corpo, "sha1=abc", SEGREDO)
    assert not verificar_assinatura(corpo, "sha256=", SEGREDO)
    assert not verificar_assinatura(corpo, _assinar(corpo, ""), "")  # no secret configured


def test_handshake_de_verificacao(cloud: ProvedorCloudApi) -> None:
    assert (
        responder_verificacao("subscribe", "verifica-123", "1158201444", "verifica-123")
        == "1158201444"
    )
    assert cloud.responder_verificacao("subscribe", "verifica-123", "desafio") == "desafio"
    assert responder_verificacao("subscribe", "errado", "x", "verifica-123") is None
    assert responder_verificacao("unsubscribe", "verifica-123", "x", "verifica-123") is None
    assert responder_verificacao("subscribe", None, "x", "verifica-123") is None
    assert responder_verificacao("subscribe", "", "x", "") is None


def test_interpretar_webhook_de_status() -> None:
    corpo = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "5511", "phone_number_id": PNID},
                            "statuses": [
                                {
                                    "id": "wamid.1",
                                    "status": "sent",
                                    "timestamp": "1",
                                    "recipient_id": "5511988887777",
                                    "biz_opaque_callback_data": "ag-1",
                                },
                                {
                                    "id": "wamid.1",
                                    "status": "delivered",
                                    "biz_opaque_callback_data": "ag-1",
                                },
                                {
                                    "id": "wamid.1",
                                    "status": "read",
                                    "biz_opaque_callback_data": "ag-1",
                                },
                                {
                                    "id": "wamid.2",
                                    "status": "failed",
                                    "biz_opaque_callback_data": "ag-2",
                                    "errors": [{"code": 131047, "title": "Re-engagement message"}],
                                },
                                {"id": "wamid.3", "status": "deleted"},
                            ],
                            "messages": [
                                {"from": "5511988887777", "id": "wamid.in", "timestamp": "2"}
                            ],
                        },
                    },
                    {"field": "account_update", "value": {}},
                ],
            }
        ],
    }
    eventos = interpretar_webhook(corpo)
    status = [
        (e.provider_message_id, e.id_agendamento, e.status_mensagem)
        for e in eventos
        if e.tipo == "status_mensagem"
    ]
    assert status == [
        ("wamid.1", "ag-1", "enviado"),
        ("wamid.1", "ag-1", "entregue"),
        ("wamid.1", "ag-1", "lido"),
        ("wamid.2", "ag-2", "falhou"),
    ]
    falhou = next(e for e in eventos if e.status_mensagem == "falhou")
    assert falhou.dados["erros"][0]["code"] == 131047
    assert falhou.dados["phone_number_id"] == PNID
    (entrada,) = [e for e in eventos if e.tipo == "mensagem_recebida"]
    assert entrada.mensagem is not None
    assert entrada.mensagem.telefone == "5511988887777"
    assert entrada.mensagem.texto == TEXTO_MIDIA  # no type, no text
    assert interpretar_webhook({"entry": "lixo"}) == []
    assert interpretar_webhook(None) == []


# --- inbound messages and errors ------------------------------------------------------------------

PAYLOADS = Path(__file__).parent / "payloads"
CASOS = json.loads((PAYLOADS / "meta_casos.json").read_text())


def _entrega(valor: dict[str, Any], pnid: str = PNID) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": pnid,
                            },
                            **valor,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def test_entrega_com_varias_entradas_e_mudancas() -> None:
    corpo = json.loads((PAYLOADS / "meta_entrega_mista.json").read_text())
    eventos = interpretar_webhook(corpo)
    resumo = [(e.tipo, e.provider_message_id, e.dados.get("phone_number_id")) for e in eventos]
    assert resumo == [
        ("status_mensagem", "wamid.ENVIADA", PNID),
        (
            "mensagem_recebida",
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
            PNID,
        ),
        ("mensagem_recebida", "wamid.BOTAO", PNID),
        ("erro_provedor", None, PNID),
        ("status_mensagem", "wamid.FALHOU", "206540352242923"),
        ("mensagem_recebida", "wamid.NAOSUPORTADA", "206540352242923"),
        ("erro_provedor", "wamid.NAOSUPORTADA", "206540352242923"),
    ]
    texto, botao, nao_suportada = (e.mensagem for e in eventos if e.tipo == "mensagem_recebida")
    assert texto is not None and botao is not None and nao_suportada is not None
    assert texto.telefone == "16505551234"
    assert texto.texto == "Does it come in another color?"
    assert texto.nome_contato == "Sheena Nelson"
    assert texto.recebida_em == datetime.fromtimestamp(1749416383, tz=UTC)
    assert texto.id_resposta_a is None
    assert botao.texto == "Parar de receber"
    assert botao.nome_contato == "Bruno Lima"
    assert botao.id_resposta_a == "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"
    assert nao_suportada.texto == TEXTO_MIDIA
    assert nao_suportada.nome_contato == "Carla"
    erro_valor, erro_mensagem = (e for e in eventos if e.tipo == "erro_provedor")
    assert erro_valor.dados["origem"] == "valor"
    assert erro_valor.dados["erros"][0]["code"] == 130429
    assert erro_mensagem.dados["origem"] == "mensagem"
    assert erro_mensagem.dados["erros"][0]["code"] == 131051
    falhou = next(e for e in eventos if e.status_mensagem == "falhou")
    assert falhou.id_agendamento == "ag-10"
    assert falhou.dados["erros"][0]["code"] == 131047


@pytest.mark.parametrize(
    ("mensagem", "texto"), [(c["mensagem"], c["texto"]) for c in CASOS["por_tipo"]]
)
def test_texto_de_cada_tipo(mensagem: dict[str, Any], texto: str | None) -> None:
    (evento,) = interpretar_webhook(
        _entrega(
            {
                "contacts": [{"profile": {"name": "Ana"}, "wa_id": "5511988887777"}],
                "messages": [
                    {
                        "from": "5511988887777",
                        "id": "wamid.X",
                        "timestamp": "1749416383",
                        **mensagem,
                    }
                ],
            }
        )
    )
    assert evento.tipo == "mensagem_recebida"
    assert evento.mensagem is not None
    assert evento.mensagem.texto == (texto or TEXTO_MIDIA)
    assert evento.dados == {"phone_number_id": PNID, "tipo": mensagem["type"]}
    if mensagem["type"] == "reaction":
        assert evento.mensagem.id_resposta_a == "wamid.NOSSA"


@pytest.mark.parametrize(
    ("mensagem", "motivo"), [(c["mensagem"], c["motivo"]) for c in CASOS["nao_respostas"]]
)
def test_mensagens_que_nao_sao_respostas(mensagem: dict[str, Any], motivo: str) -> None:
    item = {"from": "5511988887777", "id": "wamid.X", "timestamp": "1749416383", **mensagem}
    (evento,) = interpretar_webhook(_entrega({"messages": [item]}))
    assert evento.tipo == "ignorado"
    assert evento.dados["motivo"] == motivo
    if motivo == "sem_numero":  # a username hides the number (Meta's business-scoped user ids)
        assert evento.dados["user_id"] == "BR.1502576394655843"


@pytest.mark.parametrize(
    "valor",
    [
        {"statuses": [{"id": "wamid.1", "status": "sent", "biz_opaque_callback_data": 123}]},
        {"statuses": [{"id": "wamid.1", "status": "sent", "biz_opaque_callback_data": {"a": 1}}]},
        {"statuses": [{"id": "wamid.1", "status": "sent", "biz_opaque_callback_data": ""}]},
        {"statuses": [{"id": "wamid.1", "status": "sent", "errors": "boom", "timestamp": 17}]},
    ],
)
def test_callback_data_que_nao_e_texto_fica_ausente(valor: dict[str, Any]) -> None:
    (evento,) = interpretar_webhook(_entrega(valor))
    assert evento.tipo == "status_mensagem"
    assert evento.provider_message_id == "wamid.1"
    assert evento.id_agendamento is None
    assert evento.dados["erros"] == []


@pytest.mark.parametrize(
    "corpo", [c.get("corpo") or _entrega(c["valor"]) for c in CASOS["tipos_errados"]]
)
def test_tipos_errados_nunca_levantam(corpo: dict[str, Any]) -> None:
    eventos = interpretar_webhook(corpo)
    for evento in eventos:
        assert evento.tipo in ("status_mensagem", "mensagem_recebida", "ignorado", "erro_provedor")
        if evento.tipo == "erro_provedor":
            assert evento.dados["erros"]
        if evento.mensagem is not None:
            assert isinstance(evento.mensagem.texto, str)
            assert evento.mensagem.id_resposta_a is None
            assert evento.mensagem.nome_contato is None
            assert evento.mensagem.recebida_em is None


# --- message templates ---------------------------------------------------------------------------

WABA = "102290129340398"
MODELOS = f"/v21.0/{WABA}/message_templates"


def _modelo(
    nome: str, corpo: str, status: str = "APPROVED", idioma: str = "pt_BR"
) -> dict[str, Any]:
    return {
        "name": nome,
        "language": idioma,
        "status": status,
        "category": "UTILITY",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Loja {{1}}"},
            {"type": "BODY", "text": corpo, "example": {"body_text": [["Ana", "plano"]]}},
            {"type": "FOOTER", "text": "Responda PARAR para sair"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Parar"}]},
        ],
        "id": f"id-{nome}",
    }


def test_listar_modelos_pagina_e_filtra(falso: ServidorFalso, cloud: ProvedorCloudApi) -> None:
    def responder(req: Requisicao) -> Resposta:
        if req.consulta.get("after") == ["CURSOR2"]:
            return Resposta(
                200,
                {
                    "data": [_modelo("ultimo_aviso", "Última chance, {{1}}!", idioma="es")],
                    "paging": {"cursors": {"before": "B2", "after": "FIM"}},
                },
            )
        return Resposta(
            200,
            {
                "data": [
                    _modelo("retomada", "Oi {{1}}, ainda quer o {{2}}? {{1}}, responda."),
                    _modelo("pendente", "Oi {{1}}", status="PENDING"),
                    _modelo("rejeitado", "Oi {{1}}", status="REJECTED"),
                    {"name": "sem_idioma", "status": "APPROVED", "components": []},
                    "lixo",
                    _modelo("nomeado", "Sua reserva para {{convidados}} em {{dia}} está ok"),
                ],
                "paging": {
                    "cursors": {"before": "B1", "after": "CURSOR2"},
                    "next": f"{falso.url}{MODELOS}?fields=x&limit=2&after=CURSOR2",
                },
            },
        )

    falso.rota("GET", MODELOS, responder)
    modelos = cloud.listar_modelos(WABA)
    assert modelos == [
        {
            "nome": "retomada",
            "idioma": "pt_BR",
            "corpo": "Oi {{1}}, ainda quer o {{2}}? {{1}}, responda.",
            "variaveis": 2,
            "categoria": "UTILITY",
        },
        {
            "nome": "nomeado",
            "idioma": "pt_BR",
            "corpo": "Sua reserva para {{convidados}} em {{dia}} está ok",
            "variaveis": 2,
            "categoria": "UTILITY",
        },
        {
            "nome": "ultimo_aviso",
            "idioma": "es",
            "corpo": "Última chance, {{1}}!",
            "variaveis": 1,
            "categoria": "UTILITY",
        },
    ]
    primeira, segunda = falso.recebidas("GET", MODELOS)
    assert primeira.cabecalhos["authorization"] == "Bearer EAAG-token-de-acesso"
    assert primeira.consulta == {
        "status": ["APPROVED"],
        "fields": ["name,language,status,category,components"],
        "limit": ["100"],
    }
    assert segunda.consulta["after"] == ["CURSOR2"]  # followed paging.next as given
    assert segunda.cabecalhos["authorization"] == "Bearer EAAG-token-de-acesso"


def test_listar_modelos_no_maximo_dez_paginas(
    falso: ServidorFalso, cloud: ProvedorCloudApi
) -> None:
    def sem_fim(req: Requisicao) -> Resposta:
        n = int((req.consulta.get("after") or ["0"])[0]) + 1
        return Resposta(
            200,
            {
                "data": [_modelo(f"m{n}", "Oi {{1}}")],
                "paging": {"next": f"{falso.url}{MODELOS}?after={n}"},
            },
        )

    falso.rota("GET", MODELOS, sem_fim)
    modelos = cloud.listar_modelos(WABA)
    assert len(modelos) == 10
    assert len(falso.recebidas("GET", MODELOS)) == 10


def test_listar_modelos_nao_segue_next_de_outro_host(
    falso: ServidorFalso, cloud: ProvedorCloudApi
) -> None:
    with servidor_falso() as outro:
        outro.rota("GET", MODELOS, Resposta(200, {"data": [_modelo("roubado", "x")]}))

        def responder(req: Requisicao) -> Resposta:
            if req.consulta.get("after") == ["C2"]:
                return Resposta(200, {"data": [_modelo("segundo", "Oi")]})
            return Resposta(
                200,
                {
                    "data": [_modelo("primeiro", "Oi")],
                    "paging": {
                        "cursors": {"after": "C2"},
                        "next": f"{outro.url}{MODELOS}?after=C2",
                    },
                },
            )

        falso.rota("GET", MODELOS, responder)
        nomes = [m["nome"] for m in cloud.listar_modelos(WABA)]
        assert outro.requisicoes == []  # the token never went to the other host
    assert nomes == ["primeiro", "segundo"]
    segunda = falso.recebidas("GET", MODELOS)[1]
    assert segunda.consulta["after"] == ["C2"]
    assert segunda.consulta["status"] == ["APPROVED"]


@pytest.mark.parametrize(
    ("status", "corpo", "mensagem", "retentavel"),
    [
        (401, _erro_graph(190, "Error validating access token"), ERRO_TOKEN, False),
        (400, _erro_graph(190), ERRO_TOKEN, False),
        (400, _erro_graph(100, "Unsupported get request"), ERRO_WABA, False),
        (403, _erro_graph(200, "Permissions error"), ERRO_PERMISSAO_MODELOS, False),
        (400, _erro_graph(80008, "Too many calls"), None, False),
        (429, _erro_graph(4), CODIGOS_RETENTAVEIS[4], True),
        (503, None, None, True),
        (200, ["nao", "e", "objeto"], None, False),
    ],
)
def test_listar_modelos_erros(
    falso: ServidorFalso,
    cloud: ProvedorCloudApi,
    status: int,
    corpo: object,
    mensagem: str | None,
    retentavel: bool,
) -> None:
    falso.rota("GET", MODELOS, Resposta(status, corpo))
    with pytest.raises(ErroProvedor) as erro:
        cloud.listar_modelos(WABA)
    assert erro.value.retentavel is retentavel
    if mensagem:
        assert erro.value.mensagem == mensagem
    assert "EAAG" not in erro.value.mensagem


def test_listar_modelos_sem_waba_ou_fora_do_ar(cloud: ProvedorCloudApi) -> None:
    with pytest.raises(ErroProvedor, match="WABA"):
        cloud.listar_modelos("  ")
    with (
        ProvedorCloudApi(
            graph_base_url=f"http://127.0.0.1:{porta_fechada()}",
            phone_number_id=PNID,
            access_token="t",
        ) as fora,
        pytest.raises(ErroProvedor) as erro,
    ):
        fora.listar_modelos(WABA)
    assert erro.value.retentavel
