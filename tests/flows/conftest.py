"""Flow tests: one Prefect test harness for the whole session, and a database the flows find.

Flows read their settings from the environment (as a served or worker process does), so each test
points PATHWAY_DATABASE_URL and PATHWAY_HOME at its own SQLite file and folder.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pathway.store.db import SessionFactory, make_engine, make_session_factory, migrate
from tests.support.sites import list_sites


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API server and database for every flow test of the session.

    Requested by the modules that run flows (`usefixtures`), not autouse: `.fn()` tests and the
    scale-out test (its own real server) do not pay its start-up, 20 to 50 s on a busy 2-core machine.
    """
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def flow_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SessionFactory:
    """A migrated SQLite database the flows use, with the outbox and digests under tmp_path."""
    url = f"sqlite:///{tmp_path / 'pathway.db'}"
    engine = make_engine(url)
    migrate(engine)
    for name in [key for key in os.environ if key.startswith("PATHWAY_REMINDER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PATHWAY_DATABASE_URL", url)
    monkeypatch.setenv("PATHWAY_HOME", str(tmp_path))
    monkeypatch.setenv("PATHWAY_REMINDER_BACKOFF_SECONDS", "0")
    made = make_session_factory(engine)
    list_sites(made)
    return made
