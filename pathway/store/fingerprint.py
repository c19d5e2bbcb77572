"""Fingerprints of clinical rows: what an audit row records about the rows its command wrote.

A fingerprint is the SHA-256 of a row's table and column values in a canonical form, read back as the
database stores them. Left out: the row id (assigned by the database); a patient's name, NHS number
and date of birth (the audit trail carries no identifier, and a hash of so few possible values could
be reversed; the audit anchor covers them, keyed: pathway.store.audit_anchor); the pathway row's plan
summary and version (recomputed by every command); and columns that are NULL, so a nullable column
added by a later migration leaves every earlier fingerprint as it was (a later migration that adds a
column with a non-null default to a clinical table must record a new baseline: pathway.store.audit_rows).
A pathway's closure (closed_on, close_reason) is a row of its own kind, `pathway_closure`.

A command's audit row lists its rows' fingerprints by table; a bulk load (demo-data) and the baseline
of migration 0009 record, per table, the id range they vouch for, the count and the SHA-256 of the
sorted fingerprints (pathway.store.audit_rows checks both).
"""

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy import types as sa_types
from sqlmodel import Session, SQLModel

from pathway.store.models import GovernanceNotice, Pathway, Patient
from pathway.store.repository import RECORD_KINDS, table_of

CLOSURE = "pathway_closure"
IDENTIFIER_COLUMNS = frozenset({"nhs_number", "name", "date_of_birth"})
PATHWAY_SUMMARY = frozenset(
    {"decision", "stage", "next_step", "next_due_on", "window_closes_on", "policy_version", "updated_at", "version"}
)
CLOSURE_COLUMNS = ("closed_on", "close_reason")
CLINICAL_KINDS: tuple[type[SQLModel], ...] = (Patient, Pathway, GovernanceNotice, *RECORD_KINDS.values())
Written = dict[str, Any]  # table name: [fingerprint, ...] or {"from_id", "to_id", "count", "digest"}


def clinical_tables() -> dict[str, Table]:
    return {table_of(kind).name: table_of(kind) for kind in CLINICAL_KINDS}


LEFT_OUT = {
    "patient": IDENTIFIER_COLUMNS | {"id"},
    "pathway": PATHWAY_SUMMARY | set(CLOSURE_COLUMNS) | {"id"},
}
ONLY_ID = frozenset({"id"})


def _utc(value: datetime) -> str:
    """A stored instant in UTC (SQLite gives it back without its zone)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


@lru_cache(maxsize=1 << 16)
def _not_json(value: Any) -> Any:
    """The canonical form of what JSON has no type for; everything else JSON encodes itself (in C).
    Remembered: a bulk load's rows share a few thousand dates and one recorded_at (issue 15)."""
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)  # a number, as a float read back from SQLite is
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"no canonical form for {type(value).__name__}")


# One encoder for every digest (json.dumps with options builds a new one per call).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_not_json)


def _digest(table: str, values: Mapping[str, Any]) -> str:
    text = _CANONICAL.encode([table, values])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@cache
def _decimal_columns() -> dict[str, frozenset[str]]:
    """Per clinical table, its columns of a decimal type (Float, Numeric)."""
    found = {}
    for name, table in clinical_tables().items():
        decimal = frozenset(c.name for c in table.columns if isinstance(c.type, sa_types.Float | sa_types.Numeric))
        if decimal:
            found[name] = decimal
    return found


def fingerprint(table: str, row: Mapping[str, Any]) -> str:
    """The fingerprint of one row of a clinical table, as stored (a mapping of column to value)."""
    left_out = LEFT_OUT.get(table, ONLY_ID)
    values = {k: v for k, v in row.items() if v is not None and k not in left_out}
    for name in _decimal_columns().get(table, ()):
        if name in values:
            values[name] = float(values[name])  # 150 given to a decimal column reads back as 150.0
    return _digest(table, values)


def closure_fingerprint(row: Mapping[str, Any]) -> str | None:
    """The fingerprint of a pathway's closure; None while it is open."""
    if all(row.get(name) is None for name in CLOSURE_COLUMNS):
        return None
    values = {"pathway_id": row["id"]} | {name: row.get(name) for name in CLOSURE_COLUMNS}
    return _digest(CLOSURE, {k: v for k, v in values.items() if v is not None})


def stored(session: Session, table: Table, ids: list[int]) -> list[dict[str, Any]]:
    rows = session.execute(select(table).where(table.c.id.in_(ids)).order_by(table.c.id)).mappings()
    return [dict(row) for row in rows]


def written_rows(session: Session, table: Table, ids: list[int]) -> Written:
    """What an audit row records of the rows (of one table) its command inserted: their fingerprints."""
    return {table.name: [fingerprint(table.name, row) for row in stored(session, table, ids)]}


def closure_written(session: Session, pathway_id: int) -> Written:
    (row,) = stored(session, table_of(Pathway), [pathway_id])
    found = closure_fingerprint(row)
    return {CLOSURE: [found]} if found else {}


def scan(session: Session | Connection, table: Table, *, after: int = 0, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every row of `table` with an id above `after`, in id order, a batch at a time."""
    last = after
    while True:
        found = [
            dict(row)
            for row in session.execute(
                select(table).where(table.c.id > last).order_by(table.c.id).limit(batch)
            ).mappings()
        ]
        if not found:
            return
        yield from found
        last = found[-1]["id"]


def aggregate(fingerprints: list[str], from_id: int, to_id: int) -> dict[str, Any]:
    """What a bulk load (or a baseline) records of one table: the range, the count and one digest."""
    digest = hashlib.sha256("\n".join(sorted(fingerprints)).encode()).hexdigest()
    return {"from_id": from_id, "to_id": to_id, "count": len(fingerprints), "digest": digest}


def vouch_for(
    session: Session | Connection,
    after: dict[str, int],
    recorded_at: datetime | None = None,
    tables: dict[str, Table] | None = None,
) -> Written:
    """Aggregates of every clinical row with an id above `after[table]` (and, if given, recorded at
    `recorded_at`: a bulk load's own rows), and of those pathways' closures. `tables`: the clinical
    tables as they are in the database (a migration reflects them), by default the models'."""
    written: Written = {}
    closures: list[str] = []
    last_pathway = after.get("pathway", 0)
    for name, table in (tables or clinical_tables()).items():
        prints, last = [], after.get(name, 0)
        for row in scan(session, table, after=after.get(name, 0)):
            if recorded_at is not None and _utc(row["recorded_at"]) != _utc(recorded_at):
                continue
            prints.append(fingerprint(name, row))
            last = row["id"]
            if name == "pathway" and (closed := closure_fingerprint(row)):
                closures.append(closed)
                last_pathway = row["id"]
        if prints:
            written[name] = aggregate(prints, after.get(name, 0) + 1, last)
    if closures:
        written[CLOSURE] = aggregate(closures, after.get("pathway", 0) + 1, last_pathway)
    return written


def highest_ids(session: Session) -> dict[str, int]:
    """The highest id in each clinical table (0 if empty)."""
    return {
        name: session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        for name, table in clinical_tables().items()
    }
