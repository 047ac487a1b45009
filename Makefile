# Everything a fresh clone needs: python3, node/npm and make.
#   make run        set up, migrate, seed, start the WhatsApp simulator, serve the app on $(PORT)
#   make test       the whole suite (unit, API, DB, e2e in Chromium); PYTEST_ARGS passes through
#   make lint / typecheck / e2e / worker
# A second `make run` reinstalls nothing and reuses the frontend build when the compiled
# frontend did not change (scripts/reflex_prod.py).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

PYTHON ?= python3
PORT ?= 3000
PYTEST_ARGS ?=
BUN_VERSION := 1.4.4

VENV := .venv
PY := $(VENV)/bin/python
INSTALADO := $(VENV)/.instalado
TOOLS := .tools
BUN := $(TOOLS)/.bun-$(BUN_VERSION)

# Reflex downloads bun from the internet unless told to use the one on PATH.
export REFLEX_USE_SYSTEM_BUN := 1
export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(PATH)
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
# Reflex otherwise probes a fixed list of npm registries; use the one npm is configured with.
ifeq ($(origin NPM_CONFIG_REGISTRY),undefined)
NPM_CONFIG_REGISTRY := $(shell npm config get registry 2>/dev/null)
endif
export NPM_CONFIG_REGISTRY

.PHONY: run test e2e lint typecheck worker venv bun clean

venv: $(INSTALADO)
bun: $(BUN)

$(INSTALADO): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

$(BUN):
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error bun@$(BUN_VERSION)
	@$(TOOLS)/node_modules/.bin/bun --version >/dev/null
	@touch $@

run: $(INSTALADO) $(BUN)
	PORT=$(PORT) scripts/run_app.sh

test: $(INSTALADO) $(BUN)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

e2e: $(INSTALADO) $(BUN)
	$(VENV)/bin/pytest tests/e2e $(PYTEST_ARGS)

lint: $(INSTALADO)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(INSTALADO)
	$(VENV)/bin/mypy whatsapp_app

worker: $(INSTALADO)
	$(PY) -m whatsapp_app.worker

clean:
	rm -rf .web .web-e2e .states $(TOOLS)
