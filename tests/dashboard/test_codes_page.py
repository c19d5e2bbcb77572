"""Codes page: code search, a code's detail with similar codes, and the leaflets as HTML and PDF."""

from collections.abc import Iterator
from typing import Any

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from pathway.leaflets import get_leaflet, render_html
from pathway.store.db import SessionFactory
from tests.dashboard.conftest import page, texts


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


def test_the_page_needs_a_signed_in_account(database: SessionFactory) -> None:
    at = page("codes")
    assert at.warning[0].value == "Please sign in to see this page."
    assert len(at.text_input) == 0


def test_a_procedure_code_shows_its_similar_codes_and_leaflet(database: SessionFactory) -> None:
    at = page("codes", "audit", codes_query="37187")
    assert not at.exception
    results = at.dataframe[0].value  # display tables carry no key in AppTest: results, similar, children
    assert (results["code"][0], results["system"][0]) == ("37187", "procedure")
    assert at.subheader[0].value.startswith("37187 · Percutaneous mechanical thrombectomy")
    similar = set(at.dataframe[1].value["code"])
    assert {"34421", "37188", "37212"} <= similar
    assert "Patient leaflet for this procedure: **PIL-PMT v2.0**" in texts(at)
    assert len(at.expander) > 3  # what the procedure is, why, preparation ... and the leaflet


def test_a_diagnosis_family_lists_its_leg_codes(database: SessionFactory) -> None:
    at = page("codes", "clin", codes_query="I82.41", codes_system="icd10cm")
    assert not at.exception
    assert at.subheader[0].value == "I82.41 · Acute embolism and thrombosis of femoral vein"
    assert len(at.dataframe) == 3  # results, similar codes, codes within it
    assert {"I82.42", "I82.43"} <= set(at.dataframe[1].value["code"])  # iliac and popliteal beside it
    assert {"I82.411", "I82.412"} <= set(at.dataframe[2].value["code"])
    chosen = page("codes", "clin", codes_query="femoral vein", codes_system="icd10", codes_selected="icd10:I80.1")
    assert chosen.subheader[0].value == "I80.1 · Phlebitis and thrombophlebitis of femoral vein"


def test_no_match_says_so(database: SessionFactory) -> None:
    at = page("codes", "coord", codes_query="zzzqqq")
    assert at.info[0].value == "No code matches 'zzzqqq'."
    assert len(at.dataframe) == 0


def test_the_leaflet_downloads_as_html_and_pdf(database: SessionFactory, downloads: dict[str, bytes]) -> None:
    at = page("codes", "coord", codes_leaflet="cdt")
    assert not at.exception
    leaflet = get_leaflet("cdt")
    assert downloads["PIL-CDT-v2.0.html"].decode("utf-8") == render_html(leaflet)
    assert downloads["PIL-CDT-v2.0.pdf"].startswith(b"%PDF")
    assert "label for the consent record: `PIL-CDT v2.0`" in texts(at)
    assert [b.key for b in at.download_button] == ["codes_leaflet_html", "codes_leaflet_pdf"]
