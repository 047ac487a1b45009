"""``python -m whatsapp_app.simulador``: serve the simulator until interrupted (JSON logs)."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from whatsapp_app.config import configuracoes
from whatsapp_app.logs import configurar_logs, logger
from whatsapp_app.simulador import (
    SIMULADOR_AUTO_CONECTAR_S_PADRAO,
    SIMULADOR_HOST,
)
from whatsapp_app.simulador.estado import Simulador
from whatsapp_app.simulador.servidor import ServidorSimulador


def _interromper(_sinal: int, _quadro: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    cfg = configuracoes()
    padrao_auto = getattr(cfg, "simulador_auto_conectar_s", SIMULADOR_AUTO_CONECTAR_S_PADRAO)
    parser = argparse.ArgumentParser(
        prog="python -m whatsapp_app.simulador",
        description="Simulador local da Evolution API v2 para demonstração e testes.",
    )
    parser.add_argument("--host", default=SIMULADOR_HOST)
    parser.add_argument("--porta", type=int, default=cfg.simulador_port)
    parser.add_argument(
        "--auto-conectar-s",
        type=float,
        default=padrao_auto,
        help="segundos até o QR ser 'escaneado' sozinho (negativo: só pelo botão da página)",
    )
    args = parser.parse_args(argv)

    configurar_logs()
    log = logger("simulador")
    simulador = Simulador(auto_conectar_s=args.auto_conectar_s)
    try:
        servidor = ServidorSimulador(simulador, host=args.host, porta=args.porta)
    except OSError as exc:
        log.error(
            "simulador: não foi possível abrir a porta",
            extra={"porta": args.porta, "erro": str(exc)},
        )
        simulador.parar()
        return 1
    signal.signal(signal.SIGTERM, _interromper)
    log.info(
        "simulador: ouvindo",
        extra={"url": servidor.url, "auto_conectar_s": args.auto_conectar_s},
    )
    try:
        servidor.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        simulador.parar()
        servidor.server_close()
        log.info("simulador: encerrado")
    return 0


if __name__ == "__main__":
    sys.exit(main())
