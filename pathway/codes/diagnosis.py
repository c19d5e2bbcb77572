"""Suggested diagnosis codes for an acute leg DVT from the vein map and the leg.

Every applicable code is suggested, one per vein group with clot, most proximal first: a clot
from the IVC through the iliac veins into the common femoral vein of the left leg gives the IVC
code and the left iliac and left femoral vein codes, so the leg and its side are never lost.
ICD-10-CM codes each vein (I82.4- acute, 6th character 1 right / 2 left; I82.220 for the IVC,
no laterality); WHO ICD-10 has only I80.1 (femoral vein), I80.2 (other deep leg vessels) and
I82.2 (vena cava). Every suggested code is looked up in the package data before it is
returned, because third-party tables are known to mislabel these codes. A clinical coder
confirms the final codes.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

import pathway.codes.icd as icd

# Proximal to distal; the names are the tracker's vein segments (docs/rules.md, 'Extent and route').
VEIN_SEGMENTS: Final[tuple[str, ...]] = (
    "ivc",
    "common_iliac",
    "external_iliac",
    "internal_iliac",
    "common_femoral",
    "femoral",
    "deep_femoral",
    "popliteal",
    "posterior_tibial",
    "anterior_tibial",
    "peroneal",
    "calf_muscle",
)

# segment -> (WHO ICD-10 code, ICD-10-CM code or family awaiting the laterality digit)
_CODES: Final = MappingProxyType(
    {
        "ivc": ("I82.2", "I82.220"),
        # CM I82.42 includes common, external and internal iliac veins.
        "common_iliac": ("I80.2", "I82.42"),
        "external_iliac": ("I80.2", "I82.42"),
        "internal_iliac": ("I80.2", "I82.42"),
        # CM I82.41 includes the common femoral and deep femoral veins.
        "common_femoral": ("I80.1", "I82.41"),
        "femoral": ("I80.1", "I82.41"),
        "deep_femoral": ("I80.1", "I82.41"),
        "popliteal": ("I80.2", "I82.43"),
        "posterior_tibial": ("I80.2", "I82.44"),
        "anterior_tibial": ("I80.2", "I82.44"),
        "peroneal": ("I80.2", "I82.45"),
        # CM I82.46 (calf muscular vein) includes gastrocnemial and soleal veins.
        "calf_muscle": ("I80.2", "I82.46"),
    }
)

_LATERALITY: Final = MappingProxyType({"right": "1", "left": "2"})


def _checked(system: str, code: str) -> str:
    """The package's description of `code`; fails loudly if the code set lacks it."""
    kind: icd.IcdSystem = "icd10" if system == "icd10" else "icd10cm"
    canonical = icd.canonical(kind, code)
    if canonical != code:
        raise RuntimeError(f"{code} is missing from the {system} code set")
    return icd.description(kind, code)


def suggest_diagnosis_codes(veins: list[str], leg: str) -> list[dict[str, object]]:
    """Suggest every applicable WHO ICD-10 and ICD-10-CM code for an acute DVT.

    Returns one mapping per code, most proximal vein first, WHO ICD-10 codes first: `system`
    (icd10 or icd10cm), `code`, `description` (the package's) and `segments` (the recorded
    segments the code covers).
    """
    if leg not in _LATERALITY:
        raise ValueError(f"leg must be 'left' or 'right', not {leg!r}")
    unknown = sorted(set(veins) - set(VEIN_SEGMENTS))
    if unknown:
        raise ValueError(f"unknown vein segment(s) {unknown}; use: {', '.join(VEIN_SEGMENTS)}")
    if not veins:
        raise ValueError("at least one vein segment is needed")
    found: dict[tuple[str, str], list[str]] = {}
    for segment in sorted(set(veins), key=VEIN_SEGMENTS.index):
        who_code, cm_code = _CODES[segment]
        if segment != "ivc":
            cm_code += _LATERALITY[leg]
        found.setdefault(("icd10", who_code), []).append(segment)
        found.setdefault(("icd10cm", cm_code), []).append(segment)
    ordered = sorted(found.items(), key=lambda item: item[0][0] != "icd10")  # stable: proximal order kept
    return [
        {"system": system, "code": code, "description": _checked(system, code), "segments": segments}
        for (system, code), segments in ordered
    ]
