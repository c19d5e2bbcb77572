"""The pathway rules: pure functions of a PathwayRecord, the policy and (for flags) a date.

Each flag of docs/rules.md ('The flags') is expressed as *windows*: a severity that stands from one date to
another while the record stays as it is. `flags_at` reads the windows at a date, and the same
windows are materialised in the database so the worklist is an indexed query. One definition
serves both, so the worklist and `pathway show` cannot disagree.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from pathway.domain.criteria import outside_guidance_scope, safety_check_failures, thrombolysis_criteria_failures
from pathway.domain.policy import Policy
from pathway.domain.record import PathwayRecord
from pathway.domain.stages import STAGE_CLOSED, STAGE_COMPLETE, STAGES, STEPS, three_month_review_from
from pathway.domain.vocabulary import SEVERITY_RANK, Decision, Role, Route, Severity, StopReason, Visit

# Open ends of a window, stored as real dates so the database compares them with an index.
BEGINNING = date(1, 1, 1)
END = date(9999, 12, 31)


@dataclass(frozen=True)
class FlagWindow:
    code: str
    severity: Severity
    starts_on: date
    ends_on: date
    due_on: date

    def stands_on(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True)
class Flag:
    code: str
    severity: Severity
    due_on: date

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity.value, "due_on": self.due_on.isoformat()}


@dataclass(frozen=True)
class PlannedStep:
    stage: str
    code: str
    title: str
    owner: Role
    due_on: date
    warn_on: date
    done_on: date | None


@dataclass(frozen=True)
class FlagDef:
    code: str
    words: str  # plain words for coordinators; the code stands beside them
    step: str  # the step whose owner is told (pathway.domain.stages)
    windows: Callable[[PathwayRecord, Policy], list[FlagWindow]]


def _d(day: date, n: int) -> date:
    return day + timedelta(days=n)


def _pre_procedure(code: str, outstanding: Callable[[PathwayRecord], bool]) -> Callable[..., list[FlagWindow]]:
    """Amber while outstanding; red from S - 2 once a procedure is scheduled."""

    def windows(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
        if not outstanding(r) or r.procedures:
            return []
        due = r.scheduled_on or _d(r.presented_on, p.n("treatment_window_days"))
        if r.scheduled_on is None:
            return [FlagWindow(code, Severity.amber, BEGINNING, END, due)]
        red_from = _d(r.scheduled_on, -p.n("pre_procedure_red_days"))
        return [
            FlagWindow(code, Severity.amber, BEGINNING, _d(red_from, -1), due),
            FlagWindow(code, Severity.red, red_from, END, due),
        ]

    return windows


def _mdt_overdue(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    if r.mdt is not None:
        return []
    due = _d(r.referred_on, p.n("mdt_due_days"))
    return [FlagWindow("MDT_OVERDUE", Severity.red, _d(due, 1), END, due)]


def _window_at_risk(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    if not r.awaiting_treatment:
        return []
    closes = _d(r.presented_on, p.n("treatment_window_days"))
    warn_from = _d(closes, -p.n("treatment_window_warn_days"))
    return [FlagWindow("TREATMENT_WINDOW_AT_RISK", Severity.amber, warn_from, closes, closes)]


def _window_missed(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    if not r.awaiting_treatment:
        return []
    closes = _d(r.presented_on, p.n("treatment_window_days"))
    return [FlagWindow("TREATMENT_WINDOW_MISSED", Severity.red, _d(closes, 1), END, closes)]


Span = tuple[date, date]


def _spans_where(holds: Callable[[date], bool], breaks: Iterable[date], start: date = BEGINNING) -> list[Span]:
    """The days from `start` on where `holds` is true, for a condition that can only change at a break.

    The calendar is cut at each break (a break is the first day of a piece); the condition is read once
    per piece, at its first day, and adjoining pieces where it holds are joined.
    """
    points = sorted({b for b in breaks if start < b})
    firsts = [start, *points]
    lasts = [_d(b, -1) for b in points] + [END]
    return _joined([(first, last) for first, last in zip(firsts, lasts, strict=True) if holds(first)])


def _joined(spans: list[Span]) -> list[Span]:
    joined: list[Span] = []
    for first, last in spans:
        if joined and joined[-1][1] < END and _d(joined[-1][1], 1) == first:
            joined[-1] = (joined[-1][0], last)
        else:
            joined.append((first, last))
    return joined


def _thrombolysis_criteria(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    """Amber while thrombolysis is planned, nothing is done yet, and a criterion fails at T = max(D, S).

    Up to S every day reads T = S, so the flag stands before a procedure booked too late; after S (or
    with nothing booked) T = D, which changes only at onset + 14 and at each safety check's date.
    """
    if not r.thrombolysis_planned or r.procedures:
        return []
    onset_limit = _d(r.symptom_onset_on, p.n("thrombolysis_symptom_days"))

    def fails(t: date) -> bool:
        return bool(thrombolysis_criteria_failures(r, t, p))

    breaks = [onset_limit, *(check.checked_on for check in r.safety_checks)]
    booked = r.scheduled_on
    if booked is None:
        spans = _spans_where(fails, breaks)
    else:
        spans = ([(BEGINNING, booked)] if fails(booked) else []) + _spans_where(fails, breaks, _d(booked, 1))
    due = booked or onset_limit
    code = "THROMBOLYSIS_CRITERIA_NOT_MET"
    return [FlagWindow(code, Severity.amber, first, last, due) for first, last in _joined(spans)]


def _safety_check_outstanding(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    """Amber from S - 3, red from S - 1, until a safety check dated from S - 3 to S (or the procedure)."""
    booked = r.scheduled_on
    if not r.procedural or r.procedures or booked is None:
        return []
    due_from = _d(booked, -p.n("safety_check_lead_days"))
    if r.safety_checked_between(due_from, booked):
        return []
    red_from = _d(booked, -p.n("safety_check_red_days"))
    code = "SAFETY_CHECK_OUTSTANDING"
    windows = [FlagWindow(code, Severity.red, red_from, END, booked)]
    if red_from > due_from:
        windows.insert(0, FlagWindow(code, Severity.amber, due_from, _d(red_from, -1), booked))
    return windows


def _safety_check_failed(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    """Red on the days whose latest safety check (on or before D) fails, before the procedure."""
    if not r.procedural or r.procedures or not r.safety_checks:
        return []

    def failing(day: date) -> bool:
        check = r.latest_safety_check(day)
        return check is not None and bool(safety_check_failures(check, r.thrombolysis_planned, p))

    due = r.scheduled_on or _d(r.presented_on, p.n("treatment_window_days"))
    spans = _spans_where(failing, (check.checked_on for check in r.safety_checks))
    return [FlagWindow("SAFETY_CHECK_FAILED", Severity.red, first, last, due) for first, last in spans]


def _outside_guidance_scope(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    """Amber while the patient is outside NG158's scope and no MDT has recorded the specialist plan."""
    if not outside_guidance_scope(r, p) or r.outside_scope_plan:
        return []
    due = _d(r.referred_on, p.n("mdt_due_days"))  # the plan is the MDT's to make
    return [FlagWindow("OUTSIDE_GUIDANCE_SCOPE", Severity.amber, BEGINNING, END, due)]


def _restart_overdue(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    """Red after the planned restart of a procedure hold that has not been followed by a restart.

    A hold recorded under version 1 carries no plan: it is read as planned at the latest a plan may
    say (the stop + 30 days), so it is never left unwatched.
    """
    stop = r.standing_stop
    if stop is None or stop.reason is not StopReason.procedure_hold:
        return []
    planned = stop.restart_planned_on or _d(stop.on, p.n("restart_plan_max_days"))
    return [FlagWindow("ANTICOAGULATION_RESTART_OVERDUE", Severity.red, _d(planned, 1), END, planned)]


def _registry_overdue(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    x = r.pmt_performed_on
    if r.registry_submitted_on is not None or x is None:
        return []
    due = _d(x, p.n("registry_due_days"))
    return [FlagWindow("REGISTRY_SUBMISSION_OVERDUE", Severity.red, _d(due, 1), END, due)]


def _anticoagulation_not_started(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    if r.anticoagulation_started_on is not None:
        return []
    due = _d(r.presented_on, p.n("anticoagulation_start_days"))
    return [FlagWindow("ANTICOAGULATION_NOT_STARTED", Severity.red, _d(due, 1), END, due)]


def _minimum_end(r: PathwayRecord, p: Policy) -> date | None:
    return r.minimum_end(p.n("anticoagulation_minimum_months"))


def _stopped_early(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    """A stop before minimum_end, other than a procedure hold, not answered by a review dated on or
    after it that decided to stop (a review before the stop, or one that continued, does not)."""
    stop = r.standing_stop
    minimum_end = _minimum_end(r, p)
    if stop is None or minimum_end is None or stop.reason is StopReason.procedure_hold:
        return []
    if stop.on >= minimum_end or r.stop_decided_from(stop.on):
        return []
    return [FlagWindow("ANTICOAGULATION_STOPPED_EARLY", Severity.red, BEGINNING, END, stop.on)]


def _review_outstanding(r: PathwayRecord, p: Policy) -> date | None:
    """minimum_end when the 3-month review is still to be recorded, else None."""
    counts_from = three_month_review_from(r, p)
    if counts_from is None or r.first_review_from(counts_from) is not None:
        return None
    return _minimum_end(r, p)


def _review_due(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    minimum_end = _review_outstanding(r, p)
    if minimum_end is None:
        return []
    start = _d(minimum_end, -p.n("anticoagulation_review_warn_days"))
    end = _d(minimum_end, p.n("anticoagulation_review_grace_days"))
    return [FlagWindow("ANTICOAGULATION_REVIEW_DUE", Severity.amber, start, end, minimum_end)]


def _review_overdue(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    minimum_end = _review_outstanding(r, p)
    if minimum_end is None:
        return []
    grace_end = _d(minimum_end, p.n("anticoagulation_review_grace_days"))
    return [FlagWindow("ANTICOAGULATION_REVIEW_OVERDUE", Severity.red, _d(grace_end, 1), END, minimum_end)]


def _follow_up_overdue(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    windows = []
    for visit in Visit:
        _stage, step = STEPS[f"follow_up_{visit.value}"]
        end = step.due(r, p)
        if not step.applies(r) or end is None or visit in r.follow_ups:
            continue
        windows.append(FlagWindow("FOLLOW_UP_OVERDUE", Severity.red, _d(end, 1), END, end))
    return windows


def _filter_windows(r: PathwayRecord, p: Policy) -> tuple[date, date] | None:
    placed = r.temporary_filter_placed_on
    if placed is None or r.filter_outcome_on is not None:
        return None
    return _d(placed, p.n("filter_retrieval_start_days")), _d(placed, p.n("filter_retrieval_end_days"))


def _filter_due(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    window = _filter_windows(r, p)
    if window is None:
        return []
    start, end = window
    return [FlagWindow("IVC_FILTER_RETRIEVAL_DUE", Severity.amber, start, end, end)]


def _filter_overdue(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    window = _filter_windows(r, p)
    if window is None:
        return []
    _start, end = window
    return [FlagWindow("IVC_FILTER_RETRIEVAL_OVERDUE", Severity.red, _d(end, 1), END, end)]


def _governance_outstanding(r: PathwayRecord) -> bool:
    return r.decision is Decision.pmt and r.route is Route.special_arrangements and r.governance_notified_on is None


def _enrolment_outstanding(r: PathwayRecord) -> bool:
    return r.decision is Decision.pmt and r.route is Route.research_only and r.enrolled_on is None


def _consent_outstanding(r: PathwayRecord) -> bool:
    return r.procedural and r.consented_on is None


FLAGS: tuple[FlagDef, ...] = (
    FlagDef("MDT_OVERDUE", "MDT assessment overdue", "mdt", _mdt_overdue),
    FlagDef("TREATMENT_WINDOW_AT_RISK", "14-day treatment window closing", "procedure", _window_at_risk),
    FlagDef("TREATMENT_WINDOW_MISSED", "14-day treatment window missed", "procedure", _window_missed),
    FlagDef(
        "GOVERNANCE_NOTICE_OUTSTANDING",
        "Clinical governance lead not yet informed",
        "governance_notice",
        _pre_procedure("GOVERNANCE_NOTICE_OUTSTANDING", _governance_outstanding),
    ),
    FlagDef(
        "RESEARCH_ENROLMENT_OUTSTANDING",
        "Research enrolment missing (PMT is research-only here)",
        "research_enrolment",
        _pre_procedure("RESEARCH_ENROLMENT_OUTSTANDING", _enrolment_outstanding),
    ),
    FlagDef(
        "CONSENT_OUTSTANDING",
        "Consent not yet recorded",
        "consent",
        _pre_procedure("CONSENT_OUTSTANDING", _consent_outstanding),
    ),
    FlagDef(
        "THROMBOLYSIS_CRITERIA_NOT_MET",
        "Thrombolysis planned but a NICE NG158 criterion is not met by the procedure date",
        "procedure",
        _thrombolysis_criteria,
    ),
    FlagDef(
        "SAFETY_CHECK_OUTSTANDING",
        "Pre-procedure safety check (platelets, INR, contraindications) not yet recorded",
        "procedure",
        _safety_check_outstanding,
    ),
    FlagDef(
        "SAFETY_CHECK_FAILED",
        "Pre-procedure safety check failed (platelets, INR or a contraindication to thrombolysis)",
        "procedure",
        _safety_check_failed,
    ),
    FlagDef(
        "OUTSIDE_GUIDANCE_SCOPE",
        "Under 18 or pregnant: outside NICE NG158, no specialist plan recorded",
        "mdt",
        _outside_guidance_scope,
    ),
    FlagDef("REGISTRY_SUBMISSION_OVERDUE", "Registry entry overdue", "registry_submission", _registry_overdue),
    FlagDef(
        "ANTICOAGULATION_NOT_STARTED",
        "Anticoagulation not started",
        "anticoagulation_start",
        _anticoagulation_not_started,
    ),
    FlagDef(
        "ANTICOAGULATION_RESTART_OVERDUE",
        "Anticoagulation not restarted after a procedure hold",
        "anticoagulation_start",
        _restart_overdue,
    ),
    FlagDef(
        "ANTICOAGULATION_STOPPED_EARLY",
        "Anticoagulation stopped before the minimum course",
        "anticoagulation_review",
        _stopped_early,
    ),
    FlagDef("ANTICOAGULATION_REVIEW_DUE", "Anticoagulation review due", "anticoagulation_review", _review_due),
    FlagDef(
        "ANTICOAGULATION_REVIEW_OVERDUE", "Anticoagulation review overdue", "anticoagulation_review", _review_overdue
    ),
    FlagDef("FOLLOW_UP_OVERDUE", "Follow-up visit overdue", "follow_up_early", _follow_up_overdue),
    FlagDef("IVC_FILTER_RETRIEVAL_DUE", "IVC filter retrieval due", "filter_retrieval", _filter_due),
    FlagDef("IVC_FILTER_RETRIEVAL_OVERDUE", "IVC filter retrieval overdue", "filter_retrieval", _filter_overdue),
)
FLAG_BY_CODE: dict[str, FlagDef] = {f.code: f for f in FLAGS}


def flag_windows(record: PathwayRecord, policy: Policy) -> list[FlagWindow]:
    """Every window in which a flag stands for this record; none once the pathway is closed."""
    if record.is_closed:
        return []
    return [w for flag in FLAGS for w in flag.windows(record, policy)]


def merge_standing(windows: list[FlagWindow], day: date) -> list[Flag]:
    """The flags standing on `day`, one per code (highest severity, then earliest due), most urgent first."""
    best: dict[str, FlagWindow] = {}
    for w in windows:
        if not w.stands_on(day):
            continue
        held = best.get(w.code)
        if held is None or (SEVERITY_RANK[w.severity], -w.due_on.toordinal()) > (
            SEVERITY_RANK[held.severity],
            -held.due_on.toordinal(),
        ):
            best[w.code] = w
    flags = [Flag(w.code, w.severity, w.due_on) for w in best.values()]
    return sorted(flags, key=lambda f: (-SEVERITY_RANK[f.severity], f.due_on, f.code))


def flags_at(record: PathwayRecord, as_of: date, policy: Policy) -> list[Flag]:
    return merge_standing(flag_windows(record, policy), as_of)


def plan(record: PathwayRecord, policy: Policy) -> list[PlannedStep]:
    """The applicable steps with due, warning and done dates, in declaration order."""
    steps = []
    for stage in STAGES:
        for step in stage.steps:
            if not step.applies(record):
                continue
            due = step.due(record, policy)
            if due is None:
                continue
            warn = step.warn(record, policy) or due
            done = step.done(record, policy)
            steps.append(PlannedStep(stage.code, step.code, step.title, step.owner, due, min(warn, due), done))
    return steps


def next_step(record: PathwayRecord, steps: list[PlannedStep]) -> PlannedStep | None:
    """The undone step falling due first (declaration order breaks ties)."""
    if record.is_closed:
        return None
    open_steps = [s for s in steps if s.done_on is None]
    return min(open_steps, key=lambda s: s.due_on) if open_steps else None


def stage_of(record: PathwayRecord, steps: list[PlannedStep]) -> str:
    """Where the patient is: the stage of the next step; `complete` or `closed` at the end."""
    if record.is_closed:
        return STAGE_CLOSED
    upcoming = next_step(record, steps)
    return upcoming.stage if upcoming else STAGE_COMPLETE


def window_closes_on(record: PathwayRecord, policy: Policy) -> date | None:
    """The last day of the 14-day window while a procedure may still come; None once done or not planned."""
    if record.is_closed or not record.awaiting_treatment:
        return None
    return record.presented_on + timedelta(days=policy.n("treatment_window_days"))


def window_days_left(record: PathwayRecord, as_of: date, policy: Policy) -> int | None:
    """Days left in the 14-day window (negative once missed); None once done or not planned."""
    closes = window_closes_on(record, policy)
    return (closes - as_of).days if closes else None
