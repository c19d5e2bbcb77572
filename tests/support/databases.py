"""A scratch PostgreSQL database per test (shared by the backup and migration tests)."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL


def scratch_database(prefix: str) -> Iterator[str]:
    """A new, empty database on the test server (its URL), dropped afterwards; skips without a server."""
    if not POSTGRES_URL:
        pytest.skip("needs PATHWAY_TEST_POSTGRES_URL")
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()
