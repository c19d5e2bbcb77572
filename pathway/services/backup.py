"""Backup and restore of the whole database. A restore checks the file before it touches anything.

SQLite: the online backup API (a consistent copy while the tracker keeps running).
PostgreSQL: pg_dump in its custom format and pg_restore, from the client tools on PATH.

`backup` writes a new file only: it refuses an existing one unless told to overwrite, and writes
under a temporary name first, so a failed backup never leaves a half-written file under the name.

`restore` works on a private copy of the file (what is checked is what is restored) and refuses, with
the live database untouched, unless every check passes:
1. the file is not empty and is what the backend reads: a sound SQLite database (PRAGMA
   integrity_check) or a pg_dump archive that restores into a scratch database;
2. it holds the tracker's schema at a revision this version of the tracker knows (a backup from a
   newer version, or an unrelated database, is refused);
3. brought up to this version's schema (on the copy), its tables match the models exactly;
4. its audit trail verifies: the hash chain, and its clinical rows against what the trail recorded
   (pathway.store.audit_check, without the live database's anchors: the backup is an earlier state).
Only then is the live database kept as a dated copy (in `keep_dir`) and replaced; the restored
database's head and row count start its anchors afresh (source `restore`, pathway.store.audit_anchor).
"""

import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from pathway.errors import BackupError, BackupRefused
from pathway.store.audit_anchor import RESTORE, AnchorStore
from pathway.store.audit_check import check_audit
from pathway.store.db import MIGRATIONS, make_engine, make_session_factory, migrate
from pathway.store.schema import metadata

SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Restored:
    revision: str  # the backup's schema revision (brought up to this version's after)
    audit_rows: int
    replaced_copy: Path | None  # the live database as it was, kept; None if there was none


def _libpq_url(url: str) -> str:
    """pg_dump takes a libpq URL: the same URL without SQLAlchemy's driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH (install the PostgreSQL client tools)")
    return found


def _run(command: list[str], *, refused: bool = False) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # pg_dump/pg_restore name objects, not row values; the first line says what went wrong.
        first = next((line for line in result.stderr.splitlines() if line.strip()), f"exit status {result.returncode}")
        message = f"{Path(command[0]).name} failed: {first.strip()[:300]}"
        raise (BackupRefused if refused else BackupError)(message)


# --- backup -----------------------------------------------------------------------------------------


def backup(url: str, target: Path, *, overwrite: bool = False) -> None:
    """Write a consistent copy of the database at `url` to `target` (a new file unless `overwrite`)."""
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists; choose another file name (or --overwrite to replace it)")
    partial = target.with_name(f".{target.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        _write_backup(url, partial)
        if overwrite:
            os.replace(partial, target)
        else:
            try:
                os.link(partial, target)  # fails if the name was taken meanwhile: never clobbers
            except FileExistsError:
                raise BackupError(f"{target} already exists; choose another file name") from None
    finally:
        partial.unlink(missing_ok=True)


def _write_backup(url: str, target: Path) -> None:
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        source_path = _sqlite_path(url)
        if not source_path.exists():
            raise BackupError(f"there is no database at {source_path} to back up")
        with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return
    if backend == "postgresql":
        _run([_tool("pg_dump"), "--format=custom", f"--file={target}", "--no-owner", _libpq_url(url)])
        return
    raise BackupError(f"no backup method for {backend}")


# --- checks on a candidate ----------------------------------------------------------------------------


def known_revisions() -> frozenset[str]:
    """Every schema revision this version of the tracker has a migration for."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return frozenset(revision.revision for revision in script.walk_revisions())


def check_database(engine: Engine) -> tuple[str, int]:
    """Refuse unless `engine`'s database is the tracker's at a known revision whose audit trail verifies.

    Brings the database up to this version's schema (call it on a copy, never on the live database).
    Returns the revision it had and the audit trail's row count.
    """
    try:
        if not inspect(engine).has_table("alembic_version"):
            raise BackupRefused("it is not a tracker database (it has no schema revision)")
        with engine.connect() as connection:
            versions = [row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))]
    except SQLAlchemyError as error:
        raise BackupRefused(f"it cannot be read as a database ({type(error).__name__})") from None
    if len(versions) != 1:
        raise BackupRefused(f"it is not a tracker database ({len(versions)} schema revisions recorded)")
    revision = versions[0]
    if revision not in known_revisions():
        raise BackupRefused(
            f"its schema revision {revision!r} is unknown to this version of the tracker "
            "(made by a newer version? restore it with that version)"
        )
    try:
        migrate(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
    except SQLAlchemyError as error:
        raise BackupRefused(f"its schema cannot be brought up to date ({type(error).__name__})") from None
    if differences:
        raise BackupRefused(f"its tables do not match the tracker's schema ({_describe(differences[0])})")
    try:
        check = check_audit(make_session_factory(engine), None, at=datetime.now(UTC), source="restore")
    except (SQLAlchemyError, ValueError, TypeError, KeyError) as error:
        raise BackupRefused(f"its audit trail cannot be read ({type(error).__name__})") from None
    if not check.intact:
        raise BackupRefused(f"its audit trail is broken: {check.problems[0]}")
    return revision, check.rows


def _describe(difference: object) -> str:
    """An autogenerate difference in a few words: the operation and the names it concerns."""
    while isinstance(difference, list) and difference:
        difference = difference[0]
    if isinstance(difference, tuple) and difference:
        names = [getattr(item, "name", item) for item in difference[1:]]
        return " ".join([str(difference[0]), *[n for n in names if isinstance(n, str) and n][:2]])
    return "differences found"


def _check_sqlite_file(path: Path) -> None:
    with path.open("rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if not header:
        raise BackupRefused("the file is empty")
    if header != SQLITE_HEADER:
        raise BackupRefused("it is not a SQLite database")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        raise BackupRefused(f"it is not a readable SQLite database ({error})") from None
    if problems != ["ok"]:
        raise BackupRefused(f"the SQLite integrity check failed ({problems[0][:120]})")


# --- restore -------------------------------------------------------------------------------------------


def restore(
    url: str, source: Path, *, keep_dir: Path, anchors: AnchorStore | None = None, now: datetime | None = None
) -> Restored:
    """Replace the database at `url` with a backup made by `backup`, after checking it (module docstring).

    Raises BackupRefused (nothing touched) when the file is not a sound backup of this tracker.
    """
    restored = _restore(url, source, keep_dir=keep_dir, now=now)
    if anchors is not None:
        engine = make_engine(url)
        try:
            check_audit(
                make_session_factory(engine),
                anchors,
                at=now or datetime.now(UTC),
                source=RESTORE,
                compare_anchors=False,
            )
        finally:
            engine.dispose()
    return restored


def _restore(url: str, source: Path, *, keep_dir: Path, now: datetime | None) -> Restored:
    if not source.exists():
        raise BackupError(f"no backup file at {source}")
    if not source.is_file():
        raise BackupRefused(f"{source} is not a file")
    if source.stat().st_size == 0:
        raise BackupRefused("the file is empty")
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    keep_dir.mkdir(parents=True, exist_ok=True)
    backend = make_url(url).get_backend_name()
    with tempfile.TemporaryDirectory(dir=keep_dir, prefix=".restore-") as scratch:
        candidate = Path(scratch) / "candidate"
        shutil.copyfile(source, candidate)  # private: the file cannot change between check and restore
        if backend == "sqlite":
            return _restore_sqlite(url, candidate, keep_dir, stamp)
        if backend == "postgresql":
            return _restore_postgres(url, candidate, keep_dir, stamp)
    raise BackupError(f"no restore method for {backend}")


def _kept_copy(keep_dir: Path, stamp: str, suffix: str) -> Path:
    path = keep_dir / f"pathway-replaced-{stamp}{suffix}"
    n = 1
    while path.exists():
        n += 1
        path = keep_dir / f"pathway-replaced-{stamp}-{n}{suffix}"
    return path


def _restore_sqlite(url: str, candidate: Path, keep_dir: Path, stamp: str) -> Restored:
    _check_sqlite_file(candidate)
    engine = make_engine(f"sqlite:///{candidate}")
    try:
        revision, rows = check_database(engine)
    finally:
        engine.dispose()
    with sqlite3.connect(candidate) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to copy from
    live = _sqlite_path(url)
    kept = None
    if live.exists() and live.stat().st_size > 0:
        kept = _kept_copy(keep_dir, stamp, ".db")
        backup(url, kept)
    live.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(candidate) as copy, sqlite3.connect(live) as database:
        copy.backup(database)
    return Restored(revision, rows, kept)


@contextmanager
def _scratch_database(url: str) -> Iterator[str]:
    """An empty database on the same server, dropped afterwards: where a PostgreSQL backup is checked."""
    live = make_url(url)
    name = f"pathway_restore_check_{uuid.uuid4().hex[:10]}"
    server = create_engine(live, isolation_level="AUTOCOMMIT", hide_parameters=True)
    try:
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as error:
        server.dispose()
        raise BackupError(
            f"cannot check the backup: creating a scratch database failed ({type(error).__name__}; "
            "the account needs the CREATEDB right)"
        ) from None
    try:
        yield live.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _restore_postgres(url: str, candidate: Path, keep_dir: Path, stamp: str) -> Restored:
    pg_restore = _tool("pg_restore")
    try:
        _run([pg_restore, "--list", str(candidate)], refused=True)
    except BackupRefused as error:
        raise BackupRefused(f"it is not a PostgreSQL backup made by `pathway backup` ({error})") from None
    checked = candidate.with_name("checked")
    with _scratch_database(url) as scratch_url:
        restore_into = [pg_restore, "--no-owner", "--single-transaction", "--exit-on-error"]
        _run([*restore_into, f"--dbname={_libpq_url(scratch_url)}", str(candidate)], refused=True)
        engine = make_engine(scratch_url)
        try:
            revision, rows = check_database(engine)
        finally:
            engine.dispose()
        # What replaces the live database is the checked database itself, at this version's schema.
        _write_backup(scratch_url, checked)
    kept = _kept_copy(keep_dir, stamp, ".backup")
    backup(url, kept)
    command = [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]
    _run([*command, f"--dbname={_libpq_url(url)}", str(checked)])
    return Restored(revision, rows, kept)
