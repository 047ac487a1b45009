"""The company's sending window: "sem restrição", start/end, weekdays and time zone."""

from __future__ import annotations

from typing import Any

import reflex as rx

from whatsapp_app.modules.configuracoes.state import DIAS_SEMANA, EstadoConfiguracoes
from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import cartao, erro_campo, esqueleto

E = EstadoConfiguracoes
SOMENTE_LEITURA = ~E.eh_admin


def _erro(chave: str, id_campo: str) -> rx.Component:
    mensagem: Any = E.erros.get(chave, "")  # type: ignore[attr-defined]
    return erro_campo(id_campo, mensagem)


def _hora(id_campo: str, rotulo: str, valor: Any, ao_mudar: Any, chave: str) -> rx.Component:
    return rx.el.div(
        rx.el.label(rotulo, html_for=id_campo, class_name="wa-rotulo"),
        rx.input(
            id=id_campo,
            type="time",
            value=valor,
            on_change=ao_mudar,
            disabled=SOMENTE_LEITURA | E.sem_restricao,
            size="2",
            width="100%",
            class_name="wa-num",
            aria_invalid=rx.cond(E.erros.get(chave, ""), "true", "false"),  # type: ignore[attr-defined]
            aria_describedby=f"{id_campo}-erro",
        ),
        _erro(chave, id_campo),
        class_name="wa-campo",
    )


def _dias() -> rx.Component:
    return rx.el.div(
        rx.el.span("Dias da semana", class_name="wa-rotulo", id="janela-dias-rotulo"),
        rx.el.div(
            *[
                rx.el.button(
                    # The short name is what shows; the full one is read out after it.
                    rx.el.span(curto, aria_hidden="true"),
                    rx.el.span(longo, class_name="wa-sr-only"),
                    on_click=E.alternar_dia(dia),  # type: ignore[operator, misc]
                    aria_pressed=rx.cond(E.dias.contains(dia), "true", "false"),  # type: ignore[attr-defined]
                    title=longo,
                    disabled=SOMENTE_LEITURA | E.sem_restricao,
                    class_name="wa-wpp-chip wa-wpp-chip-dia",
                    type="button",
                )
                for dia, curto, longo in DIAS_SEMANA
            ],
            role="group",
            aria_labelledby="janela-dias-rotulo",
            class_name="wa-wpp-dias",
        ),
        _erro("dias_semana", "janela-dias"),
        class_name="wa-campo",
    )


def _fuso() -> rx.Component:
    return rx.el.div(
        rx.el.label("Fuso horário", html_for="janela-fuso", class_name="wa-rotulo"),
        rx.select.root(
            rx.select.trigger(id="janela-fuso", width="100%"),
            rx.select.content(
                rx.foreach(E.fusos, lambda f: rx.select.item(f["nome"], value=f["id"])),
                position="popper",
            ),
            value=E.fuso,
            on_change=E.definir_fuso,
            disabled=SOMENTE_LEITURA,
            size="2",
        ),
        rx.el.p(
            "Datas e horários do app e da janela de envio seguem este fuso.",
            class_name="wa-campo-ajuda",
        ),
        _erro("fuso_horario", "janela-fuso"),
        class_name="wa-campo",
    )


def _formulario() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.div(
                rx.el.div(
                    rx.el.label(
                        "Sem restrição de horário",
                        html_for="janela-sem-restricao",
                        class_name="wa-rotulo",
                    ),
                    rx.el.p(
                        "Os follow-ups saem a qualquer hora, todos os dias.",
                        class_name="wa-campo-ajuda",
                        id="janela-sem-restricao-ajuda",
                    ),
                    class_name="wa-wpp-interruptor-texto",
                ),
                rx.switch(
                    id="janela-sem-restricao",
                    checked=E.sem_restricao,
                    on_change=E.definir_sem_restricao,
                    disabled=SOMENTE_LEITURA,
                    aria_describedby="janela-sem-restricao-ajuda",
                ),
                class_name="wa-wpp-interruptor",
            ),
            rx.el.div(
                _hora("janela-inicio", "Início", E.inicio, E.definir_inicio, "inicio"),
                _hora("janela-fim", "Fim", E.fim, E.definir_fim, "fim"),
                class_name="wa-cfg-horas",
                data_desligado=rx.cond(E.sem_restricao, "1", "0"),
            ),
            _erro("janela_envio", "janela-intervalo"),
            rx.el.div(_dias(), data_desligado=rx.cond(E.sem_restricao, "1", "0")),
            _fuso(),
            rx.cond(
                E.erros.get("geral", ""),  # type: ignore[attr-defined]
                rx.callout(
                    E.erros.get("geral", ""),  # type: ignore[attr-defined]
                    icon="circle-alert",
                    color_scheme="red",
                    size="1",
                ),
            ),
            rx.cond(
                E.eh_admin,
                rx.el.div(
                    rx.button(
                        "Descartar",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        disabled=~E.alterado,
                        on_click=E.descartar,
                    ),
                    rx.button(
                        "Salvar",
                        on_click=E.salvar,
                        type="button",
                        loading=E.salvando,
                        disabled=~E.alterado,
                    ),
                    class_name="wa-dialogo-rodape",
                ),
                rx.el.p(
                    rx.icon("lock", size=12, aria_hidden="true"),
                    "Somente administradores podem alterar a janela de envio.",
                    class_name="wa-campo-ajuda wa-cfg-leitura",
                ),
            ),
            class_name="wa-wpp-form",
        ),
    )


def janela_envio() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.el.h2("Janela de envio", id="cfg-janela", style=t.ESTILO_TITULO_SECAO),
            rx.el.p(
                "Follow-ups que vencerem fora da janela saem na próxima abertura.",
                class_name="wa-wpp-meta",
            ),
            class_name="wa-wpp-secao-topo wa-wpp-secao-topo-coluna",
        ),
        cartao(
            rx.cond(
                E.carregando,
                rx.vstack(
                    *[esqueleto("36px") for _ in range(4)],
                    spacing="4",
                    width="100%",
                    aria_hidden="true",
                ),
                _formulario(),
            ),
            class_name="wa-cfg-cartao",
        ),
        aria_labelledby="cfg-janela",
        class_name="wa-wpp-secao",
    )
