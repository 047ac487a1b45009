"""The Reflex app: builds rx.App, mounts the REST API and registers pages. No logic here."""

import reflex as rx

from whatsapp_app.agendador import ciclo_de_vida
from whatsapp_app.api import criar_api
from whatsapp_app.modules.configuracoes import page as _configuracoes  # noqa: F401
from whatsapp_app.modules.fila import page as _fila  # noqa: F401
from whatsapp_app.modules.inicio import page as _inicio  # noqa: F401
from whatsapp_app.modules.leads import page as _leads  # noqa: F401
from whatsapp_app.modules.login import page as _login  # noqa: F401
from whatsapp_app.modules.saude import page as _saude  # noqa: F401
from whatsapp_app.modules.whatsapp import page as _whatsapp  # noqa: F401
from whatsapp_app.ui import tokens
from whatsapp_app.ui.sessao import tratar_erro_backend

app = rx.App(
    theme=rx.theme(appearance="inherit", accent_color="jade", gray_color="slate", radius="medium"),
    style=tokens.ESTILO_GLOBAL,
    stylesheets=["/app.css", "/leads.css", "/whatsapp.css", "/fila.css"],
    api_transformer=criar_api(),
    backend_exception_handler=tratar_erro_backend,
)
# The dispatcher's scheduler lives and dies with the backend (every backend worker runs one;
# atomic claims make that safe). A mounted FastAPI app's own lifespan is never run by Reflex.
app.register_lifespan_task(ciclo_de_vida)
