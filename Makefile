# The two README commands: `make demo` and `make test`. Each sets up its own environment.
SHELL := /bin/bash
UV_VERSION := 0.13.9
PATHWAY_HOME ?= $(CURDIR)/.pathway
export PATHWAY_HOME
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: demo test check bench env clean

# uv from PyPI if the machine has none; the virtual environment from the committed lock file.
env:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	@uv sync --locked --quiet

demo: env
	uv run pathway init
	@if [ ! -s "$(PATHWAY_HOME)/.demo-loaded" ]; then \
		uv run pathway demo-data --patients 2000 --seed 7 && date -u +%FT%TZ > "$(PATHWAY_HOME)/.demo-loaded"; \
	fi
	uv run pathway worklist --flagged-only --limit 30

test: env
	uv run pytest

check: env
	uv run ruff format --check .
	uv run ruff check .
	uv run mypy

clean:
	rm -rf .pathway .pytest_cache .mypy_cache .ruff_cache
