"""The send queue: display rows, the pt-BR error mapping, the bulk action API and the
view-model's derived values."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.factories import criar_automacao, criar_empresa, criar_lead, login
from whatsapp_app import cadastro_automacoes, db, fila, leads
from whatsapp_app.fila import erro_legivel
from whatsapp_app.models import AuditoriaAgendamento, WhatsappAutomacaoAgendamento
from whatsapp_app.modules.fila.state import EstadoFila, intervalo_do_dia


def _jobs(empresa, *, nome: str = "Maria Silva", telefone: str = "+5511987654321") -> list[str]:  # type: ignore[no-untyped-def]
    lead = criar_lead(empresa, nome=nome, telefone=telefone)
    with db.sessao() as s:
        leads.mover_lead(
            sessao=s, id_empresa=empresa.id, id_lead=lead, id_estagio_destino=empresa.estagios[1]
        )
        return [
            j.id
            for j in s.exec(
                select(WhatsappAutomacaoAgendamento)
                .where(WhatsappAutomacaoAgendamento.id_lead == lead)
                .order_by(WhatsappAutomacaoAgendamento.agendado_para)
            )
        ]


def _definir(id_job: str, **valores) -> None:  # type: ignore[no-untyped-def]
    with db.sessao() as s:
        s.execute(
            sa.update(WhatsappAutomacaoAgendamento)
            .where(WhatsappAutomacaoAgendamento.id == id_job)
            .values(**valores)
        )


def _status(id_job: str) -> str:
    with db.sessao() as s:
        job = s.get(WhatsappAutomacaoAgendamento, id_job)
        assert job is not None
        return job.status


# --- the pt-BR error mapping (pure) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("bruto", "esperado"),
    [
        (None, ""),
        ("", ""),
        (
            "O provedor não respondeu: a mensagem pode ter sido enviada. (RemoteProtocolError)",
            "O provedor não respondeu: a mensagem pode ter sido enviada.",
        ),
        (
            "O provedor não respondeu: a mensagem pode ter sido enviada. (httpx.ReadTimeout)",
            "O provedor não respondeu: a mensagem pode ter sido enviada.",
        ),
        ("Número não está no WhatsApp.", "Número não está no WhatsApp."),
        ("ConnectError: Connection refused", "A conexão com o provedor caiu."),
        ("Read timed out", "O provedor demorou demais para responder."),
        ("(RemoteProtocolError)", "A conexão com o provedor caiu."),
        ("ValueError", fila.ERRO_GENERICO),
        ("Request failed with status 418", fila.ERRO_GENERICO),
        ("Sem resposta (RemoteProtocolError)", "Sem resposta"),
    ],
)
def test_erro_legivel_nunca_mostra_nome_de_excecao(bruto, esperado) -> None:  # type: ignore[no-untyped-def]
    assert erro_legivel(bruto) == esperado
    assert "Error" not in erro_legivel(bruto)


# --- display rows -----------------------------------------------------------------------------


def test_linhas_da_fila_traz_texto_renderizado_e_nomes_em_poucas_consultas(banco) -> None:  # type: ignore[no-untyped-def]
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0, 60))
    ids = _jobs(empresa, nome="Maria Silva")
    ids += _jobs(empresa, nome="João Souza", telefone="+5511912345678")
    _definir(ids[0], status="INCERTO", ultimo_erro="Sem resposta (RemoteProtocolError)")
    consultas: list[str] = []
    with db.sessao() as s:
        pagina = cadastro_automacoes.pagina_agendamentos(sessao=s, id_empresa=empresa.id, limite=50)
        sa.event.listen(s.get_bind(), "before_cursor_execute", _contar(consultas))
        try:
            linhas = fila.linhas_da_fila(s, id_empresa=empresa.id, itens=pagina["itens"])
        finally:
            sa.event.remove(s.get_bind(), "before_cursor_execute", _contar(consultas))
    assert len(consultas) <= 3, consultas
    assert [linha["id"] for linha in linhas] == [i["id"] for i in pagina["itens"]]
    por_id = {linha["id"]: linha for linha in linhas}
    primeira = por_id[ids[0]]
    assert primeira["mensagem"] == "Olá Maria, passo 1"
    assert primeira["nome_lead"] == "Maria Silva"
    assert primeira["telefone"] == "+55 11 98765-4321"
    assert primeira["ordem_etapa"] == 1
    assert primeira["nome_automacao"] == "Automação"
    assert primeira["nome_estagio"] == "Qualificado"
    assert primeira["nome_instancia"] == "Instância"
    assert primeira["erro"] == "Sem resposta"
    assert por_id[ids[3]]["mensagem"] == "Olá João, passo 2"


_OUVINTES: dict[int, object] = {}


def _contar(consultas: list[str]):  # type: ignore[no-untyped-def]
    # The same function object for listen and remove.
    chave = id(consultas)
    if chave not in _OUVINTES:

        def ouvir(_con, _cur, sql, *_a) -> None:  # type: ignore[no-untyped-def]
            consultas.append(sql)

        _OUVINTES[chave] = ouvir
    return _OUVINTES[chave]


def test_filtros_da_fila_por_status_e_busca(banco) -> None:  # type: ignore[no-untyped-def]
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0,))
    (maria,) = _jobs(empresa, nome="Maria Silva")
    (joao,) = _jobs(empresa, nome="João Souza", telefone="+5511912345678")
    _definir(joao, status="ERRO", ultimo_erro="Número não está no WhatsApp.")
    with db.sessao() as s:
        so_erro = cadastro_automacoes.pagina_agendamentos(
            sessao=s, id_empresa=empresa.id, status="ERRO"
        )
        busca = cadastro_automacoes.pagina_agendamentos(sessao=s, id_empresa=empresa.id, q="mari")
        contagem = fila.contagem_por_status(s, id_empresa=empresa.id)
    assert [i["id"] for i in so_erro["itens"]] == [joao]
    assert [i["id"] for i in busca["itens"]] == [maria]
    assert contagem == {"PENDENTE": 1, "ERRO": 1}


# --- bulk API ---------------------------------------------------------------------------------


@pytest.fixture
def cliente(banco):  # type: ignore[no-untyped-def]
    """The real API; the bulk router goes in front of the catch-all 404 until
    ``api/__init__.py`` includes it (then this adds nothing)."""
    from fastapi.testclient import TestClient

    from whatsapp_app.api import criar_api
    from whatsapp_app.api import fila as api_fila

    api = criar_api()
    caminhos = {getattr(r, "path", "") for r in api.router.routes}
    if "/api/whatsapp/agendamentos/acoes" not in caminhos:
        api.router.routes[0:0] = api_fila.router.routes
    with TestClient(api, raise_server_exceptions=False) as c:
        yield c


def test_acoes_em_lote_resultado_por_id_e_auditoria(banco, cliente) -> None:  # type: ignore[no-untyped-def]
    empresa = criar_empresa()
    outra = criar_empresa("Outra", sufixo="b")
    criar_automacao(empresa, estagio=1, atrasos=(0, 60))
    criar_automacao(outra, estagio=1, atrasos=(0,))
    incerto, pendente = _jobs(empresa)
    (alheio,) = _jobs(outra)
    _definir(incerto, status="INCERTO")
    cabecalho = login(cliente, empresa.usuarios["gestor"])

    resposta = cliente.post(
        "/api/whatsapp/agendamentos/acoes",
        json={"acao": "marcar-enviado", "ids": [incerto, pendente, alheio, "nao-existe"]},
        headers=cabecalho,
    )
    assert resposta.status_code == 200, resposta.text
    corpo = resposta.json()
    assert corpo["ok"] == 1 and corpo["falhas"] == 3
    resultados = {r["id"]: r for r in corpo["resultados"]}
    assert resultados[incerto] == {"id": incerto, "ok": True, "status": "ENVIADO", "erro": None}
    assert resultados[pendente]["erro"]["codigo"] == "status_incompativel"
    assert resultados[alheio]["erro"]["codigo"] == "nao_encontrado"
    assert resultados["nao-existe"]["erro"]["codigo"] == "nao_encontrado"
    assert _status(incerto) == "ENVIADO"
    assert _status(pendente) == "PENDENTE"
    assert _status(alheio) == "PENDENTE"

    cancelar = cliente.post(
        "/api/whatsapp/agendamentos/acoes",
        json={"acao": "cancelar", "ids": [pendente]},
        headers=cabecalho,
    )
    assert cancelar.json()["ok"] == 1
    assert _status(pendente) == "CANCELADO"
    with db.sessao() as s:
        auditoria = s.exec(
            select(AuditoriaAgendamento).order_by(AuditoriaAgendamento.criado_em)
        ).all()
    assert [(a.id_agendamento, a.acao, a.status_anterior, a.status_novo) for a in auditoria] == [
        (incerto, "marcar_enviado", "INCERTO", "ENVIADO"),
        (pendente, "cancelar", "PENDENTE", "CANCELADO"),
    ]
    assert {a.id_usuario for a in auditoria} == {empresa.ids_usuarios["gestor"]}


def test_acoes_em_lote_reenviar_erro_e_incerto(banco, cliente) -> None:  # type: ignore[no-untyped-def]
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0, 60))
    erro, incerto = _jobs(empresa)
    _definir(erro, status="ERRO", tentativas=5, ultimo_erro="x")
    _definir(incerto, status="INCERTO", tentativas=1)
    resposta = cliente.post(
        "/api/whatsapp/agendamentos/acoes",
        json={"acao": "reenviar", "ids": [erro, incerto, erro]},
        headers=login(cliente, empresa.usuarios["admin"]),
    )
    assert resposta.status_code == 200
    assert [r["status"] for r in resposta.json()["resultados"]] == ["PENDENTE", "PENDENTE"]
    assert _status(erro) == _status(incerto) == "PENDENTE"


def test_acoes_em_lote_vendedor_403_e_corpo_invalido_422(banco, cliente) -> None:  # type: ignore[no-untyped-def]
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0,))
    (job,) = _jobs(empresa)
    _definir(job, status="INCERTO")
    vendedor = login(cliente, empresa.usuarios["vendedor"])
    proibido = cliente.post(
        "/api/whatsapp/agendamentos/acoes",
        json={"acao": "reenviar", "ids": [job]},
        headers=vendedor,
    )
    assert proibido.status_code == 403
    assert proibido.json()["erro"]["codigo"] == "sem_permissao"
    assert _status(job) == "INCERTO"
    cliente.cookies.clear()  # bearer only: a cookie would need a same-origin header
    gestor = login(cliente, empresa.usuarios["gestor"])
    for corpo in ({"acao": "apagar", "ids": [job]}, {"acao": "reenviar", "ids": []}):
        invalido = cliente.post("/api/whatsapp/agendamentos/acoes", json=corpo, headers=gestor)
        assert invalido.status_code == 422, corpo
    cliente.cookies.clear()
    sem_sessao = cliente.post(
        "/api/whatsapp/agendamentos/acoes", json={"acao": "cancelar", "ids": [job]}
    )
    assert sem_sessao.status_code == 401


# --- the view-model's derived values (no browser, no database) --------------------------------


def _linha(id_: str, status: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    base = {
        "id": id_,
        "status": status,
        "id_lead": "l",
        "nome_lead": "Maria Silva",
        "telefone": "+55 11 98765-4321",
        "ordem_etapa": 2,
        "nome_automacao": "Boas-vindas",
        "nome_estagio": "Qualificado",
        "nome_instancia": "Simulador",
        "mensagem": "Olá Maria",
        "agendado_para": "2026-11-25T17:05:00+00:00",
        "enviado_em": "",
        "tentativas": 1,
        "status_entrega": "",
        "erro": "",
        "motivo_cancelamento": "",
    }
    return {**base, **extra}


def _estado(perfil: str = "gestor") -> EstadoFila:
    estado = EstadoFila(_reflex_internal_init=True)  # type: ignore[call-arg]
    estado.perfil = perfil
    estado.fuso = "America/Sao_Paulo"
    estado.linhas = [  # type: ignore[assignment]
        _linha("a", "INCERTO"),
        _linha("b", "ERRO", erro="Número não está no WhatsApp."),
        _linha("c", "PENDENTE"),
        _linha("d", "ENVIADO", enviado_em="2026-11-25T17:06:00+00:00", status_entrega="lido"),
    ]
    estado.total = 10
    return estado


def _valor(estado: EstadoFila, nome: str):  # type: ignore[no-untyped-def]
    return getattr(estado, nome)


def test_estado_linhas_exibidas_e_permissoes() -> None:
    estado = _estado()
    linhas = {linha["id"]: linha for linha in _valor(estado, "linhas_exibidas")}
    assert linhas["a"]["etapa"] == "Etapa 2 · Boas-vindas"
    assert linhas["a"]["agendado"] == "25/11/2026 14:05"  # São Paulo, UTC-3
    assert linhas["a"]["incerto"] and linhas["a"]["pode_marcar"] and linhas["a"]["pode_reenviar"]
    assert not linhas["a"]["pode_cancelar"]
    assert linhas["b"]["pode_reenviar"] and not linhas["b"]["pode_marcar"]
    assert linhas["c"]["pode_cancelar"] and not linhas["c"]["pode_reenviar"]
    assert linhas["d"]["enviado"] == "25/11/2026 14:06"
    assert linhas["d"]["entrega"] == "Lida"
    assert linhas["d"]["tentativas"] == "1 tentativa"
    assert _valor(estado, "resumo") == "Mostrando 4 de 10 envios"

    vendedor = _estado("vendedor")
    assert not _valor(vendedor, "pode_agir")
    assert not any(
        linha["pode_marcar"] or linha["pode_reenviar"] or linha["pode_cancelar"]
        for linha in _valor(vendedor, "linhas_exibidas")
    )


def test_estado_selecao_e_confirmacao_em_lote() -> None:
    estado = _estado()
    estado.selecionados = ["a", "b", "c", "d"]
    assert _valor(estado, "selecao_reenviar") == 2
    assert _valor(estado, "selecao_marcar") == 1
    assert _valor(estado, "selecao_cancelar") == 1
    estado.acao_pendente, estado.ids_pendentes = "reenviar", ["a", "b"]
    assert _valor(estado, "confirmacao_titulo") == "Reenviar 2 envios?"
    assert "estas 2 mensagens" in _valor(estado, "confirmacao_texto").lower()
    estado.acao_pendente, estado.ids_pendentes = "cancelar", ["c"]
    assert _valor(estado, "confirmacao_titulo") == "Cancelar envio?"
    assert _valor(estado, "confirmacao_perigo")


def test_estado_chips_e_intervalo_de_datas() -> None:
    estado = _estado()
    estado.contagens = {"INCERTO": 3, "ERRO": 1234}
    estado.filtro_status = "INCERTO"
    chips = {c["valor"]: c for c in _valor(estado, "chips_status")}
    assert chips[""]["contagem"] == "1.237"
    assert chips["INCERTO"]["ativo"] and chips["INCERTO"]["contagem"] == "3"
    assert chips["ERRO"]["contagem"] == "1.234"
    de, ate = intervalo_do_dia("2026-11-25", "2026-11-25", "America/Sao_Paulo")
    assert de is not None and ate is not None
    assert de.isoformat() == "2026-11-25T00:00:00-03:00"
    assert ate.isoformat() == "2026-11-25T23:59:59.999999-03:00"


def test_filtro_por_data_de_envio(banco, cliente) -> None:  # type: ignore[no-untyped-def]
    """The date range bounds the sent time when asked (``enviado_de``/``enviado_ate``): a job
    sent yesterday is found by yesterday's range, not by its due time; pending jobs never are."""
    from datetime import timedelta

    from whatsapp_app.tempo import agora

    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0, 60))
    enviado, pendente = _jobs(empresa)
    ontem = agora() - timedelta(days=1)
    _definir(enviado, status="ENVIADO", enviado_em=ontem, agendado_para=agora())
    cabecalho = login(cliente, empresa.usuarios["gestor"])

    def ids(**params: str) -> list[str]:
        resposta = cliente.get("/api/whatsapp/agendamentos", params=params, headers=cabecalho)
        assert resposta.status_code == 200, resposta.text
        return [i["id"] for i in resposta.json()["itens"]]

    janela_ontem = {
        "enviado_de": (ontem - timedelta(hours=1)).isoformat(),
        "enviado_ate": (ontem + timedelta(hours=1)).isoformat(),
    }
    assert ids(**janela_ontem) == [enviado]
    assert ids(de=janela_ontem["enviado_de"], ate=janela_ontem["enviado_ate"]) == []
    assert pendente in ids()
    ruim = cliente.get(
        "/api/whatsapp/agendamentos",
        params={
            "enviado_de": janela_ontem["enviado_ate"],
            "enviado_ate": janela_ontem["enviado_de"],
        },
        headers=cabecalho,
    )
    assert ruim.status_code == 422 and "enviado_de" in ruim.json()["erro"]["campos"], ruim.text
    sem_fuso = cliente.get(
        "/api/whatsapp/agendamentos",
        params={"enviado_de": "2026-11-30T10:00:00"},
        headers=cabecalho,
    )
    assert sem_fuso.status_code == 422 and "enviado_de" in sem_fuso.json()["erro"]["campos"]


def test_estado_periodo_escolhe_a_data_filtrada() -> None:
    estado = _estado()
    estado.filtro_de = estado.filtro_ate = "2026-11-25"
    consulta = estado._consulta()
    assert consulta["de"] is not None and consulta["enviado_de"] is None
    estado.periodo = "enviado"
    consulta = estado._consulta()
    assert consulta["de"] is None and consulta["ate"] is None
    assert consulta["enviado_de"].isoformat() == "2026-11-25T00:00:00-03:00"
    assert consulta["enviado_ate"].isoformat() == "2026-11-25T23:59:59.999999-03:00"
    assert "periodo=enviado" in estado._url()
