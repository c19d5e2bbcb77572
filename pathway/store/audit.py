"""The audit trail: append-only and hash-chained.

Every row carries the SHA-256 of the previous row's hash and its own content, so any change, deletion
or reordering breaks the chain at the first altered row (21 CFR 11.10(e), HIPAA 164.312(b)). The
database itself refuses UPDATE and DELETE on the table (triggers, on SQLite and PostgreSQL). Rows are
appended one at a time under a lock (SQLite: the write lock taken at BEGIN; PostgreSQL: a transaction
advisory lock), so two writers can never chain onto the same predecessor.

The chain alone cannot tell a deleted tail, or a chain recomputed from an altered row onwards, from an
honest one: what is left still links up. pathway.store.audit_anchor keeps the head hash and row count outside
the database (signed with a key the database never sees), and pathway.store.audit_rows compares the clinical
tables with the fingerprints the audit rows recorded (`written`); pathway.store.audit_check runs all three.
"""

import hashlib
import json
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, event, text
from sqlmodel import Session, col, select

from pathway.store.models import AuditEvent
from pathway.store.repository import table_of

GENESIS = "0" * 64
# Any fixed number: the advisory lock's key for appending to the chain.
_CHAIN_LOCK = 7_300_516

SQLITE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
)
POSTGRES_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$",
    "CREATE OR REPLACE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE OR REPLACE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
)
DROP_TRIGGERS = {
    "sqlite": ("DROP TRIGGER IF EXISTS audit_event_no_update", "DROP TRIGGER IF EXISTS audit_event_no_delete"),
    "postgresql": (
        "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event",
        "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
        "DROP FUNCTION IF EXISTS audit_event_append_only()",
    ),
}

# create_all (tests, fresh files) gets the same triggers as the migration.
_AUDIT_TABLE = table_of(AuditEvent)
for _statement in SQLITE_TRIGGERS:
    event.listen(_AUDIT_TABLE, "after_create", DDL(_statement).execute_if(dialect="sqlite"))  # type: ignore[no-untyped-call]
for _statement in POSTGRES_TRIGGERS:
    event.listen(_AUDIT_TABLE, "after_create", DDL(_statement).execute_if(dialect="postgresql"))  # type: ignore[no-untyped-call]


def _content(row: AuditEvent) -> str:
    """The hashed content: every column but the hashes, in a canonical JSON form. `written` is hashed
    only where present, so rows from before it existed keep their hashes."""
    at = row.at.isoformat(timespec="microseconds")
    fields = {
        "id": row.id,
        "at": at,
        "actor": row.actor,
        "role": row.role,
        "command": row.command,
        "outcome": row.outcome,
        "clinician": row.clinician,
        "pathway_ref": row.pathway_ref,
        "patient_ref": row.patient_ref,
        "site": row.site,
        "before": row.before,
        "after": row.after,
    }
    if row.written is not None:
        fields["written"] = row.written
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)


def chain_hash(previous: str, row: AuditEvent) -> str:
    return hashlib.sha256((previous + _content(row)).encode()).hexdigest()


def append(session: Session, *, at: datetime, actor: str, role: str, command: str, **fields: Any) -> AuditEvent:
    """Append one row to the chain inside the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    last = session.exec(select(AuditEvent.id, AuditEvent.hash).order_by(col(AuditEvent.id).desc()).limit(1)).first()
    last_id, last_hash = (last[0] or 0, last[1] or GENESIS) if last else (0, GENESIS)
    row = AuditEvent(at=at, actor=actor, role=role, command=command, **fields)
    row.id = last_id + 1
    row.prev_hash = last_hash
    row.hash = chain_hash(last_hash, row)
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class ChainReport:
    rows: int
    first_bad_id: int | None
    reason: str | None
    hashes: dict[int, str] = field(default_factory=dict)  # row number: its hash (those asked for)
    head: str | None = None  # the last row's hash, once the whole chain checks out

    @property
    def intact(self) -> bool:
        return self.first_bad_id is None


def _rows(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        found = session.exec(
            select(AuditEvent).where(col(AuditEvent.id) > last_id).order_by(col(AuditEvent.id)).limit(batch)
        ).all()
        if not found:
            return
        yield from found
        last_id = found[-1].id or last_id
        session.expunge_all()


def verify(
    session: Session, *, on_row: Callable[[AuditEvent], None] | None = None, hashes_at: Collection[int] = ()
) -> ChainReport:
    """Walk the chain from the first row; name the first row whose link or content does not match.

    `on_row` sees every row that checks out; the report keeps the hash of the rows numbered in
    `hashes_at` (the anchors' row counts) and of the last row (the head).
    """
    previous, expected_id, count = GENESIS, 1, 0
    wanted = set(hashes_at)
    kept: dict[int, str] = {}
    for row in _rows(session):
        count += 1
        if row.id != expected_id:
            return ChainReport(count, row.id, f"row {expected_id} is missing (found {row.id} next)", kept)
        if row.prev_hash != previous:
            return ChainReport(count, row.id, "its link does not match the previous row's hash", kept)
        if row.hash != chain_hash(previous, row):
            return ChainReport(count, row.id, "its content does not match its hash", kept)
        if on_row is not None:
            on_row(row)
        previous, expected_id = row.hash or "", expected_id + 1
        if count in wanted:
            kept[count] = previous
    return ChainReport(count, None, None, kept, previous if count else None)
