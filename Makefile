# Everything a fresh clone needs: python3, node/npm and make.
#   make run        set up, migrate, seed, start the WhatsApp simulator, serve the app on $(PORT)
#   make test       the whole suite (unit, API, DB, e2e in Chromium), the independent part on
#                   every core; PYTEST_ARGS passes through
#   make lint / typecheck / e2e / worker
#   make lock       re-resolve requirements.lock (every Python dependency pinned) to the newest
#                   versions pyproject.toml allows; commit the result
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
# axe-core, for the accessibility checks of the e2e suite (from the npm registry).
AXE_VERSION := 4.14.1
AXE := $(TOOLS)/.axe-$(AXE_VERSION)
export E2E_AXE := $(CURDIR)/$(TOOLS)/node_modules/axe-core/axe.min.js
# Pins for every Python package (direct and transitive), used as pip constraints by every
# install, so a clone installs what CI tested. Compiled by uv, which lives in its own venv under
# .tools and is never a dependency of the app.
LOCK := requirements.lock
UV_VERSION := 0.13.8
UV_VENV := $(TOOLS)/uv-$(UV_VERSION)
UV := $(UV_VENV)/bin/uv

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

.PHONY: test-fast run test e2e lint typecheck worker venv bun lock clean

venv: $(INSTALADO)
bun: $(BUN)

$(INSTALADO): pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c $(LOCK) -e '.[dev]'
	@touch $@

$(UV):
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# One resolution for every platform and every Python that pyproject.toml allows (--universal).
lock: $(UV)
	$(UV) pip compile pyproject.toml --extra dev --universal --python-version 3.11 --upgrade \
		--quiet --custom-compile-command 'make lock' --output-file $(LOCK)

$(BUN):
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error bun@$(BUN_VERSION)
	@$(TOOLS)/node_modules/.bin/bun --version >/dev/null
	@touch $@

run: $(INSTALADO) $(BUN)
	PORT=$(PORT) scripts/run_app.sh

$(AXE): $(BUN)
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION)
	@test -f $(E2E_AXE)
	@touch $@

# Two passes: what is independent runs on every core (pytest-xdist; each worker migrates its
# own SQLite and PostgreSQL databases), then, alone on the machine, what starts fleets of OS
# processes against one PostgreSQL (SIGKILL chaos, recovery, workers: max_connections and
# timing) and the browser suite. With PYTEST_ARGS set (say a -k that selects tests of one
# pass only), exit 5 ("no test collected") is not a failure of the other pass; without, it is.
TOLERA_VAZIO := $(if $(strip $(PYTEST_ARGS)),|| [ $$? -eq 5 ])
SERIAIS := tests/test_caos.py tests/test_recuperacao.py tests/test_worker.py tests/e2e
test: $(INSTALADO) $(BUN) $(AXE)
	$(VENV)/bin/pytest -n auto -m "not e2e" $(SERIAIS:%=--ignore=%) $(PYTEST_ARGS) $(TOLERA_VAZIO)
	$(VENV)/bin/pytest $(SERIAIS) $(PYTEST_ARGS) $(TOLERA_VAZIO)

# The unit tier on SQLite, in parallel (pytest-xdist: each worker its own database): no
# browser, no multi-process chaos, no fuzzing. About 1.5 min on 2 cores; `make test` runs all.
test-fast: $(INSTALADO)
	$(VENV)/bin/pytest -n auto -m "not e2e" -k "not postgres" \
		--ignore=tests/test_caos.py --ignore=tests/test_recuperacao.py \
		--ignore=tests/test_worker.py --ignore=tests/test_fuzz_openapi.py $(PYTEST_ARGS)

e2e: $(INSTALADO) $(BUN) $(AXE)
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
