"""Whether the clinical tables hold what the audit trail says was written.

Every command's audit row lists the fingerprints of the clinical rows it wrote (`written`, see
pathway.store.fingerprint); a bulk load and the baseline of migration 0009 vouch for a range of ids per
table with a count and one digest. Reading every clinical table once, each row's fingerprint must be
one the trail recorded (used once) or, within a vouched range, part of that range's digest; every
recorded fingerprint must be found. So a row changed, added or deleted in the database, behind the
services' back, shows up here even though the audit chain itself is untouched.

Not covered: the plan (steps, flag windows and the pathway's summary columns), which every command
recomputes from the clinical rows, and patients' identifiers, which the audit anchor covers.
"""

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from pathway.store.fingerprint import CLOSURE, clinical_tables, closure_fingerprint, fingerprint, scan
from pathway.store.models import AuditEvent

MAX_NAMED = 5  # rows named per table and kind of problem; the rest are counted


@dataclass(frozen=True)
class Vouched:
    audit_id: int
    from_id: int
    to_id: int
    count: int
    digest: str


@dataclass
class Expected:
    """What the audit trail says the clinical tables hold, gathered row by row along the chain."""

    fingerprints: dict[str, Counter[str]] = field(default_factory=dict)
    vouched: dict[str, list[Vouched]] = field(default_factory=dict)

    def add(self, row: AuditEvent) -> None:
        for table, entry in (row.written or {}).items():
            if isinstance(entry, list):
                self.fingerprints.setdefault(table, Counter()).update(entry)
            elif isinstance(entry, dict):
                assert row.id is not None
                vouched = Vouched(row.id, entry["from_id"], entry["to_id"], entry["count"], entry["digest"])
                self.vouched.setdefault(table, []).append(vouched)


class _Table:
    """One table's rows matched against what was recorded."""

    def __init__(self, name: str, expected: Expected, label: str | None = None) -> None:
        self.name, self.label = name, label or name
        self.wanted = expected.fingerprints.get(name, Counter())
        self.ranges = expected.vouched.get(name, [])
        self.in_range: dict[int, list[str]] = {}
        self.unexplained: list[Any] = []

    def see(self, row_id: Any, print_: str) -> None:
        if self.wanted[print_] > 0:
            self.wanted[print_] -= 1
            return
        for number, vouched in enumerate(self.ranges):
            if isinstance(row_id, int) and vouched.from_id <= row_id <= vouched.to_id:
                self.in_range.setdefault(number, []).append(print_)
                return
        self.unexplained.append(row_id)

    def problems(self, what: str) -> list[str]:
        """What does not match, `what` naming the things compared (e.g. "rows")."""
        found = []
        for number, vouched in enumerate(self.ranges):
            prints = self.in_range.get(number, [])
            digest = hashlib.sha256("\n".join(sorted(prints)).encode()).hexdigest()
            if len(prints) != vouched.count or digest != vouched.digest:
                found.append(
                    f"{self.label}: the {what} with ids {vouched.from_id} to {vouched.to_id}, vouched for by audit "
                    f"row {vouched.audit_id}, are not what it recorded ({len(prints)} found, {vouched.count} "
                    "recorded): changed, added or deleted in the database"
                )
        if self.unexplained:
            named = ", ".join(str(i) for i in self.unexplained[:MAX_NAMED])
            more = f" and {len(self.unexplained) - MAX_NAMED} more" if len(self.unexplained) > MAX_NAMED else ""
            found.append(
                f"{self.label}: the {what} with id {named}{more}: not what any audit row recorded "
                "(changed or added in the database)"
            )
        if missing := sum(self.wanted.values()):
            found.append(
                f"{self.label}: {missing} of the {what} the audit trail recorded not found "
                "(deleted or changed in the database)"
            )
        return found


def check_rows(session: Session, expected: Expected) -> tuple[int, list[str]]:
    """Read every clinical table once; (rows read, problems found)."""
    read, problems = 0, []
    closures = _Table(CLOSURE, expected, label="pathway")
    for name, table in clinical_tables().items():
        matched = _Table(name, expected)
        for row in scan(session, table):
            read += 1
            matched.see(row["id"], fingerprint(name, row))
            if name == "pathway" and (closed := closure_fingerprint(row)):
                closures.see(row["id"], closed)
        problems += matched.problems("rows")
    problems += closures.problems("closures (closed_on, close_reason) of rows")
    return read, problems
