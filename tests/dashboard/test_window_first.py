"""The dashboard's default worklist order (queries.worklist(window_first=True)) on SQLite and
PostgreSQL: open treatment windows first, fewest days left first, then the usual urgency order; the
same rows as the plain order, page by page and through the grouped path alike."""

from pathway.services.bulk_load import load_cohort
from pathway.store.db import SessionFactory
from pathway.views import queries, reports
from tests.dashboard.conftest import SEEDER, today


def test_open_windows_first_and_the_same_rows_on_every_path(factory: SessionFactory) -> None:
    load_cohort(factory, patients=150, seed=11, today=today(), actor=SEEDER)
    as_of = today()
    with factory() as session:
        plain = [r.pathway for r in queries.worklist(session, as_of)]
        tiered = queries.worklist(session, as_of, limit=1000, window_first=True)
        grouped = queries.worklist(session, as_of, window_first=True)  # no limit: the grouped statement
        pages = []
        for offset in range(0, len(plain), 25):
            pages += queries.worklist(session, as_of, limit=25, offset=offset, window_first=True)
        flagged = queries.worklist(session, as_of, limit=1000, flagged_only=True, window_first=True)
        flagged_count = reports.count_worklist(session, as_of, flagged_only=True)
    order = [r.pathway for r in tiered]
    assert order == [r.pathway for r in grouped] == [r.pathway for r in pages]
    assert sorted(order) == sorted(plain) and len(order) == len(set(order))
    left = [r.window_days_left for r in tiered]
    open_count = sum(1 for d in left if d is not None and d >= 0)
    assert open_count > 0
    assert left[:open_count] == sorted(left[:open_count])  # fewest days left first
    assert all(d is None or d < 0 for d in left[open_count:])  # then no open window
    assert len(flagged) == flagged_count and all(r.flags for r in flagged)
