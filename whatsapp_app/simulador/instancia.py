"""One simulated Evolution instance (its connection state, QR code and webhook settings), and the
error for a name the simulator does not serve. Not thread-safe on its own: ``Simulador`` changes
instances under its lock.
"""

from __future__ import annotations

import base64
import io
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import qrcode


class InstanciaInexistente(LookupError):
    """The simulator has no instance by this name (Evolution: 404)."""

    def __init__(self, nome: str) -> None:
        super().__init__(nome)
        self.nome = nome


def _qr_png_base64(conteudo: str) -> str:
    imagem = qrcode.make(conteudo)
    buffer = io.BytesIO()
    imagem.save(buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass
class Instancia:
    nome: str
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    estado: str = "close"  # close | connecting | open
    qr_code: str | None = None
    qr_base64: str | None = None  # data:image/png;base64,... as Evolution sends it
    pairing_code: str | None = None
    contagem_qr: int = 0
    geracao: int = 0  # bumps on every state change; stale auto-connect timers check it
    webhook: dict[str, Any] | None = None
    atualizada_em: datetime = field(default_factory=lambda: datetime.now(UTC))

    def novo_qr(self) -> None:
        """A fresh QR code and pairing code to show while pairing."""
        self.qr_code = f"2@{secrets.token_urlsafe(32)},{secrets.token_urlsafe(16)},1"
        self.qr_base64 = "data:image/png;base64," + _qr_png_base64(self.qr_code)
        self.pairing_code = secrets.token_hex(4).upper()
        self.contagem_qr += 1

    def objeto_qr(self) -> dict[str, Any]:
        """Evolution's QR object (``/instance/connect``, ``qrcode.updated``)."""
        return {
            "pairingCode": self.pairing_code,
            "code": self.qr_code,
            "base64": self.qr_base64,
            "count": self.contagem_qr,
        }
