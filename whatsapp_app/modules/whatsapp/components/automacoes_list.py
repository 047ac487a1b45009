"""Automation flow list (plan 4.4 B): ``Gatilho`` → ``Ação`` rows, filters and row actions."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars import ObjectVar, Var

from whatsapp_app.modules.whatsapp.components.secao import contagem, topo_secao
from whatsapp_app.modules.whatsapp.estado_fluxos import ORDENS
from whatsapp_app.modules.whatsapp.state import ROTULOS_EVENTO, EstadoWhatsapp
from whatsapp_app.modules.whatsapp.theme import STATUS_FLUXO
from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import cartao, dialogo_confirmacao, esqueleto, estado_vazio

ID_TITULO = "secao-automacoes"


# --- filters -----------------------------------------------------------------------------------


def _chip(rotulo: Var | str, ativo: Any, ao_clicar: Any) -> rx.Component:
    return rx.el.button(
        rotulo,
        on_click=ao_clicar,
        aria_pressed=rx.cond(ativo, "true", "false"),
        class_name="wa-wpp-chip",
        type="button",
    )


def _grupo(rotulo: str, *chips: rx.Component) -> rx.Component:
    return rx.el.div(
        rx.el.span(rotulo, class_name="wa-wpp-filtro-rotulo", aria_hidden="true"),
        *chips,
        role="group",
        aria_label=f"Filtrar por {rotulo.lower()}",
        class_name="wa-wpp-filtro-grupo",
    )


def _filtros() -> rx.Component:
    e = EstadoWhatsapp
    return rx.el.div(
        _grupo(
            "Evento",
            _chip("Todos", e.filtro_evento == "", e.filtrar_evento("")),  # type: ignore[operator, misc]
            *[
                _chip(rotulo, e.filtro_evento == codigo, e.filtrar_evento(codigo))  # type: ignore[operator, misc]
                for codigo, rotulo in ROTULOS_EVENTO.items()
            ],
        ),
        _grupo(
            "Status",
            _chip("Todas", e.filtro_status == "", e.filtrar_status("")),  # type: ignore[operator, misc]
            _chip("Ativas", e.filtro_status == "ativa", e.filtrar_status("ativa")),  # type: ignore[operator, misc]
            _chip("Pausadas", e.filtro_status == "pausada", e.filtrar_status("pausada")),  # type: ignore[operator, misc]
        ),
        _grupo(
            "Instância",
            _chip("Todas", e.filtro_instancia == "", e.filtrar_instancia("")),  # type: ignore[operator, misc]
            rx.foreach(
                e.opcoes_instancia,
                lambda i: _chip(
                    i["nome"],
                    e.filtro_instancia == i["id"],
                    e.filtrar_instancia(i["id"]),  # type: ignore[operator, misc]
                ),
            ),
        ),
        class_name="wa-wpp-filtros",
    )


def _busca_e_ordem() -> rx.Component:
    e = EstadoWhatsapp
    return rx.el.div(
        rx.el.div(
            rx.el.label("Buscar automação", html_for="busca-fluxo", class_name="wa-sr-only"),
            rx.input(
                rx.input.slot(rx.icon("search", size=14, aria_hidden="true")),
                id="busca-fluxo",
                type="search",
                placeholder="Buscar pelo nome",
                value=e.busca_fluxo,
                on_change=e.buscar_fluxo,
                max_length=120,
                class_name="wa-wpp-busca",
            ),
            class_name="wa-wpp-busca-campo",
        ),
        rx.el.div(
            rx.el.span("Ordenar por", id="rotulo-ordem-fluxos", class_name="wa-wpp-filtro-rotulo"),
            rx.select.root(
                rx.select.trigger(aria_labelledby="rotulo-ordem-fluxos"),
                rx.select.content(
                    *[rx.select.item(rotulo, value=codigo) for codigo, rotulo in ORDENS.items()]
                ),
                value=e.ordem_fluxos,
                on_change=e.ordenar_fluxos,
                size="2",
            ),
            class_name="wa-wpp-ordem",
        ),
        class_name="wa-wpp-ferramentas",
    )


def _aviso_oculto() -> rx.Component:
    """The automation just saved is hidden by the active filters: say so, offer to clear them."""
    return rx.cond(
        EstadoWhatsapp.aviso_fluxo_oculto != "",
        rx.el.div(
            rx.icon("eye-off", size=16, aria_hidden="true"),
            rx.el.span(EstadoWhatsapp.aviso_fluxo_oculto),
            rx.button(
                "Limpar filtros",
                variant="soft",
                size="1",
                on_click=EstadoWhatsapp.limpar_filtros,
            ),
            role="status",
            class_name="wa-wpp-aviso-oculto",
        ),
    )


# --- one flow ----------------------------------------------------------------------------------


def chip_status_fluxo(ativo: Var) -> rx.Component:
    def _chip(valor: bool) -> rx.Component:
        cor, rotulo, icone = STATUS_FLUXO[valor]
        return rx.badge(
            rx.icon(icone, size=12, aria_hidden="true"),
            rotulo,
            color_scheme=cor,  # type: ignore[arg-type]
            variant="soft",
            radius="full",
            class_name="wa-wpp-status-fluxo",
        )

    return rx.cond(ativo, _chip(True), _chip(False))


def _bloco(rotulo: str, icone: str, classe: str, *conteudo: rx.Component) -> rx.Component:
    return rx.el.div(
        rx.center(rx.icon(icone, size=16, aria_hidden="true"), class_name="wa-wpp-bloco-icone"),
        rx.el.div(
            rx.el.span(rotulo, class_name="wa-wpp-bloco-rotulo"),
            *conteudo,
            class_name="wa-wpp-bloco-texto",
        ),
        class_name=f"wa-wpp-bloco {classe}",
    )


def _gatilho(f: ObjectVar) -> rx.Component:
    return _bloco(
        "Gatilho",
        "log-in",
        "wa-wpp-bloco-gatilho",
        rx.el.span(
            "Lead entra em ",
            rx.el.span(
                rx.box(class_name="wa-ponto", color=f"var(--{f['cor_estagio']}-9)"),
                f["nome_estagio"],
                class_name="wa-wpp-estagio",
            ),
            class_name="wa-wpp-bloco-principal",
        ),
    )


def _acao(f: ObjectVar) -> rx.Component:
    return _bloco(
        "Ação",
        "message-circle",
        "wa-wpp-bloco-acao",
        rx.el.span(
            "WhatsApp por ",
            rx.el.strong(f["nome_instancia"]),
            class_name="wa-wpp-bloco-principal wa-truncar",
        ),
        rx.el.span(f["resumo_etapas"], class_name="wa-wpp-meta wa-num"),
        rx.el.span(
            f["contagens"],
            class_name="wa-wpp-meta wa-num wa-wpp-contagens-fluxo",
            data_erros=rx.cond(f["tem_erros"].to(bool), "1", "0"),
        ),
    )


def _botao_icone(icone: str, rotulo: Var | str, evento, **props) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.tooltip(
        rx.icon_button(
            rx.icon(icone, size=16),
            variant="ghost",
            color_scheme=props.pop("color_scheme", "gray"),
            on_click=evento,
            aria_label=rotulo,
            **props,
        ),
        content=rotulo,
    )


def _acoes(f: ObjectVar) -> rx.Component:
    nome = f["nome"]
    return rx.el.div(
        rx.cond(
            EstadoWhatsapp.flag_construtor,
            _botao_icone(
                "pencil",
                f"Editar {nome}",
                EstadoWhatsapp.abrir_edicao(f["id"]),  # type: ignore[operator, misc]
                disabled=f["salvando"].to(bool),
            ),
        ),
        rx.cond(
            f["ativo"].to(bool),
            _botao_icone(
                "pause",
                f"Pausar {nome}",
                EstadoWhatsapp.alternar_ativo(f["id"]),  # type: ignore[operator, misc]
                disabled=f["salvando"].to(bool),
            ),
            _botao_icone(
                "play",
                f"Ativar {nome}",
                EstadoWhatsapp.alternar_ativo(f["id"]),  # type: ignore[operator, misc]
                disabled=f["salvando"].to(bool),
            ),
        ),
        _botao_icone(
            "circle-slash",
            f"Cancelar envios pendentes de {nome}",
            EstadoWhatsapp.pedir_cancelamento(f["id"]),  # type: ignore[operator, misc]
            disabled=f["salvando"].to(bool) | (f["pendentes"].to(int) == 0),
        ),
        _botao_icone(
            "trash-2",
            f"Excluir {nome}",
            EstadoWhatsapp.pedir_exclusao(f["id"]),  # type: ignore[operator, misc]
            color_scheme="red",
            disabled=f["salvando"].to(bool),
        ),
        class_name="wa-wpp-linha-acoes",
    )


def _metadados(f: ObjectVar) -> rx.Component:
    return rx.el.ul(
        rx.el.li(
            rx.icon("repeat", size=12, aria_hidden="true"),
            f["rotulo_reentrada"],
        ),
        rx.el.li(
            rx.icon("log-out", size=12, aria_hidden="true"),
            rx.cond(
                f["cancelar_ao_sair"].to(bool),
                "Cancela os envios se o lead sair do estágio",
                "Continua mesmo se o lead sair do estágio",
            ),
        ),
        rx.el.li(
            rx.icon("message-circle-reply", size=12, aria_hidden="true"),
            rx.cond(
                f["parar_ao_responder"].to(bool),
                "Para quando o lead responde",
                "Continua mesmo se o lead responder",
            ),
        ),
        class_name="wa-wpp-metadados",
    )


def _linha(f: ObjectVar) -> rx.Component:
    id_nome = f"fluxo-{f['id']}"
    return rx.el.li(
        rx.el.div(
            rx.el.div(
                rx.el.h3(f["nome"], id=id_nome, class_name="wa-wpp-linha-titulo wa-truncar"),
                rx.cond(
                    f["salvando"].to(bool),
                    rx.badge(
                        rx.spinner(size="1"),
                        "Salvando…",
                        variant="soft",
                        color_scheme="gray",
                        radius="full",
                    ),
                    chip_status_fluxo(f["ativo"].to(bool)),
                ),
                class_name="wa-wpp-linha-nome",
            ),
            rx.cond(EstadoWhatsapp.pode_gerir, _acoes(f)),
            class_name="wa-wpp-linha-topo",
        ),
        rx.el.div(
            _gatilho(f),
            rx.center(
                rx.icon("arrow-right", size=16, aria_hidden="true"),
                class_name="wa-wpp-seta",
            ),
            _acao(f),
            class_name="wa-wpp-caminho",
            aria_label=f"Quando o lead entra em {f['nome_estagio']}, envia {f['resumo_etapas']} "
            f"por {f['nome_instancia']}",
        ),
        _metadados(f),
        class_name="wa-cartao wa-wpp-linha",
        aria_labelledby=id_nome,
        data_ativo=rx.cond(f["ativo"].to(bool), "1", "0"),
        data_salvando=rx.cond(f["salvando"].to(bool), "1", "0"),
    )


def _esqueleto_linhas() -> rx.Component:
    return rx.vstack(
        *[
            cartao(
                rx.vstack(
                    esqueleto("18px", "40%"),
                    rx.hstack(esqueleto("56px"), esqueleto("56px"), width="100%", spacing="4"),
                    esqueleto("12px", "55%"),
                    spacing="3",
                    width="100%",
                ),
                aria_hidden="true",
            )
            for _ in range(2)
        ],
        spacing="3",
        width="100%",
    )


def _vazio() -> rx.Component:
    return estado_vazio(
        "workflow",
        "Nenhuma automação ainda",
        "Crie uma automação para enviar mensagens quando um lead entrar em um estágio.",
        rx.cond(
            EstadoWhatsapp.pode_gerir & EstadoWhatsapp.flag_construtor,
            rx.button(
                rx.icon("plus", size=16, aria_hidden="true"),
                "Nova automação",
                on_click=EstadoWhatsapp.abrir_nova,
            ),
        ),
    )


def _sem_resultado() -> rx.Component:
    return rx.el.div(
        rx.icon("filter-x", size=18, aria_hidden="true"),
        rx.el.span("Nenhuma automação com esses filtros."),
        rx.button(
            "Limpar filtros",
            variant="ghost",
            size="1",
            on_click=EstadoWhatsapp.limpar_filtros,
        ),
        class_name="wa-wpp-sem-resultado",
    )


def _confirmar_exclusao() -> rx.Component:
    return dialogo_confirmacao(
        titulo="Excluir automação?",
        texto=rx.el.span(
            "“",
            EstadoWhatsapp.excluir_nome,
            "” deixa de enviar mensagens. ",
            EstadoWhatsapp.excluir_texto,
        ),
        botao="Excluir",
        ao_confirmar=EstadoWhatsapp.confirmar_exclusao,
        aberto=EstadoWhatsapp.excluir_id != "",
        ao_mudar=EstadoWhatsapp.mudar_exclusao,
    )


def _confirmar_cancelamento() -> rx.Component:
    """ "Cancelar envios pendentes": the automation stays as it is; its waiting sends go."""
    return dialogo_confirmacao(
        titulo=EstadoWhatsapp.cancelar_titulo,
        texto=rx.el.span(
            "Os envios que “",
            EstadoWhatsapp.cancelar_nome,
            "” ainda não fez (pendentes e pausados) são cancelados. A automação continua "
            "como está e os leads que entrarem no estágio daqui em diante recebem a "
            "sequência normalmente.",
        ),
        botao="Cancelar envios",
        ao_confirmar=EstadoWhatsapp.confirmar_cancelamento,
        aberto=EstadoWhatsapp.cancelar_id != "",
        ao_mudar=EstadoWhatsapp.mudar_cancelamento,
    )


def _confirmar_retomada() -> rx.Component:
    """Resuming asks what to do with the sends that fell due during the pause."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Retomar automação?", style=t.ESTILO_TITULO_SECAO),
            rx.alert_dialog.description(
                rx.el.span(
                    "Durante a pausa de “",
                    EstadoWhatsapp.retomar_nome,
                    "”, ",
                    rx.el.span(EstadoWhatsapp.retomar_vencidos, class_name="wa-num"),
                    " envio(s) chegaram na hora de sair. Envie agora ou cancele esses envios; "
                    "os que ainda não venceram voltam para a fila de qualquer forma.",
                ),
                style=t.ESTILO_CORPO,
            ),
            rx.el.div(
                rx.alert_dialog.cancel(rx.button("Voltar", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Cancelar os vencidos",
                        variant="soft",
                        color_scheme="red",
                        on_click=EstadoWhatsapp.confirmar_retomada("cancelar"),  # type: ignore[operator, misc]
                    )
                ),
                rx.alert_dialog.action(
                    rx.button(
                        "Enviar agora",
                        on_click=EstadoWhatsapp.confirmar_retomada("enviar"),  # type: ignore[operator, misc]
                    )
                ),
                class_name="wa-wpp-dialogo-rodape",
            ),
            max_width="460px",
        ),
        open=EstadoWhatsapp.retomar_id != "",
        on_open_change=EstadoWhatsapp.mudar_retomada,
    )


def automacoes_list() -> rx.Component:
    return rx.el.section(
        topo_secao(
            "Automações",
            ID_TITULO,
            rx.cond(
                ~EstadoWhatsapp.carregando,
                contagem(
                    EstadoWhatsapp.total_fluxos,
                    aria_label=f"{EstadoWhatsapp.total_fluxos} automações",
                ),
            ),
            descricao="As etapas contam a partir do momento em que o lead entra no estágio.",
        ),
        rx.cond(
            EstadoWhatsapp.carregando,
            _esqueleto_linhas(),
            rx.cond(
                EstadoWhatsapp.total_fluxos > 0,
                rx.fragment(
                    _busca_e_ordem(),
                    _filtros(),
                    _aviso_oculto(),
                    rx.cond(
                        EstadoWhatsapp.fluxos_filtrados.length() > 0,  # type: ignore[attr-defined]
                        rx.el.ul(
                            rx.foreach(EstadoWhatsapp.fluxos_filtrados, _linha),
                            class_name="wa-wpp-linhas",
                            aria_labelledby=ID_TITULO,
                        ),
                        _sem_resultado(),
                    ),
                ),
                _vazio(),
            ),
        ),
        _confirmar_exclusao(),
        _confirmar_cancelamento(),
        _confirmar_retomada(),
        aria_labelledby=ID_TITULO,
        class_name="wa-wpp-secao",
    )
