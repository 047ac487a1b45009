"""Idempotent demo data: ``python -m whatsapp_app.seed``.

Creates the demo company once (stages, users, ~30 leads, a simulator instance and one
automation) and on later runs only makes sure the demo password matches ``DEMO_SENHA``.
Without ``DEMO_SENHA`` a password is generated on the first run, kept in ``data/`` (git
ignores it) and printed every run, so the person at the terminal can always log in.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta

from sqlmodel import Session, select

from whatsapp_app import db
from whatsapp_app.auth import _senha_confere, hash_senha
from whatsapp_app.config import PASTA_DADOS, configuracoes
from whatsapp_app.models import (
    Empresa,
    Estagio,
    Lead,
    LeadEstagioHistorico,
    Perfil,
    Usuario,
    WhatsappAutomacao,
    WhatsappAutomacaoEtapa,
    WhatsappInstancia,
)
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import normalizar_telefone

ARQUIVO_SENHA = PASTA_DADOS / "demo-senha.txt"
EMPRESA_DEMO = "Demo Vendas Ltda"
USUARIOS_DEMO = [
    ("admin@demo.com.br", "Ana Admin", Perfil.ADMIN),
    ("gestor@demo.com.br", "Gustavo Gestor", Perfil.GESTOR),
    ("vendedor@demo.com.br", "Vera Vendedora", Perfil.VENDEDOR),
]
ESTAGIOS_DEMO = [
    ("Novo", "gray"),
    ("Qualificado", "blue"),
    ("Proposta", "violet"),
    ("Negociação", "amber"),
    ("Ganho", "green"),
    ("Perdido", "red"),
]
NOMES_LEADS = [
    "Mariana Souza",
    "João Pereira",
    "Beatriz Lima",
    "Carlos Oliveira",
    "Fernanda Costa",
    "Rafael Almeida",
    "Juliana Ribeiro",
    "Lucas Martins",
    "Camila Rocha",
    "Pedro Carvalho",
    "Larissa Gomes",
    "Thiago Barbosa",
    "Aline Fernandes",
    "Bruno Araújo",
    "Patrícia Melo",
    "Gabriel Cardoso",
    "Renata Teixeira",
    "Felipe Correia",
    "Vanessa Dias",
    "Rodrigo Nunes",
    "Isabela Moreira",
    "Diego Castro",
    "Letícia Pinto",
    "André Monteiro",
    "Natália Freitas",
    "Gustavo Ramos",
    "Priscila Vieira",
    "Eduardo Mendes",
    "Tatiane Lopes",
    "Marcelo Azevedo",
]
DDDS = ["11", "21", "31", "41", "51", "61", "71", "81", "85", "48"]


def senha_demo() -> tuple[str, bool]:
    """The demo password and whether it was generated now."""
    definida = configuracoes().demo_senha
    if definida:
        return definida, False
    if ARQUIVO_SENHA.exists():
        return ARQUIVO_SENHA.read_text().strip(), False
    PASTA_DADOS.mkdir(parents=True, exist_ok=True)
    senha = secrets.token_urlsafe(12)
    ARQUIVO_SENHA.write_text(senha + "\n")
    os.chmod(ARQUIVO_SENHA, 0o600)
    return senha, True


def telefone_demo(indice: int) -> str:
    ddd = DDDS[indice % len(DDDS)]
    for ajuste in range(100):
        candidato = f"+55{ddd}9{8100_0000 + indice * 7919 + ajuste:08d}"
        try:
            return normalizar_telefone(candidato)
        except ValueError:
            continue
    raise RuntimeError("não foi possível gerar um telefone válido")


def _criar_empresa(s: Session, senha: str) -> Empresa:
    momento = agora()
    empresa = Empresa(
        nome=EMPRESA_DEMO,
        janela_envio={"inicio": "08:00", "fim": "20:00", "dias_semana": [0, 1, 2, 3, 4, 5]},
    )
    s.add(empresa)
    s.flush()
    estagios = []
    for ordem, (nome, cor) in enumerate(ESTAGIOS_DEMO):
        estagio = Estagio(id_empresa=empresa.id, nome=nome, ordem=ordem, cor=cor)
        s.add(estagio)
        estagios.append(estagio)
    usuarios = []
    for email, nome, perfil in USUARIOS_DEMO:
        usuario = Usuario(
            id_empresa=empresa.id,
            nome=nome,
            email=email,
            senha_hash=hash_senha(senha),
            perfil=perfil.value,
        )
        s.add(usuario)
        usuarios.append(usuario)
    s.flush()
    # Leads spread over the open stages (most in the first ones, as in a real funnel).
    distribuicao = [0] * 10 + [1] * 8 + [2] * 5 + [3] * 4 + [4] * 2 + [5] * 1
    for indice, nome in enumerate(NOMES_LEADS):
        estagio = estagios[distribuicao[indice % len(distribuicao)]]
        criado = momento - timedelta(days=30 - indice, hours=indice % 7)
        lead = Lead(
            id_empresa=empresa.id,
            nome=nome,
            telefone=telefone_demo(indice),
            id_estagio=estagio.id,
            id_responsavel=usuarios[2 if indice % 2 else 1].id,
            criado_em=criado,
            atualizado_em=criado,
        )
        s.add(lead)
        s.flush()
        s.add(
            LeadEstagioHistorico(
                id_empresa=empresa.id,
                id_lead=lead.id,
                id_estagio=estagio.id,
                ordinal=1,
                criado_em=criado,
            )
        )
    instancia = WhatsappInstancia(
        id_empresa=empresa.id,
        nome="Simulador local",
        provider="simulador",
    )
    s.add(instancia)
    s.flush()
    automacao = WhatsappAutomacao(
        id_empresa=empresa.id,
        nome="Boas-vindas a leads qualificados",
        id_estagio_trigger=estagios[1].id,
        id_whatsapp_instancia=instancia.id,
    )
    s.add(automacao)
    s.flush()
    etapas = [
        (
            0,
            "Olá, {{primeiro_nome}}! Aqui é da {{empresa}}. Vi que você tem interesse: posso ajudar?",
        ),
        (60, "{{primeiro_nome}}, separei um material rápido sobre como funciona. Quer receber?"),
        (1440, "Oi, {{primeiro_nome}}! Passando para saber se ficou alguma dúvida."),
    ]
    for ordem, (atraso, mensagem) in enumerate(etapas, start=1):
        s.add(
            WhatsappAutomacaoEtapa(
                id_empresa=empresa.id,
                id_whatsapp_automacao=automacao.id,
                ordem=ordem,
                atraso_minutos=atraso,
                mensagem=mensagem,
            )
        )
    return empresa


def semear() -> tuple[str, bool, bool]:
    """Create or refresh the demo; returns ``(senha, senha_gerada, empresa_criada)``."""
    senha, gerada = senha_demo()
    with db.sessao() as s:
        admin = s.exec(select(Usuario).where(Usuario.email == USUARIOS_DEMO[0][0])).first()
        if admin is None:
            _criar_empresa(s, senha)
            return senha, gerada, True
        for email, _nome, _perfil in USUARIOS_DEMO:
            usuario = s.exec(select(Usuario).where(Usuario.email == email)).first()
            if usuario and not _senha_confere(usuario.senha_hash, senha):
                usuario.senha_hash = hash_senha(senha)
                s.add(usuario)
    return senha, gerada, False


def main() -> None:
    senha, gerada, criada = semear()
    origem = (
        "DEMO_SENHA"
        if configuracoes().demo_senha
        else ("gerada agora" if gerada else f"guardada em {ARQUIVO_SENHA}")
    )
    print("Dados de demonstração " + ("criados." if criada else "já existiam (reaproveitados)."))
    print("Acesse com um destes usuários:")
    for email, _nome, perfil in USUARIOS_DEMO:
        print(f"  {perfil.value:<9} {email}")
    print(f"  senha:    {senha}   ({origem})")


if __name__ == "__main__":
    main()
