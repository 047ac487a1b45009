"""The simulator's state: instances, inbox, injected faults, replies and webhook deliveries.

Everything here is guarded by one lock: the HTTP server runs one thread per connection. Webhooks
go out from one background thread, in order, fire and forget (``entrega.EntregaWebhooks``);
READ statuses come from a second one (``leituras.AgendaLeituras``).

Like Evolution, an instance exists only once ``POST /instance/create`` made it: every other
call naming an unknown instance raises ``InstanciaInexistente`` (the server answers 404).
``criar_sob_demanda=True`` brings back the old "created on first use" for load tests that do
not exercise the instance lifecycle.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from whatsapp_app.logs import logger
from whatsapp_app.simulador import (
    SIMULADOR_API_KEY,
    SIMULADOR_AUTO_CONECTAR_S_PADRAO,
    SIMULADOR_LEITURA_S_PADRAO,
)
from whatsapp_app.simulador.caixa import ENTRADA, SAIDA, CaixaEntrada
from whatsapp_app.simulador.conversa import ErroResposta, validar_resposta
from whatsapp_app.simulador.entrega import EntregaWebhooks
from whatsapp_app.simulador.eventos import (
    JID_PROPRIO,
    atualizacao_status,
    id_mensagem_android,
    id_mensagem_web,
    jid,
    registro_enviado,
    registro_recebido,
)
from whatsapp_app.simulador.falhas import (
    Decisao,
    Falhas,
    decidir,
    validar_config,
    validar_falhas,
)
from whatsapp_app.simulador.instancia import Instancia, InstanciaInexistente
from whatsapp_app.simulador.leituras import AgendaLeituras

_log = logger("simulador")


def _agora() -> datetime:
    return datetime.now(UTC)


def _segundos_ou_nunca(valor: float | None) -> float | None:
    """None, zero or negative all mean "never" (README: ``0 = só pelo botão``)."""
    return None if valor is None or valor <= 0 else float(valor)


class Simulador:
    """All state of one simulator. Thread-safe; ``parar()`` stops its background work.

    ``auto_conectar_s``: a QR on screen is "scanned" after this long (None/0: only the page's
    button). ``leitura_s``: each message our app sent gets a READ status this long after it
    arrived (None/0: never)."""

    def __init__(
        self,
        *,
        api_key: str = SIMULADOR_API_KEY,
        auto_conectar_s: float | None = SIMULADOR_AUTO_CONECTAR_S_PADRAO,
        leitura_s: float | None = SIMULADOR_LEITURA_S_PADRAO,
        url_publica: str = "",
        criar_sob_demanda: bool = False,
        instancias: Iterable[str] = (),
    ) -> None:
        self.api_key = api_key
        self.auto_conectar_s = _segundos_ou_nunca(auto_conectar_s)
        self.leitura_s = _segundos_ou_nunca(leitura_s)
        self.url_publica = url_publica
        self.criar_sob_demanda = criar_sob_demanda
        self._trava = threading.RLock()
        self._instancias: dict[str, Instancia] = {}
        self._caixa = CaixaEntrada()
        self._falhas = Falhas()
        self._aleatorio = random.Random()
        self._contadores: dict[str, int] = {}
        self._timers: list[threading.Timer] = []
        self.parando = threading.Event()
        self._entrega = EntregaWebhooks(self.parando)
        self._leituras = AgendaLeituras(self._marcar_lida)
        for nome in instancias:
            self.criar(nome, conectada=True)

    # -- lifecycle ------------------------------------------------------------------------------

    def parar(self) -> None:
        self.parando.set()
        with self._trava:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
        self._leituras.parar()
        self._entrega.parar()

    def resetar(self) -> None:
        with self._trava:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
            self._leituras.limpar()
            self._instancias.clear()
            self._caixa.limpar()
            self._falhas = Falhas()
            self._aleatorio = random.Random()
            self._contadores.clear()

    def config(self) -> dict[str, Any]:
        with self._trava:
            return {
                "leitura_s": self.leitura_s,
                "auto_conectar_s": self.auto_conectar_s,
                "criar_sob_demanda": self.criar_sob_demanda,
            }

    def definir_config(self, dados: Any) -> dict[str, Any]:
        """``POST /__sim/config``: partial update; ``null`` or 0 turns a timer off."""
        novos = validar_config(dados, sob_demanda_atual=self.criar_sob_demanda)
        with self._trava:
            if "leitura_s" in novos:
                self.leitura_s = _segundos_ou_nunca(novos["leitura_s"])
            if "auto_conectar_s" in novos:
                self.auto_conectar_s = _segundos_ou_nunca(novos["auto_conectar_s"])
            self.criar_sob_demanda = bool(novos["criar_sob_demanda"])
            _log.info("simulador: configuração", extra={"config": self.config()})
            return self.config()

    # -- instances ------------------------------------------------------------------------------

    def instancia(self, nome: str) -> Instancia:
        """The instance named ``nome``; ``InstanciaInexistente`` unless it was created (or the
        simulator creates on demand)."""
        with self._trava:
            inst = self._instancias.get(nome)
            if inst is None:
                if not self.criar_sob_demanda:
                    raise InstanciaInexistente(nome)
                inst = self._instancias[nome] = Instancia(nome=nome)
                _log.info("simulador: instância criada sob demanda", extra={"instancia": nome})
            return inst

    def existe(self, nome: str) -> bool:
        """Whether calls naming ``nome`` are served (created, or created on demand)."""
        with self._trava:
            return nome in self._instancias or self.criar_sob_demanda

    def estado(self, nome: str) -> str:
        with self._trava:
            inst = self.instancia(nome)
            return "close" if self._falhas.desconectado else inst.estado

    def listar_instancias(self) -> list[dict[str, Any]]:
        with self._trava:
            return [
                {
                    "instanceName": i.nome,
                    "instanceId": i.id,
                    "state": self.estado(i.nome),
                    "qr_base64": i.qr_base64 if i.estado == "connecting" else None,
                    "pairingCode": i.pairing_code if i.estado == "connecting" else None,
                    "webhook": (i.webhook or {}).get("url"),
                    "eventos": list((i.webhook or {}).get("events") or []),
                    "atualizada_em": i.atualizada_em.isoformat(),
                }
                for i in self._instancias.values()
            ]

    def _mudar_estado(self, inst: Instancia, estado: str, motivo: int = 200) -> None:
        inst.estado = estado
        inst.geracao += 1
        inst.atualizada_em = _agora()
        if estado != "connecting":
            inst.qr_code = inst.qr_base64 = inst.pairing_code = None
        _log.info("simulador: conexão", extra={"instancia": inst.nome, "estado": estado})
        self._emitir(
            inst,
            "connection.update",
            {
                "instance": inst.nome,
                "state": estado,
                "statusReason": motivo,
                **({"wuid": JID_PROPRIO} if estado == "open" else {}),
            },
        )

    def criar(
        self, nome: str, *, qrcode: bool = True, conectada: bool = False
    ) -> dict[str, Any] | None:
        """``POST /instance/create``; None when the name is taken. With ``qrcode`` (what our
        adapter asks) pairing starts at once, as in Evolution; ``conectada`` skips pairing
        (instances pre-created for tests)."""
        with self._trava:
            if nome in self._instancias:
                return None
            inst = self._instancias[nome] = Instancia(nome=nome)
            _log.info("simulador: instância criada", extra={"instancia": nome})
            qr: dict[str, Any] = {"count": 0}
            if conectada:
                self._mudar_estado(inst, "open")
            elif qrcode:
                qr = self.conectar(nome)
            return {
                "instance": {
                    "instanceName": nome,
                    "instanceId": inst.id,
                    "integration": "WHATSAPP-BAILEYS",
                    "status": inst.estado,
                },
                "hash": self.api_key,
                "webhook": {},
                "settings": {},
                "qrcode": qr,
            }

    def conectar(self, nome: str) -> dict[str, Any]:
        """``GET /instance/connect``: the QR object, or the state when already open."""
        with self._trava:
            inst = self.instancia(nome)
            if self._falhas.desconectado:
                # Evolution's quirk: a failed connect answers 200 with an error body.
                return {"error": True, "message": "Error: Connection Closed"}
            if inst.estado == "open":
                return {"instance": {"instanceName": nome, "state": "open"}}
            if inst.estado == "close":
                inst.novo_qr()
                self._mudar_estado(inst, "connecting")
                self._emitir(
                    inst,
                    "qrcode.updated",
                    {"qrcode": {"instance": nome, **inst.objeto_qr()}},
                )
                self._agendar_auto_conexao(inst)
            return inst.objeto_qr()

    def _agendar_auto_conexao(self, inst: Instancia) -> None:
        if self.auto_conectar_s is None:
            return
        timer = threading.Timer(
            self.auto_conectar_s, self._auto_conectar, args=(inst.nome, inst.geracao)
        )
        timer.daemon = True
        self._timers = [t for t in self._timers if t.is_alive()]
        self._timers.append(timer)
        timer.start()

    def _auto_conectar(self, nome: str, geracao: int) -> None:
        with self._trava:
            inst = self._instancias.get(nome)
            if inst is not None and inst.geracao == geracao and inst.estado == "connecting":
                self._mudar_estado(inst, "open")

    def escanear(self, nome: str) -> bool:
        """The page's "scan" button: a QR on screen becomes a paired (open) instance."""
        with self._trava:
            inst = self.instancia(nome)
            if inst.estado != "connecting":
                return False
            self._mudar_estado(inst, "open")
            return True

    def logout(self, nome: str) -> bool:
        """``DELETE /instance/logout``; False when it was not connected."""
        with self._trava:
            inst = self.instancia(nome)
            if inst.estado == "close":
                return False
            self._mudar_estado(inst, "close", motivo=401)
            return True

    def reiniciar(self, nome: str) -> dict[str, Any]:
        with self._trava:
            inst = self.instancia(nome)
            if self._falhas.desconectado or inst.estado == "close":
                return {
                    "error": True,
                    "message": f'BadRequestException: The "{nome}" instance is not connected',
                }
            return {"instance": {"instanceName": nome, "state": inst.estado}}

    def configurar_webhook(self, nome: str, corpo: Any) -> dict[str, Any] | None:
        """``POST /webhook/set``; None for a body without ``webhook.url``. As in Evolution, an
        enabled webhook with no events gets them all, a disabled one none."""
        dados = corpo.get("webhook", corpo) if isinstance(corpo, dict) else None
        if not isinstance(dados, dict) or not isinstance(dados.get("url"), str):
            return None
        with self._trava:
            inst = self.instancia(nome)
            ativo = bool(dados.get("enabled", True))
            inst.webhook = {
                "enabled": ativo,
                "url": dados["url"],
                "headers": {str(k): str(v) for k, v in (dados.get("headers") or {}).items()},
                "events": [str(e).upper().replace(".", "_") for e in dados.get("events") or []]
                if ativo
                else [],
                "byEvents": bool(dados.get("byEvents", False)),
                "base64": bool(dados.get("base64", False)),
            }
            return {"id": inst.id, "instanceId": inst.id, **inst.webhook}

    def webhook(self, nome: str) -> dict[str, Any] | None:
        """The instance's webhook settings; None when it has none (or does not exist)."""
        with self._trava:
            inst = self._instancias.get(nome)
            return dict(inst.webhook) if inst and inst.webhook else None

    # -- sending --------------------------------------------------------------------------------

    def falhas(self) -> dict[str, Any]:
        with self._trava:
            return {**asdict(self._falhas), "contadores": dict(self._contadores)}

    def definir_falhas(self, dados: Any) -> dict[str, Any]:
        with self._trava:
            self._falhas = validar_falhas(self._falhas, dados)
            if isinstance(dados, dict) and "semente" in dados:
                self._aleatorio = random.Random(self._falhas.semente)
            _log.info("simulador: falhas", extra={"falhas": asdict(self._falhas)})
        return self.falhas()

    def decidir_envio(self, numero: str) -> tuple[Decisao, float, float]:
        """What happens to the next send: (decision, latency seconds, timeout hold seconds)."""
        with self._trava:
            decisao = decidir(self._falhas, self._aleatorio, numero)
            self._contadores[decisao.value] = self._contadores.get(decisao.value, 0) + 1
            return decisao, self._falhas.latencia_ms / 1000, self._falhas.timeout_s

    def registrar_mensagem(
        self, nome: str, numero: str, texto: str, *, falha: str | None = None
    ) -> dict[str, Any]:
        """Store a received send in the inbox, queue its webhooks (and its READ, when the
        contact reads), return Evolution's 201 body."""
        agora = _agora()
        key_id = id_mensagem_web()
        with self._trava:
            inst = self.instancia(nome)
            entrada: dict[str, Any] = {
                "instance": nome,
                "number": numero,
                "text": texto,
                "key_id": key_id,
                "recebido_em": agora.isoformat(),
                "remote_jid": jid(numero),
                "message_timestamp": int(agora.timestamp()),
                "status": "DELIVERY_ACK",
                "direcao": SAIDA,
            }
            if falha:
                entrada["falha_injetada"] = falha
            self._caixa.adicionar(entrada)
            registro = registro_enviado(
                remote_jid=entrada["remote_jid"],
                key_id=key_id,
                texto=texto,
                carimbo=entrada["message_timestamp"],
                id_instancia=inst.id,
                status="PENDING",
            )
            self._emitir(inst, "send.message", registro)
            for status in ("SERVER_ACK", "DELIVERY_ACK"):
                self._emitir(inst, "messages.update", self._atualizacao(inst, entrada, status))
            if self.leitura_s is not None:
                self._leituras.agendar(self.leitura_s, key_id)
        _log.info(
            "simulador: mensagem recebida",
            extra={"instancia": nome, "numero": numero, "key_id": key_id, "falha": falha},
        )
        return registro

    @staticmethod
    def _atualizacao(inst: Instancia, entrada: dict[str, Any], status: str) -> dict[str, Any]:
        return atualizacao_status(
            key_id=entrada["key_id"],
            remote_jid=entrada["remote_jid"],
            status=status,
            id_instancia=inst.id,
        )

    def _marcar_lida(self, key_id: str) -> None:
        """The contact opened the chat: READ for one of our messages (once)."""
        with self._trava:
            entrada = self._caixa.obter(key_id)
            inst = self._instancias.get(entrada["instance"]) if entrada else None
            if entrada is None or inst is None or entrada["status"] == "READ":
                return  # inbox cleared or simulator reset meanwhile
            entrada["status"] = "READ"
            self._emitir(inst, "messages.update", self._atualizacao(inst, entrada, "READ"))
        _log.info("simulador: mensagem lida", extra={"instancia": inst.nome, "key_id": key_id})

    def leituras_pendentes(self) -> int:
        return self._leituras.pendentes()

    # -- the contact's side ---------------------------------------------------------------------

    def responder(self, dados: Any) -> dict[str, Any]:
        """``POST /__sim/responder``: the contact writes to the instance. Delivers
        ``messages.upsert`` exactly as Evolution does for an incoming message and returns its
        record. ``ErroResposta`` (422) for a bad body, ``InstanciaInexistente`` (404)."""
        pedido = validar_resposta(dados)
        agora = _agora()
        key_id = id_mensagem_android()
        with self._trava:
            inst = self.instancia(pedido.instancia)
            citada = None
            if pedido.id_resposta_a is not None:
                citada = self._caixa.obter(pedido.id_resposta_a)
                if citada is None or citada["instance"] != inst.nome:
                    raise ErroResposta(
                        {"id_resposta_a": "Nenhuma mensagem desta instância com este id."}
                    )
            registro = registro_recebido(
                numero=pedido.numero,
                key_id=key_id,
                texto=pedido.texto,
                carimbo=int(agora.timestamp()),
                id_instancia=inst.id,
                nome_contato=pedido.nome or f"Contato {pedido.numero[-4:]}",
                formato=pedido.formato,
                citada=citada,
            )
            entrada: dict[str, Any] = {
                "instance": inst.nome,
                "number": pedido.numero,
                "text": pedido.texto,
                "key_id": key_id,
                "recebido_em": agora.isoformat(),
                "remote_jid": registro["key"]["remoteJid"],
                "message_timestamp": registro["messageTimestamp"],
                "status": registro["status"],
                "direcao": ENTRADA,
                "formato": pedido.formato,
                "id_resposta_a": pedido.id_resposta_a,
                "push_name": registro["pushName"],
            }
            self._caixa.adicionar(entrada, registro)
            self._emitir(inst, "messages.upsert", registro)
        _log.info(
            "simulador: resposta do contato",
            extra={
                "instancia": inst.nome,
                "numero": pedido.numero,
                "key_id": key_id,
                "formato": pedido.formato,
            },
        )
        return registro

    # -- inbox ----------------------------------------------------------------------------------

    def mensagens(
        self,
        *,
        instancia: str | None = None,
        numero: str | None = None,
        direcao: str | None = None,
    ) -> list[dict[str, Any]]:
        with self._trava:
            return self._caixa.listar(instancia=instancia, numero=numero, direcao=direcao)

    def limpar_mensagens(self) -> int:
        with self._trava:
            self._leituras.limpar()
            return self._caixa.limpar()

    def contagem(self) -> dict[str, Any]:
        """Counts of what our app sent, so a test can assert "sent exactly once"."""
        with self._trava:
            return self._caixa.contagem()

    def buscar_mensagens(self, nome: str, corpo: Any) -> dict[str, Any]:
        """``POST /chat/findMessages``: Evolution v2's ``where`` filter over the inbox."""
        with self._trava:
            inst = self.instancia(nome)
            return self._caixa.buscar(nome, inst.id, corpo if isinstance(corpo, dict) else {})

    # -- webhooks -------------------------------------------------------------------------------

    def _emitir(self, inst: Instancia, evento: str, dados: dict[str, Any]) -> None:
        """Queue one delivery if the instance's webhook wants this event (caller holds lock)."""
        self._entrega.emitir(
            inst.webhook,
            evento,
            instancia=inst.nome,
            dados=dados,
            url_servidor=self.url_publica,
            api_key=self.api_key,
        )

    def webhooks_entregues(self) -> int:
        return self._entrega.entregues()
