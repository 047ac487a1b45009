"""Semantic design tokens for the whole app (ui.md): the only place colours and sizes are named.

Everything is built on the Radix theme set in ``whatsapp_app.py`` (accent jade, gray slate,
radius medium), so light and dark come from the same names. Components spread these values;
they never spell a colour literal.

The semantic colours, the type scale and the motion are CSS custom properties defined once in
``assets/app.css`` (``--wa-*``, on every Radix theme root); the names here point at them, so
the stylesheets and the components' style props read the same values.
"""

from typing import Any

import reflex as rx

# --- Spacing: only 4 / 8 / 12 / 16 / 24 / 32 px, which are Radix space 1-6 at 100% scaling.
ESPACO_1 = "var(--space-1)"  # 4px
ESPACO_2 = "var(--space-2)"  # 8px
ESPACO_3 = "var(--space-3)"  # 12px
ESPACO_4 = "var(--space-4)"  # 16px
ESPACO_5 = "var(--space-5)"  # 24px
ESPACO_6 = "var(--space-6)"  # 32px

# Page padding 24 on desktop, 16 on phones; content never wider than this.
PADDING_PAGINA = [ESPACO_4, ESPACO_4, ESPACO_5]
LARGURA_MAX_CONTEUDO = "1280px"
PADDING_CARTAO = ESPACO_4

# --- Radii.
RAIO_1 = "var(--radius-1)"
RAIO_2 = "var(--radius-2)"
RAIO_3 = "var(--radius-3)"
RAIO_4 = "var(--radius-4)"
RAIO_CHEIO = "9999px"

# --- Text colours: gray 12 titles and labels, 11 body, helper text and metadata.
TEXTO_TITULO = "var(--wa-texto-titulo)"  # gray 12
TEXTO_CORPO = "var(--wa-texto-corpo)"  # gray 11
TEXTO_META = "var(--wa-texto-meta)"  # gray 11: gray 10 fails AA for 12 px text (ui.md)
TEXTO_ACENTO = rx.color("accent", 11)  # relative to the component's colour scheme
TEXTO_ERRO = "var(--wa-texto-erro)"

# --- Surfaces.
FUNDO_APP = "var(--wa-fundo-app)"
FUNDO_PAINEL = "var(--wa-fundo-painel)"
FUNDO_CARTAO = "var(--wa-fundo-cartao)"
FUNDO_HOVER = "var(--wa-fundo-hover)"
FUNDO_ATIVO = rx.color("accent", 3, alpha=True)
FUNDO_ACENTO_SUAVE = rx.color("accent", 3)
FUNDO_ERRO = "var(--wa-fundo-erro)"
# A faint accent glow behind the login card, over the app background.
FUNDO_LOGIN = (
    "radial-gradient(1200px 600px at 50% -10%, var(--accent-a3), transparent 60%), var(--gray-1)"
)
BORDA = "var(--wa-borda)"
BORDA_FORTE = "var(--wa-borda-forte)"
BORDA_ACENTO = rx.color("accent", 7, alpha=True)
ACENTO = rx.color("accent", 9)
ACENTO_CONTRASTE = "var(--accent-contrast)"
ANEL_FOCO = rx.color("accent", 8)

# --- Type: the system sans stack (nothing fetched at run time) and the scale of ui.md.
FONTE_SISTEMA = (
    '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
    '"Noto Sans", "Liberation Sans", system-ui, sans-serif, "Apple Color Emoji", '
    '"Segoe UI Emoji"'
)
TAMANHO_TITULO_PAGINA = "var(--wa-tamanho-titulo-pagina)"  # 24px
TAMANHO_SECAO = "var(--wa-tamanho-secao)"  # 16px
TAMANHO_CORPO = "var(--wa-tamanho-corpo)"  # 14px
TAMANHO_META = "var(--wa-tamanho-meta)"  # 12px
LINHA_TITULO_PAGINA = "var(--wa-linha-titulo-pagina)"  # 32px
LINHA_SECAO = "var(--wa-linha-secao)"  # 24px
LINHA_CORPO = "var(--wa-linha-corpo)"  # 20px
LINHA_META = "var(--wa-linha-meta)"  # 16px
PESO_SEMIBOLD = "var(--wa-peso-semibold)"  # 600
PESO_MEDIO = "var(--wa-peso-medio)"  # 500

# --- Motion: 120-180 ms ease-out (ui.md "Surfaces and motion").
TRANSICAO = "var(--wa-transicao)"  # 160ms cubic-bezier(0.16, 1, 0.3, 1)
TRANSICAO_RAPIDA = "var(--wa-transicao-rapida)"  # 120ms ease-out

# --- Shell geometry.
LARGURA_SIDEBAR = "240px"
LARGURA_SIDEBAR_RECOLHIDA = "64px"
ALTURA_TOPO_MOVEL = "56px"

# --- Ready-made style dicts to spread into components.
ESTILO_TITULO_PAGINA = {
    "font_size": TAMANHO_TITULO_PAGINA,
    "font_weight": PESO_SEMIBOLD,
    "line_height": LINHA_TITULO_PAGINA,
    "letter_spacing": "-0.01em",
    "color": TEXTO_TITULO,
}
ESTILO_TITULO_SECAO = {
    "font_size": TAMANHO_SECAO,
    "font_weight": PESO_SEMIBOLD,
    "line_height": LINHA_SECAO,
    "color": TEXTO_TITULO,
}
ESTILO_CORPO = {"font_size": TAMANHO_CORPO, "line_height": LINHA_CORPO, "color": TEXTO_CORPO}
ESTILO_META = {"font_size": TAMANHO_META, "line_height": LINHA_META, "color": TEXTO_META}
ESTILO_ROTULO = {
    "font_size": TAMANHO_CORPO,
    "font_weight": PESO_MEDIO,
    "line_height": LINHA_CORPO,
    "color": TEXTO_TITULO,
}
ESTILO_NUMERO = {"font_variant_numeric": "tabular-nums"}

ESTILO_CARTAO = {
    "background": FUNDO_CARTAO,
    "border": f"1px solid {BORDA}",
    "border_radius": RAIO_3,
    "padding": PADDING_CARTAO,
}

# Applied once by rx.App(style=...): font, numerals and a focus ring that is always visible
# for keyboard users (Radix draws its own on its controls; this covers links and plain divs).
ESTILO_GLOBAL: dict[Any, Any] = {
    "font_family": FONTE_SISTEMA,
    "::selection": {"background": rx.color("accent", 5, alpha=True)},
    "a:focus-visible, [role='button']:focus-visible, button:focus-visible": {
        "outline": f"2px solid {ANEL_FOCO}",
        "outline_offset": "2px",
    },
}
