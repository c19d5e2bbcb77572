"""Who holds a claim, and whether they are still alive: a lock held for the life of the claim.

Every sweep (and pathway flow run) that claims notifications first takes a lock named after its claim
and holds it until it has marked everything it claimed. The operating system or the database server
releases that lock the moment the holder's process dies, however it dies (SIGKILL, out of memory, a
pulled plug), so a claim whose lock is free belongs to nobody: the next sweep may take its rows over at
once, while the claims of a sweep that is still running, however slowly, are never touched.

- PostgreSQL: a session-level advisory lock (namespace CLAIM_LOCKS, key from the claim) on a connection
  of its own, in autocommit (no transaction stays open). The server drops it when that connection
  closes; with the server-side TCP keepalives set on it, a holder whose machine vanished is noticed
  within about a minute. Which claims are alive is one query on pg_locks, whichever machine holds them.
- SQLite (one machine): an exclusive flock on a file named after the claim in a folder beside the
  database (`<database>.claims/`). The kernel releases it when the holder's last descriptor closes,
  at exit or kill. A claim with no file, or whose file can be locked, is dead.

Why not a heartbeat (a claimed_at renewed every few minutes)? A dead sweep's claims then wait out the
lease (15 minutes) and a re-run in between reports them sent; a live but slow sweep must renew in time
or lose its claims to a second sender. Why not the process id? It is only meaningful on one machine and
is reused. Why not the flow run's state? Sweeps also run outside Prefect (tests, the CLI's temporary
server dies with it), and a crashed run stays `Running` until Prefect's own heartbeats time out.
"""

import fcntl
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from pathway.store.db import SessionFactory

# The advisory-lock namespace of claims (PostgreSQL's two-key form; the audit chain uses a one-key lock).
CLAIM_LOCKS = 7_300_517
# Server-side keepalives of the lock's connection: a vanished holder is dropped within about a minute.
KEEPALIVES = ("SET tcp_keepalives_idle = 30", "SET tcp_keepalives_interval = 10", "SET tcp_keepalives_count = 3")
LIVE_CLAIM_KEYS = text(
    "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = CAST(:namespace AS oid) "
    "AND objsubid = 2 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


class ClaimHolder(Protocol):
    claim: str

    def still_held(self) -> bool: ...


def claim_key(claim: str) -> int:
    """The advisory-lock key of a claim (a uuid4 hex): its first 31 bits."""
    return int(claim[:8], 16) & 0x7FFF_FFFF


def _engine(factory: SessionFactory) -> Engine:
    with factory() as session:
        bind = session.get_bind()
    assert isinstance(bind, Engine)
    return bind


# --- PostgreSQL -------------------------------------------------------------------------------------


class _AdvisoryLock:
    def __init__(self, connection: Connection, claim: str) -> None:
        self.connection, self.claim = connection, claim

    def still_held(self) -> bool:
        try:
            self.connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True


@contextmanager
def _hold_advisory(engine: Engine) -> Iterator[_AdvisoryLock]:
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        for statement in KEEPALIVES:
            connection.execute(text(statement))
        while True:  # a new claim until its key is free (two live claims sharing 31 bits: very rare)
            claim = uuid.uuid4().hex
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:namespace, :key)"),
                {"namespace": CLAIM_LOCKS, "key": claim_key(claim)},
            ).scalar()
            if taken:
                break
        yield _AdvisoryLock(connection, claim)
        connection.execute(
            text("SELECT pg_advisory_unlock(:namespace, :key)"), {"namespace": CLAIM_LOCKS, "key": claim_key(claim)}
        )
        for statement in KEEPALIVES:
            connection.execute(text("RESET " + statement.split()[1]))
    except BaseException:
        connection.invalidate()  # closing the connection is what releases the lock
        raise
    finally:
        connection.close()


def _live_advisory(engine: Engine, claims: set[str]) -> set[str]:
    with engine.connect() as connection:
        keys = {int(row[0]) for row in connection.execute(LIVE_CLAIM_KEYS, {"namespace": CLAIM_LOCKS})}
    return {claim for claim in claims if claim_key(claim) in keys}


# --- SQLite -------------------------------------------------------------------------------------------


def lock_folder(engine: Engine) -> Path:
    """Where a SQLite database's claim locks live: beside the database file."""
    database = engine.url.database
    if not database or database == ":memory:":
        return Path(tempfile.gettempdir()) / f"pathway-claims-memory-{os.getpid()}"
    return Path(f"{Path(database).resolve()}.claims")


class _FileLock:
    def __init__(self, claim: str) -> None:
        self.claim = claim

    def still_held(self) -> bool:
        return True  # a flock cannot be lost while its descriptor stays open


@contextmanager
def _hold_file_lock(engine: Engine) -> Iterator[_FileLock]:
    folder = lock_folder(engine)
    folder.mkdir(parents=True, exist_ok=True)
    claim = uuid.uuid4().hex
    path = folder / f"{claim}.lock"
    unlocked = folder / f".{claim}.new"
    descriptor = os.open(unlocked, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(unlocked, path)  # the file appears already locked: never seen free while we live
        yield _FileLock(claim)
    finally:
        path.unlink(missing_ok=True)  # first, so no checker finds the file unlocked in between
        unlocked.unlink(missing_ok=True)
        os.close(descriptor)


def _live_files(engine: Engine, claims: set[str]) -> set[str]:
    folder = lock_folder(engine)
    live = set()
    for claim in claims:
        try:
            descriptor = os.open(folder / f"{claim}.lock", os.O_RDWR)
        except FileNotFoundError:
            continue  # its holder finished (or never began): dead
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            live.add(claim)
        else:
            (folder / f"{claim}.lock").unlink(missing_ok=True)  # a dead holder's file: tidy it away
        finally:
            os.close(descriptor)
    return live


# --- both ---------------------------------------------------------------------------------------------


@contextmanager
def holding_claim(factory: SessionFactory) -> Iterator[ClaimHolder]:
    """A new claim, held until the block ends (or the process dies, whichever comes first)."""
    engine = _engine(factory)
    dialect = engine.dialect.name
    if dialect == "postgresql":
        with _hold_advisory(engine) as advisory:
            yield advisory
    elif dialect == "sqlite":
        with _hold_file_lock(engine) as file_lock:
            yield file_lock
    else:
        raise NotImplementedError(f"claim locks exist for SQLite and PostgreSQL, not {dialect}")


def live_claims(factory: SessionFactory, claims: Iterable[str]) -> set[str]:
    """Of these claims, the ones whose holder is still running."""
    wanted = set(claims)
    if not wanted:
        return set()
    engine = _engine(factory)
    if engine.dialect.name == "postgresql":
        return _live_advisory(engine, wanted)
    return _live_files(engine, wanted)
