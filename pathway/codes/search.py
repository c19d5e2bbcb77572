"""Offline search and lookup over WHO ICD-10, ICD-10-CM and the curated procedure codes."""

from __future__ import annotations

import dataclasses
import heapq
import re

import pathway.codes.icd as icd
from pathway.codes.about import about_procedure
from pathway.codes.index import search_index
from pathway.codes.models import SYSTEMS, CodeDetail, CodeEntry, System, check_system
from pathway.codes.procedures import OPCS4_STATUS, get_procedure
from pathway.errors import UnknownCodeError

_WORD = re.compile(r"[^\W_]+")  # letters and digits, any script
_CODE_LIKE = re.compile(r"[A-Za-z0-9.\-]+")

# Ranks, best first.
_EXACT, _PREFIX, _WORDS, _SUBSTRINGS, _INCLUDES = range(5)
_MIN_PARTIAL = 3  # shortest word allowed to match inside a longer word


def _word_match(words: list[str], whole: list[re.Pattern[str]], text: str) -> bool | None:
    """True if every word is a whole word of text, False if some are only inside a
    longer word, None if no match. Words shorter than 3 letters must be whole words,
    or "I" would match every description with an i in it.
    """
    is_whole = [p.search(text) is not None for p in whole]
    if all(is_whole):
        return True
    if all(ok or len(w) >= _MIN_PARTIAL for ok, w in zip(is_whole, words, strict=True)):
        return False
    return None


def search_codes(text: str, system: str | None = None, limit: int = 50) -> list[CodeEntry]:
    """Codes whose number starts with `text` or whose description holds all its words.

    Codes match case-insensitively, with or without the dot. Exact code matches come
    first, then code-prefix matches, then descriptions holding every word as a whole
    word, then as part of a word (popliteal in femoropopliteal), then ICD-10-CM
    inclusion terms (DVT finds I82.40). Within a rank: procedure, ICD-10, ICD-10-CM,
    each in classification order.
    """
    wanted = check_system(system)
    if limit < 1:
        raise ValueError("limit must be at least 1")
    query = text.strip()
    if not query:
        raise ValueError("search text is empty")
    index = search_index()
    best: dict[int, int] = {}  # row -> best rank found

    def found(row: int, rank: int) -> None:
        if rank < best.get(row, rank + 1):
            best[row] = rank

    if _CODE_LIKE.fullmatch(query):
        for row, exact in index.rows_with_key_prefix(icd.code_key(query)):
            found(row, _EXACT if exact else _PREFIX)
    words = _WORD.findall(query.casefold())
    # Code matches outrank every description match: once there are enough, stop.
    enough = sum(1 for row in best if wanted in (None, index.entries[row].system)) >= limit
    if words and not enough:
        whole = [re.compile(rf"(?<![^\W_]){re.escape(w)}(?![^\W_])") for w in words]
        for row in index.rows_with_all(words):
            match = _word_match(words, whole, index.texts[row])
            if match is not None:
                found(row, _WORDS if match else _SUBSTRINGS)
        for row in index.rows_with_all(words, inclusions=True):
            if _word_match(words, whole, index.includes[row]) is not None:
                found(row, _INCLUDES)
    hits = [(rank, row) for row, rank in best.items() if wanted in (None, index.entries[row].system)]
    return [index.entries[row] for _, row in heapq.nsmallest(limit, hits)]


def _entry(system: icd.IcdSystem, code: str) -> CodeEntry:
    return CodeEntry(code, system, icd.description(system, code))


def _icd_detail(system: icd.IcdSystem, code: str) -> CodeDetail:
    parent = icd.parent(system, code)
    siblings = icd.children(system, parent) if parent else []
    return CodeDetail(
        code=code,
        system=system,
        description=icd.description(system, code),
        kind=icd.kind(system, code),
        parent=_entry(system, parent) if parent else None,
        children=tuple(_entry(system, c) for c in icd.children(system, code)),
        similar=tuple(_entry(system, c) for c in siblings if c != code),
        includes=tuple(icd.inclusion_terms(system, code)),
    )


def _procedure_detail(code: str) -> CodeDetail | None:
    proc = get_procedure(code)
    if proc is None:
        return None
    similar = []
    for other in proc.similar:
        match = get_procedure(other)
        if match is not None:
            similar.append(CodeEntry(match.code, "procedure", match.label))
    notes = [proc.note] if proc.note else []
    if not proc.confirmed:
        notes.append("This code number is UNCONFIRMED in the pathway research; check before use.")
    if proc.opcs4_candidate:
        notes.append(f"{OPCS4_STATUS} Candidate to check: {proc.opcs4_candidate}.")
    return CodeDetail(
        code=proc.code,
        system="procedure",
        description=proc.label,
        kind="procedure",
        similar=tuple(similar),
        about=about_procedure(proc.code),
        confirmed=proc.confirmed,
        notes=tuple(notes),
    )


def _systems_holding(code: str) -> dict[System, str]:
    """Each system that has the code, mapped to its canonical spelling there."""
    found: dict[System, str] = {}
    proc = get_procedure(code)
    if proc is not None:
        found["procedure"] = proc.code
    for system in icd.ICD_SYSTEMS:
        canonical = icd.canonical(system, code)
        if canonical is not None:
            found[system] = canonical
    return found


def show_code(code: str, system: str | None = None) -> CodeDetail:
    """Details of one code. Without `system`, the first system holding it in SYSTEMS order.

    Raises UnknownCodeError (a KeyError and a ValueError) if no system (or not `system`) has it.
    """
    wanted = check_system(system)
    holding = _systems_holding(code)
    chosen = wanted if wanted is not None else next((s for s in SYSTEMS if s in holding), None)
    if chosen is None or chosen not in holding:
        where = f"in {chosen}" if chosen else "in ICD-10, ICD-10-CM or the procedure table"
        raise UnknownCodeError(f"unknown code {code.strip()!r} {where}")
    canonical = holding[chosen]
    if chosen == "procedure":
        detail = _procedure_detail(canonical)
        assert detail is not None  # holding[] only lists systems that have the code
    else:
        detail = _icd_detail(chosen, canonical)
    others = tuple(s for s in SYSTEMS if s in holding and s != chosen)
    return dataclasses.replace(detail, also_in=others) if others else detail
