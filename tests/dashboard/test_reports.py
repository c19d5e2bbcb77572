"""pathway.views.reports (report figures, paging counts) and pathway.domain.timeline (the chart's rows from STAGES)."""

from datetime import date, timedelta
from itertools import product
from typing import Any

import pytest

from pathway.domain.policy import policy_in_force
from pathway.domain.stages import STAGES
from pathway.domain.timeline import build_timeline, step_status
from pathway.services.bulk_load import load_cohort
from pathway.store.db import SessionFactory
from pathway.store.models import Step
from pathway.views import queries, reports
from tests.dashboard.conftest import SEEDER, seed, today


def test_count_worklist_matches_the_worklist_for_every_filter(sqlite_factory: SessionFactory) -> None:
    as_of = date(2026, 6, 15)
    load_cohort(sqlite_factory, patients=150, seed=3, today=as_of, actor=SEEDER)
    with sqlite_factory() as session:
        combinations = product(
            [None, "North Vale General"],
            [None, "CONSENT_OUTSTANDING", "MDT_OVERDUE"],
            [None, "consent", "follow_up"],
            [None, "research_only"],
            [False, True],
        )
        counted = 0
        for site, flag, stage, route, flagged_only in combinations:
            filters: dict[str, Any] = {
                "site": site,
                "flag": flag,
                "stage": stage,
                "route": route,
                "flagged_only": flagged_only,
            }
            expected = len(queries.worklist(session, as_of, **filters))
            assert reports.count_worklist(session, as_of, **filters) == expected, filters
            counted += expected
        assert counted > 0
        assert reports.sites(session)[0] == "Harbour Royal"


def test_reports_on_the_seeded_pathways(database: SessionFactory) -> None:
    as_of = today()
    with database() as session:
        assert [(r.days, r.pathways, r.within_window) for r in reports.days_to_procedure(session, sites=None)] == [
            (5, 1, True)
        ]
        months = {r.month: r for r in reports.window_by_month(session, sites=None)}
        treated = months[(as_of - timedelta(days=40)).strftime("%Y-%m")]
        assert (treated.procedural, treated.treated_within_window) >= (1, 1)
        assert sum(r.not_treated for r in months.values()) == 1  # P-CONSENT is awaiting its procedure
        stages = {r.stage: r.pathways for r in reports.pathways_by_stage(session, sites=None)}
        assert list(stages)[: len(STAGES)] == [s.code for s in STAGES]  # declared order
        assert sum(stages.values()) == 5 and stages["consent"] == 1 and stages["mdt"] == 2
        flags = {(r.code, r.severity): r.pathways for r in reports.flags_by_type(session, as_of, sites=None)}
        assert flags[("CONSENT_OUTSTANDING", "amber")] == 1
        assert flags[("REGISTRY_SUBMISSION_OVERDUE", "red")] == 1
        assert next(iter(flags))[1] == "red"  # red flags listed first
        complications = {
            r.complication: (r.procedures, r.share_of_procedures) for r in reports.complications(session, sites=None)
        }
        assert complications == {"access-site haematoma": (1, 1.0), "(none recorded)": (0, 0.0)}
        (registry,) = reports.registry_completeness(session, as_of, sites=None)
        assert (registry.pmt_pathways, registry.submitted, registry.overdue, registry.completeness) == (1, 0, 1, 0.0)


@pytest.mark.parametrize(
    ("done", "as_of", "expected"),
    [
        (date(2026, 6, 9), date(2026, 6, 20), "done"),
        (date(2026, 6, 11), date(2026, 6, 20), "done_late"),
        (None, date(2026, 6, 11), "overdue"),
        (None, date(2026, 6, 10), "due"),
        (None, date(2026, 6, 4), "due"),
        (None, date(2026, 6, 3), "upcoming"),
    ],
)
def test_step_status_against_warning_and_due_dates(done: date | None, as_of: date, expected: str) -> None:
    assert step_status(date(2026, 6, 4), date(2026, 6, 10), done, as_of) == expected


def test_timeline_rows_follow_the_stage_declaration_with_presentation_first(database: SessionFactory) -> None:
    with database() as session:
        detail = queries.pathway_detail(session, "P-TREATED", today())
    steps: list[Step] = list(reversed(detail.steps))  # the declaration, not the input order, decides
    timeline = build_timeline(detail.pathway.presented_on, steps, today())
    declared = [step.title for stage in STAGES for step in stage.steps]
    titles = [row.step for row in timeline.rows]
    assert titles[0] == "Presentation"
    assert titles[1:] == sorted(titles[1:], key=declared.index)
    assert {"MDT assessment", "Consent with written information", "Procedure", "Follow-up visit (early)"} <= set(titles)
    window = policy_in_force().n("treatment_window_days")
    assert timeline.window_closes_on - timeline.presented_on == timedelta(days=window)
    procedure = next(row for row in timeline.rows if row.code == "procedure")
    assert (procedure.done_on, procedure.status) == (today() - timedelta(days=35), "done")


def test_reports_agree_on_sqlite_and_postgresql(factory: SessionFactory) -> None:
    # Day differences and months are written per dialect (julianday/strftime; date - date/to_char).
    seed(factory)
    as_of = today()
    with factory() as session:
        assert [(r.days, r.pathways) for r in reports.days_to_procedure(session, sites=None)] == [(5, 1)]
        assert sum(r.procedural for r in reports.window_by_month(session, sites=None)) == 2
        (registry,) = reports.registry_completeness(session, as_of, sites=None)
        assert registry.month == (as_of - timedelta(days=35)).strftime("%Y-%m") and registry.overdue == 1
        assert reports.count_worklist(session, as_of, flag="CONSENT_OUTSTANDING") == 1
        assert reports.count_worklist(session, as_of, flagged_only=True) == 3
