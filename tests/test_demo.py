"""The synthetic cohort: realistic coverage, test-range NHS numbers, and bulk loading that stores
exactly what recording the same commands one by one through the services would."""

import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from nhs_number import is_valid
from sqlmodel import select

from pathway.errors import CommandRejected
from pathway.services.bulk_load import cohort_size, load_cohort
from pathway.services.commands import execute
from pathway.services.demo import SITES as DEMO_SITES
from pathway.services.demo import at_least_valid, cohort, valid_nhs_numbers
from pathway.store.db import SessionFactory
from pathway.store.models import AuditEvent, Pathway, Patient
from pathway.views import queries
from tests.conftest import ADMIN
from tests.support.sites import list_sites

TODAY = date(2026, 6, 15)
# The replay records each command on the cohort's 'today' (noon in London).
RECORDED = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)


def test_demo_cohort_is_synthetic_and_covers_the_pathway() -> None:
    commands = [c for patient in cohort(800, seed=3, today=TODAY) for c in patient]
    registered = [c for c in commands if c["command"] == "register_patient"]
    assert len(registered) == 800
    assert all(c["nhs_number"].startswith("999") and is_valid(c["nhs_number"]) for c in registered)
    assert len({c["nhs_number"] for c in registered}) == 800
    kinds = Counter(c["command"] for c in commands)
    assert set(kinds) == {
        "register_patient",
        "record_diagnosis",
        "start_anticoagulation",
        "stop_anticoagulation",
        "record_mdt",
        "enrol_research",
        "record_consent",
        "schedule_procedure",
        "record_procedure",
        "submit_registry",
        "record_follow_up",
        "record_anticoagulation_review",
        "record_filter_outcome",
        "close_pathway",
        "record_safety_check",
    }
    decisions = {c["decision"] for c in commands if c["command"] == "record_mdt"}
    assert decisions == {"pmt", "cdt", "open_thrombectomy", "anticoagulation_only"}
    assert {c["reason"] for c in commands if c["command"] == "close_pathway"} == {
        "completed",
        "withdrawn",
        "declined",
        "transferred",
        "died",
    }


def test_demo_cohort_is_deterministic_for_a_seed() -> None:
    first = list(cohort(50, seed=11, today=TODAY))
    assert first == list(cohort(50, seed=11, today=TODAY))
    assert first != list(cohort(50, seed=12, today=TODAY))


def test_demo_load_covers_routes_stages_and_flags(sqlite_factory: SessionFactory) -> None:
    loaded = load_cohort(sqlite_factory, patients=600, seed=5, today=TODAY, actor=ADMIN)
    assert loaded.pathways == 600
    with sqlite_factory() as session:
        pathways = session.exec(select(Pathway)).all()
        rows = queries.worklist(session, TODAY)
    assert {p.route for p in pathways} == {"special_arrangements", "research_only"}
    assert {p.extent for p in pathways} == {"iliofemoral", "femoropopliteal", "calf"}
    open_stages = {p.stage for p in pathways if p.closed_on is None}
    assert {"diagnosis", "mdt", "governance", "consent", "procedure", "registry", "follow_up"} <= open_stages
    assert any(p.closed_on for p in pathways)
    assert sum(1 for p in pathways if p.closed_on) < len(pathways)
    severities = Counter(r.severity for r in rows)
    assert severities["red"] > 0 and severities["amber"] > 0 and severities[None] > 0
    codes = {f.code for r in rows for f in r.flags}
    assert {"MDT_OVERDUE", "TREATMENT_WINDOW_AT_RISK", "CONSENT_OUTSTANDING", "GOVERNANCE_NOTICE_OUTSTANDING"} <= codes
    # Version 2's flags, each on some patient of a realistic cohort.
    assert {
        "SAFETY_CHECK_OUTSTANDING",
        "SAFETY_CHECK_FAILED",
        "OUTSIDE_GUIDANCE_SCOPE",
        "ANTICOAGULATION_RESTART_OVERDUE",
        "THROMBOLYSIS_CRITERIA_NOT_MET",
    } <= codes


# Every version 2 rejection, as (command, the field it names).
VERSION_2_REJECTIONS = {
    "record_procedure.device",
    "record_procedure.outside_criteria_rationale",
    "record_procedure.filter_indication",
    "record_procedure.filter_removal_planned_on",
    "stop_anticoagulation.restart_planned_on",
    "stop_anticoagulation.plan_approved_by",
    "record_diagnosis.pregnant",
    "close_pathway.pathway",
    "record_safety_check.platelets",
    "record_safety_check.contraindications",
}


def test_demo_load_refuses_exactly_its_attempts_and_every_version_2_rejection(sqlite_factory: SessionFactory) -> None:
    """A realistic cohort makes every version 2 mistake now and then: each is refused, counted, audited."""
    patients = list(cohort(1500, seed=5, today=TODAY))
    attempts = sum(len(p.attempts) for p in patients)
    loaded = load_cohort(sqlite_factory, patients=1500, seed=5, today=TODAY, actor=ADMIN)
    assert set(loaded.refused) == VERSION_2_REJECTIONS
    assert sum(loaded.refused.values()) == attempts
    assert loaded.commands == sum(len(p) for p in patients) - attempts + 3  # + the three governance notices
    with sqlite_factory() as session:
        (row,) = session.exec(select(AuditEvent).where(AuditEvent.command == "demo_data")).all()
    assert row.after is not None and row.after["refused"] == loaded.refused


def test_demo_cohort_has_children_pregnancies_holds_and_checks() -> None:
    commands = [c for patient in cohort(1000, seed=8, today=TODAY) for c in patient]
    births = {c["patient"]: date.fromisoformat(c["date_of_birth"]) for c in commands if "date_of_birth" in c}
    under_18 = [
        c
        for c in commands
        if c["command"] == "record_diagnosis"
        and (date.fromisoformat(c["presented_on"]) - births[c["patient"]]).days < 18 * 365
    ]
    assert under_18
    assert any(c.get("pregnant") for c in commands if c["command"] == "record_diagnosis")
    assert any(c.get("outside_scope_plan") for c in commands if c["command"] == "record_mdt")
    holds = [c for c in commands if c["command"] == "stop_anticoagulation" and c["reason"] == "procedure_hold"]
    assert any("plan_approved_by" in c for c in holds)
    checks = [c for c in commands if c["command"] == "record_safety_check"]
    assert any(c["platelets"] < 50 for c in checks) and any(c["inr"] > 1.5 for c in checks)
    assert any(c.get("outside_criteria_rationale") for c in commands if c["command"] == "record_procedure")


def test_demo_bulk_load_equals_replaying_its_commands(sqlite_factory: SessionFactory, tmp_path: Path) -> None:
    """The bulk loader and the services must store the same pathway for the same commands."""
    from pathway.store.db import make_engine, make_session_factory
    from pathway.store.schema import metadata

    log = tmp_path / "cohort.jsonl"
    load_cohort(sqlite_factory, patients=60, seed=9, today=TODAY, actor=ADMIN, log_path=str(log))
    replay_engine = make_engine(f"sqlite:///{tmp_path / 'replay.db'}")
    metadata.create_all(replay_engine)
    replay = make_session_factory(replay_engine)
    list_sites(replay, DEMO_SITES)  # the cohort's sites, listed as load_cohort lists them
    attempts = [p.attempts for p in cohort(60, seed=9, today=TODAY)]
    expected_refusals = sum(len(a) for a in attempts)
    refused = 0
    for line in log.read_text().splitlines():
        try:
            execute(replay, ADMIN, json.loads(line), recorded_at=RECORDED)
        except CommandRejected:
            refused += 1  # the cohort's attempts: the services refuse exactly what the bulk loader did
    assert refused == expected_refusals
    for as_of in (TODAY, date(2026, 7, 1), date(2027, 1, 1)):
        with sqlite_factory() as bulk_session, replay() as replay_session:
            bulk = [r.as_dict() for r in queries.worklist(bulk_session, as_of)]
            replayed = [r.as_dict() for r in queries.worklist(replay_session, as_of)]
        assert bulk == replayed
    with sqlite_factory() as session:
        assert session.exec(select(Patient)).first() is not None


def test_demo_load_with_recurrent_pathways_equals_replaying_its_commands(
    sqlite_factory: SessionFactory, tmp_path: Path
) -> None:
    """Some patients have a second, recurrent DVT pathway (prior_dvt), recorded after their first closed;
    the bulk loader stores what the services store for the same commands."""
    from pathway.store.db import make_engine, make_session_factory
    from pathway.store.schema import metadata

    log = tmp_path / "cohort.jsonl"
    loaded = load_cohort(sqlite_factory, patients=40, pathways=55, seed=4, today=TODAY, actor=ADMIN, log_path=str(log))
    assert (loaded.patients, loaded.pathways) == (40, 55)
    patients = list(cohort(40, seed=4, today=TODAY, pathways=55))
    assert sum(p.pathways for p in patients) == 55
    for patient in (p for p in patients if p.pathways == 2):
        diagnoses = [c for c in patient if c["command"] == "record_diagnosis"]
        closed = [c for c in patient if c["command"] == "close_pathway" and c["pathway"] == diagnoses[0]["pathway"]]
        assert diagnoses[1].get("prior_dvt") is True and closed and closed[0]["reason"] != "died"
        assert closed[0]["closed_on"] < diagnoses[1]["presented_on"]
    replay_engine = make_engine(f"sqlite:///{tmp_path / 'replay.db'}")
    metadata.create_all(replay_engine)
    replay = make_session_factory(replay_engine)
    list_sites(replay, DEMO_SITES)  # the cohort's sites, listed as load_cohort lists them
    refused = 0
    for line in log.read_text().splitlines():
        try:
            execute(replay, ADMIN, json.loads(line), recorded_at=RECORDED)
        except CommandRejected:
            refused += 1
    assert refused == sum(len(p.attempts) for p in patients)
    with sqlite_factory() as bulk_session, replay() as replay_session:
        assert len(bulk_session.exec(select(Pathway)).all()) == 55
        bulk = [r.as_dict() for r in queries.worklist(bulk_session, TODAY)]
        replayed = [r.as_dict() for r in queries.worklist(replay_session, TODAY)]
    assert bulk == replayed


def test_demo_cohort_without_recurrences_is_unchanged_by_the_pathways_option() -> None:
    assert list(cohort(50, seed=3, today=TODAY)) == list(cohort(50, seed=3, today=TODAY, pathways=50))


def test_the_999_range_holds_909091_valid_nhs_numbers() -> None:
    assert valid_nhs_numbers(0) == 909_091
    assert all(at_least_valid(start) <= valid_nhs_numbers(start) for start in (0, 500_000, 999_000, 999_990))


def test_demo_load_refuses_at_once_a_cohort_the_test_range_cannot_hold(sqlite_factory: SessionFactory) -> None:
    """A million patients would run out of 999 NHS numbers: refused before anything is written."""
    try:
        load_cohort(sqlite_factory, patients=909_092, seed=1, today=TODAY, actor=ADMIN)
    except CommandRejected as rejected:
        assert rejected.field == "patients" and "909,091 valid NHS numbers" in rejected.rule
    else:
        raise AssertionError("a cohort larger than the 999 range was accepted")
    for pathways in (10, 41):
        try:
            load_cohort(sqlite_factory, patients=20, pathways=pathways, seed=1, today=TODAY, actor=ADMIN)
        except CommandRejected as rejected:
            assert rejected.field == "pathways"
        else:
            raise AssertionError(f"{pathways} pathways for 20 patients were accepted")
    with sqlite_factory() as session:
        assert session.exec(select(Patient)).first() is None
        assert session.exec(select(AuditEvent)).first() is None


def test_cohort_size_from_pathways_alone() -> None:
    assert cohort_size(None, 1_000_000) == (800_000, 1_000_000)
    assert cohort_size(300, None) == (300, 300)
    assert cohort_size(None, None) == (200, 200)
