"""The REST API's error shape, validation in pt-BR, profiles and health."""

from __future__ import annotations

from tests.factories import criar_automacao, criar_empresa, criar_instancia, criar_lead, login


def test_health(cliente):
    resposta = cliente.get("/api/health")
    assert resposta.status_code == 200
    assert resposta.json() == {"status": "ok", "db": "ok"}


def test_rota_desconhecida_tem_o_formato_de_erro(cliente):
    resposta = cliente.get("/api/nao-existe")
    assert resposta.status_code == 404
    assert resposta.json() == {
        "erro": {"codigo": "nao_encontrado", "mensagem": "Rota não encontrada."}
    }


def test_json_invalido_e_422_em_portugues(cliente):
    empresa = criar_empresa()
    cabecalho = {**login(cliente, empresa.usuarios["admin"]), "content-type": "application/json"}
    resposta = cliente.patch("/api/empresa", content=b"{nao e json", headers=cabecalho)
    assert resposta.status_code == 422
    assert resposta.json()["erro"]["codigo"] == "validacao"
    assert "JSON inválido." in resposta.json()["erro"]["campos"].values()


def test_empresa_patch_valida_janela_e_fuso_sem_gravar_nada(cliente):
    empresa = criar_empresa(janela_envio={"inicio": "08:00", "fim": "20:00", "dias_semana": [0]})
    cabecalho = login(cliente, empresa.usuarios["admin"])
    resposta = cliente.patch(
        "/api/empresa",
        json={
            "nome": "Novo nome",
            "fuso_horario": "Marte/Olympus",
            "janela_envio": {"inicio": "25:00", "fim": "07:00", "dias_semana": [9]},
        },
        headers=cabecalho,
    )
    assert resposta.status_code == 422
    campos = resposta.json()["erro"]["campos"]
    assert campos["fuso_horario"] == "Fuso horário desconhecido (ex.: America/Sao_Paulo)."
    assert campos["janela_envio.inicio"] == "Use o formato HH:MM (00:00 a 23:59)."
    assert campos["janela_envio.dias_semana"].startswith("Dias da semana")
    atual = cliente.get("/api/empresa", headers=cabecalho).json()
    assert atual["nome"] == "Empresa Teste"
    assert atual["janela_envio"] == {"inicio": "08:00", "fim": "20:00", "dias_semana": [0]}


def test_empresa_patch_aceita_janela_nula_e_so_admin(cliente):
    empresa = criar_empresa(janela_envio={"inicio": "08:00", "fim": "20:00", "dias_semana": [0]})
    gestor = login(cliente, empresa.usuarios["gestor"])
    negado = cliente.patch("/api/empresa", json={"janela_envio": None}, headers=gestor)
    assert negado.status_code == 403
    assert negado.json()["erro"]["codigo"] == "sem_permissao"
    admin = login(cliente, empresa.usuarios["admin"])
    resposta = cliente.patch(
        "/api/empresa", json={"janela_envio": None, "fuso_horario": "America/Manaus"}, headers=admin
    )
    assert resposta.status_code == 200
    assert resposta.json()["janela_envio"] is None
    assert resposta.json()["fuso_horario"] == "America/Manaus"


def test_criar_lead_normaliza_telefone_e_recusa_invalido(cliente):
    empresa = criar_empresa()
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    criado = cliente.post(
        "/api/leads",
        json={"nome": "Ana", "telefone": "(11) 98765-4321", "id_estagio": empresa.estagios[0]},
        headers=cabecalho,
    )
    assert criado.status_code == 201
    assert criado.json()["telefone"] == "+5511987654321"
    invalido = cliente.post(
        "/api/leads",
        json={"nome": "", "telefone": "123456789", "id_estagio": empresa.estagios[0]},
        headers=cabecalho,
    )
    assert invalido.status_code == 422
    assert invalido.json()["erro"]["campos"] == {
        "nome": "Deve ter pelo menos 1 caractere(s).",
        "telefone": "Telefone inválido para o país informado.",
    }
    assert [
        lead["nome"] for lead in cliente.get("/api/leads", headers=cabecalho).json()["itens"]
    ] == ["Ana"]


def test_busca_e_filtro_de_leads(cliente):
    empresa = criar_empresa()
    criar_lead(empresa, nome="Mariana Souza", telefone="+5511987650001", estagio=0)
    criar_lead(empresa, nome="João Pereira", telefone="+5521987650002", estagio=1)
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    nomes = lambda **p: sorted(
        lead["nome"]
        for lead in cliente.get("/api/leads", params=p, headers=cabecalho).json()["itens"]
    )
    assert nomes(q="mari") == ["Mariana Souza"]
    assert nomes(q="21987") == ["João Pereira"]
    assert nomes(id_estagio=empresa.estagios[1]) == ["João Pereira"]


def test_automacao_validacao_completa(cliente):
    empresa = criar_empresa()
    instancia = criar_instancia(empresa)
    gestor = login(cliente, empresa.usuarios["gestor"])
    base = {
        "nome": "Follow-up",
        "id_estagio_trigger": empresa.estagios[1],
        "id_whatsapp_instancia": instancia,
    }

    sem_etapas = cliente.post(
        "/api/whatsapp/automations", json={**base, "etapas": []}, headers=gestor
    )
    assert sem_etapas.status_code == 422
    assert sem_etapas.json()["erro"]["campos"] == {"etapas": "Deve ter pelo menos 1 item(ns)."}

    ruins = cliente.post(
        "/api/whatsapp/automations",
        json={
            **base,
            "reentrada": "sempre",
            "etapas": [
                {"ordem": 1, "atraso_minutos": -5, "mensagem": "Oi {{apelido}}"},
                {"ordem": 2, "atraso_minutos": 0, "mensagem": "x" * 4097},
            ],
        },
        headers=gestor,
    )
    campos = ruins.json()["erro"]["campos"]
    assert ruins.status_code == 422
    assert campos["reentrada"].startswith("Valor inválido")
    assert campos["etapas.0.atraso_minutos"] == "Deve ser maior ou igual a 0."
    assert campos["etapas.0.mensagem"].startswith("Variável desconhecida: apelido.")
    assert campos["etapas.1.mensagem"] == "Deve ter no máximo 4096 caracteres."

    repetida = cliente.post(
        "/api/whatsapp/automations",
        json={
            **base,
            "etapas": [
                {"ordem": 1, "atraso_minutos": 0, "mensagem": "a"},
                {"ordem": 1, "atraso_minutos": 5, "mensagem": "b"},
            ],
        },
        headers=gestor,
    )
    assert repetida.json()["erro"]["campos"] == {
        "etapas": "Cada etapa precisa de uma ordem diferente."
    }
    assert cliente.get("/api/whatsapp/automations", headers=gestor).json()["itens"] == []

    ok = cliente.post(
        "/api/whatsapp/automations",
        json={
            **base,
            "etapas": [
                {"ordem": 2, "atraso_minutos": 60, "mensagem": "Oi {{ primeiro_nome }}"},
                {"ordem": 1, "atraso_minutos": 0, "mensagem": "Olá {{nome}}"},
            ],
        },
        headers=gestor,
    )
    assert ok.status_code == 201
    assert [e["ordem"] for e in ok.json()["etapas"]] == [1, 2]
    assert ok.json()["reentrada"] == "uma_vez" and ok.json()["cancelar_ao_sair"] is True


def test_vendedor_nao_cria_automacao(cliente):
    empresa = criar_empresa()
    instancia = criar_instancia(empresa)
    vendedor = login(cliente, empresa.usuarios["vendedor"])
    resposta = cliente.post(
        "/api/whatsapp/automations",
        json={
            "nome": "x",
            "id_estagio_trigger": empresa.estagios[1],
            "id_whatsapp_instancia": instancia,
            "etapas": [{"ordem": 1, "atraso_minutos": 0, "mensagem": "oi"}],
        },
        headers=vendedor,
    )
    assert resposta.status_code == 403


def test_editar_etapas_preserva_historico_dos_jobs(cliente):
    empresa = criar_empresa()
    automacao = criar_automacao(empresa, estagio=1, atrasos=(0, 60))
    lead = criar_lead(empresa)
    gestor = login(cliente, empresa.usuarios["gestor"])
    cliente.patch(
        f"/api/leads/{lead}/mover", json={"id_estagio_destino": empresa.estagios[1]}, headers=gestor
    )

    resposta = cliente.patch(
        f"/api/whatsapp/automations/{automacao}",
        json={"etapas": [{"ordem": 1, "atraso_minutos": 5, "mensagem": "Nova mensagem"}]},
        headers=gestor,
    )

    assert resposta.status_code == 200
    assert [(e["ordem"], e["atraso_minutos"]) for e in resposta.json()["etapas"]] == [(1, 5)]
    jobs = cliente.get(
        "/api/whatsapp/agendamentos", params={"id_lead": lead}, headers=gestor
    ).json()["itens"]
    assert len(jobs) == 2, "jobs of the removed step are kept as history"
    assert sorted((j["status"], j["motivo_cancelamento"]) for j in jobs) == [
        ("CANCELADO", "etapa_removida"),
        ("PENDENTE", None),
    ]
    assert (
        cliente.get(
            "/api/whatsapp/agendamentos", params={"status": "XYZ"}, headers=gestor
        ).status_code
        == 422
    )


def test_linha_do_tempo_do_lead(cliente):
    empresa = criar_empresa()
    criar_automacao(empresa, estagio=1, atrasos=(0, 60))
    lead = criar_lead(empresa)
    cabecalho = login(cliente, empresa.usuarios["vendedor"])
    cliente.patch(
        f"/api/leads/{lead}/mover",
        json={"id_estagio_destino": empresa.estagios[1]},
        headers=cabecalho,
    )
    detalhe = cliente.get(f"/api/leads/{lead}", headers=cabecalho).json()
    assert [j["status"] for j in detalhe["agendamentos"]] == ["PENDENTE", "PENDENTE"]
    assert all(
        j["chave_idempotencia"].startswith(f"{empresa.id}:{lead}:") for j in detalhe["agendamentos"]
    )


def test_automacao_de_instancia_excluida_nao_volta_a_ativar(cliente):
    empresa = criar_empresa()
    instancia = criar_instancia(empresa)
    automacao = criar_automacao(empresa, id_instancia=instancia)
    admin = login(cliente, empresa.usuarios["admin"])
    assert cliente.delete(f"/api/whatsapp/instances/{instancia}", headers=admin).status_code == 200
    reativar = cliente.patch(
        f"/api/whatsapp/automations/{automacao}", json={"ativo": True}, headers=admin
    )
    assert reativar.status_code == 422
    assert reativar.json()["erro"]["campos"] == {
        "id_whatsapp_instancia": "Instância não encontrada nesta empresa."
    }
    assert (
        cliente.get(f"/api/whatsapp/automations/{automacao}", headers=admin).json()["ativo"]
        is False
    )
