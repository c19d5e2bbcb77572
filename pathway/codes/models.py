"""Value types shared by the code search, code details and leaflets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from pathway.errors import UnknownCodeError

System = Literal["icd10", "icd10cm", "procedure"]

# Order matters: it is the tie-break order of search results and of show_code
# when a code exists in more than one system (I80.1 is in WHO and ICD-10-CM).
SYSTEMS: Final[tuple[System, ...]] = ("procedure", "icd10", "icd10cm")

SYSTEM_NAMES: Final[dict[System, str]] = {
    "icd10": "ICD-10 (WHO 2019)",
    "icd10cm": "ICD-10-CM (US, April 2026 release)",
    "procedure": "Procedure (CPT number, own description)",
}


UnknownCode = UnknownCodeError  # the name used in the design notes


def check_system(system: str | None) -> System | None:
    """Return `system` as a System, or raise ValueError for an unknown name."""
    if system is None:
        return None
    for known in SYSTEMS:
        if system == known:
            return known
    raise ValueError(f"unknown code system {system!r}; use one of: {', '.join(SYSTEMS)}")


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """One code from one code system, as a search result."""

    code: str
    system: System
    description: str

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "system": self.system,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class Claim:
    """One statement a patient reads and the sources that support it (ids of pathway.codes.sources,
    optionally followed by a section: "SRC-1 2.5"). A statement without a source cannot be made."""

    text: str
    sources: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a statement needs words")
        if not self.sources or not all(source.strip() for source in self.sources):
            raise ValueError(f"a statement needs at least one source: {self.text[:60]!r}")

    @property
    def source_ids(self) -> tuple[str, ...]:
        """The sources without their sections ("SRC-1 2.5" -> "SRC-1")."""
        return tuple(dict.fromkeys(source.split()[0] for source in self.sources))

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "sources": list(self.sources)}


@dataclass(frozen=True, slots=True)
class AboutSection:
    """One heading of a plain-English procedure description, as bullet points."""

    heading: str
    points: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"heading": self.heading, "points": list(self.points)}


@dataclass(frozen=True, slots=True)
class CodeDetail:
    """Everything known about one code: its place in the hierarchy and similar codes."""

    code: str
    system: System
    description: str
    kind: str  # chapter, block, category, subcategory or procedure
    parent: CodeEntry | None = None
    children: tuple[CodeEntry, ...] = ()
    similar: tuple[CodeEntry, ...] = ()
    includes: tuple[str, ...] = ()  # ICD-10-CM inclusion terms
    about: tuple[AboutSection, ...] = ()
    confirmed: bool = True
    notes: tuple[str, ...] = ()
    also_in: tuple[System, ...] = ()  # same code in another system

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "system": self.system,
            "description": self.description,
            "kind": self.kind,
            "confirmed": self.confirmed,
            "parent": self.parent.to_dict() if self.parent else None,
            "children": [c.to_dict() for c in self.children],
            "similar": [c.to_dict() for c in self.similar],
            "includes": list(self.includes),
            "about": [s.to_dict() for s in self.about],
            "notes": list(self.notes),
            "also_in": list(self.also_in),
        }
