"""Spreadsheet formula injection (OWASP CSV injection; hazard H12): a site, reference, device,
registry reference or complication typed as a formula is written as text by every CSV export, while
numbers (a window of -8 days) and dates stay numbers and dates. Each export path is run for real:
`pathway worklist --format csv`, `pathway export registry --format csv`, `pathway report audit
--format csv` (on both databases), and the dashboard's CSV downloads.
"""

import csv
import io
from datetime import date
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from dashboard import components
from pathway.cli.main import app
from pathway.exports.csv_file import cell, neutralise, write_csv
from pathway.store.db import SessionFactory
from pathway.views import queries
from tests.conftest import (
    consent,
    diagnose,
    governance,
    mdt,
    procedure,
    register,
    run,
    start_anticoagulation,
)
from tests.support.sites import list_sites

SITE = '=HYPERLINK("http://127.0.0.1:8699/x","click")'
DEVICE = "=1+1"
REGISTRY_REF = "@SUM(A1)"
COMPLICATION = "+cmd|' /C calc'!A0"
LEAD = "-2+3"
AS_OF = date(2026, 6, 20)  # P1 presented 2026-06-01 is then treated; P2 presented 2026-06-01 is 5 days past its window


def formula_cells(text: str) -> list[str]:
    """Cells a spreadsheet would run as formulas: those starting = + - @ tab or CR that are not numbers."""
    found = []
    for row in csv.reader(io.StringIO(text, newline="")):
        for value in row:
            if value.startswith(("=", "+", "-", "@", "\t", "\r")):
                try:
                    float(value)
                except ValueError:
                    found.append(value)
    return found


def cells_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def record_formulas(factory: SessionFactory) -> None:
    """Two pathways at a site named as a formula: P1 treated with formula texts, P2 past its window."""
    list_sites(factory, [SITE])  # an admin may well have put a hostile name on the list
    run(factory, governance(site=SITE) | {"lead": LEAD})
    run(factory, register(patient="H1", nhs="9990000018", site=SITE))
    run(factory, register(patient="H2", nhs="9990000026", site=SITE))
    run(factory, diagnose(pathway="P1", patient="H1"))
    run(factory, diagnose(pathway="P2", patient="H2"))
    run(factory, start_anticoagulation("P1"))
    run(factory, mdt("P1"))
    run(factory, consent("P1"))
    run(factory, procedure("P1", device=DEVICE, complications=[COMPLICATION]))
    run(
        factory,
        {"command": "submit_registry", "pathway": "P1", "submitted_on": "2026-06-10", "registry_ref": REGISTRY_REF},
    )


# --- the writer ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", SITE, "-", "=", "@"])
def test_text_that_starts_a_formula_gets_a_leading_quote(text: str) -> None:
    assert neutralise(text) == "'" + text
    assert cell(text) == "'" + text
    assert formula_cells(write_csv([{"a": text}], ["a"])) == []
    assert cells_of(write_csv([{"a": text}], ["a"]))[1] == ["'" + text]


@pytest.mark.parametrize("text", ["North Vale", "P-1", "1+1", "a=b", "'quoted", "", "Dr O'Neil"])
def test_other_text_is_written_as_it_is(text: str) -> None:
    assert cell(text) == text


def test_numbers_and_dates_stay_numbers_and_dates() -> None:
    import numpy as np

    values = {"n": -8, "f": -0.5, "big": 10**12, "np": np.int64(-3), "npf": np.float64(2.5), "nan": float("nan")}
    values |= {"d": date(2026, 6, 1), "yes": True, "no": np.bool_(False), "none": None, "list": ["=x", "y"]}
    (header, row) = cells_of(write_csv([values], list(values)))
    assert header == list(values)
    assert row == ["-8", "-0.5", "1000000000000", "-3", "2.5", "", "2026-06-01", "yes", "no", "", "'=x;y"]
    assert cell(-8) == -8 and isinstance(cell(np.int64(-3)), int)


@pytest.mark.parametrize("text", ["North Vale\r=1+1", "North Vale\n@SUM(A1)", "a\r\n-2+3"])
def test_a_line_break_inside_a_cell_never_starts_a_new_row_with_a_formula(text: str) -> None:
    rows = cells_of(write_csv([{"a": text, "b": 1}], ["a", "b"]))
    assert rows == [["a", "b"], [text, "1"]]


def test_a_column_name_that_starts_a_formula_is_neutralised_too() -> None:
    assert cells_of(write_csv([{"=x": 1}], ["=x"]))[0] == ["'=x"]


# --- the command line, on both databases ------------------------------------------------------------


@pytest.fixture
def cli(engine: Engine, factory: SessionFactory, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PATHWAY_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PATHWAY_OPERATOR", "csv-test")
    record_formulas(factory)
    return CliRunner()


def _invoke(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_worklist_csv_writes_formulas_as_text_and_days_as_numbers(cli: CliRunner) -> None:
    text = _invoke(cli, "worklist", "--as-of", AS_OF.isoformat(), "--format", "csv")
    assert formula_cells(text) == []
    rows = {row["pathway"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}
    assert rows["P1"]["site"] == rows["P2"]["site"] == "'" + SITE
    assert rows["P2"]["window_days_left"] == "-5"  # a number, not text: missed by 5 days
    assert rows["P2"]["next_due_on"] == "2026-06-02"


def test_registry_csv_writes_formulas_as_text(cli: CliRunner) -> None:
    text = _invoke(cli, "export", "registry", "--as-of", AS_OF.isoformat(), "--format", "csv")
    assert formula_cells(text) == []
    (row,) = list(csv.DictReader(io.StringIO(text, newline="")))
    assert row["pathway"] == "P1"
    assert row["site"] == "'" + SITE
    values = set(row.values())
    assert "'" + DEVICE in values and "'" + REGISTRY_REF in values and "'" + COMPLICATION in values


def test_audit_csv_writes_formulas_as_text(cli: CliRunner) -> None:
    text = _invoke(cli, "report", "audit", "--as-of", AS_OF.isoformat(), "--format", "csv", "--site", "x")
    assert text.count("\n") == 1  # another site: the header only
    text = _invoke(cli, "report", "audit", "--as-of", AS_OF.isoformat(), "--format", "csv", "--site", SITE)
    assert formula_cells(text) == []
    (row,) = list(csv.DictReader(io.StringIO(text, newline="")))
    assert row["site"] == "'" + SITE
    assert "'" + COMPLICATION in set(row.values())


# --- the dashboard's downloads ------------------------------------------------------------------------


def test_the_dashboards_worklist_download_is_formula_safe(sqlite_factory: SessionFactory) -> None:
    record_formulas(sqlite_factory)
    with sqlite_factory() as session:
        rows = queries.worklist(session, AS_OF)
    for identifiers in (True, False):
        text = components.worklist_csv(rows, identifiers=identifiers)
        assert formula_cells(text) == []
        by_pathway = {row["pathway"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}
        assert by_pathway["P2"]["window_days_left"] == "-5"
        assert by_pathway["P1"]["site"] == "'" + SITE


def test_the_dashboards_table_downloads_are_formula_safe() -> None:
    """Reports, reminders and policy downloads go through components.csv_bytes."""
    table = pd.DataFrame(
        [
            {"site": SITE, "code": DEVICE, "days": -8, "share": 0.25, "month": "2026-06", "pathways": 3},
            {"site": "North Vale", "code": REGISTRY_REF, "days": 4, "share": None, "month": "2026-07", "pathways": 0},
        ]
    )
    text = components.csv_bytes(table).decode("utf-8")
    assert formula_cells(text) == []
    rows = cells_of(text)
    assert rows[0] == ["site", "code", "days", "share", "month", "pathways"]
    assert rows[1] == ["'" + SITE, "'" + DEVICE, "-8", "0.25", "2026-06", "3"]
    assert rows[2] == ["North Vale", "'" + REGISTRY_REF, "4", "", "2026-07", "0"]


def test_the_exports_page_offers_the_formula_safe_files(sqlite_factory: SessionFactory) -> None:
    """The Exports page's registry and audit CSV buttons hand over the writers tested above."""
    from pathway.exports.audit_report import audit_csv, build_audit
    from pathway.exports.registry import registry_export
    from pathway.exports.registry import write_csv as registry_csv

    record_formulas(sqlite_factory)
    with sqlite_factory() as session:
        rows: list[dict[str, Any]] = registry_export(session, AS_OF, sites=None)
        report = build_audit(session, AS_OF, sites=None)
    for text in (registry_csv(rows), audit_csv(report)):
        assert formula_cells(text) == []
        assert "'" + SITE in {value for row in cells_of(text) for value in row}
