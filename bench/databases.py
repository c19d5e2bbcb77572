"""Scratch databases: a SQLite file in a temporary folder, or a PostgreSQL database created for the
run and dropped after it (never the project's own database)."""

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_server_url() -> str:
    return os.environ.get("PATHWAY_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)


def postgres_server() -> Engine | None:
    """The server (maintenance database) when one answers, else None."""
    engine = create_engine(postgres_server_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        engine.dispose()
        return None
    return engine


@dataclass
class Scratch:
    """Where one backend's databases live for the run."""

    backend: str
    folder: Path
    server: Engine | None = None
    made: list[str] | None = None

    def fresh(self, label: str) -> str:
        """The URL of a new, empty database called after `label` (replacing one of that name)."""
        if self.backend == "sqlite":
            path = self.folder / f"{label}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return f"sqlite:///{path}"
        assert self.server is not None and self.made is not None
        name = f"pathway_bench_{label}_{uuid.uuid4().hex[:6]}"
        with self.server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.made.append(name)
        return make_url(postgres_server_url()).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        if self.backend == "sqlite":
            path = url.removeprefix("sqlite:///")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        assert self.server is not None and self.made is not None
        name = make_url(url).database
        with self.server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.made:
            self.made.remove(name)


@contextmanager
def scratch(backend: str) -> Iterator[Scratch]:
    """Scratch space for one backend; everything made in it is removed on the way out."""
    folder = Path(tempfile.mkdtemp(prefix=f"pathway-bench-{backend}-"))
    server = postgres_server() if backend == "postgresql" else None
    if backend == "postgresql" and server is None:
        shutil.rmtree(folder, ignore_errors=True)
        raise ConnectionError(f"no PostgreSQL server answers at {postgres_server_url()}")
    space = Scratch(backend, folder, server, [] if server else None)
    try:
        yield space
    finally:
        if server is not None:
            for name in list(space.made or []):
                with server.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            server.dispose()
        shutil.rmtree(folder, ignore_errors=True)
