"""Response models: what the REST API answers and the UI reads, one ``*Publico`` per resource.

Request models (``*Entrada``, ``*Atualizacao``) and their constraints live in ``validacoes``;
these only document and shape the output, so they hold no validation rules beyond the types.
No model here has a field for a secret: instance credentials reach the API only through
``instancias._config_publica`` (masked), never as a column of these models.

Instants are ISO 8601 strings exactly as ``datetime.isoformat()`` writes them (``+00:00``,
not pydantic's ``Z``): the UI and older clients parse that form. Every error, whatever the
status, is ``RespostaErro``; ``erros(...)`` documents the statuses a route can answer with it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    WithJsonSchema,
    computed_field,
)

from whatsapp_app.models import (
    Perfil,
    Provedor,
    Reentrada,
    StatusAgendamento,
    StatusDisparoManual,
    StatusEntrega,
)
from whatsapp_app.providers.base import StatusConexao
from whatsapp_app.validacoes import formatar_telefone


def _iso(valor: datetime) -> str:
    return valor.isoformat()


DataHora = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]

T = TypeVar("T")


class Publico(BaseModel):
    """Built from ORM rows (attributes) or from the dicts the serializers hand out (FastAPI
    validates those again against the route's model, so a model must read back its own dump)."""

    model_config = ConfigDict(from_attributes=True)


class ComDerivados:
    """A row plus values it has no column for (computed from columns that are not public,
    or by a service), for ``Modelo.model_validate``: attributes are read with ``getattr``, so
    the row's lazy attributes still load."""

    def __init__(self, linha: Any, **derivados: Any) -> None:
        self._linha = linha
        self._derivados = derivados

    def __getattr__(self, nome: str) -> Any:
        if nome.startswith("_"):
            raise AttributeError(nome)
        if nome in self._derivados:
            return self._derivados[nome]
        return getattr(self._linha, nome)


# --- errors --------------------------------------------------------------------------------------


class DetalheErro(BaseModel):
    codigo: str = Field(description="Código estável, em snake_case (ex.: nao_encontrado).")
    mensagem: str = Field(description="Texto em pt-BR para mostrar ao usuário.")
    campos: dict[str, str] | None = Field(
        default=None,
        exclude_if=lambda campos: campos is None,  # absent, not null, as the handlers write it
        description="Só em erros de validação (422): mensagem por campo.",
    )


class RespostaErro(BaseModel):
    """The one error shape of every 4xx/5xx (contract.md section 4)."""

    erro: DetalheErro


_DESCRICOES_ERRO: dict[int, str] = {
    400: "O corpo não pôde ser lido como texto (ex.: bytes fora de UTF-8).",
    401: "Sem sessão válida (ou token inválido).",
    403: "O perfil não permite esta ação, ou a origem da chamada com cookie foi recusada.",
    404: "Registro inexistente ou de outra empresa.",
    409: "O estado atual do registro não permite esta ação.",
    413: "O corpo da requisição passa do limite.",
    422: "Dados inválidos (inclui caracteres de controle); campos traz o motivo por campo.",
    429: "Tentativas demais; aguarde o tempo de Retry-After.",
    502: "O provedor do WhatsApp falhou ou recusou a ação.",
    503: "Serviço indisponível.",
}
# Every /api route can answer these: the input layer (api/seguranca.py) refuses oversized
# bodies and control characters before routing.
ERROS_DE_ENTRADA = (413, 422)


def erros(*status: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status answers ``RespostaErro``. Having 422 here also
    keeps FastAPI from documenting its own ``HTTPValidationError``, which we never send."""
    return {
        codigo: {"model": RespostaErro, "description": _DESCRICOES_ERRO[codigo]}
        for codigo in sorted({*status, *ERROS_DE_ENTRADA})
    }


def erros_json(*status: int) -> dict[int | str, dict[str, Any]]:
    """``erros`` for a route whose success is not JSON (FastAPI would file the error schema
    under the route's own media type): the same schema, by reference, as application/json."""
    referencia = {"$ref": "#/components/schemas/RespostaErro"}
    return {
        codigo: {
            "description": _DESCRICOES_ERRO[codigo],
            "content": {"application/json": {"schema": referencia}},
        }
        for codigo in sorted({*status, *ERROS_DE_ENTRADA})
    }


def texto_puro(descricao: str) -> dict[int | str, dict[str, Any]]:
    """The 200 of a ``text/plain`` route."""
    return {
        200: {"description": descricao, "content": {"text/plain": {"schema": {"type": "string"}}}}
    }


# --- shared shapes -------------------------------------------------------------------------------


class Pagina(BaseModel, Generic[T]):
    """One page of a list (contract.md section 7)."""

    itens: list[T]
    proximo_cursor: str | None = Field(
        description="Passe como cursor para a próxima página; null na última."
    )
    total: int = Field(
        ge=0,
        description="Quantos registros os filtros encontram, contados até 10.000 "
        "(acima disso total é 10.000 e total_exato é false).",
    )
    total_exato: bool = Field(
        default=True, description="false quando há mais registros que o total informado."
    )


class Ok(BaseModel):
    ok: bool


class Saude(BaseModel):
    status: Literal["ok", "degradado"]
    db: Literal["ok", "erro"]


# --- auth (api/auth.py) ---------------------------------------------------------------------------


class RespostaLogin(BaseModel):
    token: str = Field(description="Token de sessão para Authorization: Bearer.")
    perfil: Perfil
    id_empresa: str


class SessaoIniciada(BaseModel):
    """The browser login: the token goes only in the HttpOnly cookie."""

    ok: bool
    perfil: Perfil


class UsuarioPublico(BaseModel):
    id: str
    nome: str
    email: str
    perfil: Perfil
    id_empresa: str
    empresa: str = Field(description="Nome da empresa.")


# --- company and stages ---------------------------------------------------------------------------


class JanelaEnvioPublica(Publico):
    inicio: str = Field(description="HH:MM, no fuso da empresa.")
    fim: str = Field(description="HH:MM, no fuso da empresa.")
    dias_semana: list[int] = Field(description="0 = segunda ... 6 = domingo.")


class EmpresaPublica(Publico):
    id: str
    nome: str
    fuso_horario: str
    janela_envio: JanelaEnvioPublica | None = Field(description="null: sem restrição de horário.")
    palavras_optout: list[str] = Field(description="As palavras em vigor (as padrão se vazio).")


class EstagioPublico(Publico):
    id: str
    nome: str
    ordem: int
    cor: str


# --- leads ----------------------------------------------------------------------------------------


class LeadPublico(Publico):
    id: str
    nome: str
    telefone: str = Field(description="E.164.")
    id_estagio: str
    id_responsavel: str | None
    criado_em: DataHora
    atualizado_em: DataHora
    optout_em: DataHora | None
    ultima_resposta_em: DataHora | None
    # Not a computed field: it depends on ``conversa_lida_em``, which is not public, so this
    # model could not recompute it from its own dump. ``leads.lead_publico`` derives it.
    resposta_nao_lida: bool = Field(description="O lead escreveu desde a última leitura.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def telefone_formatado(self) -> str:
        return formatar_telefone(self.telefone)


class AgendamentoPublico(Publico):
    id: str
    id_lead: str
    id_whatsapp_automacao: str
    id_etapa: str
    id_estagio_trigger: str
    chave_idempotencia: str
    status: StatusAgendamento
    agendado_para: DataHora
    tentativas: int
    ultimo_erro: str | None
    enviado_em: DataHora | None
    provider_message_id: str | None
    motivo_cancelamento: str | None
    criado_em: DataHora
    atualizado_em: DataHora


class LeadDetalhe(LeadPublico):
    agendamentos: list[AgendamentoPublico] = Field(description="A linha do tempo do WhatsApp.")


class MovimentoLead(BaseModel):
    ok: bool
    noop: bool = Field(description="true quando o lead já estava no estágio (nada muda).")
    id_estagio: str
    agendamentos_criados: int
    agendamentos_cancelados: int


class _MensagemBase(Publico):
    id: str
    texto: str
    # The row calls it ``momento``; the serializers' dicts (read back by the API) ``enviado_em``.
    enviado_em: DataHora = Field(validation_alias=AliasChoices("momento", "enviado_em"))
    id_whatsapp_instancia: str
    nome_contato: str | None


class MensagemEntradaPublica(_MensagemBase):
    direcao: Literal["entrada"]


class MensagemSaidaPublica(_MensagemBase):
    direcao: Literal["saida"]
    id_agendamento: str | None = Field(description="null: mensagem que não veio de um follow-up.")
    status_entrega: StatusEntrega | None


MensagemPublica = Annotated[
    MensagemEntradaPublica | MensagemSaidaPublica, Field(discriminator="direcao")
]


class PaginaMensagens(Pagina[MensagemPublica]):
    """A page of a lead's conversation (a named class: the union's generated name is long)."""


LEITOR_MENSAGEM: TypeAdapter[MensagemEntradaPublica | MensagemSaidaPublica] = TypeAdapter(
    MensagemPublica
)


# --- automations ----------------------------------------------------------------------------------


class ModeloEtapaPublico(Publico):
    nome: str
    idioma: str
    variaveis: list[str] = Field(default_factory=list)
    corpo: str | None = None


class EtapaPublica(Publico):
    id: str
    ordem: int
    atraso_minutos: int
    mensagem: str
    modelo: ModeloEtapaPublico | None = Field(description="Modelo do Cloud API, ou null.")


class AutomacaoPublica(Publico):
    id: str
    nome: str
    evento: Literal["lead_stage_changed"]
    id_estagio_trigger: str
    id_whatsapp_instancia: str
    ativo: bool
    reentrada: Reentrada
    cancelar_ao_sair: bool
    parar_ao_responder: bool
    etapas: list[EtapaPublica] = Field(description="Etapas vigentes, por ordem.")
    criado_em: DataHora
    atualizado_em: DataHora


class AutomacaoAtualizada(AutomacaoPublica):
    agendamentos_cancelados: int = Field(
        description="Cancelados pela mudança (na retomada, os vencidos durante a pausa)."
    )
    agendamentos_pausados: int = Field(description="Pendentes que ficaram na fila, pausados.")
    agendamentos_retomados: int = Field(description="Pausados que voltaram a pendentes.")


class AutomacaoExcluida(BaseModel):
    ok: bool
    agendamentos_cancelados: int


class ResumoDespachoPublico(Publico):
    """The dispatch summary (contract.md section 4), plus ``cancelled``: jobs refused at send
    time because the lead opted out or replied."""

    claimed: int
    sent: int
    failed: int
    retried: int
    uncertain: int
    skipped_already_claimed: int
    cancelled: int


class DisparoManualPublico(Publico):
    """One "Disparar agora" of the history: who, when, what it did (the sum of its rounds)."""

    id: str
    status: StatusDisparoManual = Field(
        description="EM_ANDAMENTO, CONCLUIDO, CANCELADO (pedido do operador) ou FALHOU."
    )
    id_usuario: str | None = Field(description="Quem disparou (null pela API interna).")
    nome_usuario: str | None = Field(description="O nome de quem disparou, como era na hora.")
    id_whatsapp_instancia: str | None = Field(
        description="Só os envios desta instância; null para todas."
    )
    resumo: ResumoDespachoPublico
    iniciado_em: DataHora
    concluido_em: DataHora | None
    cancelamento_solicitado_em: DataHora | None
    motivo_falha: str | None = Field(description="Por que falhou, em pt-BR (só FALHOU).")


# --- Saúde do despacho (saude_despacho.py) ---


class ContagensDespacho(BaseModel):
    reivindicados: int = Field(
        description="Envios que um despachante assumiu (PENDENTE → PROCESSANDO)."
    )
    enviados: int = Field(description="Envios aceitos pelo provedor.")
    duplicados_bloqueados: int = Field(
        description="Agendamentos repetidos recusados pela chave de idempotência."
    )
    reivindicacoes_perdidas: int = Field(
        description="Envios que outro despachante assumiu primeiro (disputa perdida)."
    )
    recuperados: int = Field(description="Envios de um despachante que parou, retomados.")
    incertos: int = Field(description="Envios sem confirmação do provedor (INCERTO).")
    cancelados_resposta: int = Field(description="Envios cancelados porque o lead respondeu.")
    cancelados_optout: int = Field(description="Envios cancelados porque o lead se descadastrou.")


class PontoHoraDespacho(BaseModel):
    inicio: datetime = Field(description="Início da hora (UTC).")
    contagens: ContagensDespacho


class PontoDiaDespacho(BaseModel):
    dia: date = Field(description="Dia no fuso horário da empresa.")
    contagens: ContagensDespacho


class SaudeDespachoPublica(BaseModel):
    gerado_em: datetime
    fuso_horario: str
    ultimas_24h: ContagensDespacho
    ultimos_7_dias: ContagensDespacho
    por_hora: list[PontoHoraDespacho] = Field(description="As últimas 24 horas, da mais antiga.")
    por_dia: list[PontoDiaDespacho] = Field(description="Os últimos 7 dias, do mais antigo.")


class FlagPublica(BaseModel):
    ativo: bool
    origem: Literal["ambiente", "empresa", "padrao"]
    descricao: str


# --- instances ------------------------------------------------------------------------------------

ValorConfig = str | int | float | bool | None


class FilaInstancia(BaseModel):
    pendentes: int
    processando: int
    enviados_24h: int
    erros_24h: int
    incertos: int
    vencidos: int = Field(description="Pendentes cuja hora já chegou (vencidos agora).")


class StatusInstanciaPublico(Publico):
    status: StatusConexao
    ultima_sincronizacao: DataHora | None
    erro_conexao: str | None
    fila: FilaInstancia


class InstanciaPublica(Publico):
    id: str
    nome: str
    provider: Provedor
    status: StatusConexao
    ultima_sincronizacao: DataHora | None
    erro_conexao: str | None
    config: dict[str, ValorConfig] | None = Field(
        description="A configuração do provedor com os segredos mascarados (••••1234); "
        "null quando não pode ser lida."
    )
    webhook_url: str
    webhook_configurado: bool | None = Field(
        description="null no Cloud API, cujo webhook se configura no painel da Meta."
    )
    criado_em: DataHora


class ConexaoInstancia(BaseModel):
    status: StatusConexao
    qr_base64: str | None = Field(default=None, description="PNG em base64, sem prefixo data:.")
    pairing_code: str | None = None


class AcaoInstancia(BaseModel):
    ok: bool
    status: StatusConexao


class InstanciaExcluida(BaseModel):
    ok: bool
    agendamentos_cancelados: int
    automacoes_desativadas: int


class ModeloMensagem(BaseModel):
    """An approved Cloud API template."""

    nome: str
    idioma: str
    corpo: str
    variaveis: int = Field(description="Quantas variáveis distintas o corpo usa.")
    categoria: str | None


# --- webhooks -------------------------------------------------------------------------------------


class ResultadoWebhookEvolution(BaseModel):
    ok: bool
    resultado: str = Field(description="O que a entrega causou (ex.: status_aplicado, ignorado).")


class ResultadoWebhookMeta(BaseModel):
    ok: bool
    aplicados: int
    recebidas: int
    ignorados: int
