"""`pathway sites add/list/retire`: the managed list of sites (admins only, each change audited).
Mounted by pathway/cli/main.py. The operator acts with the admin role (pathway.cli.context)."""

import json
from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pathway import utc_now
from pathway.cli.context import operator, session_factory
from pathway.errors import AccessDenied, CommandRejected
from pathway.services.sites import add_site, retire_site
from pathway.views.reading import read
from pathway.views.sites import SiteView, site_list

sites_app = typer.Typer(help="The managed list of sites (admins only).", no_args_is_help=True)
console = Console()
Name = Annotated[str, typer.Argument(help='The site, e.g. "North Vale General".')]


def _change(change: Callable[..., SiteView], name: str, done: str) -> None:
    """One change to the list by the operator; a refusal is printed and exits 1, nothing written."""
    try:
        changed = change(session_factory(), operator(), name, at=utc_now())
    except (CommandRejected, AccessDenied) as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"site {done}: {changed.name}")


@sites_app.command("add")
def add(name: Name) -> None:
    """Put a site on the list, so patients, notices and accounts can name it (or bring back a retired one)."""
    _change(add_site, name, "added")


@sites_app.command("retire")
def retire(name: Name) -> None:
    """Take a site off the list for new records; what was recorded there stays."""
    _change(retire_site, name, "retired")


@sites_app.command("list")
def list_command(
    retired: Annotated[bool, typer.Option("--retired", help="Include retired sites.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """The sites on the list, by name."""
    views = read(session_factory(), site_list, retired=retired)
    rows = [view.as_dict() for view in views]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("site", "status", "added", "by", header_style="bold")
    for row in rows:
        table.add_row(escape(row["site"]), row["status"], row["added_at"][:10], escape(row["added_by"]))
    console.print(table)
