"""pathway backup / pathway restore: a round trip gives the identical worklist, on both databases, and a
restore refuses (leaving the live database exactly as it was) anything that is not a sound backup of ours:
an empty file, an unrelated SQLite file, random bytes, a damaged backup, a backup from a newer schema,
a backup whose audit trail does not verify. The replaced database is kept as a dated copy."""

import json
import random
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from pathway.cli.main import app
from pathway.services.backup import backup
from pathway.services.bulk_load import load_cohort
from pathway.store import audit
from pathway.store.db import make_engine, make_session_factory, migrate
from pathway.store.schema import metadata
from tests.conftest import ADMIN, register, run
from tests.support.databases import scratch_database
from tests.support.sites import list_sites

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
    list_sites(factory)
    load_cohort(factory, patients=120, seed=4, today=AS_OF, actor=ADMIN)
    runner = CliRunner()
    before = _worklist(runner)
    assert len(before) > 50
    file = tmp_path / "pathway.services.backup"
    assert runner.invoke(app, ["backup", str(file)]).exit_code == 0
    run(factory, register(patient="AFTER", nhs="9434765870"))  # a change made after the backup
    load_cohort(factory, patients=5, seed=99, today=AS_OF, actor=ADMIN)
    changed = _worklist(runner)
    assert changed != before
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0  # anchored at more rows than the backup has
    restored = runner.invoke(app, ["restore", str(file)])
    assert restored.exit_code == 0, restored.output
    assert _worklist(runner) == before
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    engine.dispose()


def test_backup_restore_round_trip_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'live.db'}", tmp_path, monkeypatch)


@pytest.fixture
def scratch_postgres() -> Iterator[str]:
    yield from scratch_database("pathway_backup")


@pytest.mark.postgres
def test_backup_restore_round_trip_postgres(
    scratch_postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _round_trip(scratch_postgres, tmp_path, monkeypatch)


def test_restore_reports_a_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATHWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    result = CliRunner().invoke(app, ["restore", str(tmp_path / "nope.backup")])
    assert result.exit_code == 1 and "no backup file" in result.stderr


# --- the hostile files ------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A live tracker database with a small cohort, the one the CLI uses."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'live.db'}"
        scratch = None
    else:
        scratch = scratch_database("pathway_live")
        url = next(scratch)
    monkeypatch.setenv("PATHWAY_DATABASE_URL", url)
    engine = make_engine(url)
    migrate(engine)
    list_sites(make_session_factory(engine))
    load_cohort(make_session_factory(engine), patients=30, seed=5, today=AS_OF, actor=ADMIN)
    engine.dispose()
    yield url
    if scratch is not None:
        next(scratch, None)


def database_state(url: str) -> dict[str, object]:
    """Every table's row count, the schema revision and the audit trail's verdict."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            counts = {
                t.name: connection.execute(select(func.count()).select_from(t)).scalar()
                for t in metadata.tables.values()
            }
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        with make_session_factory(engine)() as session:
            chain = audit.verify(session)
        return {"rows": counts, "revision": revision, "audit": (chain.rows, chain.intact)}
    finally:
        engine.dispose()


def _good_backup(url: str, folder: Path) -> Path:
    file = folder / f"good-{uuid.uuid4().hex[:6]}.backup"
    backup(url, file)
    return file


def _altered_backup(url: str, folder: Path, change: str, undo: str) -> Path:
    """A real backup of the live database taken while `change` was applied (undone afterwards)."""
    engine = make_engine(url)
    replica = "SET session_replication_role = replica; " if engine.dialect.name == "postgresql" else ""
    with engine.begin() as connection:
        for statement in audit.DROP_TRIGGERS[engine.dialect.name]:
            connection.execute(text(statement))
        connection.execute(text(replica + change))
    file = _good_backup(url, folder)
    with engine.begin() as connection:
        connection.execute(text(replica + undo))
    migrate_triggers = audit.POSTGRES_TRIGGERS if engine.dialect.name == "postgresql" else audit.SQLITE_TRIGGERS
    with engine.begin() as connection:
        for statement in migrate_triggers:
            connection.execute(text(statement))
    engine.dispose()
    return file


def _empty(url: str, folder: Path) -> Path:
    file = folder / "empty.backup"
    file.write_bytes(b"")
    return file


def _unrelated_sqlite(url: str, folder: Path) -> Path:
    file = folder / "unrelated.db"
    with sqlite3.connect(file) as connection:
        connection.execute("CREATE TABLE recipe (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO recipe (name) VALUES ('scones')")
    return file


def _random_bytes(url: str, folder: Path) -> Path:
    file = folder / "random.backup"
    file.write_bytes(random.Random(7).randbytes(200_000))
    return file


def _damaged(url: str, folder: Path) -> Path:
    """A real backup with its second half overwritten by random bytes."""
    file = _good_backup(url, folder)
    data = bytearray(file.read_bytes())
    half = len(data) // 2
    data[half:] = random.Random(11).randbytes(len(data) - half)
    file.write_bytes(bytes(data))
    return file


def _newer_revision(url: str, folder: Path) -> Path:
    """A backup made by a newer tracker: its schema revision is unknown to this one."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    file = _good_backup(url, folder)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    engine.dispose()
    return file


def _broken_audit_chain(url: str, folder: Path) -> Path:
    return _altered_backup(
        url,
        folder,
        "UPDATE audit_event SET actor = 'forged' WHERE id = 1",
        f"UPDATE audit_event SET actor = '{ADMIN.name}' WHERE id = 1",
    )


def _foreign_schema(url: str, folder: Path) -> Path:
    """A backup of a database whose tables are not the tracker's (a column smuggled in)."""
    return _altered_backup(
        url, folder, "ALTER TABLE consent ADD COLUMN smuggled VARCHAR(10)", "ALTER TABLE consent DROP COLUMN smuggled"
    )


ATTACKS: dict[str, tuple[Callable[[str, Path], Path], str]] = {
    "empty file": (_empty, "empty"),
    "unrelated SQLite file": (_unrelated_sqlite, "not"),
    "random bytes": (_random_bytes, "not"),
    "damaged backup": (_damaged, ""),
    "newer unknown revision": (_newer_revision, "0099_from_the_future"),
    "broken audit trail": (_broken_audit_chain, "audit trail"),
    "tables not the tracker's": (_foreign_schema, "do not match the tracker's schema"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_restore_refuses_a_file_that_is_not_a_sound_backup_and_leaves_the_live_database(
    live_url: str, tmp_path: Path, attack: str
) -> None:
    make, reason = ATTACKS[attack]
    file = make(live_url, tmp_path)
    before = database_state(live_url)
    assert before["audit"] == (before["rows"]["audit_event"], True)  # type: ignore[index]

    result = CliRunner().invoke(app, ["restore", str(file)])

    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("restore refused: ") and line.endswith("the live database was not changed"), line
    assert reason.lower() in line.lower()
    assert "Traceback" not in result.output
    assert database_state(live_url) == before


def test_restore_keeps_the_replaced_database_as_a_dated_copy(live_url: str, tmp_path: Path, pathway_home: Path) -> None:
    file = _good_backup(live_url, tmp_path)
    factory = make_session_factory(make_engine(live_url))
    run(factory, register(patient="LATE", nhs="9434765870"))  # only in the replaced database
    replaced = database_state(live_url)

    result = CliRunner().invoke(app, ["restore", str(file)])

    assert result.exit_code == 0, result.output
    (kept,) = (pathway_home / "replaced").iterdir()
    assert str(kept) in result.stdout and kept.name.startswith("pathway-replaced-20")
    scratch = make_url(live_url)
    if scratch.get_backend_name() == "sqlite":
        kept_url = f"sqlite:///{kept}"
        assert database_state(kept_url) == replaced
    else:
        copy = scratch_database("pathway_kept")
        kept_url = next(copy)
        from pathway.services.backup import restore

        restore(kept_url, kept, keep_dir=tmp_path / "unused")
        assert database_state(kept_url) == replaced
        next(copy, None)
    assert database_state(live_url)["rows"]["patient"] == replaced["rows"]["patient"] - 1  # type: ignore[index]


def test_backup_refuses_to_overwrite_an_existing_file(live_url: str, tmp_path: Path) -> None:
    file = tmp_path / "precious.backup"
    file.write_bytes(b"last week's backup")
    result = CliRunner().invoke(app, ["backup", str(file)])
    assert result.exit_code == 1
    assert "already exists" in result.stderr and "Traceback" not in result.output
    assert file.read_bytes() == b"last week's backup"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial file left
    forced = CliRunner().invoke(app, ["backup", "--overwrite", str(file)])
    assert forced.exit_code == 0, forced.output
    assert file.read_bytes() != b"last week's backup"
