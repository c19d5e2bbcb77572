"""One stage of one pathway, evaluated through pathway.domain.rules, and the actions that stage asks for.

The patient-pathway flow runs one task per stage of pathway.domain.stages.STAGES; each calls `run_stage`.
Actions are notifications of kind `request`, claimed under the same unique key as the reminders,
so running the flow again (after every command, and from the nightly sweep) asks once:
- consent: once the MDT decides on a procedure, tell the consenting clinician and attach the leaflet;
- registry: once a PMT is done, ask the coordinator for the BSIR Venous Registry entry (HTG516 1.3);
- follow_up: once a procedure is done, ask the coordinator to book the follow-up visits.
A request that failed (its channel down through the retries) is tried again by the next flow run that
asks for it, and by the reminder sweep while its stage still asks for it (`requests_still_asked`);
once the stage no longer asks (the step is done), the sweep drops it.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from pathway.domain import rules
from pathway.domain.policy import Policy, policy_in_force
from pathway.domain.record import PathwayRecord
from pathway.domain.stages import STAGES, STEPS
from pathway.domain.vocabulary import Role
from pathway.errors import NotFound
from pathway.leaflets import get_leaflet
from pathway.reminders.channels import Channels
from pathway.reminders.claims import Pending, notify_once
from pathway.reminders.delivery import Clock, Key
from pathway.reminders.messages import CONSENT_REQUESTED, FOLLOW_UP_BOOKING_REQUESTED, REGISTRY_ENTRY_REQUESTED
from pathway.reminders.settings import ReminderSettings
from pathway.store.db import SessionFactory
from pathway.store.models import Pathway
from pathway.store.reminder_models import Notification
from pathway.store.repository import load_rows, record_from_rows

STAGE_BY_CODE = {stage.code: stage for stage in STAGES}
REQUEST_STAGE = {
    CONSENT_REQUESTED: "consent",
    REGISTRY_ENTRY_REQUESTED: "registry",
    FOLLOW_UP_BOOKING_REQUESTED: "follow_up",
}


@dataclass(frozen=True)
class StepState:
    step: str
    owner: str
    due_on: str
    done_on: str | None


@dataclass(frozen=True)
class StageReport:
    """What a stage task returns: plain values, pathway reference only (no patient identifiers)."""

    pathway: str
    stage: str
    steps: tuple[StepState, ...]
    flags: tuple[str, ...]  # "CODE:severity" standing at as_of
    requested: tuple[str, ...] = ()  # requests sent by this run (already-sent ones are not repeated)


def _load(session: Session, ref: str) -> tuple[int, PathwayRecord]:
    pathway = session.exec(select(Pathway).where(Pathway.ref == ref)).first()
    if pathway is None or pathway.id is None:
        raise NotFound("pathway", "no pathway has this reference")
    return pathway.id, record_from_rows(load_rows(session, pathway))


def _request(pathway_id: int, code: str, role: Role, due_on: date | None, leaflet: str | None = None) -> Pending:
    return Pending(pathway_id, code, "info", "request", role.value, due_on, leaflet)


def stage_requests(pathway_id: int, stage: str, record: PathwayRecord, steps: list[rules.PlannedStep]) -> list[Pending]:
    """The actions this stage asks for now (pure: a function of the record and its plan)."""
    if record.is_closed:
        return []
    open_steps = {s.code: s for s in steps if s.stage == stage and s.done_on is None}
    decision = record.decision
    if stage == "consent" and "consent" in open_steps and decision is not None and record.procedural:
        step = open_steps["consent"]
        return [_request(pathway_id, CONSENT_REQUESTED, step.owner, step.due_on, get_leaflet(decision.value).label)]
    if stage == "registry" and "registry_submission" in open_steps:
        step = open_steps["registry_submission"]
        return [_request(pathway_id, REGISTRY_ENTRY_REQUESTED, step.owner, step.due_on)]
    if stage == "follow_up" and record.procedures and open_steps:
        # Bookings are administration: the coordinator books, the clinician (step owner) sees the patient.
        first_due = min(s.due_on for s in open_steps.values())
        return [_request(pathway_id, FOLLOW_UP_BOOKING_REQUESTED, Role.coordinator, first_due)]
    return []


def requests_still_asked(session: Session, policy: Policy | None = None) -> frozenset[Key]:
    """Of the failed requests, the keys their stage still asks for (the sweep tries those again and
    drops the rest): each such pathway's record is read once."""
    found = session.exec(
        select(Notification.pathway_id, Notification.code).where(
            col(Notification.status) == "failed", col(Notification.kind) == "request"
        )
    ).all()
    codes: dict[int, set[str]] = {}
    for pathway_id, code in found:
        codes.setdefault(pathway_id, set()).add(code)
    if not codes:
        return frozenset()
    policy = policy or policy_in_force()
    asked: set[Key] = set()
    for pathway_id, wanted in sorted(codes.items()):
        pathway = session.get(Pathway, pathway_id)
        if pathway is None:
            continue
        record = record_from_rows(load_rows(session, pathway))
        steps = rules.plan(record, policy)
        for stage in sorted({REQUEST_STAGE[code] for code in wanted if code in REQUEST_STAGE}):
            asked |= {p.key for p in stage_requests(pathway_id, stage, record, steps) if p.code in wanted}
    return frozenset(asked)


@dataclass(frozen=True)
class PlannedPathway:
    """One pathway's record read and planned once (at `as_of`): what every stage of a flow run reads."""

    pathway_id: int
    ref: str
    as_of: date
    record: PathwayRecord
    steps: tuple[rules.PlannedStep, ...]
    flags: tuple[rules.Flag, ...]  # standing at as_of


def plan_pathway(session: Session, ref: str, as_of: date, policy: Policy | None = None) -> PlannedPathway:
    """Load the pathway's record and plan it once (NotFound for an unknown reference)."""
    policy = policy or policy_in_force()
    pathway_id, record = _load(session, ref)
    steps = tuple(rules.plan(record, policy))
    return PlannedPathway(pathway_id, ref, as_of, record, steps, tuple(rules.flags_at(record, as_of, policy)))


def load_plan(factory: SessionFactory, ref: str, as_of: date) -> PlannedPathway:
    with factory() as session:
        return plan_pathway(session, ref, as_of)


def stage_report(planned: PlannedPathway, stage: str) -> tuple[StageReport, list[Pending]]:
    """The stage's steps and standing flags at the plan's date, and the requests it makes (pure)."""
    if stage not in STAGE_BY_CODE:
        raise ValueError(f"unknown stage {stage!r}")
    stage_steps = {s.code for s in STAGE_BY_CODE[stage].steps}
    flags = tuple(
        f"{f.code}:{f.severity.value}" for f in planned.flags if STEPS[rules.FLAG_BY_CODE[f.code].step][0].code == stage
    )
    states = tuple(
        StepState(s.code, s.owner.value, s.due_on.isoformat(), s.done_on.isoformat() if s.done_on else None)
        for s in planned.steps
        if s.code in stage_steps
    )
    requests = stage_requests(planned.pathway_id, stage, planned.record, list(planned.steps))
    return StageReport(planned.ref, stage, states, flags), requests


def evaluate_stage(
    session: Session, ref: str, stage: str, as_of: date, policy: Policy | None = None
) -> tuple[StageReport, list[Pending]]:
    """The stage's steps and standing flags at `as_of`, and the requests it makes."""
    if stage not in STAGE_BY_CODE:
        raise ValueError(f"unknown stage {stage!r}")
    return stage_report(plan_pathway(session, ref, as_of, policy), stage)


def run_stage(
    factory: SessionFactory,
    pathway: str | PlannedPathway,
    stage: str,
    *,
    as_of: date,
    settings: ReminderSettings,
    clock: Clock,
    channels: Channels | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> StageReport:
    """Evaluate one stage and send the requests it makes, each once per pathway. Given a reference, the
    record is read for this stage alone; given a PlannedPathway (a flow run's), it is not read again."""
    planned = pathway if isinstance(pathway, PlannedPathway) else load_plan(factory, pathway, as_of)
    report, requests = stage_report(planned, stage)
    if not requests:
        return report
    delivered = notify_once(
        factory, requests, as_of=as_of, settings=settings, clock=clock, channels=channels, sleep=sleep, take_over=False
    )
    requested = tuple(sorted(key[1] for key in delivered.keys))
    return StageReport(report.pathway, report.stage, report.steps, report.flags, requested)
