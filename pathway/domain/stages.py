"""The pathway's stages and their steps, declared once.

Everything else reads this declaration: the materialised plan (pathway.domain.rules.plan), the
worklist's stage column, the patient-pathway flow's tasks, the dashboard timeline and the FHIR
Tasks. A step applies to a pathway when its predicate holds; its due and warning dates come from
the policy; it is done on the date of the record that answers it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from pathway.domain.clock import add_months
from pathway.domain.policy import Policy
from pathway.domain.record import PathwayRecord
from pathway.domain.vocabulary import Decision, Role, Route, Visit

DateRule = Callable[[PathwayRecord, Policy], date | None]


@dataclass(frozen=True)
class StepDef:
    code: str
    title: str
    owner: Role
    applies: Callable[[PathwayRecord], bool]
    due: DateRule
    warn: DateRule
    done: DateRule


@dataclass(frozen=True)
class StageDef:
    code: str
    title: str
    source: str
    steps: tuple[StepDef, ...]


def _days(base: date | None, n: int) -> date | None:
    return base + timedelta(days=n) if base is not None else None


def _window_end(r: PathwayRecord, p: Policy) -> date:
    return r.presented_on + timedelta(days=p.n("treatment_window_days"))


def _pre_procedure_due(r: PathwayRecord, p: Policy) -> date:
    """Steps that must precede the procedure fall due on the scheduled date, else at day 14."""
    return r.scheduled_on or _window_end(r, p)


def _mdt_on(r: PathwayRecord, _p: Policy) -> date | None:
    return r.mdt.held_on if r.mdt else None


def _pmt_route(route: Route) -> Callable[[PathwayRecord], bool]:
    return lambda r: r.decision is Decision.pmt and r.route is route


def _visit(visit: Visit, start: DateRule, end: DateRule, applies: Callable[[PathwayRecord], bool]) -> StepDef:
    return StepDef(
        code=f"follow_up_{visit.value}",
        title=f"Follow-up visit ({visit.value})",
        owner=Role.clinician,
        applies=applies,
        due=end,
        warn=start,
        done=lambda r, _p: r.follow_ups.get(visit),
    )


def _months_after_pmt(months: str, shift_days: int, policy_days: str) -> DateRule:
    def rule(r: PathwayRecord, p: Policy) -> date | None:
        x = r.pmt_performed_on
        if x is None:
            return None
        return add_months(x, p.n(months)) + timedelta(days=shift_days * p.n(policy_days))

    return rule


def _minimum_end(r: PathwayRecord, p: Policy) -> date | None:
    return r.minimum_end(p.n("anticoagulation_minimum_months"))


def three_month_review_from(r: PathwayRecord, p: Policy) -> date | None:
    """The first day a review counts as the 3-month review: minimum_end - 7 (version 2: an earlier
    review, at day 10 say, is not the 3-month review and does not answer it)."""
    return _days(_minimum_end(r, p), -p.n("anticoagulation_review_warn_days"))


def _three_month_review(r: PathwayRecord, p: Policy) -> date | None:
    counts_from = three_month_review_from(r, p)
    return r.first_review_from(counts_from) if counts_from else None


STAGES: tuple[StageDef, ...] = (
    StageDef(
        code="diagnosis",
        title="Diagnosis and anticoagulation",
        source="NICE NG158 (start anticoagulation at diagnosis)",
        steps=(
            StepDef(
                code="anticoagulation_start",
                title="Start anticoagulation",
                owner=Role.clinician,
                applies=lambda r: True,
                due=lambda r, p: _days(r.presented_on, p.n("anticoagulation_start_days")),
                warn=lambda r, p: r.presented_on,
                done=lambda r, _p: r.anticoagulation_started_on,
            ),
        ),
    ),
    StageDef(
        code="mdt",
        title="MDT assessment",
        source="NICE HTG516 3.8 (vascular surgeon, interventional radiologist, haematologist)",
        steps=(
            StepDef(
                code="mdt",
                title="MDT assessment",
                owner=Role.coordinator,
                applies=lambda r: True,
                due=lambda r, p: _days(r.referred_on, p.n("mdt_due_days")),
                warn=lambda r, p: r.referred_on,
                done=lambda r, _p: r.mdt.held_on if r.mdt else None,
            ),
        ),
    ),
    StageDef(
        code="governance",
        title="Governance and research",
        source="NICE HTG516 1.1-1.2 (special arrangements; research only)",
        steps=(
            StepDef(
                code="governance_notice",
                title="Clinical governance lead informed",
                owner=Role.coordinator,
                applies=_pmt_route(Route.special_arrangements),
                due=_pre_procedure_due,
                warn=_mdt_on,
                done=lambda r, _p: r.governance_notified_on,
            ),
            StepDef(
                code="research_enrolment",
                title="Research enrolment",
                owner=Role.clinician,
                applies=_pmt_route(Route.research_only),
                due=_pre_procedure_due,
                warn=_mdt_on,
                done=lambda r, _p: r.enrolled_on,
            ),
        ),
    ),
    StageDef(
        code="consent",
        title="Information and consent",
        source="NICE HTG516 1.2 (written information, uncertainties discussed)",
        steps=(
            StepDef(
                code="consent",
                title="Consent with written information",
                owner=Role.clinician,
                applies=lambda r: r.procedural,
                due=_pre_procedure_due,
                warn=_mdt_on,
                done=lambda r, _p: r.consented_on,
            ),
        ),
    ),
    StageDef(
        code="procedure",
        title="Procedure",
        source="NICE HTG516 3.9 (within 14 days of presentation)",
        steps=(
            StepDef(
                code="procedure",
                title="Procedure",
                owner=Role.clinician,
                applies=lambda r: r.procedural or bool(r.procedures),
                due=_window_end,
                warn=lambda r, p: _window_end(r, p) - timedelta(days=p.n("treatment_window_warn_days")),
                done=lambda r, _p: r.performed_on,
            ),
        ),
    ),
    StageDef(
        code="registry",
        title="Registry entry",
        source="NICE HTG516 1.3 (BSIR Venous Registry, every patient)",
        steps=(
            StepDef(
                code="registry_submission",
                title="Registry submission",
                owner=Role.coordinator,
                applies=lambda r: r.pmt_done,
                due=lambda r, p: _days(r.pmt_performed_on, p.n("registry_due_days")),
                warn=lambda r, p: r.pmt_performed_on,
                done=lambda r, _p: r.registry_submitted_on,
            ),
        ),
    ),
    StageDef(
        code="follow_up",
        title="Follow-up",
        source="pathway-spec (c) follow-up schedule",
        steps=(
            _visit(
                Visit.early,
                lambda r, p: _days(r.performed_on, p.n("early_visit_start_days")),
                lambda r, p: _days(r.performed_on, p.n("early_visit_end_days")),
                lambda r: bool(r.procedures),
            ),
            _visit(
                Visit.week6,
                lambda r, p: _days(r.performed_on, p.n("week6_visit_start_days")),
                lambda r, p: _days(r.performed_on, p.n("week6_visit_end_days")),
                lambda r: bool(r.procedures),
            ),
            _visit(
                Visit.month6,
                _months_after_pmt("month6_visit_months", -1, "month6_visit_window_days"),
                _months_after_pmt("month6_visit_months", 1, "month6_visit_window_days"),
                lambda r: r.pmt_done,
            ),
            _visit(
                Visit.month12,
                _months_after_pmt("month12_visit_months", -1, "month12_visit_window_days"),
                _months_after_pmt("month12_visit_months", 1, "month12_visit_window_days"),
                lambda r: r.pmt_done,
            ),
        ),
    ),
    StageDef(
        code="filter",
        title="IVC filter retrieval",
        source="FDA 2014 (removal favoured 29-54 days after insertion); NICE NG158",
        steps=(
            StepDef(
                code="filter_retrieval",
                title="IVC filter retrieval decision",
                owner=Role.clinician,
                applies=lambda r: r.temporary_filter_placed_on is not None,
                due=lambda r, p: _days(r.temporary_filter_placed_on, p.n("filter_retrieval_end_days")),
                warn=lambda r, p: _days(r.temporary_filter_placed_on, p.n("filter_retrieval_start_days")),
                done=lambda r, _p: r.filter_outcome_on,
            ),
        ),
    ),
    StageDef(
        code="anticoagulation_review",
        title="Anticoagulation review",
        source="NICE HTG516 2.6 and NG158 (at least 3 months, then review)",
        steps=(
            StepDef(
                code="anticoagulation_review",
                title="Anticoagulation review",
                owner=Role.clinician,
                applies=lambda r: r.anticoagulation_started_on is not None,
                due=_minimum_end,
                warn=lambda r, p: _days(_minimum_end(r, p), -p.n("anticoagulation_review_warn_days")),
                done=_three_month_review,
            ),
        ),
    ),
)

STAGE_CODES: tuple[str, ...] = tuple(s.code for s in STAGES)
STEPS: dict[str, tuple[StageDef, StepDef]] = {step.code: (stage, step) for stage in STAGES for step in stage.steps}
# Stage values beyond the declared stages: every applicable step done, or the pathway closed.
STAGE_COMPLETE = "complete"
STAGE_CLOSED = "closed"
