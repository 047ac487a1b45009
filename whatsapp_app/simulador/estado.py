"""The simulator's state: instances, inbox, injected faults and webhook deliveries.

Everything here is guarded by one lock: the HTTP server runs one thread per connection. Webhooks
go out from one background thread, in order, fire and forget (never blocking a send's answer).
"""

from __future__ import annotations

import base64
import io
import queue
import random
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import httpx
import qrcode

from whatsapp_app.logs import logger
from whatsapp_app.simulador import SIMULADOR_API_KEY, SIMULADOR_AUTO_CONECTAR_S_PADRAO

_log = logger("simulador")

FORMAS_DE_FALHA = ("ok", "429", "500", "timeout", "queda_antes", "queda_depois")


class Decisao(StrEnum):
    OK = "ok"
    E429 = "429"
    E500 = "500"
    TIMEOUT = "timeout"
    QUEDA_ANTES = "queda_antes"
    QUEDA_DEPOIS = "queda_depois"
    INEXISTENTE = "inexistente"
    DESCONECTADO = "desconectado"


@dataclass
class Falhas:
    """Fault injection, set by ``POST /__sim/falhas`` (unknown keys refused, partial updates)."""

    latencia_ms: int = 0
    taxa_429: float = 0.0
    taxa_500: float = 0.0
    taxa_timeout: float = 0.0
    taxa_queda: float = 0.0
    numeros_inexistentes: list[str] = field(default_factory=list)
    desconectado: bool = False
    semente: int | None = None
    # How long a "timeout" send holds its answer: longer than the app's PROVEDOR_TIMEOUT_S
    # (30 s by default), so the client gives up first.
    timeout_s: float = 60.0
    # Where a "queda" drops the connection: "antes" / "depois" storing the message, or random.
    queda_modo: str = "aleatorio"
    # Forced outcomes for the next sends, consumed in order (deterministic tests):
    # "ok" | "429" | "500" | "timeout" | "queda_antes" | "queda_depois".
    proximas: list[str] = field(default_factory=list)


class ErroFalhas(ValueError):
    pass


def _validar_falhas(atual: Falhas, dados: Any) -> Falhas:
    if not isinstance(dados, dict):
        raise ErroFalhas("corpo deve ser um objeto JSON")
    valores = asdict(atual)
    for chave, valor in dados.items():
        if chave not in valores:
            raise ErroFalhas(f"campo desconhecido: {chave}")
        valores[chave] = valor
    try:
        falhas = Falhas(
            latencia_ms=int(valores["latencia_ms"]),
            taxa_429=float(valores["taxa_429"]),
            taxa_500=float(valores["taxa_500"]),
            taxa_timeout=float(valores["taxa_timeout"]),
            taxa_queda=float(valores["taxa_queda"]),
            numeros_inexistentes=[
                "".join(c for c in str(n) if c.isdigit()) for n in valores["numeros_inexistentes"]
            ],
            desconectado=bool(valores["desconectado"]),
            semente=None if valores["semente"] is None else int(valores["semente"]),
            timeout_s=float(valores["timeout_s"]),
            queda_modo=str(valores["queda_modo"]),
            proximas=[str(p) for p in valores["proximas"]],
        )
    except (TypeError, ValueError) as exc:
        raise ErroFalhas(f"valor inválido: {exc}") from exc
    taxas = (falhas.taxa_429, falhas.taxa_500, falhas.taxa_timeout, falhas.taxa_queda)
    if any(t < 0 or t > 1 for t in taxas) or sum(taxas) > 1:
        raise ErroFalhas("taxas devem estar entre 0 e 1 e somar no máximo 1")
    if falhas.queda_modo not in {"antes", "depois", "aleatorio"}:
        raise ErroFalhas("queda_modo deve ser antes, depois ou aleatorio")
    if any(p not in FORMAS_DE_FALHA for p in falhas.proximas):
        raise ErroFalhas(f"proximas aceita apenas: {', '.join(FORMAS_DE_FALHA)}")
    if falhas.latencia_ms < 0 or falhas.timeout_s < 0:
        raise ErroFalhas("latencia_ms e timeout_s não podem ser negativos")
    return falhas


@dataclass
class Instancia:
    nome: str
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    estado: str = "close"  # close | connecting | open
    qr_code: str | None = None
    qr_base64: str | None = None  # data:image/png;base64,... as Evolution sends it
    pairing_code: str | None = None
    contagem_qr: int = 0
    geracao: int = 0  # bumps on every state change; stale auto-connect timers check it
    webhook: dict[str, Any] | None = None
    atualizada_em: datetime = field(default_factory=lambda: datetime.now(UTC))


def _agora() -> datetime:
    return datetime.now(UTC)


def _qr_png_base64(conteudo: str) -> str:
    imagem = qrcode.make(conteudo)
    buffer = io.BytesIO()
    imagem.save(buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _jid(numero: str) -> str:
    return f"{numero}@s.whatsapp.net"


class Simulador:
    """All state of one simulator. Thread-safe; ``parar()`` stops its background work."""

    def __init__(
        self,
        *,
        api_key: str = SIMULADOR_API_KEY,
        auto_conectar_s: float | None = SIMULADOR_AUTO_CONECTAR_S_PADRAO,
        url_publica: str = "",
    ) -> None:
        self.api_key = api_key
        # None or a negative value: only the page's "scan" button connects.
        self.auto_conectar_s = auto_conectar_s
        self.url_publica = url_publica
        self._trava = threading.RLock()
        self._instancias: dict[str, Instancia] = {}
        self._mensagens: list[dict[str, Any]] = []
        self._falhas = Falhas()
        self._aleatorio = random.Random()
        self._contadores: dict[str, int] = {}
        self._timers: list[threading.Timer] = []
        self.parando = threading.Event()
        self._fila: queue.Queue[tuple[str, dict[str, str], dict[str, Any]] | None] = queue.Queue()
        self._webhooks_entregues = 0
        self._trabalhador = threading.Thread(
            target=self._entregar_webhooks, name="simulador-webhooks", daemon=True
        )
        self._trabalhador.start()

    # -- lifecycle ------------------------------------------------------------------------------

    def parar(self) -> None:
        self.parando.set()
        with self._trava:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
        self._fila.put(None)
        self._trabalhador.join(timeout=5)

    def resetar(self) -> None:
        with self._trava:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
            self._instancias.clear()
            self._mensagens.clear()
            self._falhas = Falhas()
            self._aleatorio = random.Random()
            self._contadores.clear()

    # -- instances ------------------------------------------------------------------------------

    def instancia(self, nome: str) -> Instancia:
        """The instance named ``nome``, created on first use (state ``close``)."""
        with self._trava:
            if nome not in self._instancias:
                self._instancias[nome] = Instancia(nome=nome)
                _log.info("simulador: instância criada", extra={"instancia": nome})
            return self._instancias[nome]

    def existe(self, nome: str) -> bool:
        with self._trava:
            return nome in self._instancias

    def estado(self, nome: str) -> str:
        with self._trava:
            if self._falhas.desconectado:
                return "close"
            return self.instancia(nome).estado

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
                **({"wuid": "5511900000000@s.whatsapp.net"} if estado == "open" else {}),
            },
        )

    def _objeto_qr(self, inst: Instancia) -> dict[str, Any]:
        return {
            "pairingCode": inst.pairing_code,
            "code": inst.qr_code,
            "base64": inst.qr_base64,
            "count": inst.contagem_qr,
        }

    def criar(self, nome: str) -> dict[str, Any] | None:
        """``POST /instance/create``; None when the name is taken."""
        with self._trava:
            if nome in self._instancias:
                return None
            inst = self.instancia(nome)
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
                inst.qr_code = f"2@{secrets.token_urlsafe(32)},{secrets.token_urlsafe(16)},1"
                inst.qr_base64 = "data:image/png;base64," + _qr_png_base64(inst.qr_code)
                inst.pairing_code = secrets.token_hex(4).upper()
                inst.contagem_qr += 1
                self._mudar_estado(inst, "connecting")
                self._emitir(
                    inst,
                    "qrcode.updated",
                    {"qrcode": {"instance": nome, **self._objeto_qr(inst)}},
                )
                self._agendar_auto_conexao(inst)
            return self._objeto_qr(inst)

    def _agendar_auto_conexao(self, inst: Instancia) -> None:
        if self.auto_conectar_s is None or self.auto_conectar_s < 0:
            return
        timer = threading.Timer(
            self.auto_conectar_s, self._auto_conectar, args=(inst.nome, inst.geracao)
        )
        timer.daemon = True
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
        dados = corpo.get("webhook", corpo) if isinstance(corpo, dict) else None
        if not isinstance(dados, dict) or not isinstance(dados.get("url"), str):
            return None
        with self._trava:
            inst = self.instancia(nome)
            inst.webhook = {
                "enabled": bool(dados.get("enabled", True)),
                "url": dados["url"],
                "headers": {str(k): str(v) for k, v in (dados.get("headers") or {}).items()},
                "events": [str(e).upper().replace(".", "_") for e in dados.get("events") or []],
                "byEvents": bool(dados.get("byEvents", False)),
                "base64": bool(dados.get("base64", False)),
            }
            return {"id": inst.id, "instanceId": inst.id, **inst.webhook}

    def webhook(self, nome: str) -> dict[str, Any] | None:
        with self._trava:
            inst = self._instancias.get(nome)
            return dict(inst.webhook) if inst and inst.webhook else None

    # -- sending --------------------------------------------------------------------------------

    def falhas(self) -> dict[str, Any]:
        with self._trava:
            return {**asdict(self._falhas), "contadores": dict(self._contadores)}

    def definir_falhas(self, dados: Any) -> dict[str, Any]:
        with self._trava:
            self._falhas = _validar_falhas(self._falhas, dados)
            if isinstance(dados, dict) and "semente" in dados:
                self._aleatorio = random.Random(self._falhas.semente)
            _log.info("simulador: falhas", extra={"falhas": asdict(self._falhas)})
        return self.falhas()

    def decidir_envio(self, numero: str) -> tuple[Decisao, float, float]:
        """What happens to the next send: (decision, latency seconds, timeout hold seconds)."""
        with self._trava:
            f = self._falhas
            forcada = False
            if f.desconectado:
                decisao = Decisao.DESCONECTADO
            elif numero in f.numeros_inexistentes:
                decisao = Decisao.INEXISTENTE
            elif f.proximas:
                decisao = Decisao(f.proximas.pop(0))
                forcada = True
            else:
                sorteio = self._aleatorio.random()
                decisao = Decisao.OK
                limite = 0.0
                for taxa, resultado in (
                    (f.taxa_429, Decisao.E429),
                    (f.taxa_500, Decisao.E500),
                    (f.taxa_timeout, Decisao.TIMEOUT),
                    (f.taxa_queda, Decisao.QUEDA_ANTES),
                ):
                    limite += taxa
                    if sorteio < limite:
                        decisao = resultado
                        break
            if decisao == Decisao.QUEDA_ANTES and not forcada and f.queda_modo != "antes":
                depois = f.queda_modo == "depois" or self._aleatorio.random() < 0.5
                decisao = Decisao.QUEDA_DEPOIS if depois else Decisao.QUEDA_ANTES
            self._contadores[decisao.value] = self._contadores.get(decisao.value, 0) + 1
            return decisao, f.latencia_ms / 1000, f.timeout_s

    def registrar_mensagem(
        self, nome: str, numero: str, texto: str, *, falha: str | None = None
    ) -> dict[str, Any]:
        """Store a received send in the inbox, queue its webhooks, return Evolution's 201 body."""
        agora = _agora()
        key_id = "3EB0" + secrets.token_hex(9).upper()
        with self._trava:
            inst = self.instancia(nome)
            entrada: dict[str, Any] = {
                "instance": nome,
                "number": numero,
                "text": texto,
                "key_id": key_id,
                "recebido_em": agora.isoformat(),
                "remote_jid": _jid(numero),
                "message_timestamp": int(agora.timestamp()),
                "status": "DELIVERY_ACK",
            }
            if falha:
                entrada["falha_injetada"] = falha
            self._mensagens.append(entrada)
            registro = self._registro(entrada, inst, status="PENDING")
            self._emitir(inst, "send.message", registro)
            for status in ("SERVER_ACK", "DELIVERY_ACK"):
                self._emitir(
                    inst,
                    "messages.update",
                    {
                        "messageId": key_id,
                        "keyId": key_id,
                        "remoteJid": _jid(numero),
                        "fromMe": True,
                        "participant": None,
                        "status": status,
                        "instanceId": inst.id,
                    },
                )
        _log.info(
            "simulador: mensagem recebida",
            extra={"instancia": nome, "numero": numero, "key_id": key_id, "falha": falha},
        )
        return registro

    @staticmethod
    def _registro(entrada: dict[str, Any], inst: Instancia, *, status: str) -> dict[str, Any]:
        return {
            "key": {"remoteJid": entrada["remote_jid"], "fromMe": True, "id": entrada["key_id"]},
            "pushName": "",
            "status": status,
            "message": {"conversation": entrada["text"]},
            "contextInfo": None,
            "messageType": "conversation",
            "messageTimestamp": entrada["message_timestamp"],
            "instanceId": inst.id,
            "source": "unknown",
        }

    # -- inbox ----------------------------------------------------------------------------------

    def mensagens(
        self, *, instancia: str | None = None, numero: str | None = None
    ) -> list[dict[str, Any]]:
        with self._trava:
            return [
                dict(m)
                for m in self._mensagens
                if (instancia is None or m["instance"] == instancia)
                and (numero is None or m["number"] == numero)
            ]

    def limpar_mensagens(self) -> int:
        with self._trava:
            quantidade = len(self._mensagens)
            self._mensagens.clear()
            return quantidade

    def contagem(self) -> dict[str, Any]:
        """Counts so a test can assert "sent exactly once"."""
        with self._trava:
            por_key_id: dict[str, int] = {}
            por_numero: dict[str, int] = {}
            por_mensagem: dict[tuple[str, str, str], int] = {}
            for m in self._mensagens:
                por_key_id[m["key_id"]] = por_key_id.get(m["key_id"], 0) + 1
                por_numero[m["number"]] = por_numero.get(m["number"], 0) + 1
                chave = (m["instance"], m["number"], m["text"])
                por_mensagem[chave] = por_mensagem.get(chave, 0) + 1
            lista: list[dict[str, Any]] = [
                {"instance": i, "number": n, "text": t, "quantidade": q}
                for (i, n, t), q in por_mensagem.items()
            ]
            return {
                "total": len(self._mensagens),
                "por_key_id": por_key_id,
                "por_numero": por_numero,
                "por_mensagem": lista,
                "duplicadas": [item for item in lista if item["quantidade"] > 1],
            }

    def buscar_mensagens(self, nome: str, corpo: Any) -> dict[str, Any]:
        """``POST /chat/findMessages``: Evolution v2's ``where`` filter over the inbox."""
        consulta: dict[str, Any] = corpo if isinstance(corpo, dict) else {}
        where: dict[str, Any] = consulta["where"] if isinstance(consulta.get("where"), dict) else {}
        chave: dict[str, Any] = where["key"] if isinstance(where.get("key"), dict) else {}
        carimbo = where.get("messageTimestamp")
        gte = lte = None
        if isinstance(carimbo, dict) and carimbo.get("gte") and carimbo.get("lte"):
            gte = int(datetime.fromisoformat(str(carimbo["gte"])).timestamp())
            lte = int(datetime.fromisoformat(str(carimbo["lte"])).timestamp())
        with self._trava:
            inst = self.instancia(nome)
            registros = []
            for m in reversed(self._mensagens):  # newest first, like Evolution
                if m["instance"] != nome:
                    continue
                if chave.get("id") and chave["id"] != m["key_id"]:
                    continue
                if chave.get("remoteJid") and chave["remoteJid"] != m["remote_jid"]:
                    continue
                if (
                    gte is not None
                    and lte is not None
                    and not (gte <= m["message_timestamp"] <= lte)
                ):
                    continue
                registros.append(
                    {
                        "id": m["key_id"],
                        **self._registro(m, inst, status=m["status"]),
                        "MessageUpdate": [{"status": "SERVER_ACK"}, {"status": m["status"]}],
                    }
                )
        por_pagina = max(1, int(consulta.get("offset") or 50))
        pagina = max(1, int(consulta.get("page") or 1))
        total = len(registros)
        return {
            "messages": {
                "total": total,
                "pages": -(-total // por_pagina),
                "currentPage": pagina,
                "records": registros[(pagina - 1) * por_pagina : pagina * por_pagina],
            }
        }

    # -- webhooks -------------------------------------------------------------------------------

    def _emitir(self, inst: Instancia, evento: str, dados: dict[str, Any]) -> None:
        """Queue one delivery if the instance's webhook wants this event (caller holds lock)."""
        config = inst.webhook
        if not config or not config.get("enabled"):
            return
        eventos = config.get("events") or []
        if eventos and evento.upper().replace(".", "_") not in eventos:
            return
        url = config["url"]
        if config.get("byEvents"):
            url = f"{url.rstrip('/')}/{evento.replace('.', '-')}"
        corpo = {
            "event": evento,
            "instance": inst.nome,
            "data": dados,
            "destination": config["url"],
            "date_time": _agora().isoformat(),
            "sender": "5511900000000@s.whatsapp.net",
            "server_url": self.url_publica,
        }
        self._fila.put((url, dict(config.get("headers") or {}), corpo))

    def webhooks_entregues(self) -> int:
        with self._trava:
            return self._webhooks_entregues

    def _entregar_webhooks(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0)) as cliente:
            while True:
                item = self._fila.get()
                if item is None or self.parando.is_set():
                    return
                url, cabecalhos, corpo = item
                try:
                    resposta = cliente.post(url, json=corpo, headers=cabecalhos)
                    _log.debug(
                        "simulador: webhook entregue",
                        extra={"evento": corpo["event"], "status_http": resposta.status_code},
                    )
                except httpx.HTTPError as exc:
                    _log.warning(
                        "simulador: webhook falhou",
                        extra={"evento": corpo["event"], "erro": type(exc).__name__},
                    )
                with self._trava:
                    self._webhooks_entregues += 1
