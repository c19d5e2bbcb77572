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
