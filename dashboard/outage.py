"""When the pathway database cannot be reached: one clear message, no traceback, nothing half-written.

A connection refused, a dropped connection, a SQLite file that cannot be opened or read, an exhausted
pool: the page shows `MESSAGE` (a save shows `NOT_RECORDED`, sign-in `SIGN_IN`) instead of a
traceback, the session stays signed in, and the next run tries again.
Each failure closes the engine's pooled connections, so a database that comes back is used again
without a restart (a pooled connection to a replaced SQLite file would go on reading the old one),
and drops the cached reads, so no page shows figures read before the outage as current during it.
Writes need no clean-up here: each command is one transaction in pathway.services.commands.execute, which the
database rolls back when the connection fails before the commit.

Errors are recognised by the database driver's own exception classes (DB-API: sqlite3, psycopg),
found on the cause chain of the error SQLAlchemy raised; the adapter never imports SQLAlchemy.
Rejected input, constraint or programming errors are not outages and still surface as such; nor is
a SQLite write lock held past its wait (pathway.errors.DatabaseBusy), which the save reports as busy.

The log line names the error classes and the driver's first line only: never SQLAlchemy's message,
which carries the statement's parameters (NHS numbers, names, dates of birth), and no traceback.
"""

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import psycopg
import streamlit as st

from dashboard import deps
from pathway.errors import PathwayError
from pathway.logs import get_logger

log = get_logger("dashboard.outage")  # structured (pathway.logs): JSON in production

MESSAGE = "The pathway database is not reachable just now; nothing was saved. Try again in a moment."
NOT_RECORDED = (
    "Not saved: the pathway database could not be reached, so this save was not confirmed and most likely "
    "nothing was recorded. Your entries are kept: once it is back, reload the pathway to check, then save again."
)
SIGN_IN = "The pathway database is not reachable just now, so you cannot sign in yet. Try again in a moment."
ICON = ":material/cloud_off:"
# DB-API classes that mean bad input or a bug, not an unreachable database.
_NOT_OUTAGES = ("IntegrityError", "DataError", "ProgrammingError", "NotSupportedError")
# Raised by SQLAlchemy's pool itself (no driver error behind it) when no connection frees up in time.
_POOL_TIMEOUT = "sqlalchemy.exc.TimeoutError"


DRIVERS: tuple[ModuleType, ...] = (sqlite3, psycopg)  # the two databases the tracker runs on


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and what caused it (an explicit cause, or the context unless suppressed)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def _driver_outage(error: BaseException) -> bool:
    for driver in DRIVERS:
        if isinstance(error, driver.Error):
            return not isinstance(error, tuple(getattr(driver, name) for name in _NOT_OUTAGES))
    return False


def unreachable(error: BaseException) -> bool:
    """True when `error` means the database could not be reached or used just now."""
    if isinstance(error, PathwayError):  # the services' own answers (rejected, denied, conflict)
        return False
    for link in _chain(error):
        if _driver_outage(link):
            return True
        if any(f"{k.__module__}.{k.__qualname__}" == _POOL_TIMEOUT for k in type(link).__mro__):
            return True
    return False


def describe(error: BaseException) -> str:
    """What the log says: error classes and the driver's first line, no SQL, no parameters."""
    names = " <- ".join(type(link).__name__ for link in _chain(error))
    driver = next((link for link in _chain(error) if _driver_outage(link)), None)
    first = str(driver).strip().splitlines()[0][:200] if driver is not None and str(driver).strip() else ""
    return f"{names}: {first}" if first else names


def note(error: BaseException, where: str) -> None:
    """Log the outage (no identifiers); close the pooled connections so the next use reconnects, and
    drop the cached reads so nothing read before the outage is shown as current while it lasts."""
    log.warning("pathway database unreachable", where=where, error=describe(error))
    try:
        deps.reset_connections()
    except Exception as failure:  # closing a dead pool must never turn an outage into a crash
        log.warning("closing pooled connections failed", error=type(failure).__name__)
    deps.clear_reads()


def show(message: str = MESSAGE, slot: Any = None) -> None:
    (slot if slot is not None else st).error(message, icon=ICON)


@contextmanager
def reported(
    where: str,
    *,
    message: str = MESSAGE,
    slot: Any = None,
    stop: bool = True,
    then: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Run the block; if the database is unreachable, show `message` (in `slot`), call `then`, and
    stop the run.

    With `stop=False` the run goes on after the block (a fragment, whose page has more below).
    Anything else, including st.stop and st.rerun, passes through untouched.
    """
    try:
        yield
    except Exception as error:
        if not unreachable(error):
            raise
        note(error, where)
        show(message, slot)
        if then is not None:
            then()
        if stop:
            st.stop()


# While a page is down for an outage, it tries the database again every RETRY_SECONDS and reruns once
# the database answers, so a worklist left open on a screen comes back by itself.
RETRY_SECONDS = 30
_RETRY_ARMED = "outage_retry_armed"
RETRIED = "outage_retried"  # the rerun that follows is the retry's, not the user's: no activity


def retry_when_back(probe: Callable[[], object]) -> None:
    """Draw the retry (a timed fragment); `probe` reads the database and raises while it is down."""
    st.session_state[_RETRY_ARMED] = False
    _retry(probe)


@st.fragment(run_every=RETRY_SECONDS)
def _retry(probe: Callable[[], object]) -> None:
    if not st.session_state.get(_RETRY_ARMED):  # drawn by the failed run itself: try at the next tick
        st.session_state[_RETRY_ARMED] = True
        return
    try:
        probe()
    except Exception as error:
        if not unreachable(error):
            raise
        log.info("pathway database still unreachable (retry)", error=describe(error))
        return
    st.session_state[RETRIED] = True
    st.rerun(scope="app")


def quiet(make: Callable[[], Any], where: str) -> Callable[[], Any]:
    """A deferred download's maker: an outage fails it with a plain message (Streamlit logs it)."""

    def run() -> Any:
        try:
            return make()
        except Exception as error:
            if not unreachable(error):
                raise
            note(error, where)
            raise RuntimeError("pathway database unreachable") from None

    return run
