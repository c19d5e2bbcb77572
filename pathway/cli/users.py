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
from pathway import Actor, Role, SessionFactory, utc_now
from pathway.cli.context import database_url, operator, session_factory
from pathway.errors import AccountError
from pathway.services.accounts import (
    add_user,
    disable_user,
    link_sso,
    list_users,
    reset_password,
    set_role,
    set_sites,
)

users_app = typer.Typer(help="Named dashboard accounts.", no_args_is_help=True)
console = Console()

# One demo account per role; passwords are random, made on first use and kept in PATHWAY_HOME.
DEMO_ACCOUNTS = {f"demo-{role.value}": role for role in Role}


class ListFormat(StrEnum):
    table = "table"
    json = "json"


def _factory() -> SessionFactory:
    return session_factory()


def _operator() -> Actor:
    return operator()  # who runs the command: the audit's actor


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
    site: Annotated[
        list[str] | None, typer.Option("--site", help="A site whose patients the account sees (repeat; none: all).")
    ] = None,
) -> None:
    """Add a named account. The password comes from standard input, never from the command line."""
    password = _password_from_stdin(password_stdin)
    try:
        view = add_user(_factory(), name, role, password, at=utc_now(), by=_operator(), sites=site or None)
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
        view = disable_user(_factory(), name, at=utc_now(), by=_operator())
    except AccountError as error:
        raise _fail(error) from None
    typer.echo(f"disabled {view.name}")


def _password_from_stdin(asked: bool) -> str:
    if not asked:
        typer.echo("give the password on standard input with --password-stdin", err=True)
        raise typer.Exit(2)
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("role")
def role_(
    name: Annotated[str, typer.Argument(help="The account.")],
    role: Annotated[Role, typer.Argument(help="coordinator, clinician, auditor or admin.")],
) -> None:
    """Change an account's role (open sessions take it at their next page run)."""
    try:
        view = set_role(_factory(), name, role, at=utc_now(), by=_operator())
    except AccountError as error:
        raise _fail(error) from None
    typer.echo(f"{view.name} is now {view.role}")


@users_app.command("sites")
def sites_(
    name: Annotated[str, typer.Argument(help="The account.")],
    site: Annotated[list[str] | None, typer.Argument(help="The sites it sees; none given: every site.")] = None,
) -> None:
    """Set the sites whose patients an account sees (admins and auditors see every site)."""
    try:
        view = set_sites(_factory(), name, site or None, at=utc_now(), by=_operator())
    except AccountError as error:
        raise _fail(error) from None
    typer.echo(f"{view.name} sees {', '.join(view.sites) if view.sites else 'every site'}")


@users_app.command("sso")
def sso_(
    name: Annotated[str, typer.Argument(help="The account.")],
    subject: Annotated[
        str | None, typer.Argument(help="The identity provider's `sub` for this person; none given: unlink.")
    ] = None,
) -> None:
    """Link a single sign-on identity to an account (its role and sites apply), or unlink it."""
    try:
        view = link_sso(_factory(), name, subject, at=utc_now(), by=_operator())
    except AccountError as error:
        raise _fail(error) from None
    typer.echo(f"{view.name} {'signs in as ' + repr(subject) if subject else 'has no single sign-on identity'}")


@users_app.command("reset-password")
def reset_password_(
    name: Annotated[str, typer.Argument(help="The account.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the new password from standard input (first line).")
    ] = False,
) -> None:
    """Set a new password, unlock the account and end its open sessions."""
    password = _password_from_stdin(password_stdin)
    try:
        view = reset_password(_factory(), name, password, at=utc_now(), by=_operator())
    except AccountError as error:
        raise _fail(error) from None
    typer.echo(f"password reset for {view.name}")


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
        add_user(factory, name, role, logins[name], at=utc_now(), by=_operator())
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
