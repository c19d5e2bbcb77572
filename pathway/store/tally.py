"""The dashboard's severity counts without a scan (issue 15): kept in the command's transaction.

`count_open` answers "how many open pathways, by the worst flag standing on each at D" on every render of
the dashboard. Flags stand over date ranges (the flag windows, pathway.store.plan), so a pathway's worst
severity is a step function of D: for each run of days where its worst standing rank is r, it adds +1 to
rank r on the run's first day and -1 on the day after its last. Each open pathway also adds +1 to rank 0 on
day 0001-01-01 (the open total). `severity_tally` keeps those changes summed per (site key, rank, day), so
the count at D is the sum of the changes dated up to D: a few thousand rows whatever the number of
pathways (the distinct days a cohort's windows start and end on), and exact at every D, past or future.

store_plan replaces a pathway's windows and applies the difference between its old and new contribution
(a closed pathway contributes nothing), in the same transaction as the command. Rows are changed in key
order, so two commands never wait on each other's rows in opposite orders. docs/architecture.md has the
design; tests/store/test_tally.py compares the kept counts with a full recount.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from pathway.store.models import SeverityTally
from pathway.store.repository import table_of

OPEN = 0  # the rank whose changes count the open pathways
OPENED_ON = date.min  # the day they are counted on: every D is after it
Key = tuple[str, int, date]  # site key, rank, day
Window = tuple[int, date, date]  # severity rank, starts on, ends on (inclusive)


def contribution(site_key: str | None, windows: Iterable[Window]) -> Counter[Key]:
    """One pathway's changes: None for a closed pathway (nothing), else the open total and, per run of
    days with the same worst standing rank, +1 on its first day and -1 on the day after its last."""
    changes: Counter[Key] = Counter()
    if site_key is None:
        return changes
    changes[(site_key, OPEN, OPENED_ON)] += 1
    standing = [(rank, starts, ends) for rank, starts, ends in windows if starts <= ends]
    days = {starts for _rank, starts, _ends in standing}
    days |= {ends + timedelta(days=1) for _rank, _starts, ends in standing if ends < date.max}
    worst = OPEN
    for day in sorted(days):
        now = max((rank for rank, starts, ends in standing if starts <= day <= ends), default=OPEN)
        if now != worst:
            if worst != OPEN:
                changes[(site_key, worst, day)] -= 1
            if now != OPEN:
                changes[(site_key, now, day)] += 1
            worst = now
    return changes


def apply(session: Session, changes: Counter[Key]) -> None:
    """Add the changes to the tally (upserts, in key order; a change of 0 is skipped)."""
    rows = [
        {"site_key": site, "severity_rank": rank, "day": day, "change": change}
        for (site, rank, day), change in sorted(changes.items())
        if change
    ]
    if not rows:
        return
    table = table_of(SeverityTally)
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.site_key, table.c.severity_rank, table.c.day],
        set_={"change": table.c.change + statement.excluded.change},
    )
    session.execute(statement, rows)


def difference(before: Counter[Key], after: Counter[Key]) -> Counter[Key]:
    changes = Counter(after)
    changes.subtract(before)
    return changes


def counts(session: Session, as_of: date, site_keys: Iterable[str] | None = None) -> dict[int, int]:
    """Open pathways by worst standing rank at `as_of` (OPEN: all of them), over the given sites (None: all)."""
    table = table_of(SeverityTally)
    query = (
        select(table.c.severity_rank, func.coalesce(func.sum(table.c.change), 0))
        .where(table.c.day <= as_of)
        .group_by(table.c.severity_rank)
    )
    if site_keys is not None:
        query = query.where(table.c.site_key.in_(sorted(site_keys)))
    return {int(rank): int(total) for rank, total in session.execute(query).all()}
