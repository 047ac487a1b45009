"""Status cards (plan 4.4 A): one card per instance in a 1/2/3/4-column grid, live.

Each card: name + provider icon, the connectivity badge, the last sync, queue stats and the
quick actions (Conectar / Abrir QR / Reconectar). Also the QR dialog and "Nova instância".
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar, Var

from whatsapp_app.modules.whatsapp.components.connectivity_badge import connectivity_badge
from whatsapp_app.modules.whatsapp.components.instancia_dialogos import (
    dialogo_excluir,
    dialogo_renomear,
)
from whatsapp_app.modules.whatsapp.components.secao import topo_secao
from whatsapp_app.modules.whatsapp.state import EstadoWhatsapp
from whatsapp_app.modules.whatsapp.theme import (
    ESTILO_NUMERO_GRANDE,
    PROVEDOR_DESCONHECIDO,
    PROVEDORES,
    TAMANHO_QR,
)
from whatsapp_app.ui import tokens as t
from whatsapp_app.ui.componentes import cartao, erro_campo, esqueleto, estado_vazio

ID_TITULO = "secao-instancias"
GRADE = rx.breakpoints(initial="1", sm="2", md="3", lg="4")


def _icone_provider(provider: Var) -> rx.Component:
    def _icone(nome: str) -> rx.Component:
        return rx.icon(nome, size=18, aria_hidden="true", class_name="wa-wpp-icone-movel")

    return rx.center(
        rx.match(
            provider,
            *[(codigo, _icone(icone)) for codigo, (_r, icone) in PROVEDORES.items()],
            _icone(PROVEDOR_DESCONHECIDO[1]),
        ),
        class_name="wa-wpp-provider",
    )


def _estatistica(
    rotulo: str, valor: Var, destaque_erro: Var | bool = False, href: Var | str | None = None
) -> rx.Component:
    return rx.el.div(
        rx.el.dt(rotulo, class_name="wa-wpp-estat-rotulo"),
        rx.el.dd(
            valor if href is None else rx.el.a(valor, href=href, class_name="wa-wpp-estat-link"),
            class_name="wa-wpp-estat-valor",
            style=ESTILO_NUMERO_GRANDE,
            data_erro=rx.cond(destaque_erro, "1", "0"),
        ),
        class_name="wa-wpp-estat",
    )


def _acao_principal(inst: ObjectVar) -> rx.Component:
    nome = inst["nome"]
    return rx.match(
        inst["status"],
        (
            "conectado",
            rx.button(
                rx.icon("refresh-cw", size=14, aria_hidden="true"),
                "Reconectar",
                variant="soft",
                color_scheme="gray",
                size="2",
                on_click=EstadoWhatsapp.reconectar(inst["id"]),  # type: ignore[operator, misc]
                aria_label=f"Reconectar {nome}",
            ),
        ),
        (
            "conectando",
            rx.button(
                rx.icon("qr-code", size=14, aria_hidden="true"),
                "Abrir QR",
                variant="soft",
                size="2",
                on_click=EstadoWhatsapp.conectar(inst["id"]),  # type: ignore[operator, misc]
                aria_label=f"Abrir QR de {nome}",
            ),
        ),
        rx.button(
            rx.icon("plug-zap", size=14, aria_hidden="true"),
            "Conectar",
            size="2",
            on_click=EstadoWhatsapp.conectar(inst["id"]),  # type: ignore[operator, misc]
            aria_label=f"Conectar {nome}",
        ),
    )


def _menu(inst: ObjectVar) -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.icon_button(
                rx.icon("ellipsis", size=16),
                variant="ghost",
                color_scheme="gray",
                aria_label=f"Mais ações de {inst['nome']}",
            )
        ),
        rx.menu.content(
            rx.menu.item(
                rx.hstack(rx.icon("qr-code", size=14), rx.text("Abrir QR"), spacing="2"),
                on_select=EstadoWhatsapp.conectar(inst["id"]),  # type: ignore[operator, misc]
            ),
            rx.menu.item(
                rx.hstack(rx.icon("refresh-cw", size=14), rx.text("Reconectar"), spacing="2"),
                on_select=EstadoWhatsapp.reconectar(inst["id"]),  # type: ignore[operator, misc]
            ),
            rx.cond(
                inst["provider"] != "cloud_api",
                rx.fragment(
                    rx.menu.separator(),
                    rx.menu.item(
                        rx.hstack(rx.icon("unplug", size=14), rx.text("Desconectar"), spacing="2"),
                        color_scheme="red",
                        on_select=EstadoWhatsapp.desconectar(inst["id"]),  # type: ignore[operator, misc]
                    ),
                ),
            ),
            rx.cond(
                EstadoWhatsapp.eh_admin,
                rx.fragment(
                    rx.menu.separator(),
                    rx.menu.item(
                        rx.hstack(rx.icon("pencil", size=14), rx.text("Renomear"), spacing="2"),
                        on_select=EstadoWhatsapp.pedir_renomear(inst["id"]),  # type: ignore[operator, misc]
                    ),
                    rx.menu.item(
                        rx.hstack(rx.icon("trash-2", size=14), rx.text("Excluir"), spacing="2"),
                        color_scheme="red",
                        on_select=EstadoWhatsapp.pedir_exclusao_instancia(inst["id"]),  # type: ignore[operator, misc]
                    ),
                ),
            ),
            align="end",
        ),
    )


def _cartao_instancia(inst: ObjectVar) -> rx.Component:
    id_nome = f"instancia-{inst['id']}"
    return cartao(
        rx.el.div(
            _icone_provider(inst["provider"]),
            rx.el.div(
                rx.el.h3(inst["nome"], id=id_nome, class_name="wa-wpp-cartao-titulo wa-truncar"),
                rx.el.p(inst["rotulo_provider"], class_name="wa-wpp-meta wa-truncar"),
                class_name="wa-wpp-cartao-nome",
            ),
            rx.cond(EstadoWhatsapp.pode_gerir, _menu(inst)),
            class_name="wa-wpp-cartao-topo",
        ),
        rx.el.div(
            connectivity_badge(inst["status"]),
            rx.el.p(
                rx.icon("history", size=12, aria_hidden="true", flex_shrink="0"),
                rx.el.time(
                    inst["sincronizacao"],
                    title=inst["sincronizacao_completa"],
                    class_name="wa-num wa-truncar",
                ),
                class_name="wa-wpp-meta wa-wpp-sinc",
            ),
            class_name="wa-wpp-cartao-status",
        ),
        rx.el.dl(
            _estatistica("Pendentes", inst["pendentes"]),
            _estatistica("Processando", inst["processando"]),
            _estatistica("Enviados 24h", inst["enviados_24h"]),
            _estatistica(
                "Erros 24h",
                inst["erros_24h"],
                inst["tem_erros"].to(bool),
                href=f"/whatsapp/fila?status=ERRO&instancia={inst['id']}",
            ),
            _estatistica(
                "Incertos",
                inst["incertos"],
                inst["tem_incertos"].to(bool),
                href=f"/whatsapp/fila?status=INCERTO&instancia={inst['id']}",
            ),
            class_name="wa-wpp-estats",
            aria_label=f"Fila de {inst['nome']}",
        ),
        rx.el.p(
            rx.icon("message-circle-reply", size=14, aria_hidden="true", flex_shrink="0"),
            rx.el.span(inst["respostas_24h"], class_name="wa-num"),
            class_name="wa-wpp-meta wa-wpp-respostas",
            data_respostas=rx.cond(inst["tem_respostas"].to(bool), "1", "0"),
        ),
        rx.cond(
            (inst["erro_conexao"] != "") & (inst["status"] != "conectado"),
            rx.el.p(
                rx.icon("circle-alert", size=14, aria_hidden="true", flex_shrink="0"),
                rx.el.span(inst["erro_conexao"]),
                class_name="wa-wpp-cartao-erro",
            ),
        ),
        rx.cond(
            EstadoWhatsapp.pode_gerir,
            rx.el.div(_acao_principal(inst), class_name="wa-wpp-cartao-acoes"),
        ),
        class_name="wa-wpp-cartao",
        role="article",
        aria_labelledby=id_nome,
        data_status=inst["status"],
    )


def _esqueleto_cartao() -> rx.Component:
    return cartao(
        rx.vstack(
            rx.hstack(
                esqueleto("36px", "36px", border_radius=t.RAIO_2),
                rx.vstack(esqueleto("16px", "60%"), esqueleto("12px", "40%"), width="100%"),
                width="100%",
            ),
            esqueleto("12px", "70%"),
            rx.grid(*[esqueleto("40px") for _ in range(4)], columns="2", gap=t.ESPACO_3),
            esqueleto("32px", "50%"),
            spacing="3",
            width="100%",
        ),
        aria_hidden="true",
    )


def _botao_nova_instancia(variante: str = "soft") -> rx.Component:
    return rx.button(
        rx.icon("plus", size=16, aria_hidden="true"),
        "Nova instância",
        variant=variante,  # type: ignore[arg-type]
        size="2",
        on_click=EstadoWhatsapp.abrir_nova_instancia,
    )


def _ao_vivo() -> rx.Component:
    return rx.cond(
        EstadoWhatsapp.ao_vivo,
        rx.el.span(
            rx.box(class_name="wa-ponto wa-ponto-pulsando", color=rx.color("green", 9)),
            "Ao vivo",
            class_name="wa-wpp-ao-vivo",
            title="O status das instâncias se atualiza sozinho a cada poucos segundos.",
        ),
        rx.cond(
            ~EstadoWhatsapp.carregando,
            rx.el.button(
                rx.icon("refresh-cw", size=12, aria_hidden="true"),
                "Atualização pausada · retomar",
                on_click=EstadoWhatsapp.acompanhar,
                class_name="wa-wpp-ao-vivo wa-wpp-ao-vivo-pausado",
                type="button",
            ),
        ),
    )


def instances_list() -> rx.Component:
    return rx.el.section(
        topo_secao(
            "Instâncias",
            ID_TITULO,
            _ao_vivo(),
            acao=rx.cond(
                EstadoWhatsapp.eh_admin & (EstadoWhatsapp.instancias.length() > 0),  # type: ignore[attr-defined]
                _botao_nova_instancia(),
            ),
        ),
        rx.cond(
            EstadoWhatsapp.carregando,
            rx.grid(
                *[_esqueleto_cartao() for _ in range(3)],
                columns=GRADE,
                gap=t.ESPACO_4,
                width="100%",
            ),
            rx.cond(
                EstadoWhatsapp.instancias.length() > 0,  # type: ignore[attr-defined]
                rx.grid(
                    rx.foreach(EstadoWhatsapp.cartoes, _cartao_instancia),
                    columns=GRADE,
                    gap=t.ESPACO_4,
                    width="100%",
                ),
                estado_vazio(
                    "smartphone",
                    "Nenhuma instância de WhatsApp",
                    "Conecte um número para que as automações possam enviar os follow-ups.",
                    rx.cond(EstadoWhatsapp.eh_admin, _botao_nova_instancia("solid")),
                ),
            ),
        ),
        _dialogo_qr(),
        _dialogo_nova_instancia(),
        dialogo_renomear(),
        dialogo_excluir(),
        aria_labelledby=ID_TITULO,
        aria_busy=rx.cond(EstadoWhatsapp.carregando, "true", "false"),
        class_name="wa-wpp-secao",
    )


# --- QR dialog ---------------------------------------------------------------------------------


def _corpo_qr() -> rx.Component:
    conectado = EstadoWhatsapp.qr_status == "conectado"
    return rx.el.div(
        rx.cond(
            EstadoWhatsapp.qr_erro != "",
            rx.callout(
                EstadoWhatsapp.qr_erro,
                icon="circle-alert",
                color_scheme="red",
                size="1",
                width="100%",
                role="alert",
            ),
            rx.cond(
                conectado,
                rx.el.div(
                    rx.center(
                        rx.icon("circle-check", size=40, aria_hidden="true"),
                        class_name="wa-wpp-qr-ok",
                    ),
                    rx.el.p("Número conectado. Já pode enviar follow-ups.", style=t.ESTILO_CORPO),
                    class_name="wa-wpp-qr-estado",
                ),
                rx.cond(
                    EstadoWhatsapp.qr_imagem != "",
                    rx.image(
                        src=EstadoWhatsapp.qr_imagem,
                        alt=f"QR code para conectar {EstadoWhatsapp.qr_nome}",
                        width=TAMANHO_QR,
                        height=TAMANHO_QR,
                        class_name="wa-wpp-qr-imagem",
                    ),
                    rx.el.div(
                        esqueleto(TAMANHO_QR, TAMANHO_QR, border_radius=t.RAIO_3),
                        class_name="wa-wpp-qr-estado",
                    ),
                ),
            ),
        ),
        rx.cond(
            (EstadoWhatsapp.qr_codigo != "") & ~conectado,
            rx.el.p(
                "Ou use o código de pareamento ",
                rx.el.code(EstadoWhatsapp.qr_codigo, class_name="wa-wpp-codigo"),
                style=t.ESTILO_META,
            ),
        ),
        rx.el.div(
            connectivity_badge(EstadoWhatsapp.qr_status),
            rx.cond(
                EstadoWhatsapp.qr_status == "conectando",
                rx.el.span("O QR se renova sozinho enquanto aguarda.", style=t.ESTILO_META),
            ),
            class_name="wa-wpp-qr-status",
        ),
        class_name="wa-wpp-qr",
        aria_busy=rx.cond(EstadoWhatsapp.qr_carregando, "true", "false"),
    )


def _dialogo_qr() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                f"Conectar {EstadoWhatsapp.qr_nome}",
                style=t.ESTILO_TITULO_SECAO,
                margin_bottom=t.ESPACO_1,
            ),
            rx.dialog.description(
                "No celular, abra o WhatsApp › Aparelhos conectados › Conectar um aparelho e "
                "aponte a câmera para o código.",
                style=t.ESTILO_CORPO,
                margin_bottom=t.ESPACO_4,
            ),
            _corpo_qr(),
            rx.el.div(
                rx.dialog.close(
                    rx.button(
                        rx.cond(EstadoWhatsapp.qr_status == "conectado", "Concluir", "Fechar"),
                        variant="soft",
                        color_scheme="gray",
                    )
                ),
                class_name="wa-wpp-dialogo-rodape",
            ),
            max_width="400px",
        ),
        open=EstadoWhatsapp.qr_aberto,
        on_open_change=EstadoWhatsapp.mudar_qr,
    )


# --- "Nova instância" dialog ------------------------------------------------------------------

CAMPOS_CONFIG: dict[str, list[tuple[str, str, str, str]]] = {
    # provider → [(field, label, placeholder, input type)]
    "evolution": [
        ("base_url", "URL do servidor", "https://evolution.suaempresa.com", "url"),
        ("api_key", "API key", "", "password"),
        ("instance_name", "Nome da instância no Evolution", "vendas", "text"),
    ],
    "cloud_api": [
        ("phone_number_id", "Phone number ID", "123456789012345", "text"),
        ("access_token", "Access token", "", "password"),
        ("app_secret", "App secret", "", "password"),
        ("verify_token", "Verify token do webhook", "", "text"),
    ],
}


def _campo_texto(
    nome: str, rotulo: str, placeholder: str = "", tipo: str = "text", chave_erro: str = ""
) -> rx.Component:
    id_campo = f"nova-instancia-{nome}"
    erro = EstadoWhatsapp.instancia_erros.get(chave_erro or nome, "")  # type: ignore[attr-defined]
    return rx.el.div(
        rx.el.label(rotulo, html_for=id_campo, class_name="wa-wpp-rotulo"),
        rx.input(
            id=id_campo,
            name=nome,
            type=tipo,
            placeholder=placeholder,
            auto_complete="off",
            size="2",
            width="100%",
            aria_invalid=rx.cond(erro, "true", "false"),
            aria_describedby=f"{id_campo}-erro",
        ),
        erro_campo(id_campo, erro),
        class_name="wa-wpp-campo",
    )


def _campos_config(provider: str) -> rx.Component:
    return rx.fragment(
        *[
            _campo_texto(f"config_{campo}", rotulo, placeholder, tipo, f"config.{campo}")
            for campo, rotulo, placeholder, tipo in CAMPOS_CONFIG[provider]
        ]
    )


def _dialogo_nova_instancia() -> rx.Component:
    erro_geral = EstadoWhatsapp.instancia_erros.get("geral", "")  # type: ignore[attr-defined]
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                "Nova instância", style=t.ESTILO_TITULO_SECAO, margin_bottom=t.ESPACO_1
            ),
            rx.dialog.description(
                "Um número de WhatsApp que envia os follow-ups da empresa.",
                style=t.ESTILO_CORPO,
                margin_bottom=t.ESPACO_4,
            ),
            rx.form(
                rx.el.div(
                    _campo_texto("nome", "Nome", "Ex.: Comercial SP"),
                    rx.el.div(
                        rx.el.span("Provedor", class_name="wa-wpp-rotulo", id="provider-rotulo"),
                        rx.segmented_control.root(
                            *[
                                rx.segmented_control.item(rotulo, value=codigo)
                                for codigo, (rotulo, _i) in PROVEDORES.items()
                            ],
                            value=EstadoWhatsapp.instancia_provider,
                            on_change=EstadoWhatsapp.escolher_provider,
                            size="2",
                            width="100%",
                            aria_labelledby="provider-rotulo",
                        ),
                        rx.match(
                            EstadoWhatsapp.instancia_provider,
                            (
                                "simulador",
                                rx.el.p(
                                    "O simulador local não precisa de configuração: ótimo para "
                                    "testar as automações sem um número real.",
                                    class_name="wa-campo-ajuda",
                                ),
                            ),
                            (
                                "evolution",
                                rx.el.p(
                                    "Evolution API v2 auto-hospedada, pareada por QR code.",
                                    class_name="wa-campo-ajuda",
                                ),
                            ),
                            rx.el.p(
                                "API oficial da Meta. O webhook é configurado no painel do app.",
                                class_name="wa-campo-ajuda",
                            ),
                        ),
                        class_name="wa-wpp-campo",
                    ),
                    rx.match(
                        EstadoWhatsapp.instancia_provider,
                        ("evolution", _campos_config("evolution")),
                        ("cloud_api", _campos_config("cloud_api")),
                        rx.fragment(),
                    ),
                    rx.cond(
                        erro_geral,
                        rx.callout(erro_geral, icon="circle-alert", color_scheme="red", size="1"),
                    ),
                    rx.el.div(
                        rx.dialog.close(
                            rx.button(
                                "Cancelar", type="button", variant="soft", color_scheme="gray"
                            )
                        ),
                        rx.button(
                            "Criar instância",
                            type="submit",
                            loading=EstadoWhatsapp.instancia_salvando,
                        ),
                        class_name="wa-wpp-dialogo-rodape",
                    ),
                    class_name="wa-wpp-form",
                ),
                on_submit=EstadoWhatsapp.criar_instancia,
                reset_on_submit=False,
            ),
            max_width="480px",
        ),
        open=EstadoWhatsapp.instancia_aberta,
        on_open_change=EstadoWhatsapp.mudar_nova_instancia,
    )
