"""Login, sessions and the one authorization helper used by every route and every State event.

A session is an opaque random token: the browser keeps it in the ``wa_sessao`` cookie and API
clients send it as ``Authorization: Bearer``. Only its SHA-256 is stored, so a database leak
does not leak live sessions. Passwords are hashed with Argon2id (argon2-cffi).

Login limiter: at most ``LOGIN_MAX_TENTATIVAS`` password checks per normalised e-mail per
``LOGIN_JANELA_MINUTOS``, reserved atomically before each check (``_reservar_tentativa``).

Token lookups are cached per process for ``SESSAO_CACHE_S`` seconds (default 5; ``_CacheSessoes``):
the lookup is a database round trip on every request otherwise. A logout (``encerrar_sessao``),
a deactivation (``desativar_usuario``) or a theme change made in this process drops the entries
at once; one made by another process (or straight in the database) is honoured there after at
most ``SESSAO_CACHE_S`` seconds. An entry never outlives its session's ``expira_em``.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

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
# An address that failed this many times the per-e-mail limit within the window is spraying
# (shared offices stay below it); see _registrar_falha for what that costs it.
FATOR_LIMITE_IP = 4
_ESPACO_TRAVA_LOGIN = 0x6C6F67  # first key of pg_advisory_xact_lock(int, int) for the limiter
_SEM_IP = ""  # a reservation or a spent budget: not a failure of any address

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
        if not perfil_permite(self.perfil, *perfis):
            raise SemPermissao("Seu perfil não permite esta ação.")
        return self


# Who manages automations and instances and acts on the send queue (the API's GestorAtual).
PERFIS_GESTAO = (Perfil.ADMIN, Perfil.GESTOR)


def perfil_permite(perfil: str, *perfis: Perfil) -> bool:
    """The role rule of ``Contexto.exigir`` (no ``perfis``: anyone), for a UI to mirror it."""
    return not perfis or perfil in {p.value for p in perfis}


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


class LoginBloqueado(MuitasTentativas):
    """429 that says how long to wait; the API sends ``cabecalhos`` along (``Retry-After``)."""

    def __init__(self, espera_s: int) -> None:
        super().__init__(MENSAGEM_BLOQUEIO)
        self.espera_s = espera_s
        self.cabecalhos = {"Retry-After": str(espera_s)}


@dataclass(frozen=True)
class _Reserva:
    """One password check the limiter granted, recorded before the check runs."""

    id: str
    id_usuario: str | None
    senha_hash: str
    ativo: bool


def _janela() -> timedelta:
    return timedelta(minutes=configuracoes().login_janela_minutos)


def _travar_email(s: Session, email: str) -> None:
    """Serialise the limiter for one e-mail across threads, processes and instances.

    PostgreSQL: a transaction-scoped advisory lock on the e-mail's hash (an unknown e-mail has
    no row to lock; a hash collision only makes two e-mails queue). SQLite: nothing to add, the
    transaction began with ``BEGIN IMMEDIATE`` (db.py), which holds the database's write lock
    until commit; the read below happens inside it.
    """
    if db.eh_postgres(s):
        chave = int.from_bytes(hashlib.sha256(email.encode()).digest()[:4], "big", signed=True)
        s.connection().execute(
            sa.text("SELECT pg_advisory_xact_lock(:espaco, :chave)"),
            {"espaco": _ESPACO_TRAVA_LOGIN, "chave": chave},
        )


def _tentativas_na_janela(s: Session, email: str, desde: datetime) -> list[datetime]:
    return list(
        s.exec(
            select(TentativaLogin.criado_em)
            .where(TentativaLogin.email == email, col(TentativaLogin.criado_em) >= desde)
            .order_by(col(TentativaLogin.criado_em))
        ).all()
    )


def _reservar_tentativa(email: str) -> _Reserva:
    """Count and record the attempt in one locked transaction, BEFORE the password check.

    Every row of ``tentativa_login`` for the e-mail inside the window is one password check
    (granted, failed or still running), so at most ``LOGIN_MAX_TENTATIVAS`` checks happen per
    window whatever the concurrency. The reservation carries no IP until it is known to have
    failed: the per-IP count sees failures only.
    """
    cfg = configuracoes()
    momento = agora()
    with db.sessao() as s:
        _travar_email(s, email)
        tentativas = _tentativas_na_janela(s, email, momento - _janela())
        excedente = len(tentativas) - cfg.login_max_tentativas
        if excedente >= 0:
            # The lock lifts when enough of the oldest attempts leave the window.
            libera_em = tentativas[excedente] + _janela()
            raise LoginBloqueado(max(1, math.ceil((libera_em - momento).total_seconds())))
        usuario = s.exec(select(Usuario).where(Usuario.email == email)).first()
        reserva = TentativaLogin(email=email, ip=_SEM_IP, criado_em=momento)
        s.add(reserva)
    return _Reserva(
        id=reserva.id,
        id_usuario=usuario.id if usuario else None,
        senha_hash=usuario.senha_hash if usuario else _HASH_FALSO,
        ativo=bool(usuario and usuario.ativo),
    )


def _registrar_falha(reserva: _Reserva, *, email: str, ip: str) -> None:
    """The reservation becomes a failure of ``ip``. From an address that already failed
    ``FATOR_LIMITE_IP`` x the limit (a spray over many e-mails), a failure also spends the
    rest of that e-mail's budget: one guess per account instead of ``LOGIN_MAX_TENTATIVAS``.
    The address itself is never refused, so a correct password from it still gets in."""
    cfg = configuracoes()
    momento = agora()
    desde = momento - _janela()
    with db.sessao() as s:
        marcadas = s.exec(
            sa.update(TentativaLogin)  # type: ignore[call-overload]
            .where(col(TentativaLogin.id) == reserva.id)
            .values(ip=ip)
        ).rowcount
        if not marcadas:  # a concurrent success cleared the e-mail's rows: still count it
            s.add(TentativaLogin(email=email, ip=ip, criado_em=momento))
            s.flush()
        falhas_ip = s.exec(
            select(sa.func.count())
            .select_from(TentativaLogin)
            .where(TentativaLogin.ip == ip, col(TentativaLogin.criado_em) >= desde)
        ).one()
        if falhas_ip > cfg.login_max_tentativas * FATOR_LIMITE_IP:
            _travar_email(s, email)
            faltam = cfg.login_max_tentativas - len(_tentativas_na_janela(s, email, desde))
            s.add_all(
                TentativaLogin(email=email, ip=_SEM_IP, criado_em=momento) for _ in range(faltam)
            )
            _log.warning("login: endereço com muitas falhas", extra={"email": email, "ip": ip})


def autenticar(*, email: str, senha: str, ip: str) -> tuple[str, Contexto]:
    """Check the credentials and open a session; returns ``(token, contexto)``.

    Errors are deliberately generic (never "user not found"); an unknown e-mail costs the same
    Argon2 check. The attempt is reserved in the database before the check (``_reservar_tentativa``)
    and the slow check runs outside any transaction, so the limit holds across processes and
    instances without serialising logins behind a lock.
    """
    email = _normalizar_email(email)
    ip = (ip or "desconhecido")[:64]
    if any(ord(c) < 0x20 for c in email):
        # The REST API refuses these before any route (api/seguranca.py); this covers callers
        # that do not cross it (a Reflex event): PostgreSQL cannot even compare text with NUL.
        raise NaoAutenticado(MENSAGEM_CREDENCIAIS, codigo="credenciais_invalidas")
    try:
        reserva = _reservar_tentativa(email)
    except LoginBloqueado as exc:
        _log.warning("login bloqueado", extra={"email": email, "ip": ip, "espera_s": exc.espera_s})
        raise
    valido = _senha_confere(reserva.senha_hash, senha)
    if not (reserva.id_usuario and reserva.ativo and valido):
        _registrar_falha(reserva, email=email, ip=ip)
        _log.info("login recusado", extra={"email": email, "ip": ip})
        raise NaoAutenticado(MENSAGEM_CREDENCIAIS, codigo="credenciais_invalidas")
    token = secrets.token_urlsafe(32)
    with db.sessao() as s:
        # Success zeroes the e-mail's counter (the reservation included).
        s.exec(sa.delete(TentativaLogin).where(col(TentativaLogin.email) == email))  # type: ignore[call-overload]
        usuario = s.get(Usuario, reserva.id_usuario)
        if usuario is None or not usuario.ativo:  # removed or disabled during the check
            raise NaoAutenticado(MENSAGEM_CREDENCIAIS, codigo="credenciais_invalidas")
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
    # Not cached here: the session's first request looks it up (a deactivation between the
    # login and that request is then seen at once).
    achado = _buscar_contexto(_hash_token(token))
    if achado is None:
        raise NaoAutenticado(MENSAGEM_CREDENCIAIS, codigo="credenciais_invalidas")
    contexto = achado[0]
    _log.info("login", extra={"id_usuario": contexto.id_usuario, "id_empresa": contexto.id_empresa})
    return token, contexto


@dataclass(frozen=True)
class _Entrada:
    contexto: Contexto
    guardado_em: datetime
    expira_em: datetime  # the session's own expiry


class _CacheSessoes:
    """Token hash -> the caller, for a few seconds (thread-safe, bounded).

    ``esquecer*`` bump a generation: a lookup that read the database before an eviction and
    finishes after it does not store what it read (it may predate the logout/deactivation)."""

    MAXIMO = 10_000

    def __init__(self) -> None:
        self._entradas: dict[str, _Entrada] = {}
        self._trava = threading.Lock()
        self._geracao = 0

    def obter(self, token_hash: str) -> Contexto | None:
        ttl = configuracoes().sessao_cache_s
        entrada = self._entradas.get(token_hash)
        if entrada is None:
            return None
        momento = agora()
        if entrada.guardado_em <= momento < entrada.guardado_em + timedelta(seconds=ttl) and (
            momento < entrada.expira_em
        ):
            return entrada.contexto
        with self._trava:
            if self._entradas.get(token_hash) is entrada:
                del self._entradas[token_hash]
        return None

    def geracao(self) -> int:
        return self._geracao

    def guardar(self, token_hash: str, entrada: _Entrada, geracao: int) -> None:
        if configuracoes().sessao_cache_s <= 0:
            return
        with self._trava:
            if geracao != self._geracao:
                return
            if len(self._entradas) >= self.MAXIMO:
                self._entradas.clear()  # rare (10k live tokens in 5 s): start over
            self._entradas[token_hash] = entrada

    def esquecer(self, token_hash: str) -> None:
        with self._trava:
            self._geracao += 1
            self._entradas.pop(token_hash, None)

    def esquecer_usuario(self, id_usuario: str) -> None:
        with self._trava:
            self._geracao += 1
            for chave in [
                k for k, e in self._entradas.items() if e.contexto.id_usuario == id_usuario
            ]:
                del self._entradas[chave]

    def limpar(self) -> None:
        with self._trava:
            self._geracao += 1
            self._entradas.clear()


_cache = _CacheSessoes()


def _buscar_contexto(token_hash: str) -> tuple[Contexto, datetime] | None:
    with db.sessao() as s:
        linha = s.exec(
            select(Usuario, Empresa, SessaoUsuario.expira_em)
            .join(SessaoUsuario, col(SessaoUsuario.id_usuario) == Usuario.id)
            .join(Empresa, col(Empresa.id) == Usuario.id_empresa)
            .where(
                SessaoUsuario.token_hash == token_hash,
                col(SessaoUsuario.revogada_em).is_(None),
                col(SessaoUsuario.expira_em) > agora(),
                col(Usuario.ativo).is_(True),
            )
        ).first()
    if linha is None:
        return None
    usuario, empresa, expira_em = linha
    contexto = Contexto(
        id_usuario=usuario.id,
        id_empresa=usuario.id_empresa,
        perfil=usuario.perfil,
        nome=usuario.nome,
        email=usuario.email,
        tema=usuario.tema,
        nome_empresa=empresa.nome,
    )
    return contexto, expira_em


def contexto_em_cache(token: str | None) -> Contexto | None:
    """The caller behind ``token`` if this process looked it up less than ``SESSAO_CACHE_S``
    ago; never touches the database (None: ask ``contexto_por_token``)."""
    return _cache.obter(_hash_token(token)) if token else None


def contexto_por_token(token: str | None) -> Contexto | None:
    """The caller behind a session token, or None when missing, expired, revoked or inactive."""
    if not token:
        return None
    token_hash = _hash_token(token)
    contexto = _cache.obter(token_hash)
    if contexto is not None:
        return contexto
    geracao = _cache.geracao()
    achado = _buscar_contexto(token_hash)
    if achado is None:
        return None
    contexto, expira_em = achado
    _cache.guardar(token_hash, _Entrada(contexto, agora(), expira_em), geracao)
    return contexto


def exigir_contexto(token: str | None, *perfis: Perfil) -> Contexto:
    """The authorization helper: a valid session, optionally with one of ``perfis``."""
    contexto = contexto_por_token(token)
    if contexto is None:
        raise NaoAutenticado("Sessão expirada ou inválida. Entre novamente.")
    return contexto.exigir(*perfis)


def encerrar_sessao(token: str | None) -> None:
    """Logout: the session is revoked in the database and forgotten by this process's cache
    (after the commit, so no lookup in between can store it again)."""
    if not token:
        return
    with db.sessao() as s:
        s.exec(
            sa.update(SessaoUsuario)  # type: ignore[call-overload]
            .where(col(SessaoUsuario.token_hash) == _hash_token(token))
            .values(revogada_em=agora())
        )
    _cache.esquecer(_hash_token(token))


def desativar_usuario(*, id_empresa: str, id_usuario: str) -> bool:
    """The user can no longer sign in nor use any open session (at once in this process,
    within ``SESSAO_CACHE_S`` in the others). False when no such user in the company."""
    with db.sessao() as s:
        alterados = s.exec(
            sa.update(Usuario)  # type: ignore[call-overload]
            .where(col(Usuario.id) == id_usuario, col(Usuario.id_empresa) == id_empresa)
            .values(ativo=False)
        ).rowcount
    _cache.esquecer_usuario(id_usuario)
    return bool(alterados)


def esquecer_usuario(id_usuario: str) -> None:
    """Drop this process's cached lookups of the user: call it after committing any change
    to the user that a ``Contexto`` carries (profile, name, e-mail, active)."""
    _cache.esquecer_usuario(id_usuario)


TEMAS = ("light", "dark", "system")  # a user's colour mode ("system" follows the OS)


def salvar_tema(contexto: Contexto, tema: str) -> None:
    if tema not in TEMAS:
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
    _cache.esquecer_usuario(contexto.id_usuario)
