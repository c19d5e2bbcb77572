"""Generated command payloads: valid ones for the state `tests.support.commands.prepare` builds, and
invalid ones made by one mutation of a valid payload (or of the state it runs against).

The state of `prepare(factory, name)`: a governance notice for North Vale dated 2026-01-10, patient
H100 (NHS 9434765919, North Vale) with pathway P1 presented on 2026-06-01 (common femoral and
femoral veins: iliofemoral, special arrangements), all recorded on 2026-06-15; then, as the command
needs, anticoagulation started 2026-06-01, an MDT (pmt) on 2026-06-02, consent on 2026-06-03 and
a procedure (temporary IVC filter) on 2026-06-05.

Every case carries the recording instant (on or after the prepared day), the state it runs against
(a command name: the state `prepare` builds for it; "closed:" + name: that state with P1 closed),
and for an invalid case the fields its rejection may name and whether it is a NotFound.
"""

import functools
import math
import string
import types
import typing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any

from hypothesis import event
from hypothesis import strategies as st

from pathway.domain.clock import add_months, london_date
from pathway.domain.commands import COMMANDS, EVENT_DATES, PLANNED_DATES
from pathway.domain.policy import load_policy
from pathway.domain.text import normalise_reference, site_spelling
from pathway.domain.vocabulary import (
    PERCUTANEOUS_TECHNIQUES,
    REQUIRED_MDT_ROLES,
    THROMBOLYTIC_TECHNIQUES,
    VILLALTA_ITEMS,
    AccessVein,
    Agent,
    CloseReason,
    ClotRemoval,
    Decision,
    FilterIndication,
    FilterOutcome,
    Imaging,
    IvcFilter,
    Leg,
    Patency,
    PregnancyTest,
    ReviewDecision,
    Segment,
    Sex,
    StopReason,
    Technique,
    Visit,
)
from tests.conftest import NHS, PRESENTED, RECORDED_AT
from tests.properties.databases import MALE_PATIENT
from tests.support.sites import TEST_SITES

PATIENT = "H100"
PATHWAY = "P1"
STARTED_ON = date(2026, 6, 1)
CONSENTED_ON = date(2026, 6, 3)
PERFORMED_ON = date(2026, 6, 5)
SYMPTOM_ONSET = PRESENTED  # tests.conftest.diagnose: onset on the presentation day, NG158's criteria met
LYSIS_LIMIT = SYMPTOM_ONSET + timedelta(days=14)  # from here a thrombolytic technique needs a rationale
RESTART_MAX_DAYS = 30  # the policy's restart_plan_max_days
FILTER_MAX_DAYS = 54  # the policy's filter_retrieval_end_days
CONTRAINDICATIONS = load_policy().contraindications.codes
PREPARED_DAY = london_date(RECORDED_AT)  # 2026-06-15
LAST_RECORDING = datetime(2028, 12, 31, 23, 59)
PROCEDURAL_VISITS = ("early", "week6")

SITE_COMMANDS = ("register_patient", "record_diagnosis", "notify_governance")
PATHWAY_COMMANDS = tuple(name for name in COMMANDS if name not in SITE_COMMANDS)


# --- the fields of every command ------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """What a field holds: enough to generate a valid value and a wrong one."""

    tag: str  # command ref text date enum bool int float enums texts nhs attendees villalta
    values: tuple[str, ...] = ()
    max_len: int = 0
    lo: float = 0
    hi: float = 0
    min_items: int = 0
    max_items: int = 0
    bounded: bool = True  # False: the model sets no maximum; max_items only limits generation
    unique: bool = False  # a list whose items may not repeat


def _enum(values: type[Enum] | tuple[str, ...]) -> Kind:
    return Kind("enum", values=tuple(v.value for v in values) if isinstance(values, type) else values)


def _literal(command: str, field: str) -> tuple[str, ...]:
    """The values of an optional Literal field, read from the command model."""
    annotation = COMMANDS[command].model_fields[field].annotation

    def walk(node: Any) -> list[str]:
        if typing.get_origin(node) is typing.Literal:
            return list(typing.get_args(node))
        if typing.get_origin(node) in (typing.Union, types.UnionType, list):
            return [value for arg in typing.get_args(node) for value in walk(arg)]
        return []

    found = tuple(walk(annotation))
    assert found, f"{command}.{field} is not a Literal field"
    return found


COMMAND = Kind("command")
REF = Kind("ref", max_len=40)
TEXT = Kind("text", max_len=120)
SHORT_TEXT = Kind("text", max_len=80)  # external identifiers (their columns hold 80)
SITE = Kind("site", max_len=80)  # stored NFKC with white space collapsed, in 80 characters
DATE = Kind("date")
BOOL = Kind("bool")


def _text(max_len: int) -> Kind:
    return Kind("text", max_len=max_len)


def _int(lo: int, hi: int) -> Kind:
    return Kind("int", lo=lo, hi=hi)


def _float(lo: float, hi: float) -> Kind:
    return Kind("float", lo=lo, hi=hi)


_BASE = {"command": COMMAND, "by": TEXT}
_ON_PATHWAY = {"command": COMMAND, "by": TEXT, "pathway": REF}

FIELDS: dict[str, dict[str, Kind]] = {
    "register_patient": _BASE
    | {"patient": REF, "nhs_number": Kind("nhs"), "date_of_birth": DATE, "sex": _enum(Sex), "site": SITE}
    | {"name": TEXT},
    "record_diagnosis": _BASE
    | {"patient": REF, "pathway": REF, "presented_on": DATE, "symptom_onset_on": DATE, "referred_on": DATE}
    | {"leg": _enum(Leg), "veins": Kind("enums", values=tuple(s.value for s in Segment), min_items=1, max_items=12)}
    | {"imaging": _enum(Imaging)}
    | {name: _enum(_literal("record_diagnosis", name)) for name in ("provoked_status", "functional_status")}
    | {name: _enum(_literal("record_diagnosis", name)) for name in ("life_expectancy_ge_1y", "bleeding_risk")}
    | {"active_cancer": BOOL, "prior_dvt": BOOL, "baseline_villalta": _int(0, 33), "baseline_vcss": _int(0, 30)}
    | {"pregnant": BOOL},
    "start_anticoagulation": _ON_PATHWAY | {"agent": _enum(Agent), "started_on": DATE},
    "stop_anticoagulation": _ON_PATHWAY
    | {"stopped_on": DATE, "reason": _enum(StopReason)}
    | {"restart_planned_on": DATE, "plan_approved_by": TEXT},
    "record_mdt": _ON_PATHWAY
    | {"held_on": DATE, "attendees": Kind("attendees", min_items=1, max_items=40), "decision": _enum(Decision)}
    | {"thrombolysis": BOOL, "rationale": _text(4000), "outside_scope_plan": _text(4000)},
    "notify_governance": _BASE | {"site": SITE, "notified_on": DATE, "lead": TEXT, "clinician": TEXT},
    "enrol_research": _ON_PATHWAY | {"study_id": SHORT_TEXT, "ethics_ref": SHORT_TEXT, "enrolled_on": DATE},
    "record_consent": _ON_PATHWAY
    | {"consented_on": DATE, "information_leaflet": _text(80), "uncertainties_discussed": BOOL},
    "schedule_procedure": _ON_PATHWAY | {"scheduled_on": DATE},
    "record_procedure": _ON_PATHWAY
    | {"performed_on": DATE, "technique": _enum(Technique), "device": TEXT, "access_vein": _enum(AccessVein)}
    | {"ivc_filter": _enum(IvcFilter), "stent": BOOL, "clot_removal": _enum(ClotRemoval)}
    | {"complications": Kind("texts", max_len=120, max_items=20), "device_maker": TEXT}
    | {name: _enum(_literal("record_procedure", name)) for name in ("device_mechanism", "thrombolytic_agent")}
    | {"lytic_dose_mg": _float(0, 500), "infusion_hours": _float(0, 120), "venoplasty": BOOL}
    | {"stent_veins": Kind("enums", values=_literal("record_procedure", "stent_veins"), max_items=5, bounded=False)}
    | {"stent_count": _int(0, 20), "stent_model": TEXT, "filter_model": TEXT}
    | {"outside_criteria_rationale": _text(4000), "filter_indication": _enum(FilterIndication)}
    | {"filter_removal_planned_on": DATE},
    "submit_registry": _ON_PATHWAY | {"submitted_on": DATE, "registry_ref": SHORT_TEXT},
    "record_follow_up": _ON_PATHWAY
    | {"visit": _enum(Visit), "seen_on": DATE, "villalta": Kind("villalta"), "patency": _enum(Patency)}
    | {name: _enum(_literal("record_follow_up", name)) for name in ("recurrent_vte", "bleeding", "ceap_c")}
    | {"vcss": _int(0, 30)},
    "record_anticoagulation_review": _ON_PATHWAY | {"reviewed_on": DATE, "decision": _enum(ReviewDecision)},
    "record_filter_outcome": _ON_PATHWAY | {"decided_on": DATE, "outcome": _enum(FilterOutcome)},
    "close_pathway": _ON_PATHWAY | {"closed_on": DATE, "reason": _enum(CloseReason)},
    "record_safety_check": _ON_PATHWAY
    | {"checked_on": DATE, "platelets": _float(0, 2000), "inr": _float(0.5, 20), "haemoglobin": _float(20, 250)}
    | {"egfr": _float(0, 200), "pregnancy_test": _enum(PregnancyTest)}
    | {"contraindications": Kind("enums", values=CONTRAINDICATIONS, max_items=40, unique=True)},
}


def required(name: str, field: str) -> bool:
    return COMMANDS[name].model_fields[field].is_required()


# --- values -------------------------------------------------------------------------------------------

# Any character but lone surrogates (not valid in UTF-8), control characters other than tab and
# line breaks (rejected: NUL above all, which PostgreSQL text cannot hold) and invisible format
# characters (Cf: rejected, as they let one text look like another).
CHARACTERS = st.one_of(st.characters(exclude_categories=("Cs", "Cc", "Cf")), st.sampled_from("\t\n\r"))
CONTROL_CHARACTERS = st.characters(categories=("Cc",), exclude_characters="\t\n\r")
FORMAT_CHARACTERS = st.one_of(
    st.sampled_from("\u200b\u200c\u200d\u202e\u2066\u00ad\ufeff"), st.characters(categories=("Cf",))
)
VISIBLE = st.characters(exclude_categories=("Cs", "Cc", "Cf", "Z"))
WHITESPACE = st.sampled_from(" \t\n\r\u00a0\u2003")
MIN_DAY = date(1, 1, 1)
BORN = date(1970, 3, 4)  # the prepared patient's date of birth (tests.conftest.register)
MAX_DAY = date(9999, 12, 31)


@functools.cache
def free_text(max_len: int) -> st.SearchStrategy[str]:
    """Text accepted as `max_len` characters at most once surrounding white space is stripped."""
    short = st.text(CHARACTERS, min_size=1, max_size=min(max_len, 40))
    # Near the limit: a visible character repeated, then some generated text (cheap to draw for 4000).
    at_limit = st.builds(
        lambda filler, length, tail: (tail + filler * max_len)[:length],
        VISIBLE,
        st.integers(max(1, max_len - 3), max_len),
        st.text(CHARACTERS, max_size=8),
    )
    padded = st.builds(
        lambda left, core, right: left + core + right, st.text(WHITESPACE, max_size=3), short, WHITESPACE
    )
    return st.one_of(short, at_limit, padded).filter(lambda s: 0 < len(s.strip()) <= max_len)


@functools.cache
def site_text() -> st.SearchStrategy[str]:
    """A site on the managed list (tests/support/sites.py: a site must be listed to be named), in any
    of its spellings: another case, other white space around and between words, fullwidth forms."""

    def spelt(name: str, case: str, gaps: list[str], wide: bool, left: str, right: str) -> str:
        words = getattr(name, case)().split(" ")
        joined = words[0] + "".join(gap + word for gap, word in zip(gaps, words[1:], strict=False))
        return left + (fullwidth(joined) if wide else joined) + right

    gaps = st.lists(st.text(WHITESPACE, min_size=1, max_size=2), min_size=4, max_size=4)
    edges = st.text(WHITESPACE, max_size=2)
    cases = st.sampled_from(["strip", "lower", "upper", "title"])
    return st.builds(spelt, st.sampled_from(TEST_SITES), cases, gaps, st.booleans(), edges, edges).filter(
        lambda s: 0 < len(site_spelling(s)) <= 80
    )


def fullwidth(text: str) -> str:
    """ASCII letters and digits as their fullwidth forms (NFKC maps them back)."""
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text)


# A new reference: Latin letters, digits and - _ / . (pathway.domain.text.REFERENCE), a letter or digit first.
REFERENCE_TEXT = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_/.\-]{0,39}\Z")


@functools.cache
def new_ref(taken: str) -> st.SearchStrategy[str]:
    """A reference nobody holds yet (references are compared after stripping and NFKC)."""
    usual = st.builds(
        lambda prefix, number: f"{prefix}{number}", st.sampled_from(["H", "P", "RX", "NV-", "Q"]), st.integers(0, 10**8)
    )
    written = st.one_of(usual, usual, REFERENCE_TEXT, usual.map(fullwidth))
    return written.filter(lambda s: normalise_reference(s) != taken)


@functools.cache
def existing_ref(ref: str) -> st.SearchStrategy[str]:
    """The held reference, sometimes with white space around it or in fullwidth forms (NFKC on input)."""
    spaced = st.builds(lambda a, b: a + ref + b, st.text(WHITESPACE, max_size=2), WHITESPACE)
    return st.one_of(st.just(ref), spaced, st.just(fullwidth(ref)))


# Letters of other scripts that look like Latin ones (Cyrillic, Greek), for look-alike references.
LOOK_ALIKES = st.sampled_from("\u041d\u0410\u0420\u0425\u0415\u041e\u0391\u0397\u03a1\u0440\u0430")


_GIVEN = ("Zelda", "Ottoline", "Bartholomew", "Imogen", "Caspian", "Wilhelmina", "Evander", "Rosalind", "Ignatius")
_FAMILY = ("Quenby", "Fairweather", "Ashcombe", "Pendragon", "Thistlewood", "Marchbanks", "Oyelaran", "Szymanska")
# Synthetic, distinctive names: finding one in a message cannot be chance.
PERSON_NAMES = st.builds(
    lambda given, family, number: (
        f"{given} {family}" + (f"-{_FAMILY[number % len(_FAMILY)]}" if number % 3 == 0 else "")
    ),
    st.sampled_from(_GIVEN),
    st.sampled_from(_FAMILY),
    st.integers(0, 99),
)


def nhs_check_digit(nine: str) -> int:
    """Modulus 11 (NHS Data Dictionary): 11 means 0, 10 means no valid number."""
    total = sum(int(digit) * weight for digit, weight in zip(nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return 0 if check == 11 else check


# First digit 4, 6, 7 (England, Wales and the Isle of Man) or 9 (test patients): the ranges numbers
# are issued from (pathway.domain.commands.ISSUED_NHS_NUMBERS).
NINE_DIGITS = st.builds(
    lambda first, rest: first + rest, st.sampled_from("4679"), st.text("0123456789", min_size=8, max_size=8)
)
# Ranges never issued as NHS numbers: reserved (5), Ireland's IHI and unallocated (8).
NOT_ISSUED_NINE_DIGITS = st.builds(
    lambda first, rest: first + rest, st.sampled_from("58"), st.text("0123456789", min_size=8, max_size=8)
)


def _spaced(digits: str, style: int) -> str:
    if style == 1:
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    if style == 2:
        return f" {digits} "
    return digits


@st.composite
def valid_nhs_number(draw: st.DrawFn) -> str:
    nine = draw(NINE_DIGITS.filter(lambda n: nhs_check_digit(n) != 10))
    digits = nine + str(nhs_check_digit(nine))
    if digits == NHS:
        digits = "9434765927"  # valid too, and not the prepared patient's
    return _spaced(digits, draw(st.integers(0, 2)))


@st.composite
def wrong_nhs_number(draw: st.DrawFn) -> str:
    """Ten ASCII digits with a wrong check digit, or not ten ASCII digits at all (other characters,
    or a valid number written in another script's digits, which Python's \\d and int() accept)."""
    how = draw(st.sampled_from(["check_digit", "length", "characters", "other_script", "not_issued"]))
    event(f"nhs_number: {how}")
    if how == "not_issued":
        nine = draw(st.one_of(st.just("000000000"), NOT_ISSUED_NINE_DIGITS.filter(lambda n: nhs_check_digit(n) != 10)))
        return _spaced(nine + str(nhs_check_digit(nine)), draw(st.integers(0, 2)))
    nine = draw(NINE_DIGITS)
    if how == "check_digit":
        right = nhs_check_digit(nine)
        wrong = draw(st.sampled_from([d for d in range(10) if d != right]))
        return _spaced(nine + str(wrong), draw(st.integers(0, 2)))
    if how == "length":
        return draw(st.text("0123456789", max_size=20).filter(lambda s: len(s) != 10))
    digits = nine + str(nhs_check_digit(nine) % 10)
    position = draw(st.integers(0, 9))
    if how == "other_script":
        zero = draw(st.sampled_from(OTHER_DIGIT_ZEROS))
        return "".join(chr(zero + int(d)) if i >= position else d for i, d in enumerate(digits))
    other = draw(st.sampled_from("-./ABCx+"))
    return digits[:position] + other + digits[position + 1 :]


# The zero of some Unicode decimal digit scripts: Arabic-Indic, extended Arabic-Indic, Devanagari,
# Bengali, Thai, Myanmar, fullwidth, mathematical bold.
OTHER_DIGIT_ZEROS = (0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0x1040, 0xFF10, 0x1D7CE)


def oldest_birth(today: date) -> date:
    """The earliest date of birth that is at most 120 years old today (policy maximum_age_years)."""
    return add_months(today, -12 * 121) + timedelta(days=1)


@functools.cache
def day_between(lo: date, hi: date) -> st.SearchStrategy[date]:
    """A day in [lo, hi], with the bounds themselves often."""
    assert lo <= hi, (lo, hi)
    return st.one_of(st.sampled_from([lo, hi]), st.dates(lo, hi))


_AS_DATE = st.integers(0, 4).map(lambda n: n == 0)  # a Python date now and then, else YYYY-MM-DD


def as_input(day: date, style: bool) -> Any:
    """As a command log writes it (YYYY-MM-DD), or as a Python date (forms, imports)."""
    return day if style else day.isoformat()


@functools.cache
def date_value(lo: date, hi: date) -> st.SearchStrategy[Any]:
    """A day in [lo, hi] as a command would carry it."""
    return st.builds(as_input, day_between(lo, hi), _AS_DATE)


RECORDING_INSTANTS = st.one_of(
    st.just(RECORDED_AT),
    st.datetimes(min_value=RECORDED_AT.replace(tzinfo=None), max_value=LAST_RECORDING, timezones=st.just(UTC)),
)


_OTHER_ROLES = st.one_of(
    st.sampled_from(["nurse_specialist", "anaesthetist", "radiographer", "coordinator"]),
    free_text(60).filter(lambda role: role.strip() not in REQUIRED_MDT_ROLES),
)
_EXTRA_ROLES = st.lists(st.one_of(st.sampled_from(REQUIRED_MDT_ROLES), _OTHER_ROLES), max_size=6)
_ATTENDEE_NAMES = st.one_of(PERSON_NAMES, free_text(120))


@functools.cache
def _order(size: int) -> st.SearchStrategy[list[int]]:
    return st.permutations(range(size))


@st.composite
def attendees(draw: st.DrawFn) -> list[dict[str, str]]:
    """A quorate MDT: the three required roles (NICE HTG516 3.8), in any order, and maybe others."""
    roles = [*REQUIRED_MDT_ROLES, *draw(_EXTRA_ROLES)]
    people = [{"name": draw(_ATTENDEE_NAMES), "role": role} for role in roles]
    return [people[i] for i in draw(_order(len(people)))]


VILLALTA_SCORES = st.lists(st.integers(0, 3), min_size=len(VILLALTA_ITEMS), max_size=len(VILLALTA_ITEMS))


@functools.cache
def value_for(kind: Kind) -> st.SearchStrategy[Any]:
    """A valid value of a field that no rule of the record constrains (dates and references aside)."""
    match kind.tag:
        case "text":
            return free_text(kind.max_len)
        case "site":
            return site_text()
        case "enum":
            return st.sampled_from(kind.values)
        case "bool":
            return st.booleans()
        case "int":
            return st.integers(int(kind.lo), int(kind.hi))
        case "float":
            whole = st.integers(math.ceil(kind.lo), math.floor(kind.hi))
            return st.one_of(whole, st.floats(kind.lo, kind.hi), st.sampled_from([kind.lo, kind.hi]))
        case "enums":
            size = min(kind.max_items, len(kind.values)) if kind.unique else kind.max_items
            return st.lists(st.sampled_from(kind.values), min_size=kind.min_items, max_size=size, unique=kind.unique)
        case "texts":
            return st.lists(free_text(kind.max_len), max_size=kind.max_items)
        case "attendees":
            return attendees()
        case "villalta":
            return st.fixed_dictionaries({"items": VILLALTA_SCORES, "ulcer": st.booleans()})
        case "nhs":
            return valid_nhs_number()
    raise AssertionError(f"no generic value for {kind}")


# --- valid cases ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    payload: Any
    recorded_at: datetime
    state: str  # a command name (the state prepare() builds for it) or "closed:" + a command name
    kind: str = "valid"  # the mutation that made an invalid case
    fields: frozenset[str] = frozenset()  # the fields its rejection may name (first part of the path)
    not_found: bool = False

    @property
    def today(self) -> date:
        return london_date(self.recorded_at)


def date_bounds(name: str, payload: dict[str, Any], today: date) -> dict[str, tuple[date, date]]:
    """Where each event date of a command may lie in its prepared state (docs/rules.md, 'Timing rules')."""
    if name == "register_patient":
        return {"date_of_birth": (oldest_birth(today), today)}
    if name == "notify_governance":
        return {"notified_on": (MIN_DAY, today)}
    (field,) = EVENT_DATES[name]
    lo = {
        "stop_anticoagulation": STARTED_ON,
        "record_procedure": CONSENTED_ON,
        "submit_registry": PERFORMED_ON,
        "record_filter_outcome": PERFORMED_ON,
        "record_follow_up": PERFORMED_ON if payload.get("visit") in PROCEDURAL_VISITS else PRESENTED,
    }.get(name, PRESENTED)
    return {field: (lo, MAX_DAY if field in PLANNED_DATES else today)}


_PRESENCE = st.sampled_from(["absent", "absent", "none", "value", "value"])


@st.composite
def valid_case(draw: st.DrawFn, name: str) -> Case:
    """A payload `execute` must accept in the state prepare(factory, name) builds."""
    recorded_at = draw(RECORDING_INSTANTS)
    today = london_date(recorded_at)
    payload: dict[str, Any] = {"command": name}
    for field, kind in FIELDS[name].items():
        if kind.tag in ("command", "date", "ref"):
            continue
        if not required(name, field):
            presence = draw(_PRESENCE)
            if presence == "absent":
                continue
            if presence == "none":
                payload[field] = None
                continue
        payload[field] = draw(PERSON_NAMES if field == "name" else value_for(kind))
    if name == "record_consent":
        payload["uncertainties_discussed"] = True
    if name in PATHWAY_COMMANDS:
        payload["pathway"] = draw(existing_ref(PATHWAY))
    if name == "register_patient":
        payload["patient"] = draw(new_ref(PATIENT))
    if name == "record_diagnosis":
        payload["patient"] = draw(existing_ref(PATIENT))
        payload["pathway"] = draw(new_ref(PATHWAY))
        # On or after the prepared patient's birth, at a plausible age (pathway.domain.checks).
        presented = draw(day_between(BORN, today))
        style = draw(_AS_DATE)
        payload["presented_on"] = as_input(presented, style)
        payload["symptom_onset_on"] = as_input(draw(day_between(BORN, presented)), style)
        payload["referred_on"] = as_input(draw(day_between(presented, today)), style)
    else:
        for field, (lo, hi) in date_bounds(name, payload, today).items():
            payload[field] = draw(date_value(lo, hi))
    _version_2_rules(draw, name, payload)
    keys = list(payload)
    ordered = {keys[i]: payload[keys[i]] for i in draw(_order(len(keys)))}
    return Case(ordered, recorded_at, state=name)


def _day_of(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _version_2_rules(draw: st.DrawFn, name: str, payload: dict[str, Any]) -> None:
    """Make a generated payload meet version 2's rules in its prepared state: a device for a percutaneous
    technique, a rationale for thrombolysis from day 14 of symptoms, a filter's indication and removal plan,
    a procedure hold's plan; and give the planned dates the generic loop skips."""
    style = draw(_AS_DATE)
    if name == "record_procedure":
        performed = _day_of(payload["performed_on"])
        technique = payload["technique"]
        if technique in {t.value for t in PERCUTANEOUS_TECHNIQUES}:
            payload["device"] = draw(value_for(TEXT))
        if technique in {t.value for t in THROMBOLYTIC_TECHNIQUES} and performed >= LYSIS_LIMIT:
            payload["outside_criteria_rationale"] = draw(free_text(4000))
        if payload["ivc_filter"] != "none":
            payload["filter_indication"] = draw(st.sampled_from([f.value for f in FilterIndication]))
        if payload["ivc_filter"] == "temporary":
            removal = day_between(performed, performed + timedelta(days=FILTER_MAX_DAYS))
            payload["filter_removal_planned_on"] = as_input(draw(removal), style)
        elif draw(_PRESENCE) == "value":  # any planned date from presentation on (the rules read it for temporary)
            payload["filter_removal_planned_on"] = as_input(draw(day_between(PRESENTED, MAX_DAY)), style)
    if name == "stop_anticoagulation":
        stopped = _day_of(payload["stopped_on"])
        if payload["reason"] == StopReason.procedure_hold.value:
            restart = day_between(stopped, stopped + timedelta(days=RESTART_MAX_DAYS))
            payload["restart_planned_on"] = as_input(draw(restart), style)
            payload["plan_approved_by"] = draw(value_for(TEXT))
        elif draw(_PRESENCE) == "value":
            payload["restart_planned_on"] = as_input(draw(day_between(PRESENTED, MAX_DAY)), style)


# --- invalid cases -----------------------------------------------------------------------------------

# A command whose precondition is missing in another command's prepared state, the field the
# rejection names there, and (for follow-ups) the visits the precondition applies to.
MISSING_PRECONDITION: dict[str, tuple[str, str]] = {
    "stop_anticoagulation": ("start_anticoagulation", "pathway"),  # never started
    "enrol_research": ("record_mdt", "pathway"),  # no MDT decision yet
    "record_consent": ("record_mdt", "pathway"),
    "schedule_procedure": ("record_mdt", "pathway"),
    "record_procedure": ("record_consent", "performed_on"),  # no consent
    "submit_registry": ("record_procedure", "pathway"),  # no procedure
    "record_follow_up": ("record_procedure", "pathway"),
    "record_filter_outcome": ("record_procedure", "pathway"),
}
# Event dates before a prerequisite the prepared state records after presentation.
PREREQUISITE_DAY: dict[str, date] = {
    "record_procedure": CONSENTED_ON,
    "submit_registry": PERFORMED_ON,
    "record_filter_outcome": PERFORMED_ON,
    "record_follow_up": PERFORMED_ON,
}
# Mutations that change the state a command runs against rather than its payload.
STATE_MUTATIONS = frozenset({"closed_pathway", "missing_precondition", "pregnant_male", "close_without_registry"})

FIELD_NAMES = st.from_regex(r"\A[a-z][a-z_0-9]{0,24}\Z")
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10))
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=5,
)
MALFORMED_DATES = st.one_of(
    st.sampled_from(
        [
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "15/06/2026",
            "2026/06/15",
            "2026-6-1",
            "20260615",
            "2026-06-15T10:00:00",
            "2026-06-15 ",
            "2026-06-15\n",
            "",
            "today",
            "٢٠٢٦-٠٦-٠١",
            "+2026-06-15",
            "10000-01-01",
        ]
    ),
    st.dates().map(lambda d: d.strftime("%d-%m-%Y")),
    st.text(string.digits + "-", min_size=1, max_size=12).filter(lambda s: not _is_iso_date(s)),
)


def _is_iso_date(value: str) -> bool:
    try:
        return len(value) == 10 and date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


@functools.cache
def wrong_type(kind: Kind, is_required: bool) -> st.SearchStrategy[Any]:
    """A value of the wrong JSON type for the field (None only where the field is required)."""
    absent = [st.none()] if is_required else []
    numbers = [st.integers(), st.floats(allow_nan=False)]
    containers = [st.lists(JSON_SCALARS, max_size=3), st.dictionaries(st.text(max_size=5), JSON_SCALARS, max_size=3)]
    match kind.tag:
        case "text" | "site" | "ref" | "nhs" | "enum":
            options = [*absent, *numbers, st.booleans(), *containers]
        case "date":
            options = [*absent, *numbers, st.booleans(), *containers, st.datetimes()]
        case "bool":
            flag_words = st.sampled_from(["true", "false", "yes", "no", "1", "0", "True"])
            options = [*absent, flag_words, st.integers(), st.floats(allow_nan=False), *containers]
        case "int":
            options = [*absent, st.floats(allow_nan=False), st.booleans(), st.integers().map(str), *containers]
        case "float":
            options = [*absent, st.text(string.ascii_letters, min_size=1, max_size=5), *containers]
        case "enums" | "texts" | "attendees":
            options = [
                *absent,
                st.text(max_size=10),
                *numbers,
                st.booleans(),
                st.dictionaries(st.text(max_size=5), JSON_SCALARS, max_size=3),
            ]
        case "villalta":
            options = [*absent, st.text(max_size=10), *numbers, st.booleans(), st.lists(JSON_SCALARS, max_size=3)]
        case _:
            raise AssertionError(kind)
    return st.one_of(*options)


@functools.cache
def _not_in(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    near = st.sampled_from(values).flatmap(
        lambda v: st.sampled_from([v.upper(), v.capitalize(), f" {v}", f"{v} ", v.replace("_", " "), v + "s", v[:-1]])
    )
    return st.one_of(near, st.text(max_size=20)).filter(lambda s: s not in values)


def mutations_for(name: str, *, state_mutations: bool = True) -> list[str]:
    """The mutations that apply to a command, some listed twice to draw them more often."""
    fields = FIELDS[name]
    mutations = ["unknown_field", "missing_field", "wrong_type", "bad_text", "control_character"]
    mutations.append("invisible_character")
    mutations += ["unknown_command", "not_an_object"]
    mutations += ["bad_date"] * 2
    if any(kind.tag in ("enum", "enums") for kind in fields.values()):
        mutations += ["wrong_enum"] * 2
    if any(kind.tag in ("int", "float") for kind in fields.values()):
        mutations.append("number_out_of_range")
    if any(kind.tag in ("enums", "texts", "attendees") for kind in fields.values()):
        mutations.append("bad_list_size")
    if name in PATHWAY_COMMANDS:
        mutations += ["unknown_reference", "date_before_presented"]
        if state_mutations:
            mutations.append("closed_pathway")
            if name in MISSING_PRECONDITION:
                mutations.append("missing_precondition")
    if name == "register_patient":
        mutations += ["duplicate_reference", "bad_nhs_number", "bad_nhs_number", "nhs_number_registered"]
    if name == "record_diagnosis":
        mutations += ["duplicate_reference", "unknown_reference"]
    if name in ("register_patient", "record_diagnosis"):
        mutations.append("look_alike_reference")
    if name == "register_patient":
        mutations.append("implausibly_old")
    if name == "record_diagnosis":
        mutations += ["presented_before_birth", "implausibly_old"]
    if not (name in PLANNED_COMMANDS or name == "record_diagnosis"):
        mutations.append("date_after_today")
    if name == "record_diagnosis":
        mutations += ["date_after_today", "diagnosis_date_order", "diagnosis_date_order"]
    if name in PREREQUISITE_DAY:
        mutations.append("date_before_prerequisite")
    if name == "record_mdt":
        mutations += ["mdt_without_quorum", "nested_unknown_field", "nested_bad_value"]
    if name == "record_follow_up":
        mutations += ["villalta_item_count", "villalta_item_score", "nested_unknown_field", "nested_bad_value"]
    if name == "record_consent":
        mutations += ["uncertainties_not_discussed"] * 2
    # Version 2's rejections.
    if name == "record_procedure":
        mutations += ["no_device", "lysis_without_rationale", "filter_without_indication", "filter_removal_outside"]
    if name == "stop_anticoagulation":
        mutations += ["hold_without_plan", "hold_without_plan"]
    if name == "record_safety_check":
        mutations += ["repeated_contraindication", "repeated_contraindication"]
    if name == "record_diagnosis" and state_mutations:
        mutations.append("pregnant_male")
    if name == "close_pathway" and state_mutations:
        mutations.append("close_without_registry")
    return mutations


@st.composite
def invalid_case(draw: st.DrawFn, name: str, *, state_mutations: bool = True) -> Case:
    """A valid case broken by exactly one mutation, with the fields its rejection may name."""
    case = draw(valid_case(name))
    payload = dict(case.payload)
    today = case.today
    fields = FIELDS[name]
    kind = draw(st.sampled_from(mutations_for(name, state_mutations=state_mutations)))
    event(f"mutation: {kind}")
    state, not_found = name, False

    def pick(predicate: typing.Callable[[str, Kind], bool]) -> str:
        return draw(st.sampled_from(sorted(f for f, k in fields.items() if predicate(f, k))))

    match kind:
        case "unknown_field":
            extra = draw(FIELD_NAMES.filter(lambda k: k not in fields))
            payload[extra] = draw(JSON_VALUES)
            expected = {extra}
        case "missing_field":
            field = pick(lambda f, k: required(name, f))
            del payload[field]
            expected = {field}
        case "wrong_type":
            field = pick(lambda f, k: k.tag != "command")
            payload[field] = draw(wrong_type(fields[field], required(name, field)))
            expected = {field}
        case "bad_text":
            field = pick(lambda f, k: k.tag in ("ref", "text", "site"))
            limit = fields[field].max_len
            blank = st.text(WHITESPACE, max_size=4)
            too_long = st.builds(lambda c, n: c * n, VISIBLE, st.integers(limit + 1, limit + 40))
            payload[field] = draw(st.one_of(blank, too_long))
            expected = {field}
        case "control_character" | "invisible_character":
            field = pick(lambda f, k: k.tag in ("ref", "text", "site"))
            text = payload.get(field) if isinstance(payload.get(field), str) else "Dr Example"
            position = draw(st.integers(0, len(text)))
            inserted = CONTROL_CHARACTERS if kind == "control_character" else FORMAT_CHARACTERS
            payload[field] = text[:position] + draw(inserted) + text[position:]
            expected = {field}
        case "implausibly_old" if name == "register_patient":
            payload["date_of_birth"] = draw(date_value(MIN_DAY, oldest_birth(today) - timedelta(days=1)))
            expected = {"date_of_birth"}
        case "implausibly_old":
            # Presented after the prepared patient's 120th year, on a day the recording may be made.
            recorded_at = datetime(2092, 1, 1, 12, tzinfo=UTC)
            day = draw(date_value(date(2091, 3, 4), london_date(recorded_at)))
            payload |= {"presented_on": day, "symptom_onset_on": day, "referred_on": day}
            return Case(payload, recorded_at, state, kind, frozenset({"presented_on"}), not_found)
        case "presented_before_birth":
            day = draw(day_between(MIN_DAY, BORN - timedelta(days=1)))
            payload["presented_on"] = as_input(day, draw(_AS_DATE))
            payload["symptom_onset_on"] = as_input(draw(day_between(MIN_DAY, day)), draw(_AS_DATE))
            expected = {"presented_on"}
        case "look_alike_reference":
            field = "patient" if name == "register_patient" else "pathway"
            text = normalise_reference(payload[field])
            position = draw(st.integers(0, len(text)))
            payload[field] = text[:position] + draw(LOOK_ALIKES) + text[position:]
            expected = {field}
        case "unknown_command":
            payload["command"] = draw(
                st.one_of(
                    st.text(max_size=30).filter(lambda c: c not in COMMANDS),
                    JSON_SCALARS.filter(lambda c: not isinstance(c, str)),
                )
            )
            expected = {"command"}
        case "not_an_object":
            payload = draw(st.one_of(st.lists(JSON_SCALARS, max_size=3), JSON_SCALARS, st.just(list(payload.items()))))
            expected = {"command"}
        case "bad_date":
            field = pick(lambda f, k: k.tag == "date")
            payload[field] = draw(MALFORMED_DATES)
            expected = {field}
        case "wrong_enum":
            field = pick(lambda f, k: k.tag in ("enum", "enums"))
            values = fields[field].values
            if fields[field].tag == "enum":
                payload[field] = draw(_not_in(values))
            else:
                items = list(payload.get(field) or [values[0]])
                items[draw(st.integers(0, len(items) - 1))] = draw(_not_in(values))
                payload[field] = items
            expected = {field}
        case "number_out_of_range":
            field = pick(lambda f, k: k.tag in ("int", "float"))
            lo, hi = fields[field].lo, fields[field].hi
            if fields[field].tag == "int":
                payload[field] = draw(st.one_of(st.integers(max_value=int(lo) - 1), st.integers(min_value=int(hi) + 1)))
            else:
                payload[field] = draw(
                    st.one_of(
                        st.floats(max_value=lo, exclude_max=True),
                        st.floats(min_value=hi, exclude_min=True),
                        st.just(float("nan")),
                    )
                )
            expected = {field}
        case "bad_list_size":
            field = pick(lambda f, k: k.tag in ("enums", "texts", "attendees") and k.bounded)
            spec = fields[field]
            item = {"enums": st.sampled_from(spec.values), "texts": free_text(spec.max_len)}.get(spec.tag)
            if spec.tag == "attendees":
                quorum = [{"name": "Dr Q", "role": role} for role in REQUIRED_MDT_ROLES]
                too_many = quorum + [{"name": f"Dr {i}", "role": "nurse_specialist"} for i in range(spec.max_items)]
                payload[field] = draw(st.sampled_from([[], too_many]))
            else:
                assert item is not None
                sizes = [st.integers(spec.max_items + 1, spec.max_items + 5)]
                if spec.min_items:
                    sizes.append(st.just(0))
                size = draw(st.one_of(*sizes))
                payload[field] = draw(st.lists(item, min_size=size, max_size=size))
            expected = {field}
        case "unknown_reference":
            ref_field = "patient" if name == "record_diagnosis" else "pathway"
            taken = PATIENT if ref_field == "patient" else PATHWAY
            payload[ref_field] = draw(new_ref(taken))
            expected, not_found = {ref_field}, True
        case "duplicate_reference":
            ref_field = "pathway" if name == "record_diagnosis" else "patient"
            payload[ref_field] = draw(existing_ref(PATHWAY if ref_field == "pathway" else PATIENT))
            expected = {ref_field}
        case "bad_nhs_number":
            payload["nhs_number"] = draw(wrong_nhs_number())
            expected = {"nhs_number"}
        case "nhs_number_registered":
            payload["nhs_number"] = _spaced(NHS, draw(st.integers(0, 2)))
            expected = {"nhs_number"}
        case "date_before_presented":
            (field,) = EVENT_DATES[name]
            payload[field] = draw(date_value(MIN_DAY, PRESENTED - timedelta(days=1)))
            expected = {field}
        case "date_after_today":
            choices = {
                "register_patient": "date_of_birth",
                "notify_governance": "notified_on",
                "record_diagnosis": draw(st.sampled_from(["presented_on", "referred_on"])),
            }
            field = choices.get(name) or EVENT_DATES[name][0]
            later = draw(date_value(today + timedelta(days=1), MAX_DAY))
            payload[field] = later
            if field == "presented_on":
                payload["referred_on"] = later  # referral after presentation, both ahead of today
            expected = {field}
        case "diagnosis_date_order":
            presented = date.fromisoformat(str(payload["presented_on"]))
            if draw(st.booleans()) and presented < MAX_DAY:
                payload["symptom_onset_on"] = draw(date_value(presented + timedelta(days=1), MAX_DAY))
                expected = {"symptom_onset_on"}
            elif presented > MIN_DAY:
                payload["referred_on"] = draw(date_value(MIN_DAY, presented - timedelta(days=1)))
                expected = {"referred_on"}
            else:
                payload["presented_on"] = draw(date_value(today + timedelta(days=1), MAX_DAY))
                expected = {"presented_on"}
        case "date_before_prerequisite":
            (field,) = EVENT_DATES[name]
            if name == "record_follow_up":
                payload["visit"] = draw(st.sampled_from(PROCEDURAL_VISITS))
            payload[field] = draw(date_value(PRESENTED, PREREQUISITE_DAY[name] - timedelta(days=1)))
            expected = {field}
        case "closed_pathway":
            state = f"closed:{name}"
            expected = {"pathway"}
        case "missing_precondition":
            state, field = MISSING_PRECONDITION[name]
            if name == "record_follow_up":
                payload["visit"] = draw(st.sampled_from(PROCEDURAL_VISITS))
                (seen_on,) = date_bounds(name, payload, today).values()
                payload["seen_on"] = draw(date_value(*seen_on))
            expected = {field}
        case "mdt_without_quorum":
            missing = draw(st.sampled_from(REQUIRED_MDT_ROLES))
            kept = [a for a in payload["attendees"] if a["role"].strip() != missing]
            payload["attendees"] = kept or [{"name": "Dr Solo", "role": "nurse_specialist"}]
            expected = {"attendees"}
        case "nested_unknown_field" | "nested_bad_value":
            field = "attendees" if name == "record_mdt" else "villalta"
            if field == "villalta" and not isinstance(payload.get("villalta"), dict):
                payload["villalta"] = draw(value_for(fields["villalta"]))
            container = payload[field]
            if field == "attendees":
                container = [dict(a) for a in container]
                target = container[draw(st.integers(0, len(container) - 1))]
            else:
                container = dict(container)
                target = container
            if kind == "nested_unknown_field":
                key = draw(FIELD_NAMES.filter(lambda k: k not in target))
                target[key] = draw(JSON_VALUES)
            else:
                key = draw(st.sampled_from(sorted(target)))
                nested = Kind("text", max_len=60 if key == "role" else 120) if field == "attendees" else BOOL
                bad = wrong_type(nested, True) if key != "items" else wrong_type(Kind("enums"), True)
                target[key] = draw(st.one_of(bad, st.text(WHITESPACE, max_size=3)) if field == "attendees" else bad)
            payload[field] = container
            expected = {field}
        case "villalta_item_count":
            count = draw(st.integers(0, 30).filter(lambda n: n != len(VILLALTA_ITEMS)))
            scores = draw(st.lists(st.integers(0, 3), min_size=count, max_size=count))
            payload["villalta"] = {"items": scores, "ulcer": draw(st.booleans())}
            expected = {"villalta"}
        case "villalta_item_score":
            scores = draw(VILLALTA_SCORES)
            scores[draw(st.integers(0, len(scores) - 1))] = draw(
                st.one_of(st.integers(max_value=-1), st.integers(min_value=4))
            )
            payload["villalta"] = {"items": scores, "ulcer": draw(st.booleans())}
            expected = {"villalta"}
        case "uncertainties_not_discussed":
            payload["uncertainties_discussed"] = False
            expected = {"uncertainties_discussed"}
        case "no_device":
            payload["technique"] = draw(st.sampled_from(sorted(t.value for t in PERCUTANEOUS_TECHNIQUES)))
            if draw(st.booleans()):
                payload.pop("device", None)
            else:
                payload["device"] = None
            expected = {"device"}
        case "lysis_without_rationale":
            payload["technique"] = draw(st.sampled_from(sorted(t.value for t in THROMBOLYTIC_TECHNIQUES)))
            payload["device"] = "Synthetic catheter"
            payload["performed_on"] = draw(date_value(LYSIS_LIMIT, today))
            payload.pop("outside_criteria_rationale", None)
            _valid_filter(draw, payload)
            expected = {"outside_criteria_rationale"}
        case "filter_without_indication":
            payload["ivc_filter"] = draw(st.sampled_from(["temporary", "permanent"]))
            _valid_filter(draw, payload)
            del payload["filter_indication"]
            expected = {"filter_indication"}
        case "filter_removal_outside":
            payload["ivc_filter"] = "temporary"
            _valid_filter(draw, payload)
            performed = _day_of(payload["performed_on"])
            outside = st.one_of(
                st.none(),
                day_between(performed + timedelta(days=FILTER_MAX_DAYS + 1), MAX_DAY),
                day_between(MIN_DAY, performed - timedelta(days=1)),
            )
            removal = draw(outside)
            if removal is None:
                payload.pop("filter_removal_planned_on", None)
            else:
                payload["filter_removal_planned_on"] = as_input(removal, draw(_AS_DATE))
            expected = {"filter_removal_planned_on"}
        case "hold_without_plan":
            payload["reason"] = StopReason.procedure_hold.value
            stopped = _day_of(payload["stopped_on"])
            payload["restart_planned_on"] = (
                stopped + timedelta(days=draw(st.integers(0, RESTART_MAX_DAYS)))
            ).isoformat()
            payload["plan_approved_by"] = "Dr H. Haematologist"
            how = draw(st.sampled_from(["no_restart", "no_approver", "too_late", "before_stop"]))
            if how == "no_restart":
                del payload["restart_planned_on"]
            elif how == "no_approver":
                payload.pop("plan_approved_by")
            elif how == "too_late":
                late = day_between(stopped + timedelta(days=RESTART_MAX_DAYS + 1), MAX_DAY)
                payload["restart_planned_on"] = as_input(draw(late), draw(_AS_DATE))
            else:
                early = day_between(MIN_DAY, stopped - timedelta(days=1))
                payload["restart_planned_on"] = as_input(draw(early), draw(_AS_DATE))
            expected = {"plan_approved_by"} if how == "no_approver" else {"restart_planned_on"}
        case "repeated_contraindication":
            listed = list(payload.get("contraindications") or []) or [draw(st.sampled_from(CONTRAINDICATIONS))]
            listed.insert(draw(st.integers(0, len(listed))), draw(st.sampled_from(listed)))
            payload["contraindications"] = listed
            expected = {"contraindications"}
        case "pregnant_male":
            state = f"male:{name}"
            payload["patient"] = draw(existing_ref(MALE_PATIENT))
            payload["pregnant"] = True
            expected = {"pregnant"}
        case "close_without_registry":
            state = "submit_registry"  # a PMT done, no registry submission yet
            payload["closed_on"] = draw(date_value(PERFORMED_ON, today))
            expected = {"pathway"}
        case _:
            raise AssertionError(kind)
    return Case(payload, case.recorded_at, state, kind, frozenset(expected), not_found)


PLANNED_COMMANDS = frozenset(name for name, dates in EVENT_DATES.items() if set(dates) <= PLANNED_DATES)


def _valid_filter(draw: st.DrawFn, payload: dict[str, Any]) -> None:
    """The filter fields a procedure payload needs for its ivc_filter (R9, R10)."""
    if payload["ivc_filter"] == "none":
        return
    payload["filter_indication"] = draw(st.sampled_from([f.value for f in FilterIndication]))
    if payload["ivc_filter"] == "temporary":
        performed = _day_of(payload["performed_on"])
        payload["filter_removal_planned_on"] = (
            performed + timedelta(days=draw(st.integers(0, FILTER_MAX_DAYS)))
        ).isoformat()
