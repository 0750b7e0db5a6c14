# The two commands of the README: `make run` and `make test`. Nothing but Python 3.11+ needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install migrate seed lint format messages lock worker beat bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
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

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: install
	$(BIN)/python manage.py makemessages -l nl -l en --ignore=.venv --ignore=var --ignore=tests --ignore=test-artifacts --ignore=bench --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore=.venv

lock: install
	$(BIN)/python -m pip freeze --exclude-editable > requirements.lock

worker: install
	$(BIN)/celery -A reconi worker -l info

beat: install
	mkdir -p var && $(BIN)/celery -A reconi beat -l info -s var/celerybeat-schedule

bench: install
	$(BIN)/python bench/run_all.py
