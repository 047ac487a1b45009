"""Cloud API adapter against a local fake Graph API; webhook signature and handshake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.providers.falso import (
    Requisicao,
    Resposta,
    ServidorFalso,
    porta_fechada,
    servidor_falso,
)
from whatsapp_app.providers.base import Confirmacao, Desfecho, StatusConexao
from whatsapp_app.providers.cloud_api import (
    CODIGOS_RETENTAVEIS,
    ERRO_JANELA_24H,
    ERRO_NAO_ENTREGAVEL,
    ERRO_PERMISSAO_MODELOS,
    ERRO_TOKEN,
    ERRO_WABA,
    ProvedorCloudApi,
)
from whatsapp_app.providers.comum import ErroProvedor

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
