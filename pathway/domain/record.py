"""A pathway's clinical facts as plain immutable values: what the rules read.

Built from the database rows (pathway.store.repository) or in memory (pathway.services.bulk_load); the rules never
see ORM objects, so they stay pure and fast to test.
"""

from dataclasses import dataclass, field
from datetime import date

from pathway.domain.clock import add_months
from pathway.domain.vocabulary import (
    FEMOROPOPLITEAL_SEGMENTS,
    ILIOFEMORAL_SEGMENTS,
    PMT_TECHNIQUES,
    PROCEDURAL_DECISIONS,
    SEGMENT_ORDER,
    Decision,
    Extent,
    IvcFilter,
    ReviewDecision,
    Route,
    Segment,
    Sex,
    StopReason,
    Technique,
    Visit,
)


def extent_of(veins: frozenset[Segment] | set[Segment] | tuple[Segment, ...]) -> Extent:
    """Thrombus extent from the vein map (docs/rules.md, 'Extent and route')."""
    involved = set(veins)
    if involved & ILIOFEMORAL_SEGMENTS:
        return Extent.iliofemoral
    if involved & FEMOROPOPLITEAL_SEGMENTS:
        return Extent.femoropopliteal
    return Extent.calf


def route_of(extent: Extent) -> Route:
    """NICE HTG516 1.1: PMT for a DVT not reaching the common femoral vein is research-only."""
    return Route.special_arrangements if extent is Extent.iliofemoral else Route.research_only


def most_proximal(veins: tuple[Segment, ...]) -> Segment:
    return min(veins, key=SEGMENT_ORDER.index)


@dataclass(frozen=True)
class MdtFacts:
    held_on: date
    decision: Decision
    thrombolysis: bool
    outside_scope_plan: str | None = None  # the specialist protocol for a patient outside NG158's scope


@dataclass(frozen=True)
class AnticoagulationEvent:
    """A start or a stop, in the order recorded (a start while running is a switch of agent)."""

    kind: str  # "start" | "stop"
    on: date
    reason: StopReason | None = None  # stops only
    restart_planned_on: date | None = None  # a procedure_hold's approved restart (R15)


@dataclass(frozen=True)
class ProcedureFacts:
    performed_on: date
    technique: Technique
    ivc_filter: IvcFilter
    filter_removal_planned_on: date | None = None
    outside_criteria_rationale: str | None = None


@dataclass(frozen=True)
class SafetyCheckFacts:
    """A pre-procedure safety check: the numbers the rules read and the contraindications listed."""

    checked_on: date
    platelets: float
    inr: float
    contraindications: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReviewFacts:
    reviewed_on: date
    decision: ReviewDecision


@dataclass(frozen=True)
class PathwayRecord:
    presented_on: date
    symptom_onset_on: date
    referred_on: date
    veins: tuple[Segment, ...]
    mdts: tuple[MdtFacts, ...] = ()
    governance_notified_on: date | None = None  # earliest notice on file for the pathway's site
    enrolled_on: date | None = None
    consented_on: date | None = None  # earliest consent
    scheduled_on: date | None = None  # the latest scheduling recorded (a re-schedule replaces it)
    procedures: tuple[ProcedureFacts, ...] = ()
    registry_submitted_on: date | None = None
    follow_ups: dict[Visit, date] = field(default_factory=dict)
    anticoagulation: tuple[AnticoagulationEvent, ...] = ()
    reviews: tuple[ReviewFacts, ...] = ()  # in the order recorded
    filter_outcome_on: date | None = None
    closed_on: date | None = None
    # Version 2: who the patient is (NG158's scope), the NG158 CDT criteria recorded at diagnosis, and
    # the pre-procedure safety checks in the order recorded. Age, not the date of birth: the record is
    # copied into the audit trail, which holds no identifiers.
    age_at_presentation: int | None = None
    sex: Sex | None = None
    pregnant: bool = False
    functional_status: str | None = None
    life_expectancy_ge_1y: str | None = None
    bleeding_risk: str | None = None
    safety_checks: tuple[SafetyCheckFacts, ...] = ()

    # --- derived facts -------------------------------------------------------------------
    @property
    def extent(self) -> Extent:
        return extent_of(self.veins)

    @property
    def route(self) -> Route:
        return route_of(self.extent)

    @property
    def mdt(self) -> MdtFacts | None:
        """The MDT outcome in force: the most recent meeting."""
        return self.mdts[-1] if self.mdts else None

    @property
    def decision(self) -> Decision | None:
        return self.mdt.decision if self.mdt else None

    @property
    def procedural(self) -> bool:
        return self.decision in PROCEDURAL_DECISIONS

    @property
    def awaiting_treatment(self) -> bool:
        """No procedure done and none ruled out: the 14-day window still matters."""
        return not self.procedures and (self.decision is None or self.procedural)

    @property
    def thrombolysis_planned(self) -> bool:
        mdt = self.mdt
        if mdt is None:
            return False
        return mdt.decision is Decision.cdt or (mdt.decision is Decision.pmt and mdt.thrombolysis)

    @property
    def index_procedure(self) -> ProcedureFacts | None:
        return min(self.procedures, key=lambda p: p.performed_on) if self.procedures else None

    @property
    def performed_on(self) -> date | None:
        """X: the (first) procedure date."""
        first = self.index_procedure
        return first.performed_on if first else None

    @property
    def pmt_done(self) -> bool:
        return any(p.technique in PMT_TECHNIQUES for p in self.procedures)

    @property
    def pmt_performed_on(self) -> date | None:
        """The first PMT: the registry entry (HTG516 1.3) and the month 6/12 visits run from it."""
        days = [p.performed_on for p in self.procedures if p.technique in PMT_TECHNIQUES]
        return min(days) if days else None

    @property
    def temporary_filter_placed_on(self) -> date | None:
        placed = [p.performed_on for p in self.procedures if p.ivc_filter is IvcFilter.temporary]
        return max(placed) if placed else None

    @property
    def any_filter_placed(self) -> bool:
        return any(p.ivc_filter is not IvcFilter.none for p in self.procedures)

    @property
    def anticoagulation_started_on(self) -> date | None:
        """A: the first start of anticoagulation."""
        starts = [e.on for e in self.anticoagulation if e.kind == "start"]
        return min(starts) if starts else None

    @property
    def anticoagulation_running(self) -> bool:
        return bool(self.anticoagulation) and self.anticoagulation[-1].kind == "start"

    @property
    def anticoagulation_stopped_on(self) -> date | None:
        """The stop date when the latest event is a stop (no later restart)."""
        stop = self.standing_stop
        return stop.on if stop else None

    @property
    def standing_stop(self) -> AnticoagulationEvent | None:
        """The latest stop when no restart followed it."""
        if self.anticoagulation and self.anticoagulation[-1].kind == "stop":
            return self.anticoagulation[-1]
        return None

    def first_review_from(self, day: date) -> date | None:
        """The first anticoagulation review dated on or after `day` (any decision)."""
        dates = [r.reviewed_on for r in self.reviews if r.reviewed_on >= day]
        return min(dates) if dates else None

    def stop_decided_from(self, day: date) -> bool:
        """A review dated on or after `day` decided to stop anticoagulation."""
        return any(r.reviewed_on >= day and r.decision is ReviewDecision.stop for r in self.reviews)

    def latest_safety_check(self, day: date) -> SafetyCheckFacts | None:
        """The safety check with the greatest date not after `day`; on a tie, the one recorded last."""
        found = None
        for check in self.safety_checks:  # recorded order: a later one on the same date wins
            if check.checked_on <= day and (found is None or check.checked_on >= found.checked_on):
                found = check
        return found

    def safety_checked_between(self, first: date, last: date) -> bool:
        return any(first <= check.checked_on <= last for check in self.safety_checks)

    @property
    def outside_scope_plan(self) -> str | None:
        """The specialist protocol any MDT recorded for a patient outside NG158's scope."""
        plans = [m.outside_scope_plan for m in self.mdts if m.outside_scope_plan]
        return plans[-1] if plans else None

    def minimum_end(self, minimum_months: int) -> date | None:
        """A + 3 months, or X + 3 months if a procedure was done and that is later."""
        started = self.anticoagulation_started_on
        if started is None:
            return None
        end = add_months(started, minimum_months)
        performed = self.performed_on
        if performed is not None:
            end = max(end, add_months(performed, minimum_months))
        return end

    @property
    def is_closed(self) -> bool:
        return self.closed_on is not None
