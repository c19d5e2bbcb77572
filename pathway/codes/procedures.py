"""Curated procedure codes for the DVT thrombus-removal pathway.

CPT is licensed by the AMA and OPCS-4 by NHS England, and no open package ships either.
This table holds only the code NUMBERS with this project's own short descriptions
(never the AMA descriptor text); see pathway-spec.md section (e) and its sources.
Codes the spec marks UNCONFIRMED carry confirmed=False and say so in their description.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

UNCONFIRMED_TAG: Final = "[UNCONFIRMED]"


@dataclass(frozen=True, slots=True)
class ProcedureCode:
    """One CPT code number with our own description and the codes it is confused with."""

    code: str
    description: str
    similar: tuple[str, ...]
    confirmed: bool = True
    opcs4_candidate: str = ""  # always UNCONFIRMED: a category to verify, never a code to use
    note: str = ""

    @property
    def label(self) -> str:
        """Description as shown to users: unconfirmed codes are tagged, never shown as fact."""
        if self.confirmed:
            return self.description
        return f"{self.description} {UNCONFIRMED_TAG}"


@dataclass(frozen=True, slots=True)
class Opcs4Candidate:
    """An OPCS-4 category the spec names as a lead to check, not a verified code."""

    category: str
    description: str
    confirmed: bool = False


_OPEN = "L90 (open removal of thrombus from vein)"
_PERC = "chapter L percutaneous transluminal venous procedure with Y/Z codes"
_FILTER = "L79 (vena cava filter insertion or removal)"

_TABLE: Final[tuple[ProcedureCode, ...]] = (
    ProcedureCode(
        "34401",
        "Venous thrombectomy (direct or by catheter) of the vena cava or iliac vein through an abdominal incision",
        ("34421", "34451"),
        opcs4_candidate=_OPEN,
    ),
    ProcedureCode(
        "34421",
        "Venous thrombectomy (direct or by catheter) of the vena cava, iliac or "
        "femoropopliteal vein through a leg incision (open surgical thrombectomy)",
        ("37187", "34401", "34451", "37212"),
        opcs4_candidate=_OPEN,
    ),
    ProcedureCode(
        "34451",
        "Venous thrombectomy (direct or by catheter) of the vena cava, iliac or "
        "femoropopliteal vein through combined abdominal and leg incisions",
        ("34401", "34421"),
        opcs4_candidate=_OPEN,
    ),
    ProcedureCode(
        "37187",
        "Percutaneous mechanical thrombectomy (PMT) of a vein, including thrombolytic "
        "drug injected into the clot during the procedure and X-ray guidance",
        ("37188", "37212", "34421"),
        opcs4_candidate=_PERC,
        note="Codes 37184-37186 are ARTERIAL mechanical thrombectomy: do not use them for veins.",
    ),
    ProcedureCode(
        "37188",
        "Repeat percutaneous mechanical venous thrombectomy on a later day during a course of thrombolysis",
        ("37187", "37213"),
        opcs4_candidate=_PERC,
    ),
    ProcedureCode(
        "37212",
        "Catheter-directed thrombolysis (CDT) of a vein by infusion, first treatment day",
        ("37213", "37214", "37187"),
        opcs4_candidate=_PERC,
    ),
    ProcedureCode(
        "37213",
        "Catheter-directed thrombolytic infusion (artery or vein) continued on a later day",
        ("37212", "37214", "37188"),
        opcs4_candidate=_PERC,
    ),
    ProcedureCode(
        "37214",
        "Last day of catheter-directed thrombolysis, including catheter removal and closure of the access vessel",
        ("37212", "37213"),
        opcs4_candidate=_PERC,
    ),
    ProcedureCode(
        "37238",
        "Venous stent placement, first vein (balloon angioplasty of the same vein included)",
        ("37239", "37248"),
        opcs4_candidate=_PERC,
    ),
    ProcedureCode(
        "37239",
        "Venous stent placement, each additional vein",
        ("37238", "37249"),
        opcs4_candidate=_PERC,
    ),
    ProcedureCode(
        "37248",
        "Venous balloon angioplasty (venoplasty), first vein",
        ("37249", "37238"),
        opcs4_candidate=_PERC,
    ),
    ProcedureCode(
        "37249",
        "Venous balloon angioplasty (venoplasty), each additional vein",
        ("37248", "37239"),
        opcs4_candidate=_PERC,
    ),
    ProcedureCode(
        "37191",
        "Vena cava filter insertion through a vein (access and imaging included)",
        ("37193", "37192"),
        opcs4_candidate=_FILTER,
    ),
    ProcedureCode(
        "37192",
        "Vena cava filter repositioning through a vein",
        ("37191", "37193"),
        confirmed=False,
        opcs4_candidate=_FILTER,
    ),
    ProcedureCode(
        "37193",
        "Vena cava filter retrieval through a vein",
        ("37191", "37192"),
        opcs4_candidate=_FILTER,
        note="Not reported together with 37197 (per the spec's coding notes).",
    ),
    # Imaging around the procedure: numbers from the spec, all UNCONFIRMED in its research.
    ProcedureCode("75820", "Venography of one limb", ("75822", "75825"), confirmed=False),
    ProcedureCode("75822", "Venography of both limbs", ("75820", "75825"), confirmed=False),
    ProcedureCode(
        "75825",
        "Venography of the inferior vena cava",
        ("75820", "37191"),
        confirmed=False,
    ),
    ProcedureCode(
        "93970",
        "Duplex ultrasound of limb veins, both sides",
        ("93971",),
        confirmed=False,
    ),
    ProcedureCode(
        "93971",
        "Duplex ultrasound of limb veins, one side or limited",
        ("93970",),
        confirmed=False,
    ),
    ProcedureCode(
        "37252",
        "Intravascular ultrasound (IVUS), first vessel",
        ("37253",),
        confirmed=False,
    ),
    ProcedureCode(
        "37253",
        "Intravascular ultrasound (IVUS), each additional vessel",
        ("37252",),
        confirmed=False,
    ),
)

PROCEDURES: Final = MappingProxyType({p.code: p for p in _TABLE})

OPCS4_CANDIDATES: Final[tuple[Opcs4Candidate, ...]] = (
    Opcs4Candidate("L90", "Open removal of thrombus from a vein"),
    Opcs4Candidate("L79", "Vena cava filter insertion or removal"),
    Opcs4Candidate(
        "L (chapter)",
        "Percutaneous transluminal venous procedures (thrombolysis, thrombectomy, venoplasty, "
        "stent), with Y-chapter approach and Z-chapter site codes",
    ),
)

OPCS4_STATUS: Final = (
    "OPCS-4 codes are UNCONFIRMED: no primary OPCS-4.10 listing was available. Verify in the "
    "NHS England classification browser (TRUD) before use."
)


def procedure_codes() -> tuple[ProcedureCode, ...]:
    """All curated procedure codes, in pathway order."""
    return _TABLE


def get_procedure(code: str) -> ProcedureCode | None:
    return PROCEDURES.get(code.strip().upper())


def opcs4_candidates() -> tuple[Opcs4Candidate, ...]:
    """Candidate OPCS-4 categories to verify; every one has confirmed=False."""
    return OPCS4_CANDIDATES
