# Everyday commands. The README's two set-up commands do the same from a fresh clone.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo dev test lint check-defs

install:
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"

demo: install
	$(VENV)/bin/orbit demo

# UI + daemon on the embedded instance the `orbit` command uses, so its runs show up here.
# `orbit dagster-home` is the one place that says which instance (it writes dagster.yaml there).
# `dg dev` is what Dagster 1.13 recommends (`dagster dev` prints a SupersessionWarning); it runs
# the project's venv, and says so unless that venv is the active one: activate it, as
# `source .venv/bin/activate` would.
PORT ?= 3000
dev:
	DAGSTER_HOME=$$($(VENV)/bin/orbit dagster-home) VIRTUAL_ENV=$(abspath $(VENV)) \
	PATH=$(abspath $(VENV))/bin:$$PATH $(VENV)/bin/dg dev -h 127.0.0.1 -p $(PORT)

test: install
	$(PY) -m pytest -W default

# The same checks as CI (.ci/run): lint, formatting, types.
lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/basedpyright

check-defs:
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/dg check defs
