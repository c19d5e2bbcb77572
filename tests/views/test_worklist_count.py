"""The worklist's page and its count come from one filter definition (pathway.views.filters): for every
combination of filters, the count is the number of rows the unpaged worklist shows, and the pages add up."""

from datetime import date
from itertools import product

from pathway.services.bulk_load import load_cohort
from pathway.store.db import SessionFactory
from pathway.views import queries, reports
from tests.conftest import ADMIN

TODAY = date(2026, 11, 1)


def test_count_matches_the_worklist_for_every_filter(sqlite_factory: SessionFactory) -> None:
    load_cohort(sqlite_factory, patients=150, seed=11, today=TODAY, actor=ADMIN)
    with sqlite_factory() as session:
        rows = queries.worklist(session, TODAY)
        sites = sorted({r.site for r in rows})[:2]
        stages = sorted({r.stage for r in rows})[:3]
        flags = sorted({f.code for r in rows for f in r.flags})[:3]
        routes = sorted({r.route for r in rows})[:2]
        checked = 0
        for site, stage, route, flag, flagged_only in product(
            [None, *sites], [None, *stages], [None, *routes], [None, *flags], [False, True]
        ):
            chosen = {"site": site, "stage": stage, "route": route, "flag": flag, "flagged_only": flagged_only}
            shown = queries.worklist(session, TODAY, **chosen)
            assert reports.count_worklist(session, TODAY, **chosen) == len(shown), chosen
            paged = [
                r.pathway
                for offset in range(0, len(shown), 20)
                for r in queries.worklist(session, TODAY, **chosen, limit=20, offset=offset)
            ]
            assert paged == [r.pathway for r in shown], chosen
            checked += bool(shown)
        assert checked > 20  # the cohort gives most combinations some rows
