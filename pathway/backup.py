"""Backup and restore of the whole database.

SQLite: the online backup API (a consistent copy while the tracker keeps running).
PostgreSQL: pg_dump in its custom format and pg_restore (--clean), from the client tools on PATH.
"""

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    pass


def _libpq_url(url: str) -> str:
    """pg_dump takes a libpq URL: the same URL without SQLAlchemy's driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH (install the PostgreSQL client tools)")
    return found


def backup(url: str, target: Path) -> None:
    """Write a consistent copy of the database at `url` to `target`."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        with sqlite3.connect(_sqlite_path(url)) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return
    if backend == "postgresql":
        _run([_tool("pg_dump"), "--format=custom", f"--file={target}", "--no-owner", _libpq_url(url)])
        return
    raise BackupError(f"no backup method for {backend}")


def restore(url: str, source: Path) -> None:
    """Replace the database at `url` with the contents of a backup made by `backup`."""
    if not source.exists():
        raise BackupError(f"no backup file at {source}")
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        with sqlite3.connect(source) as copy, sqlite3.connect(_sqlite_path(url)) as database:
            copy.backup(database)
        return
    if backend == "postgresql":
        command = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction"]
        _run([*command, f"--dbname={_libpq_url(url)}", str(source)])
        return
    raise BackupError(f"no restore method for {backend}")


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[:500]}")
