"""Login view-model. The browser posts the credentials to ``POST /api/auth/sessao`` itself
(``SCRIPT_ENTRAR``): the password never goes through the websocket, and the session cookie
comes back ``HttpOnly`` in the HTTP response, so no page script and no State ever holds the
token. The page then reloads, and the new websocket carries the cookie."""

import json

import reflex as rx

from whatsapp_app import auth
from whatsapp_app.ui.sessao import EstadoSessao, destino_seguro

MENSAGEM_CAMPOS_VAZIOS = "Informe e-mail e senha."
MENSAGEM_FALHA = "Não foi possível entrar agora. Tente novamente."
ID_FORMULARIO = "form-login"
RESPOSTA_OK = "ok"
RESPOSTA_VAZIO = "vazio"
MAX_MENSAGEM = 300

# Resolves to "ok", "vazio" or the server's pt-BR error message (contract error shape).
SCRIPT_ENTRAR = f"""(async () => {{
  const f = document.getElementById('{ID_FORMULARIO}');
  const dados = {{email: f.elements.email.value, senha: f.elements.senha.value}};
  if (!dados.email.trim() || !dados.senha) return '{RESPOSTA_VAZIO}';
  try {{
    const r = await fetch('/api/auth/sessao', {{
      method: 'POST', credentials: 'same-origin',
      headers: {{'Content-Type': 'application/json'}}, body: JSON.stringify(dados)}});
    if (r.ok) return '{RESPOSTA_OK}';
    const j = await r.json().catch(() => null);
    return (j && j.erro && j.erro.mensagem) || '{MENSAGEM_FALHA}';
  }} catch (e) {{ return '{MENSAGEM_FALHA}'; }}
}})()"""


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
        token = self._token_atual()
        contexto = auth.contexto_por_token(token)
        if contexto is not None:
            self._lembrar(token, contexto)
            return rx.redirect(self._proximo(), replace=True)
        self._esquecer()
        return None

    @rx.event
    def entrar(self):
        """The form was submitted: the browser itself posts the credentials (no password in
        a websocket frame); ``resultado`` gets the answer."""
        if self.enviando:
            return None
        self.erro = ""
        self.enviando = True
        return rx.call_script(SCRIPT_ENTRAR, callback=EstadoLogin.resultado)

    @rx.event
    def resultado(self, resposta: str):
        self.enviando = False
        if resposta == RESPOSTA_OK:
            # A full load: the new websocket handshake carries the HttpOnly cookie.
            return rx.call_script(f"window.location.replace({json.dumps(self._proximo())})")
        self.erro = (
            MENSAGEM_CAMPOS_VAZIOS
            if resposta == RESPOSTA_VAZIO
            else str(resposta or MENSAGEM_FALHA)[:MAX_MENSAGEM]
        )
        return None
