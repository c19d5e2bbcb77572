"""Engines, sessions and migrations. No engine is created at import time."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command as alembic_command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, create_engine

from pathway.settings import normalise_url

MIGRATIONS = Path(__file__).with_name("migrations")

SessionFactory = Callable[[], Session]
# Execution option a writing transaction sets on its connection (see make_engine).
WRITE_OPTION = "pathway_write"


def make_engine(url: str, *, sqlite_busy_seconds: float = 30, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    # A database error's message never carries the statement's values (an INSERT of a patient holds
    # the NHS number, name and date of birth): no identifier in an error, a log or a traceback.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        # Wait for a writer rather than fail; check FKs; WAL lets readers run beside the writer.
        connect_args = {"timeout": sqlite_busy_seconds, "check_same_thread": False}
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url and url != "sqlite://":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # A writer takes SQLite's write lock at BEGIN, so concurrent commands queue instead of
            # failing half-way with SQLITE_BUSY; readers keep plain (deferred) transactions.
            write = connection.get_execution_options().get(WRITE_OPTION)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, class_=Session, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration (idempotent)."""
    alembic_command.upgrade(alembic_config(engine), "head")


@dataclass(frozen=True)
class Database:
    """A database as the adapters hold it: sessions, and a way to drop pooled connections."""

    factory: SessionFactory
    close_pooled: Callable[[], None]  # the engine's dispose: drop pooled connections, reconnect on demand


def open_database(url: str, *, sqlite_busy_seconds: float = 30) -> Database:
    engine = make_engine(url, sqlite_busy_seconds=sqlite_busy_seconds)
    return Database(make_session_factory(engine), engine.dispose)


def session_factory_for(url: str) -> SessionFactory:
    """A session factory on a new engine for `url` (the adapters' one way to reach a database)."""
    return open_database(url).factory
