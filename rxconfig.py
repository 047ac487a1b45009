"""Reflex configuration: every value comes from the settings module."""

import reflex as rx

from whatsapp_app.config import configuracoes

_cfg = configuracoes()

config = rx.Config(
    app_name="whatsapp_app",
    show_built_with_reflex=False,
    db_url=_cfg.database_url,
    redis_url=_cfg.redis_url or None,
    telemetry_enabled=False,
    frontend_port=_cfg.port,
    backend_port=_cfg.port,
    # Reflex wraps the backend (and the mounted REST API) in its own CORS middleware and gives
    # the same list to the Socket.IO server; its default "*" with credentials echoes any Origin.
    cors_allowed_origins=_cfg.origens_cors(),
    disable_plugins=[rx.plugins.SitemapPlugin],
)
