"""The automation builder (plan 4.4 D): a right-side sheet (bottom sheet on phones).

Built on Radix Themes' Dialog (focus trap, Esc, labelled by its title); the page stays visible
beneath. Closing with unsaved edits asks first. Each step has its delay, its message with
variable chips and a live WhatsApp-like preview rendered by the server's
``renderizar_mensagem`` for a sample lead. Field errors sit next to their fields.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars import ObjectVar, Var

from whatsapp_app.envio import VARIAVEIS_MODELO
from whatsapp_app.modules.whatsapp.components.modelo_etapa import modelo_etapa
from whatsapp_app.modules.whatsapp.state import (
    LEAD_EXEMPLO,
    MINUTOS_POR_UNIDADE,
    EstadoWhatsapp,
)
from whatsapp_app.ui.componentes import botao_fechar, dialogo_confirmacao, erro_campo

E = EstadoWhatsapp
AJUDA_REENTRADA = {
    "uma_vez": "Cada lead recebe esta sequência uma única vez, mesmo se voltar ao estágio.",
    "a_cada_entrada": "A sequência recomeça toda vez que o lead voltar a entrar no estágio.",
}
ROTULOS_UNIDADE = {"minutos": "minutos", "horas": "horas", "dias": "dias"}


def _erro(chave: str) -> Any:
    return E.erros.get(chave, "")  # type: ignore[attr-defined]


def _rotulo(texto: str, id_campo: str) -> rx.Component:
    return rx.el.label(texto, html_for=id_campo, class_name="wa-wpp-rotulo")


def _secao(titulo: str, *filhos: rx.Component, descricao: str = "") -> rx.Component:
    id_titulo = f"painel-secao-{titulo.lower()}"
    return rx.el.section(
        rx.el.div(
            rx.el.h2(titulo, id=id_titulo, class_name="wa-wpp-painel-secao"),
            rx.el.p(descricao, class_name="wa-campo-ajuda") if descricao else rx.fragment(),
            class_name="wa-wpp-painel-secao-topo",
        ),
        *filhos,
        aria_labelledby=id_titulo,
        class_name="wa-wpp-painel-bloco",
    )


def _invalido(chave: str) -> Var:
    return rx.cond(_erro(chave), "true", "false")


# --- trigger and sending -----------------------------------------------------------------------


def _nome() -> rx.Component:
    return rx.el.div(
        _rotulo("Nome", "automacao-nome"),
        rx.input(
            id="automacao-nome",
            value=E.form_nome,
            on_change=E.definir_nome,
            placeholder="Ex.: Boas-vindas a leads qualificados",
            max_length=120,
            auto_complete="off",
            size="2",
            width="100%",
            aria_invalid=_invalido("nome"),
            aria_describedby="automacao-nome-erro",
        ),
        erro_campo("automacao-nome", _erro("nome")),
        class_name="wa-wpp-campo",
    )


def _seletor(
    id_campo: str,
    rotulo: str,
    itens: Any,
    valor: Any,
    ao_mudar: Any,
    chave_erro: str,
    placeholder: str,
    com_cor: bool = False,
) -> rx.Component:
    def _item(o: ObjectVar) -> rx.Component:
        conteudo = (
            rx.hstack(
                rx.box(class_name="wa-ponto", color=f"var(--{o['cor']}-9)"),
                rx.text(o["nome"]),
                align="center",
                spacing="2",
            )
            if com_cor
            else o["nome"]
        )
        return rx.select.item(conteudo, value=o["id"])

    return rx.el.div(
        _rotulo(rotulo, id_campo),
        rx.select.root(
            rx.select.trigger(
                id=id_campo,
                placeholder=placeholder,
                width="100%",
                aria_invalid=_invalido(chave_erro),
                aria_describedby=f"{id_campo}-erro",
            ),
            rx.select.content(rx.foreach(itens, _item), position="popper"),
            value=valor,
            on_change=ao_mudar,
            size="2",
        ),
        erro_campo(id_campo, _erro(chave_erro)),
        class_name="wa-wpp-campo",
    )


def _gatilho() -> rx.Component:
    return _secao(
        "Gatilho",
        _nome(),
        _seletor(
            "automacao-estagio",
            "Quando o lead entrar no estágio",
            E.estagios,
            E.form_estagio,
            E.definir_estagio,
            "id_estagio_trigger",
            "Escolha o estágio",
            com_cor=True,
        ),
        descricao="O evento é a mudança de estágio do lead no funil.",
    )


def _interruptor(id_campo: str, rotulo: str, ajuda: str, valor: Any, ao_mudar: Any) -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.label(rotulo, html_for=id_campo, class_name="wa-wpp-rotulo"),
            rx.el.p(ajuda, class_name="wa-campo-ajuda", id=f"{id_campo}-ajuda"),
            class_name="wa-wpp-interruptor-texto",
        ),
        rx.switch(
            id=id_campo,
            checked=valor,
            on_change=ao_mudar,
            aria_describedby=f"{id_campo}-ajuda",
        ),
        class_name="wa-wpp-interruptor",
    )


def _envio() -> rx.Component:
    return _secao(
        "Envio",
        _seletor(
            "automacao-instancia",
            "Instância que envia",
            E.opcoes_instancia,
            E.form_instancia,
            E.definir_instancia,
            "id_whatsapp_instancia",
            "Escolha a instância",
        ),
        rx.el.div(
            rx.cond(
                E.aviso_mesmo_estagio != "",
                rx.el.p(
                    rx.icon("triangle-alert", size=14, aria_hidden="true", flex_shrink="0"),
                    rx.el.span(E.aviso_mesmo_estagio),
                    class_name="wa-wpp-aviso-estagio",
                ),
            ),
            role="status",
            aria_live="polite",
        ),
        rx.el.div(
            rx.el.span("Reentrada", class_name="wa-wpp-rotulo", id="automacao-reentrada-rotulo"),
            rx.segmented_control.root(
                rx.segmented_control.item("Uma vez", value="uma_vez"),
                rx.segmented_control.item("A cada entrada", value="a_cada_entrada"),
                value=E.form_reentrada,
                on_change=E.definir_reentrada,
                size="2",
                width="100%",
                aria_labelledby="automacao-reentrada-rotulo",
            ),
            rx.el.p(
                rx.match(
                    E.form_reentrada,
                    *[(codigo, texto) for codigo, texto in AJUDA_REENTRADA.items()],
                    "",
                ),
                class_name="wa-campo-ajuda",
                aria_live="polite",
            ),
            class_name="wa-wpp-campo",
        ),
        _interruptor(
            "automacao-cancelar",
            "Cancelar ao sair do estágio",
            "Envios ainda pendentes são cancelados se o lead mudar de estágio antes.",
            E.form_cancelar,
            E.definir_cancelar,
        ),
        _interruptor(
            "automacao-parar",
            "Parar quando o lead responder",
            "Se o lead responder pelo WhatsApp, os envios ainda pendentes desta automação para "
            "ele são cancelados.",
            E.form_parar,
            E.definir_parar,
        ),
        _interruptor(
            "automacao-ativa",
            "Automação ativa",
            "Pausada, ela não agenda novos envios.",
            E.form_ativo,
            E.definir_ativo,
        ),
    )


# --- steps -------------------------------------------------------------------------------------


def _bolha_modelo(etapa: ObjectVar, indice: Any) -> rx.Component:
    """Cloud API: the template body as the lead reads it outside the 24-hour window."""
    return rx.cond(
        E.previas_modelo[indice] != "",
        rx.fragment(
            rx.el.span(
                "Fora da janela de 24 h · modelo ",
                etapa["modelo_nome"],
                class_name="wa-wpp-previa-quando wa-wpp-previa-janela",
            ),
            rx.el.div(
                rx.el.p(E.previas_modelo[indice], class_name="wa-wpp-bolha-texto"),
                rx.el.span(
                    rx.icon("check-check", size=14, aria_hidden="true"),
                    class_name="wa-wpp-bolha-meta",
                ),
                class_name="wa-wpp-bolha",
            ),
        ),
    )


def _bolha(etapa: ObjectVar, indice: Any) -> rx.Component:
    return rx.el.div(
        rx.el.span(E.atrasos_previa[indice], class_name="wa-wpp-previa-quando"),
        rx.cond(
            E.previas_modelo[indice] != "",
            rx.el.span(
                "Dentro da janela de 24 h",
                class_name="wa-wpp-previa-quando wa-wpp-previa-janela",
            ),
        ),
        rx.el.div(
            rx.el.p(
                rx.cond(
                    E.previas[indice] != "",
                    E.previas[indice],
                    rx.el.span("A mensagem aparece aqui.", class_name="wa-wpp-previa-vazia"),
                ),
                class_name="wa-wpp-bolha-texto",
            ),
            rx.el.span(
                rx.icon("check-check", size=14, aria_hidden="true"),
                class_name="wa-wpp-bolha-meta",
            ),
            class_name="wa-wpp-bolha",
        ),
        _bolha_modelo(etapa, indice),
        class_name="wa-wpp-conversa",
        aria_label=f"Prévia da etapa {indice + 1}",
        role="img",
    )


def _etapa(etapa: ObjectVar, indice: Any) -> rx.Component:
    numero = indice + 1
    id_atraso = f"etapa-{indice}-atraso"
    id_unidade = f"etapa-{indice}-unidade"
    id_mensagem = f"etapa-{indice}-mensagem"
    total = E.total_etapas
    return rx.el.li(
        rx.el.div(
            rx.el.span(f"Etapa {numero}", class_name="wa-wpp-etapa-titulo"),
            rx.el.div(
                rx.icon_button(
                    rx.icon("arrow-up", size=14),
                    variant="ghost",
                    color_scheme="gray",
                    size="1",
                    disabled=indice == 0,
                    on_click=E.mover_etapa(indice, -1),  # type: ignore[operator, misc]
                    aria_label=f"Mover a etapa {numero} para cima",
                ),
                rx.icon_button(
                    rx.icon("arrow-down", size=14),
                    variant="ghost",
                    color_scheme="gray",
                    size="1",
                    disabled=indice == total - 1,
                    on_click=E.mover_etapa(indice, 1),  # type: ignore[operator, misc]
                    aria_label=f"Mover a etapa {numero} para baixo",
                ),
                rx.icon_button(
                    rx.icon("trash-2", size=14),
                    variant="ghost",
                    color_scheme="red",
                    size="1",
                    disabled=total <= 1,
                    on_click=E.remover_etapa(indice),  # type: ignore[operator, misc]
                    aria_label=f"Remover a etapa {numero}",
                ),
                class_name="wa-wpp-etapa-acoes",
            ),
            class_name="wa-wpp-etapa-topo",
        ),
        rx.el.div(
            rx.el.label("Enviar após", html_for=id_atraso, class_name="wa-wpp-rotulo"),
            rx.el.div(
                rx.input(
                    id=id_atraso,
                    value=etapa["atraso"],
                    on_change=lambda v: E.definir_atraso(indice, v),  # type: ignore[call-arg, operator, misc]
                    type="number",
                    min=0,
                    input_mode="numeric",
                    size="2",
                    width="96px",
                    aria_invalid=rx.cond(etapa["erro_atraso"] != "", "true", "false"),
                    aria_describedby=f"{id_atraso}-erro",
                    class_name="wa-num",
                ),
                rx.select.root(
                    rx.select.trigger(
                        id=id_unidade, aria_label=f"Unidade do atraso da etapa {numero}"
                    ),
                    rx.select.content(
                        *[
                            rx.select.item(rotulo, value=codigo)
                            for codigo, rotulo in ROTULOS_UNIDADE.items()
                            if codigo in MINUTOS_POR_UNIDADE
                        ],
                        position="popper",
                    ),
                    value=etapa["unidade"],
                    on_change=lambda v: E.definir_unidade(indice, v),  # type: ignore[call-arg, operator, misc]
                    size="2",
                ),
                rx.el.span("da entrada no estágio", class_name="wa-campo-ajuda"),
                class_name="wa-wpp-atraso",
            ),
            erro_campo(id_atraso, etapa["erro_atraso"]),
            class_name="wa-wpp-campo",
        ),
        rx.el.div(
            rx.el.label("Mensagem", html_for=id_mensagem, class_name="wa-wpp-rotulo"),
            rx.text_area(
                id=id_mensagem,
                value=etapa["mensagem"],
                on_change=lambda v: E.definir_mensagem(indice, v),  # type: ignore[call-arg, operator, misc]
                placeholder="Olá, {{primeiro_nome}}! …",
                rows="4",
                resize="vertical",
                max_length=4096,
                width="100%",
                aria_invalid=rx.cond(etapa["erro_mensagem"] != "", "true", "false"),
                aria_describedby=f"{id_mensagem}-erro",
            ),
            rx.el.div(
                rx.el.span("Inserir:", class_name="wa-campo-ajuda", aria_hidden="true"),
                *[
                    rx.el.button(
                        "{{" + variavel + "}}",
                        on_click=E.inserir_variavel(indice, variavel),  # type: ignore[operator, misc]
                        class_name="wa-wpp-variavel",
                        type="button",
                        aria_label=f"Inserir a variável {variavel} na etapa {numero}",
                    )
                    for variavel in VARIAVEIS_MODELO
                ],
                class_name="wa-wpp-variaveis",
            ),
            erro_campo(id_mensagem, etapa["erro_mensagem"]),
            class_name="wa-wpp-campo",
        ),
        rx.cond(E.instancia_cloud, modelo_etapa(etapa, indice)),
        _bolha(etapa, indice),
        class_name="wa-wpp-etapa",
        aria_label=f"Etapa {numero}",
    )


def _etapas() -> rx.Component:
    return _secao(
        "Mensagens",
        rx.el.ol(rx.foreach(E.etapas, _etapa), class_name="wa-wpp-etapas"),
        erro_campo("automacao-etapas", _erro("etapas")),
        rx.cond(
            E.pode_adicionar_etapa,
            rx.button(
                rx.icon("plus", size=14, aria_hidden="true"),
                "Adicionar etapa",
                variant="soft",
                color_scheme="gray",
                size="2",
                on_click=E.adicionar_etapa,
                type="button",
                width="100%",
            ),
            rx.el.p("Limite de etapas atingido.", class_name="wa-campo-ajuda"),
        ),
        descricao=(
            "As etapas contam a partir do momento em que o lead entra no estágio "
            f"(não da etapa anterior). Prévias com um lead de exemplo: {LEAD_EXEMPLO}."
        ),
    )


# --- the sheet ---------------------------------------------------------------------------------


def _cabecalho() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.dialog.title(
                rx.cond(E.editando_id != "", "Editar automação", "Nova automação"),
                class_name="wa-wpp-painel-titulo",
            ),
            rx.dialog.description(
                "Quando um lead entra no estágio, envia as mensagens pelo WhatsApp.",
                class_name="wa-wpp-painel-descricao",
            ),
            class_name="wa-wpp-painel-cabecalho-texto",
        ),
        botao_fechar(
            on_click=E.mudar_painel(False),  # type: ignore[operator, misc]
            type="button",
        ),
        class_name="wa-wpp-painel-cabecalho",
    )


def _rodape() -> rx.Component:
    return rx.el.div(
        rx.cond(
            _erro("geral"),
            rx.callout(
                _erro("geral"), icon="circle-alert", color_scheme="red", size="1", width="100%"
            ),
        ),
        rx.el.div(
            rx.button(
                "Cancelar",
                variant="soft",
                color_scheme="gray",
                on_click=E.mudar_painel(False),  # type: ignore[operator, misc]
                type="button",
            ),
            rx.button(
                rx.cond(E.editando_id != "", "Salvar alterações", "Criar automação"),
                on_click=E.salvar,
                type="button",
                loading=E.salvando,
            ),
            class_name="wa-wpp-dialogo-rodape",
        ),
        class_name="wa-wpp-painel-rodape",
    )


def _confirmar_descarte() -> rx.Component:
    return dialogo_confirmacao(
        titulo="Descartar alterações?",
        texto="O que você preencheu nesta automação ainda não foi salvo.",
        botao="Descartar",
        ao_confirmar=E.descartar,
        aberto=E.confirmar_descarte,
        ao_mudar=E.mudar_descarte,
        voltar="Continuar editando",
    )


def create_automation_slideover() -> rx.Component:
    return rx.fragment(
        rx.dialog.root(
            rx.dialog.content(
                rx.el.div(
                    _cabecalho(),
                    rx.el.div(_gatilho(), _envio(), _etapas(), class_name="wa-wpp-painel-corpo"),
                    _rodape(),
                    class_name="wa-wpp-painel-form",
                ),
                class_name="wa-wpp-painel",
                aria_describedby=None,
            ),
            open=E.painel_aberto,
            on_open_change=E.mudar_painel,
        ),
        _confirmar_descarte(),
    )
