"""How a failure reaches a user of the command line: one line and an exit status, never a traceback.

Exit status: 1 the command refused or rejected something (its own message), 2 a usage error (a bad
option or argument, said in one line),
3 the database could not be reached or refused the operation, 4 anything unexpected (a bug).
The details go to `$PATHWAY_HOME/logs/cli.log`, written so that they name no patient: exception types,
the SQL statement without its parameters (every engine has `hide_parameters`), PostgreSQL's diagnostic
names (SQLSTATE, table, column, constraint: never the message, whose DETAIL can quote a value) and the
stack's file, line and function names. Never an exception's message, which may quote what was typed.
"""

import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from typer._click.core import Context  # typer 0.29 vendors click: its Context and usage errors
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup
from typer.exceptions import TyperException

from pathway import (
    DatabaseFailure,
    PolicyError,
    database_label,
    error_kind,
    failed_statement,
    unreachable,
)
from pathway.settings import Settings

DATABASE_EXIT = 3
UNEXPECTED_EXIT = 4
# Every --limit option's maximum: larger than any list, and within every database's integer (a larger
# number was an OverflowError in SQLite's driver).
MAX_LIMIT = 1_000_000_000


def log_path() -> Path:
    return Settings().home / "logs" / "cli.log"


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def details(error: BaseException, command: str) -> str:
    """What the log keeps of a failure: everything that helps, nothing a user typed."""
    lines = [f"{datetime.now(UTC).isoformat(timespec='seconds')} {command}: failed"]
    for link in _chain(error):
        lines.append(f"  {type(link).__module__}.{type(link).__qualname__}")
        statement = failed_statement(link)
        if statement:
            lines.append("    statement: " + statement)
        diag = getattr(link, "diag", None)
        if diag is not None:
            names = ("sqlstate", "schema_name", "table_name", "column_name", "constraint_name")
            found = {name: getattr(diag, name, None) for name in names}
            lines.append("    " + ", ".join(f"{k}={v}" for k, v in found.items() if v))
        for frame in traceback.extract_tb(link.__traceback__):
            lines.append(f"    at {frame.filename}:{frame.lineno} in {frame.name}")
    return "\n".join(lines) + "\n"


def write_log(error: BaseException, command: str) -> Path | None:
    """Append the failure's details to the log; None if the log cannot be written."""
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(details(error, command))
    except OSError:
        return None
    return path


def one_line(error: BaseException, url: str | None, log: Path | None) -> tuple[str, int]:
    """The message a user sees and the exit status."""
    where = f"; details in {log}" if log else ""
    if isinstance(error, DatabaseFailure):
        if unreachable(error):
            return f"cannot reach the database ({database_label(url)}): nothing was changed{where}", DATABASE_EXIT
        return f"database error ({error_kind(error)}){where}", DATABASE_EXIT
    if isinstance(error, PolicyError):  # the operator's own file: the number, its allowed range, why
        return f"{error}: nothing was changed", 1
    if isinstance(error, OSError):
        subject = f" {error.filename}" if error.filename else ""
        return f"cannot use the file{subject}: {error.strerror or type(error).__name__}{where}", 1
    return f"unexpected error ({type(error).__name__}){where}", UNEXPECTED_EXIT


class GuardedGroup(TyperGroup):
    """The root command: whatever a sub-command raises becomes one line and an exit status."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise  # a group given no sub-command shows its help
        except UsageError as error:  # a bad option or argument of a sub-command: one line, status 2
            where = error.ctx.command_path if error.ctx else "pathway"
            typer.echo(f"{where}: {error.format_message()} (see {where} --help)", err=True)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, TyperException):  # the command's own exit: as it said
            raise
        except Exception as error:
            command = f"pathway {ctx.invoked_subcommand or ''}".strip()
            log = write_log(error, command)
            message, status = one_line(error, _database_url(ctx), log)
            typer.echo(message, err=True)
            raise typer.Exit(status) from None


def _database_url(ctx: Context) -> str | None:
    url = ctx.params.get("database_url")
    if isinstance(url, str) and url:
        return url
    try:
        return Settings().resolved_database_url()
    except Exception:  # a broken setting is not worth a second failure here
        return None
