"""The registry file: one row per PMT case with the minimum data set, missing items named per row."""

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlmodel import col, func, select
from typer.testing import CliRunner

from pathway.exports import registry
from pathway.exports.registry import COLUMNS, registry_export, write_csv, write_json
from pathway.services.bulk_load import load_cohort
from pathway.store.db import SessionFactory, make_engine, make_session_factory, migrate
from pathway.store.models import Procedure
from tests.conftest import (
    ADMIN,
    consent,
    diagnose,
    governance,
    mdt,
    procedure,
    register,
    run,
    safety_check,
    start_anticoagulation,
    treated_pathway,
)
from tests.support.sites import list_sites

AS_OF = date(2026, 6, 15)
LATER = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
SELECTION = {
    "provoked_status": "unprovoked",
    "active_cancer": False,
    "prior_dvt": False,
    "functional_status": "good",
    "life_expectancy_ge_1y": "yes",
    "bleeding_risk": "low",
    "baseline_villalta": 8,
    "baseline_vcss": 6,
}
DEVICE = {"device_maker": "Synthetic Devices Ltd", "device_mechanism": "aspiration", "venoplasty": False}


def _case(
    factory: SessionFactory,
    pathway: str = "P1",
    patient: str = "H100",
    nhs: str = "9434765919",
    performed_on: str = "2026-06-05",
    diagnosis: dict[str, Any] | None = None,
    **details: Any,
) -> None:
    """A PMT pathway presented on 2026-06-01 (site North Vale holds a governance notice)."""
    run(factory, register(patient=patient, nhs=nhs, name="Alex Testcase"))
    run(factory, diagnose(pathway=pathway, patient=patient, **(diagnosis or {})))
    run(factory, start_anticoagulation(pathway))
    run(factory, mdt(pathway))
    run(factory, consent(pathway))
    run(factory, safety_check(pathway, checked_on=performed_on))
    run(factory, procedure(pathway, performed_on=performed_on, **details))


def _rows(factory: SessionFactory, as_of: date = AS_OF, **options: Any) -> list[dict[str, Any]]:
    with factory() as session:
        return registry_export(session, as_of, **({"sites": None} | options))


def test_a_complete_case_misses_nothing_and_awaits_its_outcome_visits(sqlite_factory: SessionFactory) -> None:
    run(sqlite_factory, governance())
    _case(sqlite_factory, diagnosis=SELECTION, **DEVICE)
    (row,) = _rows(sqlite_factory)
    assert row["missing"] == []
    assert set(row["pending"]) == {
        *(f"{v}_{i}" for v in ("month6", "month12") for i in ("seen_on", "villalta_total", "pts_category", "patency")),
        "recurrent_vte",
        "bleeding",
    }
    assert {"thrombolytic_agent", "stent_veins", "filter_model", "died_on", "close_reason"} <= set(
        row["not_applicable"]
    )
    assert row["age_at_presentation"] == 56  # born 1970-03-04, presented 2026-06-01
    assert row["most_proximal_vein"] == "common_femoral"
    assert row["cfv_involved"] is True
    assert row["route"] == "special_arrangements"
    assert row["mdt_roles"] == ["haematologist", "interventional_radiologist", "vascular_surgeon"]
    assert row["days_presentation_to_procedure"] == 4
    assert row["complications"] == []
    assert row["registry_status"] == "due"


def test_absent_items_are_listed_as_missing_never_silently_blank(sqlite_factory: SessionFactory) -> None:
    treated_pathway(sqlite_factory)
    (row,) = _rows(sqlite_factory)
    # tests.conftest.diagnose records NG158's CDT criteria; every other selection item is absent.
    criteria = {"functional_status", "life_expectancy_ge_1y", "bleeding_risk"}
    safety = {"safety_check_on", "platelets", "inr", "safety_check_failed"}  # no check recorded before it
    assert set(row["missing"]) == ({*SELECTION, *DEVICE} - criteria) | safety
    text = write_csv([row])
    (cells,) = list(csv.DictReader(io.StringIO(text)))
    blank = {column for column, value in cells.items() if value == ""}
    assert blank == set(row["missing"]) | set(row["pending"]) | {"registry_submitted_on", "registry_ref"}
    assert cells["thrombolytic_agent"] == "n/a"
    assert cells["complications"] == "none"
    assert cells["missing"].split(";") == row["missing"]


def test_thrombolysis_stent_and_filter_make_their_details_required(sqlite_factory: SessionFactory) -> None:
    run(sqlite_factory, governance())
    _case(
        sqlite_factory,
        diagnosis=SELECTION,
        technique="pmt_with_thrombolysis",
        stent=True,
        ivc_filter="temporary",
        **DEVICE,
    )
    (row,) = _rows(sqlite_factory)
    assert set(row["missing"]) == {
        "thrombolytic_agent",
        "lytic_dose_mg",
        "infusion_hours",
        "stent_veins",
        "stent_count",
        "stent_model",
        "filter_model",
    }
    assert row["filter_inserted_on"] == "2026-06-05"
    assert "filter_outcome" in row["pending"]  # retrieval window (day 29-54) still ahead
    (late,) = _rows(sqlite_factory, as_of=date(2026, 8, 1))
    assert "filter_outcome" in late["missing"]


def test_outcome_visits_become_missing_after_their_window_and_report_when_recorded(
    sqlite_factory: SessionFactory,
) -> None:
    run(sqlite_factory, governance())
    _case(sqlite_factory, diagnosis=SELECTION, **DEVICE)
    run(
        sqlite_factory,
        {
            "command": "record_follow_up",
            "pathway": "P1",
            "visit": "month6",
            "seen_on": "2026-12-05",
            "villalta": {"items": [1] * 11, "ulcer": False},
            "patency": "patent",
            "recurrent_vte": "none",
            "bleeding": "minor",
        },
        at=LATER,
    )
    (row,) = _rows(sqlite_factory, as_of=date(2027, 8, 1))  # month 12 window (X + 12 months + 42 days) is over
    assert row["month6_villalta_total"] == 11
    assert row["month6_pts_category"] == "moderate"
    assert row["month6_patency"] == "patent"
    assert row["recurrent_vte"] == "none"
    assert row["bleeding"] == "minor"
    assert set(row["missing"]) == {
        "month12_seen_on",
        "month12_villalta_total",
        "month12_pts_category",
        "month12_patency",
    }
    assert row["pending"] == []


def test_death_is_reported_and_later_visits_no_longer_required(sqlite_factory: SessionFactory) -> None:
    run(sqlite_factory, governance())
    _case(sqlite_factory, diagnosis=SELECTION, **DEVICE)
    submitted = {"command": "submit_registry", "pathway": "P1", "submitted_on": "2026-06-13", "registry_ref": "R-9"}
    run(sqlite_factory, submitted)  # version 2: a death is still registered (HTG516 1.3) before closing
    run(sqlite_factory, {"command": "close_pathway", "pathway": "P1", "closed_on": "2026-06-14", "reason": "died"})
    (row,) = _rows(sqlite_factory, as_of=date(2027, 8, 1))
    assert row["died"] is True
    assert row["died_on"] == "2026-06-14"
    assert row["pathway_status"] == "closed"
    assert row["missing"] == []
    assert "month12_seen_on" in row["not_applicable"]


def test_only_pmt_cases_in_the_period_by_procedure_date(factory: SessionFactory) -> None:
    run(factory, governance())
    _case(factory, "P1", performed_on="2026-06-05")
    _case(factory, "P2", "H200", "9434765870", performed_on="2026-06-10")
    _case(factory, "P3", "H300", "9434765862", performed_on="2026-06-08", technique="cdt")
    assert [r["pathway"] for r in _rows(factory)] == ["P1", "P2"]
    assert [r["pathway"] for r in _rows(factory, start=date(2026, 6, 6))] == ["P2"]
    assert [r["pathway"] for r in _rows(factory, end=date(2026, 6, 5))] == ["P1"]
    assert _rows(factory, start=date(2026, 6, 6), end=date(2026, 6, 9)) == []


def test_registry_file_has_no_name_nhs_number_date_of_birth_or_hospital_number(sqlite_factory: SessionFactory) -> None:
    treated_pathway(sqlite_factory)
    rows = _rows(sqlite_factory)
    for text in (write_csv(rows), write_json(rows)):
        for identifier in ("9434765919", "1970-03-04", "H100", "Alex"):
            assert identifier not in text
    assert not {"nhs_number", "date_of_birth", "name", "patient"} & set(COLUMNS)


def test_csv_and_json_writers_carry_every_column(sqlite_factory: SessionFactory) -> None:
    treated_pathway(sqlite_factory)
    rows = _rows(sqlite_factory)
    reader = csv.reader(io.StringIO(write_csv(rows)))
    assert tuple(next(reader)) == COLUMNS
    (loaded,) = json.loads(write_json(rows))
    assert tuple(loaded) == COLUMNS
    assert loaded["veins"] == ["common_femoral", "femoral"]


def test_demo_cohort_gives_one_row_per_pathway_with_a_pmt(sqlite_factory: SessionFactory) -> None:
    load_cohort(sqlite_factory, patients=80, seed=11, today=AS_OF, actor=ADMIN)
    with sqlite_factory() as session:
        expected = session.exec(
            select(func.count(func.distinct(Procedure.pathway_id))).where(
                col(Procedure.technique).in_(["pmt", "pmt_with_thrombolysis"])
            )
        ).one()
    rows = _rows(sqlite_factory)
    assert len(rows) == expected > 0
    assert all(r["technique"] in ("pmt", "pmt_with_thrombolysis") for r in rows)
    assert [r["procedure_on"] for r in rows] == sorted(r["procedure_on"] for r in rows)


def test_long_exports_show_a_progress_bar_on_a_terminal(
    sqlite_factory: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    treated_pathway(sqlite_factory)
    monkeypatch.setattr(registry, "PROGRESS_FROM", 1)
    screen = io.StringIO()
    _rows(sqlite_factory, progress=Console(file=screen, force_terminal=True, width=100))
    assert "Reading PMT cases" in screen.getvalue()


@pytest.fixture
def cli_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SessionFactory:
    """A migrated SQLite file that the CLI reaches through PATHWAY_DATABASE_URL."""

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    migrate(engine)
    monkeypatch.setenv("PATHWAY_DATABASE_URL", url)
    made = make_session_factory(engine)
    list_sites(made)
    return made


def test_cli_export_registry_as_csv_and_json(cli_factory: SessionFactory, tmp_path: Path) -> None:
    from pathway.cli.exports import export_app

    treated_pathway(cli_factory)
    runner = CliRunner()
    printed = runner.invoke(
        export_app, ["registry", "--from", "2026-06-01", "--to", "2026-06-30", "--as-of", "2026-06-15"]
    )
    assert printed.exit_code == 0, printed.output
    assert [r["pathway"] for r in csv.DictReader(io.StringIO(printed.stdout))] == ["P1"]
    target = tmp_path / "registry.json"
    written = runner.invoke(export_app, ["registry", "--format", "json", "--output", str(target)])
    assert written.exit_code == 0, written.output
    assert [r["pathway"] for r in json.loads(target.read_text())] == ["P1"]
    assert "1 PMT cases written" in written.stderr
    empty = runner.invoke(export_app, ["registry", "--to", "2026-05-31", "--format", "json"])
    assert json.loads(empty.stdout) == []
    wrong = runner.invoke(export_app, ["registry", "--from", "June"])
    assert wrong.exit_code == 2
    backwards = runner.invoke(export_app, ["registry", "--from", "2026-07-01", "--to", "2026-06-01"])
    assert backwards.exit_code == 2
