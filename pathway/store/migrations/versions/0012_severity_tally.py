"""severity tally: the dashboard's severity counts kept by each command (issue 15)

Revision ID: 0012
Revises: 0011

Adds `severity_tally` and fills it from the flag windows of the open pathways (pathway.store.tally
says what the rows mean). Self-contained: it must give the same rows whatever the code becomes.
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
            "SELECT p.site_key, w.pathway_id, w.severity_rank, w.starts_on, w.ends_on FROM flag_window w "
            "JOIN pathway p ON p.id = w.pathway_id WHERE p.closed_on IS NULL ORDER BY w.pathway_id"
        )
    )
    for (site_key, _pathway), rows in groupby(windows, key=lambda row: (row[0], row[1])):
        spans = [(rank, _day(starts), _day(ends)) for _site, _id, rank, starts, ends in rows]
        for day, rank, change in _runs(spans):
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


def _runs(spans: list[tuple[int, date, date]]) -> list[tuple[date, int, int]]:
    """(day, rank, +1 or -1) where the pathway's worst standing rank starts or stops being `rank`."""
    found, worst = [], 0
    edges = sorted(
        {s for _r, s, e in spans if s <= e} | {e + timedelta(days=1) for _r, s, e in spans if s <= e < date.max}
    )
    for day in edges:
        now = max((r for r, s, e in spans if s <= day <= e), default=0)
        if now != worst:
            found += [(day, worst, -1)] if worst else []
            found += [(day, now, 1)] if now else []
            worst = now
    return found


def downgrade() -> None:
    op.drop_table("severity_tally")
