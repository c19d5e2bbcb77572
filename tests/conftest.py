"""Shared fixtures: real databases (SQLite file; PostgreSQL when PATHWAY_TEST_POSTGRES_URL is set),
a pinned recording time, and builders for commands and records."""

import os
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from pathway.domain.roles import Actor
from pathway.domain.vocabulary import Role
from pathway.services.commands import Outcome, execute
from pathway.store.db import SessionFactory, make_engine, make_session_factory, migrate
from pathway.store.schema import metadata
from tests.support.sites import list_sites

POSTGRES_URL = os.environ.get("PATHWAY_TEST_POSTGRES_URL")
ADMIN = Actor("test-operator", Role.admin)
# Noon in London on the pinned day; every test that records pins its own time.
RECORDED_AT = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def pathway_home(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every test gets its own data folder (outbox, digests, audit anchors, kept copies), never ./.pathway,
    and a generated audit key."""
    home = tmp_path / "pathway-home"
    monkeypatch.setenv("PATHWAY_HOME", str(home))
    monkeypatch.setenv("PATHWAY_AUDIT_KEY", secrets.token_hex(32))  # tests sign their audit anchors
    return home


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for the whole run, migrated once and dropped at the end."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need PATHWAY_TEST_POSTGRES_URL (set by .ci/run)")
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"pathway_test_{uuid.uuid4().hex[:10]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def _empty_postgres(url: str) -> Engine:
    engine = make_engine(url)
    with engine.begin() as connection:
        # The audit table refuses changes by trigger; test clean-up runs as a superuser in replica
        # mode, where ordinary triggers do not fire.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        # DELETE, not TRUNCATE: on a handful of rows it is far cheaper (no table rewrite, no
        # exclusive locks), and ids need not restart (the audit chain numbers its own rows).
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
    return engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    """An empty, migrated database: a SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        made = make_engine(f"sqlite:///{tmp_path / 'pathway.db'}")
        metadata.create_all(made)
    else:
        made = _empty_postgres(request.getfixturevalue("postgres_database"))
    list_sites(make_session_factory(made))  # the sites the tests record at, on the managed list
    yield made
    made.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Any) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'pathway.db'}")
    metadata.create_all(made)
    list_sites(make_session_factory(made))
    yield made
    made.dispose()


@pytest.fixture
def factory(engine: Engine) -> SessionFactory:
    return make_session_factory(engine)


@pytest.fixture
def sqlite_factory(sqlite_engine: Engine) -> SessionFactory:
    return make_session_factory(sqlite_engine)


def run(
    factory: SessionFactory,
    payload: dict[str, Any],
    *,
    at: datetime = RECORDED_AT,
    actor: Actor = ADMIN,
    expected_version: int | None = None,
) -> Outcome:
    return execute(factory, actor, payload, recorded_at=at, expected_version=expected_version)


# --- command builders: a valid iliofemoral PMT pathway presented on 2026-06-01 ---------------

PRESENTED = date(2026, 6, 1)
NHS = "9434765919"  # valid check digit


def register(patient: str = "H100", nhs: str = NHS, site: str = "North Vale", **extra: Any) -> dict[str, Any]:
    return {
        "command": "register_patient",
        "patient": patient,
        "nhs_number": nhs,
        "date_of_birth": "1970-03-04",
        "sex": "female",
        "site": site,
    } | extra


def diagnose(
    pathway: str = "P1",
    patient: str = "H100",
    veins: list[str] | None = None,
    presented: date = PRESENTED,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "command": "record_diagnosis",
        "patient": patient,
        "pathway": pathway,
        "presented_on": presented.isoformat(),
        "symptom_onset_on": presented.isoformat(),
        "referred_on": presented.isoformat(),
        "leg": "left",
        "veins": veins or ["common_femoral", "femoral"],
        "imaging": "duplex",
        # NG158's CDT criteria recorded as met (version 2 reads them before thrombolysis).
        "functional_status": "good",
        "life_expectancy_ge_1y": "yes",
        "bleeding_risk": "low",
    } | extra


MDT_ATTENDEES = [
    {"name": "Dr V", "role": "vascular_surgeon"},
    {"name": "Dr I", "role": "interventional_radiologist"},
    {"name": "Dr H", "role": "haematologist"},
]


def mdt(pathway: str = "P1", held_on: str = "2026-06-02", decision: str = "pmt", **extra: Any) -> dict[str, Any]:
    return {
        "command": "record_mdt",
        "pathway": pathway,
        "held_on": held_on,
        "attendees": MDT_ATTENDEES,
        "decision": decision,
        "thrombolysis": False,
        "rationale": "Iliofemoral DVT, good functional status.",
    } | extra


def governance(site: str = "North Vale", notified_on: str = "2026-01-10") -> dict[str, Any]:
    return {"command": "notify_governance", "site": site, "notified_on": notified_on, "lead": "Dr Lead"}


def consent(pathway: str = "P1", consented_on: str = "2026-06-03", **extra: Any) -> dict[str, Any]:
    return {
        "command": "record_consent",
        "pathway": pathway,
        "consented_on": consented_on,
        "information_leaflet": "PIL-PMT v2.0",
        "uncertainties_discussed": True,
    } | extra


def procedure(pathway: str = "P1", performed_on: str = "2026-06-05", **extra: Any) -> dict[str, Any]:
    """A PMT; a filter comes with an indication (R9) and, when temporary, a removal plan at X + 40 (R10)."""
    payload = {
        "command": "record_procedure",
        "pathway": pathway,
        "performed_on": performed_on,
        "technique": "pmt",
        "device": "Synthetic catheter",
        "access_vein": "popliteal",
        "ivc_filter": "none",
        "stent": False,
        "clot_removal": "grade_3",
        "complications": [],
    } | extra
    if payload["ivc_filter"] in ("temporary", "permanent"):
        payload.setdefault("filter_indication", "adjunct_to_catheter_therapy")
    if payload["ivc_filter"] == "temporary":
        removal = date.fromisoformat(str(performed_on)) + timedelta(days=40)
        payload.setdefault("filter_removal_planned_on", removal.isoformat())
    return payload


def safety_check(pathway: str = "P1", checked_on: str = "2026-06-04", **extra: Any) -> dict[str, Any]:
    """A pre-procedure safety check that passes: platelets, INR, Hb and eGFR in range, no contraindication."""
    return {
        "command": "record_safety_check",
        "pathway": pathway,
        "checked_on": checked_on,
        "platelets": 210,
        "inr": 1.1,
        "haemoglobin": 132,
        "egfr": 85,
        "contraindications": [],
    } | extra


def start_anticoagulation(pathway: str = "P1", started_on: str = "2026-06-01") -> dict[str, Any]:
    return {"command": "start_anticoagulation", "pathway": pathway, "agent": "apixaban", "started_on": started_on}


def open_pathway(factory: SessionFactory, pathway: str = "P1", patient: str = "H100", **diagnosis: Any) -> None:
    """A registered patient with an open pathway (no MDT yet)."""
    run(factory, register(patient=patient))
    run(factory, diagnose(pathway=pathway, patient=patient, **diagnosis))


def treated_pathway(factory: SessionFactory, pathway: str = "P1") -> None:
    """Governance, MDT (PMT), consent and the procedure on 2026-06-05."""
    run(factory, governance())
    open_pathway(factory, pathway)
    run(factory, start_anticoagulation(pathway))
    run(factory, mdt(pathway))
    run(factory, consent(pathway))
    run(factory, procedure(pathway))
