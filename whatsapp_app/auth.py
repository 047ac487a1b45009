"""Login, sessions and the one authorization helper used by every route and every State event.

A session is an opaque random token: the browser keeps it in the ``wa_sessao`` cookie and API
clients send it as ``Authorization: Bearer``. Only its SHA-256 is stored, so a database leak
does not leak live sessions. Passwords are hashed with Argon2id (argon2-cffi).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from whatsapp_app import db
from whatsapp_app.config import configuracoes
from whatsapp_app.logs import logger
from whatsapp_app.models import Empresa, Perfil, SessaoUsuario, TentativaLogin, Usuario
from whatsapp_app.tempo import agora
from whatsapp_app.validacoes import MuitasTentativas, NaoAutenticado, SemPermissao

NOME_COOKIE = "wa_sessao"
MENSAGEM_CREDENCIAIS = "E-mail ou senha inválidos."
MENSAGEM_BLOQUEIO = "Muitas tentativas de login. Aguarde alguns minutos e tente de novo."
FATOR_LIMITE_IP = 4  # an IP may fail this many times the per-e-mail limit (shared offices)

_hasher = PasswordHasher()
_HASH_FALSO = _hasher.hash(secrets.token_hex(16))  # keeps timing equal for unknown e-mails
_log = logger("auth")


@dataclass(frozen=True)
class Contexto:
    """Who is calling: the only way services learn the user, the company and the profile."""

    id_usuario: str
    id_empresa: str
    perfil: str
    nome: str
    email: str
    tema: str
    nome_empresa: str

    def exigir(self, *perfis: Perfil) -> Contexto:
        if perfis and self.perfil not in {p.value for p in perfis}:
            raise SemPermissao("Seu perfil não permite esta ação.")
        return self


def hash_senha(senha: str) -> str:
    return _hasher.hash(senha)


def _senha_confere(senha_hash: str, senha: str) -> bool:
    try:
        return _hasher.verify(senha_hash, senha)
    except (VerificationError, InvalidHashError):
        return False


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _normalizar_email(email: str) -> str:
    return email.strip().lower()


def _bloqueado(s: Session, *, email: str, ip: str) -> bool:
    cfg = configuracoes()
    desde = agora() - timedelta(minutes=cfg.login_janela_minutos)
    por_email = s.exec(
        select(sa.func.count())
        .select_from(TentativaLogin)
        .where(TentativaLogin.email == email, col(TentativaLogin.criado_em) >= desde)
    ).one()
    por_ip = s.exec(
        select(sa.func.count())
        .select_from(TentativaLogin)
        .where(TentativaLogin.ip == ip, col(TentativaLogin.criado_em) >= desde)
    ).one()
    return por_email >= cfg.login_max_tentativas or por_ip >= (
        cfg.login_max_tentativas * FATOR_LIMITE_IP
    )


def autenticar(*, email: str, senha: str, ip: str) -> tuple[str, Contexto]:
    """Check the credentials and open a session; returns ``(token, contexto)``.

    Errors are deliberately generic (never "user not found"). Failures are recorded in their
    own transaction so the rate limit holds across processes and instances.
    """
    email = _normalizar_email(email)
    with db.sessao() as s:
        if _bloqueado(s, email=email, ip=ip):
            _log.warning("login bloqueado", extra={"email": email, "ip": ip})
            raise MuitasTentativas(MENSAGEM_BLOQUEIO)
        usuario = s.exec(select(Usuario).where(Usuario.email == email)).first()
        valido = _senha_confere(usuario.senha_hash if usuario else _HASH_FALSO, senha)
        if not (usuario and usuario.ativo and valido):
            s.add(TentativaLogin(email=email, ip=ip))
            _log.info("login recusado", extra={"email": email, "ip": ip})
            falhou = True
        else:
            falhou = False
            s.exec(sa.delete(TentativaLogin).where(col(TentativaLogin.email) == email))  # type: ignore[call-overload]
            token = secrets.token_urlsafe(32)
            momento = agora()
            s.add(
                SessaoUsuario(
                    id_empresa=usuario.id_empresa,
                    id_usuario=usuario.id,
                    token_hash=_hash_token(token),
                    criado_em=momento,
                    expira_em=momento + timedelta(hours=configuracoes().sessao_horas),
                )
            )
            if _hasher.check_needs_rehash(usuario.senha_hash):
                usuario.senha_hash = _hasher.hash(senha)
                s.add(usuario)
    if falhou:
        raise NaoAutenticado(MENSAGEM_CREDENCIAIS, codigo="credenciais_invalidas")
    contexto = contexto_por_token(token)
    assert contexto is not None
    _log.info("login", extra={"id_usuario": contexto.id_usuario, "id_empresa": contexto.id_empresa})
    return token, contexto


def contexto_por_token(token: str | None) -> Contexto | None:
    """The caller behind a session token, or None when missing, expired, revoked or inactive."""
    if not token:
        return None
    with db.sessao() as s:
        linha = s.exec(
            select(Usuario, Empresa)
            .join(SessaoUsuario, col(SessaoUsuario.id_usuario) == Usuario.id)
            .join(Empresa, col(Empresa.id) == Usuario.id_empresa)
            .where(
                SessaoUsuario.token_hash == _hash_token(token),
                col(SessaoUsuario.revogada_em).is_(None),
                col(SessaoUsuario.expira_em) > agora(),
                col(Usuario.ativo).is_(True),
            )
        ).first()
    if linha is None:
        return None
    usuario, empresa = linha
    return Contexto(
        id_usuario=usuario.id,
        id_empresa=usuario.id_empresa,
        perfil=usuario.perfil,
        nome=usuario.nome,
        email=usuario.email,
        tema=usuario.tema,
        nome_empresa=empresa.nome,
    )


def exigir_contexto(token: str | None, *perfis: Perfil) -> Contexto:
    """The authorization helper: a valid session, optionally with one of ``perfis``."""
    contexto = contexto_por_token(token)
    if contexto is None:
        raise NaoAutenticado("Sessão expirada ou inválida. Entre novamente.")
    return contexto.exigir(*perfis)


def encerrar_sessao(token: str | None) -> None:
    if not token:
        return
    with db.sessao() as s:
        s.exec(
            sa.update(SessaoUsuario)  # type: ignore[call-overload]
            .where(col(SessaoUsuario.token_hash) == _hash_token(token))
            .values(revogada_em=agora())
        )


def salvar_tema(contexto: Contexto, tema: str) -> None:
    if tema not in {"light", "dark", "system"}:
        raise ValueError("tema inválido")
    with db.sessao() as s:
        s.exec(
            sa.update(Usuario)  # type: ignore[call-overload]
            .where(
                col(Usuario.id) == contexto.id_usuario,
                col(Usuario.id_empresa) == contexto.id_empresa,
            )
            .values(tema=tema)
        )
