"""audit trail: outcome, hash chain, append-only triggers

Revision ID: 0004
Revises: 0003

Frozen: this migration keeps its own copy of the table's columns at this revision, of the hashing and
of the triggers, so later changes to pathway.store.audit (a new column, a new kind of hashed content) never
change what it does on a database that is still at revision 0003.
"""

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


GENESIS = "0" * 64
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
# The audit table's hashed columns at this revision.
AUDIT_EVENT = sa.table(
    "audit_event",
    *(sa.column(name) for name in ("id", "actor", "role", "command", "outcome", "clinician")),
    *(sa.column(name) for name in ("pathway_ref", "patient_ref", "site")),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
)


def _at(value: Any) -> str:
    """The recording time in UTC, as pathway.store.models.UTCDateTime reads it back."""
    import datetime as dt

    if isinstance(value, str):  # SQLite without the model's type: ISO text
        value = dt.datetime.fromisoformat(value)
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value.isoformat(timespec="microseconds")


def chain_hash(previous: str, row: Any) -> str:
    fields = {
        "id": row.id,
        "at": _at(row.at),
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
    content = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((previous + content).encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=10), nullable=False, server_default="accepted"))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_audit_event_hash", ["hash"])
    # Chain any rows written before this revision, then lock the table against change.
    bind = op.get_bind()
    previous = GENESIS
    for row in bind.execute(sa.select(AUDIT_EVENT).order_by(AUDIT_EVENT.c.id)).all():
        digest = chain_hash(previous, row)
        bind.execute(
            sa.text("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE id = :i"),
            {"p": previous, "h": digest, "i": row.id},
        )
        previous = digest
    statements = POSTGRES_TRIGGERS if bind.dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGERS.get(op.get_bind().dialect.name, ()):
        op.execute(statement)
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_constraint("uq_audit_event_hash", type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("outcome")
