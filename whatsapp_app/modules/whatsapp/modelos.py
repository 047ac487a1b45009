"""The builder's conversation options: "Parar quando o lead responder" and, on a Cloud API
instance, each step's approved template (sent outside the 24-hour window).

``MixinModelos`` is inherited by ``EstadoWhatsapp``. The instance's templates come from
``modelos_cloud.listar_modelos`` (a Graph API call: a background event, off the state lock), once
per instance per tab. Each template's body parameters ``{{1}}..{{n}}`` are filled from the
message variables: one of ``{{nome}}``, ``{{primeiro_nome}}``, ``{{empresa}}``, ``{{estagio}}``
or free text containing them. The preview fills the body for the sample lead. Evolution and the
simulator have no 24-hour rule: no template UI there, and no ``modelo`` saved.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, TypedDict

import reflex as rx

from whatsapp_app import db, modelos_cloud
from whatsapp_app.envio import VARIAVEIS_MODELO, preencher_modelo, renderizar_mensagem
from whatsapp_app.logs import logger
from whatsapp_app.models import Perfil
from whatsapp_app.validacoes import ErroApp

if TYPE_CHECKING:
    from whatsapp_app.auth import Contexto

_log = logger("ui.whatsapp.modelos")

PROVEDOR_COM_MODELOS = "cloud_api"
MODO_LIVRE = "livre"
SEM_MODELO = "nenhum"  # the picker's "no template" item (Radix items cannot be "")
TOKENS_VARIAVEIS = tuple("{{" + v + "}}" for v in VARIAVEIS_MODELO)
AVISO_SEM_MODELO = "Fora da janela de 24 h esta etapa não será enviada: escolha um modelo aprovado"
ERRO_MODELOS = "Não foi possível carregar os modelos desta instância. Tente novamente."
ERRO_PARAMETRO = "Preencha a variável {{%d}} do modelo."
LEAD_EXEMPLO = "Mariana Souza"

STATUS_CARREGANDO = "carregando"
STATUS_OK = "ok"
STATUS_ERRO = "erro"


class ModeloOpcao(TypedDict):
    chave: str  # "nome|idioma": one template in one language
    nome: str
    idioma: str
    corpo: str
    variaveis: int
    categoria: str
    rotulo: str


class ParametroForm(TypedDict):
    valor: str
    modo: str  # one of TOKENS_VARIAVEIS, or MODO_LIVRE (free text in an input)


class CamposModelo(TypedDict):
    """The template part of a builder step (``EtapaForm`` extends it)."""

    modelo_chave: str
    modelo_nome: str
    modelo_idioma: str
    modelo_corpo: str
    parametros: list[ParametroForm]
    erro_modelo: str


# --- pure helpers (display and form shaping only) --------------------------------------------


def chave_modelo(nome: str, idioma: str) -> str:
    return f"{nome}|{idioma}"


def opcao_modelo(publico: dict[str, Any]) -> ModeloOpcao:
    nome, idioma = str(publico["nome"]), str(publico.get("idioma") or "pt_BR")
    return {
        "chave": chave_modelo(nome, idioma),
        "nome": nome,
        "idioma": idioma,
        "corpo": str(publico.get("corpo") or ""),
        "variaveis": int(publico.get("variaveis") or 0),
        "categoria": str(publico.get("categoria") or ""),
        "rotulo": f"{nome} ({idioma})",
    }


def parametro(valor: str) -> ParametroForm:
    return {"valor": valor, "modo": valor if valor in TOKENS_VARIAVEIS else MODO_LIVRE}


def parametros_para(total: int, anteriores: list[str] | None = None) -> list[ParametroForm]:
    """``total`` parameters, keeping the values already typed; a new first one starts as the
    lead's first name (what most templates greet with)."""
    anteriores = anteriores or []
    valores = [
        anteriores[i] if i < len(anteriores) else ("{{primeiro_nome}}" if i == 0 else "")
        for i in range(total)
    ]
    return [parametro(v) for v in valores]


def campos_modelo(modelo: dict[str, Any] | None = None) -> CamposModelo:
    """The form fields of a step's stored ``modelo`` (or of no template)."""
    if not modelo or not modelo.get("nome"):
        return {
            "modelo_chave": "",
            "modelo_nome": "",
            "modelo_idioma": "",
            "modelo_corpo": "",
            "parametros": [],
            "erro_modelo": "",
        }
    nome, idioma = str(modelo["nome"]), str(modelo.get("idioma") or "pt_BR")
    return {
        "modelo_chave": chave_modelo(nome, idioma),
        "modelo_nome": nome,
        "modelo_idioma": idioma,
        "modelo_corpo": str(modelo.get("corpo") or ""),
        "parametros": [parametro(str(v)) for v in modelo.get("variaveis") or []],
        "erro_modelo": "",
    }


def previa_modelo(corpo: str, valores: list[str], *, nome: str, empresa: str, estagio: str) -> str:
    """What the sample lead would read: each parameter rendered, then put in the body."""
    return preencher_modelo(
        corpo,
        [renderizar_mensagem(v, nome=nome, empresa=empresa, estagio=estagio) for v in valores],
    )


def modelo_da_etapa(etapa: CamposModelo) -> dict[str, Any] | None:
    """The step's ``modelo`` payload for the service, or None without a template."""
    if not etapa["modelo_nome"]:
        return None
    return {
        "nome": etapa["modelo_nome"],
        "idioma": etapa["modelo_idioma"] or "pt_BR",
        "variaveis": [p["valor"] for p in etapa["parametros"]],
        "corpo": etapa["modelo_corpo"] or None,
    }


def erros_modelo(etapa: CamposModelo) -> str:
    """The first template parameter left empty, as a field error ("" when all are filled)."""
    for posicao, p in enumerate(etapa["parametros"], start=1):
        if not p["valor"].strip():
            return ERRO_PARAMETRO % posicao
    return ""


def mensagem_de_erro(exc: ErroApp) -> str:
    """A provider or validation error as one pt-BR sentence (the field's, when there is one)."""
    if exc.campos:
        return next(iter(exc.campos.values()))
    return exc.mensagem


def ler_modelos(id_empresa: str, id_instancia: str) -> list[ModeloOpcao]:
    """The instance's approved templates (runs in a worker thread: it calls the Graph API)."""
    with db.sessao() as s:
        publicos = modelos_cloud.listar_modelos(
            sessao=s, id_empresa=id_empresa, id_instancia=id_instancia
        )
    return [opcao_modelo(m) for m in publicos]


class MixinModelos(rx.State, mixin=True):
    """Builder state for "Parar quando o lead responder" and the Cloud API templates."""

    form_parar: bool = True
    modelos: list[ModeloOpcao] = []
    modelos_status: str = ""  # "" (no Cloud API instance) | carregando | ok | erro
    modelos_erro: str = ""
    modelos_instancia: str = ""
    _cache_modelos: dict[str, list[ModeloOpcao]] = {}
    _modelos_pedidos: list[str] = []

    if TYPE_CHECKING:  # fields and helpers of EstadoWhatsapp / EstadoSessao
        etapas: list[Any]
        instancias: list[Any]
        estagios: list[Any]
        form_instancia: str
        form_estagio: str
        nome_empresa: str

        def contexto(self, *perfis: Perfil) -> Contexto: ...

    # --- derived -----------------------------------------------------------------------------

    @rx.var(cache=True)
    def instancia_cloud(self) -> bool:
        """The chosen instance is on the Cloud API (templates and the 24-hour window apply)."""
        return any(
            i["id"] == self.form_instancia and i["provider"] == PROVEDOR_COM_MODELOS
            for i in self.instancias
        )

    @rx.var(cache=True)
    def previas_modelo(self) -> list[str]:
        """Each step's template body filled for the sample lead ("" without a template)."""
        if not any(
            i["id"] == self.form_instancia and i["provider"] == PROVEDOR_COM_MODELOS
            for i in self.instancias
        ):
            return ["" for _ in self.etapas]
        empresa = self.nome_empresa or "sua empresa"
        estagio = next(
            (e["nome"] for e in self.estagios if e["id"] == self.form_estagio), "Qualificado"
        )
        return [
            previa_modelo(
                e["modelo_corpo"] or f"[Modelo {e['modelo_nome']}]",
                [p["valor"] for p in e["parametros"]],
                nome=LEAD_EXEMPLO,
                empresa=empresa,
                estagio=estagio,
            )
            if e["modelo_nome"]
            else ""
            for e in self.etapas
        ]

    # --- internals -------------------------------------------------------------------------------

    def _trocar_etapa(self, indice: int, **valores: Any) -> None:
        if not 0 <= indice < len(self.etapas):
            return
        etapas = [dict(e) for e in self.etapas]
        etapas[indice].update(valores)
        self.etapas = etapas

    def _eh_cloud(self, id_instancia: str) -> bool:
        return any(
            i["id"] == id_instancia and i["provider"] == PROVEDOR_COM_MODELOS
            for i in self.instancias
        )

    def _conferir_modelos(self) -> None:
        """A step whose saved template is no longer approved on this instance says so."""
        chaves = {m["chave"] for m in self.modelos}
        etapas = [dict(e) for e in self.etapas]
        for etapa in etapas:
            if etapa["modelo_chave"] and etapa["modelo_chave"] not in chaves:
                etapa["erro_modelo"] = (
                    f"O modelo {etapa['modelo_nome']} não está entre os aprovados desta "
                    "instância. Escolha outro."
                )
        self.etapas = etapas

    def _pedir_modelos(self) -> Any:
        """After the instance changes (or the panel opens): the cached list, or a load."""
        id_instancia = self.form_instancia
        self.modelos_instancia = id_instancia
        self.modelos_erro = ""
        if not self._eh_cloud(id_instancia):
            self.modelos, self.modelos_status = [], ""
            return None
        if id_instancia in self._cache_modelos:
            self.modelos, self.modelos_status = self._cache_modelos[id_instancia], STATUS_OK
            self._conferir_modelos()
            return None
        self.modelos, self.modelos_status = [], STATUS_CARREGANDO
        return type(self).carregar_modelos(id_instancia)  # type: ignore[misc]

    # --- events ----------------------------------------------------------------------------------

    @rx.event
    def definir_parar(self, valor: bool):
        self.form_parar = bool(valor)

    @rx.event(background=True)
    async def carregar_modelos(self, id_instancia: str):
        """Fetch the instance's approved templates once (then they come from the cache)."""
        async with self:
            contexto = self.contexto(Perfil.ADMIN, Perfil.GESTOR)
            if id_instancia in self._modelos_pedidos:
                return  # already on its way
            self._modelos_pedidos = [*self._modelos_pedidos, id_instancia]
            if self.modelos_instancia == id_instancia:
                self.modelos_status, self.modelos_erro = STATUS_CARREGANDO, ""
        modelos: list[ModeloOpcao] | None = None
        erro = ""
        try:
            modelos = await asyncio.to_thread(ler_modelos, contexto.id_empresa, id_instancia)
        except ErroApp as exc:
            erro = mensagem_de_erro(exc)
        except Exception:
            _log.exception("modelos não carregados", extra={"id_instancia": id_instancia})
            erro = ERRO_MODELOS
        finally:
            async with self:
                self._modelos_pedidos = [i for i in self._modelos_pedidos if i != id_instancia]
                if modelos is not None:
                    self._cache_modelos = {**self._cache_modelos, id_instancia: modelos}
                if self.modelos_instancia == id_instancia:
                    if modelos is not None:
                        self.modelos, self.modelos_status = modelos, STATUS_OK
                        self._conferir_modelos()
                    else:
                        self.modelos, self.modelos_status = [], STATUS_ERRO
                        self.modelos_erro = erro or ERRO_MODELOS

    @rx.event
    def tentar_modelos_novamente(self):
        self._cache_modelos = {
            k: v for k, v in self._cache_modelos.items() if k != self.form_instancia
        }
        return self._pedir_modelos()

    @rx.event
    def escolher_modelo(self, indice: int, chave: str):
        if chave == SEM_MODELO:
            self._trocar_etapa(indice, **campos_modelo(None))
            return
        modelo = next((m for m in self.modelos if m["chave"] == chave), None)
        if modelo is None or not 0 <= indice < len(self.etapas):
            return
        anteriores = [p["valor"] for p in self.etapas[indice]["parametros"]]
        self._trocar_etapa(
            indice,
            modelo_chave=modelo["chave"],
            modelo_nome=modelo["nome"],
            modelo_idioma=modelo["idioma"],
            modelo_corpo=modelo["corpo"],
            parametros=parametros_para(modelo["variaveis"], anteriores),
            erro_modelo="",
        )

    def _parametro(self, indice: int, posicao: int) -> ParametroForm | None:
        if not 0 <= indice < len(self.etapas):
            return None
        parametros = self.etapas[indice]["parametros"]
        return parametros[posicao] if 0 <= posicao < len(parametros) else None

    def _gravar_parametro(self, indice: int, posicao: int, novo: ParametroForm) -> None:
        parametros = list(self.etapas[indice]["parametros"])
        parametros[posicao] = novo
        self._trocar_etapa(indice, parametros=parametros, erro_modelo="")

    @rx.event
    def definir_modo_parametro(self, indice: int, posicao: int, modo: str):
        """A variable picked in the select, or "Texto livre" (an input then takes the text,
        starting from the variable that was there so it can be extended)."""
        atual = self._parametro(indice, posicao)
        if atual is None:
            return
        if modo in TOKENS_VARIAVEIS:
            self._gravar_parametro(indice, posicao, {"valor": modo, "modo": modo})
        elif modo == MODO_LIVRE:
            self._gravar_parametro(indice, posicao, {"valor": atual["valor"], "modo": MODO_LIVRE})

    @rx.event
    def definir_valor_parametro(self, indice: int, posicao: int, valor: str):
        """Free text typed for a parameter (it stays free text while typing)."""
        if self._parametro(indice, posicao) is not None:
            self._gravar_parametro(indice, posicao, {"valor": valor[:200], "modo": MODO_LIVRE})
