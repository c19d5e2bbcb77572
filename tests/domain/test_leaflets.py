"""Patient information leaflets: lookup by label, versioned wording, HTML and PDF output."""

import hashlib
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pathway.cli.codes import leaflets_app
from pathway.codes import ABOUT_HEADINGS
from pathway.codes.models import Claim
from pathway.codes.sources import SOURCES
from pathway.errors import UnknownLeafletError
from pathway.leaflets import SYNTHETIC_NOTICE, Leaflet, get_leaflet, list_leaflets, render_html, render_pdf
from pathway.leaflets.pdf import latin1

# The words behind each label. A consent record stores the label, so changing any wording
# must come with a new version: update the leaflet's version, then its digest here.
PINNED_DIGESTS = {
    "PIL-PMT v2.0": "6ddfc4eb4098fe251ed433efcd7c4ab1ac62c0be4d73e52b256e009a3aa0f0c4",
    "PIL-CDT v2.0": "ba952f9df608eb92e66d77bec0734a75cf181e45621ffb129c79e4a459032dd8",
    "PIL-OPEN v2.0": "7c4612403ca9b8ff1c89830a4422d941f29e9b463de70783b901b90ffa391fbf",
}
LEAFLET_KEYS = ["pmt", "cdt", "open_thrombectomy"]


def _text(leaflet: Leaflet) -> str:
    return " ".join(" ".join((s.heading, *s.points)) for s in leaflet.sections)


def test_list_leaflets_has_one_per_procedure() -> None:
    leaflets = list_leaflets()
    assert [x.key for x in leaflets] == LEAFLET_KEYS
    assert [x.label for x in leaflets] == ["PIL-PMT v2.0", "PIL-CDT v2.0", "PIL-OPEN v2.0"]
    assert [x.procedure_code for x in leaflets] == ["37187", "37212", "34421"]


def test_leaflet_label_combines_identifier_and_version() -> None:
    leaflet = get_leaflet("pmt")
    assert (leaflet.identifier, leaflet.version, leaflet.label) == ("PIL-PMT", "2.0", "PIL-PMT v2.0")
    assert all(len(x.label) <= 80 for x in list_leaflets())  # consent's information_leaflet limit


@pytest.mark.parametrize("name", ["pmt", "PIL-PMT", "PIL-PMT v2.0", "pil-pmt V2.0", "  PIL-PMT   v2.0 "])
def test_get_leaflet_accepts_key_identifier_or_label(name: str) -> None:
    assert get_leaflet(name).key == "pmt"


def test_get_leaflet_rejects_version_we_do_not_hold() -> None:
    with pytest.raises(UnknownLeafletError, match=r"current one is PIL-PMT v2\.0"):
        get_leaflet("PIL-PMT v1.0")  # version 1 made claims its sources did not support


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
    assert "only under special arrangements" in text and "clinical governance leads are told" in text
    assert "does not reach the common femoral vein" in text
    assert "only as part of a research study" in text
    assert "well recognised but infrequent" in text
    assert "BSIR" in text
    for fact in ("local anaesthetic", "popliteal", "temporary filter", "at least 3 months", "Compression stockings"):
        assert fact in text


def test_leaflets_do_not_state_unconfirmed_facts() -> None:
    # The seed page's 8-hour fast and 1-2 hour duration describe the open operation only.
    for key in ("pmt", "cdt"):
        text = _text(get_leaflet(key))
        assert "8 hours" not in text
        assert "1 and 2 hours" not in text
    assert "grade" not in _text(get_leaflet("pmt")).lower()  # removal-grade cut-offs are UNCONFIRMED


def test_open_thrombectomy_leaflet_follows_the_cpt_page_in_our_own_words() -> None:
    text = _text(get_leaflet("open_thrombectomy"))
    for fact in ("cut (incision)", "between 1 and 2 hours", "stitches", "rarely use it"):
        assert fact in text


# --- version 2: every statement sourced, the trial figures, nothing the sources do not support ---------


@pytest.mark.parametrize("key", LEAFLET_KEYS)
def test_every_statement_carries_a_known_source(key: str) -> None:
    leaflet = get_leaflet(key)
    assert [c.text for c in leaflet.claims] == [p for s in leaflet.sections for p in s.points]
    for claim in leaflet.claims:
        assert claim.sources, claim.text
        assert all(source in SOURCES for source in claim.source_ids), claim.sources
    assert set(leaflet.sources) <= set(SOURCES)


def test_a_statement_without_a_source_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="needs at least one source"):
        Claim("PMT lowers the chance of a clot reaching the lungs.", ())
    with pytest.raises(ValueError, match="needs at least one source"):
        Claim("A claim with a blank source.", ("",))


@pytest.mark.parametrize("key", ["pmt", "cdt"])
def test_thrombolytic_leaflets_give_the_trial_figures(key: str) -> None:
    claims = get_leaflet(key).claims
    by_source = {source: " ".join(c.text for c in claims if source in c.source_ids) for source in ("SRC-20", "SRC-23")}
    assert "1.7%" in by_source["SRC-20"] and "0.3%" in by_source["SRC-20"] and "10 days" in by_source["SRC-20"]
    assert (
        "12%" in by_source["SRC-20"]
        and "8%" in by_source["SRC-20"]
        and "not statistically significant" in by_source["SRC-20"]
    )
    assert "5%" in by_source["SRC-23"] and "0%" in by_source["SRC-23"]
    stents = [c for c in claims if "stent" in c.text.lower() and "narrow again" in c.text]
    assert stents, "the risks of a stent are stated"


LUNG_CLAIMS = re.compile(r"(lower|reduce|prevent|stop)\w*[^.]{0,60}(lungs|pulmonary embol)", re.IGNORECASE)


@pytest.mark.parametrize("key", LEAFLET_KEYS)
def test_no_claim_that_the_procedure_protects_the_lungs(key: str) -> None:
    for claim in get_leaflet(key).claims:
        if LUNG_CLAIMS.search(claim.text):
            assert claim.text.startswith("In ATTRACT") and "No trial in our sources showed" in claim.text, claim.text


@pytest.mark.parametrize("key", LEAFLET_KEYS)
def test_compression_stockings_as_r16_says(key: str) -> None:
    (stockings,) = [c for c in get_leaflet(key).claims if "stockings" in c.text]
    assert "do not advise wearing them routinely to prevent long-term leg problems" in stockings.text
    assert "SRC-29" in stockings.source_ids


@pytest.mark.parametrize("key", LEAFLET_KEYS)
def test_committee_comments_are_not_called_nice_recommendations(key: str) -> None:
    text = _text(get_leaflet(key))
    assert "as NICE recommends" not in text
    for claim in get_leaflet(key).claims:
        committee = {"SRC-1 3.5", "SRC-1 3.8", "SRC-1 3.9"} & set(claim.sources)
        if committee:
            assert "NICE's committee" in claim.text, claim.text


SEED_SHINGLES = frozenset(
    line
    for line in (Path(__file__).parents[1] / "data" / "seed_shingles.txt").read_text().splitlines()
    if line[:1] != "#"
)


def shingles(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [hashlib.sha1(" ".join(words[i : i + 5]).encode()).hexdigest()[:12] for i in range(len(words) - 4)]


@pytest.mark.parametrize("key", LEAFLET_KEYS)
def test_no_sentence_is_near_verbatim_from_the_seed_pages(key: str) -> None:
    """At most a third of a statement's 5-word runs may also be in a seed page (names of things recur)."""
    for claim in get_leaflet(key).claims:
        runs = shingles(claim.text)
        if len(runs) >= 3:
            shared = sum(run in SEED_SHINGLES for run in runs)
            assert shared / len(runs) <= 1 / 3, (shared, len(runs), claim.text)


def test_the_near_verbatim_check_finds_a_copied_sentence() -> None:
    copied = "Full recovery may take several days to a couple of weeks, depending on individual health factors"
    runs = shingles(copied)
    assert sum(run in SEED_SHINGLES for run in runs) / len(runs) > 0.9


@pytest.mark.parametrize("key", LEAFLET_KEYS)
def test_rendered_leaflet_numbers_each_statements_sources_and_lists_them(key: str) -> None:
    leaflet = get_leaflet(key)
    page = render_html(leaflet)
    assert "<h2>Where this information comes from</h2>" in page
    assert page.count('<span class="refs">[') == len(leaflet.claims)
    assert page.count("<li>", page.index('<ol class="sources">')) == len(leaflet.sources)


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
        statements=(("A & B", (Claim('He said "<b>"', ("SPEC",)),)),),
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
        "x", "PIL-X", "1.0", "Don\u2019t \u2014 panic \u2713", "0", (("H", (Claim("\u2265 3 months", ("SPEC",)),)),)
    )
    assert render_pdf(leaflet).startswith(b"%PDF")
    assert latin1("Don\u2019t \u2014 \u2713 caf\u00e9") == "Don't - ? caf\u00e9"


# --- command line ---------------------------------------------------------------------

runner = CliRunner()


def test_leaflets_cli_list_json() -> None:
    result = runner.invoke(leaflets_app, ["list", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["label"] for row in rows] == ["PIL-PMT v2.0", "PIL-CDT v2.0", "PIL-OPEN v2.0"]
    assert rows[0]["key"] == "pmt" and rows[0]["version"] == "2.0"


def test_leaflets_cli_list_table() -> None:
    result = runner.invoke(leaflets_app, ["list"])
    assert result.exit_code == 0, result.output
    assert "PIL-CDT v2.0" in result.stdout


def test_leaflets_cli_print_writes_html_to_stdout() -> None:
    result = runner.invoke(leaflets_app, ["print", "PIL-PMT v2.0"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert "PIL-PMT v2.0" in result.stdout


def test_leaflets_cli_print_writes_pdf_and_html_files(tmp_path: Path) -> None:
    pdf, html = tmp_path / "pil.pdf", tmp_path / "pil.html"
    result = runner.invoke(leaflets_app, ["print", "cdt", "--pdf", str(pdf), "--html", str(html)])
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "<h2>What it feels like</h2>" in html.read_text(encoding="utf-8")
    assert "PIL-CDT v2.0" in result.stdout


def test_leaflets_cli_print_unknown_leaflet_exits_1() -> None:
    result = runner.invoke(leaflets_app, ["print", "PIL-PMT v9"])
    assert result.exit_code == 1
    assert "not an available version" in result.stderr


def test_leaflets_cli_print_unwritable_file_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(leaflets_app, ["print", "pmt", "--pdf", str(tmp_path / "missing" / "x.pdf")])
    assert result.exit_code == 1
    assert "cannot write" in result.stderr
