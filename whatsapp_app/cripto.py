"""Provider credentials at rest: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``).

The Fernet key is derived with HKDF-SHA256 from ``SEGREDO_APP`` (settings), so the database
alone never reveals a token. ``mascarar`` is the one way secrets appear in logs and API answers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from whatsapp_app.config import configuracoes

_SAL = b"whatsapp_app/cripto/v1"
_INFO = b"config-provedor-whatsapp"
MASCARA = "••••"

# Config keys that hold secrets (contract §4 instance configs, plus common spellings).
CHAVES_SECRETAS = frozenset(
    {
        "api_key",
        "apikey",
        "access_token",
        "app_secret",
        "verify_token",
        "token",
        "segredo",
        "segredo_webhook",
        "secret",
        "senha",
        "password",
        "authorization",
    }
)
_FRAGMENTOS_SECRETOS = ("token", "secret", "segredo", "senha", "password", "api_key", "apikey")


class ErroCripto(ValueError):
    """The stored config cannot be read with the current ``SEGREDO_APP``."""


@lru_cache(maxsize=8)
def _fernet(segredo: str) -> Fernet:
    chave = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SAL, info=_INFO).derive(
        segredo.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(chave))


def _segredo(segredo: str | None) -> str:
    return segredo if segredo is not None else configuracoes().segredo_app


def cifrar_config(config: Mapping[str, Any], *, segredo: str | None = None) -> str:
    """A provider config dict → an opaque token (str) for ``WhatsappInstancia.config_cifrada``."""
    texto = json.dumps(dict(config), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return _fernet(_segredo(segredo)).encrypt(texto.encode("utf-8")).decode("ascii")


def decifrar_config(cifrado: str, *, segredo: str | None = None) -> dict[str, Any]:
    """The inverse of ``cifrar_config``. An empty value is an empty config (``simulador``)."""
    if not cifrado:
        return {}
    try:
        texto = _fernet(_segredo(segredo)).decrypt(cifrado.encode("ascii"))
        valor = json.loads(texto)
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise ErroCripto(
            "Não foi possível decifrar a configuração do provedor (o SEGREDO_APP mudou?)."
        ) from exc
    if not isinstance(valor, dict):
        raise ErroCripto("Configuração do provedor corrompida.")
    return valor


def eh_chave_secreta(chave: str) -> bool:
    minuscula = chave.lower()
    return minuscula in CHAVES_SECRETAS or any(f in minuscula for f in _FRAGMENTOS_SECRETOS)


def mascarar_valor(valor: Any) -> str:
    """``"••••1234"`` for long secrets (the last 4 help an operator tell keys apart), only
    ``"••••"`` for short ones, where 4 characters would give too much away."""
    if valor is None or valor == "":
        return ""
    texto = str(valor)
    return f"{MASCARA}{texto[-4:]}" if len(texto) >= 12 else MASCARA


def mascarar(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` safe for logs and API answers: secret values masked, nested too."""
    resultado: dict[str, Any] = {}
    for chave, valor in config.items():
        if isinstance(valor, Mapping):
            resultado[chave] = mascarar(valor)
        elif eh_chave_secreta(str(chave)):
            resultado[chave] = mascarar_valor(valor)
        else:
            resultado[chave] = valor
    return resultado
