"""The sources a patient-facing statement may cite: the numbered sources of pathway-spec.md (f), by the
same numbers, and the spec itself for what a care team does locally (no national source says it).

A statement (pathway.codes.models.Claim) names one or more of these ids, optionally with a section
("SRC-1 2.5" is NICE HTG516 section 2.5). The leaflets print the list of the sources they use.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

SOURCES: Final = MappingProxyType(
    {
        "SRC-1": (
            "NICE HTG516 (formerly IPG651), Percutaneous mechanical thrombectomy for acute deep vein "
            "thrombosis of the leg, 2019 (moved to HTG516 in January 2026, recommendations unchanged)"
        ),
        "SRC-3": "NICE NG158, Venous thromboembolic diseases: diagnosis, management and thrombophilia testing (2020)",
        "SRC-11": "A public description of CPT 34421, open thrombectomy of the leg veins through a leg incision",
        "SRC-13": "US FDA safety communication on retrievable IVC filters (2010, updated 2014)",
        "SRC-15": "Society of Interventional Radiology guideline on IVC filters (Kaufman et al., 2020)",
        "SRC-20": "Vedantham et al., the ATTRACT trial, New England Journal of Medicine 2017",
        "SRC-23": "The CAVA trial, Lancet Haematology 2020",
        "SRC-25": "Society of Interventional Radiology periprocedural guideline (2019)",
        "SRC-29": "Kahn et al., guidance for the prevention and treatment of post-thrombotic syndrome (2016)",
        "SPEC": "This service's clinical specification (pathway-spec.md): what the care team does locally",
    }
)


def citation(source_id: str) -> str:
    """The full citation of a source id ("SRC-1" or "SRC-1 2.5"); KeyError if it is not a known source."""
    return SOURCES[source_id.split()[0]]
