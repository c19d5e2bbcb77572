"""Exports page: registry file and audit report for a site and period, FHIR for one pathway; roles."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import col, select
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from pathway.store.db import SessionFactory
from pathway.store.models import AuditEvent
from tests.dashboard.conftest import NHS, page, texts, today

IDENTIFIERS = ("Cy Example", NHS[2], "1970-03-04", "H3")  # P-TREATED's patient


class Offered(dict[str, Any]):
    """Files offered for download by name; a file made on the click (a deferred callable) is made
    when the test reads it, as a click would (and audited then)."""

    def __getitem__(self, name: str) -> bytes:
        value = super().__getitem__(name)
        if callable(value):
            made = value()
            value = made.encode("utf-8") if isinstance(made, str) else made
        assert isinstance(value, bytes)
        return value

    def made(self) -> dict[str, bytes]:
        return {name: self[name] for name in self}


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Offered]:
    """Every file the page offered for download, by its download name."""
    offered = Offered()
    original = MemoryMediaFileStorage.load_and_get_id
    original_deferred = MediaFileManager.add_deferred

    def recording(self: Any, path_or_data: Any, mimetype: str, kind: Any, filename: str | None = None) -> str:
        if filename is not None and isinstance(path_or_data, bytes):
            offered[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    def recording_deferred(
        self: Any, make: Any, mimetype: Any, coordinates: str, file_name: Any = None, **kw: Any
    ) -> str:
        if file_name is not None:
            offered[file_name] = make
        return original_deferred(self, make, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    monkeypatch.setattr(MediaFileManager, "add_deferred", recording_deferred)
    yield offered


def _frame(at: Any, column: str) -> Any:
    """The table holding `column` (display tables carry no key in AppTest)."""
    (found,) = [d.value for d in at.dataframe if column in d.value.columns]
    return found


def _named(offered: Offered, prefix: str, suffix: str) -> str:
    (name,) = [n for n in offered if n.startswith(prefix) and n.endswith(suffix)]
    return offered[name].decode("utf-8")


def test_the_page_needs_a_signed_in_account(database: SessionFactory) -> None:
    at = page("exports")
    assert at.warning[0].value == "Please sign in to see this page."
    assert len(at.download_button) == 0


def test_registry_file_and_audit_report_for_all_sites(database: SessionFactory, downloads: Offered) -> None:
    at = page("exports", "coord")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["PMT cases"] == "1"
    assert metrics["PMT within 14 days of presentation"] == "100%"
    assert list(_frame(at, "missing items")["pathway"]) == ["P-TREATED"]
    stem = f"all-sites-{today() - timedelta(days=365)}-to-{today()}"
    assert set(downloads) >= {
        f"registry-{stem}.csv",
        f"registry-{stem}.json",
        f"audit-{stem}.html",
        f"audit-{stem}.csv",
    }
    assert "P-TREATED" in _named(downloads, "registry-", ".csv")
    assert 'id="case-P-TREATED"' in _named(downloads, "audit-", ".html")
    for name, data in downloads.made().items():
        if name.startswith(("registry-", "audit-")):
            for identifier in IDENTIFIERS:
                assert identifier not in data.decode("utf-8"), (name, identifier)


def test_site_and_period_choose_the_cases(database: SessionFactory) -> None:
    elsewhere = page("exports", "coord", exports_site="Harbour Royal")
    assert {m.label: m.value for m in elsewhere.metric}["PMT cases"] == "0"
    before = page("exports", "coord", exports_to=today() - timedelta(days=36))  # PMT was 35 days ago
    assert {m.label: m.value for m in before.metric}["PMT cases"] == "0"
    backwards = page("exports", "coord", exports_from=today(), exports_to=today() - timedelta(days=1))
    assert backwards.error[0].value == "Choose a first date on or before the last date."


def test_a_clinician_exports_one_pathway_as_fhir(database: SessionFactory, downloads: Offered) -> None:
    at = page("exports", "clin", exports_pathway="P-TREATED")
    assert not at.exception
    resources = _frame(at, "resource").set_index("resource")["count"]
    assert resources["Patient"] == 1 and resources["Procedure"] == 1 and resources["Task"] > 1
    bundle = Bundle.model_validate_json(downloads[f"P-TREATED-fhir-{today()}.json"])
    patient = next(e.resource for e in bundle.entry or [] if e.resource.get_resource_type() == "Patient")
    assert patient.identifier[0].value == NHS[2]


def test_auditors_get_the_files_but_not_fhir(database: SessionFactory, downloads: Offered) -> None:
    at = page("exports", "audit", exports_pathway="P-TREATED")
    assert not at.exception
    assert "the auditor role cannot export it" in texts(at)
    assert [b.key for b in at.download_button] == [
        "exports_registry_csv",
        "exports_registry_json",
        "exports_audit_html",
        "exports_audit_csv",
    ]
    assert not any(name.endswith("-fhir-" + str(today()) + ".json") for name in downloads)
    assert len(at.text_input) == 0


def test_an_unknown_pathway_is_named(database: SessionFactory) -> None:
    at = page("exports", "clin", exports_pathway="P-NOPE")
    assert at.error[0].value == "No pathway has the reference P-NOPE."
    assert len(at.download_button) == 4


def _downloads_audited(database: SessionFactory) -> list[tuple[str, str, str | None, Any]]:
    with database() as session:
        rows = session.exec(select(AuditEvent).where(col(AuditEvent.command) == "download")).all()
    return [(r.actor, (r.after or {})["kind"], r.pathway_ref, (r.after or {}).get("rows")) for r in rows]


def test_each_identifying_file_is_audited_when_made_not_when_offered(
    database: SessionFactory, downloads: Offered
) -> None:
    page("exports", "clin", exports_pathway="P-TREATED")
    assert _downloads_audited(database) == []  # drawing the buttons hands nothing out
    stem = f"all-sites-{today() - timedelta(days=365)}-to-{today()}"
    downloads[f"P-TREATED-fhir-{today()}.json"]
    downloads[f"registry-{stem}.csv"]
    downloads[f"registry-{stem}.json"]
    # The FHIR bundle has one audited path, services.downloads.export_fhir (its `export_fhir` row,
    # written when the service read it for the page); no second `download` row for it.
    with database() as session:
        fhir = session.exec(select(AuditEvent).where(col(AuditEvent.command) == "export_fhir")).all()
    assert [(r.actor, r.outcome, r.pathway_ref) for r in fhir] == [("clin", "read", "P-TREATED")]
    assert _downloads_audited(database) == [
        ("clin", "registry_csv", None, 1),
        ("clin", "registry_json", None, 1),
    ]


def test_the_worklist_csv_is_audited_with_its_filters(database: SessionFactory, downloads: Offered) -> None:
    page("worklist", "coord", flagged=True)
    assert _downloads_audited(database) == []
    (name,) = [n for n in downloads if n.startswith("worklist-")]
    rows = downloads[name].decode("utf-8").count("P-")
    with database() as session:
        row = session.exec(select(AuditEvent).where(col(AuditEvent.command) == "download")).one()
    assert (row.actor, row.outcome, row.after) == (
        "coord",
        "read",
        {"kind": "worklist_csv", "identifiers": True, "rows": rows, "filters": {"flagged_only": True}},
    )
