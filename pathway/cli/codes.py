"""`pathway codes ...` and `pathway leaflets ...`: two Typer apps that pathway.cli.main mounts."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pathway.cli.errors import MAX_LIMIT
from pathway.codes import CodeDetail, search_codes, show_code
from pathway.errors import UnknownCodeError, UnknownLeafletError
from pathway.exports.csv_file import write_csv
from pathway.leaflets import Leaflet, get_leaflet, list_leaflets, render_html, render_pdf

codes_app = typer.Typer(help="Search diagnosis (ICD-10, ICD-10-CM) and procedure codes, offline.", no_args_is_help=True)
leaflets_app = typer.Typer(help="Patient information leaflets (PMT, CDT, open thrombectomy).", no_args_is_help=True)


class CodeSystem(StrEnum):
    icd10 = "icd10"
    icd10cm = "icd10cm"
    procedure = "procedure"


class ListFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class ShowFormat(StrEnum):
    table = "table"
    json = "json"


def _console() -> Console:
    # Built per call so output goes to the sys.stdout in force at the time (CliRunner swaps it).
    return Console(soft_wrap=False)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=1)


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _echo_csv(rows: list[dict[str, str]], columns: list[str]) -> None:
    typer.echo(write_csv(rows, columns), nl=False)  # formula-safe cells (pathway.exports.csv_file)


SystemOption = Annotated[
    CodeSystem | None, typer.Option("--system", help="Only this code system (default: all three).")
]


@codes_app.command("search")
def search(
    text: Annotated[str, typer.Argument(help="Words of the description, or the start of a code (I82.41, i8241).")],
    system: SystemOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_LIMIT, help="Most results to show.")] = 50,
    output: Annotated[ListFormat, typer.Option("--format", help="Output format.")] = ListFormat.table,
) -> None:
    """Search codes: exact code first, then codes starting with TEXT, then descriptions with all its words."""
    try:
        results = search_codes(text, system=system.value if system else None, limit=limit)
    except ValueError as error:
        raise _fail(str(error)) from None
    rows = [entry.to_dict() for entry in results]
    if output is ListFormat.json:
        _echo_json(rows)
    elif output is ListFormat.csv:
        _echo_csv(rows, ["code", "system", "description"])
    elif not rows:
        typer.echo(f"no codes match {text!r}")
    else:
        table = Table("Code", "System", "Description", title=f"Codes matching {text!r}")
        for row in rows:
            table.add_row(row["code"], row["system"], row["description"])
        _console().print(table)


def _print_detail(detail: CodeDetail) -> None:
    console = _console()
    table = Table(show_header=False, title=f"{detail.code} ({detail.system})")
    table.add_row("Description", detail.description)
    table.add_row("Kind", detail.kind)
    if not detail.confirmed:
        table.add_row("Status", "UNCONFIRMED: check before use")
    if detail.parent:
        table.add_row("Parent", f"{detail.parent.code}  {detail.parent.description}")
    if detail.includes:
        table.add_row("Includes", "\n".join(detail.includes))
    if detail.also_in:
        table.add_row("Also in", ", ".join(detail.also_in))
    for note in detail.notes:
        table.add_row("Note", note)
    console.print(table)
    for title, entries in (("Children", detail.children), ("Similar codes", detail.similar)):
        if entries:
            listing = Table("Code", "Description", title=title)
            for entry in entries:
                listing.add_row(entry.code, entry.description)
            console.print(listing)
    for section in detail.about:
        console.print(f"\n[bold]{section.heading}[/bold]", highlight=False)
        bullets = Table.grid(padding=(0, 1))
        bullets.add_column(width=3, justify="right")
        bullets.add_column()
        for point in section.points:
            bullets.add_row("-", point)
        console.print(bullets, highlight=False)


@codes_app.command("show")
def show(
    code: Annotated[str, typer.Argument(help="An ICD-10, ICD-10-CM or procedure code, with or without the dot.")],
    system: SystemOption = None,
    output: Annotated[ShowFormat, typer.Option("--format", help="Output format.")] = ShowFormat.table,
) -> None:
    """Show one code: description, parent, children, similar codes and, for procedures, what they involve."""
    try:
        detail = show_code(code, system=system.value if system else None)
    except UnknownCodeError as error:
        raise _fail(str(error)) from None
    if output is ShowFormat.json:
        _echo_json(detail.to_dict())
    else:
        _print_detail(detail)


def _leaflet_row(leaflet: Leaflet) -> dict[str, str]:
    return {
        "key": leaflet.key,
        "identifier": leaflet.identifier,
        "version": leaflet.version,
        "label": leaflet.label,
        "title": leaflet.title,
    }


@leaflets_app.command("list")
def list_command(
    output: Annotated[ListFormat, typer.Option("--format", help="Output format.")] = ListFormat.table,
) -> None:
    """List the leaflets; the label (e.g. 'PIL-PMT v1.0') is what a consent record stores."""
    rows = [_leaflet_row(leaflet) for leaflet in list_leaflets()]
    if output is ListFormat.json:
        _echo_json(rows)
    elif output is ListFormat.csv:
        _echo_csv(rows, ["key", "identifier", "version", "label", "title"])
    else:
        table = Table("Key", "Label", "Title", title="Patient information leaflets")
        for row in rows:
            table.add_row(row["key"], row["label"], row["title"])
        _console().print(table)


@leaflets_app.command("print")
def print_command(
    leaflet_name: Annotated[str, typer.Argument(metavar="LEAFLET", help="Key, identifier or label, e.g. pmt.")],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write a PDF to this file.", dir_okay=False)] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write an HTML page to this file.", dir_okay=False)
    ] = None,
) -> None:
    """Print a leaflet: HTML to standard output, or to the files given with --pdf/--html."""
    try:
        leaflet = get_leaflet(leaflet_name)
    except UnknownLeafletError as error:
        raise _fail(str(error)) from None
    if pdf is None and html is None:
        typer.echo(render_html(leaflet), nl=False)
        return
    try:
        if pdf is not None:
            pdf.write_bytes(render_pdf(leaflet))
            typer.echo(f"wrote {leaflet.label} to {pdf}")
        if html is not None:
            html.write_text(render_html(leaflet), encoding="utf-8")
            typer.echo(f"wrote {leaflet.label} to {html}")
    except OSError as error:
        raise _fail(f"cannot write the leaflet: {error}") from None
