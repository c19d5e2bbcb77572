"""Accepted commands: the audit trail, the optimistic-lock version, roles, re-planning and the read side.

Commands here are recorded at distinct instants unless a test is about repeated instants, since each
command stamps the pathway's `updated_at` with its recording time.
"""

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import ORMExecuteState, Session

from pathway.domain.roles import Actor
from pathway.domain.vocabulary import Role
from pathway.errors import AccessDenied, ConflictError, DatabaseBusy, NotFound
from pathway.services.commands import Outcome, execute
from pathway.store.db import SessionFactory, make_engine, make_session_factory
from pathway.store.models import AuditEvent, Pathway, Patient
from pathway.store.schema import metadata
from pathway.views import queries
from tests.conftest import (
    NHS,
    RECORDED_AT,
    consent,
    diagnose,
    governance,
    mdt,
    open_pathway,
    procedure,
    register,
    run,
    start_anticoagulation,
)
from tests.support.commands import (
    ALL_COMMANDS,
    OTHER_NHS,
    PATHWAY_COMMANDS,
    TODAY,
    database_state,
    prepare,
    valid_command,
)
from tests.support.sites import list_sites

CLINICIAN = Actor("clin-1", Role.clinician)
COORDINATOR = Actor("coord-1", Role.coordinator)
AUDITOR = Actor("audit-1", Role.auditor)
NAME = "Ada Lovelace"
DOB = "1970-03-04"  # the date of birth the conftest builder registers
LONDON = ZoneInfo("Europe/London")


def later(minutes: int) -> datetime:
    """A recording instant on the pinned day, after the set-up's (RECORDED_AT)."""
    return RECORDED_AT + timedelta(minutes=minutes)


def version_of(factory: SessionFactory, ref: str = "P1") -> int:
    with factory() as session:
        return session.execute(select(Pathway.version).where(Pathway.ref == ref)).scalar_one()


def audit_rows(factory: SessionFactory) -> list[AuditEvent]:
    with factory() as session:
        return list(session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all())


def audit_json(row: AuditEvent) -> str:
    return json.dumps(row.model_dump(), default=str)


def codes(row: queries.WorklistRow) -> dict[str, str]:
    return {f.code: f.severity.value for f in row.flags}


def worklist(factory: SessionFactory, as_of: date = TODAY, **filters: Any) -> list[queries.WorklistRow]:
    with factory() as session:
        return queries.worklist(session, as_of, **filters)


# --- the audit trail --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_execute_appends_one_audit_row_per_accepted_command(factory: SessionFactory, name: str) -> None:
    prepare(factory, name)
    before = database_state(factory)
    at = datetime(2026, 6, 15, 13, 45, 30, 123456, tzinfo=LONDON)  # 12:45:30.123456 UTC (BST)
    outcome = execute(factory, CLINICIAN, valid_command(name) | {"by": "Dr Who"}, recorded_at=at)
    after = database_state(factory)

    assert after["rows"]["audit_event"] == before["rows"]["audit_event"] + 1
    row = audit_rows(factory)[-1]
    assert row.id == outcome.audit_id
    assert (row.actor, row.role, row.command, row.clinician) == ("clin-1", "clinician", name, "Dr Who")
    assert row.at == datetime(2026, 6, 15, 12, 45, 30, 123456, tzinfo=UTC)
    assert row.at.utcoffset() == timedelta(0)
    assert row.after is not None
    assert json.loads(json.dumps(row.after)) == row.after  # plain JSON, as stored
    if name in PATHWAY_COMMANDS:
        old = before["pathway_versions"]["P1"]
        assert row.pathway_ref == "P1"
        assert row.before is not None and row.before["version"] == old
        assert row.after["version"] == old + 1 == outcome.version
        assert after["pathway_versions"]["P1"] == old + 1
    elif name == "record_diagnosis":
        assert row.pathway_ref == "P2" and row.before is None
        assert row.after["version"] == outcome.version == after["pathway_versions"]["P2"]
    else:
        assert row.pathway_ref is None and row.before is None
        assert after["pathway_versions"] == before["pathway_versions"]


def test_register_patient_audit_row_holds_no_identifiers(factory: SessionFactory) -> None:
    spaced = f"{NHS[:3]} {NHS[3:6]} {NHS[6:]}"
    outcome = run(factory, register(nhs=spaced, name=NAME, by="Dr Who"))
    with factory() as session:
        patient = session.execute(select(Patient).where(Patient.ref == "H100")).scalar_one()
    assert (patient.nhs_number, patient.name, patient.date_of_birth.isoformat()) == (NHS, NAME, DOB)
    (row,) = audit_rows(factory)
    assert row.id == outcome.audit_id and row.command == "register_patient" and row.patient_ref == "H100"
    text = audit_json(row)
    for identifier in (NHS, spaced, NAME, "Lovelace", DOB):
        assert identifier not in text
    assert row.after is not None and row.after["site"] == "North Vale"


def test_pathway_audit_rows_hold_no_identifiers(factory: SessionFactory) -> None:
    run(factory, governance())
    run(factory, register(name=NAME))
    for minutes, payload in enumerate([diagnose(), start_anticoagulation(), mdt(), consent(), procedure()], 1):
        run(factory, payload, at=later(minutes))
    rows = audit_rows(factory)
    assert len(rows) == 7
    for row in rows:
        text = audit_json(row)
        assert NHS not in text and NAME not in text and DOB not in text


# --- the optimistic-lock version -------------------------------------------------------------------


def test_pathway_version_increases_by_one_per_command(factory: SessionFactory) -> None:
    run(factory, governance())
    run(factory, register())
    run(factory, diagnose(), at=later(1))
    lifecycle = [
        start_anticoagulation(),
        mdt(),
        valid_command("enrol_research"),
        consent(),
        valid_command("schedule_procedure", "2026-06-05"),
        procedure(ivc_filter="temporary"),
        valid_command("submit_registry"),
        valid_command("record_follow_up"),
        valid_command("record_filter_outcome", "2026-06-12"),
        valid_command("stop_anticoagulation", "2026-06-13"),
        valid_command("record_anticoagulation_review", "2026-06-14"),
        valid_command("close_pathway", "2026-06-15"),
    ]
    version = version_of(factory)
    for minutes, payload in enumerate(lifecycle, 2):
        outcome = run(factory, payload, at=later(minutes))
        assert outcome.version == version + 1, payload["command"]
        version = version_of(factory)
        assert outcome.version == version


def test_pathway_version_increases_for_command_recorded_at_same_instant(factory: SessionFactory) -> None:
    """Each accepted command must bump the version, even when recorded at the previous command's instant
    (a command log or an import replayed with one pinned recording time)."""
    prepare(factory, "schedule_procedure")  # every set-up command recorded at RECORDED_AT
    version = version_of(factory)
    outcome = run(factory, valid_command("schedule_procedure", "2026-06-20"), at=RECORDED_AT)
    assert outcome.version == version + 1
    assert version_of(factory) == version + 1


def test_expected_version_detects_change_recorded_at_same_instant(factory: SessionFactory) -> None:
    """A client that read version v must get a conflict once anyone has changed the pathway after v."""
    prepare(factory, "schedule_procedure")
    read = version_of(factory)
    run(factory, valid_command("schedule_procedure", "2026-06-20"), at=RECORDED_AT, expected_version=read)
    before = database_state(factory)
    with pytest.raises(ConflictError):
        run(factory, valid_command("schedule_procedure", "2026-06-22"), at=RECORDED_AT, expected_version=read)
    assert database_state(factory) == before


def test_execute_stale_expected_version_raises_conflict_and_writes_nothing(factory: SessionFactory) -> None:
    open_pathway(factory)
    read = version_of(factory)
    run(factory, start_anticoagulation(), at=later(1), expected_version=read)
    before = database_state(factory)
    with pytest.raises(ConflictError) as caught:
        run(factory, mdt(), at=later(2), expected_version=read)
    assert caught.value.subject == "pathway P1"
    assert "reload" in str(caught.value)
    assert database_state(factory) == before
    outcome = run(factory, mdt(), at=later(3), expected_version=read + 1)
    assert outcome.version == read + 2


def test_execute_two_sessions_saving_same_read_one_conflicts(engine: Engine) -> None:
    """Two users read the same pathway in their own sessions, then both save against what they read."""
    setup = make_session_factory(engine)
    open_pathway(setup)
    first, second = make_session_factory(engine), make_session_factory(engine)
    with first() as one, second() as two:
        read_one = one.execute(select(Pathway).where(Pathway.ref == "P1")).scalar_one().version
        read_two = two.execute(select(Pathway).where(Pathway.ref == "P1")).scalar_one().version
    assert read_one == read_two
    saved = execute(first, CLINICIAN, start_anticoagulation(), recorded_at=later(1), expected_version=read_one)
    assert saved.version == read_one + 1
    before = database_state(setup)
    with pytest.raises(ConflictError):
        execute(second, CLINICIAN, mdt(), recorded_at=later(2), expected_version=read_two)
    assert database_state(setup) == before
    assert [r.command for r in audit_rows(setup)][-1] == "start_anticoagulation"


def test_execute_while_sqlite_stays_locked_says_busy_and_writes_nothing(tmp_path: Any) -> None:
    """Another writer holds SQLite's write lock past the busy wait: a retryable "busy", not "changed"."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    setup = make_session_factory(make_engine(url))
    metadata.create_all(setup().get_bind())
    list_sites(setup)
    open_pathway(setup)
    before = database_state(setup)
    impatient = make_session_factory(make_engine(url, sqlite_busy_seconds=0.05))
    holder = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(DatabaseBusy) as caught:
            execute(impatient, CLINICIAN, start_anticoagulation(), recorded_at=later(1))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert isinstance(caught.value, ConflictError)
    assert "busy" in str(caught.value) and "nothing was recorded" in str(caught.value)
    assert "changed by someone else" not in str(caught.value)
    assert database_state(setup) == before
    retried = execute(impatient, CLINICIAN, start_anticoagulation(), recorded_at=later(1))
    assert retried.version == before["pathway_versions"]["P1"] + 1


def _interleaved(factory: SessionFactory, rival: Callable[[], Outcome]) -> SessionFactory:
    """A factory whose session, right after its first read (the pathway), lets `rival` save first."""
    fired: list[Outcome] = []

    def make() -> Session:
        session = factory()

        @event.listens_for(session, "do_orm_execute")
        def _after_first_read(state: ORMExecuteState) -> Any:
            if fired or not state.is_select:
                return None
            loaded = state.invoke_statement().freeze()  # the pathway as this session read it
            fired.append(rival())
            return loaded()

        return session

    return make


def test_execute_concurrent_save_after_both_loaded_raises_conflict(engine: Engine) -> None:
    """Both transactions load the pathway; the rival commits first; the other's save hits the version check."""
    if engine.dialect.name == "sqlite":
        # SQLite writers take the write lock at BEGIN (pathway.store.db), so a rival cannot commit between
        # another writer's read and its save: the race this test stages only exists on PostgreSQL.
        pytest.skip("SQLite serialises writers at BEGIN IMMEDIATE")
    factory = make_session_factory(engine)
    open_pathway(factory)
    read = version_of(factory)
    rival_factory = make_session_factory(engine)

    def rival() -> Outcome:
        return execute(rival_factory, CLINICIAN, start_anticoagulation(), recorded_at=later(1), expected_version=read)

    slow = _interleaved(make_session_factory(engine), rival)
    with pytest.raises(ConflictError):
        execute(slow, CLINICIAN, mdt(), recorded_at=later(2), expected_version=read)
    state = database_state(factory)
    assert state["pathway_versions"]["P1"] == read + 1
    assert state["rows"]["anticoagulation_event"] == 1 and state["rows"]["mdt_meeting"] == 0
    assert [r.command for r in audit_rows(factory)] == ["register_patient", "record_diagnosis", "start_anticoagulation"]


# --- roles -------------------------------------------------------------------------------------------


def _assert_only_the_denial_audited(factory: SessionFactory, before: Any, actor: Actor, name: str) -> None:
    """A refused command writes nothing clinical; the refusal itself is one audit row (issue 6)."""
    after = database_state(factory)
    assert after["rows"]["audit_event"] == before["rows"]["audit_event"] + 1
    after["rows"]["audit_event"] -= 1
    assert after == before
    denial = audit_rows(factory)[-1]
    assert (denial.command, denial.outcome, denial.actor, denial.role) == (name, "denied", actor.name, actor.role.value)
    assert denial.before is None and denial.after is None


@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_auditor_may_run_no_command(factory: SessionFactory, name: str) -> None:
    prepare(factory, name)
    before = database_state(factory)
    with pytest.raises(AccessDenied) as caught:
        execute(factory, AUDITOR, valid_command(name), recorded_at=later(1))
    assert "auditor" in str(caught.value) and name in str(caught.value)
    _assert_only_the_denial_audited(factory, before, AUDITOR, name)
    execute(factory, CLINICIAN, valid_command(name), recorded_at=later(2))  # the same command is valid


def test_coordinator_may_schedule_procedure(factory: SessionFactory) -> None:
    prepare(factory, "schedule_procedure")
    execute(factory, COORDINATOR, valid_command("schedule_procedure", "2026-06-20"), recorded_at=later(1))
    row = audit_rows(factory)[-1]
    assert (row.command, row.actor, row.role) == ("schedule_procedure", "coord-1", "coordinator")


@pytest.mark.parametrize("name", ["record_procedure", "record_consent"])
def test_coordinator_may_not_record_clinical_findings(factory: SessionFactory, name: str) -> None:
    prepare(factory, name)
    before = database_state(factory)
    with pytest.raises(AccessDenied) as caught:
        execute(factory, COORDINATOR, valid_command(name), recorded_at=later(1))
    assert "coordinator" in str(caught.value) and name in str(caught.value)
    _assert_only_the_denial_audited(factory, before, COORDINATOR, name)


def test_clinician_may_record_procedure(factory: SessionFactory) -> None:
    prepare(factory, "record_procedure")
    before = database_state(factory)
    execute(factory, CLINICIAN, valid_command("record_procedure"), recorded_at=later(1))
    assert database_state(factory)["rows"]["procedure"] == before["rows"]["procedure"] + 1
    row = audit_rows(factory)[-1]
    assert (row.command, row.role) == ("record_procedure", "clinician")


# --- notify_governance re-plans the site's pathways ---------------------------------------------------


def test_notify_governance_replans_site_open_pmt_pathways(factory: SessionFactory) -> None:
    open_pathway(factory, "P1", "H100")  # North Vale, iliofemoral
    run(factory, register(patient="H200", nhs=OTHER_NHS, site="South Vale"))
    run(factory, diagnose(pathway="P2", patient="H200"))
    for ref in ("P1", "P2"):
        run(factory, start_anticoagulation(ref))
        run(factory, mdt(ref))
    before = {row.pathway: codes(row) for row in worklist(factory)}
    assert before["P1"]["GOVERNANCE_NOTICE_OUTSTANDING"] == "amber"
    assert before["P2"]["GOVERNANCE_NOTICE_OUTSTANDING"] == "amber"

    run(factory, governance(site="North Vale", notified_on="2026-06-14"), at=later(1))

    after = {row.pathway: codes(row) for row in worklist(factory)}
    assert "GOVERNANCE_NOTICE_OUTSTANDING" not in after["P1"]
    assert after["P2"]["GOVERNANCE_NOTICE_OUTSTANDING"] == "amber"  # a notice is per site
    assert [r.pathway for r in worklist(factory, flag="GOVERNANCE_NOTICE_OUTSTANDING")] == ["P2"]
    with factory() as session:
        steps = {s["step"]: s for s in queries.pathway_detail(session, "P1", TODAY).as_dict()["steps"]}
    assert steps["governance_notice"]["done_on"] == "2026-06-14"


# --- anticoagulation stop and restart ------------------------------------------------------------------


def test_stop_then_restart_anticoagulation_clears_stopped_early(factory: SessionFactory) -> None:
    open_pathway(factory)
    run(factory, start_anticoagulation(started_on="2026-06-01"), at=later(1))
    run(factory, valid_command("stop_anticoagulation", "2026-06-05"), at=later(2))
    (stopped,) = worklist(factory, flag="ANTICOAGULATION_STOPPED_EARLY")
    assert codes(stopped)["ANTICOAGULATION_STOPPED_EARLY"] == "red"

    restart = start_anticoagulation(started_on="2026-06-08") | {"agent": "lmwh"}
    run(factory, restart, at=later(3))

    assert worklist(factory, flag="ANTICOAGULATION_STOPPED_EARLY") == []
    with factory() as session:
        shown = queries.pathway_detail(session, "P1", TODAY).as_dict()
    assert "ANTICOAGULATION_STOPPED_EARLY" not in {f["code"] for f in shown["flags"]}
    kinds = [(e["kind"], e["event_on"], e["agent"]) for e in shown["record"]["anticoagulation"]]
    assert kinds == [("start", "2026-06-01", "apixaban"), ("stop", "2026-06-05", None), ("start", "2026-06-08", "lmwh")]
    review = next(s for s in shown["steps"] if s["step"] == "anticoagulation_review")
    assert review["due_on"] == "2026-09-01"  # A is the first start: 2026-06-01 + 3 months


# --- the worklist -----------------------------------------------------------------------------------------


def _cohort(factory: SessionFactory) -> None:
    """Six open pathways (expected order P5, P3, P6, P1, P4, P2 at 2026-06-15) and one closed."""
    run(factory, register(patient="H100", site="North Vale"))
    run(factory, register(patient="H200", nhs=OTHER_NHS, site="South Vale"))

    def pathway(ref: str, patient: str, presented: str, *later_commands: dict[str, Any]) -> None:
        run(factory, diagnose(pathway=ref, patient=patient, presented=date.fromisoformat(presented)))
        for payload in later_commands:
            run(factory, payload | {"pathway": ref})

    # none, next due 2026-09-14 (anticoagulation review)
    pathway(
        "P2",
        "H200",
        "2026-06-14",
        start_anticoagulation(started_on="2026-06-14"),
        mdt(held_on="2026-06-14", decision="anticoagulation_only"),
    )
    # none, next due 2026-09-10
    pathway(
        "P4",
        "H100",
        "2026-06-10",
        start_anticoagulation(started_on="2026-06-10"),
        mdt(held_on="2026-06-10", decision="anticoagulation_only"),
    )
    # amber, due 2026-06-19: window at risk, governance and consent outstanding
    pathway("P1", "H200", "2026-06-05", start_anticoagulation(started_on="2026-06-05"), mdt(held_on="2026-06-06"))
    # amber, due 2026-06-17: window at risk, consent outstanding
    pathway(
        "P6",
        "H100",
        "2026-06-03",
        start_anticoagulation(started_on="2026-06-03"),
        mdt(held_on="2026-06-04", decision="cdt"),
    )
    # red, due 2026-06-04: MDT overdue
    pathway("P5", "H100", "2026-06-01", start_anticoagulation(started_on="2026-06-01"))
    # red, due 2026-06-11: anticoagulation not started
    pathway("P3", "H200", "2026-06-10", mdt(held_on="2026-06-10", decision="anticoagulation_only"))
    # closed: never listed
    pathway("P7", "H100", "2026-06-01", {"command": "close_pathway", "closed_on": "2026-06-02", "reason": "declined"})


def test_worklist_orders_red_amber_none_then_earliest_due(factory: SessionFactory) -> None:
    _cohort(factory)
    rows = worklist(factory)
    assert [r.pathway for r in rows] == ["P5", "P3", "P6", "P1", "P4", "P2"]
    assert [r.severity for r in rows] == ["red", "red", "amber", "amber", None, None]
    by_ref = {r.pathway: r for r in rows}
    assert by_ref["P5"].flags[0].as_dict() == {"code": "MDT_OVERDUE", "severity": "red", "due_on": "2026-06-04"}
    assert by_ref["P3"].flags[0].as_dict() == {
        "code": "ANTICOAGULATION_NOT_STARTED",
        "severity": "red",
        "due_on": "2026-06-11",
    }
    assert codes(by_ref["P6"]) == {"TREATMENT_WINDOW_AT_RISK": "amber", "CONSENT_OUTSTANDING": "amber"}
    assert codes(by_ref["P1"]) == {
        "TREATMENT_WINDOW_AT_RISK": "amber",
        "GOVERNANCE_NOTICE_OUTSTANDING": "amber",
        "CONSENT_OUTSTANDING": "amber",
    }
    assert by_ref["P4"].flags == [] and by_ref["P4"].next_due_on == date(2026, 9, 10)
    assert by_ref["P6"].window_days_left == 2 and by_ref["P4"].window_days_left is None
    listed = by_ref["P5"].as_dict()
    assert {"pathway", "patient", "site", "decision", "route", "stage", "presented_on", "window_days_left"} <= set(
        listed
    )
    assert listed["patient"] == "H100" and listed["site"] == "North Vale" and listed["presented_on"] == "2026-06-01"


def test_worklist_filters_flagged_only_site_and_flag(factory: SessionFactory) -> None:
    _cohort(factory)
    assert [r.pathway for r in worklist(factory, flagged_only=True)] == ["P5", "P3", "P6", "P1"]
    assert [r.pathway for r in worklist(factory, site="South Vale")] == ["P3", "P1", "P2"]
    assert [r.pathway for r in worklist(factory, site="North Vale", flagged_only=True)] == ["P5", "P6"]
    assert [r.pathway for r in worklist(factory, flag="CONSENT_OUTSTANDING")] == ["P6", "P1"]
    assert [r.pathway for r in worklist(factory, flag="MDT_OVERDUE")] == ["P5"]
    assert [r.pathway for r in worklist(factory, flag="TREATMENT_WINDOW_AT_RISK", site="South Vale")] == ["P1"]
    assert worklist(factory, site="Nowhere") == []
    # Flags are evaluated at the as-of date: two days on, P1's window is at risk and P5's is missed.
    at_17 = {r.pathway: codes(r) for r in worklist(factory, as_of=date(2026, 6, 17), flagged_only=True)}
    assert at_17["P5"]["TREATMENT_WINDOW_MISSED"] == "red"
    assert "P2" not in at_17


# --- one pathway's whole record ----------------------------------------------------------------------------


def _treated_with_identifiers(factory: SessionFactory) -> None:
    run(factory, governance())
    run(factory, register(name=NAME))
    steps = [diagnose(), start_anticoagulation(), mdt(), consent(), procedure()]
    for minutes, payload in enumerate(steps, 1):
        run(factory, payload | {"by": "Dr Who"}, at=later(minutes))


def test_pathway_detail_has_steps_with_due_dates_flags_and_audit(factory: SessionFactory) -> None:
    _treated_with_identifiers(factory)
    with factory() as session:
        shown = queries.pathway_detail(session, "P1", date(2026, 7, 6)).as_dict()
    json.dumps(shown)
    steps = {s["step"]: (s["due_on"], s["done_on"]) for s in shown["steps"]}
    assert steps == {
        "anticoagulation_start": ("2026-06-02", "2026-06-01"),  # P + 1
        "mdt": ("2026-06-04", "2026-06-02"),  # R + 3
        "governance_notice": ("2026-06-15", "2026-01-10"),
        "consent": ("2026-06-15", "2026-06-03"),
        "procedure": ("2026-06-15", "2026-06-05"),  # P + 14
        "registry_submission": ("2026-07-05", None),  # X + 30
        "follow_up_early": ("2026-06-26", None),  # X + 21
        "follow_up_week6": ("2026-07-31", None),  # X + 56
        "follow_up_month6": ("2027-01-02", None),  # X + 6 months + 28 days
        "follow_up_month12": ("2027-07-17", None),  # X + 12 months + 42 days
        "anticoagulation_review": ("2026-09-05", None),  # minimum_end: X + 3 months (later than A + 3 months)
    }
    assert {(f["code"], f["severity"], f["due_on"]) for f in shown["flags"]} == {
        ("FOLLOW_UP_OVERDUE", "red", "2026-06-26"),
        ("REGISTRY_SUBMISSION_OVERDUE", "red", "2026-07-05"),
    }
    assert [a["command"] for a in shown["audit"]] == [
        "record_diagnosis",
        "start_anticoagulation",
        "record_mdt",
        "record_consent",
        "record_procedure",
    ]
    first = shown["audit"][0]
    assert (first["actor"], first["role"], first["clinician"]) == ("test-operator", "admin", "Dr Who")
    assert datetime.fromisoformat(first["at"]) == later(1)
    assert shown["window_days_left"] is None and shown["status"] == "open"
    assert shown["nhs_number"] == NHS and shown["name"] == NAME and shown["date_of_birth"] == DOB


def test_pathway_detail_without_identifiers_has_no_nhs_number_name_or_birth_date(factory: SessionFactory) -> None:
    _treated_with_identifiers(factory)
    with factory() as session:
        shown = queries.pathway_detail(session, "P1", TODAY).as_dict(identifiers=False)
    assert {"nhs_number", "name", "date_of_birth"}.isdisjoint(shown)
    text = json.dumps(shown)
    for identifier in (NHS, NAME, "Lovelace", DOB):
        assert identifier not in text
    assert shown["patient"] == "H100" and shown["steps"] and shown["audit"]


def test_pathway_detail_unknown_reference_is_not_found(factory: SessionFactory) -> None:
    open_pathway(factory)
    with factory() as session, pytest.raises(NotFound) as caught:
        queries.pathway_detail(session, "P404", TODAY)
    assert caught.value.field == "pathway"
