"""audit trail: the fingerprints of the clinical rows each command wrote, and a baseline

Revision ID: 0009
Revises: 0008

Adds `audit_event.written` (only adds). A database that already holds clinical rows gets one audit row,
`audit_baseline`, that vouches for every clinical row as it stands at this upgrade (per table: the id
range, the count and the digest of the rows' fingerprints), so `pathway audit verify` can check every
row from here on. The tables are read as they are in the database at this revision (reflected), never
through the models, so later migrations cannot change what this one reads.
"""

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("written", sa.JSON(), nullable=True))
    _baseline(op.get_bind())


# --- frozen at this revision: the fingerprints and the chain hash as pathway.store.fingerprint and
# pathway.store.audit computed them when 0009 was written (never imported, so later changes to those
# modules cannot change what this migration writes).
GENESIS = "0" * 64
SQLITE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
)
CLINICAL_TABLES = (
    "patient", "pathway", "governance_notice", "mdt_meeting", "research_enrolment", "consent",
    "procedure_schedule", "procedure", "registry_submission", "follow_up_visit", "anticoagulation_event",
    "anticoagulation_review", "filter_outcome", "safety_check",
)
CLOSURE = "pathway_closure"
CLOSURE_COLUMNS = ("closed_on", "close_reason")
PATHWAY_SUMMARY = frozenset(
    {"decision", "stage", "next_step", "next_due_on", "window_closes_on", "policy_version", "updated_at", "version"}
)
LEFT_OUT = {
    "patient": frozenset({"nhs_number", "name", "date_of_birth", "id"}),
    "pathway": PATHWAY_SUMMARY | set(CLOSURE_COLUMNS) | {"id"},
}
ONLY_ID = frozenset({"id"})
DECIMAL_COLUMNS = {
    "procedure": frozenset({"infusion_hours", "lytic_dose_mg"}),
    "safety_check": frozenset({"egfr", "platelets", "haemoglobin", "inr"}),
}


def _utc(value: datetime) -> str:
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


def _not_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"no canonical form for {type(value).__name__}")


def _digest(table: str, values: Mapping[str, Any]) -> str:
    text = json.dumps([table, values], sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_not_json)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _fingerprint(table: str, row: Mapping[str, Any]) -> str:
    left_out = LEFT_OUT.get(table, ONLY_ID)
    values = {k: v for k, v in row.items() if v is not None and k not in left_out}
    for name in DECIMAL_COLUMNS.get(table, ()):
        if name in values:
            values[name] = float(values[name])
    return _digest(table, values)


def _closure_fingerprint(row: Mapping[str, Any]) -> str | None:
    if all(row.get(name) is None for name in CLOSURE_COLUMNS):
        return None
    values = {"pathway_id": row["id"]} | {name: row.get(name) for name in CLOSURE_COLUMNS}
    return _digest(CLOSURE, {k: v for k, v in values.items() if v is not None})


def _scan(bind: sa.Connection, table: sa.Table, batch: int = 5000) -> Iterator[dict[str, Any]]:
    last = 0
    while True:
        query = sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(batch)
        found = [dict(row) for row in bind.execute(query).mappings()]
        if not found:
            return
        yield from found
        last = found[-1]["id"]


def _aggregate(fingerprints: list[str], from_id: int, to_id: int) -> dict[str, Any]:
    digest = hashlib.sha256("\n".join(sorted(fingerprints)).encode()).hexdigest()
    return {"from_id": from_id, "to_id": to_id, "count": len(fingerprints), "digest": digest}


def _vouch_for(bind: sa.Connection, tables: dict[str, sa.Table]) -> dict[str, Any]:
    written: dict[str, Any] = {}
    closures: list[str] = []
    last_pathway = 0
    for name, table in tables.items():
        prints, last = [], 0
        for row in _scan(bind, table):
            prints.append(_fingerprint(name, row))
            last = row["id"]
            if name == "pathway" and (closed := _closure_fingerprint(row)):
                closures.append(closed)
                last_pathway = row["id"]
        if prints:
            written[name] = _aggregate(prints, 1, last)
    if closures:
        written[CLOSURE] = _aggregate(closures, 1, last_pathway)
    return written


def _chain_hash(previous: str, row: Mapping[str, Any]) -> str:
    fields = {
        name: row.get(name)
        for name in ("id", "actor", "role", "command", "outcome", "clinician", "pathway_ref", "patient_ref", "site")
    }
    fields |= {"at": row["at"].isoformat(timespec="microseconds"), "before": row.get("before"), "after": row.get("after")}
    if row.get("written") is not None:
        fields["written"] = row["written"]
    content = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((previous + content).encode()).hexdigest()


def _baseline(bind: sa.Connection) -> None:
    reflected = sa.MetaData()
    tables = {name: sa.Table(name, reflected, autoload_with=bind) for name in CLINICAL_TABLES}
    written = _vouch_for(bind, tables)
    if not written:
        return  # nothing recorded yet: every row to come is fingerprinted by its own command
    audit_event = sa.Table("audit_event", reflected, autoload_with=bind)
    last = bind.execute(
        sa.select(audit_event.c.id, audit_event.c.hash).order_by(audit_event.c.id.desc()).limit(1)
    ).first()
    last_id, previous = (last[0], last[1]) if last else (0, GENESIS)
    row: dict[str, Any] = {
        "id": last_id + 1,
        "at": datetime.now(UTC),
        "actor": "migration 0009",
        "role": "admin",
        "command": "audit_baseline",
        "outcome": "accepted",
        "after": {"note": "every clinical row at the upgrade to revision 0009"},
        "written": written,
    }
    row["prev_hash"], row["hash"] = previous, _chain_hash(previous, row)
    bind.execute(audit_event.insert().values({column.name: row.get(column.name) for column in audit_event.columns}))


def downgrade() -> None:
    """Drops the column. Rows written with it no longer verify (it was part of their hash): a database
    that recorded anything at this revision cannot go back below it with its audit trail intact."""
    bind = op.get_bind()
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("written")
    if bind.dialect.name == "sqlite":  # the batch copy of the table lost its triggers
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
