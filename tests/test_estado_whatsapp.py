"""Fast State tests (no browser) of the WhatsApp page's view-model against the real database:
the status badge through the live poller, the flow row (Trigger → Action), the slide-over's
happy path and validation errors, the flow list's sort / search / counts / hidden-row note, the
"same stage" warning, and the confirmations that state how many sends they cancel.

The State is built the way Reflex's memory state manager builds it and its events run directly
(``Handler.fn(estado, ...)``); the session lookup is replaced by the real ``Contexto`` of a
seeded user (its ``exigir`` is the role rule)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import reflex as rx
import sqlalchemy as sa
from sqlmodel import select

from tests.assincrono import rodar
from tests.factories import (
    EmpresaTeste,
    contexto_de,
    criar_automacao,
    criar_empresa,
    criar_instancia,
    criar_job,
    criar_lead,
)
from whatsapp_app import db
from whatsapp_app.conectividade import gravar_estado
from whatsapp_app.models import (
    WhatsappAutomacao,
    WhatsappAutomacaoAgendamento,
    WhatsappMensagem,
)
from whatsapp_app.modules.whatsapp import estado_cartoes
from whatsapp_app.modules.whatsapp.state import EstadoWhatsapp
from whatsapp_app.modules.whatsapp.theme import STATUS_CONEXAO
from whatsapp_app.tempo import agora
from whatsapp_app.ui.sessao import EstadoSessao, _Autorizacao

E = EstadoWhatsapp


@pytest.fixture
def pagina(banco, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    """``abrir(empresa, perfil="admin")``: the page's State after ``carregar``."""

    def abrir(empresa: EmpresaTeste, perfil: str = "admin") -> Any:
        contexto = contexto_de(empresa, perfil)
        monkeypatch.setattr(
            _Autorizacao, "contexto", lambda self, *perfis: contexto.exigir(*perfis)
        )
        raiz = rx.State(_reflex_internal_init=True)
        estado = raiz.substates[EstadoSessao.get_name()].substates[E.get_name()]
        estado.perfil, estado.nome_empresa = perfil, "Acme"
        eventos = list(E.carregar.fn(estado))
        assert estado.carregando is False
        assert eventos[-1] == E.acompanhar  # the live poller starts with the page
        return estado

    return abrir


def _job(empresa: EmpresaTeste, id_automacao: str, status: str, **extra: Any) -> str:
    id_lead = extra.pop("id_lead", None) or criar_lead(empresa, telefone=_telefone())
    return criar_job(empresa, id_lead, id_automacao, status, **extra)


_telefones = iter(range(10_000_000, 99_999_999))


def _telefone() -> str:
    return f"+55119{next(_telefones):08d}"


def _renomear_automacao(id_automacao: str, nome: str, **valores: Any) -> None:
    with db.sessao() as s:
        s.execute(
            sa.update(WhatsappAutomacao)
            .where(WhatsappAutomacao.id == id_automacao)
            .values(nome=nome, **valores)
        )


def _textos(eventos: list[Any]) -> str:
    return " ".join(str(e) for e in eventos)


# --- status badge through the poller -------------------------------------------------------------


def test_badge_conectado_desconectado_conectando_pelo_sondador(
    pagina, monkeypatch: pytest.MonkeyPatch
) -> None:
    empresa = criar_empresa()
    id_instancia = criar_instancia(empresa)
    with db.sessao() as s:
        gravar_estado(s, id_instancia, "conectado", origem="teste")
    estado = pagina(empresa)
    assert estado.cartoes[0]["status"] == "conectado"

    # Each tick of the poller: the provider's state changes in the database meanwhile.
    proximos = iter(["desconectado", "conectando"])
    vistos: list[str] = []

    async def tique(_segundos: float) -> None:
        vistos.append(estado.cartoes[0]["status"])
        novo = next(proximos, None)
        if novo is None:
            E.parar_acompanhamento.fn(estado)  # the page was left: the loop ends
            return
        with db.sessao() as s:
            gravar_estado(s, id_instancia, novo, origem="teste")

    monkeypatch.setattr(estado_cartoes, "esperar", tique)
    monkeypatch.setattr(estado_cartoes, "ROTA", estado.router.url.path)  # "this page is open"

    rodar(E.acompanhar.fn(estado))
    assert vistos == ["conectado", "desconectado", "conectando"]
    # The badge the card renders for each status (label and colour come from one table).
    rotulos = [STATUS_CONEXAO[s][1] for s in vistos]
    assert len(set(rotulos)) == 3
    assert estado.ao_vivo is False, "the loop says it stopped"


# --- the flow row: Trigger → Action --------------------------------------------------------------


def test_linha_do_fluxo_gatilho_e_acao(pagina) -> None:
    empresa = criar_empresa()
    id_instancia = criar_instancia(empresa)
    id_automacao = criar_automacao(
        empresa, estagio=1, atrasos=(0, 60, 1440), id_instancia=id_instancia
    )
    _job(empresa, id_automacao, "PENDENTE")
    _job(empresa, id_automacao, "ERRO")
    estado = pagina(empresa)
    [linha] = estado.fluxos_filtrados
    assert linha["id"] == id_automacao
    assert linha["nome_estagio"] == "Qualificado"  # Trigger: the lead enters this stage
    assert linha["nome_instancia"] == "Instância"  # Action: WhatsApp through this instance
    assert linha["resumo_etapas"] == "3 mensagens · 0 min, 1 h, 1 dia"
    assert linha["contagens"] == "1 pendente · 0 enviados em 24 h · 1 erro · 0 respostas"
    assert linha["tem_erros"] is True and linha["ativo"] is True


# --- slide-over builder ----------------------------------------------------------------------------


def _preencher(estado: Any, empresa: EmpresaTeste, nome: str = "Boas-vindas") -> None:
    E.abrir_nova.fn(estado)
    assert estado.painel_aberto is True
    E.definir_nome.fn(estado, nome)
    E.definir_estagio.fn(estado, empresa.estagios[2])
    E.definir_mensagem.fn(estado, 0, "Oi, {{primeiro_nome}}!")
    E.adicionar_etapa.fn(estado)
    E.definir_atraso.fn(estado, 1, "2")
    E.definir_mensagem.fn(estado, 1, "Ainda por aí?")


def test_construtor_salva_lista_e_avisa(pagina) -> None:
    empresa = criar_empresa()
    criar_instancia(empresa)
    estado = pagina(empresa, "gestor")
    _preencher(estado, empresa)
    assert estado.form_instancia != "", "a company with one instance gets it preselected"

    eventos = list(E.salvar.fn(estado))
    assert estado.painel_aberto is False and estado.salvando is False
    with db.sessao() as s:
        [salva] = s.exec(select(WhatsappAutomacao)).all()
    [linha] = estado.fluxos_filtrados
    assert (linha["id"], linha["nome"], linha["salvando"]) == (salva.id, "Boas-vindas", False)
    assert linha["nome_estagio"] == "Proposta"
    assert linha["resumo_etapas"] == "2 mensagens · 0 min, 2 dias"
    texto = _textos(eventos)
    assert "Automação “Boas-vindas” criada." in texto  # the toast
    assert f"fluxo-{salva.id}" in texto  # the list scrolls to the saved row
    assert estado.fluxo_salvo_id == salva.id and estado.aviso_fluxo_oculto == ""


def test_construtor_mostra_os_erros_da_validacao_do_servico(pagina) -> None:
    empresa = criar_empresa()
    criar_instancia(empresa)
    criar_instancia(empresa)  # two instances: none preselected
    estado = pagina(empresa)
    E.abrir_nova.fn(estado)
    E.definir_atraso.fn(estado, 0, "abc")
    eventos = list(E.salvar.fn(estado))
    assert estado.painel_aberto is True, "nothing was sent to the service"
    assert estado.erros["nome"] == "Campo obrigatório."
    assert estado.erros["id_estagio_trigger"] == "Escolha o estágio que dispara a automação."
    assert estado.erros["id_whatsapp_instancia"] == "Escolha a instância que envia as mensagens."
    assert estado.etapas[0]["erro_atraso"] == "Informe um número inteiro (0 ou mais)."
    assert estado.etapas[0]["erro_mensagem"] != ""
    assert "aria-invalid" in _textos(eventos)  # focus goes to the first field to fix

    # Out of range: the service's rule (minutes), said in the form's words.
    E.definir_atraso.fn(estado, 0, "400")
    E.definir_unidade.fn(estado, 0, "dias")
    list(E.salvar.fn(estado))
    assert estado.etapas[0]["erro_atraso"] == "O atraso deve ficar entre 0 min e 365 dias."
    with db.sessao() as s:
        assert s.exec(select(WhatsappAutomacao)).all() == []


def test_aviso_quando_outra_automacao_ativa_dispara_no_mesmo_estagio(pagina) -> None:
    empresa = criar_empresa()
    id_instancia = criar_instancia(empresa)
    existente = criar_automacao(empresa, estagio=2, id_instancia=id_instancia)
    _renomear_automacao(existente, "Proposta enviada")
    pausada = criar_automacao(empresa, estagio=2, id_instancia=id_instancia, ativo=False)
    _renomear_automacao(pausada, "Pausada")
    estado = pagina(empresa)
    _preencher(estado, empresa)
    assert estado.aviso_mesmo_estagio == (
        "A automação ativa “Proposta enviada” já dispara neste estágio pela mesma instância: "
        "o lead receberá as duas sequências."
    )
    E.definir_ativo.fn(estado, False)  # a paused new one competes with nobody
    assert estado.aviso_mesmo_estagio == ""
    E.definir_ativo.fn(estado, True)
    E.definir_estagio.fn(estado, empresa.estagios[0])
    assert estado.aviso_mesmo_estagio == ""
    # Editing the existing one does not warn about itself; the warning never blocks saving.
    E.abrir_edicao.fn(estado, existente)
    assert estado.aviso_mesmo_estagio == ""
    E.abrir_edicao.fn(estado, pausada)
    E.definir_ativo.fn(estado, True)
    assert "“Proposta enviada”" in estado.aviso_mesmo_estagio
    list(E.salvar.fn(estado))
    assert estado.painel_aberto is False and estado.erros == {}


# --- flow list: sort, search, counts, hidden-row note ---------------------------------------------


def test_ordenar_buscar_e_contar(pagina) -> None:
    empresa = criar_empresa()
    id_instancia = criar_instancia(empresa)
    momento = agora()
    ids = {}
    for nome, estagio, minutos_atras in (("Bravo", 2, 30), ("alfa", 1, 10), ("Charlie", 0, 20)):
        ids[nome] = criar_automacao(empresa, estagio=estagio, id_instancia=id_instancia)
        _renomear_automacao(
            ids[nome], nome, atualizado_em=momento - timedelta(minutes=minutos_atras)
        )
    for _ in range(2):
        _job(empresa, ids["Charlie"], "PENDENTE")
    _job(empresa, ids["Bravo"], "PAUSADO")
    lead = criar_lead(empresa, telefone="+5511911112222")
    _job(empresa, ids["Bravo"], "ENVIADO", id_lead=lead, enviado_em=momento - timedelta(hours=2))
    with db.sessao() as s:
        s.add(
            WhatsappMensagem(
                id_empresa=empresa.id,
                id_lead=lead,
                id_whatsapp_instancia=id_instancia,
                direcao="entrada",
                telefone="5511911112222",
                texto="Tenho interesse",
                momento=momento - timedelta(hours=1),
            )
        )
    estado = pagina(empresa)

    def nomes() -> list[str]:
        return [f["nome"] for f in estado.fluxos_filtrados]

    assert nomes() == ["alfa", "Bravo", "Charlie"]  # by name, case-insensitive
    E.ordenar_fluxos.fn(estado, "estagio")
    assert nomes() == [
        "Charlie",
        "alfa",
        "Bravo",
    ]  # the funnel's order: Novo, Qualificado, Proposta
    E.ordenar_fluxos.fn(estado, "alteracao")
    assert nomes() == ["alfa", "Charlie", "Bravo"]  # most recently changed first
    E.ordenar_fluxos.fn(estado, "pendentes")
    assert nomes() == ["Charlie", "Bravo", "alfa"]  # 2, 1 (paused still waits), 0
    E.ordenar_fluxos.fn(estado, "inventada")
    assert estado.ordem_fluxos == "nome"

    bravo = next(f for f in estado.fluxos_filtrados if f["nome"] == "Bravo")
    assert bravo["contagens"] == "1 pendente · 1 enviado em 24 h · 0 erros · 1 resposta"

    E.buscar_fluxo.fn(estado, "  AR ")
    assert nomes() == ["Charlie"] and estado.tem_filtro is True
    E.buscar_fluxo.fn(estado, "zzz")
    assert nomes() == []
    E.limpar_filtros.fn(estado)
    assert nomes() == ["alfa", "Bravo", "Charlie"] and estado.tem_filtro is False


def test_automacao_salva_escondida_pelos_filtros_ganha_um_aviso(pagina) -> None:
    empresa = criar_empresa()
    criar_instancia(empresa)
    estado = pagina(empresa)
    E.filtrar_status.fn(estado, "pausada")
    _preencher(estado, empresa, nome="Nova ativa")
    list(E.salvar.fn(estado))
    assert estado.fluxos_filtrados == []
    assert estado.aviso_fluxo_oculto == (
        "A automação “Nova ativa” foi salva, mas os filtros ativos a escondem."
    )
    rolagem = E.limpar_filtros.fn(estado)
    assert estado.aviso_fluxo_oculto == ""
    assert [f["nome"] for f in estado.fluxos_filtrados] == ["Nova ativa"]
    assert f"fluxo-{estado.fluxo_salvo_id}" in str(rolagem)
    # Filtering again afterwards is the user's choice: no note about that save any more.
    E.filtrar_status.fn(estado, "pausada")
    assert estado.fluxos_filtrados == [] and estado.aviso_fluxo_oculto == ""


# --- confirmations that state the count ------------------------------------------------------------


def _status(id_job: str) -> tuple[str, str | None]:
    with db.sessao() as s:
        job = s.get(WhatsappAutomacaoAgendamento, id_job)
        assert job is not None
        return job.status, job.motivo_cancelamento


def test_cancelar_envios_pendentes_diz_quantos_e_mantem_a_automacao(pagina) -> None:
    empresa = criar_empresa()
    id_automacao = criar_automacao(empresa)
    aguardando = [_job(empresa, id_automacao, s) for s in ("PENDENTE", "PENDENTE", "PAUSADO")]
    enviado = _job(empresa, id_automacao, "ENVIADO")
    estado = pagina(empresa, "gestor")
    E.pedir_cancelamento.fn(estado, id_automacao)
    assert estado.cancelar_titulo == "Cancelar 3 envios pendentes?"
    eventos = list(E.confirmar_cancelamento.fn(estado))
    assert "3 envio(s) pendente(s) de “Automação” cancelado(s)." in _textos(eventos)
    assert [_status(j) for j in aguardando] == [("CANCELADO", "cancelado_pelo_operador")] * 3
    assert _status(enviado) == ("ENVIADO", None)
    [linha] = estado.fluxos_filtrados
    assert linha["ativo"] is True and linha["pendentes"] == 0
    E.pedir_cancelamento.fn(estado, id_automacao)
    assert estado.cancelar_titulo == "Cancelar 0 envios pendentes?"


def test_excluir_automacao_e_instancia_dizem_quantos_envios_cancelam(pagina) -> None:
    empresa = criar_empresa()
    id_instancia = criar_instancia(empresa)
    id_automacao = criar_automacao(empresa, id_instancia=id_instancia)
    _job(empresa, id_automacao, "PENDENTE")
    estado = pagina(empresa)
    E.pedir_exclusao.fn(estado, id_automacao)
    assert estado.excluir_texto == "O histórico é mantido. 1 envio pendente será cancelado."
    E.mudar_exclusao.fn(estado, False)

    _job(empresa, id_automacao, "PAUSADO")
    E.pedir_exclusao_instancia.fn(estado, id_instancia)
    assert estado.excluir_instancia_titulo == "Excluir a instância “Instância”?"
    assert estado.excluir_instancia_texto == (
        "As automações que enviam por ela serão desativadas. 2 envios pendentes serão cancelados."
    )
    eventos = list(E.confirmar_exclusao_instancia.fn(estado))
    assert "2 envio(s) pendente(s) cancelado(s)" in _textos(eventos)
    assert estado.instancias == []


def test_renomear_instancia_pelo_menu(pagina) -> None:
    empresa = criar_empresa()
    primeira, segunda = criar_instancia(empresa), criar_instancia(empresa)
    estado = pagina(empresa)
    E.pedir_renomear.fn(estado, primeira)
    E.definir_nome_instancia.fn(estado, "  Vendas SP ")
    eventos = list(E.confirmar_renomear.fn(estado))
    assert "Instância renomeada para “Vendas SP”." in _textos(eventos)
    assert {i["id"]: i["nome"] for i in estado.instancias}[primeira] == "Vendas SP"
    E.pedir_renomear.fn(estado, segunda)
    E.definir_nome_instancia.fn(estado, "vendas sp")
    list(E.confirmar_renomear.fn(estado))
    assert estado.renomear_erro == "Já existe outra instância com este nome."
    assert estado.renomear_id == segunda, "the dialog stays open with the error"


# --- pure display helpers --------------------------------------------------------------------------


def test_ajudantes_de_exibicao() -> None:
    from zoneinfo import ZoneInfo

    from whatsapp_app.modules.whatsapp.tipos import cartao, rotulo_atraso, unidade_de

    assert [rotulo_atraso(m) for m in (0, 45, 60, 90, 1440, 2880)] == [
        "0 min",
        "45 min",
        "1 h",
        "1 h 30 min",
        "1 dia",
        "2 dias",
    ]
    assert [unidade_de(m) for m in (0, 90, 120, 4320)] == [
        ("0", "minutos"),
        ("90", "minutos"),
        ("2", "horas"),
        ("3", "dias"),
    ]
    referencia = agora()
    dados: Any = {
        "id": "i",
        "nome": "Loja",
        "provider": "simulador",
        "status": "conectado",
        "ultima_sincronizacao": (referencia - timedelta(minutes=5)).isoformat(),
        "erro_conexao": "",
        "respostas_24h": 1234,
        "pendentes": 1500,
        "processando": 0,
        "enviados_24h": 2,
        "erros_24h": 0,
        "incertos": 1,
        "vencidos": 3,
        "aguardando": 1501,
    }
    exibido = cartao(dados, referencia, ZoneInfo("America/Sao_Paulo"))
    assert exibido["pendentes"] == "1.500" and exibido["tem_erros"] is False
    assert exibido["tem_incertos"] is True and exibido["vencidos"] == 3
    assert exibido["sincronizacao"].startswith("Última sincronização há 5 min")
    assert exibido["respostas_24h"] == "1.234 respostas em 24 h"
    nunca = cartao({**dados, "ultima_sincronizacao": ""}, referencia, ZoneInfo("UTC"))
    assert (nunca["sincronizacao"], nunca["sincronizacao_completa"]) == (
        "Ainda não sincronizada",
        "",
    )
