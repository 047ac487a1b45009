"""``python -m whatsapp_app.simulador``: serve the simulator until interrupted (JSON logs).

Settings: ``--porta`` (``SIMULADOR_PORT``), ``--auto-conectar-s`` (``SIMULADOR_AUTO_CONECTAR_S``;
0 or negative: only the page's button pairs), ``--leitura-s`` (``SIMULADOR_LEITURA_S``: the
contact reads what we sent after this long; 0: never), ``--instancia NOME`` (repeatable:
created already paired) and ``--criar-sob-demanda`` (any instance name is served, for load
tests that skip ``/instance/create``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType

from whatsapp_app.config import configuracoes
from whatsapp_app.logs import configurar_logs, logger
from whatsapp_app.simulador import (
    SIMULADOR_AUTO_CONECTAR_S_PADRAO,
    SIMULADOR_HOST,
    SIMULADOR_LEITURA_S_PADRAO,
)
from whatsapp_app.simulador.estado import Simulador
from whatsapp_app.simulador.servidor import ServidorSimulador


def _interromper(_sinal: int, _quadro: FrameType | None) -> None:
    raise KeyboardInterrupt


def _leitura_padrao(cfg: object) -> float:
    """``SIMULADOR_LEITURA_S``: from the app's settings when they have it, else the env."""
    valor = getattr(cfg, "simulador_leitura_s", None)
    if valor is not None:
        return float(valor)
    bruto = os.environ.get("SIMULADOR_LEITURA_S", "").strip()
    if not bruto:
        return SIMULADOR_LEITURA_S_PADRAO
    try:
        return float(bruto)
    except ValueError:
        raise SystemExit(
            f"SIMULADOR_LEITURA_S inválido: {bruto!r} (use segundos, ex.: 5)"
        ) from None


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
        help="segundos até o QR ser 'escaneado' sozinho (0 ou negativo: só pelo botão da página)",
    )
    parser.add_argument(
        "--leitura-s",
        type=float,
        default=_leitura_padrao(cfg),
        help="segundos até o contato 'ler' cada mensagem recebida (status READ; 0: nunca)",
    )
    parser.add_argument(
        "--instancia",
        action="append",
        default=[],
        metavar="NOME",
        help="cria esta instância já conectada ao iniciar (pode repetir)",
    )
    parser.add_argument(
        "--criar-sob-demanda",
        action="store_true",
        help="atende qualquer nome de instância, sem /instance/create (testes de carga)",
    )
    args = parser.parse_args(argv)

    configurar_logs()
    log = logger("simulador")
    simulador = Simulador(
        auto_conectar_s=args.auto_conectar_s,
        leitura_s=args.leitura_s,
        criar_sob_demanda=args.criar_sob_demanda,
        instancias=args.instancia,
    )
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
        extra={"url": servidor.url, **simulador.config()},
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
