"""Diagnosis and procedure codes for the DVT pathway: search, details and suggestions.

WHO ICD-10 and ICD-10-CM come in full from offline packages; procedure codes are a
small curated table (CPT numbers with our own descriptions; OPCS-4 unconfirmed).
"""

from pathway.codes.about import ABOUT_HEADINGS, about_procedure
from pathway.codes.diagnosis import VEIN_SEGMENTS, suggest_diagnosis_codes
from pathway.codes.models import SYSTEMS, AboutSection, CodeDetail, CodeEntry, UnknownCode
from pathway.codes.procedures import (
    ProcedureCode,
    get_procedure,
    opcs4_candidates,
    procedure_codes,
)
from pathway.codes.search import search_codes, show_code
from pathway.errors import UnknownCodeError

__all__ = [
    "ABOUT_HEADINGS",
    "SYSTEMS",
    "VEIN_SEGMENTS",
    "AboutSection",
    "CodeDetail",
    "CodeEntry",
    "ProcedureCode",
    "UnknownCode",
    "UnknownCodeError",
    "about_procedure",
    "get_procedure",
    "opcs4_candidates",
    "procedure_codes",
    "search_codes",
    "show_code",
    "suggest_diagnosis_codes",
]
