# The two README commands: `make demo` and `make test`. Each sets up its own environment.
SHELL := /bin/bash
UV_VERSION := 0.13.9
PATHWAY_HOME ?= $(CURDIR)/.pathway
export PATHWAY_HOME
export PREFECT_SERVER_ANALYTICS_ENABLED := false
# PostgreSQL tests run when a server answers on this machine kind's port (as in .ci/run).
PG_URL := postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: demo test check bench env browser clean screenshots

# uv from PyPI if the machine has none; the virtual environment from the committed lock file.
env:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	@UV_COMPILE_BYTECODE=1 uv sync --locked --quiet

# Debian's chromium for the browser tests (Playwright drives it; never `playwright install`).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: env
	uv run pathway demo

test: env browser
	@if [ -z "$$PATHWAY_TEST_POSTGRES_URL" ] && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
		export PATHWAY_TEST_POSTGRES_URL="$(PG_URL)"; fi; \
	uv run pytest

check: env
	uv run ruff format --check .
	uv run ruff check .
	uv run mypy

clean:
	rm -rf .pathway .pytest_cache .mypy_cache .ruff_cache

# Benchmarks against the SQL floor (issue 7): cohorts of 1,000 to 100,000 on SQLite and PostgreSQL,
# written to docs/benchmarks.{md,json,svg}. Slow (tens of minutes); not part of `make test`.
# BENCH_NATIONAL=1 make bench: issue 15's million pathways on PostgreSQL instead (most of an hour here),
# kept as its own part of the same files.
bench: env browser
	uv run python -m bench

# The README's dashboard screenshots, taken by the browser tests on their synthetic cohort.
screenshots: env browser
	PATHWAY_SCREENSHOTS_DIR=$(CURDIR)/docs/images uv run pytest -q tests/dashboard/test_browser.py
