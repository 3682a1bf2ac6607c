# SMI Hub. `make run` and `make test` set themselves up on a machine with Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
# Celery's own log: WARNING (INFO prints a line per task); `make worker WORKER_LOG_LEVEL=INFO`
WORKER_LOG_LEVEL ?= WARNING

.PHONY: setup run serve test lint format bench worker beat demo clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "Installing SMI Hub and its dependencies into $(VENV) (first run only) ..."
	@$(BIN)/python -m pip install --quiet -e '.[dev,server]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# The embedded default: SQLite under var/, tasks in-process. Loads the demo data, then serves.
run: setup
	@DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput -v 0
	@DJANGO_DEBUG=1 SMI_LOG_LEVEL=WARNING $(BIN)/python manage.py demo_load
	@echo "Serving on http://$(HOST):$(PORT)/ (sign in with a login above; Ctrl-C stops)"
	@DJANGO_DEBUG=1 $(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

# Production mode: DEBUG off, static files collected into var/static and served by
# WhiteNoise, gunicorn with config/gunicorn.py. Needs DJANGO_SECRET_KEY; plain HTTP on a
# loopback needs DJANGO_SSL_REDIRECT=0 DJANGO_SECURE_COOKIES=0 (behind TLS leave them on).
serve: setup
	@$(BIN)/python manage.py migrate --noinput -v 0
	@$(BIN)/python manage.py collectstatic --noinput -v 0
	@GUNICORN_BIND=$${GUNICORN_BIND:-$(HOST):$(PORT)} $(BIN)/gunicorn -c config/gunicorn.py config.wsgi

test: setup
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/python -m smi_edi.x12.maps_build --check

format: setup
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

# Reader and validation (any machine); ingestion, planning and the positions API need
# PostgreSQL at 127.0.0.1.
bench: setup
	@$(BIN)/python bench/x12_parse.py
	@$(BIN)/python bench/outbound.py
	@$(BIN)/python bench/retrieval_eval.py
	@$(BIN)/python bench/assistant.py
	@$(BIN)/python bench/ingest_852.py
	@$(BIN)/python bench/plan.py
	@$(BIN)/python bench/api_positions.py
	@$(BIN)/python bench/finance_asof.py
	@$(BIN)/python bench/as2.py
	@$(BIN)/python bench/web_throughput.py
	@$(BIN)/python bench/year_of_852.py

# Every queue by default; WORKER_QUEUES=ingest (or outbound, planning, assistant) for a
# worker of one kind, WORKER_CONCURRENCY for its processes (README, Operations).
WORKER_QUEUES ?= celery,ingest,outbound,planning,assistant
worker: setup
	@$(BIN)/celery -A config worker -Q $(WORKER_QUEUES) $(if $(WORKER_CONCURRENCY),--concurrency=$(WORKER_CONCURRENCY)) --loglevel=$(WORKER_LOG_LEVEL)

beat: setup
	@$(BIN)/celery -A config beat --loglevel=$(WORKER_LOG_LEVEL)

clean:
	rm -rf $(VENV) var/*.sqlite3* .pytest_cache .ruff_cache
