# Entry points: `make run` (demo server), `make serve` (production server) and
# `make test` (lint + whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium
REDIS_SERVER ?= /usr/bin/redis-server
# Debian's PostgreSQL (any version): the two-instance test starts a cluster of its own.
POSTGRES ?= /usr/bin/pg_ctlcluster
NODE ?= /usr/bin/node
JS_CLIENTS := tests/js/node_modules/.package-lock.json
# `make run PORT=8001`; SITE_URL follows it unless set (config/settings.py).
PORT ?= 8000

.PHONY: run serve test lint format schema migrate demo clean

$(VENV)/.installed-run: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed-run

# A local .env with a fresh secret key and DEBUG on, made once for the dev server.
.env:
	@printf 'DJANGO_SECRET_KEY=%s\nDJANGO_DEBUG=true\n' \
		"$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@
	@echo "Wrote .env (DJANGO_DEBUG=true, a new DJANGO_SECRET_KEY); see .env.example for more."

# The browser tests drive Debian's chromium through Playwright.
$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser tests (needs root)."
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(POSTGRES):
	@echo "Installing Debian's postgresql for the two-instance test (needs root)."
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql

# The cache tests start their own redis-server.
$(REDIS_SERVER):
	@echo "Installing Debian's redis-server for the cache tests (needs root)."
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server

# Apollo Client's tests run Debian's node with tests/js's packages (npm ci: as locked).
$(NODE):
	@echo "Installing Debian's nodejs and npm for the Apollo Client tests (needs root)."
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm

$(JS_CLIENTS): tests/js/package.json tests/js/package-lock.json | $(NODE)
	npm ci --prefix tests/js --no-audit --no-fund

migrate: $(VENV)/.installed-run .env
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo_data

run: demo
	PORT=$(PORT) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# gunicorn with config/gunicorn.py; settings from the environment (or .env), never
# DEBUG. HOST, PORT, WEB_CONCURRENCY, GUNICORN_THREADS: see README.
serve: $(VENV)/.installed-run
	DJANGO_DEBUG=false exec $(BIN)/gunicorn -c config/gunicorn.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: $(VENV)/.installed-dev
	DJANGO_SECRET_KEY=schema-export $(BIN)/python manage.py export_schema config.schema --path schema.graphql

test: $(VENV)/.installed-dev $(CHROMIUM) $(REDIS_SERVER) $(POSTGRES) $(JS_CLIENTS) lint
	DJANGO_SECRET_KEY=migrations-check $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest
	# Second pass: each planned GraphQL query also through graphql-core's executor;
	# any difference in data, errors or SQL count fails (query_plans.differential).
	$(BIN)/pytest -q --compare-executors -m "not browser" tests/catalog tests/security \
		tests/test_graphql_limits.py tests/test_snapshots.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis tests/js/node_modules
