"""The database driver's failures, described without quoting anything a user typed: what the adapters
need to tell "cannot reach the database" from "the database refused this", without importing SQLAlchemy."""

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError, StatementError

# Every failure raised by the database layer (connection, statement, pool).
DatabaseFailure = SQLAlchemyError


def unreachable(error: BaseException) -> bool:
    """The database could not be reached (refused, unknown host, no such file), as opposed to an error
    it raised while running a statement."""
    return isinstance(error, OperationalError) and (error.connection_invalidated or error.statement is None)


def transient(error: BaseException) -> bool:
    """A failure worth trying again: the database was unreachable, busy, locked or broke a deadlock
    (the driver's OperationalError), as opposed to a statement it refused."""
    return isinstance(error, OperationalError)


def error_kind(error: SQLAlchemyError) -> str:
    """The driver's error class (e.g. RaiseException, DataError): what went wrong, quoting nothing."""
    return type(error.orig).__name__ if isinstance(error, DBAPIError) else type(error).__name__


def failed_statement(error: BaseException) -> str | None:
    """The SQL a failure ran, on one line (without its parameters: every engine hides them)."""
    if isinstance(error, StatementError) and error.statement:
        return " ".join(str(error.statement).split())
    return None


def database_label(url: str | None) -> str:
    """Which database, without a password: `postgresql at host:port/name` or `sqlite at path`."""
    if not url:
        return "the database"
    try:
        parsed = make_url(url)
    except Exception:  # an unparseable URL is described, not echoed
        return "the database"
    where = parsed.database or ""
    if parsed.host:
        where = f"{parsed.host}:{parsed.port or ''}/{where}"
    return f"{parsed.get_backend_name()} at {where}"
