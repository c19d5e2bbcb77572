"""`pathway reminders ...` and `pathway flows ...` (issue 3).

Mounted by pathway/cli/main.py. Import Prefect inside the command functions, never at module level,
so every other `pathway` command starts without loading Prefect.
"""

import json
import logging
import os
from contextlib import ExitStack
from enum import StrEnum
from typing import Annotated

import typer

from pathway.cli.errors import MAX_LIMIT

reminders_app = typer.Typer(help="Reminders and notifications.", no_args_is_help=True)
flows_app = typer.Typer(help="Prefect flows.", no_args_is_help=True)


class Output(StrEnum):
    table = "table"
    json = "json"


def _use_cli_database() -> None:
    """Flows read their settings from the environment: hand them the database `--database-url` chose."""
    from pathway.cli.context import database_url

    os.environ["PATHWAY_DATABASE_URL"] = database_url()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


class _NoTraceback(logging.Filter):
    """Prefect's console lines without their tracebacks: a user of the command line sees one line per
    failure. Prefect's API handler sees each record first (the console handler is on the root logger),
    so the server's log keeps the traceback; the command's own failure goes to pathway's CLI log."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def _console_without_tracebacks() -> None:
    from prefect.logging.handlers import PrefectConsoleHandler

    for name in ("", "prefect", "prefect.flow_runs", "prefect.task_runs"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, PrefectConsoleHandler):
                handler.addFilter(_NoTraceback())


@reminders_app.command("run")
def run_reminders(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Sweep as if today were DATE.")] = None,
    output: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """Run the reminder sweep once, through Prefect (the configured server, else a temporary one)."""
    from pathway.cli.context import parse_day

    day = parse_day(as_of)
    _use_cli_database()
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.local_stack import temporary_server
    from flows.reminder_sweep import reminder_sweep

    _console_without_tracebacks()
    with ExitStack() as stack:
        if not PREFECT_API_URL.value():
            # Not Prefect's own temporary server: ours stops with this command even when it is killed.
            server = stack.enter_context(temporary_server())
            typer.echo(
                f"started a temporary Prefect server at {server.api_url} (it stops with this command, "
                f"process {server.tether_pid})",
                err=True,
            )
            stack.enter_context(temporary_settings(updates={PREFECT_API_URL: server.api_url}))
        counts = reminder_sweep(as_of=day)
    if output is Output.json:
        typer.echo(json.dumps(counts))
    else:
        typer.echo(
            f"sent {counts['sent']}, already sent {counts['already_sent']}, failed {counts['failed']}, "
            f"in progress in another sweep {counts['in_progress']}"
        )


@reminders_app.command("list")
def list_notifications(
    failed: Annotated[bool, typer.Option("--failed", help="Only those that exhausted their retries.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = 50,
    output: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """Notifications, newest first (pathway reference and site; never patient identifiers)."""
    from pathway.cli.context import operator, session_factory
    from pathway.views.notifications import failed_notifications, recent_notifications
    from pathway.views.reading import read

    view = failed_notifications if failed else recent_notifications
    views = read(session_factory(), view, sites=operator().sites, limit=limit)  # the operator's sites only
    rows = [view.as_dict() for view in views]
    if output is Output.json:
        typer.echo(json.dumps(rows, indent=2))
        return
    columns = ("created_at", "pathway", "site", "code", "severity", "kind", "recipient_role", "status", "attempts")
    typer.echo("\t".join(columns))
    for row in rows:
        typer.echo("\t".join(str(row[c]) for c in columns))


@flows_app.command("serve")
def serve() -> None:
    """Serve every deployment with its schedule from this process (Ctrl-C to stop; schedules stay on)."""
    _use_cli_database()
    from flows.serve import serve_all

    serve_all()


@flows_app.command("up")
def up(port: Annotated[int, typer.Option(help="Port of the Prefect server and UI.")] = 4200) -> None:
    """Start a local Prefect server and the served deployments; stop both with Ctrl-C."""
    from flows.local_stack import start_local_stack, stop_local_stack
    from pathway.settings import Settings

    _use_cli_database()
    processes = start_local_stack(Settings().home, port)
    typer.echo(f"Prefect UI: http://127.0.0.1:{port}  (deployments served; Ctrl-C stops the stack)")
    try:
        processes[-1].wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_local_stack(processes)


@flows_app.command("deploy")
def deploy(
    pool: Annotated[str, typer.Option(help="The Prefect work pool the workers poll (created if missing).")],
    pool_limit: Annotated[
        int | None, typer.Option(min=1, help="Flow runs at once over all the pool's workers (its concurrency limit).")
    ] = None,
) -> None:
    """Register every deployment, its trigger and the alert automations on a process work pool, for
    workers on this machine or others (docs/deploy.md)."""
    from flows.serve import deploy_to_work_pool, ensure_pool, wait_for_server

    wait_for_server()
    ensure_pool(pool, pool_limit)
    for deployment in deploy_to_work_pool(pool):
        typer.echo(str(deployment))


def relay_after_commands() -> None:
    """After recorded commands, send their events now when a Prefect server is configured (PREFECT_API_URL);
    without one, or with the server down, they stay in the outbox for the relay loop and the daily sweep.
    Prefect is imported only then, so a command line without a server starts as fast as before."""
    if not os.environ.get("PREFECT_API_URL"):
        return
    from flows import runtime
    from flows.triggers import relay_outbox

    _use_cli_database()
    relayed = relay_outbox(runtime.session_factory())
    typer.echo(f"{relayed} pathway events sent to Prefect", err=True)


@flows_app.command("relay")
def relay() -> None:
    """Send the outbox's pending events to Prefect every few seconds until Ctrl-C (with a work pool;
    `pathway flows serve` does this itself)."""
    import threading

    from flows.triggers import relay_until

    _use_cli_database()
    stop = threading.Event()
    try:
        relay_until(stop)
    except KeyboardInterrupt:
        stop.set()
