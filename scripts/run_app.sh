#!/usr/bin/env bash
# `make run` after the venv and bun exist: migrate, seed, start the simulator, serve on $PORT,
# and (in the background, once the app answers) create and connect the simulator instances.
# Expects the environment the Makefile exports (REFLEX_USE_SYSTEM_BUN=1, bun on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
export PORT=${PORT:-3000}

tem_modulo() {
  "$PY" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec(sys.argv[1]) is None)' "$1"
}

# Metrics from every backend worker process add up (prometheus_client multiprocess mode).
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$PWD/data/metricas}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

echo "==> Migrações (alembic upgrade head)"
.venv/bin/alembic upgrade head

echo "==> Dados de demonstração"
"$PY" -m whatsapp_app.seed

SIMULADOR_PID=""
PREPARAR_PID=""
parar_processo() {
  if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
parar_simulador() {
  parar_processo "$PREPARAR_PID"
  parar_processo "$SIMULADOR_PID"
}
trap parar_simulador EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if tem_modulo whatsapp_app.simulador; then
  echo "==> Simulador de WhatsApp em segundo plano: http://127.0.0.1:${SIMULADOR_PORT:-8765}"
  "$PY" -m whatsapp_app.simulador &
  SIMULADOR_PID=$!
else
  echo "==> whatsapp_app.simulador ainda não existe: simulador não iniciado"
fi

echo "==> App em produção em http://localhost:$PORT (Ctrl-C para parar)"
"$PY" scripts/reflex_prod.py run --env prod --frontend-port "$PORT" --backend-port "$PORT" &
APP_PID=$!

if [ -n "$SIMULADOR_PID" ]; then
  # The simulator starts empty on every run (it keeps no state): once the app answers, create
  # and connect the database's `simulador` instances there, webhook included, so follow-ups
  # go out and the contact's replies (page http://127.0.0.1:${SIMULADOR_PORT:-8765}) come back.
  "$PY" -m whatsapp_app.simulador.preparar &
  PREPARAR_PID=$!
fi
trap 'kill -TERM "$APP_PID" 2>/dev/null || true; wait "$APP_PID" 2>/dev/null || true; parar_simulador' EXIT
wait "$APP_PID"
