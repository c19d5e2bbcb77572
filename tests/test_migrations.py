"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from pathway.db import make_engine, migrate
from pathway.schema import metadata
from tests.conftest import POSTGRES_URL


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


@pytest.mark.postgres
def test_migrate_from_empty_postgres_matches_models() -> None:
    if not POSTGRES_URL:
        pytest.skip("needs PATHWAY_TEST_POSTGRES_URL")
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"pathway_migrate_{uuid.uuid4().hex[:8]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = make_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
        migrate(engine)
        assert _diff(engine) == []
        engine.dispose()
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _at_revision(engine: Engine, revision: str) -> None:
    from alembic import command

    from pathway.db import alembic_config

    command.upgrade(alembic_config(engine), revision)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    from tests.test_backup import _scratch_database

    yield from _scratch_database("pathway_upgrade")


def test_a_database_from_before_the_audit_chain_and_row_fingerprints_upgrades_and_verifies(
    empty_url: str, tmp_path: Any
) -> None:
    """Audit rows written at revision 0003 are chained by 0004 (its frozen copy of the hashing), and the
    clinical rows from before 0008 are vouched for by its baseline: verify finds all intact, and still
    catches a row changed afterwards."""
    from datetime import UTC, datetime

    from sqlalchemy import MetaData, Table

    from pathway import commands as c
    from pathway.audit_anchor import AnchorStore, database_identity
    from pathway.audit_check import check_audit
    from pathway.db import make_session_factory
    from pathway.policy import policy_in_force
    from pathway.repository import Stamp
    from pathway.services import new_pathway
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
        connection.execute(pathway.insert().values(id=1, version=1, **values))
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
