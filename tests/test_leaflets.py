"""Patient information leaflets: lookup by label, versioned wording, HTML and PDF output."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pathway.cli_codes import leaflets_app
from pathway.codes import ABOUT_HEADINGS, AboutSection
from pathway.leaflets import (
    SYNTHETIC_NOTICE,
    Leaflet,
    UnknownLeafletError,
    get_leaflet,
    list_leaflets,
    render_html,
    render_pdf,
)
from pathway.leaflets.pdf import latin1

# The words behind each label. A consent record stores the label, so changing any wording
# must come with a new version: update the leaflet's version, then its digest here.
PINNED_DIGESTS = {
    "PIL-PMT v1.0": "0275a3aa6eb35ab96fd9d590dcf7fb1f9e43bb5825d50dfc212f7d4bdd5eb4ea",
    "PIL-CDT v1.0": "4e094c7d64de852a76d60f9ad5c1a79d7e906abaf830d3dd8f00932899e076c3",
    "PIL-OPEN v1.0": "ad4ecfbd0666da4e4452cd1722f8dfb0f0656800309c5563139690e736f7a5fc",
}
LEAFLET_KEYS = ["pmt", "cdt", "open_thrombectomy"]


def _text(leaflet: Leaflet) -> str:
    return " ".join(" ".join((s.heading, *s.points)) for s in leaflet.sections)


def test_list_leaflets_has_one_per_procedure() -> None:
    leaflets = list_leaflets()
    assert [x.key for x in leaflets] == LEAFLET_KEYS
    assert [x.label for x in leaflets] == ["PIL-PMT v1.0", "PIL-CDT v1.0", "PIL-OPEN v1.0"]
    assert [x.procedure_code for x in leaflets] == ["37187", "37212", "34421"]


def test_leaflet_label_combines_identifier_and_version() -> None:
    leaflet = get_leaflet("pmt")
    assert (leaflet.identifier, leaflet.version, leaflet.label) == ("PIL-PMT", "1.0", "PIL-PMT v1.0")
    assert all(len(x.label) <= 80 for x in list_leaflets())  # consent's information_leaflet limit


@pytest.mark.parametrize("name", ["pmt", "PIL-PMT", "PIL-PMT v1.0", "pil-pmt V1.0", "  PIL-PMT   v1.0 "])
def test_get_leaflet_accepts_key_identifier_or_label(name: str) -> None:
    assert get_leaflet(name).key == "pmt"


def test_get_leaflet_rejects_version_we_do_not_hold() -> None:
    with pytest.raises(UnknownLeafletError, match=r"current one is PIL-PMT v1\.0"):
        get_leaflet("PIL-PMT v0.9")


def test_get_leaflet_rejects_unknown_name() -> None:
    with pytest.raises(KeyError):
        get_leaflet("PIL-XYZ")
    with pytest.raises(ValueError, match="available: pmt"):
        get_leaflet("nothing")


@pytest.mark.parametrize("key", LEAFLET_KEYS)
def test_leaflet_wording_is_pinned_to_its_version(key: str) -> None:
    leaflet = get_leaflet(key)
    assert leaflet.digest() == PINNED_DIGESTS[leaflet.label], (
        f"{leaflet.label} wording changed: bump its version and pin the new digest"
    )


@pytest.mark.parametrize("key", LEAFLET_KEYS)
def test_leaflet_has_every_code_page_heading(key: str) -> None:
    headings = [s.heading for s in get_leaflet(key).sections]
    assert [h for h in headings if h in ABOUT_HEADINGS] == list(ABOUT_HEADINGS)
    assert "What NICE says" in headings


@pytest.mark.parametrize("key", LEAFLET_KEYS)
def test_leaflet_text_is_ascii_for_pdf_core_fonts(key: str) -> None:
    assert _text(get_leaflet(key)).isascii()


def test_pmt_leaflet_states_nice_uncertainty_honestly() -> None:
    text = _text(get_leaflet("pmt"))
    assert "HTG516" in text
    assert "special arrangements for clinical governance, consent, and audit or research" in text
    assert "does not reach the common femoral vein" in text
    assert "only be done as part of a research study" in text
    assert "well recognised but infrequent" in text
    assert "BSIR" in text
    for fact in ("local anaesthetic", "popliteal", "temporary filter", "at least 3 months", "compression stockings"):
        assert fact in text


def test_leaflets_do_not_state_unconfirmed_facts() -> None:
    # The seed page's 8-hour fast and 1-2 hour duration describe the open operation only.
    for key in ("pmt", "cdt"):
        text = _text(get_leaflet(key))
        assert "8 hours" not in text
        assert "1 to 2 hours" not in text
    assert "grade" not in _text(get_leaflet("pmt")).lower()  # removal-grade cut-offs are UNCONFIRMED


def test_open_thrombectomy_leaflet_follows_the_seed_page() -> None:
    text = _text(get_leaflet("open_thrombectomy"))
    for fact in ("cut (incision) in the leg", "1 to 2 hours", "stitches", "rarely used"):
        assert fact in text


@pytest.mark.parametrize("key", LEAFLET_KEYS)
def test_render_html_contains_every_heading_and_the_version(key: str) -> None:
    leaflet = get_leaflet(key)
    page = render_html(leaflet)
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")
    for heading in ABOUT_HEADINGS:
        assert f"<h2>{heading}</h2>" in page
    assert page.count(leaflet.label) >= 3  # title, header and footer
    assert f'<meta name="leaflet-version" content="{leaflet.version}">' in page
    assert SYNTHETIC_NOTICE in page


def test_render_html_escapes_text() -> None:
    leaflet = Leaflet(
        key="x",
        identifier="PIL-<X>",
        version="1&2",
        title="<script>alert(1)</script>",
        procedure_code="0",
        sections=(AboutSection("A & B", ('He said "<b>"',)),),
    )
    page = render_html(leaflet)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<h2>A &amp; B</h2>" in page
    assert "He said &quot;&lt;b&gt;&quot;" in page
    assert "PIL-&lt;X&gt; v1&amp;2" in page


@pytest.mark.parametrize("key", LEAFLET_KEYS)
def test_render_pdf_starts_with_pdf_header(key: str) -> None:
    data = render_pdf(get_leaflet(key))
    assert data.startswith(b"%PDF")
    assert data.rstrip().endswith(b"%%EOF")


def test_render_pdf_replaces_characters_core_fonts_cannot_print() -> None:
    leaflet = Leaflet(
        "x", "PIL-X", "1.0", "Don\u2019t \u2014 panic \u2713", "0", (AboutSection("H", ("\u2265 3 months",)),)
    )
    assert render_pdf(leaflet).startswith(b"%PDF")
    assert latin1("Don\u2019t \u2014 \u2713 caf\u00e9") == "Don't - ? caf\u00e9"


# --- command line ---------------------------------------------------------------------

runner = CliRunner()


def test_leaflets_cli_list_json() -> None:
    result = runner.invoke(leaflets_app, ["list", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["label"] for row in rows] == ["PIL-PMT v1.0", "PIL-CDT v1.0", "PIL-OPEN v1.0"]
    assert rows[0]["key"] == "pmt" and rows[0]["version"] == "1.0"


def test_leaflets_cli_list_table() -> None:
    result = runner.invoke(leaflets_app, ["list"])
    assert result.exit_code == 0, result.output
    assert "PIL-CDT v1.0" in result.stdout


def test_leaflets_cli_print_writes_html_to_stdout() -> None:
    result = runner.invoke(leaflets_app, ["print", "PIL-PMT v1.0"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert "PIL-PMT v1.0" in result.stdout


def test_leaflets_cli_print_writes_pdf_and_html_files(tmp_path: Path) -> None:
    pdf, html = tmp_path / "pil.pdf", tmp_path / "pil.html"
    result = runner.invoke(leaflets_app, ["print", "cdt", "--pdf", str(pdf), "--html", str(html)])
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "<h2>What it feels like</h2>" in html.read_text(encoding="utf-8")
    assert "PIL-CDT v1.0" in result.stdout


def test_leaflets_cli_print_unknown_leaflet_exits_1() -> None:
    result = runner.invoke(leaflets_app, ["print", "PIL-PMT v9"])
    assert result.exit_code == 1
    assert "not an available version" in result.stderr


def test_leaflets_cli_print_unwritable_file_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(leaflets_app, ["print", "pmt", "--pdf", str(tmp_path / "missing" / "x.pdf")])
    assert result.exit_code == 1
    assert "cannot write" in result.stderr
