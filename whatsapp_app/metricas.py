"""Prometheus metrics (the plan's names). Counters are process-safe when
``PROMETHEUS_MULTIPROC_DIR`` is set (prometheus_client's multiprocess mode)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

jobs_claimed = Counter("jobs_claimed", "Jobs claimed by a dispatcher (PENDENTE → PROCESSANDO).")
jobs_skipped_already_claimed = Counter(
    "jobs_skipped_already_claimed", "Claims that lost the race to another dispatcher."
)
jobs_duplicate_blocked = Counter(
    "jobs_duplicate_blocked", "Job inserts refused by the idempotency key."
)
jobs_sent = Counter("jobs_sent", "Jobs accepted by the provider.")
jobs_failed = Counter("jobs_failed", "Jobs that ended in ERRO.")
jobs_retried = Counter("jobs_retried", "Jobs put back to PENDENTE after a retryable failure.")
jobs_uncertain = Counter("jobs_uncertain", "Jobs whose provider outcome is unknown (INCERTO).")
jobs_reaped = Counter("jobs_reaped", "Stale PROCESSANDO jobs recovered by the reaper.")
jobs_cancelados_resposta = Counter(
    "jobs_cancelados_resposta", "Pending jobs cancelled because the lead replied."
)
jobs_cancelados_optout = Counter(
    "jobs_cancelados_optout", "Jobs cancelled because the lead opted out (at reply or send)."
)
mensagens_recebidas = Counter(
    "mensagens_recebidas", "Inbound WhatsApp messages stored (redeliveries not counted)."
)
erros_provedor_webhook = Counter(
    "erros_provedor_webhook", "Errors a provider reported in a webhook delivery (Meta errors[])."
)
agendador_rodadas = Counter(
    "scheduler_rounds", "Dispatch rounds run by the in-process scheduler or a worker."
)
latencia_despacho = Histogram(
    "dispatch_latency_seconds",
    "Due time → provider accepted, in seconds.",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)


def exportar() -> bytes:
    """The exposition text; aggregates every process when multiprocess mode is on."""
    import os

    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registro = CollectorRegistry()
        multiprocess.MultiProcessCollector(registro)
        return generate_latest(registro)
    return generate_latest(REGISTRY)
