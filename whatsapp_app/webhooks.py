"""Provider webhooks: authenticate a delivery, then apply its normalised events.

Authentication comes first and writes nothing: a delivery that fails it changes no row.

- Evolution (and the simulator): ``/api/webhooks/evolution/{id_instancia}`` carries the
  instance's random secret in ``X-Webhook-Segredo`` (set by ``instancias.configurar_webhook``),
  compared in constant time.
- Meta Cloud API: ``X-Hub-Signature-256`` is an HMAC of the raw body; it must verify with the
  ``app_secret`` of an instance whose ``phone_number_id`` the payload names, for every number it
  names. Events then apply only to the company of the instance that verified them.

Effects, all idempotent (duplicates and reordering are harmless):

- connection events write the instance's state at once (``conectividade.gravar_estado``);
- message statuses go to the job, found by ``biz_opaque_callback_data`` (= job id, Cloud API)
  or by ``provider_message_id``, always inside the instance's company. ``status_entrega`` only
  moves forward (enviado < falhou < entregue < lido), by a conditional UPDATE;
- an ``INCERTO`` job with evidence it went out (enviado/entregue/lido) becomes ``ENVIADO``,
  again by a conditional UPDATE (``WHERE status = 'INCERTO'``). A failed delivery leaves it
  ``INCERTO`` for an operator (the contract allows nothing else);
- Evolution does not echo our job id and may report a message before the dispatcher has stored
  its id: such statuses (our own messages only, ``fromMe``) are parked on the instance for
  ``PRAZO_EVENTO_PENDENTE_S`` and applied by the next webhook or polling round.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from whatsapp_app import contadores, conversa, db, metricas
from whatsapp_app.conectividade import gravar_estado, travar_instancia
from whatsapp_app.cripto import ErroCripto, decifrar_config
from whatsapp_app.envio import registrar_saida_do_job
from whatsapp_app.logs import logger
from whatsapp_app.models import (
    TAMANHO_ID,
    Provedor,
    StatusAgendamento,
    StatusEntrega,
    WhatsappAutomacaoAgendamento,
    WhatsappInstancia,
    WhatsappMensagem,
)
from whatsapp_app.providers import cloud_api, evolution
from whatsapp_app.providers.base import EventoWebhook
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import ErroApp, NaoAutenticado

_log = logger("webhooks")
_agendamento = WhatsappAutomacaoAgendamento.__table__  # type: ignore[attr-defined]
_mensagem = WhatsappMensagem.__table__  # type: ignore[attr-defined]

CHAVE_SEGREDO_WEBHOOK = "segredo_webhook"
MAX_CORPO_BYTES = 1_000_000  # a webhook body larger than this is refused (413)
PRAZO_EVENTO_PENDENTE_S = 300.0  # seconds a status waits for its job's provider message id
MAX_EVENTOS_PENDENTES = 200  # per instance; the oldest are dropped first
MENSAGEM_NAO_AUTENTICADO = "Webhook não autenticado."

ORDEM_ENTREGA = {
    StatusEntrega.ENVIADO.value: 1,
    StatusEntrega.FALHOU.value: 2,
    StatusEntrega.ENTREGUE.value: 3,
    StatusEntrega.LIDO.value: 4,
}
_PROVA_DE_ENVIO = {
    StatusEntrega.ENVIADO.value,
    StatusEntrega.ENTREGUE.value,
    StatusEntrega.LIDO.value,
}


class CorpoGrandeDemais(ErroApp):
    status = 413
    codigo = "corpo_grande_demais"


def _nao_autenticado() -> NaoAutenticado:
    return NaoAutenticado(MENSAGEM_NAO_AUTENTICADO, codigo="webhook_nao_autenticado")


# --- applying message statuses -----------------------------------------------------------------


def aplicar_status_mensagem(
    sessao: Session,
    *,
    id_empresa: str,
    status: str,
    provider_message_id: str | None = None,
    id_agendamento: str | None = None,
    erro: str | None = None,
    momento: datetime | None = None,
) -> bool:
    """Record one delivery status on its job (company-scoped). False when no job matches."""
    if status not in ORDEM_ENTREGA:
        return False
    momento = momento or agora()
    t = _agendamento
    job = None
    if isinstance(id_agendamento, str) and id_agendamento and len(id_agendamento) <= TAMANHO_ID:
        job = sessao.execute(
            sa.select(t.c.id, t.c.provider_message_id).where(
                t.c.id_empresa == id_empresa, t.c.id == id_agendamento
            )
        ).first()
    if job is None and isinstance(provider_message_id, str) and provider_message_id:
        job = sessao.execute(
            sa.select(t.c.id, t.c.provider_message_id).where(
                t.c.id_empresa == id_empresa, t.c.provider_message_id == provider_message_id
            )
        ).first()
    if job is None:
        return False
    id_job, id_mensagem_do_job = job
    if id_mensagem_do_job and provider_message_id and id_mensagem_do_job != provider_message_id:
        # An earlier attempt's message (the job was resent since): not this job's delivery.
        _log.info(
            "status de mensagem antiga ignorado",
            extra={"id_agendamento": id_job, "provider_message_id": provider_message_id},
        )
        return True
    posicao = sa.case(
        {chave: valor for chave, valor in ORDEM_ENTREGA.items()},
        value=t.c.status_entrega,
        else_=0,
    )
    valores: dict[str, Any] = {"status_entrega": status, "status_entrega_em": momento}
    if status == StatusEntrega.FALHOU.value:
        valores["erro_entrega"] = erro or "O provedor informou falha na entrega."
    avancou = sessao.execute(
        sa.update(t)
        .where(
            t.c.id == id_job,
            sa.or_(t.c.status_entrega.is_(None), posicao < ORDEM_ENTREGA[status]),
        )
        .values(**valores)
    ).rowcount  # type: ignore[attr-defined]
    if status in _PROVA_DE_ENVIO:
        resolvido = sessao.execute(
            sa.update(t)
            .where(t.c.id == id_job, t.c.status == StatusAgendamento.INCERTO.value)
            .values(
                status=StatusAgendamento.ENVIADO.value,
                enviado_em=momento,
                provider_message_id=sa.func.coalesce(t.c.provider_message_id, provider_message_id),
                ultimo_erro=None,
                atualizado_em=momento,
            )
        ).rowcount  # type: ignore[attr-defined]
        if resolvido:
            registrar_saida_do_job(
                sessao,
                id_empresa=id_empresa,
                id_agendamento=id_job,
                provider_message_id=provider_message_id,
            )
            contadores.somar(contadores.ENVIADOS, id_empresa, sessao=sessao)
            _log.info(
                "INCERTO confirmado pelo webhook",
                extra={"id_agendamento": id_job, "provider_message_id": provider_message_id},
            )
        elif provider_message_id:
            # A job the operator marked ENVIADO learns its provider id (never overwritten).
            sessao.execute(
                sa.update(t)
                .where(
                    t.c.id == id_job,
                    t.c.status == StatusAgendamento.ENVIADO.value,
                    t.c.provider_message_id.is_(None),
                )
                .values(provider_message_id=provider_message_id)
            )
    _avancar_mensagem(sessao, id_job, status, momento)
    if avancou:
        _log.info(
            "status de entrega",
            extra={"id_agendamento": id_job, "status_entrega": status},
        )
    return True


def _avancar_mensagem(sessao: Session, id_job: str, status: str, momento: datetime) -> None:
    """The conversation's copy of the job's delivery status (ticks in the drawer)."""
    m = _mensagem
    posicao = sa.case(
        {chave: valor for chave, valor in ORDEM_ENTREGA.items()},
        value=m.c.status_entrega,
        else_=0,
    )
    sessao.execute(
        sa.update(m)
        .where(
            m.c.id_agendamento == id_job,
            sa.or_(m.c.status_entrega.is_(None), posicao < ORDEM_ENTREGA[status]),
        )
        .values(status_entrega=status, status_entrega_em=momento)
    )


# --- parked statuses (Evolution) ---------------------------------------------------------------


def _vigentes(eventos: Any, momento: datetime) -> list[dict[str, Any]]:
    limite = momento - timedelta(seconds=PRAZO_EVENTO_PENDENTE_S)
    vigentes = []
    for evento in eventos or []:
        try:
            if datetime.fromisoformat(str(evento["em"])) >= limite:
                vigentes.append(dict(evento))
        except (KeyError, TypeError, ValueError):
            continue
    return vigentes


def _estacionar(sessao: Session, id_instancia: str, evento: dict[str, Any]) -> None:
    instancia = travar_instancia(sessao, id_instancia)
    if instancia is None:
        return
    eventos = _vigentes(instancia.eventos_pendentes, agora())
    if any(e.get("id") == evento["id"] and e.get("status") == evento["status"] for e in eventos):
        return
    eventos.append(evento)
    instancia.eventos_pendentes = eventos[-MAX_EVENTOS_PENDENTES:]
    sessao.add(instancia)


def aplicar_eventos_pendentes(id_instancia: str) -> int:
    """Apply parked statuses whose job now has the provider's id; drop expired ones."""
    with db.sessao() as sessao:
        instancia = travar_instancia(sessao, id_instancia)
        if instancia is None or not instancia.eventos_pendentes:
            return 0
        eventos = _vigentes(instancia.eventos_pendentes, agora())
        ids = {str(e.get("id")) for e in eventos if e.get("id")}
        conhecidos = (
            set(
                sessao.execute(
                    sa.select(_agendamento.c.provider_message_id).where(
                        _agendamento.c.id_empresa == instancia.id_empresa,
                        _agendamento.c.provider_message_id.in_(ids),
                    )
                )
                .scalars()
                .all()
            )
            if ids
            else set()
        )
        restantes, aplicados = [], 0
        for evento in eventos:
            if evento.get("id") in conhecidos and aplicar_status_mensagem(
                sessao,
                id_empresa=instancia.id_empresa,
                status=str(evento.get("status")),
                provider_message_id=str(evento["id"]),
            ):
                aplicados += 1
            else:
                restantes.append(evento)
        instancia.eventos_pendentes = restantes or None
        sessao.add(instancia)
    return aplicados


# --- Evolution ---------------------------------------------------------------------------------


def _ler_corpo(corpo_bruto: bytes) -> Any:
    if len(corpo_bruto) > MAX_CORPO_BYTES:
        raise CorpoGrandeDemais("Corpo do webhook grande demais.")
    try:
        return json.loads(corpo_bruto)
    except (ValueError, UnicodeDecodeError):
        return None


def autenticar_evolution(
    id_instancia: str, segredo: str | None
) -> tuple[WhatsappInstancia, dict[str, Any]]:
    """The instance whose secret this is, or 401 (unknown, deleted, wrong or missing secret:
    all answer the same, so the endpoint tells nothing about which instances exist)."""
    instancia: WhatsappInstancia | None = None
    config: dict[str, Any] = {}
    if len(id_instancia) <= TAMANHO_ID:
        with db.sessao() as sessao:
            instancia = sessao.exec(
                select(WhatsappInstancia).where(
                    WhatsappInstancia.id == id_instancia,
                    col(WhatsappInstancia.excluida_em).is_(None),
                    col(WhatsappInstancia.provider).in_(
                        [Provedor.EVOLUTION.value, Provedor.SIMULADOR.value]
                    ),
                )
            ).first()
    if instancia is not None:
        try:
            config = decifrar_config(instancia.config_cifrada)
        except ErroCripto:
            config = {}
    esperado = str(config.get(CHAVE_SEGREDO_WEBHOOK) or "")
    recebido = segredo or ""
    # compare_digest on equal-length inputs even when something is missing (no early exit).
    confere = hmac.compare_digest(recebido.encode(), (esperado or "\0" * 43).encode())
    if instancia is None or not esperado or not confere:
        _log.warning("webhook evolution recusado", extra={"id_instancia": id_instancia[:64]})
        raise _nao_autenticado()
    return instancia, config


def _nome_esperado(instancia: WhatsappInstancia, config: Mapping[str, Any]) -> str:
    if instancia.provider == Provedor.SIMULADOR.value:
        return instancia.id
    return str(config.get("instance_name") or "")


def _de_mim(corpo: Any) -> bool | None:
    """``fromMe`` of an Evolution message event (None when the payload does not say)."""
    dados = corpo.get("data") if isinstance(corpo, Mapping) else None
    if isinstance(dados, list):
        dados = dados[0] if dados else None
    if not isinstance(dados, Mapping):
        return None
    chave = dados.get("key")
    valor = dados.get("fromMe", chave.get("fromMe") if isinstance(chave, Mapping) else None)
    return valor if isinstance(valor, bool) else None


def receber_evolution(
    *, id_instancia: str, segredo: str | None, corpo_bruto: bytes
) -> dict[str, Any]:
    """One Evolution delivery: authenticate, then apply. Returns what happened."""
    if len(corpo_bruto) > MAX_CORPO_BYTES:
        raise CorpoGrandeDemais("Corpo do webhook grande demais.")
    instancia, config = autenticar_evolution(id_instancia, segredo)
    corpo = _ler_corpo(corpo_bruto)
    evento: EventoWebhook = evolution.interpretar_webhook(corpo)
    nome = corpo.get("instance") if isinstance(corpo, Mapping) else None
    if nome not in (None, "", _nome_esperado(instancia, config)):
        _log.warning(
            "webhook de outra instância do provedor ignorado",
            extra={"id_instancia": instancia.id, "instancia_no_corpo": str(nome)[:100]},
        )
        return {"ok": True, "resultado": "ignorado"}
    resultado = "ignorado"
    if evento.tipo == "mensagem_recebida" and evento.mensagem is not None:
        with db.sessao() as sessao:
            entrada = conversa.registrar_mensagem_recebida(
                sessao=sessao, instancia=instancia, mensagem=evento.mensagem
            )
        resultado = "mensagem_" + entrada.resultado
    elif evento.tipo in ("conexao", "qr") and evento.status_conexao is not None:
        with db.sessao() as sessao:
            gravar_estado(sessao, instancia.id, evento.status_conexao, origem="webhook")
        resultado = "conexao"
    elif (
        evento.tipo == "status_mensagem" and evento.status_mensagem and _de_mim(corpo) is not False
    ):
        with db.sessao() as sessao:
            aplicado = aplicar_status_mensagem(
                sessao,
                id_empresa=instancia.id_empresa,
                status=evento.status_mensagem,
                provider_message_id=evento.provider_message_id,
            )
            if not aplicado and evento.provider_message_id:
                _estacionar(
                    sessao,
                    instancia.id,
                    {
                        "id": evento.provider_message_id,
                        "status": evento.status_mensagem,
                        "em": agora().isoformat(),
                    },
                )
        resultado = "status_aplicado" if aplicado else "status_pendente"
    if instancia.eventos_pendentes and resultado != "status_pendente":
        aplicar_eventos_pendentes(instancia.id)
    return {"ok": True, "resultado": resultado}


# --- Meta Cloud API ----------------------------------------------------------------------------


def _instancias_cloud(
    sessao: Session, phone_number_ids: set[str] | None = None
) -> list[WhatsappInstancia]:
    consulta = select(WhatsappInstancia).where(
        WhatsappInstancia.provider == Provedor.CLOUD_API.value,
        col(WhatsappInstancia.excluida_em).is_(None),
    )
    if phone_number_ids is not None:
        consulta = consulta.where(col(WhatsappInstancia.phone_number_id).in_(phone_number_ids))
    return list(sessao.exec(consulta).all())


def verificar_meta(mode: str | None, token: str | None, challenge: str | None) -> str | None:
    """Meta's GET handshake: the challenge when ``token`` is some instance's verify_token."""
    if mode != "subscribe" or not token or challenge is None:
        return None
    with db.sessao() as sessao:
        instancias = _instancias_cloud(sessao)
    aceito = False
    for instancia in instancias:  # no early exit: time does not depend on which one matched
        try:
            verify_token = str(decifrar_config(instancia.config_cifrada).get("verify_token") or "")
        except ErroCripto:
            continue
        if cloud_api.responder_verificacao(mode, token, challenge, verify_token) is not None:
            aceito = True
    if not aceito:
        _log.warning("verificação do webhook da Meta recusada")
        return None
    return challenge


def _numeros_do_corpo(corpo: Any) -> set[str]:
    numeros: set[str] = set()
    if not isinstance(corpo, Mapping):
        return numeros
    for entrada in corpo.get("entry") or []:
        if not isinstance(entrada, Mapping):
            continue
        for mudanca in entrada.get("changes") or []:
            valor = mudanca.get("value") if isinstance(mudanca, Mapping) else None
            metadados = valor.get("metadata") if isinstance(valor, Mapping) else None
            numero = metadados.get("phone_number_id") if isinstance(metadados, Mapping) else None
            if numero not in (None, ""):
                numeros.add(str(numero))
    return numeros


def _erro_meta(erros: Any) -> str | None:
    if not isinstance(erros, list) or not erros or not isinstance(erros[0], Mapping):
        return None
    erro = erros[0]
    bruto = erro.get("code")
    codigo = int(bruto) if isinstance(bruto, int | str) and str(bruto).isdigit() else None
    if codigo in cloud_api.CODIGOS_PERMANENTES:
        return cloud_api.CODIGOS_PERMANENTES[codigo]
    texto = str(erro.get("title") or erro.get("message") or "falha na entrega")
    return f"Cloud API: {texto}" + (f" (código {codigo})" if codigo is not None else "")


def autenticar_meta(
    corpo_bruto: bytes, assinatura: str | None
) -> tuple[Any, dict[str, list[WhatsappInstancia]]]:
    """The parsed body and, per named ``phone_number_id``, the instances whose app secret
    verifies the signature. 401 unless at least one named number verifies (or, for a delivery
    that names none, one of our apps signed it).

    Numbers that do not verify (another app's, or one we do not serve) are left out: their
    entries are ignored, while the entries we serve still apply. Refusing the whole delivery
    would make Meta retry it for days and lose our own statuses."""
    if len(corpo_bruto) > MAX_CORPO_BYTES:
        raise CorpoGrandeDemais("Corpo do webhook grande demais.")
    corpo = _ler_corpo(corpo_bruto)
    if not assinatura or not isinstance(corpo, Mapping):
        _log.warning("webhook da Meta recusado: sem assinatura ou corpo ilegível")
        raise _nao_autenticado()
    numeros = _numeros_do_corpo(corpo)
    with db.sessao() as sessao:
        # A delivery that names no number (account-level updates) must still be signed by
        # one of our apps; it then applies to nothing.
        candidatas = _instancias_cloud(sessao, numeros or None)
    verificadas: dict[str, list[WhatsappInstancia]] = {}
    for instancia in candidatas:
        try:
            app_secret = str(decifrar_config(instancia.config_cifrada).get("app_secret") or "")
        except ErroCripto:
            continue
        if cloud_api.verificar_assinatura(corpo_bruto, assinatura, app_secret):
            verificadas.setdefault(str(instancia.phone_number_id), []).append(instancia)
    if not verificadas:
        _log.warning("webhook da Meta recusado: assinatura inválida")
        raise _nao_autenticado()
    ignorados = sorted(numeros - set(verificadas))
    if ignorados:
        _log.warning(
            "webhook da Meta: números não atendidos ignorados",
            extra={"phone_number_ids": [n[:64] for n in ignorados[:20]]},
        )
    return corpo, verificadas


def receber_meta(*, corpo_bruto: bytes, assinatura: str | None) -> dict[str, Any]:
    """One Cloud API delivery (many statuses and messages): authenticate, then apply each to
    the company of the instance that verified its number, in one transaction."""
    corpo, verificadas = autenticar_meta(corpo_bruto, assinatura)
    aplicados = ignorados = recebidas = 0
    momento = agora()
    with db.sessao() as sessao:
        for evento in cloud_api.interpretar_webhook(corpo):
            numero = str(evento.dados.get("phone_number_id") or "")
            instancias = verificadas.get(numero, [])
            if evento.tipo == "erro_provedor":
                _registrar_erros_meta(numero, evento.dados.get("erros"), bool(instancias))
                continue
            if evento.tipo == "mensagem_recebida" and evento.mensagem is not None:
                for instancia in instancias:
                    entrada = conversa.registrar_mensagem_recebida(
                        sessao=sessao, instancia=instancia, mensagem=evento.mensagem
                    )
                    recebidas += entrada.resultado == "registrada"
                ignorados += not instancias
                continue
            if evento.tipo != "status_mensagem" or not evento.status_mensagem:
                ignorados += 1
                continue
            aplicou = False
            for instancia in instancias:
                aplicou = (
                    aplicar_status_mensagem(
                        sessao,
                        id_empresa=instancia.id_empresa,
                        status=evento.status_mensagem,
                        provider_message_id=evento.provider_message_id,
                        id_agendamento=evento.id_agendamento,
                        erro=_erro_meta(evento.dados.get("erros")),
                        momento=momento,
                    )
                    or aplicou
                )
            aplicados += aplicou
            ignorados += not aplicou
    return {"ok": True, "aplicados": aplicados, "recebidas": recebidas, "ignorados": ignorados}


def _registrar_erros_meta(numero: str, erros: Any, atendido: bool) -> None:
    """Meta's value-level ``errors[]`` (a webhook it could not deliver, a throttled app...):
    logged and counted, never dropped silently."""
    for erro in erros if isinstance(erros, list) else []:
        if not isinstance(erro, Mapping):
            continue
        metricas.erros_provedor_webhook.inc()
        _log.warning(
            "erro informado pela Meta no webhook",
            extra={
                "phone_number_id": numero[:64],
                "atendido": atendido,
                "codigo": str(erro.get("code"))[:16],
                "titulo": str(erro.get("title") or erro.get("message") or "")[:200],
                "detalhes": str(
                    (erro.get("error_data") or {}).get("details")
                    if isinstance(erro.get("error_data"), Mapping)
                    else ""
                )[:300],
            },
        )
