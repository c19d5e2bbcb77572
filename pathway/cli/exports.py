"""`pathway export ...` and `pathway report ...`: two Typer apps that pathway.cli.main mounts.

The database comes from pathway.cli.context; the export modules load lazily so `pathway --help` does not
wait for fhir.resources.
"""

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

export_app = typer.Typer(help="Export one pathway as FHIR, or the registry file.", no_args_is_help=True)
report_app = typer.Typer(help="Reports: the NICE HTG516 special-arrangements audit.", no_args_is_help=True)


@report_app.callback()
def reports() -> None:
    """Reports: the NICE HTG516 special-arrangements audit."""
    # A callback keeps `report` a group while it holds one command, so `pathway report audit` stays stable.


class RegistryFormat(StrEnum):
    csv = "csv"
    json = "json"


class AuditFormat(StrEnum):
    html = "html"
    csv = "csv"


AsOf = Annotated[str | None, typer.Option("--as-of", help="Evaluate as if today were DATE (YYYY-MM-DD).")]
From = Annotated[str | None, typer.Option("--from", help="First procedure date (YYYY-MM-DD), inclusive.")]
To = Annotated[str | None, typer.Option("--to", help="Last procedure date (YYYY-MM-DD), inclusive.")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE instead of standard output.")]


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} must be a date written YYYY-MM-DD") from None


def _today(value: str | None) -> date:
    from pathway import london_today

    return _day(value) or london_today()


def _period(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    first, last = _day(start), _day(end)
    if first and last and first > last:
        raise typer.BadParameter("--from must not be after --to")
    return first, last


def _emit(text: str, output: Path | None, what: str) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"{what} written to {output}", err=True)


def _progress() -> Console:
    # Progress goes to standard error, so piped CSV or JSON on standard output stays clean.
    return Console(stderr=True)


@export_app.command("fhir")
def export_fhir(
    pathway: Annotated[str, typer.Argument(help="The pathway reference.")],
    as_of: AsOf = None,
    output: Output = None,
) -> None:
    """One pathway as a FHIR R4B Bundle (JSON): Patient, Condition, plan, Tasks, procedure, and more."""
    from pathway import utc_now
    from pathway.cli.context import operator, session_factory
    from pathway.errors import NotFound
    from pathway.exports.fhir import bundle_json
    from pathway.services.downloads import export_fhir as audited_export

    day = _today(as_of)
    try:
        bundle = audited_export(session_factory(), operator(), pathway, as_of=day, recorded_at=utc_now())
    except NotFound as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    _emit(bundle_json(bundle) + "\n", output, "FHIR bundle")


@export_app.command("registry")
def export_registry(
    start: From = None,
    end: To = None,
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    output_format: Annotated[RegistryFormat, typer.Option("--format", help="File format.")] = RegistryFormat.csv,
    as_of: AsOf = None,
    output: Output = None,
) -> None:
    """One row per PMT case (by procedure date) with the registry minimum data set; no identifiers."""
    from pathway.cli.context import operator, session_factory
    from pathway.exports.registry import registry_export, write_csv, write_json
    from pathway.views.reading import read

    first, last = _period(start, end)
    rows = read(
        session_factory(),
        registry_export,
        _today(as_of),
        start=first,
        end=last,
        site=site,
        sites=operator().sites,  # per-site access: only the operator's sites
        progress=_progress(),
    )
    text = write_json(rows) if output_format is RegistryFormat.json else write_csv(rows)
    _emit(text, output, f"{len(rows)} PMT cases")


@report_app.command("audit")
def report_audit(
    site: Annotated[str | None, typer.Option(help="Only this site (default: every site).")] = None,
    start: From = None,
    end: To = None,
    output_format: Annotated[AuditFormat, typer.Option("--format", help="Report format.")] = AuditFormat.html,
    as_of: AsOf = None,
    output: Output = None,
) -> None:
    """The NICE special-arrangements audit of every PMT case for a site and period (HTML or CSV)."""
    from pathway.cli.context import operator, session_factory
    from pathway.exports.audit_report import audit_csv, audit_html, build_audit
    from pathway.views.reading import read

    first, last = _period(start, end)
    day = _today(as_of)
    sites = operator().sites  # per-site access: only the operator's sites
    report = read(
        session_factory(), build_audit, day, site=site, sites=sites, start=first, end=last, progress=_progress()
    )
    text = audit_csv(report) if output_format is AuditFormat.csv else audit_html(report)
    _emit(text, output, f"audit of {len(report.rows)} PMT cases")
