"""Evolution API v2 adapter (self-hosted, QR-paired instances): contract.md section 5.

Every send outcome is classified for the dispatcher (``base.Desfecho``); nothing here retries a
send. Transport errors follow ``comum.desfecho_de_excecao`` (shared with ``cloud_api``): a
timeout or dropped connection after bytes may have left is DESCONHECIDO, which
``confirmar_envio`` (or an operator) settles. Webhook parsing lives in ``evolution_webhook``;
``interpretar_webhook`` is re-exported here for callers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Self
from urllib.parse import quote

import httpx

from whatsapp_app.logs import logger
from whatsapp_app.providers.base import (
    Confirmacao,
    Desfecho,
    EstadoConexao,
    ResultadoConfirmacao,
    ResultadoEnvio,
    StatusConexao,
)
from whatsapp_app.providers.comum import (
    ERRO_SEM_RESPOSTA,
    ErroProvedor,
    digitos,
    enviar_classificando,
    erro_de_rede,
    json_ou_vazio,
    resultado_status_http,
)
from whatsapp_app.providers.evolution_webhook import (
    _STATUS_ESTADO,
    _sem_prefixo_data,
)
from whatsapp_app.providers.evolution_webhook import (
    interpretar_webhook as interpretar_webhook,  # re-exported: callers import it from here
)
from whatsapp_app.validacoes import variantes_telefone

_log = logger("providers.evolution")

# Header that carries the per-instance webhook secret (Evolution signs nothing: contract §5).
CABECALHO_SEGREDO_WEBHOOK = "X-Webhook-Segredo"
EVENTOS_WEBHOOK: tuple[str, ...] = (
    "CONNECTION_UPDATE",
    "QRCODE_UPDATED",
    "MESSAGES_UPDATE",
    "SEND_MESSAGE",
    "MESSAGES_UPSERT",  # inbound replies (contract §7): lead_respondeu, opt-out
)

ERRO_NUMERO_INEXISTENTE = "Número não está no WhatsApp."
ERRO_CREDENCIAIS = "Credenciais do provedor inválidas."
ERRO_INSTANCIA = "Instância não encontrada no provedor."
ERRO_DESCONECTADA = "Instância desconectada do WhatsApp."


def _mensagem_erro(corpo: Any) -> str:
    """The human text inside Evolution's error envelope ``{"response": {"message": ...}}``."""
    if not isinstance(corpo, Mapping):
        return ""
    resposta = corpo.get("response")
    mensagem: Any = resposta.get("message") if isinstance(resposta, Mapping) else None
    if mensagem is None:
        mensagem = corpo.get("message") or corpo.get("error") or ""
    if isinstance(mensagem, list):
        partes = []
        for item in mensagem:
            if isinstance(item, Mapping):
                partes.append(", ".join(f"{k}={v}" for k, v in item.items()))
            else:
                partes.append(str(item))
        return "; ".join(partes)
    return str(mensagem)


def _numero_inexistente(corpo: Any) -> bool:
    if not isinstance(corpo, Mapping):
        return False
    resposta = corpo.get("response")
    mensagens = resposta.get("message") if isinstance(resposta, Mapping) else None
    if isinstance(mensagens, Mapping):
        mensagens = [mensagens]
    if not isinstance(mensagens, list):
        return False
    return any(isinstance(m, Mapping) and m.get("exists") is False for m in mensagens)


def _estado_de_corpo(corpo: Any) -> EstadoConexao:
    """Read ``/instance/connect`` or ``/instance/create`` answers (QR object or state)."""
    if not isinstance(corpo, Mapping):
        return EstadoConexao(StatusConexao.CONECTANDO)
    if corpo.get("error") is True:
        raise ErroProvedor(
            f"O provedor recusou a conexão: {_mensagem_erro(corpo) or 'erro'}", retentavel=True
        )
    instancia = corpo.get("instance")
    status: StatusConexao | None = None
    if isinstance(instancia, Mapping):
        estado = instancia.get("state") or instancia.get("status")
        if isinstance(estado, str) and estado in _STATUS_ESTADO:
            status = _STATUS_ESTADO[estado]
    if status == StatusConexao.CONECTADO:
        return EstadoConexao(StatusConexao.CONECTADO)
    qr: Any = corpo.get("qrcode") if isinstance(corpo.get("qrcode"), Mapping) else corpo
    base64 = _sem_prefixo_data(qr.get("base64")) if isinstance(qr, Mapping) else None
    pairing = qr.get("pairingCode") if isinstance(qr, Mapping) else None
    return EstadoConexao(
        StatusConexao.CONECTANDO,
        qr_base64=base64 or None,
        pairing_code=pairing if isinstance(pairing, str) and pairing else None,
    )


def jids_candidatos(numero: str) -> list[str]:
    """The JIDs WhatsApp may have stored for a number: Brazilian mobiles exist with and without
    the ninth digit (Evolution normalises some of them), so both forms are tried."""
    return [f"{forma.lstrip('+')}@s.whatsapp.net" for forma in variantes_telefone(numero)]


def _texto_registro(registro: Mapping[str, Any]) -> str | None:
    mensagem = registro.get("message")
    if not isinstance(mensagem, Mapping):
        return None
    if isinstance(mensagem.get("conversation"), str):
        return str(mensagem["conversation"])
    estendida = mensagem.get("extendedTextMessage")
    if isinstance(estendida, Mapping) and isinstance(estendida.get("text"), str):
        return str(estendida["text"])
    return None


def _registros(corpo: Any) -> tuple[list[Any], int]:
    """``findMessages`` answers ``{"messages": {"records": [...], "pages": n}}`` (v2); older
    builds answered a bare list. Returns (records, pages)."""
    if isinstance(corpo, list):
        return corpo, 1
    if isinstance(corpo, Mapping):
        mensagens = corpo.get("messages", corpo)
        if isinstance(mensagens, list):
            return mensagens, 1
        if isinstance(mensagens, Mapping) and isinstance(mensagens.get("records"), list):
            paginas = mensagens.get("pages")
            return mensagens["records"], int(paginas) if isinstance(paginas, int) else 1
    raise ValueError("resposta de findMessages sem registros")


class ProvedorEvolution:
    """``base.Provedor`` over Evolution API v2. Sync; one ``httpx.Client`` (yours or its own).

    ``margem_ausencia_s``: ``confirmar_envio`` answers AUSENTE only when the send started at
    least this long ago (the provider may still be working on a slow send).
    ``historico_confiavel``: set False when the Evolution server does not store sent messages
    (``DATABASE_SAVE_DATA_NEW_MESSAGE=false``): then an empty history proves nothing and
    ``confirmar_envio`` never answers AUSENTE.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        instance_name: str,
        *,
        timeout_s: float = 15.0,
        connect_timeout_s: float = 5.0,
        cliente: httpx.Client | None = None,
        margem_ausencia_s: float = 60.0,
        historico_confiavel: bool = True,
    ) -> None:
        if not base_url:
            raise ValueError("base_url do Evolution é obrigatória")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.instance_name = instance_name
        self._timeout = httpx.Timeout(timeout_s, connect=min(connect_timeout_s, timeout_s))
        self._cliente = cliente if cliente is not None else httpx.Client()
        self._cliente_proprio = cliente is None
        self.margem_ausencia_s = margem_ausencia_s
        self.historico_confiavel = historico_confiavel

    def __repr__(self) -> str:  # never the api key
        return f"ProvedorEvolution(base_url={self.base_url!r}, instance={self.instance_name!r})"

    # -- plumbing -------------------------------------------------------------------------------

    def fechar(self) -> None:
        if self._cliente_proprio:
            self._cliente.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.fechar()

    def _url(self, rota: str) -> str:
        return f"{self.base_url}/{rota}/{quote(self.instance_name, safe='')}"

    def _requisitar(self, metodo: str, rota: str, *, json: Any = None) -> httpx.Response:
        return self._cliente.request(
            metodo,
            self._url(rota),
            headers={"apikey": self._api_key, "Accept": "application/json"},
            json=json,
            timeout=self._timeout,
        )

    def _gerenciar(self, metodo: str, rota: str, *, json: Any = None) -> httpx.Response:
        """A connection-management call: transport errors and auth failures → ErroProvedor."""
        try:
            resposta = self._requisitar(metodo, rota, json=json)
        except httpx.HTTPError as exc:
            raise erro_de_rede(exc, "evolution", rota=rota, instancia=self.instance_name) from exc
        if resposta.status_code in (401, 403):
            raise ErroProvedor(ERRO_CREDENCIAIS, status_http=resposta.status_code)
        if resposta.status_code >= 500 or resposta.status_code == 429:
            raise ErroProvedor(
                f"Provedor indisponível (HTTP {resposta.status_code}).",
                retentavel=True,
                status_http=resposta.status_code,
            )
        return resposta

    # -- sending --------------------------------------------------------------------------------

    def enviar_texto(self, *, numero_e164: str, texto: str, id_agendamento: str) -> ResultadoEnvio:
        numero = digitos(numero_e164)
        if len(numero) < 8:
            return ResultadoEnvio(Desfecho.PERMANENTE, erro="Número de telefone inválido.")
        contexto = {"instancia": self.instance_name, "id_agendamento": id_agendamento}
        return enviar_classificando(
            "evolution",
            lambda: self._requisitar(
                "POST", "message/sendText", json={"number": numero, "text": texto}
            ),
            self._classificar_envio,
            contexto,
        )

    def _classificar_envio(self, resposta: httpx.Response) -> ResultadoEnvio:
        corpo = json_ou_vazio(resposta)
        status = resposta.status_code
        if 200 <= status < 300:
            chave = corpo.get("key") if isinstance(corpo, Mapping) else None
            id_mensagem = chave.get("id") if isinstance(chave, Mapping) else None
            return ResultadoEnvio(Desfecho.ACEITO, provider_message_id=id_mensagem or None)
        mensagem = _mensagem_erro(corpo)
        if status == 400 and _numero_inexistente(corpo):
            return ResultadoEnvio(Desfecho.PERMANENTE, erro=ERRO_NUMERO_INEXISTENTE)
        if status in (401, 403):
            return ResultadoEnvio(Desfecho.PERMANENTE, erro=ERRO_CREDENCIAIS)
        if status == 404:
            return ResultadoEnvio(Desfecho.PERMANENTE, erro=ERRO_INSTANCIA)
        comum = resultado_status_http(resposta, mensagem)
        if comum is not None:
            return comum
        if status == 400:
            # Evolution wraps every Baileys failure as 400 "Error: ..." (contract §5).
            minusculo = mensagem.lower()
            if "connection closed" in minusculo or "not connected" in minusculo:
                # Baileys refuses before writing anything when the socket is closed.
                return ResultadoEnvio(Desfecho.RETENTAVEL, erro=ERRO_DESCONECTADA)
            if "timed out" in minusculo:
                # The WhatsApp socket timed out mid-send: the message may be out.
                return ResultadoEnvio(
                    Desfecho.DESCONHECIDO, erro=f"{ERRO_SEM_RESPOSTA} ({mensagem})"
                )
        return ResultadoEnvio(
            Desfecho.PERMANENTE,
            erro=f"O provedor recusou a mensagem (HTTP {status}): {mensagem or 'sem detalhes'}",
        )

    # -- connection -----------------------------------------------------------------------------

    def estado_conexao(self) -> EstadoConexao:
        resposta = self._gerenciar("GET", "instance/connectionState")
        if resposta.status_code == 404:
            return EstadoConexao(StatusConexao.DESCONECTADO)
        corpo = json_ou_vazio(resposta)
        if resposta.status_code >= 400 or not isinstance(corpo, Mapping):
            raise ErroProvedor(
                f"Resposta inesperada do provedor (HTTP {resposta.status_code}).",
                status_http=resposta.status_code,
            )
        instancia = corpo.get("instance")
        estado = instancia.get("state") if isinstance(instancia, Mapping) else None
        return EstadoConexao(_STATUS_ESTADO.get(str(estado), StatusConexao.DESCONECTADO))

    def conectar(self) -> EstadoConexao:
        """Start pairing: CONECTANDO with a QR (or pairing code) to show, CONECTADO when already
        paired. The QR may not be ready yet (``{"count": 0}``): CONECTANDO without a QR, ask
        again. Creates the instance on the provider when it does not exist there."""
        resposta = self._gerenciar("GET", "instance/connect")
        if resposta.status_code == 404:
            return self.criar_instancia()
        if resposta.status_code >= 400:
            raise ErroProvedor(
                f"O provedor recusou a conexão: {_mensagem_erro(json_ou_vazio(resposta))}",
                status_http=resposta.status_code,
            )
        return _estado_de_corpo(json_ou_vazio(resposta))

    def criar_instancia(self) -> EstadoConexao:
        try:
            resposta = self._cliente.post(
                f"{self.base_url}/instance/create",
                headers={"apikey": self._api_key},
                json={
                    "instanceName": self.instance_name,
                    "qrcode": True,
                    "integration": "WHATSAPP-BAILEYS",
                },
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise erro_de_rede(exc, "evolution", rota="instance/create") from exc
        if resposta.status_code in (401, 403):
            raise ErroProvedor(ERRO_CREDENCIAIS, status_http=resposta.status_code)
        if resposta.status_code >= 400:
            raise ErroProvedor(
                "Não foi possível criar a instância no provedor: "
                f"{_mensagem_erro(json_ou_vazio(resposta))}",
                retentavel=resposta.status_code >= 500,
                status_http=resposta.status_code,
            )
        return _estado_de_corpo(json_ou_vazio(resposta))

    def reiniciar(self) -> None:
        resposta = self._gerenciar("POST", "instance/restart")
        corpo = json_ou_vazio(resposta)
        if resposta.status_code == 404:
            raise ErroProvedor(ERRO_INSTANCIA, status_http=404)
        if resposta.status_code >= 400 or (
            isinstance(corpo, Mapping) and corpo.get("error") is True
        ):
            # Evolution answers 200 {"error": true, "message"} when the restart fails.
            raise ErroProvedor(
                f"O provedor não reiniciou a instância: {_mensagem_erro(corpo) or 'erro'}",
                status_http=resposta.status_code,
            )

    def desconectar(self) -> None:
        """Log the WhatsApp session out. Idempotent: an instance already logged out, or absent
        on the provider, is fine."""
        resposta = self._gerenciar("DELETE", "instance/logout")
        if resposta.status_code in (400, 404) or resposta.status_code < 300:
            return
        raise ErroProvedor(
            f"O provedor não desconectou a instância (HTTP {resposta.status_code}).",
            status_http=resposta.status_code,
        )

    def configurar_webhook(
        self,
        url: str,
        segredo_header: str,
        *,
        nome_cabecalho: str = CABECALHO_SEGREDO_WEBHOOK,
        eventos: Iterable[str] = EVENTOS_WEBHOOK,
    ) -> None:
        """Point the instance's webhook at ``url``; every delivery carries
        ``nome_cabecalho: segredo_header`` so our endpoint can authenticate it."""
        resposta = self._gerenciar(
            "POST",
            "webhook/set",
            json={
                "webhook": {
                    "enabled": True,
                    "url": url,
                    "headers": {nome_cabecalho: segredo_header},
                    "byEvents": False,
                    "base64": False,
                    "events": list(eventos),
                }
            },
        )
        if resposta.status_code == 404:
            raise ErroProvedor(ERRO_INSTANCIA, status_http=404)
        if resposta.status_code >= 400:
            raise ErroProvedor(
                "O provedor recusou a configuração do webhook: "
                f"{_mensagem_erro(json_ou_vazio(resposta))}",
                status_http=resposta.status_code,
            )

    # -- reconciliation -------------------------------------------------------------------------

    def confirmar_envio(
        self,
        *,
        numero_e164: str,
        texto: str,
        id_agendamento: str,
        desde: datetime,
        folga_relogio_s: float = 120.0,
        max_paginas: int = 5,
    ) -> ResultadoConfirmacao:
        """Look for an outgoing message with this text to this number since ``desde``.

        ENVIADO (with its id) when found; AUSENTE only when the whole window was read, the
        history is trusted and the send started more than ``margem_ausencia_s`` ago;
        DESCONHECIDO on any error or doubt."""
        agora = datetime.now(UTC)
        if desde.tzinfo is None:
            desde = desde.replace(tzinfo=UTC)
        inicio = desde - timedelta(seconds=folga_relogio_s)
        fim = agora + timedelta(seconds=folga_relogio_s)
        alvo = texto.strip()
        completo = True
        try:
            for jid in jids_candidatos(numero_e164):
                pagina, paginas = 1, 1
                while pagina <= paginas:
                    if pagina > max_paginas:
                        completo = False
                        break
                    resposta = self._requisitar(
                        "POST",
                        "chat/findMessages",
                        json={
                            "where": {
                                "key": {"remoteJid": jid, "fromMe": True},
                                "messageTimestamp": {
                                    "gte": inicio.isoformat(),
                                    "lte": fim.isoformat(),
                                },
                            },
                            "page": pagina,
                            "offset": 50,
                        },
                    )
                    if resposta.status_code != 200:
                        raise ErroProvedor(f"findMessages HTTP {resposta.status_code}")
                    registros, paginas = _registros(resposta.json())
                    for registro in registros:
                        encontrado = self._registro_confere(registro, jid, alvo, inicio)
                        if encontrado is not None:
                            return ResultadoConfirmacao(
                                Confirmacao.ENVIADO, provider_message_id=encontrado or None
                            )
                    pagina += 1
        except Exception as exc:
            _log.warning(
                "evolution: confirmação indisponível",
                extra={"id_agendamento": id_agendamento, "erro": type(exc).__name__},
            )
            return ResultadoConfirmacao(Confirmacao.DESCONHECIDO)
        cedo = (agora - desde).total_seconds() < self.margem_ausencia_s
        if not completo or cedo or not self.historico_confiavel:
            return ResultadoConfirmacao(Confirmacao.DESCONHECIDO)
        return ResultadoConfirmacao(Confirmacao.AUSENTE)

    @staticmethod
    def _registro_confere(registro: Any, jid: str, alvo: str, inicio: datetime) -> str | None:
        """The message id ("" when the record has none) if this record is our send, else None."""
        if not isinstance(registro, Mapping):
            return None
        chave = registro.get("key")
        if not isinstance(chave, Mapping) or chave.get("fromMe") is not True:
            return None
        jid_registro = chave.get("remoteJid")
        # The server filtered by JID; a LID (``...@lid``) is the server's own mapping of it.
        if jid_registro not in (None, jid) and not str(jid_registro).endswith("@lid"):
            return None
        carimbo = registro.get("messageTimestamp")
        if isinstance(carimbo, int | float) and carimbo < inicio.timestamp() - 1:
            return None
        texto = _texto_registro(registro)
        if texto is None or texto.strip() != alvo:
            return None
        id_mensagem = chave.get("id") or registro.get("id")
        return str(id_mensagem) if id_mensagem else ""
