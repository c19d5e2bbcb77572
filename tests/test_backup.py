"""pathway backup / pathway restore: a round trip gives the identical worklist, on both databases."""

import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from pathway.bulk_load import load_cohort
from pathway.cli import app
from pathway.db import make_engine, make_session_factory, migrate
from tests.conftest import ADMIN, POSTGRES_URL, register, run

AS_OF = date(2026, 6, 15)


def _worklist(runner: CliRunner) -> list[dict[str, object]]:
    result = runner.invoke(app, ["worklist", "--format", "json", "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def _round_trip(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATHWAY_DATABASE_URL", url)
    engine = make_engine(url)
    migrate(engine)
    factory = make_session_factory(engine)
    load_cohort(factory, patients=120, seed=4, today=AS_OF, actor=ADMIN)
    runner = CliRunner()
    before = _worklist(runner)
    assert len(before) > 50
    file = tmp_path / "pathway.backup"
    assert runner.invoke(app, ["backup", str(file)]).exit_code == 0
    run(factory, register(patient="AFTER", nhs="9434765870"))  # a change made after the backup
    load_cohort(factory, patients=5, seed=99, today=AS_OF, actor=ADMIN)
    assert _worklist(runner) != before
    restored = runner.invoke(app, ["restore", str(file)])
    assert restored.exit_code == 0, restored.output
    assert _worklist(runner) == before
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    engine.dispose()


def test_backup_restore_round_trip_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'live.db'}", tmp_path, monkeypatch)


@pytest.fixture
def scratch_postgres() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("needs PATHWAY_TEST_POSTGRES_URL")
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"pathway_backup_{uuid.uuid4().hex[:8]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.mark.postgres
def test_backup_restore_round_trip_postgres(
    scratch_postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _round_trip(scratch_postgres, tmp_path, monkeypatch)


def test_restore_reports_a_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATHWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    result = CliRunner().invoke(app, ["restore", str(tmp_path / "nope.backup")])
    assert result.exit_code == 1 and "no backup file" in result.stderr
