"""``python -m whatsapp_app.simulador.preparar``: connect the app's simulator instances.

The simulator keeps everything in memory, and Evolution (which it imitates) knows only the
instances created with ``POST /instance/create``: each ``make run`` starts it empty, while the
database still has the demo's instance (seeded once, maybe ``conectado`` from the last run).
``scripts/run_app.sh`` runs this in the background once the app is starting: it waits for the
simulator and for the app's ``/api/health`` (the simulator's ``connection.update`` webhook must
find the app up), then does for every active ``simulador`` instance what the "Conectar"
button does (``instancias.conectar_instancia``): the adapter creates the instance on the
simulator (connect answers 404 → ``/instance/create``), the webhook is pointed at the app
with the instance's secret and every event we subscribe (replies included), and the
simulator's auto-scan (``SIMULADOR_AUTO_CONECTAR_S``) pairs it a few seconds later.

This lives on the app's side (it reads the database); the simulator itself never does.
"""

from __future__ import annotations

import argparse
import sys
import time

import httpx
from sqlmodel import col, select

from whatsapp_app import db
from whatsapp_app.instancias import FabricaProvedor, conectar_instancia, url_publica_app
from whatsapp_app.logs import configurar_logs, logger
from whatsapp_app.models import Provedor, WhatsappInstancia
from whatsapp_app.providers.fabrica import url_simulador
from whatsapp_app.validacoes import ErroApp

_log = logger("simulador.preparar")


def conectar_simuladores(*, fabrica: FabricaProvedor | None = None) -> dict[str, int]:
    """Connect every active ``simulador`` instance of every company. Failures are logged and
    counted, never raised: one broken instance does not keep the others offline.
    Returns ``{"instancias", "conectadas", "falhas"}``."""
    with db.sessao() as sessao:
        alvos = sessao.exec(
            select(WhatsappInstancia.id_empresa, WhatsappInstancia.id)
            .where(
                WhatsappInstancia.provider == Provedor.SIMULADOR.value,
                col(WhatsappInstancia.excluida_em).is_(None),
            )
            .order_by(col(WhatsappInstancia.criado_em), col(WhatsappInstancia.id))
        ).all()
    resumo = {"instancias": len(alvos), "conectadas": 0, "falhas": 0}
    for id_empresa, id_instancia in alvos:
        try:
            conectar_instancia(id_empresa=id_empresa, id_instancia=id_instancia, fabrica=fabrica)
        except ErroApp as exc:
            resumo["falhas"] += 1
            _log.warning(
                "simulador: instância não conectada",
                extra={"id_instancia": id_instancia, "erro": exc.mensagem},
            )
        else:
            resumo["conectadas"] += 1
    _log.info("simulador: instâncias preparadas", extra=resumo)
    return resumo


def esperar_responder(url: str, *, limite_s: float, intervalo_s: float = 1.0) -> bool:
    """Whether ``GET url`` answered 200 within ``limite_s`` (polled every ``intervalo_s``)."""
    fim = time.monotonic() + limite_s
    with httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0)) as cliente:
        while True:
            try:
                if cliente.get(url).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            if time.monotonic() >= fim:
                return False
            time.sleep(intervalo_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m whatsapp_app.simulador.preparar",
        description="Cria e conecta no simulador as instâncias 'simulador' do banco.",
    )
    parser.add_argument(
        "--limite-s",
        type=float,
        default=900.0,
        help="quanto esperar pelo simulador e pelo app (o primeiro build do app é demorado)",
    )
    parser.add_argument(
        "--sem-esperar-app", action="store_true", help="não espera o /api/health do app"
    )
    args = parser.parse_args(argv)
    configurar_logs()
    alvos = [f"{url_simulador()}/__sim/config"]
    if not args.sem_esperar_app:
        alvos.append(f"{url_publica_app()}/api/health")
    for url in alvos:
        if not esperar_responder(url, limite_s=args.limite_s):
            _log.error("simulador: sem resposta, instâncias não preparadas", extra={"url": url})
            return 1
    resumo = conectar_simuladores()
    return 0 if resumo["falhas"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
