# Everyday commands. The README's two set-up commands do the same from a fresh clone.
VENV ?= .venv
PY := $(VENV)/bin/python
DATA := $(CURDIR)/data

.PHONY: install demo dev test lint check-defs

install:
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"

demo: install
	$(VENV)/bin/orbit demo

# UI + daemon on the embedded instance the `orbit` command uses, so its runs show up here.
dev:
	mkdir -p $(DATA)/dagster_home && cp dagster.yaml $(DATA)/dagster_home/dagster.yaml
	DAGSTER_HOME=$(DATA)/dagster_home $(VENV)/bin/dagster dev -w workspace.yaml

test: install
	$(PY) -m pytest -W default

# The same checks as CI (.ci/run): lint, formatting, types.
lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/basedpyright

check-defs:
	$(VENV)/bin/dg check defs
