"""Plain-English descriptions of the three thrombus-removal procedures, in our own words.

Headings follow a typical public code page (what it is, why, preparation, ... what it
feels like). The same text feeds `show_code` and the patient information leaflets, so a
change here changes the leaflets: bump the leaflet version (tests/test_leaflets.py pins it).

Sources: PMT facts are from NICE HTG516 (sections 2.3-2.7, 3.3, 3.5, 3.8, 3.9); the open
operation follows the seed CPT 34421 page. Nothing marked UNCONFIRMED in pathway-spec.md
is stated as fact: for PMT, fasting times and duration are left to the local team.
The text itself is in about_text.py.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from pathway.codes.about_text import CDT, OPEN, PMT
from pathway.codes.models import AboutSection

ABOUT_HEADINGS: Final[tuple[str, ...]] = (
    "What it is",
    "Why it is done",
    "Preparation",
    "What happens",
    "How long it takes",
    "Where it is done",
    "Who does it",
    "Risks",
    "Benefits",
    "Recovery",
    "Alternatives",
    "What it feels like",
)


def _sections(texts: tuple[tuple[str, ...], ...]) -> tuple[AboutSection, ...]:
    if len(texts) != len(ABOUT_HEADINGS):
        raise AssertionError("every procedure description needs one entry per heading")
    return tuple(AboutSection(h, t) for h, t in zip(ABOUT_HEADINGS, texts, strict=True))


# Keyed by the CPT code number of the main procedure.
ABOUT: Final = MappingProxyType(
    {
        "37187": _sections(PMT),
        "37212": _sections(CDT),
        "34421": _sections(OPEN),
    }
)


def about_procedure(code: str) -> tuple[AboutSection, ...]:
    """The plain-English sections for a procedure code, or () if it has none."""
    return ABOUT.get(code.strip(), ())
