"""Patient information leaflets: one per procedure, each with an identifier and version.

A consent record stores the leaflet's label ("PIL-PMT v1.0") in `information_leaflet`,
so the label must always mean the same words. The procedure sections come from
`pathway.codes.about`; tests pin a digest of every leaflet's text, so changing any
wording without bumping the version fails the tests.

NICE facts are from HTG516 (formerly IPG651). Nothing the pathway spec marks
UNCONFIRMED is stated as fact. Text is ASCII so the PDF core fonts can print it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Final

from pathway.codes.about import about_procedure
from pathway.codes.models import AboutSection

SYNTHETIC_NOTICE: Final = (
    "Synthetic guidance text written for an open-source DVT care-pathway project. It is not an "
    "NHS leaflet, has not been clinically reviewed, and does not replace advice from your own "
    "care team."
)

NICE_GUIDANCE: Final = (
    "NICE HealthTech guidance HTG516, 'Percutaneous mechanical thrombectomy for acute deep vein "
    "thrombosis of the leg' (first published June 2019 as IPG651)"
)


class UnknownLeafletError(KeyError, ValueError):
    """No leaflet has this key, identifier or label (or not in this version)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown leaflet"


UnknownLeaflet = UnknownLeafletError  # the name used in the design notes


@dataclass(frozen=True, slots=True)
class Leaflet:
    """A versioned patient information leaflet for one procedure."""

    key: str  # matches the MDT decision and procedure technique (pmt, cdt, open_thrombectomy)
    identifier: str
    version: str
    title: str
    procedure_code: str  # CPT number whose "about" sections this leaflet uses
    sections: tuple[AboutSection, ...]

    @property
    def label(self) -> str:
        """Identifier and version, as stored in a consent record's information_leaflet."""
        return f"{self.identifier} v{self.version}"

    def digest(self) -> str:
        """SHA-256 of the words a patient reads; tests pin it per version."""
        body = {"title": self.title, "sections": [s.to_dict() for s in self.sections]}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _intro(procedure: str) -> AboutSection:
    return AboutSection(
        "About this leaflet",
        (
            f"This leaflet explains {procedure} for a deep vein thrombosis (DVT) in the leg: what it "
            "involves, its risks and benefits, and the other options.",
            "It is meant to help you and your care team decide together. Please ask about anything "
            "that is not clear, and keep this leaflet to read again.",
        ),
    )


_NICE_PMT = AboutSection(
    "What NICE says",
    (
        f"This procedure is covered by {NICE_GUIDANCE}, from the National Institute for Health and "
        "Care Excellence (NICE). In January 2026 the guidance moved to the HTG516 number with its "
        "recommendations unchanged.",
        "NICE says the complications are well recognised but infrequent.",
        "For a recent clot in the veins of the pelvis and the top of the thigh (acute iliofemoral "
        "DVT), NICE found the evidence on how well PMT works limited in quality and quantity. It "
        "should only be done with special arrangements for clinical governance, consent, and audit "
        "or research. This means your hospital's clinical governance leads are told, you are told "
        "clearly about the uncertainties, and your results are recorded.",
        "For a clot that does not reach the common femoral vein (the main vein at the top of the "
        "thigh), NICE found the evidence on how well it works inconclusive. It should only be done "
        "as part of a research study. This includes a clot only in the thigh or behind the knee, "
        "not just a clot in the calf.",
        "NICE asks doctors to enter details of everyone who has this procedure onto the British "
        "Society of Interventional Radiology (BSIR) Venous Registry.",
        "NICE notes that much of the evidence it reviewed came from a device that is no longer on the market.",
        "NICE recommends that you are given clear written information, and its own information for "
        "the public (www.nice.org.uk/guidance/htg516).",
    ),
)

_NICE_CDT = AboutSection(
    "What NICE says",
    (
        f"{NICE_GUIDANCE} notes that extensive DVT is sometimes treated with catheter-directed "
        "thrombolysis, and that thrombolysis carries a risk of bleeding, including stroke.",
        "If your treatment will also use a mechanical device to remove the clot, NICE's advice on "
        "mechanical thrombectomy applies: see the leaflet PIL-PMT.",
        "This leaflet does not state a NICE recommendation on CDT on its own. Ask your team what the "
        "current guidance means for you.",
    ),
)

_NICE_OPEN = AboutSection(
    "What NICE says",
    (
        f"{NICE_GUIDANCE} notes that open surgical thrombectomy is an option when a DVT has not "
        "responded to clot-dissolving drugs or when those drugs cannot be used, but that it is "
        "rarely used.",
        "Ask your team why they suggest an operation rather than a procedure through a small puncture.",
    ),
)

_QUESTIONS = AboutSection(
    "Questions you may want to ask",
    (
        "What are the chances that this will help me, and of it causing problems?",
        "What would happen if I chose blood-thinning medicine alone?",
        "How often does this team do this procedure?",
        "Will I need a filter or a stent, and what happens to it afterwards?",
        "How long will I need to take blood-thinning medicine?",
        "Is there a research study I could take part in?",
    ),
)

_DECISION = AboutSection(
    "Your decision",
    (
        "You can take time to think, ask more questions and change your mind at any point before "
        "the procedure. If you decide not to have it, you will still be offered the usual treatment "
        "for your DVT.",
        "If you agree, you will be asked to sign a consent form. The form records which leaflet, and "
        "which version of it, you were given.",
    ),
)


def _leaflet(key: str, identifier: str, title: str, code: str, procedure: str, nice: AboutSection) -> Leaflet:
    sections = (_intro(procedure), *about_procedure(code), nice, _QUESTIONS, _DECISION)
    return Leaflet(key, identifier, "1.0", title, code, sections)


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
        "an open operation to remove the clot (surgical thrombectomy)",
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
