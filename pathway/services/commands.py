"""Commands as services: each is one transaction that validates, writes the clinical record,
recomputes the pathway's plan and appends one audit row. A rejected command writes nothing.

    outcome = execute(session_factory, actor, {"command": "record_consent", ...}, recorded_at=utc_now())
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from pathway.domain import checks
from pathway.domain import commands as c
from pathway.domain.clock import london_date
from pathway.domain.policy import Policy, policy_in_force
from pathway.domain.problems import Problem, Problems
from pathway.domain.record import extent_of, route_of
from pathway.domain.roles import Actor, authorise, may_read
from pathway.domain.text import site_key
from pathway.domain.vocabulary import Decision, Sex
from pathway.errors import AccessDenied, CommandRejected, ConflictError, DatabaseBusy, NotFound
from pathway.logs import get_logger
from pathway.reminders.triggers import queue_flow_trigger
from pathway.services.sites import listed_site
from pathway.store import audit
from pathway.store.db import SessionFactory
from pathway.store.fingerprint import Written, closure_written, written_rows
from pathway.store.models import AuditEvent, GovernanceNotice, Pathway, Patient
from pathway.store.plan import snapshot, store_plan
from pathway.store.repository import (
    RecordRows,
    Stamp,
    load_many_rows,
    load_rows,
    record_from_rows,
    row_for,
    table_of,
)
from pathway.store.unit_of_work import writing
from pathway.views.queries import PathwayDetail, pathway_detail

IDENTIFIER_FIELDS = frozenset({"nhs_number", "date_of_birth", "name"})

log = get_logger(__name__)


@dataclass(frozen=True)
class Outcome:
    command: str
    audit_id: int
    pathway: str | None = None
    patient: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class Context:
    session: Session
    actor: Actor
    recorded_at: datetime
    policy: Policy
    expected_version: int | None
    # The problems of the command's shape (pydantic), when it is only partly valid: the handler checks
    # the clinical rules on what is valid and raises them all together (pathway.domain.problems).
    shape: tuple[Problem, ...] = ()

    def problems(self) -> Problems:
        """Where the handler gathers every broken rule before it writes anything."""
        return Problems(self.shape, partial=bool(self.shape))

    @property
    def today(self) -> Any:
        return london_date(self.recorded_at)

    def stamp(self, command: c.Command) -> Stamp:
        return Stamp(self.recorded_at, self.actor.name, command.by)

    def audit(
        self,
        command: c.Command,
        *,
        pathway: str | None = None,
        patient: str | None = None,
        site: str | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        written: Written | None = None,
    ) -> AuditEvent:
        return audit.append(
            self.session,
            at=self.recorded_at,
            actor=self.actor.name,
            role=self.actor.role.value,
            command=command.command,
            clinician=command.by,
            pathway_ref=pathway,
            patient_ref=patient,
            site=site,
            before=before,
            after=after,
            written=written,
        )


def execute(
    session_factory: SessionFactory,
    actor: Actor,
    payload: dict[str, Any] | c.Command,
    *,
    recorded_at: datetime,
    expected_version: int | None = None,
    policy: Policy | None = None,
) -> Outcome:
    """Run one command in one transaction; raises CommandRejected (naming every broken rule: the
    shape's and the clinical rules' together), AccessDenied or ConflictError."""
    policy = policy or policy_in_force()
    command, shape = (payload, ()) if isinstance(payload, c.Command) else c.read_command(payload, policy)
    try:
        authorise(actor, command.command)
    except AccessDenied:
        _audit_denial(session_factory, actor, command, recorded_at)
        raise
    handler = HANDLERS[command.command]
    try:
        with writing(session_factory) as session:
            refusal = _other_site(session, actor, command)
            if refusal is None:
                outcome = handler(Context(session, actor, recorded_at, policy, expected_version, shape), command)
        if refusal is None:
            # The reference, never the patient (identifiers stay out of logs): after the commit.
            log.info("command recorded", command=command.command, pathway=outcome.pathway, audit_id=outcome.audit_id)
            return outcome
    except AttributeError:
        if not shape:
            raise
        # A field the handler needs (a reference) was refused by the shape: those problems are the answer.
        log.info("command rejected", command=command.command, field=shape[0][0])
        raise CommandRejected.of(shape) from None
    except CommandRejected as rejected:
        log.info("command rejected", command=command.command, field=rejected.field)
        raise
    except StaleDataError:
        # Someone else's transaction committed first: a newer pathway version.
        raise ConflictError(_subject(command)) from None
    except IntegrityError as error:
        # A unique key (NHS number, reference) taken by a transaction that committed between our
        # check and our insert: the same rejection the check gives once that one is visible.
        raise _unique_rejection(error) or ConflictError(_subject(command)) from None
    except OperationalError as error:
        if "locked" in str(error).lower():
            raise DatabaseBusy(_subject(command)) from None
        raise
    # Another site's record looks exactly like an unknown one (nothing was written); the attempt is audited.
    _audit_denial(session_factory, actor, command, recorded_at)
    raise refusal


def open_record(
    session_factory: SessionFactory,
    actor: Actor,
    ref: str,
    *,
    as_of: date,
    recorded_at: datetime,
    reopened: bool = False,
) -> PathwayDetail:
    """Read one patient's pathway for a person, auditing the read (HIPAA 164.312(b)).

    A role that may not read, or an account limited to other sites, gets the same NotFound as an unknown
    reference, so a refusal does not reveal that the pathway exists; the refusal is audited all the same.
    `reopened`: the same person reading again the record a page has just opened (a rerun of that page):
    role and sites are checked again, the read itself is not audited again, a refusal is.
    """
    allowed = may_read(actor.role)
    if not (reopened and _may_see(session_factory, actor, ref, allowed)):
        audit_read(session_factory, actor, ref, command="read_pathway", allowed=allowed, at=recorded_at)
    with session_factory() as session:
        return pathway_detail(session, ref, as_of)


def _may_see(session_factory: SessionFactory, actor: Actor, ref: str, allowed: bool) -> bool:
    """Whether the pathway exists and is this actor's to read (no write: a rerun takes no write lock)."""
    with session_factory() as session:
        found = session.exec(select(Pathway.site).where(Pathway.ref == ref)).first()
    return allowed and found is not None and actor.sees_site(found)


def audit_read(
    session_factory: SessionFactory, actor: Actor, ref: str, *, command: str, allowed: bool, at: datetime
) -> None:
    """Audit one read of a pathway (outcome `read`, or `denied`) in its own transaction; then raise
    NotFound unless it was allowed and the pathway exists, so a refusal looks like an unknown reference.
    A pathway of a site the actor does not work at is refused the same way."""
    with writing(session_factory) as session:
        site = session.exec(select(Pathway.site).where(Pathway.ref == ref)).first()
        found = site is not None
        # Another site's pathway (per-site access, services.accounts) is refused like an unknown one.
        allowed = allowed and actor.sees_site(site)
        audit.append(
            session,
            at=at,
            actor=actor.name,
            role=actor.role.value,
            command=command,
            outcome="read" if allowed and found else "denied",
            pathway_ref=ref if found else None,
        )
    if not (allowed and found):
        raise NotFound("pathway", "no pathway has this reference")


def replan_under_policy(
    session_factory: SessionFactory, actor: Actor, *, recorded_at: datetime, policy: Policy | None = None
) -> int:
    """Recompute the plan of every open pathway last planned under another policy version.

    After an upgrade (version 2's rules) or a change of policy file, the stored steps and flag windows
    were computed by the old rules: `pathway init` calls this so the worklist reads the new ones. One
    transaction and one audit row; returns how many pathways were re-planned.
    """
    policy = policy or policy_in_force()
    with writing(session_factory) as session:
        stale = session.exec(
            select(Pathway).where(
                Pathway.closed_on.is_(None),  # type: ignore[union-attr]
                Pathway.policy_version != policy.version,
            )
        ).all()
        records = load_many_rows(session, stale)  # 13 statements per 500 pathways, not per pathway
        for pathway in stale:
            store_plan(session, pathway, record_from_rows(records[pathway.id or 0]), policy, recorded_at)
        if stale:
            session.flush()
            audit.append(
                session,
                at=recorded_at,
                actor=actor.name,
                role=actor.role.value,
                command="replan",
                after={"pathways": len(stale), "policy_version": policy.version},
            )
    return len(stale)


def _other_site(session: Session, actor: Actor, command: c.Command) -> NotFound | AccessDenied | None:
    """Per-site access: a pathway or patient of another site is refused as unknown, a site-level
    command (registration, governance) for another site as not allowed."""
    if actor.sites is None:
        return None
    if (ref := getattr(command, "pathway", None)) is not None:
        site = session.exec(select(Pathway.site).where(Pathway.ref == ref)).first()
        if not actor.sees_site(site):
            return NotFound("pathway", "no pathway has this reference")
    if (patient := getattr(command, "patient", None)) is not None:
        site = session.exec(select(Patient.site).where(Patient.ref == patient)).first()
        if not actor.sees_site(site):
            return NotFound("patient", "no patient has this reference")
    if (site := getattr(command, "site", None)) is not None and not actor.sees_site(site):
        return AccessDenied(f"site: {actor.name} does not work at {site}")
    return None


def _audit_denial(session_factory: SessionFactory, actor: Actor, command: c.Command, at: datetime) -> None:
    """A refused command leaves one audit row (outcome `denied`) and nothing else."""
    with writing(session_factory) as session:
        audit.append(
            session,
            at=at,
            actor=actor.name,
            role=actor.role.value,
            command=command.command,
            outcome="denied",
            clinician=command.by,
            pathway_ref=getattr(command, "pathway", None),
            site=getattr(command, "site", None),
        )


# Each unique key a command may take, by constraint name, with the rejection that names it.
UNIQUE_REJECTIONS: dict[str, tuple[str, str]] = {
    "uq_patient_nhs_number": ("nhs_number", "already registered to another patient"),
    "uq_patient_ref": ("patient", "this patient reference is already registered"),
    "uq_pathway_ref": ("pathway", "a pathway with this reference already exists"),
}
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (\w+)\.(\w+)")


def _unique_rejection(error: IntegrityError) -> CommandRejected | None:
    """The rejection for a unique key someone else took first, or None for any other integrity error.

    PostgreSQL (psycopg) names the constraint; SQLite names the table and column. The database's own
    message (which holds the key's value, an NHS number perhaps) is never passed on."""
    name = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if name is None and (found := _SQLITE_UNIQUE.search(str(error.orig))):
        name = f"uq_{found[1]}_{found[2]}"
    rejection = UNIQUE_REJECTIONS.get(name or "")
    return CommandRejected(*rejection) if rejection else None


def _subject(command: c.Command) -> str:
    for field in ("pathway", "patient", "site"):
        value = getattr(command, field, None)
        if isinstance(value, str):
            return f"{field} {value}"
    return command.command


# --- handlers -------------------------------------------------------------------------------------


def _register_patient(ctx: Context, command: c.Command) -> Outcome:
    assert isinstance(command, c.RegisterPatient)
    session = ctx.session
    problems = ctx.problems()
    with problems.rule():
        checks.check_birth_date(command.date_of_birth, ctx.today, ctx.policy)
    with problems.rule():
        if session.exec(select(Patient.id).where(Patient.ref == command.patient)).first() is not None:
            problems.add(*UNIQUE_REJECTIONS["uq_patient_ref"])
    with problems.rule():
        if session.exec(select(Patient.id).where(Patient.nhs_number == command.nhs_number)).first() is not None:
            problems.add(*UNIQUE_REJECTIONS["uq_patient_nhs_number"])
    site = ""
    with problems.rule():
        site = listed_site(session, command.site)  # on the managed list, in its spelling
    problems.raise_any()
    patient = Patient(
        ref=command.patient,
        nhs_number=command.nhs_number,
        name=command.name,
        date_of_birth=command.date_of_birth,
        sex=command.sex.value,
        site=site,
        site_key=site_key(site),
        **ctx.stamp(command).columns(),
    )
    session.add(patient)
    session.flush()
    assert patient.id is not None
    fields = command.model_dump(mode="json", exclude={"command", "by"}) | _site_as_typed(command.site, site)
    after = {k: ("[identifier recorded]" if k in IDENTIFIER_FIELDS and v is not None else v) for k, v in fields.items()}
    written = written_rows(session, table_of(Patient), [patient.id])
    audit = ctx.audit(command, patient=command.patient, site=site, after=after, written=written)
    assert audit.id is not None
    return Outcome(command.command, audit.id, patient=command.patient)


def _find_patient(session: Session, ref: str) -> Patient:
    patient = session.exec(select(Patient).where(Patient.ref == ref)).first()
    if patient is None:
        raise NotFound("patient", "no patient has this reference")
    return patient


def _find_pathway(ctx: Context, ref: str) -> Pathway:
    pathway = ctx.session.exec(select(Pathway).where(Pathway.ref == ref)).first()
    if pathway is None:
        raise NotFound("pathway", "no pathway has this reference")
    if ctx.expected_version is not None and pathway.version != ctx.expected_version:
        raise ConflictError(f"pathway {ref}")
    return pathway


def _record_diagnosis(ctx: Context, command: c.Command) -> Outcome:
    assert isinstance(command, c.RecordDiagnosis)
    session = ctx.session
    patient = _find_patient(session, command.patient)
    problems = ctx.problems()
    with problems.rule():
        born = patient.date_of_birth
        checks.check_presentation_age(born, command.presented_on, command.symptom_onset_on, ctx.policy)
    with problems.rule():
        checks.check_diagnosis(command, Sex(patient.sex), ctx.today, partial=problems.partial)
    with problems.rule():
        if session.exec(select(Pathway.id).where(Pathway.ref == command.pathway)).first() is not None:
            problems.add(*UNIQUE_REJECTIONS["uq_pathway_ref"])
    problems.raise_any()
    assert patient.id is not None
    pathway = Pathway(**new_pathway(command, patient.id, patient.site, ctx.stamp(command), ctx.policy))
    session.add(pathway)
    session.flush()
    assert pathway.id is not None
    rows = load_rows(session, pathway)
    written = written_rows(session, table_of(Pathway), [pathway.id])
    return _finish(ctx, command, pathway, rows, before=None, patient=patient.ref, written=written)


def new_pathway(command: c.RecordDiagnosis, patient_id: int, site: str, stamp: Stamp, policy: Policy) -> dict[str, Any]:
    """The column values of the pathway row a diagnosis opens (the plan fills the summary)."""
    extent = extent_of(tuple(command.veins))
    selection = command.model_dump(
        include={
            "provoked_status",
            "active_cancer",
            "prior_dvt",
            "functional_status",
            "life_expectancy_ge_1y",
            "bleeding_risk",
            "baseline_villalta",
            "baseline_vcss",
            "pregnant",
        }
    )
    return dict(
        ref=command.pathway,
        patient_id=patient_id,
        site=site,
        site_key=site_key(site),
        presented_on=command.presented_on,
        symptom_onset_on=command.symptom_onset_on,
        referred_on=command.referred_on,
        leg=command.leg.value,
        veins=[v.value for v in command.veins],
        imaging=command.imaging.value,
        extent=extent.value,
        route=route_of(extent).value,
        stage="diagnosis",
        policy_version=policy.version,
        updated_at=stamp.recorded_at,
        **selection,
        **stamp.columns(),
    )


def _pathway_event(ctx: Context, command: c.Command) -> Outcome:
    """Every command that adds a fact to an existing pathway."""
    assert isinstance(command, c.PathwayCommand)
    pathway = _find_pathway(ctx, command.pathway)
    rows = load_rows(ctx.session, pathway)
    record = record_from_rows(rows)
    problems = ctx.problems()
    checks.pathway_command_problems(command, record, ctx.today, ctx.policy, problems)
    problems.raise_any()  # every broken rule at once, the shape's too; nothing written yet
    before = snapshot(pathway, record)
    assert pathway.id is not None
    if isinstance(command, c.ClosePathway):
        pathway.closed_on = command.closed_on
        pathway.close_reason = command.reason.value
        rows.pathway |= {"closed_on": command.closed_on, "close_reason": command.reason.value}
        return _finish(ctx, command, pathway, rows, before=before, closed=True)
    row = row_for(command, pathway.id, ctx.stamp(command), record.presented_on, ctx.policy)
    assert row is not None
    kind, values = row
    table = table_of(kind)
    new_id = ctx.session.execute(insert(table).values(values).returning(table.c.id)).scalar_one()
    rows.add(kind, values)
    return _finish(ctx, command, pathway, rows, before=before, written=written_rows(ctx.session, table, [new_id]))


def _finish(
    ctx: Context,
    command: c.Command,
    pathway: Pathway,
    rows: RecordRows,
    *,
    before: dict[str, Any] | None,
    patient: str | None = None,
    written: Written | None = None,
    closed: bool = False,
) -> Outcome:
    record = record_from_rows(rows)
    store_plan(ctx.session, pathway, record, ctx.policy, ctx.recorded_at, first=before is None)
    queue_flow_trigger(ctx.session, pathway.id, command.command, ctx.recorded_at)  # sent to Prefect later
    ctx.session.flush()  # the version check happens here: StaleDataError if someone else saved first
    if closed:
        assert pathway.id is not None
        written = closure_written(ctx.session, pathway.id)
    audit = ctx.audit(
        command,
        pathway=pathway.ref,
        patient=patient,
        site=pathway.site,
        before=before,
        after=snapshot(pathway, record),
        written=written,
    )
    assert audit.id is not None
    return Outcome(command.command, audit.id, pathway=pathway.ref, patient=patient, version=pathway.version)


def _notify_governance(ctx: Context, command: c.Command) -> Outcome:
    """A site-level notice (HTG516 1.2): re-plan the site's open PMT pathways it answers."""
    assert isinstance(command, c.NotifyGovernance)
    problems = ctx.problems()
    with problems.rule():
        if command.notified_on > ctx.today:
            problems.add("notified_on", f"must not be after today ({ctx.today}), the day it is recorded")
    session = ctx.session
    site = ""
    with problems.rule():
        site = listed_site(session, command.site)  # on the managed list, in its spelling
    problems.raise_any()
    notice = GovernanceNotice(
        site=site,
        site_key=site_key(site),
        notified_on=command.notified_on,
        lead=command.lead,
        notifying_clinician=command.clinician,
        **ctx.stamp(command).columns(),
    )
    session.add(notice)
    session.flush()
    assert notice.id is not None
    written = written_rows(session, table_of(GovernanceNotice), [notice.id])
    affected = session.exec(
        select(Pathway).where(
            Pathway.site_key == site_key(site),
            Pathway.closed_on.is_(None),  # type: ignore[union-attr]
            Pathway.decision == Decision.pmt.value,
        )
    ).all()
    for pathway in affected:
        rows = load_rows(session, pathway)
        store_plan(session, pathway, record_from_rows(rows), ctx.policy, ctx.recorded_at)
        queue_flow_trigger(session, pathway.id, command.command, ctx.recorded_at)
    session.flush()
    after = command.model_dump(mode="json", exclude={"command", "by"}) | _site_as_typed(command.site, site)
    audit = ctx.audit(command, site=site, after=after | {"pathways_replanned": len(affected)}, written=written)
    assert audit.id is not None
    return Outcome(command.command, audit.id)


def _site_as_typed(typed: str, stored: str) -> dict[str, str]:
    """For the audit row: the site as stored, and as typed when that spelling was another."""
    return {"site": stored} | ({"site_as_typed": typed} if typed != stored else {})


Handler = Callable[[Context, c.Command], Outcome]
SPECIAL_HANDLERS: dict[str, Handler] = {
    "register_patient": _register_patient,
    "record_diagnosis": _record_diagnosis,
    "notify_governance": _notify_governance,
}
HANDLERS: dict[str, Handler] = {name: SPECIAL_HANDLERS.get(name, _pathway_event) for name in c.COMMANDS}
