# Hongniang: every target is idempotent and needs only Python 3.11, Node/npm (and apt for system packages).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
# Test workers: one per core, between 2 and 8 (each may hold a browser and an engine in memory).
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 8 ] && n=8; [ $$n -lt 2 ] && n=2; echo $$n)
HOST ?= 127.0.0.1
PORT ?= 8000
APT := $(shell command -v sudo >/dev/null 2>&1 && [ "$$(id -u)" != 0 ] && echo sudo) apt-get
SYSPKGS_TEST := chromium fonts-wqy-microhei gettext
export DJANGO_SETTINGS_MODULE := hongniang.settings

.PHONY: run test test-postgres bench e2e lint venv deps assets messages sysdeps-test sysdeps-run clean

$(PYTHON):
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PY))"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The stamp files make a second run reuse what is installed.
$(VENV)/.deps: pyproject.toml | $(PYTHON)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

deps: $(VENV)/.deps

node_modules/.stamp: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

static_vendor/.stamp: node_modules/.stamp deploy/vendor.sh
	bash deploy/vendor.sh
	touch $@

assets: static_vendor/.stamp

messages: deps
	@command -v msgfmt >/dev/null 2>&1 || $(APT) install -y -q gettext
	$(PYTHON) manage.py compilemessages -v 0 --ignore=.venv --ignore=node_modules

# Contract PDFs need a Chinese font (hongniang/finance/pdf.py).
sysdeps-run:
	@fc-list 2>/dev/null | grep -qi wqy || { $(APT) update -q && $(APT) install -y -q fonts-wqy-microhei; }

run: deps assets messages sysdeps-run
	$(PYTHON) manage.py migrate --noinput -v 0
	$(PYTHON) manage.py load_regions
	$(PYTHON) manage.py seed_demo
	$(PYTHON) manage.py build_engine_snapshot --fold -v 0
	@echo "Serving on http://$(HOST):$(PORT)/ with the background worker  (Ctrl-C stops both)"
	@DEBUG=1 $(PYTHON) manage.py run_worker -v 0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(PYTHON) manage.py runserver $(HOST):$(PORT)

sysdeps-test:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v msgfmt >/dev/null 2>&1 || missing="$$missing gettext"; \
	fc-list 2>/dev/null | grep -qi wqy || missing="$$missing fonts-wqy-microhei"; \
	if [ -n "$$missing" ]; then $(APT) update -q && $(APT) install -y -q $$missing; fi

test: deps assets sysdeps-test messages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(PYTHON) manage.py makemigrations --check --dry-run -v 0
	$(BIN)/pytest -n $(TEST_WORKERS) -q --durations=20

test-postgres: deps assets sysdeps-test messages
	bash deploy/with-postgres.sh $(BIN)/pytest -n $(TEST_WORKERS) -q --durations=20

e2e: deps assets sysdeps-test messages
	$(BIN)/pytest -q -m e2e

bench: deps assets
	$(PYTHON) bench/engine_bench.py
	$(PYTHON) bench/pages_bench.py
	$(PYTHON) bench/engine_start_bench.py
	$(PYTHON) bench/export_bench.py
	$(PYTHON) bench/import_bench.py
	$(PYTHON) bench/finance_report_bench.py

lint: deps
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

clean:
	rm -rf $(VENV) node_modules static_vendor staticfiles db.sqlite3 media
