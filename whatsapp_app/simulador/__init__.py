"""Built-in WhatsApp simulator: a local HTTP server speaking the Evolution API v2 subset we use.

Run it with ``python -m whatsapp_app.simulador`` (port ``SIMULADOR_PORT``, default 8765, bound to
127.0.0.1). The demo and the tests drive the real ``evolution`` adapter against it. Besides the
Evolution routes it has its own page (``GET /``: instances, QR, "scan" button, inbox) and test
routes under ``/__sim/`` (inbox, counts, fault injection, settings, and ``/__sim/responder``: the
contact replies). Like Evolution, it knows only the instances created with
``POST /instance/create``. ``servidor.iniciar_em_thread`` starts one in-process for tests.

This module stays import-light (constants only) so ``providers.fabrica`` can read the key.
"""

from __future__ import annotations

# The fixed local key the simulator accepts (header ``apikey``); not a secret: it only opens a
# server bound to 127.0.0.1 that sends nothing anywhere.
SIMULADOR_API_KEY = "simulador-local-chave-fixa"
SIMULADOR_HOST = "127.0.0.1"
SIMULADOR_PORTA_PADRAO = 8765
SIMULADOR_AUTO_CONECTAR_S_PADRAO = 3.0
# Seconds until the simulated contact reads what we sent (a READ status); 0 = never.
SIMULADOR_LEITURA_S_PADRAO = 5.0

__all__ = [
    "SIMULADOR_API_KEY",
    "SIMULADOR_AUTO_CONECTAR_S_PADRAO",
    "SIMULADOR_HOST",
    "SIMULADOR_LEITURA_S_PADRAO",
    "SIMULADOR_PORTA_PADRAO",
]
