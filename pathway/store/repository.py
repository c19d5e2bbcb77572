"""Between rows and records: the rows a command writes, and the PathwayRecord read back from them.

The same functions serve the services (one command at a time) and the bulk loader of demo-data,
so a synthetic cohort is stored exactly as recorded commands would be.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Integer, Table, any_, bindparam, func, text
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, SQLModel, col, select

from pathway.domain import commands as c
from pathway.domain.clock import age_on
from pathway.domain.policy import Policy
from pathway.domain.pts import category_on
from pathway.domain.record import (
    AnticoagulationEvent,
    MdtFacts,
    PathwayRecord,
    ProcedureFacts,
    ReviewFacts,
    SafetyCheckFacts,
)
from pathway.domain.text import site_key
from pathway.domain.vocabulary import Decision, IvcFilter, ReviewDecision, Segment, Sex, StopReason, Technique, Visit
from pathway.store.models import (
    AnticoagulationEventRow,
    AnticoagulationReview,
    Consent,
    FilterOutcomeRow,
    FollowUpVisit,
    GovernanceNotice,
    MdtMeeting,
    Pathway,
    Patient,
    Procedure,
    ProcedureSchedule,
    RegistrySubmission,
    ResearchEnrolment,
    SafetyCheck,
    Site,
)


@dataclass(frozen=True)
class Stamp:
    """Who recorded a row and when: the common columns of every clinical row."""

    recorded_at: datetime
    recorded_by: str
    clinician: str | None

    def columns(self) -> dict[str, Any]:
        return {"recorded_at": self.recorded_at, "recorded_by": self.recorded_by, "clinician": self.clinician}


Row = dict[str, Any]


@dataclass
class RecordRows:
    """A pathway's rows as plain mappings (column name to value), by kind of record."""

    pathway: Row
    governance_notified_on: date | None = None
    patient: Row = field(default_factory=dict)  # date_of_birth and sex: what NG158's scope needs
    mdts: list[Row] = field(default_factory=list)
    enrolments: list[Row] = field(default_factory=list)
    consents: list[Row] = field(default_factory=list)
    schedules: list[Row] = field(default_factory=list)
    procedures: list[Row] = field(default_factory=list)
    registry: list[Row] = field(default_factory=list)
    follow_ups: list[Row] = field(default_factory=list)
    anticoagulation: list[Row] = field(default_factory=list)
    reviews: list[Row] = field(default_factory=list)
    filter_outcomes: list[Row] = field(default_factory=list)
    safety_checks: list[Row] = field(default_factory=list)

    def add(self, kind: type[SQLModel], row: Row) -> None:
        """File a new row under its kind."""
        getattr(self, KIND_NAMES[kind]).append(row)


RECORD_KINDS: dict[str, type[SQLModel]] = {
    "mdts": MdtMeeting,
    "enrolments": ResearchEnrolment,
    "consents": Consent,
    "schedules": ProcedureSchedule,
    "procedures": Procedure,
    "registry": RegistrySubmission,
    "follow_ups": FollowUpVisit,
    "anticoagulation": AnticoagulationEventRow,
    "reviews": AnticoagulationReview,
    "filter_outcomes": FilterOutcomeRow,
    "safety_checks": SafetyCheck,
}
KIND_NAMES: dict[type[SQLModel], str] = {kind: name for name, kind in RECORD_KINDS.items()}


def table_of(kind: type[SQLModel]) -> Table:
    table: Table = kind.__table__  # type: ignore[attr-defined]
    return table


def governance_notified_on(session: Session, site: str) -> date | None:
    """The site's first governance notice, whatever the spelling either was recorded with."""
    earliest: date | None = session.exec(
        select(func.min(GovernanceNotice.notified_on)).where(GovernanceNotice.site_key == site_key(site))
    ).one()
    return earliest


SITE_TABLES = (Patient, GovernanceNotice)


def sites_as_registered(session: Session) -> dict[str, str]:
    """Every site recorded or listed, by key: its spelling on the list, else as first recorded."""
    seen: list[tuple[datetime, str, str]] = []
    for kind in SITE_TABLES:
        table = table_of(kind)
        seen += [
            (at, key, site)
            for key, site, at in session.execute(
                select(table.c.site_key, table.c.site, func.min(table.c.recorded_at)).group_by(
                    table.c.site_key, table.c.site
                )
            ).all()
        ]
    first: dict[str, str] = {}
    for _at, key, site in sorted(seen):
        first.setdefault(key, site)
    # The managed list's spelling wins (pathway.services.sites), for sites recorded and listed alike.
    first.update(session.execute(select(Site.site_key, Site.name)).tuples().all())
    return first


# The distinct site keys of pathway, one index probe per key (ix_pathway_site_key): a skip scan, which
# neither SQLite nor PostgreSQL does by itself for DISTINCT (it reads every row).
_SITE_KEYS = text(
    """
    WITH RECURSIVE keys(site_key) AS (
        SELECT min(site_key) FROM pathway
        UNION ALL
        SELECT (SELECT min(p.site_key) FROM pathway p WHERE p.site_key > keys.site_key)
        FROM keys WHERE keys.site_key IS NOT NULL
    )
    SELECT site_key FROM keys WHERE site_key IS NOT NULL
    """
)


def pathway_site_keys(session: Session) -> list[str]:
    """Every site key some pathway holds, in key order, without reading every pathway."""
    return [str(key) for key in session.execute(_SITE_KEYS).scalars()]


def load_rows(session: Session, pathway: Pathway) -> RecordRows:
    """One pathway's rows (13 statements: patient, governance, one per kind of record)."""
    return load_many_rows(session, [pathway])[pathway.id or 0]


# Pathways read per batch: a constant number of statements per batch, whatever each pathway holds, and
# few enough ids for every database's parameter limit.
BATCH = 500


def id_in(session: Session, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids` for a batch of ids. On PostgreSQL one array parameter (`= ANY(:ids)`): an IN list
    of 500 parameters costs SQLAlchemy and psycopg more to render than the rows cost to read (a fifth of
    the registry export at 100,000 pathways, issue 15)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))  # type: ignore[no-any-return]
    return column.in_(ids)  # type: ignore[no-any-return]


def load_many_rows(session: Session, pathways: Sequence[Pathway]) -> dict[int, RecordRows]:
    """The rows of many pathways by pathway id, in 13 statements per batch of BATCH pathways (never a
    statement per pathway): exports and reports read hundreds of cases this way."""
    found: dict[int, RecordRows] = {}
    for start in range(0, len(pathways), BATCH):
        found |= _load_batch(session, pathways[start : start + BATCH])
    return found


@cache
def _pathway_columns() -> tuple[str, ...]:
    return tuple(column.key for column in table_of(Pathway).columns)


def _load_batch(session: Session, pathways: Sequence[Pathway]) -> dict[int, RecordRows]:
    if not pathways:
        return {}
    patient = table_of(Patient)
    patient_ids = sorted({p.patient_id for p in pathways})
    people = {
        row.id: {"date_of_birth": row.date_of_birth, "sex": row.sex}
        for row in session.execute(
            sa_select(patient.c.id, patient.c.date_of_birth, patient.c.sex).where(
                id_in(session, patient.c.id, patient_ids)
            )
        )
    }
    keys = sorted({site_key(p.site) for p in pathways})
    earliest = (
        sa_select(col(GovernanceNotice.site_key), func.min(GovernanceNotice.notified_on))
        .where(col(GovernanceNotice.site_key).in_(keys))
        .group_by(col(GovernanceNotice.site_key))
    )
    notices: dict[str, date] = dict(session.execute(earliest).tuples().all())
    found = {
        p.id or 0: RecordRows(
            pathway={name: getattr(p, name) for name in _pathway_columns()},  # model_dump, cheaper
            governance_notified_on=notices.get(site_key(p.site)),
            patient=people[p.patient_id],
        )
        for p in pathways
    }
    ids = list(found)
    for name, kind in RECORD_KINDS.items():
        table = table_of(kind)
        query = table.select().where(id_in(session, table.c.pathway_id, ids)).order_by(table.c.pathway_id, table.c.id)
        result = session.execute(query)
        columns = list(result.keys())  # zip per row: a mapping per row costs a keys() call each
        for values in result.tuples().all():  # fetchall: a row at a time costs a fetchone call each
            row = dict(zip(columns, values, strict=True))
            getattr(found[row["pathway_id"]], name).append(row)
    return found


def _earliest(days: list[date]) -> date | None:
    return min(days) if days else None


E = TypeVar("E", bound=Enum)


@cache
def _members(kind: type[E]) -> dict[Any, E]:
    return {member.value: member for member in kind}


def _member(kind: type[E], value: Any) -> E:
    """kind(value) for a stored value, by lookup (an Enum call costs a microsecond or more: the bulk
    loader builds a record per command, issue 15)."""
    member: E = _members(kind)[value]
    return member


def record_from_rows(rows: RecordRows) -> PathwayRecord:
    p = rows.pathway
    born, sex = rows.patient.get("date_of_birth"), rows.patient.get("sex")
    return PathwayRecord(
        presented_on=p["presented_on"],
        symptom_onset_on=p["symptom_onset_on"],
        referred_on=p["referred_on"],
        veins=tuple(_member(Segment, v) for v in p["veins"]),
        mdts=tuple(
            MdtFacts(m["held_on"], _member(Decision, m["decision"]), m["thrombolysis"], m.get("outside_scope_plan"))
            for m in sorted(rows.mdts, key=lambda m: (m["held_on"], m.get("id") or 0))
        ),
        governance_notified_on=rows.governance_notified_on,
        enrolled_on=_earliest([e["enrolled_on"] for e in rows.enrolments]),
        consented_on=_earliest([c["consented_on"] for c in rows.consents]),
        scheduled_on=rows.schedules[-1]["scheduled_on"] if rows.schedules else None,
        procedures=tuple(
            ProcedureFacts(
                x["performed_on"],
                _member(Technique, x["technique"]),
                _member(IvcFilter, x["ivc_filter"]),
                x.get("filter_removal_planned_on"),
                x.get("outside_criteria_rationale"),
            )
            for x in rows.procedures
        ),
        registry_submitted_on=_earliest([r["submitted_on"] for r in rows.registry]),
        follow_ups={_member(Visit, f["visit"]): f["seen_on"] for f in rows.follow_ups},
        anticoagulation=tuple(
            AnticoagulationEvent(
                e["kind"],
                e["event_on"],
                _member(StopReason, e["stop_reason"]) if e.get("stop_reason") else None,
                e.get("restart_planned_on"),
            )
            for e in rows.anticoagulation
        ),
        reviews=tuple(ReviewFacts(r["reviewed_on"], _member(ReviewDecision, r["decision"])) for r in rows.reviews),
        filter_outcome_on=_earliest([f["decided_on"] for f in rows.filter_outcomes]),
        closed_on=p["closed_on"],
        age_at_presentation=age_on(born, p["presented_on"]) if born else None,
        sex=_member(Sex, sex) if sex else None,
        pregnant=bool(p.get("pregnant")),
        functional_status=p.get("functional_status"),
        life_expectancy_ge_1y=p.get("life_expectancy_ge_1y"),
        bleeding_risk=p.get("bleeding_risk"),
        safety_checks=tuple(
            SafetyCheckFacts(s["checked_on"], s["platelets"], s["inr"], tuple(s["contraindications"] or ()))
            for s in rows.safety_checks
        ),
    )


def row_for(
    command: c.Command, pathway_id: int, stamp: Stamp, presented_on: date, policy: Policy
) -> tuple[type[SQLModel], Row] | None:
    """The clinical row a pathway command writes, as (table model, column values); None for
    commands that only change the pathway row. `presented_on` and `policy` date a Villalta score
    (acute phase or not, pathway.domain.pts)."""
    common = {"pathway_id": pathway_id, **stamp.columns()}
    match command:
        case c.StartAnticoagulation():
            return AnticoagulationEventRow, dict(
                kind="start", event_on=command.started_on, agent=command.agent.value, **common
            )
        case c.StopAnticoagulation():
            return AnticoagulationEventRow, dict(
                kind="stop",
                event_on=command.stopped_on,
                stop_reason=command.reason.value,
                restart_planned_on=command.restart_planned_on,
                plan_approved_by=command.plan_approved_by,
                **common,
            )
        case c.RecordMdt():
            return MdtMeeting, dict(
                held_on=command.held_on,
                decision=command.decision.value,
                thrombolysis=command.thrombolysis,
                rationale=command.rationale,
                attendees=[a.model_dump() for a in command.attendees],
                outside_scope_plan=command.outside_scope_plan,
                **common,
            )
        case c.EnrolResearch():
            return ResearchEnrolment, dict(
                study_id=command.study_id, ethics_ref=command.ethics_ref, enrolled_on=command.enrolled_on, **common
            )
        case c.RecordConsent():
            return Consent, dict(
                consented_on=command.consented_on,
                information_leaflet=command.information_leaflet,
                uncertainties_discussed=command.uncertainties_discussed,
                **common,
            )
        case c.ScheduleProcedure():
            return ProcedureSchedule, dict(scheduled_on=command.scheduled_on, **common)
        case c.RecordProcedure():
            fields = command.model_dump(exclude={"command", "by", "pathway"}, mode="json")
            fields["performed_on"] = command.performed_on
            fields["filter_removal_planned_on"] = command.filter_removal_planned_on
            return Procedure, fields | common
        case c.SubmitRegistry():
            return RegistrySubmission, dict(
                submitted_on=command.submitted_on, registry_ref=command.registry_ref, **common
            )
        case c.RecordFollowUp():
            villalta = command.villalta
            return FollowUpVisit, dict(
                visit=command.visit.value,
                seen_on=command.seen_on,
                villalta_items=list(villalta.items) if villalta else None,
                villalta_ulcer=villalta.ulcer if villalta else None,
                villalta_total=villalta.total if villalta else None,
                # Stored as the rule read it when recorded; reports read pathway.domain.pts again.
                pts_category=(
                    category_on(command.seen_on, villalta.total, villalta.ulcer, presented_on, policy)
                    if villalta
                    else None
                ),
                patency=command.patency.value if command.patency else None,
                recurrent_vte=command.recurrent_vte,
                bleeding=command.bleeding,
                ceap_c=command.ceap_c,
                vcss=command.vcss,
                **common,
            )
        case c.RecordAnticoagulationReview():
            return AnticoagulationReview, dict(
                reviewed_on=command.reviewed_on, decision=command.decision.value, **common
            )
        case c.RecordFilterOutcome():
            return FilterOutcomeRow, dict(decided_on=command.decided_on, outcome=command.outcome.value, **common)
        case c.RecordSafetyCheck():
            return SafetyCheck, dict(
                checked_on=command.checked_on,
                platelets=command.platelets,
                inr=command.inr,
                haemoglobin=command.haemoglobin,
                egfr=command.egfr,
                contraindications=list(command.contraindications),
                pregnancy_test=command.pregnancy_test.value if command.pregnancy_test else None,
                **common,
            )
        case _:
            return None
