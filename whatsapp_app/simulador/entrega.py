"""The simulator's webhook deliveries: which events an instance's webhook wants, in Evolution's
envelope, posted from one background thread, in order, fire and forget (a send's answer never
waits for them). Thread-safe: ``Simulador`` queues deliveries under its own lock.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import httpx

from whatsapp_app.logs import logger
from whatsapp_app.simulador.eventos import envelope

_log = logger("simulador")

_Entrega = tuple[str, dict[str, str], dict[str, Any]]  # url, headers, body


class EntregaWebhooks:
    """``parando``: once set, whatever is still queued is dropped (the simulator is stopping)."""

    def __init__(self, parando: threading.Event) -> None:
        self._parando = parando
        self._fila: queue.Queue[_Entrega | None] = queue.Queue()
        self._trava = threading.Lock()
        self._entregues = 0
        self._thread = threading.Thread(target=self._laco, name="simulador-webhooks", daemon=True)
        self._thread.start()

    def emitir(
        self,
        config: dict[str, Any] | None,
        evento: str,
        *,
        instancia: str,
        dados: dict[str, Any],
        url_servidor: str,
        api_key: str,
    ) -> None:
        """Queue one delivery if the webhook ``config`` (``POST /webhook/set``) wants ``evento``
        ("messages.upsert"); ``byEvents`` appends the event to the URL, as Evolution does."""
        if not config or not config.get("enabled"):
            return
        eventos = config.get("events") or []
        if eventos and evento.upper().replace(".", "_") not in eventos:
            return
        url = config["url"]
        if config.get("byEvents"):
            url = f"{url.rstrip('/')}/{evento.replace('.', '-')}"
        corpo = envelope(
            evento=evento,
            instancia=instancia,
            dados=dados,
            destino=config["url"],
            url_servidor=url_servidor,
            api_key=api_key,
        )
        self._fila.put((url, dict(config.get("headers") or {}), corpo))

    def entregues(self) -> int:
        """How many deliveries were attempted (answered or failed)."""
        with self._trava:
            return self._entregues

    def parar(self) -> None:
        self._fila.put(None)
        self._thread.join(timeout=5)

    def _laco(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0)) as cliente:
            while True:
                item = self._fila.get()
                if item is None or self._parando.is_set():
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
                    self._entregues += 1
