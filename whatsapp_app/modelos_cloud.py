"""Cloud API message templates of an instance: the approved ones of its WABA, paginated.

Split from ``instancias`` (connection management): this is the one Graph read the builder and
``GET /api/whatsapp/instances/{id}/modelos`` share.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from whatsapp_app import paginacao
from whatsapp_app.cripto import ErroCripto
from whatsapp_app.instancias import (
    ErroProvedorApi,
    FabricaProvedor,
    _adaptador,
    _config,
    _falha,
    obter_instancia,
)
from whatsapp_app.models import Provedor
from whatsapp_app.providers.cloud_api import ProvedorCloudApi
from whatsapp_app.providers.comum import ErroProvedor
from whatsapp_app.validacoes import ErroValidacao

ERRO_SEM_WABA = (
    "Informe o WABA ID (conta do WhatsApp Business) na configuração da instância para "
    "listar os modelos aprovados."
)


def listar_modelos(
    *,
    sessao: Session,
    id_empresa: str,
    id_instancia: str,
    fabrica: FabricaProvedor | None = None,
) -> list[dict[str, Any]]:
    """The approved templates of a Cloud API instance's WABA: ``[{"nome", "idioma", "corpo",
    "variaveis", "categoria"}]``, by name then language. Other providers have no templates
    (``[]``); an instance without ``waba_id`` is a 422 on ``waba_id``; provider failures are
    502 with the provider's pt-BR message.

    The Graph call (up to ``PROVEDOR_TIMEOUT_S`` per page) runs with no transaction open: when
    ``sessao`` has nothing pending, its read transaction is ended first, so the pooled
    connection is not held during the call."""
    instancia = obter_instancia(sessao=sessao, id_empresa=id_empresa, id_instancia=id_instancia)
    if instancia.provider != Provedor.CLOUD_API.value:
        return []
    try:
        waba_id = str(_config(instancia).get("waba_id") or "").strip()
    except ErroCripto as exc:
        raise ErroProvedorApi(str(exc)) from None
    if not waba_id:
        raise ErroValidacao({"waba_id": ERRO_SEM_WABA})
    adaptador = _adaptador(instancia, fabrica)
    if not isinstance(adaptador, ProvedorCloudApi):
        raise ErroProvedorApi("Este provedor não tem modelos de mensagem.")
    if not (sessao.new or sessao.dirty or sessao.deleted):
        # Only reads so far: nothing is lost, the connection goes back to the pool. Detached
        # first so the row stays readable (for ``_falha``) without another query.
        sessao.expunge(instancia)
        sessao.rollback()
    try:
        modelos = adaptador.listar_modelos(waba_id)
    except ErroProvedor as exc:  # network failures already read as one pt-BR sentence
        raise _falha(instancia, "listar_modelos", exc) from None
    return sorted(modelos, key=lambda m: (str(m.get("nome")), str(m.get("idioma"))))


def pagina_de_modelos(
    modelos: list[dict[str, Any]], *, limite: int, cursor: str | None
) -> dict[str, Any]:
    """One page of ``listar_modelos``'s answer (contract §7 list shape), keyset on
    ``(nome, idioma)``: the Graph call returns every template at once, the page is cut here."""
    depois = paginacao.decodificar_cursor(cursor, partes=2)
    restantes = [
        m for m in modelos if depois is None or (str(m["nome"]), str(m["idioma"])) > tuple(depois)
    ]
    return paginacao.pagina(
        restantes[: limite + 1],
        limite=limite,
        total=len(modelos),
        chave=lambda m: (str(m["nome"]), str(m["idioma"])),
        publico=dict,
    )
