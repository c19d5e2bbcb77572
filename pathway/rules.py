"""The pathway rules: pure functions of a PathwayRecord, the policy and (for flags) a date.

Each flag of interface.md is expressed as *windows*: a severity that stands from one date to
another while the record stays as it is. `flags_at` reads the windows at a date, and the same
windows are materialised in the database so the worklist is an indexed query. One definition
serves both, so the worklist and `pathway show` cannot disagree.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from pathway.policy import Policy
from pathway.record import PathwayRecord
from pathway.stages import STAGE_CLOSED, STAGE_COMPLETE, STAGES, STEPS
from pathway.vocabulary import SEVERITY_RANK, Decision, Role, Route, Severity, Visit

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
    step: str  # the step whose owner is told (pathway.stages)
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


def _thrombolysis_criteria(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    if not r.thrombolysis_planned or r.procedures:
        return []
    from_day = _d(r.symptom_onset_on, p.n("thrombolysis_symptom_days"))
    return [FlagWindow("THROMBOLYSIS_CRITERIA_NOT_MET", Severity.amber, from_day, END, from_day)]


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
    stopped = r.anticoagulation_stopped_on
    minimum_end = _minimum_end(r, p)
    if stopped is None or minimum_end is None or r.reviewed_on is not None or stopped >= minimum_end:
        return []
    return [FlagWindow("ANTICOAGULATION_STOPPED_EARLY", Severity.red, BEGINNING, END, stopped)]


def _review_due(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    minimum_end = _minimum_end(r, p)
    if minimum_end is None or r.reviewed_on is not None:
        return []
    start = _d(minimum_end, -p.n("anticoagulation_review_warn_days"))
    end = _d(minimum_end, p.n("anticoagulation_review_grace_days"))
    return [FlagWindow("ANTICOAGULATION_REVIEW_DUE", Severity.amber, start, end, minimum_end)]


def _review_overdue(r: PathwayRecord, p: Policy) -> list[FlagWindow]:
    minimum_end = _minimum_end(r, p)
    if minimum_end is None or r.reviewed_on is not None:
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
        "Thrombolysis planned but symptoms began 14 or more days ago",
        "procedure",
        _thrombolysis_criteria,
    ),
    FlagDef("REGISTRY_SUBMISSION_OVERDUE", "Registry entry overdue", "registry_submission", _registry_overdue),
    FlagDef(
        "ANTICOAGULATION_NOT_STARTED",
        "Anticoagulation not started",
        "anticoagulation_start",
        _anticoagulation_not_started,
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
            steps.append(
                PlannedStep(stage.code, step.code, step.title, step.owner, due, min(warn, due), step.done(record))
            )
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
