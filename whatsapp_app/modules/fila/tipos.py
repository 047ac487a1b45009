"""What the send queue's State parts share: the status chips, the operator actions' wording,
the row shapes and the date-range helpers (no State here)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TypedDict

from whatsapp_app import cadastro_automacoes, paginacao
from whatsapp_app.ui.formatacao import fuso_da_empresa, milhar
from whatsapp_app.validacoes import ErroValidacao

ROTA = "/whatsapp/fila"
TAMANHO_PAGINA = 25

# Status key → (chip label, Radix colour, lucide icon): colour is never alone (ui.md).
STATUS: dict[str, tuple[str, str, str]] = {
    "PENDENTE": ("Pendente", "gray", "clock"),
    "PAUSADO": ("Pausado", "gray", "pause"),
    "PROCESSANDO": ("Processando", "blue", "loader"),
    "ENVIADO": ("Enviado", "green", "check"),
    "ERRO": ("Erro", "red", "circle-x"),
    "INCERTO": ("Incerto", "amber", "circle-help"),
    "CANCELADO": ("Cancelado", "gray", "ban"),
}
STATUS_FILTRO = [s for s in STATUS if s in cadastro_automacoes.STATUS_VALIDOS]
ENTREGA = {"enviado": "Enviada", "entregue": "Entregue", "lido": "Lida", "falhou": "Falhou"}
# Action → (button verb, toast noun in the past tense); which statuses it applies to is
# ``operacao.acao_se_aplica``'s (the service's rule).
ACOES: dict[str, tuple[str, tuple[str, str]]] = {
    "reenviar": ("Reenviar", ("reenviado", "reenviados")),
    "marcar_enviado": (
        "Marcar como enviado",
        ("marcado como enviado", "marcados como enviados"),
    ),
    "cancelar": ("Cancelar envio", ("cancelado", "cancelados")),
}
EXPLICACAO_INCERTO = (
    "O provedor não confirmou se a mensagem saiu. Confira no WhatsApp do número se o lead "
    "recebeu: se recebeu, marque como enviado; se não, reenvie."
)
MOTIVO_SEM_PERMISSAO = "Só administradores e gestores podem reenviar, marcar ou cancelar envios."

# The date range bounds the due time or the sent time (the API's de/ate or enviado_de/ate).
PERIODO_VENCIMENTO = "agendado"
PERIODO_ENVIO = "enviado"


def contagem_limitada(n: int) -> str:
    """A bounded count as the chips show it: "10.000+" above ``paginacao.LIMITE_CONTAGEM``."""
    teto = paginacao.LIMITE_CONTAGEM
    return f"{milhar(teto)}+" if n > teto else milhar(n)


class Opcao(TypedDict):
    id: str
    nome: str


class ChipStatus(TypedDict):
    valor: str
    rotulo: str
    cor: str
    icone: str
    contagem: str
    ativo: bool


class LinhaExibida(TypedDict):
    id: str
    status: str
    rotulo_status: str
    cor_status: str
    icone_status: str
    nome_lead: str
    telefone: str
    etapa: str
    estagio: str
    instancia: str
    mensagem: str
    agendado: str
    enviado: str
    tentativas: str
    entrega: str
    erro: str
    motivo: str
    incerto: bool
    pode_reenviar: bool
    pode_marcar: bool
    pode_cancelar: bool
    selecionado: bool


def intervalo_do_dia(de: str, ate: str, fuso: str) -> tuple[datetime | None, datetime | None]:
    """``AAAA-MM-DD`` inputs → the start of ``de`` and the end of ``ate`` in the company's zone."""
    zona = fuso_da_empresa(fuso)
    try:
        inicio = datetime.combine(datetime.fromisoformat(de).date(), time.min, zona) if de else None
        fim = (
            datetime.combine(datetime.fromisoformat(ate).date(), time.min, zona)
            + timedelta(days=1)
            - timedelta(microseconds=1)
            if ate
            else None
        )
    except ValueError:
        raise ErroValidacao({"de": "Data inválida."}) from None
    return inicio, fim


def data_iso(valor: object) -> str:
    """A date input or query value as ``AAAA-MM-DD``, or "" when it is not a date."""
    texto = str(valor or "")[:10]
    try:
        return datetime.fromisoformat(texto).date().isoformat() if texto else ""
    except ValueError:
        return ""
