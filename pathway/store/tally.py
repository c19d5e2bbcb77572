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
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from pathway.store.models import SeverityTally
from pathway.store.repository import table_of

OPEN = 0  # the rank whose changes count the open pathways
OPENED_ON = date.min  # the day they are counted on: every D is after it
# The worklist's older backlog (queries.backlog_by_age): open pathways whose treatment window is not open
# at D with a standing flag past its due date, by the days since their oldest such flag fell due, in
# these groups of (first day, last day), the last open-ended. Group i is counted under rank BACKLOG + i.
BACKLOG_AGES: tuple[tuple[int, int | None], ...] = ((1, 7), (8, 30), (31, 90), (91, None))
BACKLOG = 10  # the backlog groups' rank codes follow the severity ranks (0..2) at a distance
Key = tuple[str, int, date]  # site key, rank, day
Window = tuple[int, date, date, date]  # severity rank, starts on, ends on (inclusive), due on


def contribution(site_key: str | None, windows: Iterable[Window], closes_on: date | None) -> Counter[Key]:
    """One pathway's changes: None for a closed pathway (nothing), else the open total; per run of days
    with the same worst standing rank, +1 on its first day and -1 on the day after its last; and the
    same per run of days in one backlog group (`closes_on`: the last day of its treatment window)."""
    changes: Counter[Key] = Counter()
    if site_key is None:
        return changes
    changes[(site_key, OPEN, OPENED_ON)] += 1
    standing = [window for window in windows if window[1] <= window[2]]
    days = {starts for _rank, starts, _ends, _due in standing}
    days.update(*(_after(ends, 1) for _rank, _starts, ends, _due in standing))

    def worst(day: date) -> int | None:
        rank = max((rank for rank, starts, ends, _due in standing if starts <= day <= ends), default=OPEN)
        return None if rank == OPEN else rank

    _runs(changes, site_key, days, worst)
    # A backlog group changes where a window starts or ends, where one falls due, where the treatment
    # window closes, or where the oldest standing due date reaches the next group's first day.
    dues = {due for _rank, _starts, _ends, due in standing}
    days.update(*(_after(due, first) for due in dues for first, _last in BACKLOG_AGES))
    days.update(_after(closes_on, 1) if closes_on is not None else ())
    _runs(changes, site_key, days, lambda day: backlog_rank(standing, closes_on, day))
    return changes


def backlog_rank(windows: Iterable[Window], closes_on: date | None, day: date) -> int | None:
    """The pathway's backlog group at `day` as its rank code (BACKLOG + i), None when not in the backlog."""
    if closes_on is not None and day <= closes_on:
        return None  # the window is open: the pathway leads the worklist, not the backlog
    oldest = min((due for _rank, starts, ends, due in windows if starts <= day <= ends and due < day), default=None)
    if oldest is None:
        return None
    overdue = (day - oldest).days
    return BACKLOG + next(i for i, (_first, last) in enumerate(BACKLOG_AGES) if last is None or overdue <= last)


def _after(day: date, days: int) -> tuple[date, ...]:
    """The day `days` after `day`, or none when that is past the calendar."""
    return (day + timedelta(days=days),) if (date.max - day).days >= days else ()


def _runs(changes: Counter[Key], site_key: str, days: Iterable[date], rank_at: Callable[[date], int | None]) -> None:
    """+1 to (site, r, day) where rank_at starts being r and -1 where it stops (None: no rank), over the
    days where it may change, in order; rank_at is None before the first of them."""
    was: int | None = None
    for day in sorted(days):
        now = rank_at(day)
        if now != was:
            if was is not None:
                changes[(site_key, was, day)] -= 1
            if now is not None:
                changes[(site_key, now, day)] += 1
            was = now


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


def counts(
    session: Session, as_of: date, site_keys: Iterable[str] | None = None, *, backlog: bool = False
) -> dict[int, int]:
    """Open pathways by worst standing rank at `as_of` (OPEN: all of them), over the given sites (None: all);
    with `backlog`, the backlog pathways by group instead (ranks BACKLOG + i)."""
    table = table_of(SeverityTally)
    ranks = table.c.severity_rank >= BACKLOG if backlog else table.c.severity_rank < BACKLOG
    query = (
        select(table.c.severity_rank, func.coalesce(func.sum(table.c.change), 0))
        .where(table.c.day <= as_of, ranks)
        .group_by(table.c.severity_rank)
    )
    if site_keys is not None:
        query = query.where(table.c.site_key.in_(sorted(site_keys)))
    return {int(rank): int(total) for rank, total in session.execute(query).all()}
