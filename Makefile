# The two commands of the README: `make run` and `make test`. Nothing but Python 3.11+ needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test smoke install migrate seed lint format messages lock worker beat bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.lock requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Only the production tests (part of `make test`): gunicorn, worker and beat with production
# settings on PostgreSQL (DATABASE_URL's server) and a Redis server of their own.
smoke: install
	$(BIN)/python -m pytest tests/production -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: install
	$(BIN)/python manage.py makemessages -l nl -l en --ignore=.venv --ignore=var --ignore=tests --ignore=test-artifacts --ignore=bench --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore=.venv

# Install what pyproject.toml names first (pip install ...), then write both lock files.
lock: install
	$(BIN)/python deploy/lock.py

worker: install
	$(BIN)/celery -A reconi worker -l info

beat: install
	mkdir -p var && $(BIN)/celery -A reconi beat -l info -s var/celerybeat-schedule

bench: install
	$(BIN)/python bench/run_all.py
