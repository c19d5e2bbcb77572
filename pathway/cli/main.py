"""The `pathway` command line. It acts as an operator with the admin role."""

import json
import secrets
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pathway import DatabaseFailure, error_kind, execute, london_today, open_record, unreachable, utc_now
from pathway import worklist as worklist_view
from pathway.cli.codes import codes_app, leaflets_app
from pathway.cli.context import Options, database_url, operator, parse_day, session_factory
from pathway.cli.errors import MAX_LIMIT, GuardedGroup, write_log
from pathway.cli.exports import export_app, report_app
from pathway.cli.flow_commands import flows_app, relay_after_commands, reminders_app
from pathway.cli.sites import sites_app
from pathway.cli.users import dashboard, users_app
from pathway.errors import CommandRejected, PathwayError
from pathway.exports.csv_file import write_csv
from pathway.logs import configure as configure_logs
from pathway.services.command_log import LineRefused, read_log
from pathway.services.database import holds_no_pathway, init_database, prepare_database
from pathway.settings import Settings
from pathway.views.reading import read

if TYPE_CHECKING:
    from pathway import AnchorStore

app = typer.Typer(
    cls=GuardedGroup,  # every failure: one line and an exit status, details in the log (pathway.cli.errors)
    help="DVT thrombectomy care-pathway tracker (NICE HTG516).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@app.callback()
def main_options(
    ctx: typer.Context,
    database_url: Annotated[
        str | None, typer.Option("--database-url", envvar="PATHWAY_DATABASE_URL", help="SQLAlchemy URL.")
    ] = None,
    operator_sites: Annotated[
        str | None,
        typer.Option(
            "--operator-sites",
            envvar="PATHWAY_OPERATOR_SITES",
            help="Act for these sites only (comma-separated): reads, commands and exports see no other site.",
        ),
    ] = None,
) -> None:
    ctx.obj = Options(database_url=database_url, operator_sites=operator_sites)
    configure_logs(console_level="WARNING")  # the command prints its own results; PATHWAY_LOG_LEVEL=INFO: more


@app.command()
def init() -> None:
    """Create or migrate the database and re-plan pathways planned under an older policy (idempotent)."""
    replanned = init_database(database_url(), operator(), recorded_at=utc_now())
    if replanned:
        typer.echo(f"re-planned {replanned} open pathways under the policy in force")
    typer.echo("database ready")


@app.command()
def apply(
    file: Annotated[typer.FileBinaryRead, typer.Argument(help="A command log, one JSON object per line; - for stdin.")],
    stop_on_error: Annotated[bool, typer.Option("--stop-on-error", help="Stop at the first rejected line.")] = False,
) -> None:
    """Run a command log; each line is its own transaction, and a bad line never stops the others."""
    factory = session_factory()
    actor = operator()
    accepted = rejected = 0
    for number, payload in read_log(file):
        if isinstance(payload, LineRefused):
            reason = payload.reason
        else:
            try:
                execute(factory, actor, payload, recorded_at=utc_now())
                accepted += 1
                continue
            except PathwayError as error:
                reason = str(error)
            except DatabaseFailure as error:
                if unreachable(error):
                    raise  # no line can be recorded: stop, said in one line by the guard
                log = write_log(error, "pathway apply")
                reason = f"the database refused this command ({error_kind(error)}); nothing was recorded"
                reason += f" (details in {log})" if log else ""
        rejected += 1
        typer.echo(f"line {number}: {reason}", err=True)
        if stop_on_error:
            break
    typer.echo(f"{accepted} accepted, {rejected} rejected", err=True)
    if accepted:
        relay_after_commands()
    raise typer.Exit(1 if rejected else 0)


def _emit(rows: list[dict[str, Any]], output: OutputFormat, columns: list[str]) -> None:
    if output is OutputFormat.json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if output is OutputFormat.csv:
        typer.echo(write_csv(rows, columns), nl=False)  # formula-safe cells (pathway.exports.csv_file)
        return
    table = Table(*columns, header_style="bold")
    for row in rows:
        table.add_row(*[_cell(row.get(c)) for c in columns])
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(f"[{'red' if f['severity'] == 'red' else 'yellow'}]{f['code']}[/]" for f in value)
    return escape(str(value))  # recorded text is printed as text, never as console markup


@app.command()
def worklist(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Evaluate as if today were DATE.")] = None,
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    flag: Annotated[str | None, typer.Option(help="Only pathways where this flag code stands.")] = None,
    flagged_only: Annotated[bool, typer.Option("--flagged-only", help="Only flagged pathways.")] = False,
    limit: Annotated[int | None, typer.Option(min=1, max=MAX_LIMIT, help="The first N.")] = None,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Every open pathway, most urgent first."""
    day = parse_day(as_of)
    rows = read(
        session_factory(),
        worklist_view,
        day,
        site=site,
        flag=flag,
        flagged_only=flagged_only,
        limit=limit,
        sites=operator().sites,  # per-site access: another site's pathways are not listed
    )
    data = [row.as_dict() for row in rows]
    if output is OutputFormat.csv:
        for item in data:
            item["flags"] = " ".join(f"{f['code']}:{f['severity']}:{f['due_on']}" for f in item["flags"])
    columns = ["pathway", "site", "stage", "decision", "route", "window_days_left", "next_step", "next_due_on", "flags"]
    if output is OutputFormat.table:
        console.print(f"Worklist as of {day.isoformat()}: {len(data)} open pathways")
    _emit(data, output, ["patient", *columns] if output is not OutputFormat.table else columns)


@app.command()
def show(
    pathway: Annotated[str, typer.Argument(help="The pathway reference.")],
    as_of: Annotated[str | None, typer.Option("--as-of")] = None,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """The whole record of one pathway: steps with due dates, flags and audit history."""
    day = parse_day(as_of)
    try:
        # Audited and checked against the operator's sites (another site's pathway reads as unknown).
        data = open_record(session_factory(), operator(), pathway, as_of=day, recorded_at=utc_now()).as_dict()
    except PathwayError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    if output is OutputFormat.json:
        typer.echo(json.dumps(data, indent=2))
        return
    console.print(
        f"[bold]{data['pathway']}[/] patient {data['patient']} at {data['site']}: {data['status']}, "
        f"stage {data['stage']}, extent {data['extent']}, route {data['route']}, decision {data['decision']}"
    )
    if data["window_days_left"] is not None:
        console.print(f"Treatment window: {data['window_days_left']} days left (as of {day})")
    safety = data["safety"]
    if safety["outside_guidance_scope"]:
        plan = safety["outside_scope_plan"] or "no specialist plan recorded"
        console.print(f"Outside NICE NG158: {'; '.join(safety['outside_guidance_scope'])}: {plan}", markup=False)
    if safety["latest_safety_check"]:
        check = safety["latest_safety_check"]
        console.print(f"Safety check {check['checked_on']}: {'; '.join(check['failures']) or 'passed'}", markup=False)
    for given in safety["outside_criteria_rationale"]:
        console.print(
            f"Thrombolysis outside NG158 criteria ({given['performed_on']}): {given['rationale']}", markup=False
        )
    console.print(f"PTS: {data['pts']['status']} ({data['pts']['basis']})", markup=False)
    if data["pts"]["scores"]:  # each Villalta score with its reading: acute-phase scores say so, never a category
        _emit(data["pts"]["scores"], OutputFormat.table, ["visit", "seen_on", "villalta_total", "reading"])
    _emit(data["steps"], OutputFormat.table, ["stage", "step", "owner_role", "warn_on", "due_on", "done_on"])
    _emit(data["flags"], OutputFormat.table, ["code", "severity", "due_on"])
    _emit(data["audit"], OutputFormat.table, ["at", "actor", "role", "command", "clinician"])


@app.command("demo-data")
def demo_data(
    patients: Annotated[
        int | None, typer.Option(min=1, help="How many synthetic patients (default 200, or 4 in 5 of --pathways).")
    ] = None,
    pathways: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="How many pathways (default one per patient); beyond --patients, some patients have a second, "
            "recurrent DVT pathway. The 999 test range holds 909,091 patients: a million pathways needs this.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same cohort).")] = 7,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The cohort's 'today'.")] = None,
    log: Annotated[str | None, typer.Option(help="Also write the cohort as a command log to this file.")] = None,
) -> None:
    """Load a realistic synthetic cohort (never real people; NHS numbers from the 999 test range)."""
    from pathway.services.bulk_load import load_cohort

    try:
        loaded = load_cohort(
            prepare_database(database_url()),
            patients=patients,
            pathways=pathways,
            seed=seed,
            today=parse_day(as_of),
            actor=operator(),
            log_path=log,
        )
    except CommandRejected as error:  # a cohort too large for the test range: refused before any write
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"loaded {loaded.patients} patients and {loaded.pathways} pathways ({loaded.commands} commands)")


@app.command("demo")
def demo_command(
    patients: Annotated[int, typer.Option(min=1, help="Synthetic patients loaded into an empty database.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed of the cohort.")] = 7,
    prefect_port: Annotated[int, typer.Option(help="Port of the local Prefect server.")] = 4200,
    dashboard_port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8501,
    serve: Annotated[bool, typer.Option(help="Start the Prefect server, the flows and the dashboard.")] = True,
) -> None:
    """The whole product on embedded defaults: database, synthetic cohort, demo accounts, the local
    Prefect server serving every flow on its schedule, and the dashboard. Ctrl-C stops it."""
    import signal

    from pathway.cli.users import demo as demo_accounts
    from pathway.services.bulk_load import load_cohort

    settings = Settings()
    if settings.resolved_audit_key() is None:
        # The demo signs its audit anchors with a generated key, kept beside them for convenience (a real
        # deployment keeps PATHWAY_AUDIT_KEY elsewhere: docs/deploy.md).
        key_file = settings.home / "audit.key"
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
        console.print(f"generated an audit key in {key_file}")
    factory = prepare_database(database_url())
    if holds_no_pathway(factory):
        with console.status(f"loading {patients} synthetic patients"):
            load_cohort(factory, patients=patients, seed=seed, today=london_today(), actor=operator())
    else:
        from pathway.services.commands import replan_under_policy

        replan_under_policy(factory, operator(), recorded_at=utc_now())
    worklist(as_of=None, site=None, flag=None, flagged_only=True, limit=15, output=OutputFormat.table)
    demo_accounts(file=None)
    if not serve:
        return
    from dashboard.launch import start_dashboard, stop_dashboard
    from flows.local_stack import stack_environment, start_local_stack, stop_local_stack

    home = Settings().home
    console.print(f"starting the Prefect server on port {prefect_port} (about a minute on a busy machine)")
    stack = start_local_stack(home, prefect_port)
    try:
        console.print(f"starting the dashboard on port {dashboard_port}")
        env = stack_environment(home, prefect_port) | {"PATHWAY_DATABASE_URL": database_url()}
        dashboard = start_dashboard(dashboard_port, env, address="127.0.0.1")
        try:
            console.print(f"[bold]Dashboard[/]  http://127.0.0.1:{dashboard_port}  (log in with a demo account above)")
            flows = "patient-pathway, reminder-sweep, governance-digest"
            console.print(f"[bold]Prefect UI[/] http://127.0.0.1:{prefect_port}  ({flows})")
            console.print(f"[bold]Outbox[/]     {home / 'outbox.jsonl'}")
            console.print("Ctrl-C stops everything.")
            stop = {signal.SIGINT, signal.SIGTERM}
            signal.pthread_sigmask(signal.SIG_BLOCK, stop)  # deliver Ctrl-C to sigwait, not a handler
            signal.sigwait(stop)
        finally:
            stop_dashboard(dashboard)
    finally:
        stop_local_stack(stack)


audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def anchor_store() -> "AnchorStore":
    """Where this database's audit anchors are kept and the key that signs them (from the settings)."""
    from pathway import anchor_store_for

    return anchor_store_for(Settings(), database_url())


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit trail: its hash chain, the clinical rows against it, and the anchors kept outside
    the database; print the head hash and row count and anchor them. Exit 1 naming what does not match."""
    from pathway import check_audit

    store = anchor_store()
    check = check_audit(session_factory(), store, at=utc_now(), source="verify")
    if not check.intact:
        for problem in check.problems:
            typer.echo(f"audit trail broken: {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit trail intact: {check.rows} rows, head {check.head or 'none (empty)'}")
    typer.echo(f"clinical rows match the audit trail: {check.clinical_rows} rows")
    anchored = "signed" if check.anchor and check.anchor.mac else "NOT signed"
    typer.echo(f"checked against {check.anchors_checked} earlier anchors; anchored ({anchored}) in {store.path}")
    if store.key is None:
        typer.echo(
            "warning: the anchors are not signed (PATHWAY_AUDIT_KEY is not set): a change made in the database "
            f"is caught, but someone who can also write {store.path} could hide one",
            err=True,
        )


@app.command("backup")
def backup_command(
    file: Annotated[Path, typer.Argument(help="Where to write the backup (a new file).")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace FILE if it exists.")] = False,
) -> None:
    """Back up the whole database (SQLite online backup; PostgreSQL pg_dump) to a new file."""
    from pathway.errors import BackupError
    from pathway.services.backup import backup

    try:
        backup(database_url(), file, overwrite=overwrite)
    except BackupError as error:
        typer.echo(f"backup failed: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"backed up to {file}")


@app.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="A backup made by `pathway backup`.")],
    keep_dir: Annotated[
        Path | None,
        typer.Option("--keep-dir", help="Where the replaced database is kept (default: $PATHWAY_HOME/replaced)."),
    ] = None,
) -> None:
    """Replace the database with a backup, once the backup is checked (integrity, schema, revision,
    audit trail); the replaced database is kept as a dated copy."""
    from pathway.errors import BackupError, BackupRefused
    from pathway.services.backup import restore

    try:
        restored = restore(
            database_url(), file, keep_dir=keep_dir or Settings().home / "replaced", anchors=anchor_store()
        )
    except BackupRefused as error:
        typer.echo(f"restore refused: {error}; the live database was not changed", err=True)
        raise typer.Exit(1) from None
    except BackupError as error:
        typer.echo(f"restore failed: {error}; the live database was not changed", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"restored from {file} (schema revision {restored.revision}, audit trail intact: {restored.audit_rows} rows)"
    )
    if restored.replaced_copy:
        typer.echo(f"the replaced database is kept at {restored.replaced_copy}")


# Sub-commands that live in their own modules (each imports heavy libraries lazily).
app.add_typer(codes_app, name="codes", help="Search diagnosis and procedure codes.")
app.add_typer(leaflets_app, name="leaflets", help="Patient information leaflets.")
app.add_typer(users_app, name="users", help="Named dashboard accounts.")
app.add_typer(sites_app, name="sites", help="The managed list of sites (admins only).")
app.command("dashboard", help="Start the Streamlit dashboard.")(dashboard)
app.add_typer(reminders_app, name="reminders", help="Reminders and notifications.")
app.add_typer(flows_app, name="flows", help="Prefect flows.")
app.add_typer(export_app, name="export", help="Export one pathway as FHIR, or the registry file.")
app.add_typer(report_app, name="report", help="Reports: the NICE HTG516 special-arrangements audit.")


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
