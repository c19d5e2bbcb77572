"""`pathway users ...` and `pathway dashboard` (issue 4). Mounted by pathway/cli/main.py.

Streamlit is never imported here: `pathway dashboard` starts it as a subprocess, so every other
`pathway` command starts without loading it.
"""

import json
import os
import secrets
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dashboard.launch import DEFAULT_ADDRESS, dashboard_command
from pathway import Role, SessionFactory, utc_now
from pathway.cli.context import database_url, session_factory
from pathway.errors import AccountError
from pathway.services.accounts import add_user, disable_user, list_users

users_app = typer.Typer(help="Named dashboard accounts.", no_args_is_help=True)
console = Console()

# One demo account per role; passwords are random, made on first use and kept in PATHWAY_HOME.
DEMO_ACCOUNTS = {f"demo-{role.value}": role for role in Role}


class ListFormat(StrEnum):
    table = "table"
    json = "json"


def _factory() -> SessionFactory:
    return session_factory()


def _fail(error: Exception) -> typer.Exit:
    typer.echo(str(error), err=True)
    return typer.Exit(1)


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The person's account name (lower case).")],
    role: Annotated[Role, typer.Option("--role", help="coordinator, clinician, auditor or admin.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (first line).")
    ] = False,
) -> None:
    """Add a named account. The password comes from standard input, never from the command line."""
    if not password_stdin:
        typer.echo("give the password on standard input with --password-stdin", err=True)
        raise typer.Exit(2)
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        view = add_user(_factory(), name, role, password, at=utc_now())
    except AccountError as error:
        raise _fail(error) from None
    typer.echo(f"added {view.name} ({view.role})")


@users_app.command("list")
def list_(output: Annotated[ListFormat, typer.Option("--format")] = ListFormat.table) -> None:
    """Every account with its role, state and last login (never a password or hash)."""
    rows = [view.as_dict() for view in list_users(_factory())]
    if output is ListFormat.json:
        typer.echo(json.dumps(rows, indent=2))
        return
    columns = ["name", "role", "disabled", "failed_attempts", "locked_until", "last_login_at"]
    table = Table(*columns, header_style="bold")
    for row in rows:
        table.add_row(*["" if row[c] is None else str(row[c]) for c in columns])
    console.print(table)


@users_app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="The account to disable.")]) -> None:
    """Disable an account: it can no longer sign in, and its open sessions end."""
    try:
        view = disable_user(_factory(), name)
    except AccountError as error:
        raise _fail(error) from None
    typer.echo(f"disabled {view.name}")


@users_app.command("demo")
def demo(
    file: Annotated[
        Path | None, typer.Option(help="Where the demo passwords are kept (default PATHWAY_HOME/demo-accounts.json).")
    ] = None,
) -> None:
    """Create one demo account per role with a random password (once) and print the logins."""
    from pathway.settings import Settings

    path = file or Settings().home / "demo-accounts.json"
    logins: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    factory = _factory()
    existing = {view.name for view in list_users(factory)}
    for name, role in DEMO_ACCOUNTS.items():
        if name in existing and name in logins:
            continue
        if name in existing:
            typer.echo(f"{name} exists but its password is not in {path}; left as it is", err=True)
            continue
        logins[name] = secrets.token_urlsafe(12)
        add_user(factory, name, role, logins[name], at=utc_now())
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written after each account so a failure part-way loses no password; owner-only.
        path.write_text(json.dumps(logins, indent=2))
        path.chmod(0o600)
    typer.echo("Demo logins (synthetic data only):")
    for name, role in DEMO_ACCOUNTS.items():
        if name in logins:
            typer.echo(f"  {role.value:<12} {name:<18} {logins[name]}")


def dashboard(
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to serve on.")] = 8501,
    address: Annotated[
        str,
        typer.Option(
            "--address",
            help="Address to listen on (default loopback only). Plain HTTP: put TLS in front (docs/deploy.md).",
        ),
    ] = DEFAULT_ADDRESS,
) -> None:
    """Serve the Streamlit dashboard (mounted as `pathway dashboard`); Ctrl-C stops it."""
    env = os.environ | {"PATHWAY_DATABASE_URL": database_url()}
    shown = f"[{address}]" if ":" in address else address
    typer.echo(f"dashboard on http://{shown}:{port} (plain HTTP: put TLS in front for other machines)")
    try:
        raise typer.Exit(subprocess.call(dashboard_command(port, address), env=env))
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
