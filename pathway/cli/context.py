"""What every `pathway` sub-command shares: the database (settings plus `--database-url`), its session
factory, the operator acting and the day. The options live in the running command's click context (set
by the main callback), not in a module global, so each invocation starts clean."""

import getpass
import os
from dataclasses import dataclass
from datetime import date

import typer
from typer._click.globals import get_current_context  # typer vendors click

from pathway import Actor, Role, SessionFactory, london_today, session_factory_for, site_key
from pathway.settings import Settings


@dataclass(frozen=True)
class Options:
    """The main callback's options, kept as the root click context's `obj`."""

    database_url: str | None = None
    # The sites the operator works for (`--operator-sites`, PATHWAY_OPERATOR_SITES); None: every site.
    operator_sites: str | None = None


def _options() -> Options:
    ctx = get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return obj if isinstance(obj, Options) else Options()


def database_url() -> str:
    settings = Settings()
    chosen = _options().database_url
    if chosen:
        settings.database_url = chosen
    return settings.resolved_database_url()


def session_factory() -> SessionFactory:
    return session_factory_for(database_url())


def operator_sites(given: str | None) -> frozenset[str] | None:
    """The operator's sites from a comma-separated list (site keys); None or blank: every site."""
    names = [name for name in (given or "").split(",") if name.strip()]
    return frozenset(site_key(name) for name in names) if names else None


def operator() -> Actor:
    """Who the command line acts as: the admin role, limited to `--operator-sites` when given (every
    read, command and export then sees only those sites' pathways, like a dashboard account's)."""
    name = os.environ.get("PATHWAY_OPERATOR") or getpass.getuser()
    return Actor(name=name, role=Role.admin, sites=operator_sites(_options().operator_sites))


def parse_day(value: str | None) -> date:
    if value is None:
        return london_today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("must be a date written YYYY-MM-DD") from None
