"""Exports page: registry file and audit report for a site and period, FHIR for one pathway; roles."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from pathway.store.db import SessionFactory
from tests.dashboard.conftest import NHS, page, texts, today

IDENTIFIERS = ("Cy Example", NHS[2], "1970-03-04", "H3")  # P-TREATED's patient


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """Every file the page offered for download, by its download name."""
    offered: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def recording(self: Any, path_or_data: Any, mimetype: str, kind: Any, filename: str | None = None) -> str:
        if filename is not None and isinstance(path_or_data, bytes):
            offered[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    yield offered


def _frame(at: Any, column: str) -> Any:
    """The table holding `column` (display tables carry no key in AppTest)."""
    (found,) = [d.value for d in at.dataframe if column in d.value.columns]
    return found


def _named(offered: dict[str, bytes], prefix: str, suffix: str) -> str:
    (name,) = [n for n in offered if n.startswith(prefix) and n.endswith(suffix)]
    return offered[name].decode("utf-8")


def test_the_page_needs_a_signed_in_account(database: SessionFactory) -> None:
    at = page("exports")
    assert at.warning[0].value == "Please sign in to see this page."
    assert len(at.download_button) == 0


def test_registry_file_and_audit_report_for_all_sites(database: SessionFactory, downloads: dict[str, bytes]) -> None:
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
    for name, data in downloads.items():
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


def test_a_clinician_exports_one_pathway_as_fhir(database: SessionFactory, downloads: dict[str, bytes]) -> None:
    at = page("exports", "clin", exports_pathway="P-TREATED")
    assert not at.exception
    resources = _frame(at, "resource").set_index("resource")["count"]
    assert resources["Patient"] == 1 and resources["Procedure"] == 1 and resources["Task"] > 1
    bundle = Bundle.model_validate_json(downloads[f"P-TREATED-fhir-{today()}.json"])
    patient = next(e.resource for e in bundle.entry or [] if e.resource.get_resource_type() == "Patient")
    assert patient.identifier[0].value == NHS[2]


def test_auditors_get_the_files_but_not_fhir(database: SessionFactory, downloads: dict[str, bytes]) -> None:
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
