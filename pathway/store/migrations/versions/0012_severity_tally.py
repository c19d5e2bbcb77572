"""severity tally: the dashboard's severity counts kept by each command (issue 15)

Revision ID: 0012
Revises: 0011

Adds `severity_tally` and fills it from the flag windows of the open pathways: the severity ranks and
the worklist backlog's age groups (pathway.store.tally says what the rows mean). Self-contained: it must
give the same rows whatever the code becomes.
"""

from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from itertools import groupby

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    tally = op.create_table(
        "severity_tally",
        sa.Column("site_key", sqlmodel.sql.sqltypes.AutoString(length=240), nullable=False),
        sa.Column("severity_rank", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("change", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site_key", "severity_rank", "day", name=op.f("pk_severity_tally")),
    )
    connection = op.get_bind()
    changes: Counter[tuple[str, int, date]] = Counter()
    for site_key, opened in connection.execute(
        sa.text("SELECT site_key, count(*) FROM pathway WHERE closed_on IS NULL GROUP BY site_key")
    ):
        changes[(site_key, 0, date.min)] += opened
    windows = connection.execute(
        sa.text(
            "SELECT p.site_key, w.pathway_id, p.window_closes_on, w.severity_rank, w.starts_on, w.ends_on, "
            "w.due_on FROM flag_window w JOIN pathway p ON p.id = w.pathway_id WHERE p.closed_on IS NULL "
            "ORDER BY w.pathway_id"
        )
    )
    for (site_key, _pathway, closes), rows in groupby(windows, key=lambda row: (row[0], row[1], row[2])):
        spans = [(rank, _day(starts), _day(ends), _day(due)) for *_pathway, rank, starts, ends, due in rows]
        spans = [span for span in spans if span[1] <= span[2]]
        for day, rank, change in _runs(spans) + _backlog_runs(spans, _day(closes) if closes else None):
            changes[(site_key, rank, day)] += change
    rows = [
        {"site_key": site, "severity_rank": rank, "day": day, "change": change}
        for (site, rank, day), change in sorted(changes.items())
        if change
    ]
    if rows:
        op.bulk_insert(tally, rows)


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


Span = tuple[int, date, date, date]  # severity rank, starts on, ends on, due on (starts <= ends)


def _runs(spans: list[Span]) -> list[tuple[date, int, int]]:
    """(day, rank, +1 or -1) where the pathway's worst standing rank starts or stops being `rank`."""
    found, worst = [], 0
    edges = sorted({s for _r, s, e, _d in spans} | {e + timedelta(days=1) for _r, s, e, _d in spans if e < date.max})
    for day in edges:
        now = max((r for r, s, e, _d in spans if s <= day <= e), default=0)
        if now != worst:
            found += [(day, worst, -1)] if worst else []
            found += [(day, now, 1)] if now else []
            worst = now
    return found


AGES = ((1, 7), (8, 30), (31, 90), (91, None))  # the backlog's groups by days overdue, ranks 10, 11, 12, 13


def _backlog_runs(spans: list[Span], closes: date | None) -> list[tuple[date, int, int]]:
    """(day, 10 + group, +1 or -1) where the pathway enters or leaves a backlog group: window not open
    (day after `closes`), a standing window past its due date, grouped by the oldest such due date."""

    def group(day: date) -> int:
        if closes is not None and day <= closes:
            return 0
        oldest = min((d for _r, s, e, d in spans if s <= day <= e and d < day), default=None)
        if oldest is None:
            return 0
        return 10 + next(i for i, (_first, last) in enumerate(AGES) if last is None or (day - oldest).days <= last)

    def after(day: date, days: int) -> set[date]:
        return {day + timedelta(days=days)} if (date.max - day).days >= days else set()

    edges = {s for _r, s, _e, _d in spans}
    for _r, _s, e, d in spans:
        edges |= after(e, 1)
        for first, _last in AGES:
            edges |= after(d, first)
    edges |= after(closes, 1) if closes is not None else set()
    found, was = [], 0
    for day in sorted(edges):
        now = group(day)
        if now != was:
            found += [(day, was, -1)] if was else []
            found += [(day, now, 1)] if now else []
            was = now
    return found


def downgrade() -> None:
    op.drop_table("severity_tally")
