"""The NICE HTG516 special-arrangements audit: per-case rows, summary figures, CSV and offline HTML."""

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pathway.exports.audit_report import COLUMNS, AuditReport, audit_csv, audit_html, build_audit, leaflet_version
from pathway.store.db import SessionFactory, make_engine, make_session_factory, migrate
from tests.conftest import consent, diagnose, governance, mdt, procedure, register, run, start_anticoagulation
from tests.support.sites import list_sites

AS_OF = date(2026, 7, 20)
LATER = datetime(2026, 7, 20, 12, 0, tzinfo=UTC)


def _case(
    factory: SessionFactory,
    pathway: str,
    patient: str,
    nhs: str,
    *,
    site: str = "North Vale",
    veins: list[str] | None = None,
    performed_on: str = "2026-06-05",
    **details: Any,
) -> None:
    """A PMT pathway presented on 2026-06-01, recorded on 2026-07-20."""
    run(factory, register(patient=patient, nhs=nhs, site=site, name="Sam Example"), at=LATER)
    run(factory, diagnose(pathway=pathway, patient=patient, veins=veins), at=LATER)
    run(factory, start_anticoagulation(pathway), at=LATER)
    run(factory, mdt(pathway), at=LATER)
    if veins and "common_femoral" not in veins:
        enrol = {"study_id": "SYN-1", "ethics_ref": "REC 1", "enrolled_on": "2026-06-03"}
        run(factory, {"command": "enrol_research", "pathway": pathway, **enrol}, at=LATER)
    run(factory, consent(pathway), at=LATER)
    run(factory, procedure(pathway, performed_on=performed_on, **details), at=LATER)


@pytest.fixture
def cohort(sqlite_factory: SessionFactory) -> SessionFactory:
    """Three PMT cases at North Vale (one research-only, one late with a complication and one
    registered), one at Harbour Royal."""
    run(sqlite_factory, governance())
    _case(sqlite_factory, "P1", "H1", "9434765919")
    _case(sqlite_factory, "P2", "H2", "9434765870", veins=["femoral", "popliteal"], performed_on="2026-06-06")
    _case(sqlite_factory, "P3", "H3", "9434765862", performed_on="2026-06-20", complications=["haemoglobinuria"])
    run(
        sqlite_factory,
        {"command": "submit_registry", "pathway": "P3", "submitted_on": "2026-07-01", "registry_ref": "B-3"},
        at=LATER,
    )
    visit = {"command": "record_follow_up", "pathway": "P1", "seen_on": "2026-06-15"}
    run(sqlite_factory, visit | {"visit": "early", "villalta": {"items": [1] * 11, "ulcer": False}}, at=LATER)
    run(sqlite_factory, governance(site="Harbour Royal"))
    _case(sqlite_factory, "P9", "H9", "9434765854", site="Harbour Royal")
    return sqlite_factory


def _report(factory: SessionFactory, site: str | None = "North Vale", **period: Any) -> AuditReport:
    with factory() as session:
        return build_audit(session, AS_OF, site=site, sites=None, **period)


def _by_ref(report: AuditReport) -> dict[str, dict[str, Any]]:
    return {row["pathway"]: row for row in report.rows}


def test_every_pmt_case_of_the_site_is_audited(cohort: SessionFactory) -> None:
    assert list(_by_ref(_report(cohort))) == ["P1", "P2", "P3"]
    assert list(_by_ref(_report(cohort, site=None))) == ["P1", "P9", "P2", "P3"]  # by procedure date, then reference
    assert list(_by_ref(_report(cohort, start=date(2026, 6, 6), end=date(2026, 6, 19)))) == ["P2"]


def test_case_row_checks_each_special_arrangement(cohort: SessionFactory) -> None:
    rows = _by_ref(_report(cohort))
    p1, p2, p3 = rows["P1"], rows["P2"], rows["P3"]
    assert p1["route"] == "special_arrangements"
    assert p1["mdt_quorate"] is True
    assert p1["mdt_missing_roles"] == []
    assert p1["governance_notified_on"] == "2026-01-10"
    assert p1["governance_before_procedure"] is True
    assert p1["arrangements_met"] is True
    assert p1["consented_on"] == "2026-06-03"
    assert p1["information_leaflet"] == "PIL-PMT v2.0"
    assert p1["leaflet_version"] == "2.0"
    assert p1["consent_before_procedure"] is True
    assert p1["days_presentation_to_procedure"] == 4
    assert p1["within_14_days"] is True
    assert p1["registry_status"] == "overdue"  # PMT 2026-06-05: due by 2026-07-05
    assert p1["early_villalta_total"] == 11
    assert p1["early_pts_category"] is None  # day 5-21: acute phase, not diagnostic (version 2)
    assert p1["month6_pts_category"] is None
    assert p2["route"] == "research_only"
    assert p2["research_enrolled_on"] == "2026-06-03"
    assert p2["arrangements_met"] is True
    assert p3["days_presentation_to_procedure"] == 19
    assert p3["within_14_days"] is False
    assert p3["complications"] == ["haemoglobinuria"]
    assert p3["registry_status"] == "submitted"
    assert "device_maker" in p3["minimum_data_set_missing"]


def test_registry_is_overdue_thirty_days_after_the_procedure(cohort: SessionFactory) -> None:
    with cohort() as session:
        on_time = build_audit(session, date(2026, 7, 5), site="North Vale", sites=None)
        later = build_audit(session, date(2026, 7, 6), site="North Vale", sites=None)
    assert _by_ref(on_time)["P1"]["registry_status"] == "due"
    assert _by_ref(later)["P1"]["registry_status"] == "overdue"  # PMT 2026-06-05, due 2026-07-05
    assert _by_ref(later)["P2"]["registry_status"] == "due"  # PMT 2026-06-06


def test_summary_figures(cohort: SessionFactory) -> None:
    figures = {f.key: f for f in _report(cohort).figures}
    assert (figures["within_14_days"].count, figures["within_14_days"].of) == (2, 3)
    assert (figures["governance_before_procedure"].count, figures["governance_before_procedure"].of) == (2, 2)
    assert (figures["research_before_procedure"].count, figures["research_before_procedure"].of) == (1, 1)
    assert (figures["consent_with_leaflet"].count, figures["consent_with_leaflet"].of) == (3, 3)
    assert (figures["registry_submitted"].count, figures["registry_submitted"].of) == (1, 3)
    assert figures["registry_complete"].count == 0
    assert figures["with_complications"].count == 1
    assert figures["within_14_days"].share == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("label", "version"), [("PIL-PMT v1.0", "1.0"), ("PIL-CDT V2", "2"), ("leaflet given", None), (None, None)]
)
def test_leaflet_version_is_read_from_the_label(label: str | None, version: str | None) -> None:
    assert leaflet_version(label) == version


def test_html_report_shows_each_case_the_summary_and_charts_offline(cohort: SessionFactory) -> None:
    html = audit_html(_report(cohort))
    for ref in ("P1", "P2", "P3"):
        assert f'id="case-{ref}"' in html
    assert 'id="case-P9"' not in html
    assert '<strong id="case-count">3</strong>' in html
    assert 'id="figure-within_14_days"' in html
    assert "2 of 3" in html and "67%" in html
    assert html.count("<svg") == 2
    assert "14-day window" in html
    for offline in ("<script", "src=", "<link", "@import"):
        assert offline not in html


def test_reports_hold_no_patient_identifiers(cohort: SessionFactory) -> None:
    report = _report(cohort)
    for text in (audit_html(report), audit_csv(report)):
        for identifier in ("9434765919", "9434765870", "1970-03-04", "Sam Example", "H1,", ">H1<"):
            assert identifier not in text


def test_html_escapes_recorded_text(sqlite_factory: SessionFactory) -> None:
    run(sqlite_factory, governance(site="St <Brigid> & Co"))
    _case(sqlite_factory, "P1", "H1", "9434765919", site="St <Brigid> & Co")
    html = audit_html(_report(sqlite_factory, site="St <Brigid> & Co"))
    assert "St &lt;Brigid&gt; &amp; Co" in html
    assert "<Brigid>" not in html


def test_csv_has_the_audit_columns(cohort: SessionFactory) -> None:
    rows = list(csv.DictReader(io.StringIO(audit_csv(_report(cohort)))))
    assert tuple(rows[0]) == COLUMNS
    assert [r["pathway"] for r in rows] == ["P1", "P2", "P3"]
    assert rows[2]["within_14_days"] == "no"
    assert rows[0]["mdt_roles"] == "haematologist;interventional_radiologist;vascular_surgeon"


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


def test_cli_report_audit_as_html_and_csv(cli_factory: SessionFactory, tmp_path: Path) -> None:
    from pathway.cli.exports import report_app

    run(cli_factory, governance())
    _case(cli_factory, "P1", "H1", "9434765919")
    runner = CliRunner()
    target = tmp_path / "audit.html"
    written = runner.invoke(report_app, ["audit", "--site", "North Vale", "--as-of", "2026-07-20", "-o", str(target)])
    assert written.exit_code == 0, written.output
    assert 'id="case-P1"' in target.read_text()
    printed = runner.invoke(report_app, ["audit", "--format", "csv", "--from", "2026-06-01", "--to", "2026-06-30"])
    assert printed.exit_code == 0, printed.output
    assert [r["pathway"] for r in csv.DictReader(io.StringIO(printed.stdout))] == ["P1"]
    other = runner.invoke(report_app, ["audit", "--format", "csv", "--site", "Harbour Royal"])
    assert list(csv.DictReader(io.StringIO(other.stdout))) == []


def test_day_fourteen_is_still_within_the_window(sqlite_factory: SessionFactory) -> None:
    run(sqlite_factory, governance())
    _case(sqlite_factory, "P1", "H1", "9434765919", performed_on="2026-06-15")
    (row,) = _report(sqlite_factory).rows
    assert row["days_presentation_to_procedure"] == 14
    assert row["within_14_days"] is True
