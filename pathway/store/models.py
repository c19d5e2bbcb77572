"""Every table of the tracker (SQLModel). Alembic migrations in pathway/store/migrations own the schema.

Clinical facts are typed rows, one table per kind of record; the plan (`step`) and the flag windows
(`flag_window`) are materialised from them by pathway.store.plan inside each command's transaction.
Timestamps are UTC; clinical dates are calendar dates.
"""

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Index, MetaData, TypeDecorator, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

# Named constraints, so later migrations can drop or alter them by name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no zone, so restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: timestamps must be timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_column(nullable: bool = False) -> Any:
    return Field(sa_type=UTCDateTime, nullable=nullable)


def json_column(nullable: bool = False) -> Any:
    return Field(default=None, sa_type=JSON, nullable=nullable)


class Recorded(SQLModel):
    """Who recorded a clinical fact and when (the audit row holds the full before/after)."""

    recorded_at: datetime = utc_column()
    recorded_by: str = Field(max_length=80)
    clinician: str | None = Field(default=None, max_length=120)


# --- people and pathways ------------------------------------------------------------------

# A site is stored in 80 characters; its key (case-folded) may be longer: one character can fold to three.
SITE_KEY_LENGTH = 240


class Patient(Recorded, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=40, unique=True)
    nhs_number: str = Field(max_length=10, unique=True)
    name: str | None = Field(default=None, max_length=120)
    date_of_birth: date
    sex: str = Field(max_length=10)
    site: str = Field(max_length=80, index=True)
    site_key: str = Field(max_length=SITE_KEY_LENGTH, index=True)  # pathway.domain.text.site_key(site)


class Pathway(Recorded, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=40, unique=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    site: str = Field(max_length=80)
    site_key: str = Field(max_length=SITE_KEY_LENGTH)  # pathway.domain.text.site_key(site): what filters compare
    presented_on: date
    symptom_onset_on: date
    referred_on: date
    leg: str = Field(max_length=5)
    veins: list[str] = json_column()
    imaging: str = Field(max_length=20)
    extent: str = Field(max_length=20)
    route: str = Field(max_length=30)
    # Selection criteria for the registry (HTG516 1.4; pathway-spec (d)); optional at referral.
    provoked_status: str | None = Field(default=None, max_length=30)
    active_cancer: bool | None = None
    prior_dvt: bool | None = None
    functional_status: str | None = Field(default=None, max_length=10)
    life_expectancy_ge_1y: str | None = Field(default=None, max_length=10)
    bleeding_risk: str | None = Field(default=None, max_length=10)
    baseline_villalta: int | None = None
    baseline_vcss: int | None = None
    pregnant: bool | None = None  # version 2 (NG158 scope, R4); null on pathways recorded before it
    # Materialised summary, recomputed in each command's transaction (pathway.store.plan).
    decision: str | None = Field(default=None, max_length=30)
    stage: str = Field(max_length=30)
    next_step: str | None = Field(default=None, max_length=40)
    next_due_on: date | None = None
    window_closes_on: date | None = None  # 14-day window end while a procedure may still come
    closed_on: date | None = None
    close_reason: str | None = Field(default=None, max_length=20)
    policy_version: str = Field(max_length=40)
    updated_at: datetime = utc_column()
    version: int = Field(default=1, nullable=False)

    __table_args__ = (
        # The worklist reads open pathways, optionally by site, in due order.
        Index("ix_pathway_open_site_due", "closed_on", "site", "next_due_on"),
        Index("ix_pathway_open_site_key_due", "closed_on", "site_key", "next_due_on"),
        Index("ix_pathway_open_due", "closed_on", "next_due_on"),
        # The sites with a pathway, read key by key (pathway.store.repository.pathway_site_keys).
        Index("ix_pathway_site_key", "site_key"),
    )

    # Optimistic locking: the ORM adds "AND version = :old" to every UPDATE (StaleDataError on a race).
    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


# --- clinical records -----------------------------------------------------------------------


class MdtMeeting(Recorded, table=True):
    __tablename__: ClassVar[str] = "mdt_meeting"
    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id", index=True)
    held_on: date
    decision: str = Field(max_length=30)
    thrombolysis: bool
    rationale: str = Field(max_length=4000)
    attendees: list[dict[str, str]] = json_column()
    outside_scope_plan: str | None = Field(default=None, max_length=4000)  # version 2 (R4)


class GovernanceNotice(Recorded, table=True):
    __tablename__: ClassVar[str] = "governance_notice"
    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=80, index=True)
    site_key: str = Field(max_length=SITE_KEY_LENGTH, index=True)
    notified_on: date
    lead: str = Field(max_length=120)
    notifying_clinician: str | None = Field(default=None, max_length=120)


class Site(SQLModel, table=True):
    """A site on the managed list (`pathway sites add`, the dashboard's Sites page, admins only):
    registrations, governance notices and accounts name a site from it. `name` is its spelling;
    `site_key` (pathway.domain.text.site_key) what other spellings are compared by. A retired site
    takes no new patient, notice or account; what was recorded there stays."""

    __tablename__: ClassVar[str] = "site"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    site_key: str = Field(max_length=SITE_KEY_LENGTH, unique=True)
    added_at: datetime = utc_column()
    added_by: str = Field(max_length=80)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    retired_by: str | None = Field(default=None, max_length=80)


class ResearchEnrolment(Recorded, table=True):
    __tablename__: ClassVar[str] = "research_enrolment"
    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id", index=True)
    study_id: str = Field(max_length=80)
    ethics_ref: str = Field(max_length=80)
    enrolled_on: date


class Consent(Recorded, table=True):
    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id", index=True)
    consented_on: date
    information_leaflet: str = Field(max_length=80)
    uncertainties_discussed: bool


class ProcedureSchedule(Recorded, table=True):
    __tablename__: ClassVar[str] = "procedure_schedule"
    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id", index=True)
    scheduled_on: date


class Procedure(Recorded, table=True):
    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id", index=True)
    performed_on: date
    technique: str = Field(max_length=30)
    device: str | None = Field(default=None, max_length=120)
    access_vein: str = Field(max_length=20)
    ivc_filter: str = Field(max_length=20)
    stent: bool
    clot_removal: str = Field(max_length=10)
    complications: list[str] = json_column()
    # Registry minimum data set (pathway-spec (d)), optional.
    device_maker: str | None = Field(default=None, max_length=120)
    device_mechanism: str | None = Field(default=None, max_length=30)
    thrombolytic_agent: str | None = Field(default=None, max_length=30)
    lytic_dose_mg: float | None = None
    infusion_hours: float | None = None
    venoplasty: bool | None = None
    stent_veins: list[str] | None = json_column(nullable=True)
    stent_count: int | None = None
    stent_model: str | None = Field(default=None, max_length=120)
    filter_model: str | None = Field(default=None, max_length=120)
    # Version 2: thrombolysis outside NG158's criteria; the filter's indication (R9) and removal plan (R10).
    outside_criteria_rationale: str | None = Field(default=None, max_length=4000)
    filter_indication: str | None = Field(default=None, max_length=40)
    filter_removal_planned_on: date | None = None


class RegistrySubmission(Recorded, table=True):
    __tablename__: ClassVar[str] = "registry_submission"
    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id", index=True)
    submitted_on: date
    registry_ref: str = Field(max_length=80)


class FollowUpVisit(Recorded, table=True):
    __tablename__: ClassVar[str] = "follow_up_visit"
    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id", index=True)
    visit: str = Field(max_length=10)
    seen_on: date
    villalta_items: list[int] | None = json_column(nullable=True)
    villalta_ulcer: bool | None = None
    villalta_total: int | None = None
    pts_category: str | None = Field(default=None, max_length=10)
    patency: str | None = Field(default=None, max_length=20)
    recurrent_vte: str | None = Field(default=None, max_length=30)
    bleeding: str | None = Field(default=None, max_length=10)
    ceap_c: str | None = Field(default=None, max_length=5)
    vcss: int | None = None

    __table_args__ = (UniqueConstraint("pathway_id", "visit", name="uq_follow_up_visit_pathway_visit"),)


class AnticoagulationEventRow(Recorded, table=True):
    __tablename__: ClassVar[str] = "anticoagulation_event"
    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id", index=True)
    kind: str = Field(max_length=5)  # start | stop
    event_on: date
    agent: str | None = Field(default=None, max_length=30)
    stop_reason: str | None = Field(default=None, max_length=20)
    # Version 2: a procedure_hold's haematology-approved plan (R15).
    restart_planned_on: date | None = None
    plan_approved_by: str | None = Field(default=None, max_length=120)


class AnticoagulationReview(Recorded, table=True):
    __tablename__: ClassVar[str] = "anticoagulation_review"
    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id", index=True)
    reviewed_on: date
    decision: str = Field(max_length=30)


class SafetyCheck(Recorded, table=True):
    """A pre-procedure safety check (version 2; SIR 2019): blood results and contraindications to lysis."""

    __tablename__: ClassVar[str] = "safety_check"
    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id", index=True)
    checked_on: date
    platelets: float  # x10^9/L
    inr: float
    haemoglobin: float  # g/L
    egfr: float  # mL/min/1.73m2
    contraindications: list[str] = json_column()
    pregnancy_test: str | None = Field(default=None, max_length=20)


class FilterOutcomeRow(Recorded, table=True):
    __tablename__: ClassVar[str] = "filter_outcome"
    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id", index=True)
    decided_on: date
    outcome: str = Field(max_length=20)


# --- materialised plan ------------------------------------------------------------------------


class Step(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id", index=True)
    stage: str = Field(max_length=30)
    code: str = Field(max_length=40)
    owner_role: str = Field(max_length=20)
    due_on: date = Field(index=True)
    warn_on: date
    done_on: date | None = None


class FlagWindowRow(SQLModel, table=True):
    """A flag standing from starts_on to ends_on (inclusive) at one severity; see pathway.domain.rules."""

    __tablename__: ClassVar[str] = "flag_window"
    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id", index=True)
    code: str = Field(max_length=40)
    severity: str = Field(max_length=5)
    severity_rank: int
    starts_on: date
    ends_on: date
    due_on: date

    __table_args__ = (
        Index("ix_flag_window_starts_ends", "starts_on", "ends_on"),
        Index("ix_flag_window_code_starts", "code", "starts_on"),
        # The worklist reads standing windows in due order and stops once a page is full
        # (queries.worklist); the other columns let it test "standing" without reading the row.
        Index("ix_flag_window_due", "due_on", "starts_on", "ends_on", "pathway_id"),
    )


class SeverityTally(SQLModel, table=True):
    """The dashboard's severity counts, kept in each command's transaction (pathway.store.tally): the sum of
    `change` over the days up to D is, per site, the open pathways (rank 0, on day 0001-01-01), those
    whose worst standing flag at D has this rank (1 amber, 2 red), and those in the worklist's backlog
    age group i at D (rank 10 + i: tally.BACKLOG_AGES)."""

    __tablename__: ClassVar[str] = "severity_tally"
    site_key: str = Field(max_length=SITE_KEY_LENGTH, primary_key=True)
    severity_rank: int = Field(primary_key=True)
    day: date = Field(primary_key=True)
    change: int


# --- audit trail ------------------------------------------------------------------------------


class AuditEvent(SQLModel, table=True):
    """One row per command accepted (or refused for the actor's role) and per audited read: who, in
    which role, when (UTC), what, before and after. Append-only and hash-chained (pathway.store.audit)."""

    __tablename__: ClassVar[str] = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_column()
    actor: str = Field(max_length=80)
    role: str = Field(max_length=20)
    command: str = Field(max_length=40)
    outcome: str = Field(default="accepted", max_length=10)  # accepted | denied | read
    clinician: str | None = Field(default=None, max_length=120)
    pathway_ref: str | None = Field(default=None, max_length=40, index=True)
    patient_ref: str | None = Field(default=None, max_length=40)
    site: str | None = Field(default=None, max_length=80)
    before: dict[str, Any] | None = json_column(nullable=True)
    after: dict[str, Any] | None = json_column(nullable=True)
    # The clinical rows the command wrote, as fingerprints by table (pathway.store.fingerprint), so that
    # `pathway audit verify` can tell a row changed in the database from what was recorded.
    written: dict[str, Any] | None = json_column(nullable=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64, unique=True)
