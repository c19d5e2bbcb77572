"""The severity tally (pathway.store.tally) stays exactly what a full recount gives (issue 15).

count_open and backlog_by_age read the tally every command keeps; recount_open and recount_backlog_by_age
count the standing windows of every open pathway. After a bulk load and then random commands through the
services (another cohort's commands, its patients interleaved at random; closures; a governance notice
re-planning a site), the two agree at dates from long before to long after (the backlog's every day for
weeks around today), for every site and sets of sites, on SQLite and PostgreSQL. The migration that adds
the tally fills it from the windows already stored: the same counts again.
"""

import random
from collections import Counter, deque
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from alembic import command as alembic_command
from sqlalchemy import Engine, text

from pathway.errors import CommandRejected
from pathway.services.bulk_load import load_cohort
from pathway.services.commands import execute
from pathway.services.database import prepare_database
from pathway.services.demo import SITES, cohort
from pathway.store import tally
from pathway.store.db import SessionFactory, alembic_config, make_engine, make_session_factory
from pathway.views import queries
from tests.conftest import ADMIN

TODAY = date(2026, 6, 15)
RECORDED = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)
DAYS = [TODAY + timedelta(days=offset) for offset in range(-3200, 900, 97)] + [TODAY, date.min, date(9999, 12, 31)]
# The backlog's groups move a day at a time: every day of a few weeks around today and a year ago too
# (not 0001-01-01: the recount cannot reach 90 days before it).
BACKLOG_DAYS = (
    DAYS[:-2]
    + [date(9999, 12, 31)]
    + [TODAY + timedelta(days=offset) for offset in [*range(-40, 41), *range(-400, -340, 3)]]
)
SITE_SETS = [None, *([site] for site in SITES), list(SITES[:2]), [SITES[3], "Nowhere General"], []]


def _agree(factory: SessionFactory) -> int:
    compared = 0
    with factory() as session:
        for day in DAYS:
            assert queries.count_open(session, day) == queries.recount_open(session, day), day
            for sites in SITE_SETS:
                kept = queries.count_open(session, day, sites=sites)
                assert kept == queries.recount_open(session, day, sites=sites), (day, sites)
                compared += 1
            assert queries.count_open(session, day, site=SITES[1].upper(), sites=SITES[:2]) == queries.recount_open(
                session, day, site=SITES[1].upper(), sites=SITES[:2]
            )
        groups_seen = set()
        for day in BACKLOG_DAYS:
            for sites in SITE_SETS:
                kept = queries.backlog_by_age(session, day, sites=sites)
                assert kept == queries.recount_backlog_by_age(session, day, sites=sites), (day, sites)
                groups_seen |= {group.first_day for group in kept if group.count}
                compared += 1
            kept = queries.backlog_by_age(session, day, site=SITES[2].lower(), sites=SITES[1:3])
            assert kept == queries.recount_backlog_by_age(session, day, site=SITES[2].lower(), sites=SITES[1:3])
        assert groups_seen == {first for first, _last in queries.BACKLOG_AGES}, "every group met, not only zeros"
    return compared


def _random_commands(factory: SessionFactory, seed: int) -> int:
    """Another cohort's commands, its patients interleaved at random (each patient's in order), then
    random closures; returns how many were accepted."""
    rng = random.Random(seed)
    queues = [deque(p) for p in cohort(40, seed=seed, today=TODAY, start=5000, nhs_start=7000, pathways=52)]
    accepted = 0
    while queues:
        queue = rng.choice(queues)
        try:
            execute(factory, ADMIN, queue.popleft(), recorded_at=RECORDED)
            accepted += 1
        except CommandRejected:
            pass  # the cohort's attempts
        if not queue:
            queues.remove(queue)
    with factory() as session:
        open_refs = [row.pathway for row in queries.worklist(session, TODAY)]
    for ref in rng.sample(open_refs, 15):
        closed_on = (TODAY - timedelta(days=rng.randint(0, 3))).isoformat()
        try:
            execute(
                factory,
                ADMIN,
                {
                    "command": "close_pathway",
                    "pathway": ref,
                    "closed_on": closed_on,
                    "reason": "completed",
                    "by": "Dr A. Synthetic",
                },
                recorded_at=RECORDED,
            )
            accepted += 1
        except CommandRejected:
            pass  # a PMT pathway not yet registered (HTG516 1.3)
    return accepted


def test_kept_counts_equal_a_full_recount_after_random_commands(engine: Engine) -> None:
    factory = make_session_factory(engine)
    load_cohort(factory, patients=120, pathways=150, seed=3, today=TODAY, actor=ADMIN)
    assert _agree(factory) > 0
    assert _random_commands(factory, seed=21) > 300
    # The fourth site's governance notice re-plans its open pathways that wait for one.
    notice = {"command": "notify_governance", "site": SITES[3], "notified_on": "2026-06-01", "lead": "Lead"}
    execute(factory, ADMIN, notice | {"by": "Dr I. Radiologist"}, recorded_at=RECORDED)
    _agree(factory)
    with factory() as session:  # a count never needs more rows than days x sites x ranks
        kept = session.execute(text("SELECT count(*) FROM severity_tally")).scalar_one()
        pathways = session.execute(text("SELECT count(*) FROM pathway")).scalar_one()
    assert kept > 0 and pathways == 150 + 52


def test_the_migration_fills_the_tally_from_the_stored_windows(tmp_path: Path) -> None:
    factory = prepare_database(f"sqlite:///{tmp_path / 'migrated.db'}")
    load_cohort(factory, patients=60, pathways=70, seed=8, today=TODAY, actor=ADMIN)
    engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE severity_tally SET change = change + 7"))  # wrong, then rebuilt
    alembic_command.downgrade(alembic_config(engine), "0011")
    alembic_command.upgrade(alembic_config(engine), "head")
    _agree(make_session_factory(engine))


def test_a_pathways_contribution_follows_its_worst_standing_window() -> None:
    day = date(2026, 1, 10)
    # Due on their first day, with the treatment window open through all of them: no backlog here.
    windows = [(1, day, day + timedelta(days=9), day), (2, day + timedelta(days=3), day + timedelta(days=5), day)]
    changes = tally.contribution("north", windows, closes_on=day + timedelta(days=30))
    assert dict(changes) == {
        ("north", 0, date.min): 1,
        ("north", 1, day): 1,
        ("north", 1, day + timedelta(days=3)): -1,
        ("north", 2, day + timedelta(days=3)): 1,
        ("north", 2, day + timedelta(days=6)): -1,
        ("north", 1, day + timedelta(days=6)): 1,
        ("north", 1, day + timedelta(days=10)): -1,
    }
    assert tally.contribution(None, windows, closes_on=None) == {}
    assert tally.contribution("north", [(2, date.min, date.max, date.max)], closes_on=None) == {
        ("north", 0, date.min): 1,
        ("north", 2, date.min): 1,
    }


def _backlog_of(windows: list[tally.Window], closes_on: date | None, day: date) -> dict[tuple[int, int], int]:
    """The contribution's backlog changes as (rank code, days after `day`): change."""
    changes = tally.contribution("north", windows, closes_on=closes_on).items()
    return {(rank, (on - day).days): n for (_site, rank, on), n in changes if rank >= tally.BACKLOG}


def test_a_pathways_backlog_group_follows_its_oldest_overdue_standing_window() -> None:
    day = date(2026, 1, 10)
    closes = day + timedelta(days=5)
    # An amber flag due on day 0 standing for 200 days; the treatment window closes on day 5.
    windows: list[tally.Window] = [(1, day, day + timedelta(days=199), day)]
    # In the backlog from day 6 (window closed, 6 days overdue): 1-7 days, then 8-30 from day 8, 31-90
    # from day 31, over 90 from day 91; out on day 200, when the flag no longer stands.
    expected = {(10, 6): 1, (10, 8): -1, (11, 8): 1, (11, 31): -1, (12, 31): 1, (12, 91): -1, (13, 91): 1}
    assert _backlog_of(windows, closes, day) == expected | {(13, 200): -1}
    # A red flag due later changes nothing while the older one stands: the oldest due date decides.
    later = (2, day + timedelta(days=50), day + timedelta(days=260), day + timedelta(days=50))
    # After day 199 the red one alone is overdue: 150 days, over 90, so the pathway stays in that group.
    assert _backlog_of([*windows, later], closes, day) == expected | {(13, 261): -1}
    # Without a treatment window (None) the pathway is in the backlog from the day after the due date.
    assert _backlog_of(windows, None, day)[(10, 1)] == 1


def _backlog_rank(windows: list[tally.Window], closes_on: date | None, day: date) -> int | None:
    """The definition, day by day: window not open, the oldest standing due date before the day decides."""
    if closes_on is not None and day <= closes_on:
        return None
    oldest = min((due for _rank, starts, ends, due in windows if starts <= day <= ends and due < day), default=None)
    if oldest is None:
        return None
    overdue = (day - oldest).days
    return tally.BACKLOG + next(i for i, (_first, last) in enumerate(tally.BACKLOG_AGES) if not last or overdue <= last)


def test_random_windows_contribute_their_backlog_group_on_every_day() -> None:
    rng = random.Random(15)
    start = date(2026, 1, 1)
    for _pathway in range(400):
        windows: list[tally.Window] = []
        for _window in range(rng.randint(0, 5)):
            starts = start + timedelta(days=rng.randint(0, 200))
            ends = starts + timedelta(days=rng.randint(-3, 150))  # now and then one that never stands
            due = starts + timedelta(days=rng.randint(-20, 120))
            windows.append((rng.choice([1, 2]), starts, ends, due))
        closes = rng.choice([None, start + timedelta(days=rng.randint(0, 250))])
        changes = tally.contribution("north", windows, closes_on=closes)
        counted = Counter[int]()
        for day in (start + timedelta(days=n) for n in range(-1, 520)):
            for rank in range(tally.BACKLOG, tally.BACKLOG + len(tally.BACKLOG_AGES)):
                counted[rank] += changes.get(("north", rank, day), 0)
            expected = _backlog_rank(windows, closes, day)
            assert +counted == (Counter({expected: 1}) if expected else Counter()), (windows, closes, day)
