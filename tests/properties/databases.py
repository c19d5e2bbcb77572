"""A database in a prepared state for every generated example, fast.

SQLite: each state is built once per session in a template file (`prepare` from
tests/services/test_rejections.py); an example copies the template (about 0.5 ms on tmpfs) over its work
file and runs there. One engine per test serves every example: it uses NullPool, so every session
opens a new connection to whatever file is at the work path, and the engine's compiled-statement
cache stays warm (a new engine per example spends ~100 ms compiling the same SQL again).

PostgreSQL: the state is committed once per test; each example then runs inside an outer
transaction that is rolled back afterwards, the command's own transaction becoming a savepoint
(SQLAlchemy "join into an external transaction"). What the command wrote and what a rejection
left behind are read inside that outer transaction, before the rollback.
"""

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from pathway.store import audit
from pathway.store.db import SessionFactory, make_engine, make_session_factory
from pathway.store.schema import metadata
from tests.conftest import register, run
from tests.support.commands import close, database_state, prepare
from tests.support.sites import list_sites

TABLES = tuple(table.name for table in metadata.sorted_tables)
# One statement for the counts and the audit chain's head; one for the versions.
_COUNTS_SQL = (
    "SELECT "
    + ", ".join(f'(SELECT count(*) FROM "{name}")' for name in TABLES)
    + ", (SELECT max(id) FROM audit_event), (SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1)"
)


@dataclass(frozen=True)
class Snapshot:
    """What "nothing written" compares: every table's row count, every pathway's version, and the
    audit chain's last row (id and hash)."""

    rows: dict[str, int]
    versions: dict[str, int]
    audit_head: tuple[int | None, str | None]


def closing_payload() -> dict[str, Any]:
    return {"command": "close_pathway", "pathway": "P1", "closed_on": "2026-06-10", "reason": "withdrawn"}


MALE_PATIENT = "H300"  # registered male in the "male:" states (version 2: pregnancy refused for him)


def build_state(factory: SessionFactory, state: str) -> None:
    """`state` is a command name (prepare's state for it), "closed:" + a command name (that state with
    P1 closed, a PMT registered first), or "male:" + a command name (that state and a male patient)."""
    name = state.split(":")[-1]
    list_sites(factory)  # the sites the generated commands name (strategies.site_text), on the managed list
    prepare(factory, name)
    if state.startswith("closed:"):
        close(factory, name, closed_on="2026-06-10")
    if state.startswith("male:"):
        run(factory, register(patient=MALE_PATIENT, nhs="9990000018", sex="male"))


def sqlite_snapshot(path: Path) -> Snapshot:
    connection = sqlite3.connect(path)
    try:
        *counts, last_id, last_hash = connection.execute(_COUNTS_SQL).fetchone()
        versions = dict(connection.execute("SELECT ref, version FROM pathway").fetchall())
    finally:
        connection.close()
    return Snapshot(dict(zip(TABLES, counts, strict=True)), versions, (last_id, last_hash))


class SqliteStates:
    """Template files of prepared states (built on first use) and a work file examples run on."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.templates: dict[str, Path] = {}
        self.snapshots: dict[str, Snapshot] = {}
        self.work = root / "work.db"
        self.engine = make_engine(f"sqlite:///{self.work}", poolclass=NullPool)
        self.factory = make_session_factory(self.engine)

    def snapshot(self, state: str) -> Snapshot:
        self.template(state)
        return self.snapshots[state]

    def template(self, state: str) -> Path:
        if state not in self.templates:
            path = self.root / f"{state.replace(':', '-')}.db"
            engine = make_engine(f"sqlite:///{path}")
            metadata.create_all(engine)
            factory = make_session_factory(engine)
            build_state(factory, state)
            with factory() as session:
                assert audit.verify(session).intact
            reference = database_state(factory)
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            snapshot = sqlite_snapshot(path)
            # The raw snapshot agrees with the shared helper of tests/support/commands.py.
            assert snapshot.rows == reference["rows"], state
            assert snapshot.versions == reference["pathway_versions"], state
            self.templates[state], self.snapshots[state] = path, snapshot
        return self.templates[state]

    def reset(self, state: str) -> SessionFactory:
        """The work file in `state`: a fresh copy of the template (no WAL left from before)."""
        template = self.template(state)
        for suffix in ("-wal", "-shm"):
            Path(f"{self.work}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(template, self.work)
        return self.factory

    def close(self) -> None:
        self.engine.dispose()


@contextmanager
def sqlite_states() -> Iterator[SqliteStates]:
    """On tmpfs where there is one: the copies and commits of thousands of examples stay in memory."""
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="pathway-properties-", dir=shm if shm.is_dir() else None) as root:
        states = SqliteStates(Path(root))
        try:
            yield states
        finally:
            states.close()


# --- PostgreSQL -------------------------------------------------------------------------------------


def postgres_snapshot(session: Session) -> Snapshot:
    """The same facts as sqlite_snapshot, in the same two statements, through a session (so inside
    the outer transaction of an example)."""
    *counts, last_id, last_hash = session.execute(text(_COUNTS_SQL)).one()
    versions = dict(session.execute(text("SELECT ref, version FROM pathway")).tuples().all())
    return Snapshot(dict(zip(TABLES, counts, strict=True)), versions, (last_id, last_hash))


@contextmanager
def rolled_back(engine: Engine) -> Iterator[SessionFactory]:
    """A session factory whose commits are savepoints of one outer transaction, rolled back at the end."""
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            yield lambda: Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        finally:
            outer.rollback()


def session_snapshot(factory: SessionFactory) -> Snapshot:
    with factory() as session:
        return postgres_snapshot(session)
