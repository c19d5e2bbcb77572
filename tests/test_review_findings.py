"""The clinical review's reproductions (issue 11), each recorded through the services with version 1's own
commands where it could be, on SQLite and PostgreSQL. Every test here failed on the code before version 2;
each must now end flagged or refused.

Findings reproduced elsewhere: the 60-day "14-day window" and the audit report's hard-coded 14
(tests/domain/test_policy.py::test_a_60_day_treatment_window_is_refused_with_a_clear_message,
tests/test_safety_net_outputs.py::test_audit_report_window_and_pts_note_come_from_the_policy), the
diagnosis code that lost the leg
(tests/domain/test_codes.py::test_suggest_diagnosis_codes_ivc_iliac_and_cfv_keep_the_leg_and_its_side), the
over-claiming leaflets (tests/domain/test_leaflets.py).
"""

from datetime import UTC, date, datetime
from typing import Any

import pytest

from pathway.errors import CommandRejected
from pathway.exports.registry import registry_export
from pathway.store.db import SessionFactory
from pathway.views import queries
from tests.conftest import (
    consent,
    diagnose,
    governance,
    mdt,
    procedure,
    register,
    run,
    start_anticoagulation,
)

LATER = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def flags(factory: SessionFactory, as_of: date, ref: str = "P1") -> dict[str, str]:
    with factory() as session:
        return {f.code: f.severity.value for f in queries.pathway_detail(session, ref, as_of).flags}


def pmt_done(factory: SessionFactory, **diagnosis: Any) -> None:
    """A PMT on 2026-06-05 for an iliofemoral DVT presented on 2026-06-01, anticoagulated from P."""
    run(factory, governance())
    run(factory, register())
    run(factory, diagnose(**diagnosis))
    run(factory, start_anticoagulation())
    run(factory, mdt())
    run(factory, consent())
    run(factory, procedure())


def review(on: str, decision: str) -> dict[str, Any]:
    return {"command": "record_anticoagulation_review", "pathway": "P1", "reviewed_on": on, "decision": decision}


def stop(on: str, reason: str) -> dict[str, Any]:
    return {"command": "stop_anticoagulation", "pathway": "P1", "stopped_on": on, "reason": reason}


def test_a_review_before_the_stop_no_longer_silences_the_early_stop(factory: SessionFactory) -> None:
    """A review dated before a stop (decision continue) silenced ANTICOAGULATION_STOPPED_EARLY for good."""
    pmt_done(factory)
    run(factory, review("2026-06-02", "continue_defined"))
    run(factory, stop("2026-06-06", "patient_choice"))  # the day after the PMT
    for as_of in (date(2026, 6, 6), date(2026, 7, 1), date(2026, 12, 1)):
        assert flags(factory, as_of)["ANTICOAGULATION_STOPPED_EARLY"] == "red"


def test_a_review_at_day_10_is_not_the_3_month_review(factory: SessionFactory) -> None:
    """A review at day 10 suppressed the 3-month review flags: none even a month past the 3-month point."""
    pmt_done(factory)
    run(factory, review("2026-06-11", "continue_defined"))
    # minimum_end = X + 3 months = 2026-09-05; a month past it the review is overdue.
    assert flags(factory, date(2026, 10, 5))["ANTICOAGULATION_REVIEW_OVERDUE"] == "red"


def test_thrombolysis_booked_for_day_16_is_flagged_before_it_happens(factory: SessionFactory) -> None:
    run(factory, governance())
    run(factory, register())
    run(factory, diagnose(symptom_onset_on="2026-05-30"))
    run(factory, start_anticoagulation())
    run(factory, mdt(decision="cdt"))
    run(factory, {"command": "schedule_procedure", "pathway": "P1", "scheduled_on": "2026-06-15"})  # day 16
    assert flags(factory, date(2026, 6, 3))["THROMBOLYSIS_CRITERIA_NOT_MET"] == "amber"


def test_thrombolysis_done_outside_the_criteria_leaves_a_trace(factory: SessionFactory) -> None:
    """Once done, thrombolysis outside the criteria left no trace: now it needs a rationale, kept and shown."""
    run(factory, governance())
    run(factory, register())
    run(factory, diagnose(symptom_onset_on="2026-05-30"))
    run(factory, mdt(decision="cdt"))
    run(factory, consent())
    late = procedure(technique="cdt", performed_on="2026-06-15")
    with pytest.raises(CommandRejected) as refused:
        run(factory, late)
    assert refused.value.field == "outside_criteria_rationale"
    run(factory, late | {"outside_criteria_rationale": "Limb threatened"})
    with factory() as session:
        shown = queries.pathway_detail(session, "P1", date(2026, 6, 15)).as_dict()
    assert shown["safety"]["outside_criteria_rationale"][0]["rationale"] == "Limb threatened"


def test_ng158_criteria_recorded_at_diagnosis_are_read(factory: SessionFactory) -> None:
    run(factory, register())
    run(factory, diagnose(functional_status="poor", life_expectancy_ge_1y="uncertain", bleeding_risk="high"))
    run(factory, start_anticoagulation())
    run(factory, mdt(decision="cdt"))
    assert flags(factory, date(2026, 6, 3))["THROMBOLYSIS_CRITERIA_NOT_MET"] == "amber"


def test_there_is_a_pre_procedure_safety_check(factory: SessionFactory) -> None:
    pmt_done_later = {"command": "schedule_procedure", "pathway": "P1", "scheduled_on": "2026-06-20"}
    run(factory, governance())
    run(factory, register())
    run(factory, diagnose())
    run(factory, start_anticoagulation())
    run(factory, mdt())
    run(factory, pmt_done_later)
    assert flags(factory, date(2026, 6, 19))["SAFETY_CHECK_OUTSTANDING"] == "red"


def test_a_15_year_old_is_flagged_outside_ng158(factory: SessionFactory) -> None:
    run(factory, register(date_of_birth="2011-01-15"))
    run(factory, diagnose())
    assert flags(factory, date(2026, 6, 2))["OUTSIDE_GUIDANCE_SCOPE"] == "amber"


def test_pregnancy_can_be_recorded_and_is_flagged(factory: SessionFactory) -> None:
    run(factory, register())
    run(factory, diagnose(pregnant=True))
    assert flags(factory, date(2026, 6, 2))["OUTSIDE_GUIDANCE_SCOPE"] == "amber"


def test_a_pmt_without_a_device_is_refused(factory: SessionFactory) -> None:
    run(factory, governance())
    run(factory, register())
    run(factory, diagnose())
    run(factory, mdt())
    run(factory, consent())
    with pytest.raises(CommandRejected) as refused:
        run(factory, procedure(device=None))
    assert refused.value.field == "device"


def test_a_temporary_filter_needs_an_indication_and_a_removal_plan(factory: SessionFactory) -> None:
    run(factory, governance())
    run(factory, register())
    run(factory, diagnose())
    run(factory, mdt())
    run(factory, consent())
    bare = {k: v for k, v in procedure(ivc_filter="temporary").items() if not k.startswith("filter_")}
    with pytest.raises(CommandRejected) as refused:
        run(factory, bare)
    assert refused.value.field == "filter_indication"


def test_a_procedure_hold_needs_an_approved_restart_plan_and_is_not_an_early_stop(factory: SessionFactory) -> None:
    pmt_done(factory)
    with pytest.raises(CommandRejected) as refused:
        run(factory, stop("2026-06-10", "procedure_hold"))
    assert refused.value.field == "restart_planned_on"
    planned = {"restart_planned_on": "2026-06-12", "plan_approved_by": "Dr H"}
    run(factory, stop("2026-06-10", "procedure_hold") | planned)
    assert "ANTICOAGULATION_STOPPED_EARLY" not in flags(factory, date(2026, 6, 10))


def test_closing_a_pmt_pathway_does_not_remove_the_registry_entry(factory: SessionFactory) -> None:
    pmt_done(factory)
    with pytest.raises(CommandRejected) as refused:
        run(factory, {"command": "close_pathway", "pathway": "P1", "closed_on": "2026-06-09", "reason": "died"})
    assert "registry" in refused.value.rule
    assert flags(factory, date(2026, 7, 10))["REGISTRY_SUBMISSION_OVERDUE"] == "red"


@pytest.mark.parametrize(("visit", "seen_on"), [("early", "2026-06-12"), ("week6", "2026-07-17")])
def test_an_acute_phase_villalta_score_gets_no_pts_category(factory: SessionFactory, visit: str, seen_on: str) -> None:
    pmt_done(factory)
    severe = {"items": [3] * 11, "ulcer": False}
    payload = {"command": "record_follow_up", "pathway": "P1", "visit": visit, "seen_on": seen_on, "villalta": severe}
    run(factory, payload, at=LATER)
    with factory() as session:
        (shown,) = queries.pathway_detail(session, "P1", date(2026, 8, 1)).as_dict()["record"]["follow_ups"]
    assert shown["pts_category"] is None
    assert shown["pts_reading"] == "acute phase, not diagnostic"


def test_an_isolated_internal_iliac_clot_is_not_common_femoral_in_the_registry(factory: SessionFactory) -> None:
    pmt_done(factory, veins=["internal_iliac"])
    with factory() as session:
        (row,) = registry_export(session, date(2026, 6, 15), sites=None)
    assert row["cfv_involved"] is False
