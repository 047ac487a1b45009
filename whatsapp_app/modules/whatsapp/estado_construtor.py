"""The slide-over builder of ``EstadoWhatsapp``: open (new / edit), the form's fields, the
discard confirmation, the "same stage" warning and the optimistic save.

Validation is the service's: the form only turns what was typed into the payload (a delay
typed as "2" "dias" becomes 2880 minutes) and ``AutomacaoEntrada`` says what is wrong.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import reflex as rx
from pydantic import ValidationError

from whatsapp_app import cadastro_automacoes, db, painel_whatsapp
from whatsapp_app.models import Perfil
from whatsapp_app.modules.whatsapp.estado_etapas import minutos_da_etapa
from whatsapp_app.modules.whatsapp.modelos import erros_modelo, modelo_da_etapa
from whatsapp_app.modules.whatsapp.tipos import (
    FOCAR_PRIMEIRO_ERRO,
    PERFIS_GESTAO,
    ROTULOS_REENTRADA,
    EtapaForm,
    FluxoDados,
    InstanciaDados,
    campos_amigaveis,
    etapa_vazia,
    fluxo_dados,
    unidade_de,
)
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import (
    MAX_ATRASO_MINUTOS,
    AutomacaoAtualizacao,
    AutomacaoEntrada,
    ErroApp,
    erro_de_validacao,
)

if TYPE_CHECKING:
    from whatsapp_app.auth import Contexto

ERRO_ATRASO_INTEIRO = "Informe um número inteiro (0 ou mais)."
ERRO_ATRASO_FAIXA = f"O atraso deve ficar entre 0 min e {MAX_ATRASO_MINUTOS // 1440} dias."


class MixinConstrutor(rx.State, mixin=True):
    flag_construtor: bool = True
    painel_aberto: bool = False
    editando_id: str = ""
    form_nome: str = ""
    form_estagio: str = ""
    form_instancia: str = ""
    form_reentrada: str = "uma_vez"
    form_cancelar: bool = True
    form_ativo: bool = True
    erros: dict[str, str] = {}
    salvando: bool = False
    confirmar_descarte: bool = False
    _rascunho_inicial: str = ""
    # Other ACTIVE automations on the chosen stage and instance (a non-blocking warning).
    concorrentes: list[str] = []

    if TYPE_CHECKING:  # fields and helpers of EstadoWhatsapp / EstadoSessao / other mixins
        etapas: list[EtapaForm]
        instancias: list[InstanciaDados]
        fluxos: list[FluxoDados]
        fluxo_salvo_id: str
        form_parar: bool
        instancia_cloud: bool

        def contexto(self, *perfis: Perfil) -> Contexto: ...
        def _recarregar(self) -> None: ...
        def _pedir_modelos(self) -> Any: ...

    @rx.var(cache=True)
    def aviso_mesmo_estagio(self) -> str:
        if not self.concorrentes:
            return ""
        nomes = ", ".join(f"“{n}”" for n in self.concorrentes)
        sujeito = "A automação ativa" if len(self.concorrentes) == 1 else "As automações ativas"
        verbo = "já dispara" if len(self.concorrentes) == 1 else "já disparam"
        return (
            f"{sujeito} {nomes} {verbo} neste estágio pela mesma instância: "
            "o lead receberá as duas sequências."
        )

    # --- open / close ----------------------------------------------------------------------------

    def _rascunho(self) -> str:
        return json.dumps(
            [
                self.form_nome,
                self.form_estagio,
                self.form_instancia,
                self.form_reentrada,
                self.form_cancelar,
                self.form_ativo,
                self.form_parar,
                [
                    [
                        e["atraso"],
                        e["unidade"],
                        e["mensagem"],
                        e["modelo_chave"],
                        [p["valor"] for p in e["parametros"]],
                    ]
                    for e in self.etapas
                ],
            ]
        )

    def _abrir_painel(self) -> None:
        self.erros = {}
        self.confirmar_descarte = False
        self._rascunho_inicial = self._rascunho()
        self._conferir_concorrentes()
        self.painel_aberto = True

    def _conferir_concorrentes(self) -> None:
        """The service says which other active automations fire on the same stage/instance."""
        if not (self.form_ativo and self.form_estagio and self.form_instancia):
            self.concorrentes = []
            return
        contexto = self.contexto(*PERFIS_GESTAO)
        with db.sessao() as s:
            self.concorrentes = painel_whatsapp.concorrentes_no_estagio(
                s,
                id_empresa=contexto.id_empresa,
                id_estagio=self.form_estagio,
                id_instancia=self.form_instancia,
                exceto=self.editando_id,
            )

    @rx.event
    def abrir_nova(self):
        self.contexto(*PERFIS_GESTAO)
        if not self.flag_construtor:
            return
        self.editando_id = ""
        self.form_nome = ""
        self.form_estagio = ""
        self.form_instancia = self.instancias[0]["id"] if len(self.instancias) == 1 else ""
        self.form_reentrada = "uma_vez"
        self.form_cancelar = True
        self.form_ativo = True
        self.form_parar = True
        self.etapas = [etapa_vazia()]
        self._abrir_painel()
        return self._pedir_modelos()

    @rx.event
    def abrir_edicao(self, id_automacao: str):
        contexto = self.contexto(*PERFIS_GESTAO)
        if not self.flag_construtor:
            return
        with db.sessao() as s:
            dados = cadastro_automacoes.automacao_publica(
                s,
                cadastro_automacoes.obter_automacao(
                    sessao=s, id_empresa=contexto.id_empresa, id_automacao=id_automacao
                ),
            )
        self.editando_id = dados["id"]
        self.form_nome = dados["nome"]
        self.form_estagio = dados["id_estagio_trigger"]
        self.form_instancia = dados["id_whatsapp_instancia"]
        self.form_reentrada = dados["reentrada"]
        self.form_cancelar = bool(dados["cancelar_ao_sair"])
        self.form_ativo = bool(dados["ativo"])
        self.form_parar = bool(dados.get("parar_ao_responder", True))
        self.etapas = [
            etapa_vazia(
                *unidade_de(e["atraso_minutos"]), mensagem=e["mensagem"], modelo=e.get("modelo")
            )
            for e in dados["etapas"]
        ] or [etapa_vazia()]
        self._abrir_painel()
        return self._pedir_modelos()

    @rx.event
    def mudar_painel(self, aberto: bool):
        """Esc, the close button or a click outside: ask first when there are unsaved edits."""
        if aberto:
            self.painel_aberto = True
            return
        if self.salvando:
            return
        if self._rascunho() != self._rascunho_inicial:
            self.confirmar_descarte = True
            return
        self.painel_aberto = False

    @rx.event
    def descartar(self):
        self.confirmar_descarte = False
        self.painel_aberto = False
        self.erros = {}

    @rx.event
    def mudar_descarte(self, aberto: bool):
        self.confirmar_descarte = aberto

    # --- fields ----------------------------------------------------------------------------------

    def _sem_erro(self, *campos: str) -> None:
        if any(c in self.erros for c in campos):
            self.erros = {k: v for k, v in self.erros.items() if k not in campos}

    @rx.event
    def definir_nome(self, valor: str):
        self.form_nome = valor
        self._sem_erro("nome")

    @rx.event
    def definir_estagio(self, valor: str):
        self.form_estagio = valor
        self._sem_erro("id_estagio_trigger")
        self._conferir_concorrentes()

    @rx.event
    def definir_instancia(self, valor: str):
        self.form_instancia = valor
        self._sem_erro("id_whatsapp_instancia")
        self._conferir_concorrentes()
        return self._pedir_modelos()

    @rx.event
    def definir_reentrada(self, valor: str | list[str]):
        valor = valor[0] if isinstance(valor, list) else valor
        if valor in ROTULOS_REENTRADA:
            self.form_reentrada = valor

    @rx.event
    def definir_cancelar(self, valor: bool):
        self.form_cancelar = bool(valor)

    @rx.event
    def definir_ativo(self, valor: bool):
        self.form_ativo = bool(valor)
        self._conferir_concorrentes()

    # --- validation and save -----------------------------------------------------------------

    def _mostrar_erros(self, campos: dict[str, str]) -> None:
        self.erros = {k: v for k, v in campos.items() if not k.startswith("etapas.")}
        etapas = [dict(e) for e in self.etapas]
        for i, etapa in enumerate(etapas):
            etapa["erro_atraso"] = campos.get(f"etapas.{i}.atraso_minutos", "")
            etapa["erro_mensagem"] = campos.get(f"etapas.{i}.mensagem", "")
            etapa["erro_modelo"] = next(
                (v for k, v in campos.items() if k.startswith(f"etapas.{i}.modelo")), ""
            )
        self.etapas = etapas  # type: ignore[assignment]
        outros = [
            v
            for k, v in campos.items()
            if k.startswith("etapas.")
            and not k.endswith((".atraso_minutos", ".mensagem"))
            and ".modelo" not in k
        ]
        if outros and "etapas" not in self.erros:
            self.erros = {**self.erros, "etapas": outros[0]}

    def _validar(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The payload for the service, and field errors keyed like ``etapas.0.mensagem``: the
        rules are ``AutomacaoEntrada``'s; here only what was typed becomes the payload."""
        erros: dict[str, str] = {}
        etapas = []
        for i, e in enumerate(self.etapas):
            minutos = minutos_da_etapa(e)
            if minutos is None:
                erros[f"etapas.{i}.atraso_minutos"] = ERRO_ATRASO_INTEIRO
            etapa: dict[str, Any] = {
                "ordem": i + 1,
                "atraso_minutos": minutos or 0,
                "mensagem": e["mensagem"],
            }
            # Templates only matter on the Cloud API (Evolution and the simulator ignore them).
            if self.instancia_cloud and e["modelo_nome"]:
                etapa["modelo"] = modelo_da_etapa(e)
                if erro := erros_modelo(e):
                    erros[f"etapas.{i}.modelo"] = erro
            etapas.append(etapa)
        dados: dict[str, Any] = {
            "nome": self.form_nome,
            "id_estagio_trigger": self.form_estagio,
            "id_whatsapp_instancia": self.form_instancia,
            "ativo": self.form_ativo,
            "reentrada": self.form_reentrada,
            "cancelar_ao_sair": self.form_cancelar,
            "parar_ao_responder": self.form_parar,
            "etapas": etapas,
        }
        try:
            AutomacaoEntrada.model_validate(dados)
        except ValidationError as exc:
            valores = {
                **dados,
                **{f"etapas.{i}.mensagem": e["mensagem"] for i, e in enumerate(etapas)},
            }
            for campo, mensagem in campos_amigaveis(erro_de_validacao(exc).campos, valores).items():
                # The service counts minutes; the form speaks in the unit that was typed.
                if campo.endswith(".atraso_minutos"):
                    mensagem = ERRO_ATRASO_FAIXA
                erros.setdefault(campo, mensagem)
        return dados, erros

    def _dados_otimistas(self, dados: dict[str, Any], id_linha: str) -> FluxoDados:
        anterior = next((f for f in self.fluxos if f["id"] == id_linha), None)
        contagem = anterior if anterior is not None else painel_whatsapp.CONTAGEM_VAZIA
        return fluxo_dados(
            {**dados, "id": id_linha},
            contagem,
            atualizado_em=agora().isoformat(),
            salvando=True,
        )

    @rx.event
    def salvar(self, _formulario: dict[str, Any] | None = None):
        """Validate (instant inline errors), then save optimistically: the row shows up
        "Salvando…" at once, the panel closes, and reopens with the errors if the server refuses.
        After saving, the list scrolls to the row (or says the filters hide it)."""
        contexto = self.contexto(*PERFIS_GESTAO)
        if self.salvando:
            return
        dados, erros = self._validar()
        if erros:
            self._mostrar_erros(erros)
            yield FOCAR_PRIMEIRO_ERRO
            return
        self._mostrar_erros({})
        anterior = copy.deepcopy(self.fluxos)
        editando = self.editando_id
        linha = self._dados_otimistas(dados, editando or "salvando")
        if editando:
            self.fluxos = [linha if f["id"] == editando else f for f in self.fluxos]
        else:
            self.fluxos = [*self.fluxos, linha]
        self.salvando = True
        self.painel_aberto = False
        yield
        try:
            with db.sessao() as s:
                if editando:
                    automacao, _ = cadastro_automacoes.atualizar_automacao(
                        sessao=s,
                        id_empresa=contexto.id_empresa,
                        id_automacao=editando,
                        dados=AutomacaoAtualizacao.model_validate(dados),
                    )
                else:
                    automacao = cadastro_automacoes.criar_automacao(
                        sessao=s,
                        id_empresa=contexto.id_empresa,
                        dados=AutomacaoEntrada.model_validate(dados),
                    )
                id_salvo = automacao.id
        except ErroApp as exc:
            self.fluxos = anterior
            self._mostrar_erros(exc.campos or {"geral": exc.mensagem})
            self.painel_aberto = True
            yield rx.toast.error(f"A automação não foi salva: {exc.mensagem}")
            yield FOCAR_PRIMEIRO_ERRO
            return
        finally:
            self.salvando = False
        self._recarregar()
        self._rascunho_inicial = self._rascunho()
        self.fluxo_salvo_id = id_salvo
        yield rx.toast.success(
            f"Automação “{linha['nome']}” " + ("atualizada." if editando else "criada.")
        )
        yield rx.scroll_to(f"fluxo-{id_salvo}")
