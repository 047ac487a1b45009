"""Login view-model: calls ``auth.autenticar`` and stores the session token in the cookie."""

import asyncio

import reflex as rx

from whatsapp_app import auth
from whatsapp_app.ui.sessao import EstadoSessao, destino_seguro
from whatsapp_app.validacoes import ErroApp

MENSAGEM_CAMPOS_VAZIOS = "Informe e-mail e senha."


class EstadoLogin(EstadoSessao):
    erro: str = ""
    enviando: bool = False

    def _proximo(self) -> str:
        return destino_seguro(self.router.url.query_parameters.get("proximo"))

    @rx.event
    def ao_abrir(self):
        """Someone already logged in goes straight to the app."""
        self.erro = ""
        self.enviando = False
        self._validado_em = 0.0
        contexto = auth.contexto_por_token(self._token_atual())
        if contexto is not None:
            self._lembrar(self._token_atual(), contexto)
            return rx.redirect(self._proximo(), replace=True)
        self._esquecer()
        if self._token_do_handshake() and self._token_do_handshake() != self.token:
            # A dead HttpOnly cookie from the REST login would block the cookie set below.
            return rx.call_script(
                "fetch('/api/auth/logout', {method: 'POST', credentials: 'same-origin'})"
            )
        return None

    @rx.event
    async def entrar(self, dados: dict[str, str]):
        if self.enviando:
            return
        email = str(dados.get("email", "")).strip()
        senha = str(dados.get("senha", ""))
        if not email or not senha:
            self.erro = MENSAGEM_CAMPOS_VAZIOS
            return
        self.erro = ""
        self.enviando = True
        yield
        try:
            # Argon2 is deliberately slow: keep it off the event loop.
            token, contexto = await asyncio.to_thread(
                auth.autenticar,
                email=email,
                senha=senha,
                ip=self.router.session.client_ip or "desconhecido",
            )
        except ErroApp as exc:
            self.erro = exc.mensagem
            return
        finally:
            self.enviando = False
        self._lembrar(token, contexto)
        self.token = token
        yield rx.redirect(self._proximo(), replace=True)
