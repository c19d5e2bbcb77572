"""Read side: the worklist and one pathway's full record. Never writes.

The worklist is one SQL query over the materialised flag windows (pathway.plan), so its cost
follows the rows shown, not the number of patients, and needs no Prefect run to be right.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, literal
from sqlmodel import Session, col, select

from pathway import rules
from pathway.errors import NotFound
from pathway.models import AuditEvent, FlagWindowRow, Pathway, Patient, Step
from pathway.policy import Policy, policy_in_force
from pathway.repository import load_rows, record_from_rows
from pathway.vocabulary import Severity


@dataclass(frozen=True)
class WorklistRow:
    pathway: str
    patient: str
    site: str
    decision: str | None
    route: str
    extent: str
    stage: str
    presented_on: date
    window_days_left: int | None
    next_step: str | None
    next_due_on: date | None
    owner_role: str | None
    version: int
    flags: list[rules.Flag] = field(default_factory=list)

    @property
    def severity(self) -> str | None:
        return self.flags[0].severity.value if self.flags else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "pathway": self.pathway,
            "patient": self.patient,
            "site": self.site,
            "decision": self.decision,
            "route": self.route,
            "extent": self.extent,
            "stage": self.stage,
            "presented_on": self.presented_on.isoformat(),
            "window_days_left": self.window_days_left,
            "next_step": self.next_step,
            "next_due_on": self.next_due_on.isoformat() if self.next_due_on else None,
            "owner_role": self.owner_role,
            "severity": self.severity,
            "flags": [f.as_dict() for f in self.flags],
        }


def _standing(as_of: date) -> Any:
    return and_(col(FlagWindowRow.starts_on) <= as_of, col(FlagWindowRow.ends_on) >= as_of)


def worklist(
    session: Session,
    as_of: date,
    *,
    site: str | None = None,
    flag: str | None = None,
    stage: str | None = None,
    route: str | None = None,
    flagged_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[WorklistRow]:
    """Open pathways, most urgent first: red, then amber, then none; then earliest due."""
    standing = (
        select(
            FlagWindowRow.pathway_id.label("pathway_id"),  # type: ignore[attr-defined]
            func.max(FlagWindowRow.severity_rank).label("rank"),
            func.min(FlagWindowRow.due_on).label("due"),
        )
        .where(_standing(as_of))
        .group_by(col(FlagWindowRow.pathway_id))
        .subquery()
    )
    rank = func.coalesce(standing.c.rank, literal(0))
    query = (
        select(Pathway, Patient.ref, standing.c.rank)
        .join(Patient, col(Patient.id) == col(Pathway.patient_id))
        .outerjoin(standing, standing.c.pathway_id == col(Pathway.id))
        .where(col(Pathway.closed_on).is_(None))
    )
    if site:
        query = query.where(Pathway.site == site)
    if stage:
        query = query.where(Pathway.stage == stage)
    if route:
        query = query.where(Pathway.route == route)
    if flagged_only or flag:
        query = query.where(standing.c.rank.is_not(None))
    if flag:
        # Uncorrelated IN, not a correlated EXISTS: SQLite re-scanned the flag's windows for every
        # pathway (0.7 s at 2,000 patients, quadratic in the cohort).
        has_flag = select(FlagWindowRow.pathway_id).where(FlagWindowRow.code == flag, _standing(as_of))
        query = query.where(col(Pathway.id).in_(has_flag))
    # Unflagged pathways sort by their next step's due date; flagged ones by their most pressing flag.
    due = case((standing.c.due.is_not(None), standing.c.due), else_=Pathway.next_due_on)
    query = query.order_by(rank.desc(), due.asc().nulls_last(), col(Pathway.ref)).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    found = session.exec(query).all()
    return _with_flags(session, found, as_of)


def count_open(session: Session, as_of: date, *, site: str | None = None) -> dict[str, int]:
    """Open pathways by worst standing severity at `as_of` (red, amber, none)."""
    worst = (
        select(FlagWindowRow.pathway_id, func.max(FlagWindowRow.severity_rank).label("rank"))
        .where(_standing(as_of))
        .group_by(col(FlagWindowRow.pathway_id))
        .subquery()
    )
    query = (
        select(func.coalesce(worst.c.rank, 0), func.count())
        .select_from(Pathway)
        .outerjoin(worst, worst.c.pathway_id == col(Pathway.id))
        .where(col(Pathway.closed_on).is_(None))
        .group_by(func.coalesce(worst.c.rank, 0))
    )
    if site:
        query = query.where(Pathway.site == site)
    names = {2: Severity.red.value, 1: Severity.amber.value, 0: "none"}
    counts = dict.fromkeys(names.values(), 0)
    for rank, number in session.exec(query).all():
        counts[names[int(rank)]] = int(number)
    return counts


def _with_flags(session: Session, found: Any, as_of: date) -> list[WorklistRow]:
    ids = [pathway.id for pathway, _patient, _rank in found]
    windows: dict[int, list[rules.FlagWindow]] = {i: [] for i in ids if i is not None}
    owners: dict[tuple[int, str], str] = {}
    if ids:
        for w in session.exec(
            select(FlagWindowRow).where(col(FlagWindowRow.pathway_id).in_(ids), _standing(as_of))
        ).all():
            windows[w.pathway_id].append(
                rules.FlagWindow(w.code, Severity(w.severity), w.starts_on, w.ends_on, w.due_on)
            )
        for step in session.exec(select(Step).where(col(Step.pathway_id).in_(ids), col(Step.done_on).is_(None))).all():
            owners[(step.pathway_id, step.code)] = step.owner_role
    rows = []
    for pathway, patient_ref, _rank in found:
        assert pathway.id is not None
        rows.append(
            WorklistRow(
                pathway=pathway.ref,
                patient=patient_ref,
                site=pathway.site,
                decision=pathway.decision,
                route=pathway.route,
                extent=pathway.extent,
                stage=pathway.stage,
                presented_on=pathway.presented_on,
                window_days_left=_window_days_left(pathway, as_of),
                next_step=pathway.next_step,
                next_due_on=pathway.next_due_on,
                owner_role=owners.get((pathway.id, pathway.next_step or "")),
                version=pathway.version,
                flags=rules.merge_standing(windows[pathway.id], as_of),
            )
        )
    return rows


def _window_days_left(pathway: Pathway, as_of: date) -> int | None:
    return (pathway.window_closes_on - as_of).days if pathway.window_closes_on else None


@dataclass(frozen=True)
class PathwayDetail:
    pathway: Pathway
    patient: Patient
    record: Any
    steps: list[Step]
    flags: list[rules.Flag]
    window_days_left: int | None
    audit: list[AuditEvent]
    rows: Any

    def as_dict(self, *, identifiers: bool = True) -> dict[str, Any]:
        p, patient = self.pathway, self.patient
        person: dict[str, Any] = {"patient": patient.ref, "sex": patient.sex, "site": patient.site}
        if identifiers:
            person |= {
                "nhs_number": patient.nhs_number,
                "name": patient.name,
                "date_of_birth": patient.date_of_birth.isoformat(),
            }
        facts = {
            name: [
                _plain({k: v for k, v in row.items() if k not in ("id", "pathway_id")})
                for row in getattr(self.rows, name)
            ]
            for name in (
                "mdts",
                "anticoagulation",
                "enrolments",
                "consents",
                "schedules",
                "procedures",
                "registry",
                "follow_ups",
                "reviews",
                "filter_outcomes",
            )
        }
        return {
            "pathway": p.ref,
            **person,
            "status": "closed" if p.closed_on else "open",
            "closed_on": _plain(p.closed_on),
            "close_reason": p.close_reason,
            "presented_on": p.presented_on.isoformat(),
            "symptom_onset_on": p.symptom_onset_on.isoformat(),
            "referred_on": p.referred_on.isoformat(),
            "leg": p.leg,
            "veins": p.veins,
            "imaging": p.imaging,
            "extent": p.extent,
            "route": p.route,
            "decision": p.decision,
            "stage": p.stage,
            "window_days_left": self.window_days_left,
            "policy_version": p.policy_version,
            "version": p.version,
            "governance_notified_on": _plain(self.rows.governance_notified_on),
            "record": facts,
            "steps": [
                {
                    "stage": s.stage,
                    "step": s.code,
                    "owner_role": s.owner_role,
                    "warn_on": s.warn_on.isoformat(),
                    "due_on": s.due_on.isoformat(),
                    "done_on": _plain(s.done_on),
                }
                for s in self.steps
            ],
            "flags": [f.as_dict() for f in self.flags],
            "audit": [
                {
                    "at": a.at.isoformat(),
                    "actor": a.actor,
                    "role": a.role,
                    "command": a.command,
                    "clinician": a.clinician,
                }
                for a in self.audit
            ],
        }


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def pathway_detail(session: Session, ref: str, as_of: date, *, policy: Policy | None = None) -> PathwayDetail:
    policy = policy or policy_in_force()
    pathway = session.exec(select(Pathway).where(Pathway.ref == ref)).first()
    if pathway is None:
        raise NotFound("pathway", "no pathway has this reference")
    patient = session.get(Patient, pathway.patient_id)
    assert patient is not None
    rows = load_rows(session, pathway)
    record = record_from_rows(rows)
    steps = list(session.exec(select(Step).where(Step.pathway_id == pathway.id).order_by(col(Step.id))).all())
    audit = list(
        session.exec(select(AuditEvent).where(AuditEvent.pathway_ref == ref).order_by(col(AuditEvent.id))).all()
    )
    return PathwayDetail(
        pathway=pathway,
        patient=patient,
        record=record,
        steps=steps,
        flags=rules.flags_at(record, as_of, policy),
        window_days_left=rules.window_days_left(record, as_of, policy),
        audit=audit,
        rows=rows,
    )
