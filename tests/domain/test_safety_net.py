"""Version 2's flags and changed flags on a record, at an as-of date D (docs/rules.md, "Version 2").

Expectations are read from the contract's text: the day before a condition starts, the day it starts and
the day after; the thresholds either side (platelets 49/50, INR 1.5/1.51, age 17/18); that the fact
answering a flag clears it; and, for the piecewise rules (T = max(D, S), "the latest safety check on or
before D"), that the windows give the same answer as evaluating the definition directly on every day.
"""

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pathway.domain.clock import age_on
from pathway.domain.criteria import safety_check_failures, thrombolysis_criteria_failures
from pathway.domain.policy import load_policy
from pathway.domain.record import (
    AnticoagulationEvent,
    MdtFacts,
    PathwayRecord,
    ProcedureFacts,
    ReviewFacts,
    SafetyCheckFacts,
)
from pathway.domain.rules import flag_windows, flags_at
from pathway.domain.vocabulary import (
    Decision,
    IvcFilter,
    ReviewDecision,
    Segment,
    Severity,
    StopReason,
    Technique,
)

POLICY = load_policy()
AMBER, RED = Severity.amber, Severity.red
P = date(2026, 6, 1)
ONSET = date(2026, 5, 30)
S = date(2026, 6, 11)
ILIOFEMORAL = (Segment.common_femoral, Segment.femoral)
GOOD = {"functional_status": "good", "life_expectancy_ge_1y": "yes", "bleeding_risk": "low"}


def day(base: date, n: int) -> date:
    return base + timedelta(days=n)


def record(**facts: Any) -> PathwayRecord:
    base: dict[str, Any] = {
        "presented_on": P,
        "symptom_onset_on": ONSET,
        "referred_on": P,
        "veins": ILIOFEMORAL,
        "anticoagulation": (AnticoagulationEvent("start", P),),
        "age_at_presentation": 50,
    }
    return PathwayRecord(**(base | GOOD | facts))


def mdt(decision: Decision = Decision.pmt, thrombolysis: bool = False, plan: str | None = None) -> tuple[MdtFacts]:
    return (MdtFacts(date(2026, 6, 2), decision, thrombolysis, plan),)


def check(on: date, platelets: float = 200, inr: float = 1.0, *contraindications: str) -> SafetyCheckFacts:
    return SafetyCheckFacts(on, platelets, inr, contraindications)


def severity(r: PathwayRecord, as_of: date, code: str) -> Severity | None:
    found = [f for f in flags_at(r, as_of, POLICY) if f.code == code]
    assert len(found) <= 1
    return found[0].severity if found else None


# --- SAFETY_CHECK_OUTSTANDING: amber from S - 3, red from S - 1 -------------------------------------


@pytest.mark.parametrize("decision", [Decision.pmt, Decision.cdt, Decision.open_thrombectomy])
@pytest.mark.parametrize(
    ("offset", "expected"), [(-10, None), (-4, None), (-3, AMBER), (-2, AMBER), (-1, RED), (0, RED), (1, RED)]
)
def test_safety_check_outstanding_amber_from_s_minus_3_red_from_s_minus_1(
    decision: Decision, offset: int, expected: Severity | None
) -> None:
    r = record(mdts=mdt(decision), scheduled_on=S)
    assert severity(r, day(S, offset), "SAFETY_CHECK_OUTSTANDING") is expected


@pytest.mark.parametrize(("checked", "cleared"), [(-5, False), (-4, False), (-3, True), (-1, True), (0, True)])
def test_safety_check_outstanding_cleared_only_by_a_check_from_s_minus_3_to_s(checked: int, cleared: bool) -> None:
    r = record(mdts=mdt(), scheduled_on=S, safety_checks=(check(day(S, checked)),))
    for offset in (-3, -1, 0, 2):
        assert severity(r, day(S, offset), "SAFETY_CHECK_OUTSTANDING") is (None if cleared else r_expected(offset))


def r_expected(offset: int) -> Severity:
    return AMBER if offset < -1 else RED


def test_safety_check_outstanding_a_check_after_the_booked_day_does_not_answer_it() -> None:
    r = record(mdts=mdt(), scheduled_on=S, safety_checks=(check(day(S, 1)),))
    assert severity(r, day(S, 1), "SAFETY_CHECK_OUTSTANDING") is RED


@pytest.mark.parametrize(
    "facts",
    [
        {"mdts": mdt(), "scheduled_on": None},
        {"mdts": mdt(Decision.anticoagulation_only), "scheduled_on": S},
        {"mdts": (), "scheduled_on": S},
        {"mdts": mdt(), "scheduled_on": S, "procedures": (ProcedureFacts(S, Technique.pmt, IvcFilter.none),)},
        {"mdts": mdt(), "scheduled_on": S, "closed_on": day(S, -5)},
    ],
    ids=["not-booked", "anticoagulation-only", "no-mdt", "done", "closed"],
)
def test_safety_check_outstanding_absent_without_a_booked_procedural_decision(facts: dict[str, Any]) -> None:
    r = record(**facts)
    for offset in (-3, -1, 0, 5):
        assert severity(r, day(S, offset), "SAFETY_CHECK_OUTSTANDING") is None


def test_safety_check_outstanding_follows_a_rebooking() -> None:
    later = day(S, 7)
    r = record(mdts=mdt(), scheduled_on=later, safety_checks=(check(day(S, -1)),))
    assert severity(r, day(S, 1), "SAFETY_CHECK_OUTSTANDING") is None  # S - 3 of the new date not reached
    assert severity(r, day(later, -3), "SAFETY_CHECK_OUTSTANDING") is AMBER  # the old check is too early now
    assert severity(r, day(later, -1), "SAFETY_CHECK_OUTSTANDING") is RED


# --- SAFETY_CHECK_FAILED: the latest check on or before D -------------------------------------------


@pytest.mark.parametrize(
    ("platelets", "inr", "failed"),
    [(49, 1.0, True), (49.9, 1.0, True), (50, 1.0, False), (51, 1.0, False), (200, 1.5, False), (200, 1.51, True)],
)
def test_safety_check_failed_platelets_below_50_or_inr_above_1_5(platelets: float, inr: float, failed: bool) -> None:
    checked = day(S, -2)
    r = record(mdts=mdt(), scheduled_on=S, safety_checks=(check(checked, platelets, inr),))
    assert severity(r, day(checked, -1), "SAFETY_CHECK_FAILED") is None
    for as_of in (checked, day(checked, 1), day(S, 30)):
        assert severity(r, as_of, "SAFETY_CHECK_FAILED") is (RED if failed else None)


@pytest.mark.parametrize(
    ("decision", "thrombolysis", "contraindication", "failed"),
    [
        (Decision.cdt, False, "active_bleeding", True),
        (Decision.pmt, True, "cns_neoplasm", True),
        (Decision.pmt, False, "active_bleeding", False),  # PMT alone: no lytic, so not a failure
        (Decision.open_thrombectomy, False, "bleeding_diathesis", False),
        (Decision.cdt, False, "tia_6_months", False),  # relative: weighed by the team, not flagged
        (Decision.cdt, False, "pregnancy_or_first_postpartum_week", False),
    ],
)
def test_safety_check_failed_absolute_contraindication_only_when_thrombolysis_planned(
    decision: Decision, thrombolysis: bool, contraindication: str, failed: bool
) -> None:
    r = record(mdts=mdt(decision, thrombolysis), safety_checks=(check(S, 200, 1.0, contraindication),))
    assert severity(r, S, "SAFETY_CHECK_FAILED") is (RED if failed else None)


def test_safety_check_failed_reads_the_latest_check_on_or_before_d() -> None:
    first, second, third = date(2026, 6, 5), date(2026, 6, 8), date(2026, 6, 9)
    r = record(
        mdts=mdt(),
        scheduled_on=S,
        safety_checks=(check(first, 30), check(second, 120), check(third, 20, 2.0)),
    )
    expected = {
        day(first, -1): None,
        first: RED,
        day(second, -1): RED,
        second: None,
        day(third, -1): None,
        third: RED,
        day(third, 40): RED,
    }
    assert {d: severity(r, d, "SAFETY_CHECK_FAILED") for d in expected} == expected


def test_safety_check_failed_on_a_tie_the_check_recorded_last_counts() -> None:
    failed_then_passed = record(mdts=mdt(), safety_checks=(check(S, 30), check(S, 150)))
    passed_then_failed = record(mdts=mdt(), safety_checks=(check(S, 150), check(S, 30)))
    assert severity(failed_then_passed, S, "SAFETY_CHECK_FAILED") is None
    assert severity(passed_then_failed, S, "SAFETY_CHECK_FAILED") is RED


def test_safety_check_failed_cleared_by_the_procedure_or_a_non_procedural_decision() -> None:
    failed = (check(S, 30),)
    done = (ProcedureFacts(day(S, 1), Technique.pmt, IvcFilter.none),)
    assert severity(record(mdts=mdt(), safety_checks=failed), day(S, 1), "SAFETY_CHECK_FAILED") is RED
    assert severity(record(mdts=mdt(), safety_checks=failed, procedures=done), day(S, 1), "SAFETY_CHECK_FAILED") is None
    not_procedural = record(mdts=mdt(Decision.anticoagulation_only), safety_checks=failed)
    assert severity(not_procedural, day(S, 1), "SAFETY_CHECK_FAILED") is None


# --- OUTSIDE_GUIDANCE_SCOPE: under 18 on P or pregnant, no outside_scope_plan -----------------------


@pytest.mark.parametrize(("age", "expected"), [(15, AMBER), (17, AMBER), (18, None), (19, None)])
def test_outside_guidance_scope_under_18_on_presentation(age: int, expected: Severity | None) -> None:
    r = record(age_at_presentation=age)
    for as_of in (P, day(P, 1), day(P, 200)):
        assert severity(r, as_of, "OUTSIDE_GUIDANCE_SCOPE") is expected


def test_outside_guidance_scope_pregnant_adult() -> None:
    assert severity(record(pregnant=True), P, "OUTSIDE_GUIDANCE_SCOPE") is AMBER
    assert severity(record(pregnant=False), P, "OUTSIDE_GUIDANCE_SCOPE") is None


def test_outside_guidance_scope_cleared_by_any_mdt_recording_a_plan() -> None:
    planned = MdtFacts(date(2026, 6, 2), Decision.cdt, True, "Paediatric haematology protocol PH-7")
    later = MdtFacts(date(2026, 6, 4), Decision.anticoagulation_only, False, None)
    for mdts in ((planned,), (planned, later)):
        r = record(age_at_presentation=15, pregnant=True, mdts=mdts)
        assert severity(r, day(P, 10), "OUTSIDE_GUIDANCE_SCOPE") is None
    unplanned = record(age_at_presentation=15, mdts=(later,))
    assert severity(unplanned, day(P, 10), "OUTSIDE_GUIDANCE_SCOPE") is AMBER


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2008, 6, 1), date(2026, 6, 1), 18),  # the 18th birthday is the presentation day
        (date(2008, 6, 2), date(2026, 6, 1), 17),  # the day before the 18th birthday
        (date(2008, 5, 31), date(2026, 6, 1), 18),
        (date(2008, 2, 29), date(2026, 2, 28), 17),  # 29 February: a full year only on 1 March
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
        (date(2008, 2, 29), date(2028, 2, 28), 19),
    ],
)
def test_age_on_a_date(born: date, on: date, age: int) -> None:
    assert age_on(born, on) == age


# --- ANTICOAGULATION_RESTART_OVERDUE and the hold in ANTICOAGULATION_STOPPED_EARLY --------------------

HOLD = date(2026, 6, 9)
RESTART = day(HOLD, 4)


def hold(restart_planned_on: date | None = RESTART) -> AnticoagulationEvent:
    return AnticoagulationEvent("stop", HOLD, StopReason.procedure_hold, restart_planned_on)


@pytest.mark.parametrize(("offset", "expected"), [(-1, None), (0, None), (1, RED), (2, RED), (90, RED)])
def test_restart_overdue_red_after_the_planned_restart(offset: int, expected: Severity | None) -> None:
    planned = day(HOLD, 4)
    r = record(anticoagulation=(AnticoagulationEvent("start", P), hold(planned)))
    assert severity(r, day(planned, offset), "ANTICOAGULATION_RESTART_OVERDUE") is expected


def test_restart_overdue_cleared_by_a_restart_and_only_for_a_hold() -> None:
    planned = day(HOLD, 4)
    restarted = record(
        anticoagulation=(AnticoagulationEvent("start", P), hold(planned), AnticoagulationEvent("start", planned))
    )
    assert severity(restarted, day(planned, 5), "ANTICOAGULATION_RESTART_OVERDUE") is None
    bleeding = AnticoagulationEvent("stop", HOLD, StopReason.bleeding, planned)
    r = record(anticoagulation=(AnticoagulationEvent("start", P), bleeding))
    assert severity(r, day(planned, 5), "ANTICOAGULATION_RESTART_OVERDUE") is None


def test_restart_overdue_a_version_1_hold_without_a_plan_is_watched_from_its_latest_possible_restart() -> None:
    r = record(anticoagulation=(AnticoagulationEvent("start", P), hold(None)))
    assert severity(r, day(HOLD, 30), "ANTICOAGULATION_RESTART_OVERDUE") is None
    assert severity(r, day(HOLD, 31), "ANTICOAGULATION_RESTART_OVERDUE") is RED


@pytest.mark.parametrize("offset", [0, 1, 30, 200])
def test_stopped_early_a_procedure_hold_never_counts(offset: int) -> None:
    r = record(anticoagulation=(AnticoagulationEvent("start", P), hold()))
    assert severity(r, day(HOLD, offset), "ANTICOAGULATION_STOPPED_EARLY") is None


STOP = date(2026, 6, 20)


@pytest.mark.parametrize(
    ("reviews", "answered"),
    [
        ((), False),
        ((ReviewFacts(day(STOP, -1), ReviewDecision.stop),), False),  # before the stop
        ((ReviewFacts(day(STOP, -10), ReviewDecision.continue_defined),), False),
        ((ReviewFacts(day(STOP, 5), ReviewDecision.continue_indefinite),), False),  # decided to continue
        ((ReviewFacts(STOP, ReviewDecision.stop),), True),  # on the stop day
        ((ReviewFacts(day(STOP, 1), ReviewDecision.stop),), True),
    ],
    ids=["none", "stop-day-before", "continue-before", "continue-after", "stop-same-day", "stop-day-after"],
)
def test_stopped_early_answered_only_by_a_review_deciding_stop_on_or_after_the_stop(
    reviews: tuple[ReviewFacts, ...], answered: bool
) -> None:
    r = record(
        anticoagulation=(AnticoagulationEvent("start", P), AnticoagulationEvent("stop", STOP, StopReason.bleeding)),
        reviews=reviews,
    )
    for as_of in (STOP, day(STOP, 1), day(STOP, 100)):
        assert severity(r, as_of, "ANTICOAGULATION_STOPPED_EARLY") is (None if answered else RED)


# --- ANTICOAGULATION_REVIEW_DUE / _OVERDUE: only a review on or after minimum_end - 7 counts ----------

MINIMUM_END = date(2026, 9, 1)  # A = P, no procedure


@pytest.mark.parametrize(
    ("reviewed", "counts"), [(date(2026, 6, 11), False), (day(MINIMUM_END, -8), False), (day(MINIMUM_END, -7), True)]
)
def test_review_flags_only_a_review_from_minimum_end_minus_7_counts(reviewed: date, counts: bool) -> None:
    r = record(reviews=(ReviewFacts(reviewed, ReviewDecision.continue_defined),))
    assert severity(r, day(MINIMUM_END, -7), "ANTICOAGULATION_REVIEW_DUE") is (None if counts else AMBER)
    assert severity(r, day(MINIMUM_END, 14), "ANTICOAGULATION_REVIEW_DUE") is (None if counts else AMBER)
    assert severity(r, day(MINIMUM_END, 15), "ANTICOAGULATION_REVIEW_OVERDUE") is (None if counts else RED)
    assert severity(r, day(MINIMUM_END, 45), "ANTICOAGULATION_REVIEW_OVERDUE") is (None if counts else RED)


# --- THROMBOLYSIS_CRITERIA_NOT_MET at T = max(D, S) -----------------------------------------------------


def lysis(**facts: Any) -> PathwayRecord:
    return record(mdts=mdt(Decision.cdt), **facts)


@pytest.mark.parametrize(("booked", "flagged_before"), [(13, False), (14, True), (16, True)])
def test_thrombolysis_criteria_booked_day_decides_before_it_comes(booked: int, flagged_before: bool) -> None:
    """Symptoms began on ONSET: a procedure booked for day 14 or later of symptoms is flagged at once."""
    r = lysis(scheduled_on=day(ONSET, booked))
    for offset in (3, 6, booked):
        assert severity(r, day(ONSET, offset), "THROMBOLYSIS_CRITERIA_NOT_MET") is (AMBER if flagged_before else None)
    assert severity(r, day(ONSET, max(booked, 14) + 1), "THROMBOLYSIS_CRITERIA_NOT_MET") is AMBER


@pytest.mark.parametrize(("offset", "expected"), [(12, None), (13, None), (14, AMBER), (15, AMBER)])
def test_thrombolysis_criteria_without_a_booking_turns_on_day_14_of_symptoms(
    offset: int, expected: Severity | None
) -> None:
    assert severity(lysis(), day(ONSET, offset), "THROMBOLYSIS_CRITERIA_NOT_MET") is expected


@pytest.mark.parametrize(
    "facts",
    [
        {"veins": (Segment.femoral, Segment.popliteal)},
        {"functional_status": "impaired"},
        {"functional_status": None},
        {"life_expectancy_ge_1y": "uncertain"},
        {"life_expectancy_ge_1y": None},
        {"bleeding_risk": "moderate"},
        {"bleeding_risk": None},
    ],
    ids=[
        "femoropopliteal",
        "impaired",
        "functional-unrecorded",
        "uncertain",
        "life-unrecorded",
        "moderate",
        "risk-unrecorded",
    ],
)
def test_thrombolysis_criteria_unmet_recorded_criterion_flags_from_the_start(facts: dict[str, Any]) -> None:
    r = lysis(**facts)
    assert severity(r, P, "THROMBOLYSIS_CRITERIA_NOT_MET") is AMBER
    assert severity(lysis(), P, "THROMBOLYSIS_CRITERIA_NOT_MET") is None


def test_thrombolysis_criteria_absolute_contraindication_on_the_latest_check_on_or_before_t() -> None:
    checked = date(2026, 6, 5)
    contra = (check(checked, 200, 1.0, "ischaemic_stroke_6_months"),)
    unbooked = lysis(safety_checks=contra)
    assert severity(unbooked, day(checked, -1), "THROMBOLYSIS_CRITERIA_NOT_MET") is None
    assert severity(unbooked, checked, "THROMBOLYSIS_CRITERIA_NOT_MET") is AMBER
    booked = lysis(safety_checks=contra, scheduled_on=day(checked, 3))
    assert severity(booked, day(checked, -1), "THROMBOLYSIS_CRITERIA_NOT_MET") is AMBER  # T = S sees the check
    cleared = lysis(safety_checks=(*contra, check(day(checked, 1))), scheduled_on=day(checked, 3))
    assert severity(cleared, day(checked, -1), "THROMBOLYSIS_CRITERIA_NOT_MET") is None
    relative = lysis(safety_checks=(check(checked, 200, 1.0, "tia_6_months"),))
    assert severity(relative, checked, "THROMBOLYSIS_CRITERIA_NOT_MET") is None


def test_thrombolysis_criteria_not_for_pmt_alone_and_cleared_by_the_procedure() -> None:
    late = day(ONSET, 20)
    assert severity(record(mdts=mdt(Decision.pmt, False)), late, "THROMBOLYSIS_CRITERIA_NOT_MET") is None
    assert severity(record(mdts=mdt(Decision.pmt, True)), late, "THROMBOLYSIS_CRITERIA_NOT_MET") is AMBER
    done = (ProcedureFacts(day(ONSET, 16), Technique.cdt, IvcFilter.none, outside_criteria_rationale="Limb threat"),)
    assert severity(lysis(procedures=done), late, "THROMBOLYSIS_CRITERIA_NOT_MET") is None


def test_thrombolysis_criteria_failures_name_each_criterion() -> None:
    r = lysis(
        veins=(Segment.popliteal,),
        functional_status=None,
        bleeding_risk="high",
        safety_checks=(check(P, 200, 1.0, "active_bleeding"),),
    )
    failures = thrombolysis_criteria_failures(r, day(ONSET, 14), POLICY)
    assert len(failures) == 5
    assert "femoropopliteal" in failures[0] and "14 days" in failures[1]
    assert "functional_status is not recorded" in failures[2] and "bleeding_risk is high" in failures[3]
    assert "active_bleeding" in failures[4]
    assert thrombolysis_criteria_failures(lysis(), day(ONSET, 13), POLICY) == []


def test_safety_check_failures_say_why() -> None:
    failures = safety_check_failures(check(S, 49, 1.51, "active_bleeding", "tia_6_months"), True, POLICY)
    assert failures == [
        "platelets 49 x10^9/L (below 50)",
        "INR 1.51 (above 1.5)",
        "absolute contraindication to fibrinolysis: active_bleeding",
    ]


# --- the windows against the definitions, day by day ---------------------------------------------------


def direct(r: PathwayRecord, d: date) -> dict[str, bool]:
    """The version 2 definitions evaluated at D straight from the contract's words."""
    s = r.scheduled_on
    t = max(d, s) if s else d
    latest = r.latest_safety_check(d)
    open_procedural = r.procedural and not r.procedures
    stop = r.anticoagulation[-1] if r.anticoagulation and r.anticoagulation[-1].kind == "stop" else None
    minimum_end = r.minimum_end(3)
    reviewed = minimum_end is not None and any(v.reviewed_on >= day(minimum_end, -7) for v in r.reviews)
    return {
        "THROMBOLYSIS_CRITERIA_NOT_MET": r.thrombolysis_planned
        and not r.procedures
        and bool(thrombolysis_criteria_failures(r, t, POLICY)),
        "SAFETY_CHECK_FAILED": open_procedural
        and latest is not None
        and bool(safety_check_failures(latest, r.thrombolysis_planned, POLICY)),
        "SAFETY_CHECK_OUTSTANDING": open_procedural
        and s is not None
        and d >= day(s, -3)
        and not any(day(s, -3) <= c.checked_on <= s for c in r.safety_checks),
        "ANTICOAGULATION_RESTART_OVERDUE": stop is not None
        and stop.reason is StopReason.procedure_hold
        and stop.restart_planned_on is not None
        and d > stop.restart_planned_on,
        "ANTICOAGULATION_STOPPED_EARLY": stop is not None
        and stop.reason is not StopReason.procedure_hold
        and minimum_end is not None
        and stop.on < minimum_end
        and not any(v.decision is ReviewDecision.stop and v.reviewed_on >= stop.on for v in r.reviews),
        "ANTICOAGULATION_REVIEW_DUE": minimum_end is not None
        and not reviewed
        and day(minimum_end, -7) <= d <= day(minimum_end, 14),
        "ANTICOAGULATION_REVIEW_OVERDUE": minimum_end is not None and not reviewed and d > day(minimum_end, 14),
    }


PIECEWISE = [
    lysis(),
    lysis(scheduled_on=day(ONSET, 12)),
    lysis(scheduled_on=day(ONSET, 16)),
    lysis(
        scheduled_on=date(2026, 6, 8),
        safety_checks=(
            check(date(2026, 6, 3), 200, 1.0, "active_bleeding"),
            check(date(2026, 6, 6), 40),
            check(date(2026, 6, 6), 100),
            check(date(2026, 6, 10), 100, 1.0, "cns_neoplasm"),
        ),
    ),
    record(
        mdts=mdt(Decision.pmt, True),
        symptom_onset_on=day(P, -2),
        safety_checks=(check(day(P, 14), 45), check(day(P, 1), 300, 1.6), check(day(P, 20), 100)),
    ),
]


@pytest.mark.parametrize("r", PIECEWISE)
def test_piecewise_windows_equal_the_definitions_on_every_day(r: PathwayRecord) -> None:
    for offset in range(-5, 60):
        d = day(P, offset)
        standing = {f.code for f in flags_at(r, d, POLICY)}
        for code, expected in direct(r, d).items():
            assert (code in standing) is expected, (code, d)


def test_piecewise_examples_show_each_flag_both_standing_and_not() -> None:
    """The comparison above is not vacuous: across the examples each flag is seen standing and not."""
    seen: dict[str, set[bool]] = {}
    for r in PIECEWISE:
        for offset in range(-5, 60):
            for code, stands in direct(r, day(P, offset)).items():
                seen.setdefault(code, set()).add(stands)
    assert seen["THROMBOLYSIS_CRITERIA_NOT_MET"] == {True, False}
    assert seen["SAFETY_CHECK_FAILED"] == {True, False}


CONTRAINDICATIONS = st.lists(st.sampled_from(["active_bleeding", "cns_neoplasm", "tia_6_months"]), unique=True)
OFFSETS = st.integers(-3, 40)


@st.composite
def generated_records(draw: st.DrawFn) -> PathwayRecord:
    """A record with any mix of the facts the version 2 flags read, dates around P."""
    checks = draw(
        st.lists(
            st.builds(
                lambda o, platelets, inr, c: check(day(P, o), platelets, inr, *c),
                OFFSETS,
                st.sampled_from([20, 49, 50, 300]),
                st.sampled_from([0.9, 1.5, 1.51, 3.0]),
                CONTRAINDICATIONS,
            ),
            max_size=4,
        )
    )
    decision = draw(st.sampled_from(list(Decision)))
    events = [AnticoagulationEvent("start", P)]
    if draw(st.booleans()):
        stopped = day(P, draw(OFFSETS.filter(lambda o: o >= 0)))
        reason = draw(st.sampled_from(list(StopReason)))
        planned = day(stopped, draw(st.integers(0, 30))) if reason is StopReason.procedure_hold else None
        events.append(AnticoagulationEvent("stop", stopped, reason, planned))
        if draw(st.booleans()):
            events.append(AnticoagulationEvent("start", day(stopped, draw(st.integers(0, 40)))))
    reviews = draw(
        st.lists(
            st.builds(ReviewFacts, st.integers(0, 150).map(lambda o: day(P, o)), st.sampled_from(list(ReviewDecision))),
            max_size=2,
        )
    )
    performed = draw(st.one_of(st.none(), OFFSETS.filter(lambda o: o >= 0)))
    return record(
        symptom_onset_on=day(P, -draw(st.integers(0, 20))),
        veins=draw(st.sampled_from([ILIOFEMORAL, (Segment.popliteal,)])),
        bleeding_risk=draw(st.sampled_from(["low", "low", "high"])),
        mdts=mdt(decision, draw(st.booleans())),
        scheduled_on=draw(st.one_of(st.none(), OFFSETS.map(lambda o: day(P, o)))),
        safety_checks=tuple(checks),
        anticoagulation=tuple(events),
        reviews=tuple(reviews),
        procedures=() if performed is None else (ProcedureFacts(day(P, performed), Technique.pmt, IvcFilter.none),),
    )


@settings(max_examples=300, deadline=None, database=None)
@given(generated_records())
def test_generated_records_windows_equal_the_definitions_on_every_day(r: PathwayRecord) -> None:
    for offset in range(-5, 140):
        d = day(P, offset)
        standing = {f.code for f in flags_at(r, d, POLICY)}
        for code, expected in direct(r, d).items():
            assert (code in standing) is expected, (code, d)


def test_windows_of_a_closed_pathway_are_empty() -> None:
    assert flag_windows(replace(lysis(age_at_presentation=15), closed_on=P), POLICY) == []


def test_a_plan_after_an_event_on_the_calendars_last_day_is_judged_not_overflowed() -> None:
    """Found by the generated-input suite: a procedure dated 31 Dec 9999 (refused as after today) with a
    temporary filter made the removal plan's window overflow instead of being judged."""
    from datetime import date

    import pytest

    from pathway.domain.checks import _check_planned
    from pathway.errors import CommandRejected

    with pytest.raises(CommandRejected, match="filter_removal_planned_on"):
        _check_planned("filter_removal_planned_on", date(2026, 6, 3), ("performed_on", date.max), 54, "plan", "R10")
