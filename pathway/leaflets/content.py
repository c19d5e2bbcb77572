"""Patient information leaflets: one per procedure, each with an identifier and version.

A consent record stores the leaflet's label ("PIL-PMT v2.0") in `information_leaflet`, so the label
must always mean the same words: tests pin a digest of every leaflet's text, so changing any wording
without bumping the version fails the tests.

Every statement a leaflet makes is a Claim naming its sources (pathway.codes.sources, the numbered
sources of pathway-spec.md): the leaflet's own list of claims, printed as numbered references after
each statement and a source list at the end. The procedure sections come from `pathway.codes.about`.
Written in our own words; only what the sources support is said (no claim that a procedure prevents a
clot reaching the lungs; a committee comment is reported as the committee's, never as a NICE
recommendation). Nothing the pathway spec marks UNCONFIRMED is stated as fact. Text is ASCII so the
PDF core fonts can print it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Final

from pathway.codes.about import about_claims
from pathway.codes.models import AboutSection, Claim
from pathway.errors import UnknownLeafletError

SYNTHETIC_NOTICE: Final = (
    "Synthetic guidance text written for an open-source DVT care-pathway project. It is not an "
    "NHS leaflet, has not been clinically reviewed, and does not replace advice from your own "
    "care team."
)

NICE_GUIDANCE: Final = (
    "NICE HealthTech guidance HTG516, 'Percutaneous mechanical thrombectomy for acute deep vein "
    "thrombosis of the leg' (first published June 2019 as IPG651)"
)
VERSION: Final = "2.0"  # 2.0: every statement sourced; trial figures; no claim about the lungs (issue 11)


UnknownLeaflet = UnknownLeafletError  # the name used in the design notes

ClaimSection = tuple[str, tuple[Claim, ...]]


@dataclass(frozen=True, slots=True)
class Leaflet:
    """A versioned patient information leaflet for one procedure: headings with their sourced statements."""

    key: str  # matches the MDT decision and procedure technique (pmt, cdt, open_thrombectomy)
    identifier: str
    version: str
    title: str
    procedure_code: str  # CPT number whose "about" sections this leaflet uses
    statements: tuple[ClaimSection, ...]  # the leaflet's own list of claims, by heading

    @property
    def label(self) -> str:
        """Identifier and version, as stored in a consent record's information_leaflet."""
        return f"{self.identifier} v{self.version}"

    @property
    def sections(self) -> tuple[AboutSection, ...]:
        return tuple(AboutSection(heading, tuple(c.text for c in claims)) for heading, claims in self.statements)

    @property
    def claims(self) -> tuple[Claim, ...]:
        """Every statement the leaflet makes, with its sources, in reading order."""
        return tuple(claim for _heading, claims in self.statements for claim in claims)

    @property
    def sources(self) -> tuple[str, ...]:
        """The source ids the leaflet cites, in order of first use (numbered 1, 2... when printed)."""
        return tuple(dict.fromkeys(source for claim in self.claims for source in claim.source_ids))

    def references(self, claim: Claim) -> str:
        """A statement's source numbers as printed after it, e.g. "[1, 3]"."""
        numbers = [str(self.sources.index(source) + 1) for source in claim.source_ids]
        return f"[{', '.join(numbers)}]"

    def digest(self) -> str:
        """SHA-256 of the words a patient reads and their sources; tests pin it per version."""
        body = {"title": self.title, "statements": [[h, [c.to_dict() for c in cs]] for h, cs in self.statements]}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def c(text: str, *sources: str) -> Claim:
    return Claim(text, sources)


def _intro(procedure: str) -> ClaimSection:
    return (
        "About this leaflet",
        (
            c(
                f"This leaflet explains {procedure} for a deep vein thrombosis (DVT) in the leg: what happens, "
                "the risks and possible benefits, and the other choices.",
                "SRC-1 1.2",
            ),
            c(
                "It is there to help you and your care team decide together. Ask about anything that is not "
                "clear, and keep the leaflet to read again.",
                "SRC-1 1.2",
            ),
        ),
    )


_MOVED = c(
    f"This procedure is covered by {NICE_GUIDANCE}, from the National Institute for Health and Care Excellence "
    "(NICE). In January 2026 the guidance moved to the HTG516 number with its recommendations unchanged.",
    "SRC-1",
)
_NICE_PMT: ClaimSection = (
    "What NICE says",
    (
        _MOVED,
        c("NICE says that problems are well recognised but infrequent.", "SRC-1 1.1"),
        c(
            "For a recent clot in the veins of the pelvis and the top of the thigh (acute iliofemoral DVT), NICE "
            "judged the evidence on how well PMT works to be limited, both in amount and in quality. So it asks "
            "hospitals to offer it only under special arrangements: the hospital's clinical governance leads are "
            "told, you are told clearly about the uncertainties before you consent, and what happens to you is "
            "recorded for audit or research.",
            "SRC-1 1.1",
            "SRC-1 1.2",
        ),
        c(
            "For a clot that does not reach the common femoral vein (the main vein at the top of the thigh), NICE "
            "found the evidence inconclusive: PMT should then be done only as part of a research study. This "
            "includes a clot only in the thigh or behind the knee, not just a clot in the calf.",
            "SRC-1 1.1",
        ),
        c(
            "NICE asks doctors to enter details of everyone who has this procedure on the British Society of "
            "Interventional Radiology (BSIR) Venous Registry.",
            "SRC-1 1.3",
        ),
        c("NICE notes that much of the evidence it reviewed came from a device that is no longer sold.", "SRC-1 3.7"),
        c(
            "NICE recommends that you are given clear written information, and its own information for the "
            "public (www.nice.org.uk/guidance/htg516).",
            "SRC-1 1.2",
        ),
    ),
)
_NICE_CDT: ClaimSection = (
    "What NICE says",
    (
        c(
            f"{NICE_GUIDANCE} notes that a large DVT is sometimes treated with catheter-directed thrombolysis, "
            "and that clot-dissolving drugs carry a risk of bleeding, including stroke.",
            "SRC-1 2.3",
        ),
        c(
            "If your treatment also uses a mechanical device to remove the clot, NICE's guidance on mechanical "
            "thrombectomy applies: see the leaflet PIL-PMT.",
            "SRC-1 1.1",
        ),
        c(
            "This leaflet does not report a NICE recommendation on CDT on its own. Ask your team what the current "
            "guidance means for you.",
            "SPEC",
        ),
    ),
)
_NICE_OPEN: ClaimSection = (
    "What NICE says",
    (
        c(
            f"{NICE_GUIDANCE} mentions surgery to remove the clot for people whose clot did not clear with "
            "clot-dissolving drugs, or who cannot have those drugs, and notes that surgeons rarely use it.",
            "SRC-1 2.3",
        ),
        c(
            "Ask your team why they suggest an operation rather than a procedure through a needle puncture.",
            "SRC-1 1.2",
        ),
    ),
)
_QUESTIONS: ClaimSection = (
    "Questions you may want to ask",
    tuple(
        c(question, "SRC-1 1.2")
        for question in (
            "How likely is this to help me, and how likely is it to cause problems?",
            "What would happen if I chose blood-thinning medicine alone?",
            "How often does this team do this procedure?",
            "Will I need a filter or a stent, and what happens to it afterwards?",
            "How long will I need to take blood-thinning medicine?",
            "Is there a research study I could take part in?",
        )
    ),
)
_DECISION: ClaimSection = (
    "Your decision",
    (
        c(
            "You can take time to think, ask more questions and change your mind at any point before the "
            "procedure. If you decide against it, you will still be offered the usual treatment for your DVT.",
            "SRC-1 1.2",
            "SRC-3",
        ),
        c(
            "If you agree, you will be asked to sign a consent form, which records which leaflet, and which "
            "version of it, you were given.",
            "SRC-1 1.2",
            "SPEC S5",
        ),
    ),
)


def _leaflet(key: str, identifier: str, title: str, code: str, procedure: str, nice: ClaimSection) -> Leaflet:
    statements = (_intro(procedure), *about_claims(code), nice, _QUESTIONS, _DECISION)
    return Leaflet(key, identifier, VERSION, title, code, statements)


LEAFLETS: Final[tuple[Leaflet, ...]] = (
    _leaflet(
        "pmt",
        "PIL-PMT",
        "Percutaneous mechanical thrombectomy (PMT) for a blood clot in the leg",
        "37187",
        "percutaneous mechanical thrombectomy (PMT)",
        _NICE_PMT,
    ),
    _leaflet(
        "cdt",
        "PIL-CDT",
        "Catheter-directed thrombolysis (CDT) for a blood clot in the leg",
        "37212",
        "catheter-directed thrombolysis (CDT)",
        _NICE_CDT,
    ),
    _leaflet(
        "open_thrombectomy",
        "PIL-OPEN",
        "Open surgical thrombectomy for a blood clot in the leg",
        "34421",
        "an operation to remove the clot (surgical thrombectomy)",
        _NICE_OPEN,
    ),
)


def list_leaflets() -> list[Leaflet]:
    """Every leaflet, in the order PMT, CDT, open thrombectomy."""
    return list(LEAFLETS)


def get_leaflet(leaflet_id_or_label: str) -> Leaflet:
    """Find a leaflet by key ("pmt"), identifier ("PIL-PMT") or label ("PIL-PMT v1.0").

    Case-insensitive. A label naming a version we do not hold raises UnknownLeafletError,
    so a consent record cannot point at words we cannot reproduce.
    """
    wanted = " ".join(leaflet_id_or_label.split()).casefold()
    for leaflet in LEAFLETS:
        if wanted in (leaflet.key, leaflet.identifier.casefold(), leaflet.label.casefold()):
            return leaflet
    for leaflet in LEAFLETS:
        if wanted.startswith(leaflet.identifier.casefold() + " "):
            raise UnknownLeafletError(
                f"{leaflet_id_or_label.strip()!r} is not an available version; the current one is {leaflet.label}"
            )
    known = ", ".join(f"{x.key} ({x.label})" for x in LEAFLETS)
    raise UnknownLeafletError(f"unknown leaflet {leaflet_id_or_label.strip()!r}; available: {known}")
