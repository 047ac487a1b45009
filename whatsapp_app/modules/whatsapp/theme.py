"""WhatsApp module tokens (the plan's ``theme/whatsapp-theme.ts``), on top of ``ui.tokens``.

Every value is a Radix theme variable, so light and dark come from the same names: the Radix
scales swap their steps when the appearance changes. ``assets/whatsapp.css`` reads the same
variables for what style props cannot say (keyframes, the glass panel, sheet geometry).
No colour literal lives here or in the components.
"""

from __future__ import annotations

import reflex as rx

from whatsapp_app.ui import tokens as t

# --- connectivity: (Radix scale, pt-BR word, lucide icon). Colour always sits beside the word.
STATUS_CONEXAO: dict[str, tuple[str, str, str]] = {
    "conectado": ("green", "Conectado", "wifi"),
    "conectando": ("amber", "Conectando", "loader"),
    "desconectado": ("red", "Desconectado", "wifi-off"),
}
STATUS_CONEXAO_NEUTRO = ("gray", "Desconhecido", "circle-help")

# --- providers: (pt-BR label, lucide icon).
PROVEDORES: dict[str, tuple[str, str]] = {
    "simulador": ("Simulador", "flask-conical"),
    "evolution": ("Evolution API", "server"),
    "cloud_api": ("Cloud API (Meta)", "cloud"),
}
PROVEDOR_DESCONHECIDO = ("Provedor", "plug")

# --- automation status chip: (Radix scale, label, icon).
STATUS_FLUXO = {
    True: ("green", "Ativa", "circle-play"),
    False: ("gray", "Pausada", "circle-pause"),
}

# --- surfaces of the module.
COR_CONECTADO = rx.color("green", 9)
COR_CONECTANDO = rx.color("amber", 9)
COR_DESCONECTADO = rx.color("red", 9)
FUNDO_BLOCO_GATILHO = rx.color("gray", 2)
FUNDO_BLOCO_ACAO = rx.color("accent", 2)
BORDA_BLOCO_ACAO = rx.color("accent", 5, alpha=True)
ICONE_GATILHO = rx.color("gray", 11)
ICONE_ACAO = rx.color("accent", 11)

# WhatsApp-like preview: the chat wallpaper and the outgoing (green) bubble.
FUNDO_CONVERSA = rx.color("gray", 3)
FUNDO_BOLHA = rx.color("grass", 4)
TEXTO_BOLHA = rx.color("gray", 12)
META_BOLHA = rx.color("gray", 11)

# Geometry.
LARGURA_PAINEL_LATERAL = "480px"
LARGURA_OVERLAY = "380px"
TAMANHO_QR = "232px"

# Ready-made styles.
ESTILO_ROTULO_BLOCO = {
    "font_size": t.TAMANHO_META,
    "line_height": "16px",
    "font_weight": t.PESO_MEDIO,
    "letter_spacing": "0.02em",
    "text_transform": "uppercase",
    "color": t.TEXTO_META,
}
ESTILO_NUMERO_GRANDE = {
    "font_size": t.TAMANHO_SECAO,
    "line_height": "24px",
    "font_weight": t.PESO_SEMIBOLD,
    "color": t.TEXTO_TITULO,
    "font_variant_numeric": "tabular-nums",
}
