"""The worklist's older backlog by age (queries.backlog_by_age, queries.backlog_rows) on SQLite and
PostgreSQL, checked against the flag windows read row by row and grouped in Python."""

from collections import defaultdict
from datetime import date

from sqlmodel import select

from pathway.services.bulk_load import load_cohort
from pathway.store.db import SessionFactory
from pathway.store.models import FlagWindowRow, Pathway
from pathway.views import queries
from tests.dashboard.conftest import SEEDER, today


def _expected(factory: SessionFactory, as_of: date, site: str | None = None) -> dict[str, int]:
    """Each backlog pathway's age in days: its oldest standing flag past due, window not open."""
    return {ref: age for ref, (age, _red) in _backlog(factory, as_of, site).items()}


def _backlog(factory: SessionFactory, as_of: date, site: str | None = None) -> dict[str, tuple[int, bool]]:
    """Each backlog pathway's age in days and whether a red flag past due stands on it."""
    with factory() as session:
        pathways = {p.id: p for p in session.exec(select(Pathway)).all()}
        windows = session.exec(select(FlagWindowRow)).all()
    oldest: dict[str, date] = {}
    red: set[str] = set()
    for w in windows:
        p = pathways[w.pathway_id]
        if p.closed_on is not None or (site and p.site != site):
            continue
        if p.window_closes_on is not None and p.window_closes_on >= as_of:
            continue
        if w.starts_on <= as_of <= w.ends_on and w.due_on < as_of:
            oldest[p.ref] = min(oldest.get(p.ref, w.due_on), w.due_on)
            if w.severity == "red":
                red.add(p.ref)
    return {ref: ((as_of - due).days, ref in red) for ref, due in oldest.items()}


def _group(age: int) -> tuple[int, int | None]:
    return next(g for g in queries.BACKLOG_AGES if g[0] <= age and (g[1] is None or age <= g[1]))


def test_the_backlog_is_grouped_by_age_with_counts_and_rows(factory: SessionFactory) -> None:
    load_cohort(factory, patients=200, seed=5, today=today(), actor=SEEDER)
    as_of = today()
    ages = _expected(factory, as_of)
    by_group: dict[tuple[int, int | None], set[str]] = defaultdict(set)
    for ref, age in ages.items():
        by_group[_group(age)].add(ref)
    assert len(by_group) >= 3, "the cohort should spread its backlog over several age groups"
    with factory() as session:
        groups = queries.backlog_by_age(session, as_of)
        listed = {
            (g.first_day, g.last_day): queries.backlog_rows(session, as_of, g.first_day, g.last_day, limit=10_000)
            for g in groups
        }
        first_two = queries.backlog_rows(session, as_of, 91, None, limit=2)
    assert [(g.first_day, g.last_day) for g in groups] == list(queries.BACKLOG_AGES)
    assert {(g.first_day, g.last_day): g.count for g in groups} == {
        group: len(by_group.get(group, set())) for group in queries.BACKLOG_AGES
    }
    backlog = _backlog(factory, as_of)
    for group, rows in listed.items():
        # Red first, then the longest overdue, then by reference: the tiered read's order exactly.
        expected = sorted(by_group.get(group, set()), key=lambda ref: (not backlog[ref][1], -backlog[ref][0], ref))
        assert [r.pathway for r in rows] == expected
        assert all(r.flags for r in rows)
        assert all(r.window_days_left is None or r.window_days_left < 0 for r in rows)
        ranks = [0 if r.severity == "red" else 1 for r in rows]
        assert ranks == sorted(ranks)  # red first
    assert [r.pathway for r in first_two] == [r.pathway for r in listed[(91, None)][:2]]
    assert [g.words for g in groups] == [
        "Overdue 1–7 days",
        "Overdue 8–30 days",
        "Overdue 31–90 days",
        "Overdue more than 90 days",
    ]


def test_the_backlog_follows_the_site_filter_and_the_readers_sites(factory: SessionFactory) -> None:
    load_cohort(factory, patients=120, seed=9, today=today(), actor=SEEDER)
    as_of = today()
    with factory() as session:
        site = session.exec(select(Pathway.site)).first()
        assert site is not None
        everywhere = sum(g.count for g in queries.backlog_by_age(session, as_of))
        one_site = sum(g.count for g in queries.backlog_by_age(session, as_of, site=site))
        nowhere = sum(g.count for g in queries.backlog_by_age(session, as_of, sites=["no such site"]))
    assert one_site == len(_expected(factory, as_of, site)) and 0 < one_site < everywhere
    assert nowhere == 0
