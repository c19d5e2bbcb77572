"""Version 2 through the services, on SQLite and PostgreSQL: every new rejection at its boundary (nothing
written), every new flag the day before, of and after it starts, and the stored worklist agreeing with
`show` (pathway.domain.rules.flags_at) on each of those days."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from pathway.domain.roles import Actor
from pathway.domain.vocabulary import Role
from pathway.errors import AccessDenied
from pathway.store.db import SessionFactory
from pathway.views import queries
from tests.conftest import (
    RECORDED_AT,
    consent,
    diagnose,
    governance,
    mdt,
    procedure,
    register,
    run,
    safety_check,
    start_anticoagulation,
)
from tests.support.commands import assert_rejected, without

P = date(2026, 6, 1)


def at(day: date) -> datetime:
    """Noon in London on `day` (a recording instant)."""
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


def day(base: date, n: int) -> date:
    return base + timedelta(days=n)


def standing(factory: SessionFactory, as_of: date, ref: str = "P1") -> dict[str, str]:
    """The flags on the worklist (stored windows) at `as_of`, checked equal to `show`'s (flags_at)."""
    with factory() as session:
        listed = [r for r in queries.worklist(session, as_of) if r.pathway == ref]
        shown = queries.pathway_detail(session, ref, as_of).flags
    on_worklist = {f.code: f.severity.value for f in listed[0].flags} if listed else {}
    assert on_worklist == {f.code: f.severity.value for f in shown}, as_of
    return on_worklist


def flag(factory: SessionFactory, as_of: date, code: str) -> str | None:
    return standing(factory, as_of).get(code)


def pmt_pathway(factory: SessionFactory, *, decision: str = "pmt", **diagnosis: Any) -> None:
    """Governance, patient H100, pathway P1 presented 2026-06-01, anticoagulation, MDT and consent."""
    run(factory, governance())
    run(factory, register())
    run(factory, diagnose(**diagnosis))
    run(factory, start_anticoagulation())
    run(factory, mdt(decision=decision))
    run(factory, consent())


def schedule(on: date) -> dict[str, Any]:
    return {"command": "schedule_procedure", "pathway": "P1", "scheduled_on": on.isoformat()}


# --- record_safety_check: ranges, contraindications, dates, roles ----------------------------------


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("platelets", 0, True),
        ("platelets", 2000, True),
        ("platelets", -1, False),
        ("platelets", 2000.5, False),
        ("inr", 0.5, True),
        ("inr", 20, True),
        ("inr", 0.49, False),
        ("inr", 20.01, False),
        ("haemoglobin", 20, True),
        ("haemoglobin", 250, True),
        ("haemoglobin", 19.9, False),
        ("haemoglobin", 251, False),
        ("egfr", 0, True),
        ("egfr", 200, True),
        ("egfr", 200.1, False),
        ("platelets", "150", False),
        ("inr", True, False),
    ],
)
def test_safety_check_values_within_the_interface_ranges(
    factory: SessionFactory, field: str, value: Any, accepted: bool
) -> None:
    pmt_pathway(factory)
    payload = safety_check(**{field: value})
    if accepted:
        assert run(factory, payload).command == "record_safety_check"
    else:
        assert_rejected(factory, payload, field=field, says=())


@pytest.mark.parametrize(
    ("contraindications", "says"),
    [
        (["stroke"], "not on the policy's lists"),
        (["active_bleeding", "tia_6_months", "active_bleeding"], "more than once"),
        (["Active_bleeding"], "not on the policy's lists"),
    ],
)
def test_safety_check_rejects_unknown_or_repeated_contraindications(
    factory: SessionFactory, contraindications: list[str], says: str
) -> None:
    pmt_pathway(factory)
    assert_rejected(factory, safety_check(contraindications=contraindications), field="contraindications", says=(says,))
    every = [
        "haemorrhagic_stroke_ever",
        "active_bleeding",
        "tia_6_months",
        "pregnancy_or_first_postpartum_week",
        "active_peptic_ulcer",
    ]
    assert run(factory, safety_check(contraindications=every, pregnancy_test="negative")).version is not None


@pytest.mark.parametrize(
    ("checked_on", "accepted"), [(day(P, -1), False), (P, True), (date(2026, 6, 15), True), (date(2026, 6, 16), False)]
)
def test_safety_check_date_not_before_presentation_nor_after_the_recording_day(
    factory: SessionFactory, checked_on: date, accepted: bool
) -> None:
    pmt_pathway(factory)
    payload = safety_check(checked_on=checked_on.isoformat())
    if accepted:
        run(factory, payload)
    else:
        assert_rejected(factory, payload, field="checked_on", says=("must not be",))


def test_safety_check_on_a_closed_pathway_is_rejected(factory: SessionFactory) -> None:
    pmt_pathway(factory)
    run(factory, {"command": "close_pathway", "pathway": "P1", "closed_on": "2026-06-10", "reason": "declined"})
    assert_rejected(factory, safety_check(), field="pathway", says=("closed",))


def test_safety_check_is_recorded_by_clinicians_and_admin_not_coordinators(factory: SessionFactory) -> None:
    pmt_pathway(factory)
    with pytest.raises(AccessDenied):
        run(factory, safety_check(), actor=Actor("coordinator", Role.coordinator))
    run(factory, safety_check(), actor=Actor("clinician", Role.clinician))


# --- SAFETY_CHECK_OUTSTANDING and SAFETY_CHECK_FAILED -------------------------------------------------


def test_safety_check_outstanding_day_before_of_and_after_and_answered(factory: SessionFactory) -> None:
    booked = date(2026, 6, 20)
    pmt_pathway(factory)
    run(factory, schedule(booked))
    expected = {-4: None, -3: "amber", -2: "amber", -1: "red", 0: "red", 1: "red"}
    assert {n: flag(factory, day(booked, n), "SAFETY_CHECK_OUTSTANDING") for n in expected} == expected
    run(factory, safety_check(checked_on=day(booked, -4).isoformat()), at=at(day(booked, -4)))
    assert flag(factory, day(booked, -1), "SAFETY_CHECK_OUTSTANDING") == "red"  # a day too early
    run(factory, safety_check(checked_on=day(booked, -3).isoformat()), at=at(day(booked, -3)))
    for n in (-3, -1, 0, 1):
        assert flag(factory, day(booked, n), "SAFETY_CHECK_OUTSTANDING") is None


@pytest.mark.parametrize(
    ("platelets", "inr", "failed"), [(49, 1.1, True), (50, 1.1, False), (150, 1.5, False), (150, 1.51, True)]
)
def test_safety_check_failed_thresholds_and_latest_check(
    factory: SessionFactory, platelets: float, inr: float, failed: bool
) -> None:
    checked = date(2026, 6, 10)
    pmt_pathway(factory)
    run(factory, safety_check(checked_on=checked.isoformat(), platelets=platelets, inr=inr))
    assert flag(factory, day(checked, -1), "SAFETY_CHECK_FAILED") is None
    for as_of in (checked, day(checked, 1)):
        assert flag(factory, as_of, "SAFETY_CHECK_FAILED") == ("red" if failed else None)
    run(factory, safety_check(checked_on="2026-06-12"))  # a later check that passes
    assert flag(factory, date(2026, 6, 11), "SAFETY_CHECK_FAILED") == ("red" if failed else None)
    assert flag(factory, date(2026, 6, 12), "SAFETY_CHECK_FAILED") is None


def test_safety_check_failed_absolute_contraindication_only_with_thrombolysis_planned(
    factory: SessionFactory,
) -> None:
    pmt_pathway(factory)
    run(factory, safety_check(checked_on="2026-06-10", contraindications=["active_bleeding"]))
    assert flag(factory, date(2026, 6, 10), "SAFETY_CHECK_FAILED") is None  # PMT without thrombolysis
    run(factory, mdt(held_on="2026-06-11", thrombolysis=True))
    assert flag(factory, date(2026, 6, 11), "SAFETY_CHECK_FAILED") == "red"


# --- OUTSIDE_GUIDANCE_SCOPE: age on P, pregnancy -------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "presented", "flagged"),
    [
        ("2008-06-02", "2026-06-01", True),  # 17: the 18th birthday is the day after presentation
        ("2008-06-01", "2026-06-01", False),  # 18 on the presentation day itself
        ("2008-05-31", "2026-06-01", False),
        ("2008-02-29", "2026-02-28", True),  # born on 29 February: 18 only from 1 March
        ("2008-02-29", "2026-03-01", False),
        ("2011-01-15", "2026-06-01", True),  # the review's 15-year-old
    ],
)
def test_outside_guidance_scope_under_18_on_the_presentation_date(
    factory: SessionFactory, born: str, presented: str, flagged: bool
) -> None:
    run(factory, register(date_of_birth=born))
    run(factory, diagnose(presented=date.fromisoformat(presented)))
    for as_of in (date.fromisoformat(presented), date(2026, 6, 15)):
        assert flag(factory, as_of, "OUTSIDE_GUIDANCE_SCOPE") == ("amber" if flagged else None)
    with factory() as session:
        assert queries.pathway_detail(session, "P1", date(2026, 6, 15)).safety()["age_at_presentation"] == (
            17 if flagged and born != "2011-01-15" else 15 if flagged else 18
        )


def test_outside_guidance_scope_pregnant_until_an_mdt_records_the_specialist_plan(factory: SessionFactory) -> None:
    run(factory, register())
    run(factory, diagnose(pregnant=True))
    assert flag(factory, P, "OUTSIDE_GUIDANCE_SCOPE") == "amber"
    run(factory, mdt(held_on="2026-06-02"))
    assert flag(factory, date(2026, 6, 2), "OUTSIDE_GUIDANCE_SCOPE") == "amber"
    run(factory, mdt(held_on="2026-06-03", outside_scope_plan="Obstetric haematology protocol OH-2"))
    assert flag(factory, date(2026, 6, 3), "OUTSIDE_GUIDANCE_SCOPE") is None
    with factory() as session:
        shown = queries.pathway_detail(session, "P1", date(2026, 6, 3)).as_dict()
    assert shown["safety"]["outside_scope_plan"] == "Obstetric haematology protocol OH-2"
    assert shown["safety"]["outside_guidance_scope"] == ["pregnant"]


@pytest.mark.parametrize("sex", ["female", "other", "unknown"])
def test_pregnant_accepted_unless_the_patient_is_registered_male(factory: SessionFactory, sex: str) -> None:
    run(factory, register(sex=sex))
    run(factory, diagnose(pregnant=True))


def test_pregnant_rejected_for_a_patient_registered_male(factory: SessionFactory) -> None:
    run(factory, register(sex="male"))
    assert_rejected(factory, diagnose(pregnant=True), field="pregnant", says=("male",))
    run(factory, diagnose(pregnant=False))


# --- stop_anticoagulation: the hold's plan, ANTICOAGULATION_RESTART_OVERDUE ---------------------------

STOPPED = date(2026, 6, 10)


def hold(**extra: Any) -> dict[str, Any]:
    return {
        "command": "stop_anticoagulation",
        "pathway": "P1",
        "stopped_on": STOPPED.isoformat(),
        "reason": "procedure_hold",
        "restart_planned_on": day(STOPPED, 2).isoformat(),
        "plan_approved_by": "Dr H. Haematologist",
    } | extra


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-1, False), (0, True), (1, True), (30, True), (31, False), (60, False)]
)
def test_hold_restart_planned_from_the_stop_to_30_days_after(
    factory: SessionFactory, offset: int, accepted: bool
) -> None:
    pmt_pathway(factory)
    payload = hold(restart_planned_on=day(STOPPED, offset).isoformat())
    if accepted:
        run(factory, payload)  # a planned date may lie after the recording day
    else:
        assert_rejected(factory, payload, field="restart_planned_on", says=("planned restart",))


@pytest.mark.parametrize(
    ("missing", "field"), [("restart_planned_on", "restart_planned_on"), ("plan_approved_by", "plan_approved_by")]
)
def test_hold_without_its_plan_is_rejected(factory: SessionFactory, missing: str, field: str) -> None:
    pmt_pathway(factory)
    assert_rejected(factory, without(hold(), missing), field=field, says=("R15",))


def test_restart_overdue_day_of_and_after_the_planned_restart_then_cleared(factory: SessionFactory) -> None:
    pmt_pathway(factory)
    run(factory, hold())
    planned = day(STOPPED, 2)
    assert flag(factory, STOPPED, "ANTICOAGULATION_STOPPED_EARLY") is None  # a hold is not an early stop
    assert flag(factory, day(planned, -1), "ANTICOAGULATION_RESTART_OVERDUE") is None
    assert flag(factory, planned, "ANTICOAGULATION_RESTART_OVERDUE") is None
    assert flag(factory, day(planned, 1), "ANTICOAGULATION_RESTART_OVERDUE") == "red"
    with factory() as session:
        shown = queries.pathway_detail(session, "P1", day(planned, 1)).as_dict()["safety"]["anticoagulation_hold"]
    assert shown == {
        "stopped_on": "2026-06-10",
        "restart_planned_on": "2026-06-12",
        "plan_approved_by": "Dr H. Haematologist",
    }
    run(factory, start_anticoagulation(started_on=day(planned, 1).isoformat()))
    assert flag(factory, day(planned, 1), "ANTICOAGULATION_RESTART_OVERDUE") is None


# --- record_procedure: device, thrombolysis criteria, filters ---------------------------------------------


@pytest.mark.parametrize("technique", ["pmt", "pmt_with_thrombolysis", "cdt"])
def test_percutaneous_procedure_without_a_device_is_rejected(factory: SessionFactory, technique: str) -> None:
    pmt_pathway(factory, decision="cdt" if technique == "cdt" else "pmt")
    assert_rejected(factory, without(procedure(technique=technique), "device"), field="device", says=("percutaneous",))
    assert_rejected(factory, procedure(technique=technique, device=None), field="device", says=("percutaneous",))


def test_open_thrombectomy_needs_no_device(factory: SessionFactory) -> None:
    pmt_pathway(factory, decision="open_thrombectomy")
    run(factory, without(procedure(technique="open_thrombectomy"), "device"))


@pytest.mark.parametrize(("symptom_days", "accepted"), [(12, True), (13, True), (14, False), (16, False)])
@pytest.mark.parametrize("technique", ["cdt", "pmt_with_thrombolysis"])
def test_thrombolytic_procedure_on_day_14_of_symptoms_needs_a_rationale(
    factory: SessionFactory, technique: str, symptom_days: int, accepted: bool
) -> None:
    performed = date(2026, 6, 10)
    pmt_pathway(factory, decision="cdt", symptom_onset_on=day(performed, -symptom_days).isoformat())
    payload = procedure(technique=technique, performed_on=performed.isoformat())
    if accepted:
        run(factory, payload)
        return
    assert_rejected(factory, payload, field="outside_criteria_rationale", says=("symptoms began", "NG158"))
    rationale = "Phlegmasia: limb threatened; benefit judged to outweigh bleeding risk."
    run(factory, payload | {"outside_criteria_rationale": rationale})
    with factory() as session:
        shown = queries.pathway_detail(session, "P1", performed).as_dict()
    assert shown["safety"]["outside_criteria_rationale"] == [
        {"performed_on": "2026-06-10", "technique": technique, "rationale": rationale}
    ]
    assert shown["record"]["procedures"][0]["outside_criteria_rationale"] == rationale


@pytest.mark.parametrize(
    ("facts", "says"),
    [
        ({"functional_status": "impaired"}, "functional_status is impaired"),
        ({"life_expectancy_ge_1y": None}, "life_expectancy_ge_1y is not recorded"),
        ({"bleeding_risk": "high"}, "bleeding_risk is high"),
        ({"veins": ["popliteal"]}, "not iliofemoral"),
    ],
)
def test_thrombolytic_procedure_reads_each_ng158_criterion(
    factory: SessionFactory, facts: dict[str, Any], says: str
) -> None:
    run(factory, governance())
    run(factory, register())
    run(factory, diagnose(**facts))
    run(factory, mdt(decision="cdt"))
    run(factory, consent())
    assert_rejected(factory, procedure(technique="cdt"), field="outside_criteria_rationale", says=(says,))
    # PMT alone gives no lytic: the criteria do not bind it (open surgery where PMT is research-only).
    run(factory, procedure(technique="pmt" if "veins" not in facts else "open_thrombectomy"))


def test_thrombolytic_procedure_after_a_check_listing_an_absolute_contraindication(factory: SessionFactory) -> None:
    pmt_pathway(factory, decision="cdt")
    run(factory, safety_check(checked_on="2026-06-04", contraindications=["ischaemic_stroke_6_months"]))
    assert_rejected(factory, procedure(technique="cdt"), field="outside_criteria_rationale", says=("absolute",))
    run(factory, safety_check(checked_on="2026-06-05", contraindications=["tia_6_months"]))  # latest on X
    run(factory, procedure(technique="cdt"))


@pytest.mark.parametrize(("removal", "accepted"), [(-1, False), (0, True), (29, True), (54, True), (55, False)])
def test_temporary_filter_removal_planned_from_x_to_x_plus_54(
    factory: SessionFactory, removal: int, accepted: bool
) -> None:
    pmt_pathway(factory)
    performed = date(2026, 6, 5)
    payload = procedure(ivc_filter="temporary", filter_removal_planned_on=day(performed, removal).isoformat())
    if accepted:
        run(factory, payload)
    else:
        assert_rejected(factory, payload, field="filter_removal_planned_on", says=("removal",))


@pytest.mark.parametrize("ivc_filter", ["temporary", "permanent"])
def test_a_filter_needs_its_indication(factory: SessionFactory, ivc_filter: str) -> None:
    pmt_pathway(factory)
    payload = without(procedure(ivc_filter=ivc_filter), "filter_indication")
    assert_rejected(factory, payload, field="filter_indication", says=("R9",))
    if ivc_filter == "temporary":
        assert_rejected(
            factory,
            without(procedure(ivc_filter=ivc_filter), "filter_removal_planned_on"),
            field="filter_removal_planned_on",
            says=("R10",),
        )
    run(factory, procedure(ivc_filter=ivc_filter, filter_indication="anticoagulation_contraindicated"))


# --- close_pathway after a PMT needs the registry entry ------------------------------------------------


@pytest.mark.parametrize("reason", ["completed", "died", "transferred"])
def test_close_after_a_pmt_without_a_registry_submission_is_rejected(factory: SessionFactory, reason: str) -> None:
    pmt_pathway(factory)
    run(factory, procedure())
    closing = {"command": "close_pathway", "pathway": "P1", "closed_on": "2026-06-10", "reason": reason}
    assert_rejected(factory, closing, field="pathway", says=("registry", "HTG516 1.3"))
    run(factory, {"command": "submit_registry", "pathway": "P1", "submitted_on": "2026-06-08", "registry_ref": "R1"})
    run(factory, closing)


def test_close_after_cdt_or_before_any_procedure_needs_no_registry_entry(factory: SessionFactory) -> None:
    pmt_pathway(factory, decision="cdt")
    run(factory, procedure(technique="cdt"))
    run(factory, {"command": "close_pathway", "pathway": "P1", "closed_on": "2026-06-10", "reason": "completed"})


# --- THROMBOLYSIS_CRITERIA_NOT_MET at T = max(D, S) ------------------------------------------------------


@pytest.mark.parametrize(("booked_day", "flagged_now"), [(13, False), (14, True), (16, True)])
def test_thrombolysis_booked_for_day_14_of_symptoms_is_flagged_before_it_happens(
    factory: SessionFactory, booked_day: int, flagged_now: bool
) -> None:
    onset = date(2026, 5, 30)
    pmt_pathway(factory, decision="cdt", symptom_onset_on=onset.isoformat())
    run(factory, schedule(day(onset, booked_day)))
    for as_of in (date(2026, 6, 2), day(onset, 13)):
        assert flag(factory, as_of, "THROMBOLYSIS_CRITERIA_NOT_MET") == ("amber" if flagged_now else None)
    assert flag(factory, day(onset, 14), "THROMBOLYSIS_CRITERIA_NOT_MET") == "amber"


# --- the worklist and show agree every day -----------------------------------------------------------------


def test_worklist_and_show_agree_on_every_day_of_a_busy_pathway(factory: SessionFactory) -> None:
    run(factory, governance())
    run(factory, register(date_of_birth="2009-01-01"))
    run(factory, diagnose(symptom_onset_on="2026-05-25", bleeding_risk="moderate"))
    run(factory, start_anticoagulation())
    run(factory, mdt(decision="cdt"))
    run(factory, schedule(date(2026, 6, 18)))
    run(factory, safety_check(checked_on="2026-06-03", platelets=40))
    run(factory, safety_check(checked_on="2026-06-08", contraindications=["active_bleeding"]))
    run(factory, safety_check(checked_on="2026-06-12", inr=1.7))
    run(factory, hold(stopped_on="2026-06-14", restart_planned_on="2026-06-20"), at=RECORDED_AT)
    seen: set[str] = set()
    for n in range(-3, 60):
        seen |= set(standing(factory, day(P, n)))
    assert {
        "OUTSIDE_GUIDANCE_SCOPE",
        "SAFETY_CHECK_FAILED",
        "SAFETY_CHECK_OUTSTANDING",
        "THROMBOLYSIS_CRITERIA_NOT_MET",
        "ANTICOAGULATION_RESTART_OVERDUE",
    } <= seen
