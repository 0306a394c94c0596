# Build, test and demo the template. Needs only a Python >= 3.12 somewhere
# (see scripts/find-python.sh) and access to PyPI; everything else lands in
# .venv on first use.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# Python the template itself owns; template/ is linted inside each render.
LINT_PATHS := hooks scripts tests
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k effect -x"`.
PYTEST_ARGS ?=

.PHONY: help venv test lint format demo bench loc clean

help:
	@echo "make venv    create/refresh .venv (automatic for the targets below)"
	@echo "make test    the template's tests: answers, renders of the matrix, processes"
	@echo "make lint    ruff check, ruff format --check, mypy --strict on $(LINT_PATHS)"
	@echo "make format  ruff format + ruff check --fix on $(LINT_PATHS)"
	@echo "make demo    render a node, run it against a Consul agent, show (de)registration"
	@echo "make bench   lifecycle, discovery and HTTP figures of a rendered node (medians)"
	@echo "make loc     lines per concern and owner, generated tests, largest module"
	@echo "make clean   remove .venv and tool caches"

# Phony on purpose: the script compares a hash of the dev pins with a stamp
# and returns in ~0.1 s when nothing changed, which make's mtimes cannot do.
venv:
	@bash scripts/bootstrap.sh

test: venv
	$(PY) -m pytest --durations=15 $(PYTEST_ARGS)

lint: venv
	$(PY) -m ruff check $(LINT_PATHS)
	$(PY) -m ruff format --check $(LINT_PATHS)
	$(PY) -m mypy --strict $(LINT_PATHS)

format: venv
	$(PY) -m ruff format $(LINT_PATHS)
	$(PY) -m ruff check --fix $(LINT_PATHS)

demo: venv
	$(PY) -m scripts.demo

bench: venv
	$(PY) -m scripts.bench

# `make loc LOC_ARGS="--template /tmp/old"` measures another checkout.
LOC_ARGS ?=
loc: venv
	$(PY) -m scripts.loc $(LOC_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
