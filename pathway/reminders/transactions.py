"""The claim statement shared by notifications and digests (their transactions: pathway.store.unit_of_work)."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def insert_ignoring_taken(session: Session, table: Table, key: Sequence[str]) -> Any:
    """INSERT that skips rows whose unique key is taken: the claim, on SQLite and PostgreSQL.

    Under concurrency the second inserter of a key waits for the first to commit (PostgreSQL's
    unique index, SQLite's write lock) and then inserts nothing: no IntegrityError to recover from.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(key))
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(key))
    raise NotImplementedError(f"claims need INSERT ... ON CONFLICT DO NOTHING; {dialect} is not supported")
