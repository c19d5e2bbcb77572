"""pathway.domain.text.markdown_literal: any text, escaped, renders as exactly that text and no markup.

Checked against a real CommonMark renderer (markdown-it-py, with tables and strikethrough on), for the
hostile strings of issue 12 and for generated text; and in the governance digest, the one markdown
document outside the dashboard that carries typed text (sites, references).
"""

import html
import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from pathway.domain.text import markdown_literal
from pathway.reminders.digest import Digest, FilterInPlace, OutsideWindow

RENDERER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
HOSTILE = [
    "![px](http://127.0.0.1:8699/p.png)",
    ":red[Jane] · NHS 9999999999",
    "<img src=x onerror=alert(1)>",
    "[link](http://127.0.0.1:8699/l) <http://127.0.0.1:8699/a> www.example.com a@b.example",
    "**bold** __bold__ *it* _it_ `code` ~~struck~~ $x^2$",
    "# heading",
    "- item",
    "1. item",
    "12) item",
    "> quote",
    "a | b",
    "&lt;b&gt; &amp;",
    "\\*not bold\\*",
]


def rendered(text: str) -> str:
    return RENDERER.render(markdown_literal(text)).strip()


def assert_literal(text: str) -> None:
    out = rendered(text)
    collapsed = " ".join(text.split())
    if not collapsed:
        assert out == ""
        return
    assert out.startswith("<p>") and out.endswith("</p>"), out
    inner = out[3:-4]
    assert not re.search(r"<(?!br\b)[a-z/]", inner), out  # no tag at all inside the paragraph
    assert html.unescape(inner) == collapsed


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_renders_as_itself(text: str) -> None:
    assert_literal(text)


@given(st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=60))
def test_any_text_renders_as_itself(text: str) -> None:
    assert_literal(text)


@given(st.text("*_`~[]()!<>&#+-.|:$\\ 1aw@", max_size=30))
def test_any_punctuation_soup_renders_as_itself(text: str) -> None:
    assert_literal(text)


def test_the_governance_digest_names_sites_and_references_as_text() -> None:
    site = "![px](http://127.0.0.1:8699/p.png)"
    digest = Digest(
        as_of=date(2026, 6, 15),
        week_of=date(2026, 6, 15),
        open_by_stage={},
        flags={},
        outside_window=[OutsideWindow("P-1", site, date(2026, 5, 1), None, 45)],
        pmt_pathways=0,
        registry_submitted=0,
        unretrieved_filters=[FilterInPlace("P_2_", "<b>North</b>", date(2026, 5, 1), 45)],
    )
    page = RENDERER.render(digest.as_markdown())
    assert "<img" not in page and "<a " not in page and "<b>" not in page and "<em>" not in page
    assert html.escape(f"P-1 ({site}): presented 2026-05-01, day 45", quote=False) in page
    assert html.escape("P_2_ (<b>North</b>)", quote=False) in page
