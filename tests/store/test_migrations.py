"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, create_engine, inspect, text
from sqlalchemy.engine import make_url

from pathway.store.db import MIGRATIONS, alembic_config, make_engine, migrate
from pathway.store.schema import metadata
from tests.conftest import POSTGRES_URL
from tests.support.databases import scratch_database


def _diff(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_migrate_from_empty_sqlite_matches_models(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    assert _diff(engine) == []
    assert set(inspect(engine).get_table_names()) >= set(metadata.tables)


def test_migrate_is_idempotent(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    migrate(engine)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert len(versions) == 1


@contextmanager
def fresh_postgres(prefix: str) -> Iterator[Engine]:
    """An empty PostgreSQL database of its own, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("needs PATHWAY_TEST_POSTGRES_URL")
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = make_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
        yield engine
        engine.dispose()
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.mark.postgres
def test_migrate_from_empty_postgres_matches_models() -> None:
    with fresh_postgres("pathway_migrate") as engine:
        migrate(engine)
        assert _diff(engine) == []


# --- version 1 data read under version 2 -----------------------------------------------------------------

V1_AT = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)


def _v1_rows(engine: Engine) -> None:
    """Rows as version 1 wrote them (schema 0006): a 15-year-old's PMT pathway with a temporary filter placed
    without indication or removal plan, an acute-phase Villalta scored "severe", a review at day 10, and a
    procedure hold with no plan, which version 1 flagged as an early stop."""
    tables = MetaData()
    tables.reflect(engine)
    recorded = {"recorded_at": V1_AT, "recorded_by": "v1", "clinician": None}
    with engine.begin() as connection:

        def insert(name: str, **values: Any) -> int:
            result = connection.execute(tables.tables[name].insert().values(**values))
            return int(result.inserted_primary_key[0])

        insert("governance_notice", site="North Vale", notified_on=date(2026, 1, 10), lead="Dr Lead", **recorded)
        patient = insert(
            "patient",
            ref="H1",
            nhs_number="9434765919",
            date_of_birth=date(2011, 1, 15),
            sex="female",
            site="North Vale",
            **recorded,
        )
        pathway = insert(
            "pathway",
            ref="V1",
            patient_id=patient,
            site="North Vale",
            presented_on=date(2026, 2, 1),
            symptom_onset_on=date(2026, 2, 1),
            referred_on=date(2026, 2, 1),
            leg="left",
            veins=["common_femoral", "femoral"],
            imaging="duplex",
            extent="iliofemoral",
            route="special_arrangements",
            decision="pmt",
            stage="follow_up",
            policy_version="2026.11-1",
            updated_at=V1_AT,
            version=9,
            **recorded,
        )
        on = {"pathway_id": pathway, **recorded}
        insert("anticoagulation_event", kind="start", event_on=date(2026, 2, 1), agent="apixaban", **on)
        insert(
            "mdt_meeting",
            held_on=date(2026, 2, 2),
            decision="pmt",
            thrombolysis=False,
            rationale="v1",
            attendees=[{"name": "Dr V", "role": "vascular_surgeon"}],
            **on,
        )
        insert(
            "consent",
            consented_on=date(2026, 2, 3),
            information_leaflet="PIL-PMT v1.0",
            uncertainties_discussed=True,
            **on,
        )
        insert(
            "procedure",
            performed_on=date(2026, 2, 5),
            technique="pmt",
            device=None,
            access_vein="popliteal",
            ivc_filter="temporary",
            stent=False,
            clot_removal="grade_3",
            complications=[],
            **on,
        )
        insert("registry_submission", submitted_on=date(2026, 2, 20), registry_ref="R-V1", **on)
        insert(
            "follow_up_visit",
            visit="early",
            seen_on=date(2026, 2, 12),
            villalta_items=[3] * 5 + [2] * 6,
            villalta_ulcer=False,
            villalta_total=27,
            pts_category="severe",
            **on,
        )
        insert("filter_outcome", decided_on=date(2026, 3, 10), outcome="retrieved", **on)
        insert("anticoagulation_review", reviewed_on=date(2026, 2, 11), decision="continue_defined", **on)
        insert("anticoagulation_event", kind="stop", event_on=date(2026, 6, 1), stop_reason="procedure_hold", **on)
        # Version 1's stored plan: the hold was an early stop, red from the beginning.
        insert(
            "flag_window",
            pathway_id=pathway,
            code="ANTICOAGULATION_STOPPED_EARLY",
            severity="red",
            severity_rank=2,
            starts_on=date(1, 1, 1),
            ends_on=date(9999, 12, 31),
            due_on=date(2026, 6, 1),
        )


def _upgrade_v1_database_and_read(engine: Engine) -> None:
    from pathway.services.commands import execute, replan_under_policy
    from pathway.store.db import make_session_factory
    from pathway.views import queries
    from tests.conftest import ADMIN, safety_check

    command.upgrade(alembic_config(engine), "0006")
    _v1_rows(engine)
    migrate(engine)
    assert _diff(engine) == []
    factory = make_session_factory(engine)
    assert replan_under_policy(factory, ADMIN, recorded_at=V1_AT) == 1
    assert replan_under_policy(factory, ADMIN, recorded_at=V1_AT) == 0  # every plan is current now
    as_of = date(2026, 7, 5)
    with factory() as session:
        (row,) = queries.worklist(session, as_of)
        shown = queries.pathway_detail(session, "V1", as_of).as_dict()
    codes = {f.code: f.severity.value for f in row.flags}
    assert "ANTICOAGULATION_STOPPED_EARLY" not in codes  # a hold never counts (version 2)
    assert codes["ANTICOAGULATION_RESTART_OVERDUE"] == "red"  # no plan recorded: watched from stop + 30
    assert codes["OUTSIDE_GUIDANCE_SCOPE"] == "amber"  # 15 on presentation
    assert {f["code"] for f in shown["flags"]} == set(codes)
    assert shown["record"]["follow_ups"][0]["pts_category"] is None  # acute phase, whatever v1 stored
    assert shown["record"]["follow_ups"][0]["pts_reading"] == "acute phase, not diagnostic"
    assert shown["pts"]["status"] == "not_yet_assessable"
    assert shown["safety"]["anticoagulation_hold"]["restart_planned_on"] is None
    with factory() as session:
        late = queries.pathway_detail(session, "V1", date(2026, 9, 1)).flags
    # The review at day 10 is not the 3-month review: minimum_end is 2026-05-05 (X + 3 months).
    assert "ANTICOAGULATION_REVIEW_OVERDUE" in {f.code for f in late}
    outcome = execute(factory, ADMIN, safety_check(pathway="V1", checked_on="2026-06-10"), recorded_at=V1_AT)
    assert outcome.version == 11  # v1's version 9, the re-plan, then this command


def test_a_version_1_sqlite_database_upgraded_with_rows_is_read_under_version_2(tmp_path: Any) -> None:
    _upgrade_v1_database_and_read(make_engine(f"sqlite:///{tmp_path / 'v1.db'}"))


@pytest.mark.postgres
def test_a_version_1_postgres_database_upgraded_with_rows_is_read_under_version_2() -> None:
    with fresh_postgres("pathway_v1") as engine:
        _upgrade_v1_database_and_read(engine)


def test_migration_0007_only_adds() -> None:
    source = (MIGRATIONS / "versions" / "0007_safety_net.py").read_text()
    upgrade = source.split("def upgrade()")[1].split("def downgrade()")[0]
    assert 'down_revision: str | None = "0006"' in source
    assert "drop" not in upgrade.lower() and "alter_column" not in upgrade and "execute" not in upgrade


def _at_revision(engine: Engine, revision: str) -> None:
    from alembic import command

    from pathway.store.db import alembic_config

    command.upgrade(alembic_config(engine), revision)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    yield from scratch_database("pathway_upgrade")


def test_a_database_from_before_the_audit_chain_and_row_fingerprints_upgrades_and_verifies(
    empty_url: str, tmp_path: Any
) -> None:
    """Audit rows written at revision 0003 are chained by 0004 (its frozen copy of the hashing), and the
    clinical rows from before 0009 are vouched for by its baseline: verify finds all intact, and still
    catches a row changed afterwards."""
    from datetime import UTC, datetime

    from sqlalchemy import MetaData, Table

    from pathway.domain import commands as c
    from pathway.domain.policy import policy_in_force
    from pathway.services.commands import new_pathway
    from pathway.store.audit_anchor import AnchorStore, database_identity
    from pathway.store.audit_check import check_audit
    from pathway.store.db import make_session_factory
    from pathway.store.repository import Stamp
    from tests.conftest import RECORDED_AT, diagnose, mdt, run

    engine = make_engine(empty_url)
    _at_revision(engine, "0003")
    with engine.begin() as connection:
        old = Table("audit_event", MetaData(), autoload_with=connection)
        for n in (1, 2):
            connection.execute(
                old.insert().values(
                    id=n, at=datetime(2026, 1, n, 9, tzinfo=UTC), actor="old", role="admin", command="register_patient"
                )
            )
    _at_revision(engine, "0006")
    with engine.begin() as connection:
        tables = MetaData()
        patient = Table("patient", tables, autoload_with=connection)
        pathway = Table("pathway", tables, autoload_with=connection)
        stamp = Stamp(RECORDED_AT, "old", None)
        row = {"ref": "H100", "nhs_number": "9434765919", "name": None, "sex": "female", "site": "North Vale"}
        born = datetime(1970, 3, 4).date()
        connection.execute(patient.insert().values(id=1, date_of_birth=born, **row, **stamp.columns()))
        command = c.parse_command(diagnose())
        assert isinstance(command, c.RecordDiagnosis)
        values = new_pathway(command, 1, "North Vale", stamp, policy_in_force())
        at_0006 = {name: value for name, value in values.items() if name in pathway.c}  # later columns wait
        connection.execute(pathway.insert().values(id=1, version=1, **at_0006))
    migrate(engine)
    factory = make_session_factory(engine)
    store = AnchorStore(tmp_path / "anchors.jsonl", b"k" * 32, database_identity(empty_url))

    first = check_audit(factory, store, at=RECORDED_AT, source="verify")
    assert first.intact, first.problems
    assert first.rows == 3 and first.clinical_rows == 2  # two old rows and the baseline; patient and pathway
    run(factory, mdt())  # a command at this revision, fingerprinted by itself
    assert check_audit(factory, store, at=RECORDED_AT, source="verify").intact
    with engine.begin() as connection:
        connection.execute(text("UPDATE pathway SET leg = 'right'"))
    changed = check_audit(factory, store, at=RECORDED_AT, source="verify")
    assert any(p.startswith("pathway: the rows with ids 1 to 1, vouched for by audit row 3") for p in changed.problems)
    engine.dispose()
