"""The one unit of work: every write of the tracker runs inside `writing(...)`.

One session, one transaction: BEGIN (on SQLite `BEGIN IMMEDIATE`, so concurrent writers queue at the
start instead of failing half-way; see pathway.store.db.make_engine), commit when the block ends, roll
back when it raises. Commands, account changes, the bulk loader, reminders and digests all use it.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from pathway.store.db import WRITE_OPTION, SessionFactory


@contextmanager
def writing(session_factory: SessionFactory) -> Iterator[Session]:
    """One writing transaction: committed if the block ends normally, rolled back if it raises."""
    with session_factory() as session, session.begin():
        session.connection(execution_options={WRITE_OPTION: True})
        yield session
