"""Feature flags per company, for the in-place rollout of the redesigned module (plan 5, K).

A flag's value is, in order: ``FEATURE_FLAGS`` in the environment (forces it for every
company: the operator's kill switch), the company's row, the flag's default.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from whatsapp_app.config import configuracoes
from whatsapp_app.models import FeatureFlag
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import ErroValidacao


@dataclass(frozen=True)
class Flag:
    chave: str
    descricao: str
    padrao: bool


FLAGS = {
    f.chave: f
    for f in (
        Flag("whatsapp_cards_status", "Cartões de status das instâncias com conexão ao vivo", True),
        Flag("whatsapp_lista_fluxos", "Lista de automações no formato Gatilho → Ação", True),
        Flag("whatsapp_disparo_manual", "Barra “Disparar agora” com progresso", True),
        Flag("whatsapp_construtor_lateral", "Construtor de automação em painel lateral", True),
    )
}


def flags_da_empresa(*, sessao: Session, id_empresa: str) -> dict[str, dict[str, object]]:
    """Every known flag with its effective value and where that value comes from."""
    salvas = {
        f.chave: f.ativo
        for f in sessao.exec(select(FeatureFlag).where(FeatureFlag.id_empresa == id_empresa)).all()
    }
    forcadas = configuracoes().flags_forcadas()
    resultado: dict[str, dict[str, object]] = {}
    for chave, flag in FLAGS.items():
        if chave in forcadas:
            valor, origem = forcadas[chave], "ambiente"
        elif chave in salvas:
            valor, origem = salvas[chave], "empresa"
        else:
            valor, origem = flag.padrao, "padrao"
        resultado[chave] = {"ativo": valor, "origem": origem, "descricao": flag.descricao}
    return resultado


def flag_ativa(*, sessao: Session, id_empresa: str, chave: str) -> bool:
    return bool(flags_da_empresa(sessao=sessao, id_empresa=id_empresa)[chave]["ativo"])


def definir_flag(*, sessao: Session, id_empresa: str, chave: str, ativo: bool) -> None:
    if chave not in FLAGS:
        raise ErroValidacao({"chave": "Flag desconhecida."})
    flag = sessao.exec(
        select(FeatureFlag).where(FeatureFlag.id_empresa == id_empresa, FeatureFlag.chave == chave)
    ).first() or FeatureFlag(id_empresa=id_empresa, chave=chave)
    flag.ativo = ativo
    flag.atualizado_em = agora()
    sessao.add(flag)
    sessao.flush()
