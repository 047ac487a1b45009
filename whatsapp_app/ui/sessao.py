"""The browser session as Reflex state, and the authorization helper every State event calls.

Every protected feature State inherits ``EstadoSessao`` and starts each event with
``contexto = self.contexto()`` (or ``self.contexto(Perfil.ADMIN, Perfil.GESTOR)``), then passes
``contexto`` to the service functions, exactly like the REST routes do with ``UsuarioAtual``.
When the session is gone the helper raises ``NaoAutenticado``; ``tratar_erro_backend`` (given to
``rx.App``) turns that into a redirect to /login, and any other ``ErroApp`` into a pt-BR toast.

The token lives only in the ``wa_sessao`` cookie, set ``HttpOnly`` by an HTTP response
(``POST /api/auth/sessao``, the browser login): no page script can read it, and it is never a
State var, so it never travels in a websocket frame. The server reads it from the Cookie
header of the websocket handshake; after login the page reloads, so the new socket carries it.
Logout revokes the session on the server and clears the cookie through ``/api/auth/logout``.
"""

# No ``from __future__ import annotations`` here: Reflex inspects the exception handler's
# annotations at runtime and rejects them as strings.

import time
import uuid
from http.cookies import CookieError, SimpleCookie
from urllib.parse import quote

import reflex as rx
from reflex.utils.exceptions import ImmutableStateError
from reflex_base.event import EventSpec

from whatsapp_app import auth
from whatsapp_app.auth import TEMAS, Contexto
from whatsapp_app.logs import logger
from whatsapp_app.models import Perfil
from whatsapp_app.validacoes import ErroApp, NaoAutenticado

ROTA_LOGIN = "/login"
ROTA_INICIAL = "/leads"
# A session checked this recently is trusted without asking the database again; a revoked
# session therefore stops working in an open tab within this many seconds.
VALIDADE_CACHE_S = 10.0
MENSAGEM_SESSAO_EXPIRADA = "Sessão expirada ou inválida. Entre novamente."
ROTULOS_PERFIL = {
    Perfil.ADMIN.value: "Administrador",
    Perfil.GESTOR.value: "Gestor",
    Perfil.VENDEDOR.value: "Vendedor",
}

_log = logger("ui.sessao")


def destino_seguro(proximo: str | None) -> str:
    """Where to go after login: only a path of this app, never another site (open redirect)."""
    if proximo and proximo.startswith("/") and not proximo.startswith(("//", "/\\", ROTA_LOGIN)):
        return proximo
    return ROTA_INICIAL


def _token_do_cabecalho(cabecalho_cookie: str) -> str:
    if not cabecalho_cookie:
        return ""
    biscoitos: SimpleCookie = SimpleCookie()
    try:
        biscoitos.load(cabecalho_cookie)
    except CookieError:
        return ""
    morsel = biscoitos.get(auth.NOME_COOKIE)
    return morsel.value if morsel else ""


class _Autorizacao:
    """Holds the helper outside the State class body on purpose.

    Reflex turns every public function defined in an ``rx.State`` body into an event handler
    the browser may call; ``contexto`` must stay a plain method that only events call.
    """

    def contexto(self, *perfis: Perfil) -> Contexto:
        """The caller of this event, checked against ``perfis``; raises ``NaoAutenticado``.

        Inside ``@rx.event(background=True)`` call it within ``async with self:``.
        """
        estado: EstadoSessao = self  # type: ignore[assignment]
        token = estado._token_atual()
        cache = estado._contexto_cache
        if (
            token
            and cache
            and estado._token_validado == token
            and time.time() - estado._validado_em < VALIDADE_CACHE_S
        ):
            return Contexto(**cache).exigir(*perfis)
        contexto = auth.contexto_por_token(token)
        if contexto is None:
            with _se_mutavel():
                estado._esquecer()
            raise NaoAutenticado(MENSAGEM_SESSAO_EXPIRADA)
        with _se_mutavel():
            estado._lembrar(token, contexto)
        return contexto.exigir(*perfis)


class _se_mutavel:
    """Ignore cache writes attempted outside ``async with self`` in a background event."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, tipo: type[BaseException] | None, *_: object) -> bool:
        return tipo is not None and issubclass(tipo, ImmutableStateError)


# Logout: the HttpOnly cookie can only be cleared by an HTTP response; then a full load of the
# login page opens a fresh websocket without it.
SCRIPT_SAIR = (
    "fetch('/api/auth/logout', {method: 'POST', credentials: 'same-origin'})"
    f".finally(() => window.location.replace('{ROTA_LOGIN}'))"
)


class EstadoSessao(rx.State, _Autorizacao):
    """Who is logged in. Feature States inherit it; it holds only plain values (never the
    session token: see the module docstring)."""

    autenticado: bool = False
    nome_usuario: str = ""
    email_usuario: str = ""
    perfil: str = ""
    nome_empresa: str = ""
    # "" until the session is known, so the page keeps the browser's mode until then.
    tema: str = ""

    _contexto_cache: dict[str, str] = {}
    _token_validado: str = ""
    _validado_em: float = 0.0

    @rx.var(cache=True)
    def rotulo_perfil(self) -> str:
        return ROTULOS_PERFIL.get(self.perfil, self.perfil.capitalize())

    @rx.var(cache=True)
    def iniciais(self) -> str:
        partes = [p for p in self.nome_usuario.split() if p]
        if not partes:
            return ""
        if len(partes) == 1:
            return partes[0][:2].upper()
        return (partes[0][0] + partes[-1][0]).upper()

    # --- internals -------------------------------------------------------------------------

    def _token_do_handshake(self) -> str:
        return _token_do_cabecalho(self.router.headers.cookie)

    def _token_atual(self) -> str:
        return self._token_do_handshake()

    def _lembrar(self, token: str, contexto: Contexto) -> None:
        self._contexto_cache = {
            "id_usuario": contexto.id_usuario,
            "id_empresa": contexto.id_empresa,
            "perfil": contexto.perfil,
            "nome": contexto.nome,
            "email": contexto.email,
            "tema": contexto.tema,
            "nome_empresa": contexto.nome_empresa,
        }
        self._token_validado = token
        self._validado_em = time.time()
        self.autenticado = True
        self.nome_usuario = contexto.nome
        self.email_usuario = contexto.email
        self.perfil = contexto.perfil
        self.nome_empresa = contexto.nome_empresa
        self.tema = contexto.tema if contexto.tema in TEMAS else "system"

    def _esquecer(self) -> None:
        self._contexto_cache = {}
        self._token_validado = ""
        self._validado_em = 0.0
        self.autenticado = False
        self.nome_usuario = ""
        self.email_usuario = ""
        self.perfil = ""
        self.nome_empresa = ""

    def _rota_atual(self) -> str:
        url = self.router.url
        caminho = url.path or ROTA_INICIAL
        return f"{caminho}?{url.query}" if url.query else caminho

    # --- events ----------------------------------------------------------------------------

    @rx.event
    def verificar_sessao(self):
        """on_load of every protected page: a fresh check, or off to /login."""
        self._validado_em = 0.0
        try:
            self.contexto()
        except NaoAutenticado:
            proximo = quote(self._rota_atual(), safe="/")
            return rx.redirect(f"{ROTA_LOGIN}?proximo={proximo}", replace=True)
        return None

    @rx.event
    def ir_para_inicio(self):
        """on_load of ``/``: the app when logged in, else the login page."""
        self._validado_em = 0.0
        try:
            self.contexto()
        except NaoAutenticado:
            return rx.redirect(ROTA_LOGIN, replace=True)
        return rx.redirect(ROTA_INICIAL, replace=True)

    @rx.event
    def sair(self):
        """Logout: revoke the session on the server, forget it here, clear the cookie."""
        auth.encerrar_sessao(self._token_do_handshake())
        self._esquecer()
        return rx.call_script(SCRIPT_SAIR)


def tratar_erro_backend(exception: Exception) -> list[EventSpec]:
    """``rx.App(backend_exception_handler=...)``: what the user sees when an event raises.

    A lost session goes to /login; a service error (``ErroApp``) becomes a pt-BR toast with its
    own message; anything else is logged with a reference and shown as a generic toast.
    """
    if isinstance(exception, NaoAutenticado):
        return [rx.redirect(ROTA_LOGIN, replace=True)]
    if isinstance(exception, ErroApp):
        return [rx.toast.error(exception.mensagem, id="erro_app")]
    referencia = uuid.uuid4().hex[:12]
    _log.error(
        "erro inesperado em evento",
        exc_info=(type(exception), exception, exception.__traceback__),
        extra={"referencia": referencia},
    )
    return [
        rx.toast.error(
            "Algo deu errado. Tente novamente.",
            description=f"Referência {referencia}",
            id="erro_backend",
        )
    ]
