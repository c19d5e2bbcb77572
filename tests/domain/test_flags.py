"""Flags on an open pathway at an as-of date D (docs/rules.md, "The flags").

Every expectation here is read from the interface text, not from the code: the day before a condition
starts, the day it starts and the day after, the end of bounded windows, the severity, and that the
fact answering a flag clears it at once. Dates are literal so the calendar arithmetic is checked too.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from pathway.domain.clock import add_months, london_date
from pathway.domain.policy import load_policy
from pathway.domain.record import AnticoagulationEvent, MdtFacts, PathwayRecord, ProcedureFacts, ReviewFacts
from pathway.domain.rules import Flag, flags_at, window_days_left
from pathway.domain.vocabulary import Decision, IvcFilter, ReviewDecision, Segment, Severity, Technique, Visit

POLICY = load_policy()  # the packaged policy: the interface's defaults
AMBER, RED = Severity.amber, Severity.red

P = date(2026, 6, 1)  # presented_on
MDT_DAY = date(2026, 6, 2)
X = date(2026, 6, 5)  # performed_on

ILIOFEMORAL = (Segment.common_femoral, Segment.femoral)
FEMOROPOPLITEAL = (Segment.femoral, Segment.popliteal)
CALF = (Segment.posterior_tibial, Segment.peroneal)

PROCEDURAL = (Decision.pmt, Decision.cdt, Decision.open_thrombectomy)


def day(base: date, n: int) -> date:
    return base + timedelta(days=n)


# NG158's CDT criteria recorded as met, so the thrombolysis flag here turns on the symptom days alone
# (tests/domain/test_safety_net.py covers the other criteria).
CRITERIA_MET: dict[str, Any] = {"functional_status": "good", "life_expectancy_ge_1y": "yes", "bleeding_risk": "low"}


def make_record(**facts: Any) -> PathwayRecord:
    base: dict[str, Any] = {"presented_on": P, "symptom_onset_on": P, "referred_on": P, "veins": ILIOFEMORAL}
    return PathwayRecord(**(base | CRITERIA_MET | facts))


def mdt(decision: Decision, thrombolysis: bool = False, held_on: date = MDT_DAY) -> tuple[MdtFacts, ...]:
    return (MdtFacts(held_on, decision, thrombolysis),)


def done(
    performed_on: date = X, technique: Technique = Technique.pmt, ivc_filter: IvcFilter = IvcFilter.none
) -> tuple[ProcedureFacts, ...]:
    return (ProcedureFacts(performed_on, technique, ivc_filter),)


def anticoagulation(*events: tuple[str, date]) -> tuple[AnticoagulationEvent, ...]:
    return tuple(AnticoagulationEvent(kind, on) for kind, on in events)


def severity(record: PathwayRecord, as_of: date, code: str) -> Severity | None:
    found = [f for f in flags_at(record, as_of, POLICY) if f.code == code]
    assert len(found) <= 1, f"{code} listed more than once: {found}"
    return found[0].severity if found else None


def treated(technique: Technique = Technique.pmt, **facts: Any) -> PathwayRecord:
    """A procedure done at X after an MDT decision that matches the technique, anticoagulation from P."""
    decision = {
        Technique.pmt: Decision.pmt,
        Technique.pmt_with_thrombolysis: Decision.pmt,
        Technique.cdt: Decision.cdt,
        Technique.open_thrombectomy: Decision.open_thrombectomy,
    }[technique]
    base: dict[str, Any] = {
        "mdts": mdt(decision, thrombolysis=technique is Technique.pmt_with_thrombolysis),
        "governance_notified_on": date(2026, 1, 10),
        "consented_on": date(2026, 6, 3),
        "scheduled_on": X,
        "procedures": done(X, technique),
        "anticoagulation": anticoagulation(("start", P)),
    }
    return make_record(**(base | facts))


# --- MDT_OVERDUE: red when no MDT and D > R + 3 -----------------------------------------------------

R = date(2026, 6, 2)


@pytest.mark.parametrize(("offset", "expected"), [(0, None), (2, None), (3, None), (4, RED), (5, RED), (60, RED)])
def test_mdt_overdue_red_after_referral_plus_three(offset: int, expected: Severity | None) -> None:
    record = make_record(referred_on=R)
    assert severity(record, day(R, offset), "MDT_OVERDUE") is expected


@pytest.mark.parametrize("decision", list(Decision))
@pytest.mark.parametrize("held_on", [date(2026, 6, 3), date(2026, 6, 20)])
def test_mdt_overdue_cleared_by_mdt_even_late(decision: Decision, held_on: date) -> None:
    record = make_record(referred_on=R, mdts=mdt(decision, held_on=held_on))
    for as_of in (held_on, day(held_on, 1), day(held_on, 30)):
        assert severity(record, as_of, "MDT_OVERDUE") is None


# --- TREATMENT_WINDOW_AT_RISK (0 <= P+14-D <= 4) and TREATMENT_WINDOW_MISSED (D > P+14) -------------

WINDOW_CASES = [
    (0, None, None),
    (9, None, None),
    (10, AMBER, None),
    (11, AMBER, None),
    (13, AMBER, None),
    (14, AMBER, None),
    (15, None, RED),
    (16, None, RED),
    (100, None, RED),
]


@pytest.mark.parametrize("decision", [None, *PROCEDURAL])
@pytest.mark.parametrize(("offset", "at_risk", "missed"), WINDOW_CASES)
def test_treatment_window_flags_around_day_fourteen(
    decision: Decision | None, offset: int, at_risk: Severity | None, missed: Severity | None
) -> None:
    record = make_record(mdts=mdt(decision) if decision else ())
    as_of = day(P, offset)
    assert severity(record, as_of, "TREATMENT_WINDOW_AT_RISK") is at_risk
    assert severity(record, as_of, "TREATMENT_WINDOW_MISSED") is missed


@pytest.mark.parametrize(
    "mdts",
    [
        mdt(Decision.anticoagulation_only),
        (MdtFacts(MDT_DAY, Decision.pmt, False), MdtFacts(date(2026, 6, 9), Decision.anticoagulation_only, False)),
    ],
    ids=["anticoagulation_only", "re-decided_anticoagulation_only"],
)
@pytest.mark.parametrize("offset", [10, 14, 15, 40])
def test_treatment_window_flags_cleared_by_anticoagulation_only(mdts: tuple[MdtFacts, ...], offset: int) -> None:
    record = make_record(mdts=mdts)
    assert severity(record, day(P, offset), "TREATMENT_WINDOW_AT_RISK") is None
    assert severity(record, day(P, offset), "TREATMENT_WINDOW_MISSED") is None


@pytest.mark.parametrize(("performed", "offsets"), [(12, (12, 14, 15, 40)), (20, (20, 21, 60))], ids=["in", "late"])
@pytest.mark.parametrize("technique", list(Technique))
def test_treatment_window_flags_cleared_by_procedure(
    performed: int, offsets: tuple[int, ...], technique: Technique
) -> None:
    record = treated(technique, procedures=done(day(P, performed), technique), scheduled_on=day(P, performed))
    for offset in offsets:
        assert severity(record, day(P, offset), "TREATMENT_WINDOW_AT_RISK") is None
        assert severity(record, day(P, offset), "TREATMENT_WINDOW_MISSED") is None


# --- GOVERNANCE / RESEARCH / CONSENT outstanding: amber; red from S - 2 ------------------------------

S = date(2026, 6, 11)  # scheduled procedure date

PRE_PROCEDURE_CASES = [
    pytest.param("GOVERNANCE_NOTICE_OUTSTANDING", ILIOFEMORAL, Decision.pmt, "governance_notified_on", id="gov"),
    pytest.param("GOVERNANCE_NOTICE_OUTSTANDING", (Segment.ivc,), Decision.pmt, "governance_notified_on", id="gov-ivc"),
    pytest.param("RESEARCH_ENROLMENT_OUTSTANDING", FEMOROPOPLITEAL, Decision.pmt, "enrolled_on", id="research-fp"),
    pytest.param("RESEARCH_ENROLMENT_OUTSTANDING", CALF, Decision.pmt, "enrolled_on", id="research-calf"),
    pytest.param("CONSENT_OUTSTANDING", ILIOFEMORAL, Decision.pmt, "consented_on", id="consent-pmt"),
    pytest.param("CONSENT_OUTSTANDING", FEMOROPOPLITEAL, Decision.pmt, "consented_on", id="consent-pmt-fp"),
    pytest.param("CONSENT_OUTSTANDING", ILIOFEMORAL, Decision.cdt, "consented_on", id="consent-cdt"),
    pytest.param("CONSENT_OUTSTANDING", CALF, Decision.open_thrombectomy, "consented_on", id="consent-open"),
]


@pytest.mark.parametrize(("code", "veins", "decision", "answer"), PRE_PROCEDURE_CASES)
@pytest.mark.parametrize("offset", [1, 11, 14, 15, 60])
def test_pre_procedure_flag_amber_without_schedule(
    code: str, veins: tuple[Segment, ...], decision: Decision, answer: str, offset: int
) -> None:
    record = make_record(veins=veins, mdts=mdt(decision))
    assert severity(record, day(P, offset), code) is AMBER


@pytest.mark.parametrize(("code", "veins", "decision", "answer"), PRE_PROCEDURE_CASES)
@pytest.mark.parametrize(
    ("offset", "expected"), [(-9, AMBER), (-4, AMBER), (-3, AMBER), (-2, RED), (-1, RED), (0, RED), (1, RED), (5, RED)]
)
def test_pre_procedure_flag_red_from_two_days_before_schedule(
    code: str, veins: tuple[Segment, ...], decision: Decision, answer: str, offset: int, expected: Severity
) -> None:
    record = make_record(veins=veins, mdts=mdt(decision), scheduled_on=S)
    assert severity(record, day(S, offset), code) is expected


@pytest.mark.parametrize(("code", "veins", "decision", "answer"), PRE_PROCEDURE_CASES)
@pytest.mark.parametrize("scheduled_on", [None, S])
def test_pre_procedure_flag_cleared_when_answered(
    code: str, veins: tuple[Segment, ...], decision: Decision, answer: str, scheduled_on: date | None
) -> None:
    record = make_record(veins=veins, mdts=mdt(decision), scheduled_on=scheduled_on, **{answer: day(S, -1)})
    for as_of in (day(S, -1), day(S, -2), S, day(S, 1)):
        assert severity(record, as_of, code) is None


@pytest.mark.parametrize(("code", "veins", "decision", "answer"), PRE_PROCEDURE_CASES)
def test_pre_procedure_flag_cleared_once_procedure_done(
    code: str, veins: tuple[Segment, ...], decision: Decision, answer: str
) -> None:
    technique = {Decision.pmt: Technique.pmt, Decision.cdt: Technique.cdt}.get(decision, Technique.open_thrombectomy)
    record = make_record(veins=veins, mdts=mdt(decision), scheduled_on=S, procedures=done(S, technique))
    for as_of in (S, day(S, 1), day(S, 30)):
        assert severity(record, as_of, code) is None


@pytest.mark.parametrize(("code", "veins", "decision", "answer"), PRE_PROCEDURE_CASES)
def test_pre_procedure_flag_reschedule_moves_red_from(
    code: str, veins: tuple[Segment, ...], decision: Decision, answer: str
) -> None:
    first = make_record(veins=veins, mdts=mdt(decision), scheduled_on=S)
    assert severity(first, day(S, -2), code) is RED
    later = date(2026, 6, 14)  # re-scheduled: red only from 12 June now
    moved = make_record(veins=veins, mdts=mdt(decision), scheduled_on=later)
    assert severity(moved, day(S, -2), code) is AMBER
    assert severity(moved, S, code) is AMBER
    assert severity(moved, day(later, -3), code) is AMBER
    assert severity(moved, day(later, -2), code) is RED
    assert severity(moved, day(later, -1), code) is RED


@pytest.mark.parametrize(
    "code", ["GOVERNANCE_NOTICE_OUTSTANDING", "RESEARCH_ENROLMENT_OUTSTANDING", "CONSENT_OUTSTANDING"]
)
@pytest.mark.parametrize("veins", [ILIOFEMORAL, FEMOROPOPLITEAL, CALF], ids=["ilio", "fempop", "calf"])
def test_pre_procedure_flag_absent_without_mdt_or_with_anticoagulation_only(
    code: str, veins: tuple[Segment, ...]
) -> None:
    for mdts in ((), mdt(Decision.anticoagulation_only)):
        record = make_record(veins=veins, mdts=mdts, scheduled_on=S)
        for as_of in (day(P, 1), day(S, -2), day(S, 3)):
            assert severity(record, as_of, code) is None


@pytest.mark.parametrize("veins", [FEMOROPOPLITEAL, CALF, (Segment.popliteal,), (Segment.calf_muscle,)])
def test_governance_notice_flag_absent_on_research_only_route(veins: tuple[Segment, ...]) -> None:
    record = make_record(veins=veins, mdts=mdt(Decision.pmt), scheduled_on=S)
    assert severity(record, day(S, -2), "GOVERNANCE_NOTICE_OUTSTANDING") is None
    assert severity(record, day(S, -2), "RESEARCH_ENROLMENT_OUTSTANDING") is RED


@pytest.mark.parametrize("veins", [ILIOFEMORAL, (Segment.common_iliac,), (Segment.internal_iliac, Segment.peroneal)])
def test_research_enrolment_flag_absent_on_special_arrangements_route(veins: tuple[Segment, ...]) -> None:
    record = make_record(veins=veins, mdts=mdt(Decision.pmt), scheduled_on=S)
    assert severity(record, day(S, -2), "RESEARCH_ENROLMENT_OUTSTANDING") is None
    assert severity(record, day(S, -2), "GOVERNANCE_NOTICE_OUTSTANDING") is RED


@pytest.mark.parametrize("decision", [Decision.cdt, Decision.open_thrombectomy])
@pytest.mark.parametrize("veins", [ILIOFEMORAL, FEMOROPOPLITEAL, CALF], ids=["ilio", "fempop", "calf"])
def test_governance_and_research_flags_only_for_pmt_decision(decision: Decision, veins: tuple[Segment, ...]) -> None:
    record = make_record(veins=veins, mdts=mdt(decision, thrombolysis=True), scheduled_on=S)
    for as_of in (day(P, 1), day(S, -2)):
        assert severity(record, as_of, "GOVERNANCE_NOTICE_OUTSTANDING") is None
        assert severity(record, as_of, "RESEARCH_ENROLMENT_OUTSTANDING") is None
        assert severity(record, as_of, "CONSENT_OUTSTANDING") is not None


# --- THROMBOLYSIS_CRITERIA_NOT_MET: thrombolysis planned and D - onset >= 14 --------------------------

ONSET = date(2026, 5, 27)


@pytest.mark.parametrize(
    ("decision", "thrombolysis"), [(Decision.cdt, False), (Decision.cdt, True), (Decision.pmt, True)]
)
@pytest.mark.parametrize(("offset", "expected"), [(6, None), (13, None), (14, AMBER), (15, AMBER), (40, AMBER)])
def test_thrombolysis_criteria_flag_from_onset_plus_fourteen(
    decision: Decision, thrombolysis: bool, offset: int, expected: Severity | None
) -> None:
    record = make_record(symptom_onset_on=ONSET, mdts=mdt(decision, thrombolysis))
    assert severity(record, day(ONSET, offset), "THROMBOLYSIS_CRITERIA_NOT_MET") is expected


@pytest.mark.parametrize(
    "mdts",
    [
        (),
        mdt(Decision.pmt, False),
        mdt(Decision.open_thrombectomy, True),
        mdt(Decision.open_thrombectomy, False),
        mdt(Decision.anticoagulation_only, True),
    ],
    ids=["no-mdt", "pmt-alone", "open-thrombolysis", "open", "anticoagulation_only"],
)
def test_thrombolysis_criteria_flag_absent_without_planned_thrombolysis(mdts: tuple[MdtFacts, ...]) -> None:
    record = make_record(symptom_onset_on=ONSET, mdts=mdts)
    for offset in (14, 15, 40):
        assert severity(record, day(ONSET, offset), "THROMBOLYSIS_CRITERIA_NOT_MET") is None


@pytest.mark.parametrize(
    ("decision", "thrombolysis", "technique"),
    [(Decision.cdt, False, Technique.cdt), (Decision.pmt, True, Technique.pmt_with_thrombolysis)],
)
def test_thrombolysis_criteria_flag_cleared_once_procedure_done(
    decision: Decision, thrombolysis: bool, technique: Technique
) -> None:
    performed = day(ONSET, 16)
    record = make_record(
        symptom_onset_on=ONSET, mdts=mdt(decision, thrombolysis), procedures=done(performed, technique)
    )
    for as_of in (performed, day(performed, 1), day(performed, 30)):
        assert severity(record, as_of, "THROMBOLYSIS_CRITERIA_NOT_MET") is None


# --- REGISTRY_SUBMISSION_OVERDUE: a PMT done, no submission, D > X + 30 ---------------------------------


@pytest.mark.parametrize("technique", [Technique.pmt, Technique.pmt_with_thrombolysis])
@pytest.mark.parametrize(("offset", "expected"), [(0, None), (29, None), (30, None), (31, RED), (32, RED), (400, RED)])
def test_registry_overdue_red_after_x_plus_thirty(technique: Technique, offset: int, expected: Severity | None) -> None:
    record = treated(technique)
    assert severity(record, day(X, offset), "REGISTRY_SUBMISSION_OVERDUE") is expected


@pytest.mark.parametrize("technique", [Technique.cdt, Technique.open_thrombectomy])
def test_registry_overdue_absent_without_pmt_technique(technique: Technique) -> None:
    record = treated(technique)
    for offset in (31, 32, 400):
        assert severity(record, day(X, offset), "REGISTRY_SUBMISSION_OVERDUE") is None


@pytest.mark.parametrize("technique", [Technique.pmt, Technique.pmt_with_thrombolysis])
@pytest.mark.parametrize("submitted", [10, 30, 45])
def test_registry_overdue_cleared_by_submission(technique: Technique, submitted: int) -> None:
    record = treated(technique, registry_submitted_on=day(X, submitted))
    for offset in (max(submitted, 31), 60, 400):
        assert severity(record, day(X, offset), "REGISTRY_SUBMISSION_OVERDUE") is None


# --- ANTICOAGULATION_NOT_STARTED: none started and D > P + 1 --------------------------------------------


@pytest.mark.parametrize(("offset", "expected"), [(0, None), (1, None), (2, RED), (3, RED), (90, RED)])
def test_anticoagulation_not_started_red_after_presentation_plus_one(offset: int, expected: Severity | None) -> None:
    assert severity(make_record(), day(P, offset), "ANTICOAGULATION_NOT_STARTED") is expected


@pytest.mark.parametrize(
    "events",
    [(("start", P),), (("start", day(P, 3)),), (("start", P), ("stop", day(P, 1)))],
    ids=["on-time", "late", "started-then-stopped"],
)
def test_anticoagulation_not_started_cleared_by_a_start(events: tuple[tuple[str, date], ...]) -> None:
    record = make_record(anticoagulation=anticoagulation(*events))
    for offset in (3, 4, 90):
        assert severity(record, day(P, offset), "ANTICOAGULATION_NOT_STARTED") is None


# --- minimum_end, ANTICOAGULATION_STOPPED_EARLY ----------------------------------------------------------

MIN_END = date(2026, 9, 1)  # A = 1 June 2026, no procedure: A + 3 months


@pytest.mark.parametrize(
    ("stopped_on", "expected"),
    [
        (date(2026, 6, 10), RED),
        (date(2026, 8, 31), RED),  # the day before minimum_end
        (date(2026, 9, 1), None),  # on minimum_end
        (date(2026, 9, 2), None),
        (date(2026, 12, 1), None),
    ],
)
def test_stopped_early_when_stop_before_minimum_end(stopped_on: date, expected: Severity | None) -> None:
    record = make_record(anticoagulation=anticoagulation(("start", P), ("stop", stopped_on)))
    for as_of in (stopped_on, day(stopped_on, 1), day(stopped_on, 100)):
        assert severity(record, as_of, "ANTICOAGULATION_STOPPED_EARLY") is expected


@pytest.mark.parametrize(
    ("stopped_on", "expected"),
    [
        (date(2026, 9, 10), RED),  # after A + 3 months, before X + 3 months
        (date(2026, 9, 19), RED),
        (date(2026, 9, 20), None),  # X + 3 months
        (date(2026, 9, 21), None),
    ],
)
def test_stopped_early_uses_procedure_plus_three_months_when_later(stopped_on: date, expected: Severity | None) -> None:
    record = treated(
        procedures=done(date(2026, 6, 20)), anticoagulation=anticoagulation(("start", P), ("stop", stopped_on))
    )
    for as_of in (stopped_on, day(stopped_on, 1)):
        assert severity(record, as_of, "ANTICOAGULATION_STOPPED_EARLY") is expected


@pytest.mark.parametrize(
    ("stopped_on", "expected"),
    [(date(2026, 2, 27), RED), (date(2026, 2, 28), None), (date(2026, 3, 1), None)],
)
def test_stopped_early_month_end_minimum_end_is_last_of_february(stopped_on: date, expected: Severity | None) -> None:
    start = date(2025, 11, 30)
    record = make_record(
        presented_on=start,
        symptom_onset_on=start,
        referred_on=start,
        anticoagulation=anticoagulation(("start", start), ("stop", stopped_on)),
    )
    assert severity(record, stopped_on, "ANTICOAGULATION_STOPPED_EARLY") is expected


def review(on: date, decision: ReviewDecision = ReviewDecision.stop) -> tuple[ReviewFacts, ...]:
    return (ReviewFacts(on, decision),)


def test_stopped_early_cleared_by_a_review_deciding_to_stop() -> None:
    stopped = date(2026, 6, 10)
    record = make_record(anticoagulation=anticoagulation(("start", P), ("stop", stopped)), reviews=review(stopped))
    for as_of in (date(2026, 6, 12), date(2026, 6, 13), date(2026, 12, 1)):
        assert severity(record, as_of, "ANTICOAGULATION_STOPPED_EARLY") is None


def test_stopped_early_cleared_by_restart_and_raised_by_a_new_early_stop() -> None:
    stopped, restarted = date(2026, 6, 10), date(2026, 6, 11)
    held = anticoagulation(("start", P), ("stop", stopped))
    assert severity(make_record(anticoagulation=held), restarted, "ANTICOAGULATION_STOPPED_EARLY") is RED
    resumed = anticoagulation(("start", P), ("stop", stopped), ("start", restarted))
    for as_of in (restarted, date(2026, 6, 20), date(2026, 9, 1)):
        assert severity(make_record(anticoagulation=resumed), as_of, "ANTICOAGULATION_STOPPED_EARLY") is None
    again = (*resumed, AnticoagulationEvent("stop", date(2026, 7, 1)))
    assert severity(make_record(anticoagulation=again), date(2026, 7, 1), "ANTICOAGULATION_STOPPED_EARLY") is RED


def test_stopped_early_absent_while_running() -> None:
    record = make_record(anticoagulation=anticoagulation(("start", P)))
    for as_of in (P, date(2026, 7, 1), date(2026, 12, 1)):
        assert severity(record, as_of, "ANTICOAGULATION_STOPPED_EARLY") is None


# --- ANTICOAGULATION_REVIEW_DUE (minimum_end-7..minimum_end+14) and _OVERDUE (> minimum_end+14) --------

MINIMUM_END_CASES = [
    # (presented_on, A, X or None, minimum_end)
    pytest.param(P, P, None, date(2026, 9, 1), id="A+3m"),
    pytest.param(P, P, date(2026, 6, 20), date(2026, 9, 20), id="X+3m-later"),
    pytest.param(P, date(2026, 6, 10), date(2026, 6, 5), date(2026, 9, 10), id="A+3m-later-than-X"),
    pytest.param(date(2025, 11, 30), date(2025, 11, 30), None, date(2026, 2, 28), id="30-Nov-to-28-Feb"),
    pytest.param(date(2025, 8, 31), date(2025, 8, 31), None, date(2025, 11, 30), id="31-Aug-to-30-Nov"),
    pytest.param(P, P, date(2026, 8, 31), date(2026, 11, 30), id="X-31-Aug-to-30-Nov"),
    pytest.param(date(2027, 11, 30), date(2027, 11, 30), None, date(2028, 2, 29), id="leap-February"),
]
REVIEW_OFFSETS = [
    (-30, None, None),
    (-8, None, None),
    (-7, AMBER, None),
    (-6, AMBER, None),
    (0, AMBER, None),
    (13, AMBER, None),
    (14, AMBER, None),
    (15, None, RED),
    (16, None, RED),
    (200, None, RED),
]


@pytest.mark.parametrize(("presented", "started", "performed", "minimum_end"), MINIMUM_END_CASES)
@pytest.mark.parametrize(("offset", "due", "overdue"), REVIEW_OFFSETS)
def test_anticoagulation_review_window_around_minimum_end(
    presented: date,
    started: date,
    performed: date | None,
    minimum_end: date,
    offset: int,
    due: Severity | None,
    overdue: Severity | None,
) -> None:
    record = make_record(
        presented_on=presented,
        symptom_onset_on=presented,
        referred_on=presented,
        mdts=mdt(Decision.pmt, held_on=presented) if performed else (),
        procedures=done(performed) if performed else (),
        anticoagulation=anticoagulation(("start", started)),
    )
    as_of = day(minimum_end, offset)
    assert severity(record, as_of, "ANTICOAGULATION_REVIEW_DUE") is due
    assert severity(record, as_of, "ANTICOAGULATION_REVIEW_OVERDUE") is overdue


@pytest.mark.parametrize(("presented", "started", "performed", "minimum_end"), MINIMUM_END_CASES)
@pytest.mark.parametrize("reviewed", [-7, 0, 20])
def test_anticoagulation_review_flags_cleared_by_review(
    presented: date, started: date, performed: date | None, minimum_end: date, reviewed: int
) -> None:
    record = make_record(
        presented_on=presented,
        symptom_onset_on=presented,
        referred_on=presented,
        procedures=done(performed) if performed else (),
        anticoagulation=anticoagulation(("start", started)),
        reviews=review(day(minimum_end, reviewed), ReviewDecision.continue_defined),
    )
    for offset in (reviewed, 14, 15, 200):
        as_of = day(minimum_end, offset)
        assert severity(record, as_of, "ANTICOAGULATION_REVIEW_DUE") is None
        assert severity(record, as_of, "ANTICOAGULATION_REVIEW_OVERDUE") is None


def test_anticoagulation_review_flags_absent_when_never_started() -> None:
    record = make_record()
    for as_of in (date(2026, 9, 1), date(2026, 9, 16), date(2027, 6, 1)):
        assert severity(record, as_of, "ANTICOAGULATION_REVIEW_DUE") is None
        assert severity(record, as_of, "ANTICOAGULATION_REVIEW_OVERDUE") is None


def test_anticoagulation_review_still_due_after_a_stop() -> None:
    record = make_record(anticoagulation=anticoagulation(("start", P), ("stop", date(2026, 9, 3))))
    assert severity(record, date(2026, 9, 3), "ANTICOAGULATION_REVIEW_DUE") is AMBER
    assert severity(record, date(2026, 9, 16), "ANTICOAGULATION_REVIEW_OVERDUE") is RED


# --- FOLLOW_UP_OVERDUE --------------------------------------------------------------------------------

X_MONTH_END = date(2026, 8, 31)
FOLLOW_UP_CASES = [
    # (X, visit, visits already recorded, window end)
    pytest.param(X, Visit.early, (), date(2026, 6, 26), id="early-X+21"),
    pytest.param(X, Visit.week6, (Visit.early,), date(2026, 7, 31), id="week6-X+56"),
    pytest.param(X, Visit.month6, (Visit.early, Visit.week6), date(2027, 1, 2), id="month6-X+6m+28"),
    pytest.param(X, Visit.month12, (Visit.early, Visit.week6, Visit.month6), date(2027, 7, 17), id="month12-X+12m+42"),
    pytest.param(X_MONTH_END, Visit.early, (), date(2026, 9, 21), id="month-end-early"),
    pytest.param(X_MONTH_END, Visit.week6, (Visit.early,), date(2026, 10, 26), id="month-end-week6"),
    pytest.param(X_MONTH_END, Visit.month6, (Visit.early, Visit.week6), date(2027, 3, 28), id="month-end-month6"),
    pytest.param(
        X_MONTH_END, Visit.month12, (Visit.early, Visit.week6, Visit.month6), date(2027, 10, 12), id="month-end-month12"
    ),
]


def followed_up(performed: date, technique: Technique, visits: tuple[Visit, ...], **facts: Any) -> PathwayRecord:
    facts.setdefault("follow_ups", {v: day(performed, 10) for v in visits})
    return treated(technique, procedures=done(performed, technique), scheduled_on=performed, **facts)


@pytest.mark.parametrize("technique", [Technique.pmt, Technique.pmt_with_thrombolysis])
@pytest.mark.parametrize(("performed", "visit", "recorded", "end"), FOLLOW_UP_CASES)
@pytest.mark.parametrize(("offset", "expected"), [(-1, None), (0, None), (1, RED), (2, RED)])
def test_follow_up_overdue_red_after_window_end(
    technique: Technique,
    performed: date,
    visit: Visit,
    recorded: tuple[Visit, ...],
    end: date,
    offset: int,
    expected: Severity | None,
) -> None:
    record = followed_up(performed, technique, recorded)
    assert severity(record, day(end, offset), "FOLLOW_UP_OVERDUE") is expected


@pytest.mark.parametrize(("performed", "visit", "recorded", "end"), FOLLOW_UP_CASES)
def test_follow_up_overdue_cleared_by_late_visit(
    performed: date, visit: Visit, recorded: tuple[Visit, ...], end: date
) -> None:
    late = day(end, 5)
    record = followed_up(performed, Technique.pmt, recorded)
    assert severity(record, late, "FOLLOW_UP_OVERDUE") is RED
    answered = followed_up(performed, Technique.pmt, recorded, follow_ups=record.follow_ups | {visit: late})
    for as_of in (late, day(late, 1)):
        assert severity(answered, as_of, "FOLLOW_UP_OVERDUE") is None


@pytest.mark.parametrize("technique", [Technique.cdt, Technique.open_thrombectomy])
@pytest.mark.parametrize(("visit", "end"), [(Visit.early, date(2026, 6, 26)), (Visit.week6, date(2026, 7, 31))])
def test_follow_up_overdue_procedural_visits_for_every_technique(technique: Technique, visit: Visit, end: date) -> None:
    recorded = () if visit is Visit.early else (Visit.early,)
    record = followed_up(X, technique, recorded)
    assert severity(record, end, "FOLLOW_UP_OVERDUE") is None
    assert severity(record, day(end, 1), "FOLLOW_UP_OVERDUE") is RED


@pytest.mark.parametrize("technique", [Technique.cdt, Technique.open_thrombectomy])
def test_follow_up_overdue_month6_and_month12_only_after_pmt(technique: Technique) -> None:
    record = followed_up(X, technique, (Visit.early, Visit.week6))
    for as_of in (date(2027, 1, 3), date(2027, 7, 18), date(2028, 1, 1)):
        assert severity(record, as_of, "FOLLOW_UP_OVERDUE") is None


def test_follow_up_overdue_absent_without_procedure() -> None:
    for mdts in ((), mdt(Decision.anticoagulation_only), mdt(Decision.pmt)):
        record = make_record(mdts=mdts, anticoagulation=anticoagulation(("start", P)))
        for as_of in (date(2026, 7, 1), date(2027, 1, 3), date(2028, 1, 1)):
            assert severity(record, as_of, "FOLLOW_UP_OVERDUE") is None


def test_follow_up_overdue_listed_once_when_several_visits_are_late() -> None:
    record = followed_up(X, Technique.pmt, ())
    flags = [f for f in flags_at(record, date(2028, 1, 1), POLICY) if f.code == "FOLLOW_UP_OVERDUE"]
    assert len(flags) == 1
    assert flags[0].severity is RED


# --- IVC_FILTER_RETRIEVAL_DUE (X+29..X+54) and _OVERDUE (> X+54) ------------------------------------------

FILTER_OFFSETS = [
    (0, None, None),
    (28, None, None),
    (29, AMBER, None),
    (30, AMBER, None),
    (53, AMBER, None),
    (54, AMBER, None),
    (55, None, RED),
    (56, None, RED),
    (365, None, RED),
]


@pytest.mark.parametrize("technique", list(Technique))
@pytest.mark.parametrize(("offset", "due", "overdue"), FILTER_OFFSETS)
def test_filter_retrieval_window_29_to_54_days(
    technique: Technique, offset: int, due: Severity | None, overdue: Severity | None
) -> None:
    record = treated(technique, procedures=done(X, technique, IvcFilter.temporary))
    assert severity(record, day(X, offset), "IVC_FILTER_RETRIEVAL_DUE") is due
    assert severity(record, day(X, offset), "IVC_FILTER_RETRIEVAL_OVERDUE") is overdue


@pytest.mark.parametrize("ivc_filter", [IvcFilter.none, IvcFilter.permanent])
def test_filter_retrieval_flags_only_for_temporary_filter(ivc_filter: IvcFilter) -> None:
    record = treated(procedures=done(X, Technique.pmt, ivc_filter))
    for offset in (29, 54, 55, 365):
        assert severity(record, day(X, offset), "IVC_FILTER_RETRIEVAL_DUE") is None
        assert severity(record, day(X, offset), "IVC_FILTER_RETRIEVAL_OVERDUE") is None


@pytest.mark.parametrize("decided", [20, 40, 60])
def test_filter_retrieval_flags_cleared_by_outcome(decided: int) -> None:
    record = treated(procedures=done(X, Technique.pmt, IvcFilter.temporary), filter_outcome_on=day(X, decided))
    for offset in (max(decided, 29), 54, 55, 365):
        assert severity(record, day(X, offset), "IVC_FILTER_RETRIEVAL_DUE") is None
        assert severity(record, day(X, offset), "IVC_FILTER_RETRIEVAL_OVERDUE") is None


# --- closed pathways -----------------------------------------------------------------------------------


def busy_record(**facts: Any) -> PathwayRecord:
    """An open pathway that carries many flags: no MDT, no anticoagulation, a missed window."""
    return make_record(symptom_onset_on=ONSET, **facts)


@pytest.mark.parametrize("offset", [3, 5, 15, 60, 400])
def test_flags_at_closed_pathway_has_no_flags(offset: int) -> None:
    as_of = day(P, offset)
    assert flags_at(busy_record(), as_of, POLICY), "the open record should carry flags"
    assert flags_at(busy_record(closed_on=day(P, 3)), as_of, POLICY) == []


@pytest.mark.parametrize("offset", [31, 60, 400])
def test_flags_at_closed_treated_pathway_has_no_flags(offset: int) -> None:
    facts: dict[str, Any] = {
        "procedures": done(X, Technique.pmt, IvcFilter.temporary),
        "anticoagulation": anticoagulation(("start", P), ("stop", day(X, 1))),
    }
    assert flags_at(treated(**facts), day(X, offset), POLICY), "the open record should carry flags"
    assert flags_at(treated(**facts, closed_on=day(X, 30)), day(X, offset), POLICY) == []


# --- one flag per code, most urgent first ---------------------------------------------------------------


def assert_ordered(flags: list[Flag]) -> None:
    codes = [f.code for f in flags]
    assert len(codes) == len(set(codes)), f"a code is listed twice: {codes}"
    ranks = [0 if f.severity is RED else 1 for f in flags]
    assert ranks == sorted(ranks), f"red must come before amber: {flags}"
    for severity_ in (RED, AMBER):
        dues = [f.due_on for f in flags if f.severity is severity_]
        assert dues == sorted(dues), f"{severity_} flags must be earliest due first: {flags}"


def test_flags_at_most_urgent_first() -> None:
    record = make_record(
        symptom_onset_on=date(2026, 5, 22),
        mdts=mdt(Decision.pmt, thrombolysis=True),
        scheduled_on=date(2026, 6, 14),
    )
    flags = flags_at(record, date(2026, 6, 12), POLICY)
    assert {f.code: f.severity for f in flags} == {
        "ANTICOAGULATION_NOT_STARTED": RED,
        "GOVERNANCE_NOTICE_OUTSTANDING": RED,
        "CONSENT_OUTSTANDING": RED,
        "TREATMENT_WINDOW_AT_RISK": AMBER,
        "THROMBOLYSIS_CRITERIA_NOT_MET": AMBER,
        "SAFETY_CHECK_OUTSTANDING": AMBER,
    }
    assert_ordered(flags)


def test_flags_at_red_before_amber() -> None:
    record = treated(procedures=done(X, Technique.pmt, IvcFilter.temporary), follow_ups={Visit.early: day(X, 10)})
    flags = flags_at(record, day(X, 31), POLICY)
    assert [(f.code, f.severity) for f in flags] == [
        ("REGISTRY_SUBMISSION_OVERDUE", RED),
        ("IVC_FILTER_RETRIEVAL_DUE", AMBER),
    ]


SWEEP_RECORDS = [
    pytest.param(busy_record(), id="untouched"),
    pytest.param(make_record(veins=FEMOROPOPLITEAL, mdts=mdt(Decision.pmt), scheduled_on=S), id="research-route"),
    pytest.param(
        make_record(symptom_onset_on=ONSET, mdts=mdt(Decision.cdt), scheduled_on=date(2026, 6, 20)), id="cdt-late"
    ),
    pytest.param(
        treated(
            procedures=done(X, Technique.pmt, IvcFilter.temporary),
            anticoagulation=anticoagulation(("start", P), ("stop", date(2026, 7, 1))),
        ),
        id="treated-filter-stopped",
    ),
]


@pytest.mark.parametrize("record", SWEEP_RECORDS)
def test_flags_at_one_per_code_and_ordered_on_every_day(record: PathwayRecord) -> None:
    for offset in range(0, 500, 1):
        assert_ordered(flags_at(record, day(P, offset), POLICY))


# --- Time: London calendar days, month ends and clock changes ------------------------------------------


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 28)),  # GMT
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), date(2026, 3, 29)),  # still GMT, BST starts at 01:00 UTC
        (datetime(2026, 3, 29, 23, 30, tzinfo=UTC), date(2026, 3, 30)),  # BST: 00:30 on 30 March in London
        (datetime(2026, 6, 15, 23, 30, tzinfo=UTC), date(2026, 6, 16)),  # BST
        (datetime(2026, 10, 24, 23, 30, tzinfo=UTC), date(2026, 10, 25)),  # BST: 00:30 on 25 October
        (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 25)),  # GMT again after 01:00 UTC
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2026, 12, 31)),  # GMT
    ],
)
def test_london_date_falls_on_the_london_calendar_day(instant: datetime, expected: date) -> None:
    assert london_date(instant) == expected


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 8, 31), 3, date(2025, 11, 30)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
        (date(2026, 6, 1), 3, date(2026, 9, 1)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 6, 5), 12, date(2027, 6, 5)),
    ],
)
def test_add_months_same_day_or_last_day_of_month(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("presented", "closes"),
    [(date(2026, 3, 20), date(2026, 4, 3)), (date(2026, 10, 20), date(2026, 11, 3))],
    ids=["across-BST-start", "across-GMT-return"],
)
def test_treatment_window_across_clock_change_is_whole_days(presented: date, closes: date) -> None:
    record = make_record(presented_on=presented, symptom_onset_on=presented, referred_on=presented)
    assert severity(record, day(closes, -5), "TREATMENT_WINDOW_AT_RISK") is None
    assert severity(record, day(closes, -4), "TREATMENT_WINDOW_AT_RISK") is AMBER
    assert severity(record, closes, "TREATMENT_WINDOW_AT_RISK") is AMBER
    assert severity(record, closes, "TREATMENT_WINDOW_MISSED") is None
    assert severity(record, day(closes, 1), "TREATMENT_WINDOW_MISSED") is RED
    assert window_days_left(record, presented, POLICY) == 14
    assert window_days_left(record, closes, POLICY) == 0


@pytest.mark.parametrize(
    ("instant", "closes"),
    [
        (datetime(2026, 3, 19, 23, 30, tzinfo=UTC), date(2026, 4, 2)),  # GMT: presented 19 March
        (datetime(2026, 3, 29, 23, 30, tzinfo=UTC), date(2026, 4, 13)),  # BST: presented 30 March
        (datetime(2026, 10, 19, 23, 30, tzinfo=UTC), date(2026, 11, 3)),  # BST: presented 20 October
        (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 11, 8)),  # GMT: presented 25 October
    ],
)
def test_treatment_window_from_a_recorded_instant_uses_the_london_day(instant: datetime, closes: date) -> None:
    presented = london_date(instant)
    record = make_record(presented_on=presented, symptom_onset_on=presented, referred_on=presented)
    assert severity(record, closes, "TREATMENT_WINDOW_MISSED") is None
    assert severity(record, day(closes, 1), "TREATMENT_WINDOW_MISSED") is RED


@pytest.mark.parametrize(
    ("referred", "last_quiet_day"),
    [(date(2026, 3, 27), date(2026, 3, 30)), (date(2026, 10, 23), date(2026, 10, 26))],
)
def test_mdt_overdue_across_clock_change_is_whole_days(referred: date, last_quiet_day: date) -> None:
    record = make_record(presented_on=referred, symptom_onset_on=referred, referred_on=referred)
    assert severity(record, last_quiet_day, "MDT_OVERDUE") is None
    assert severity(record, day(last_quiet_day, 1), "MDT_OVERDUE") is RED


@pytest.mark.parametrize(
    ("placed", "due_from", "due_until"),
    [
        (date(2026, 3, 1), date(2026, 3, 30), date(2026, 4, 24)),
        (date(2026, 10, 1), date(2026, 10, 30), date(2026, 11, 24)),
    ],
)
def test_filter_retrieval_across_clock_change_is_whole_days(placed: date, due_from: date, due_until: date) -> None:
    record = make_record(
        presented_on=placed,
        symptom_onset_on=placed,
        referred_on=placed,
        mdts=mdt(Decision.pmt, held_on=placed),
        procedures=done(placed, Technique.pmt, IvcFilter.temporary),
    )
    assert severity(record, day(due_from, -1), "IVC_FILTER_RETRIEVAL_DUE") is None
    assert severity(record, due_from, "IVC_FILTER_RETRIEVAL_DUE") is AMBER
    assert severity(record, due_until, "IVC_FILTER_RETRIEVAL_DUE") is AMBER
    assert severity(record, day(due_until, 1), "IVC_FILTER_RETRIEVAL_OVERDUE") is RED
