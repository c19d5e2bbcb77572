"""The dashboard's severity counts without a scan (issue 15): kept in the command's transaction.

`count_open` answers "how many open pathways, by the worst flag standing on each at D" on every render of
the dashboard. Flags stand over date ranges (the flag windows, pathway.store.plan), so a pathway's worst
severity is a step function of D: for each run of days where its worst standing rank is r, it adds +1 to
rank r on the run's first day and -1 on the day after its last. Each open pathway also adds +1 to rank 0 on
day 0001-01-01 (the open total). `severity_tally` keeps those changes summed per (site key, rank, day), so
the count at D is the sum of the changes dated up to D: a few thousand rows whatever the number of
pathways (the distinct days a cohort's windows start and end on), and exact at every D, past or future.
The worklist's older backlog by age (queries.backlog_by_age) is kept alike under rank codes 10 and up.

store_plan replaces a pathway's windows and applies the difference between its old and new contribution
(a closed pathway contributes nothing), in the same transaction as the command. Rows are changed in key
order, so two commands never wait on each other's rows in opposite orders. docs/architecture.md has the
design; tests/store/test_tally.py compares the kept counts with a full recount.
"""

from bisect import bisect_right
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
    days |= {ends + timedelta(days=1) for _rank, _starts, ends, _due in standing if ends < date.max}

    def worst(day: date) -> int | None:
        rank = max((rank for rank, starts, ends, _due in standing if starts <= day <= ends), default=OPEN)
        return None if rank == OPEN else rank

    _runs(changes, site_key, days, worst)
    _backlog_runs(changes, site_key, standing, closes_on)
    return changes


_LATER_FIRSTS = [first for first, _last in BACKLOG_AGES[1:]]  # the days overdue where a group begins, after 1
_LAST_DAY = date.max.toordinal()


def _backlog_runs(changes: Counter[Key], site_key: str, windows: list[Window], closes_on: date | None) -> None:
    """The backlog groups' runs, on day numbers (this runs once per pathway loaded: a million times for a
    national cohort). At day D the pathway is in the backlog when D is after `closes_on` and a window
    stands past its due date; its group is that of D less the oldest such due date. The group changes
    only where a window first stands past its due date with the treatment window closed, where a window
    stops standing, or where the oldest overdue standing window's age reaches a group's first day."""
    spans = [(starts.toordinal(), ends.toordinal(), due.toordinal()) for _rank, starts, ends, due in windows]
    spans = [(starts, ends, due) for starts, ends, due in spans if due < ends]  # ever standing past due
    if not spans:
        return
    outside = closes_on.toordinal() + 1 if closes_on is not None else 0  # first day the window is not open
    days = {max(starts, due + 1, outside) for starts, ends, due in spans}
    days |= {ends + 1 for _starts, ends, _due in spans if ends < _LAST_DAY}
    days |= {due + first for starts, ends, due in spans for first in _LATER_FIRSTS if starts <= due + first <= ends}
    was: int | None = None
    for day in sorted(day for day in days if day <= _LAST_DAY):
        oldest = min((due for starts, ends, due in spans if starts <= day <= ends and due < day), default=None)
        now = None if oldest is None or day < outside else BACKLOG + bisect_right(_LATER_FIRSTS, day - oldest)
        if now != was:
            if was is not None:
                changes[(site_key, was, date.fromordinal(day))] -= 1
            if now is not None:
                changes[(site_key, now, date.fromordinal(day))] += 1
            was = now


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
