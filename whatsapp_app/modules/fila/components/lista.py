"""The queue itself: one row per job (a card on phones), the selection bar with the bulk
actions, skeletons while loading, the empty state and "Carregar mais"."""

from __future__ import annotations

from typing import Any

import reflex as rx

from whatsapp_app.modules.fila.state import EXPLICACAO_INCERTO, MOTIVO_SEM_PERMISSAO, EstadoFila
from whatsapp_app.ui.componentes import esqueleto, estado_vazio

E = EstadoFila


def selo_status(linha: Any) -> rx.Component:
    return rx.badge(
        rx.icon(linha["icone_status"].to(str), size=12, aria_hidden="true"),
        linha["rotulo_status"],
        color_scheme=linha["cor_status"].to(str),  # type: ignore[arg-type]
        variant="soft",
        high_contrast=True,
        size="1",
        class_name="wa-fila-selo",
        data_status=linha["status"],
    )


def _botao_acao(linha: Any, acao: str, rotulo: str, icone: str, pode: Any) -> rx.Component:
    return rx.cond(
        pode,
        rx.button(
            rx.icon(icone, size=14, aria_hidden="true"),
            rotulo,
            on_click=E.pedir_confirmacao(acao, linha["id"]),  # type: ignore[operator, misc]
            size="1",
            variant="soft",
            color_scheme="red" if acao == "cancelar" else "gray",
            aria_label=f"{rotulo}: {linha['nome_lead']}",
        ),
    )


def _acoes(linha: Any) -> rx.Component:
    return rx.el.div(
        _botao_acao(
            linha, "marcar_enviado", "Marcar como enviado", "check-check", linha["pode_marcar"]
        ),
        _botao_acao(linha, "reenviar", "Reenviar", "rotate-cw", linha["pode_reenviar"]),
        _botao_acao(linha, "cancelar", "Cancelar envio", "ban", linha["pode_cancelar"]),
        class_name="wa-fila-acoes",
    )


def _meta(icone: str, rotulo: str, valor: Any) -> rx.Component:
    return rx.cond(
        valor != "",
        rx.el.div(
            rx.el.dt(rx.icon(icone, size=12, aria_hidden="true"), rotulo),
            rx.el.dd(valor, class_name="wa-num"),
            class_name="wa-fila-meta-item",
        ),
    )


def _linha(linha: Any) -> rx.Component:
    id_titulo = f"fila-lead-{linha['id']}"
    return rx.el.li(
        rx.cond(
            E.pode_agir,
            rx.el.div(
                rx.checkbox(
                    checked=linha["selecionado"].to(bool),
                    on_change=lambda _v: E.alternar_selecao(linha["id"]),  # type: ignore[operator, misc]
                    aria_label=f"Selecionar envio para {linha['nome_lead']}",
                ),
                class_name="wa-fila-marcar",
            ),
        ),
        rx.el.div(
            rx.el.p(linha["nome_lead"], id=id_titulo, class_name="wa-fila-lead wa-truncar"),
            rx.el.p(linha["telefone"], class_name="wa-fila-sub wa-num"),
            rx.el.p(linha["etapa"], class_name="wa-fila-sub"),
            rx.cond(
                linha["estagio"] != "",
                rx.el.p(
                    "Estágio ",
                    linha["estagio"],
                    " · ",
                    linha["instancia"],
                    class_name="wa-fila-sub",
                ),
            ),
            class_name="wa-fila-quem",
        ),
        rx.el.div(
            rx.el.p(linha["mensagem"], class_name="wa-fila-mensagem"),
            rx.cond(
                linha["incerto"],
                rx.el.p(
                    rx.icon("circle-help", size=14, aria_hidden="true", flex_shrink="0"),
                    rx.el.span(EXPLICACAO_INCERTO),
                    class_name="wa-fila-incerto",
                ),
            ),
            rx.cond(
                linha["erro"] != "",
                rx.el.p(
                    rx.icon("circle-alert", size=14, aria_hidden="true", flex_shrink="0"),
                    rx.el.span("Último erro: ", linha["erro"]),
                    class_name="wa-fila-erro",
                ),
            ),
            rx.cond(
                linha["motivo"] != "",
                rx.el.p(linha["motivo"], class_name="wa-fila-sub"),
            ),
            class_name="wa-fila-conteudo",
        ),
        rx.el.dl(
            _meta("calendar-clock", "Agendado", linha["agendado"]),
            _meta("send", "Enviado", linha["enviado"]),
            _meta("repeat", "Tentativas", linha["tentativas"]),
            _meta("check-check", "Entrega", linha["entrega"]),
            class_name="wa-fila-meta",
        ),
        rx.el.div(
            selo_status(linha),
            rx.cond(E.pode_agir, _acoes(linha)),
            class_name="wa-fila-status",
        ),
        class_name="wa-cartao wa-fila-linha",
        aria_labelledby=id_titulo,
        data_status=linha["status"],
        data_selecionado=rx.cond(linha["selecionado"], "1", "0"),
    )


def _botao_lote(acao: str, rotulo: str, icone: str, n: Any) -> rx.Component:
    return rx.button(
        rx.icon(icone, size=14, aria_hidden="true"),
        rotulo,
        rx.el.span("(", n, ")", class_name="wa-num"),
        on_click=E.pedir_confirmacao_lote(acao),  # type: ignore[operator, misc]
        disabled=n == 0,
        size="2",
        variant="soft",
        color_scheme="red" if acao == "cancelar" else "gray",
    )


def barra_selecao() -> rx.Component:
    return rx.cond(
        E.pode_agir,
        rx.el.div(
            rx.el.div(
                rx.checkbox(
                    checked=E.todos_visiveis_marcados,
                    on_change=E.alternar_todos,
                    disabled=E.total == 0,
                    aria_label="Selecionar todos os envios carregados",
                ),
                rx.el.span(rx.cond(E.n_selecionados > 0, E.texto_selecao, "Selecionar todos")),
                class_name="wa-fila-todos",
            ),
            rx.cond(
                E.n_selecionados > 0,
                rx.el.div(
                    _botao_lote(
                        "marcar_enviado", "Marcar como enviado", "check-check", E.selecao_marcar
                    ),
                    _botao_lote("reenviar", "Reenviar", "rotate-cw", E.selecao_reenviar),
                    _botao_lote("cancelar", "Cancelar envio", "ban", E.selecao_cancelar),
                    class_name="wa-fila-lote",
                    role="group",
                    aria_label="Ações nos envios selecionados",
                ),
            ),
            class_name="wa-fila-barra",
        ),
        rx.el.p(
            rx.icon("lock", size=14, aria_hidden="true", flex_shrink="0"),
            rx.el.span(MOTIVO_SEM_PERMISSAO),
            class_name="wa-fila-aviso",
        ),
    )


def _esqueletos() -> rx.Component:
    return rx.el.div(
        *[esqueleto("112px", border_radius="var(--radius-3)") for _ in range(4)],
        class_name="wa-fila-esqueletos",
        role="status",
        aria_label="Carregando envios",
    )


def lista() -> rx.Component:
    return rx.el.section(
        rx.el.p(E.anuncio, class_name="wa-sr-only", role="status", aria_live="polite"),
        rx.cond(
            E.carregando,
            _esqueletos(),
            rx.cond(
                E.total == 0,
                estado_vazio(
                    "inbox",
                    "Nenhum envio aqui",
                    rx.cond(
                        E.filtros_ativos,
                        "Nenhum envio combina com estes filtros.",
                        "Quando um lead entra num estágio com automação, os envios aparecem aqui.",
                    ),
                    rx.cond(
                        E.filtros_ativos,
                        rx.button("Limpar filtros", on_click=E.limpar_filtros, variant="soft"),
                        rx.el.a("Ver automações", href="/whatsapp", class_name="wa-fila-link"),
                    ),
                ),
                rx.fragment(
                    rx.el.p(E.resumo, class_name="wa-fila-resumo wa-num", aria_hidden="true"),
                    rx.el.ul(
                        rx.foreach(E.linhas_exibidas, _linha),
                        class_name="wa-fila-lista",
                        aria_label="Envios",
                    ),
                    rx.cond(
                        E.tem_mais,
                        rx.button(
                            rx.cond(E.carregando_mais, rx.spinner(size="2"), rx.fragment()),
                            "Carregar mais",
                            on_click=E.carregar_mais,
                            disabled=E.carregando_mais,
                            variant="soft",
                            color_scheme="gray",
                            size="2",
                            class_name="wa-fila-mais",
                        ),
                    ),
                ),
            ),
        ),
        class_name="wa-fila-resultados",
        aria_label="Envios da fila",
        aria_busy=rx.cond(E.carregando, "true", "false"),
    )
