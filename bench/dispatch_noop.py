"""The database path of ``bench/dispatch.py``: the real worker with an in-process no-op provider.

``python -m bench.dispatch_noop`` (cwd = the repository root) runs ``whatsapp_app.worker.main``
unchanged: the scheduler, the dispatch rounds (``processar_agendamentos_follow_up_whatsapp``:
claim, context, rate-limit slot, ``envio_iniciado_em``, outcome), the reaper and the
connectivity poller. Only the provider differs: the factories the dispatcher and the poller
fall back to (``whatsapp_automations._fabrica_padrao``, ``conectividade._fabrica_padrao``, the
seam the tests replace) return a provider that accepts every send at once, in this process, with
no HTTP. What is left is the database and the dispatcher's own Python.

The provider records every job id it was asked to send; on exit (SIGTERM, after the worker's
orderly stop) the ids go to ``$BENCH_NOOP_SAIDA/noop-<pid>.ids``, so the bench counts duplicate
and missing sends without the simulator.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.caos_apoio import PY, Frota

VARIAVEL_SAIDA = "BENCH_NOOP_SAIDA"


class ProvedorNoop:
    """Accepts every send at once (no I/O); one per process, shared by every instance."""

    def __init__(self) -> None:
        self.enviados: list[str] = []  # list.append is atomic under the GIL

    def enviar_texto(self, *, numero_e164: str, texto: str, id_agendamento: str) -> Any:
        from whatsapp_app.providers.base import Desfecho, ResultadoEnvio

        self.enviados.append(id_agendamento)
        return ResultadoEnvio(Desfecho.ACEITO, provider_message_id=f"noop-{id_agendamento}")

    def estado_conexao(self) -> Any:
        from whatsapp_app.providers.base import EstadoConexao, StatusConexao

        return EstadoConexao(StatusConexao.CONECTADO)

    def conectar(self) -> Any:
        return self.estado_conexao()

    def reiniciar(self) -> None:
        return None

    def desconectar(self) -> None:
        return None

    def confirmar_envio(self, **_kwargs: Any) -> Any:
        from whatsapp_app.providers.base import Confirmacao, ResultadoConfirmacao

        return ResultadoConfirmacao(Confirmacao.DESCONHECIDO)


@dataclass
class FrotaNoop(Frota):
    """The chaos suite's worker fleet, each process running this module instead of
    ``whatsapp_app.worker`` (same log lines, same SIGTERM stop)."""

    def _comando(self, log: Path) -> tuple[list[str], dict[str, str]]:
        return [PY, "-m", "bench.dispatch_noop"], self.env


def contagem(pasta: Path) -> tuple[int, int]:
    """(duplicate sends, distinct jobs sent) over every no-op worker that wrote its ids."""
    vezes: Counter[str] = Counter()
    for arquivo in pasta.glob("noop-*.ids"):
        vezes.update(arquivo.read_text().split())
    return sum(n - 1 for n in vezes.values() if n > 1), len(vezes)


def main() -> None:
    from whatsapp_app import conectividade, worker
    from whatsapp_app import whatsapp_automations as automacoes

    saida = Path(os.environ[VARIAVEL_SAIDA])
    provedor = ProvedorNoop()
    for modulo in (automacoes, conectividade):
        if not callable(getattr(modulo, "_fabrica_padrao", None)):  # a renamed seam: fail loudly
            raise SystemExit(f"{modulo.__name__}._fabrica_padrao não existe mais")
        modulo._fabrica_padrao = lambda _instancia: provedor  # type: ignore[attr-defined]
    worker.main()
    (saida / f"noop-{os.getpid()}.ids").write_text("\n".join(provedor.enviados))


if __name__ == "__main__":
    main()
