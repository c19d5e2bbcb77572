"""Benchmarks at regional scale, against the SQL floor (issue 7): `make bench` or `python -m bench`.

Synthetic cohorts of 1,000, 10,000 and 100,000 pathways on SQLite (a scratch file) and PostgreSQL (a
scratch database, created and dropped), timed with medians of repeated runs. Writes
docs/benchmarks.json and docs/benchmarks.md (with docs/benchmarks.svg, the plot). Not a test: the
machine is shared, so the figures are noisy; each one says how many runs it is the median of.
"""
