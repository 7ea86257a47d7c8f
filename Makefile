# The platform's two commands: `make run` (demo on this machine) and `make test` (the whole suite).
# Debian's python3.11 where there is one: built with PGO and LTO like the image's python:3.11-slim, while
# a pyenv build without --enable-optimizations runs the same code about a tenth slower (README: Benchmarks).
PYTHON ?= $(shell test -x /usr/bin/python3.11 && echo /usr/bin/python3.11 || echo python3.11)
VENV ?= .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/carbon
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
TEST_WORKERS ?= 2
DEMO_COMPANIES ?= 20

.PHONY: run test install install-dev lint bench services system-deps clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || bash scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt

# Embedded default: SQLite under var/, Celery tasks in-process. Demo logins are printed and written to var/demo-logins.json.
run: install
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true MARKET_HOURS=$${MARKET_HOURS:-always} $(BIN)/python manage.py seed_demo --companies $(DEMO_COMPANIES) --json var/demo-logins.json
	DEBUG=true MARKET_HOURS=$${MARKET_HOURS:-always} $(BIN)/uvicorn config.asgi:application --host 127.0.0.1 --port 8000

# The whole suite against PostgreSQL and Redis (started if they are down).
test: system-deps install-dev services
	$(BIN)/ruff check .
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	SECRET_KEY=test-only-secret-key DJANGO_ALLOW_ASYNC_UNSAFE=true MARKET_HOURS=always MATCHER_INLINE=true \
	PYTHON=$(BIN)/python TEST_WORKERS=$(TEST_WORKERS) bash scripts/test.sh $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .

services:
	@bash scripts/services-up.sh

system-deps:
	@bash scripts/system-deps.sh

bench: install-dev services
	@createdb -h 127.0.0.1 -U postgres carbon_bench 2>/dev/null || true
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/carbon_bench} SECRET_KEY=bench-only-secret-key \
	$(BIN)/python bench/run_all.py

clean:
	rm -rf var/db.sqlite3 var/static
