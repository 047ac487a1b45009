"""The app shell and the one page decorator every protected page uses.

    @pagina(route="/leads", title="Leads", on_load=EstadoLeads.carregar)
    def leads() -> rx.Component: ...

``pagina`` wraps ``@rx.page``: it runs ``EstadoSessao.verificar_sessao`` before the page's own
``on_load`` (a lost session goes to /login), and renders the page inside the shell: a
collapsible sidebar on desktop, a top bar with a drawer on phones, content at most 1280 px wide.
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any

import reflex as rx

from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import NOME_PRODUTO, botao_fechar, esqueleto_pagina, marca
from whatsapp_app.ui.sessao import EstadoSessao
from whatsapp_app.ui.tema import aplicar_tema, botoes_tema, itens_menu_tema

# (label, route, lucide icon): the order of the sidebar.
NAVEGACAO: tuple[tuple[str, str, str], ...] = (
    ("Leads", "/leads", "users"),
    ("WhatsApp", "/whatsapp", "message-circle"),
    ("Fila de envios", "/whatsapp/fila", "list-checks"),
    ("Configurações", "/configuracoes", "settings"),
)
# Shown to admins only (each page checks the profile again on the server).
NAVEGACAO_ADMIN: tuple[tuple[str, str, str], ...] = (
    ("Saúde do despacho", "/whatsapp/saude", "activity"),
)
ID_CONTEUDO = "conteudo"


class EstadoMenu(rx.State):
    """Whether the desktop sidebar is collapsed, remembered by the browser."""

    recolhido: str = rx.LocalStorage("0", name="wa_menu_recolhido")

    @rx.event
    def alternar_recolhido(self):
        self.recolhido = "0" if self.recolhido == "1" else "1"


_RECOLHIDO = EstadoMenu.recolhido == "1"


# --- navigation ------------------------------------------------------------------------------


def _item_navegacao(rotulo: str, rota: str, icone: str, ativo: bool) -> rx.Component:
    # A plain <a> (rendered as a router link): Radix's Link styles would fight the nav styles.
    atributos = {"aria_current": "page"} if ativo else {}
    return rx.el.a(
        rx.icon(icone, size=18, class_name="wa-nav-icone", aria_hidden="true"),
        rx.el.span(rotulo, class_name="wa-nav-rotulo"),
        href=rota,
        class_name="wa-nav-item",
        aria_label=rotulo,
        data_ativo="1" if ativo else "0",
        **atributos,
    )


def rota_do_item_ativo(rota_ativa: str) -> str | None:
    """The nav item of this page: the longest item route that is the page or a parent of it
    (/whatsapp/fila lights "Fila de envios", not also "WhatsApp")."""
    candidatas = [
        rota
        for _rotulo, rota, _icone in (*NAVEGACAO, *NAVEGACAO_ADMIN)
        if rota_ativa == rota or rota_ativa.startswith(rota + "/")
    ]
    return max(candidatas, key=len, default=None)


def _navegacao(rota_ativa: str, *, no_drawer: bool = False) -> rx.Component:
    itens = []
    for rotulo, rota, icone in (*NAVEGACAO, *NAVEGACAO_ADMIN):
        ativo = rota_do_item_ativo(rota_ativa) == rota
        item = _item_navegacao(rotulo, rota, icone, ativo)
        if no_drawer:
            # The link itself closes the drawer, so navigation and closing are one click.
            item = rx.drawer.close(item)
        else:
            item = rx.cond(
                _RECOLHIDO,
                rx.tooltip(item, content=rotulo, side="right", delay_duration=200),
                item,
            )
        if (rotulo, rota, icone) in NAVEGACAO_ADMIN:
            item = rx.cond(EstadoSessao.perfil == "admin", item)
        itens.append(item)
    return rx.el.nav(
        rx.vstack(*itens, spacing="1", width="100%"),
        aria_label="Navegação principal",
        width="100%",
    )


# --- brand and company -----------------------------------------------------------------------


def _cabecalho_empresa() -> rx.Component:
    return rx.hstack(
        marca(),
        rx.vstack(
            rx.text(
                rx.cond(EstadoSessao.nome_empresa != "", EstadoSessao.nome_empresa, NOME_PRODUTO),
                class_name="wa-truncar",
                style={**t.ESTILO_ROTULO, "font_weight": t.PESO_SEMIBOLD},
            ),
            rx.text(NOME_PRODUTO, style=t.ESTILO_META),
            spacing="0",
            min_width="0",
            class_name="wa-nav-rotulo",
        ),
        align="center",
        spacing="3",
        min_width="0",
        width="100%",
    )


# --- user menu -------------------------------------------------------------------------------


def _avatar() -> rx.Component:
    return rx.avatar(
        fallback=EstadoSessao.iniciais,
        size="2",
        radius="full",
        variant="soft",
        color_scheme="gray",
        high_contrast=True,
    )


def _conteudo_menu_usuario(lado: str) -> rx.Component:
    return rx.menu.content(
        rx.box(
            rx.text(EstadoSessao.nome_usuario, style=t.ESTILO_ROTULO, class_name="wa-truncar"),
            rx.text(EstadoSessao.email_usuario, style=t.ESTILO_META, class_name="wa-truncar"),
            rx.badge(EstadoSessao.rotulo_perfil, variant="soft", color_scheme="gray", size="1"),
            display="flex",
            flex_direction="column",
            gap=t.ESPACO_1,
            align_items="start",
            padding=f"{t.ESPACO_2} {t.ESPACO_3}",
            max_width="260px",
        ),
        rx.menu.separator(),
        *itens_menu_tema(),
        rx.menu.separator(),
        rx.menu.item(
            rx.hstack(rx.icon("log-out", size=16), rx.text("Sair"), spacing="2"),
            color_scheme="red",
            on_select=EstadoSessao.sair,
        ),
        side=lado,
        align="start",
        min_width="220px",
    )


def _menu_usuario_lateral() -> rx.Component:
    # The visible name and e-mail stay in the button's name (WCAG 2.5.3, label in name).
    gatilho = rx.el.button(
        rx.el.span("Menu do usuário: ", class_name="wa-sr-only"),
        _avatar(),
        rx.vstack(
            rx.text(EstadoSessao.nome_usuario, style=t.ESTILO_ROTULO, class_name="wa-truncar"),
            rx.text(EstadoSessao.email_usuario, style=t.ESTILO_META, class_name="wa-truncar"),
            spacing="0",
            min_width="0",
            flex="1",
            align="start",
            class_name="wa-nav-rotulo",
        ),
        rx.icon(
            "chevrons-up-down",
            size=16,
            color=t.TEXTO_META,
            class_name="wa-nav-rotulo",
            aria_hidden="true",
        ),
        class_name="wa-usuario-gatilho",
        type="button",
    )
    return rx.menu.root(rx.menu.trigger(gatilho), _conteudo_menu_usuario("top"))


def _menu_usuario_compacto() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.el.button(
                _avatar(),
                class_name="wa-usuario-gatilho wa-usuario-gatilho-compacto",
                aria_label="Menu do usuário",
                type="button",
            )
        ),
        _conteudo_menu_usuario("bottom"),
    )


# --- desktop sidebar -------------------------------------------------------------------------


def _botao_recolher() -> rx.Component:
    rotulo = rx.cond(_RECOLHIDO, "Expandir menu", "Recolher menu")
    return rx.el.button(
        rx.cond(
            _RECOLHIDO,
            rx.icon("panel-left-open", size=18, aria_hidden="true"),
            rx.icon("panel-left-close", size=18, aria_hidden="true"),
        ),
        rx.el.span(rotulo, class_name="wa-nav-rotulo"),
        on_click=EstadoMenu.alternar_recolhido,
        class_name="wa-nav-item",
        aria_label=rotulo,
        aria_expanded=rx.cond(_RECOLHIDO, "false", "true"),
        type="button",
    )


def _sidebar(rota_ativa: str) -> rx.Component:
    return rx.el.aside(
        _cabecalho_empresa(),
        _navegacao(rota_ativa),
        rx.spacer(),
        rx.vstack(
            _botao_recolher(),
            rx.separator(size="4"),
            _menu_usuario_lateral(),
            spacing="2",
            width="100%",
        ),
        class_name="wa-sidebar",
        data_recolhido=EstadoMenu.recolhido,
        display=["none", "none", "flex"],
        width=rx.cond(_RECOLHIDO, t.LARGURA_SIDEBAR_RECOLHIDA, t.LARGURA_SIDEBAR),
        min_width=rx.cond(_RECOLHIDO, t.LARGURA_SIDEBAR_RECOLHIDA, t.LARGURA_SIDEBAR),
    )


# --- phone top bar + drawer ------------------------------------------------------------------


def _drawer_navegacao(rota_ativa: str) -> rx.Component:
    return rx.drawer.root(
        rx.drawer.trigger(
            rx.icon_button(
                rx.icon("menu", size=20),
                variant="ghost",
                color_scheme="gray",
                aria_label="Abrir menu",
            )
        ),
        rx.drawer.overlay(class_name="wa-drawer-fundo"),
        rx.drawer.portal(
            rx.drawer.content(
                rx.drawer.title("Menu", class_name="wa-sr-only"),
                rx.drawer.description("Navegação do aplicativo", class_name="wa-sr-only"),
                rx.hstack(
                    _cabecalho_empresa(),
                    rx.drawer.close(botao_fechar("Fechar menu")),
                    align="center",
                    justify="between",
                    width="100%",
                ),
                _navegacao(rota_ativa, no_drawer=True),
                rx.spacer(),
                rx.vstack(
                    botoes_tema(),
                    rx.el.button(
                        rx.icon("log-out", size=18, aria_hidden="true"),
                        "Sair",
                        on_click=EstadoSessao.sair,
                        class_name="wa-nav-item wa-nav-perigo",
                        type="button",
                    ),
                    spacing="1",
                    width="100%",
                ),
                rx.separator(size="4"),
                rx.hstack(
                    _avatar(),
                    rx.vstack(
                        rx.text(
                            EstadoSessao.nome_usuario,
                            style=t.ESTILO_ROTULO,
                            class_name="wa-truncar",
                        ),
                        rx.text(
                            EstadoSessao.email_usuario, style=t.ESTILO_META, class_name="wa-truncar"
                        ),
                        spacing="0",
                        min_width="0",
                    ),
                    align="center",
                    spacing="3",
                    width="100%",
                    padding_x=t.ESPACO_2,
                ),
                class_name="wa-drawer",
            )
        ),
        direction="left",
    )


def _barra_topo_movel(rota_ativa: str) -> rx.Component:
    return rx.el.header(
        _drawer_navegacao(rota_ativa),
        rx.hstack(
            marca("28px", "16"),
            rx.text(
                rx.cond(EstadoSessao.nome_empresa != "", EstadoSessao.nome_empresa, NOME_PRODUTO),
                class_name="wa-truncar",
                style={**t.ESTILO_ROTULO, "font_weight": t.PESO_SEMIBOLD},
            ),
            align="center",
            spacing="2",
            min_width="0",
            flex="1",
        ),
        _menu_usuario_compacto(),
        class_name="wa-topo-movel",
        display=["flex", "flex", "none"],
    )


# --- the shell and the decorator -------------------------------------------------------------


def casca(conteudo: rx.Component, *, rota_ativa: str) -> rx.Component:
    """Sidebar (desktop) or top bar (phone) around the page; content waits for the session."""
    return rx.box(
        aplicar_tema(),
        _sidebar(rota_ativa),
        rx.box(
            _barra_topo_movel(rota_ativa),
            rx.el.main(
                rx.box(
                    rx.cond(EstadoSessao.autenticado, conteudo, esqueleto_pagina()),
                    max_width=t.LARGURA_MAX_CONTEUDO,
                    margin_x="auto",
                    width="100%",
                    padding=t.PADDING_PAGINA,
                ),
                id=ID_CONTEUDO,
                tab_index=-1,
                width="100%",
            ),
            flex="1",
            min_width="0",
        ),
        class_name="wa-app",
    )


def _lista_eventos(on_load: Any) -> list[Any]:
    if on_load is None:
        return []
    if isinstance(on_load, Sequence) and not isinstance(on_load, str):
        return list(on_load)
    return [on_load]


def pagina(
    route: str,
    title: str,
    on_load: Any = None,
    description: str | None = None,
) -> Callable[[Callable[[], rx.Component]], Callable[[], rx.Component]]:
    """``@rx.page`` for protected pages: session check first, then the shell around the page."""

    def decorador(conteudo: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        @functools.wraps(conteudo)
        def pagina_na_casca() -> rx.Component:
            return casca(conteudo(), rota_ativa=route)

        rx.page(
            route=route,
            title=title,
            description=description,
            on_load=[EstadoSessao.verificar_sessao, *_lista_eventos(on_load)],
        )(pagina_na_casca)
        return pagina_na_casca

    return decorador
