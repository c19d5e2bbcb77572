"""Plain-English descriptions of the three thrombus-removal procedures, in our own words.

Headings follow a typical public code page (what it is, why, preparation, ... what it
feels like). The same text feeds `show_code` and the patient information leaflets, so a
change here changes the leaflets: bump the leaflet version (tests/domain/test_leaflets.py pins it).

Every statement names its sources (pathway.codes.sources): PMT facts are from NICE HTG516,
trial figures from ATTRACT and CAVA, the open operation from the public CPT 34421 description
(in our own words). Nothing marked UNCONFIRMED in pathway-spec.md is stated as fact: for PMT,
fasting times and duration are left to the local team. The text itself is in about_text.py.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from pathway.codes.about_text import CDT, OPEN, PMT
from pathway.codes.models import AboutSection, Claim

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


ClaimSection = tuple[str, tuple[Claim, ...]]


def _claims(texts: tuple[tuple[Claim, ...], ...]) -> tuple[ClaimSection, ...]:
    if len(texts) != len(ABOUT_HEADINGS):
        raise AssertionError("every procedure description needs one entry per heading")
    return tuple(zip(ABOUT_HEADINGS, texts, strict=True))


# Keyed by the CPT code number of the main procedure: each heading with its statements and sources.
ABOUT_CLAIMS: Final = MappingProxyType({"37187": _claims(PMT), "37212": _claims(CDT), "34421": _claims(OPEN)})


def about_claims(code: str) -> tuple[ClaimSection, ...]:
    """Each heading of a procedure's description with its statements and their sources, or ()."""
    return ABOUT_CLAIMS.get(code.strip(), ())


def about_procedure(code: str) -> tuple[AboutSection, ...]:
    """The plain-English sections for a procedure code, or () if it has none."""
    return tuple(AboutSection(heading, tuple(c.text for c in claims)) for heading, claims in about_claims(code))
