"""The command vocabulary (docs/rules.md) as validated models.

Parsing checks shape only (types, value lists, required and unknown fields, NHS number check
digit, Villalta items); rules that need the record (dates against presentation, MDT quorum,
consent before the procedure...) are checked by pathway.domain.checks. Every failure becomes a
CommandRejected naming the field and the rule.
"""

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from nhs_number import REGION_ENGLAND_WALES_IOM, REGION_SYNTHETIC
from nhs_number import is_valid as nhs_number_is_valid
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    TypeAdapter,
    ValidationError,
)

from pathway.domain.policy import Policy, policy_in_force
from pathway.domain.problems import Problem, Problems
from pathway.domain.pts import villalta_band
from pathway.domain.text import invisible_character, normalise_reference, reference_problem, site_spelling
from pathway.domain.vocabulary import (
    PERCUTANEOUS_TECHNIQUES,
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
from pathway.errors import CommandRejected

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The ranges NHS England issues NHS numbers from, and the range kept for test patients (never
# issued; the synthetic cohort's 999 numbers are in it). Scotland's CHI, Northern Ireland's H&C and
# Ireland's IHI numbers, and the unallocated and reserved ranges (0000000000 among them, though its
# check digit is right) are refused. The ranges are the nhs-number package's (nhs_number.constants).
ISSUED_NHS_NUMBERS = (REGION_ENGLAND_WALES_IOM, REGION_SYNTHETIC)

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # Cc less tab, line feed, carriage return


def _clinical_date(value: Any) -> date:
    """A calendar date: a `date` or a 'YYYY-MM-DD' string (no datetimes, no numbers)."""
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("is not a real calendar date") from None
    raise ValueError("must be a date written YYYY-MM-DD")


def _nhs_number(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string of 10 digits")
    digits = value.replace(" ", "")
    if not re.fullmatch(r"[0-9]{10}", digits):  # ASCII digits only: \d also matches other scripts' digits
        raise ValueError("must be 10 digits")
    if not nhs_number_is_valid(digits):
        raise ValueError("check digit is not valid (modulus 11)")
    if not any(region.contains_number(digits) for region in ISSUED_NHS_NUMBERS):  # type: ignore[no-untyped-call]
        raise ValueError("is not from a range NHS numbers are issued from (they start 4, 6 or 7; 9 for test patients)")
    return digits


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be non-empty text")
    return _visible(value).strip()


def _visible(value: str) -> str:
    """Text with nothing hidden in it: the rule every text field shares."""
    # Control characters other than line breaks and tabs (NUL above all: PostgreSQL refuses it)
    # have no place in a clinical record. Unicode's Cc category is exactly these two ranges.
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    # Invisible format characters (zero-width joiner, right-to-left override...) would let two texts
    # that look the same differ, or one text look like another (hazard H7).
    if invisible := invisible_character(value):
        raise ValueError(f"must not contain invisible format characters (found {invisible})")
    return value


def _code(value: Any) -> str:
    """A code from a list (checked against the list later): exact, never trimmed, nothing hidden."""
    if not isinstance(value, str):
        raise ValueError("must be text")
    return _visible(value)


def _reference(value: Any) -> str:
    """A reference naming a record: compared after NFKC (fullwidth `Ｐ1` is `P1`)."""
    return normalise_reference(_text(value))


def _new_reference(value: Any) -> str:
    """A reference for a new record: Latin letters, digits and - _ / . only (pathway.domain.text)."""
    reference = _reference(value)
    if problem := reference_problem(reference):
        raise ValueError(problem)
    return reference


def _site(value: Any) -> str:
    """A site, NFKC with white space collapsed; compared case-blind by pathway.domain.text.site_key."""
    return site_spelling(_text(value))


ClinicalDate = Annotated[date, BeforeValidator(_clinical_date)]
NhsNumber = Annotated[str, BeforeValidator(_nhs_number)]
Text = Annotated[str, BeforeValidator(_text), Field(max_length=120)]
# Sites and external identifiers (study, ethics, registry) are stored in 80 characters.
ShortText = Annotated[str, BeforeValidator(_text), Field(max_length=80)]

# Laboratory values: JSON numbers (not text, not true/false), finite, within the interface's range.
Platelets = Annotated[StrictFloat, Field(ge=0, le=2000, allow_inf_nan=False)]  # x10^9/L
Inr = Annotated[StrictFloat, Field(ge=0.5, le=20, allow_inf_nan=False)]
Haemoglobin = Annotated[StrictFloat, Field(ge=20, le=250, allow_inf_nan=False)]  # g/L
Egfr = Annotated[StrictFloat, Field(ge=0, le=200, allow_inf_nan=False)]  # mL/min/1.73m2

LongText = Annotated[str, BeforeValidator(_text), Field(max_length=4000)]
Ref = Annotated[str, BeforeValidator(_reference), Field(max_length=40)]
NewRef = Annotated[str, BeforeValidator(_new_reference), Field(max_length=40)]
Site = Annotated[str, BeforeValidator(_site), Field(max_length=80)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Command(_Strict):
    command: str
    by: Text | None = None


class PathwayCommand(Command):
    """A command on an existing pathway, named by its reference."""

    pathway: Ref


class RegisterPatient(Command):
    command: Literal["register_patient"]
    patient: NewRef
    nhs_number: NhsNumber
    date_of_birth: ClinicalDate
    sex: Sex
    site: Site
    name: Text | None = None


class RecordDiagnosis(Command):
    command: Literal["record_diagnosis"]
    patient: Ref
    pathway: NewRef
    presented_on: ClinicalDate
    symptom_onset_on: ClinicalDate
    referred_on: ClinicalDate
    leg: Leg
    veins: Annotated[list[Segment], Field(min_length=1, max_length=12)]
    imaging: Imaging
    # Optional selection criteria for the registry (pathway-spec (d)).
    provoked_status: (
        Literal["provoked_transient", "provoked_persistent", "unprovoked", "cancer_associated", "unknown"] | None
    ) = None
    active_cancer: StrictBool | None = None
    prior_dvt: StrictBool | None = None
    functional_status: Literal["good", "impaired", "poor"] | None = None
    life_expectancy_ge_1y: Literal["yes", "no", "uncertain"] | None = None
    bleeding_risk: Literal["low", "moderate", "high"] | None = None
    baseline_villalta: Annotated[StrictInt, Field(ge=0, le=33)] | None = None
    baseline_vcss: Annotated[StrictInt, Field(ge=0, le=30)] | None = None
    # Version 2: NG158 does not cover pregnancy (R4). Absent or null means not pregnant.
    pregnant: StrictBool | None = None


class StartAnticoagulation(PathwayCommand):
    command: Literal["start_anticoagulation"]
    agent: Agent
    started_on: ClinicalDate


class StopAnticoagulation(PathwayCommand):
    command: Literal["stop_anticoagulation"]
    stopped_on: ClinicalDate
    reason: StopReason
    # Version 2, required for a procedure_hold (R15): the haematologist's plan and the restart date.
    restart_planned_on: ClinicalDate | None = None
    plan_approved_by: Text | None = None


class Attendee(_Strict):
    name: Text
    role: Annotated[str, BeforeValidator(_text), Field(max_length=60)]


class RecordMdt(PathwayCommand):
    command: Literal["record_mdt"]
    held_on: ClinicalDate
    attendees: Annotated[list[Attendee], Field(min_length=1, max_length=40)]
    decision: Decision
    thrombolysis: StrictBool
    rationale: LongText
    outside_scope_plan: LongText | None = None  # version 2: the specialist protocol outside NG158 (R4)


class NotifyGovernance(Command):
    command: Literal["notify_governance"]
    site: Site
    notified_on: ClinicalDate
    lead: Text
    clinician: Text | None = None


class EnrolResearch(PathwayCommand):
    command: Literal["enrol_research"]
    study_id: ShortText
    ethics_ref: ShortText
    enrolled_on: ClinicalDate


class RecordConsent(PathwayCommand):
    command: Literal["record_consent"]
    consented_on: ClinicalDate
    information_leaflet: Annotated[str, BeforeValidator(_text), Field(max_length=80)]
    uncertainties_discussed: StrictBool


class ScheduleProcedure(PathwayCommand):
    command: Literal["schedule_procedure"]
    scheduled_on: ClinicalDate


class RecordProcedure(PathwayCommand):
    command: Literal["record_procedure"]
    performed_on: ClinicalDate
    technique: Technique
    device: Text | None = None
    access_vein: AccessVein
    ivc_filter: IvcFilter
    stent: StrictBool
    clot_removal: ClotRemoval
    complications: Annotated[list[Text], Field(max_length=20)]
    device_maker: Text | None = None
    device_mechanism: (
        Literal["rheolytic", "rotational", "aspiration", "stent_retriever_or_coring", "hybrid", "other"] | None
    ) = None
    thrombolytic_agent: Literal["alteplase", "urokinase", "tenecteplase", "other"] | None = None
    lytic_dose_mg: Annotated[float, Field(ge=0, le=500)] | None = None
    infusion_hours: Annotated[float, Field(ge=0, le=120)] | None = None
    venoplasty: StrictBool | None = None
    stent_veins: list[Literal["ivc", "cia", "eia", "cfv", "fv"]] | None = None
    stent_count: Annotated[StrictInt, Field(ge=0, le=20)] | None = None
    stent_model: Text | None = None
    filter_model: Text | None = None
    # Version 2: why thrombolysis went ahead outside NG158's criteria; why a filter and when it comes out.
    outside_criteria_rationale: LongText | None = None
    filter_indication: FilterIndication | None = None
    filter_removal_planned_on: ClinicalDate | None = None


class SubmitRegistry(PathwayCommand):
    command: Literal["submit_registry"]
    submitted_on: ClinicalDate
    registry_ref: ShortText


class Villalta(_Strict):
    items: list[Annotated[StrictInt, Field(ge=0, le=3)]]
    ulcer: StrictBool

    @property
    def total(self) -> int:
        return sum(self.items)

    @property
    def band(self) -> str:
        """The score's ISTH-standardised band (pathway-spec (d)); whether it diagnoses PTS depends on
        when it was taken (pathway.domain.pts)."""
        return villalta_band(self.total, self.ulcer)


class RecordFollowUp(PathwayCommand):
    command: Literal["record_follow_up"]
    visit: Visit
    seen_on: ClinicalDate
    villalta: Villalta | None = None
    patency: Patency | None = None
    recurrent_vte: Literal["none", "ipsilateral_dvt", "contralateral_dvt", "pe"] | None = None
    bleeding: Literal["none", "minor", "crnm", "major"] | None = None
    ceap_c: Literal["C0", "C1", "C2", "C3", "C4a", "C4b", "C4c", "C5", "C6"] | None = None
    vcss: Annotated[StrictInt, Field(ge=0, le=30)] | None = None


class RecordAnticoagulationReview(PathwayCommand):
    command: Literal["record_anticoagulation_review"]
    reviewed_on: ClinicalDate
    decision: ReviewDecision


class RecordSafetyCheck(PathwayCommand):
    """The pre-procedure safety check (version 2; SIR 2019, pathway-spec R17-R18)."""

    command: Literal["record_safety_check"]
    checked_on: ClinicalDate
    platelets: Platelets
    inr: Inr
    haemoglobin: Haemoglobin
    egfr: Egfr
    # Codes from the policy file's lists (checked by parse_command against the policy in force).
    contraindications: Annotated[
        list[Annotated[str, BeforeValidator(_code), Field(max_length=60)]], Field(max_length=40)
    ]
    pregnancy_test: PregnancyTest | None = None


class RecordFilterOutcome(PathwayCommand):
    command: Literal["record_filter_outcome"]
    decided_on: ClinicalDate
    outcome: FilterOutcome


class ClosePathway(PathwayCommand):
    command: Literal["close_pathway"]
    closed_on: ClinicalDate
    reason: CloseReason


COMMANDS: dict[str, type[Command]] = {
    "register_patient": RegisterPatient,
    "record_diagnosis": RecordDiagnosis,
    "start_anticoagulation": StartAnticoagulation,
    "stop_anticoagulation": StopAnticoagulation,
    "record_mdt": RecordMdt,
    "notify_governance": NotifyGovernance,
    "enrol_research": EnrolResearch,
    "record_consent": RecordConsent,
    "schedule_procedure": ScheduleProcedure,
    "record_procedure": RecordProcedure,
    "submit_registry": SubmitRegistry,
    "record_follow_up": RecordFollowUp,
    "record_anticoagulation_review": RecordAnticoagulationReview,
    "record_filter_outcome": RecordFilterOutcome,
    "close_pathway": ClosePathway,
    "record_safety_check": RecordSafetyCheck,
}

# Each pathway command's event dates; checked against presentation and the recording day.
EVENT_DATES: dict[str, tuple[str, ...]] = {
    "start_anticoagulation": ("started_on",),
    "stop_anticoagulation": ("stopped_on",),
    "record_mdt": ("held_on",),
    "enrol_research": ("enrolled_on",),
    "record_consent": ("consented_on",),
    "schedule_procedure": ("scheduled_on",),
    "record_procedure": ("performed_on",),
    "submit_registry": ("submitted_on",),
    "record_follow_up": ("seen_on",),
    "record_anticoagulation_review": ("reviewed_on",),
    "record_filter_outcome": ("decided_on",),
    "close_pathway": ("closed_on",),
    "record_safety_check": ("checked_on",),
}
# A planned date may lie ahead of the day it is recorded.
PLANNED_DATES = frozenset({"scheduled_on"})
# Planned dates carried beside an event date (version 2): never before presentation, may lie ahead.
PLANS: dict[str, tuple[str, ...]] = {
    "stop_anticoagulation": ("restart_planned_on",),
    "record_procedure": ("filter_removal_planned_on",),
}


def _field_name(part: Any) -> str:
    """A part of a field's path; a key the user made up is quoted (repr), never echoed raw."""
    text = str(part)
    return text if re.fullmatch(r"[a-z0-9_]{1,40}", text) else repr(text[:40])


def _describe(error: Mapping[str, Any]) -> tuple[str, str]:
    field = ".".join(_field_name(part) for part in error["loc"]) or "command"
    kind = error["type"]
    if kind == "extra_forbidden":
        return field, "is not a field of this command"
    if kind == "missing":
        return field, "is required"
    if kind in ("enum", "literal_error"):
        expected = error.get("ctx", {}).get("expected", "")
        return field, f"must be one of {expected.replace(chr(39), '')}"
    if kind in ("greater_than_equal", "less_than_equal"):
        ctx = error.get("ctx", {})
        bound = ctx.get("ge", ctx.get("le"))
        shown = f"{bound:g}" if isinstance(bound, int | float) else bound
        return field, f"must be {'at least' if 'ge' in ctx else 'at most'} {shown}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return field, message[0].lower() + message[1:] if message else kind


def parse_command(payload: Any, policy: Policy | None = None) -> Command:
    """Validate one command object; raises one CommandRejected naming every bad field and its rule.

    `policy` (default: the policy in force) holds the contraindication lists a safety check may use.
    """
    command, problems = read_command(payload, policy)
    if problems:
        raise CommandRejected.of(problems)
    return command


def read_command(payload: Any, policy: Policy | None = None) -> tuple[Command, tuple[Problem, ...]]:
    """The command as far as it is valid, and every problem of its shape (all of them, not the first).

    With problems, the command holds only the fields that are valid on their own (`model_construct`),
    so the clinical rules can still be checked on what is there (pathway.domain.problems); it must
    never be recorded. Not an object, or no known command: raised at once (nothing else can be read).
    """
    if not isinstance(payload, dict):
        raise CommandRejected("command", "each command must be a JSON object")
    name = payload.get("command")
    model = COMMANDS.get(name) if isinstance(name, str) else None
    if model is None:
        shown = repr(name[:40]) if isinstance(name, str) else repr(name)[:40]
        raise CommandRejected("command", f"unknown command {shown}; expected one of {', '.join(COMMANDS)}")
    try:
        command: Command = model.model_validate(payload)
        problems = Problems()
    except ValidationError as error:
        refused = error.errors()
        problems = Problems([_describe(e) for e in refused], partial=True)
        command = _valid_part(model, payload, {str(e["loc"][0]) for e in refused if e["loc"]})
    for rule in _SHAPE_RULES:
        with problems.rule():
            rule(command, policy or policy_in_force())
    return command, tuple(dict.fromkeys(problems.found))


def _valid_part(model: type[Command], payload: dict[str, Any], refused: set[str]) -> Command:
    """The command built from its fields that are valid on their own (each validated by its own type)."""
    values: dict[str, Any] = {}
    for field, info in model.model_fields.items():
        if field in refused or field not in payload:
            continue
        kind: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        try:
            values[field] = TypeAdapter(kind).validate_python(payload[field])
        except ValidationError:
            continue
    return model.model_construct(**values)


def _villalta_items(command: Command, _policy: Policy) -> None:
    if isinstance(command, RecordFollowUp) and command.villalta is not None:
        count = len(command.villalta.items)
        if count != len(VILLALTA_ITEMS):
            raise CommandRejected("villalta.items", f"must have {len(VILLALTA_ITEMS)} item scores, got {count}")


def _uncertainties(command: Command, _policy: Policy) -> None:
    if isinstance(command, RecordConsent) and command.uncertainties_discussed is not True:
        raise CommandRejected("uncertainties_discussed", "must be true (NICE HTG516 1.2)")


def _device(command: Command, _policy: Policy) -> None:
    if isinstance(command, RecordProcedure) and command.technique in PERCUTANEOUS_TECHNIQUES and not command.device:
        raise CommandRejected(
            "device", f"is required for a percutaneous technique ({command.technique.value}); optional only for open"
        )


def _contraindications(command: Command, policy: Policy) -> None:
    if isinstance(command, RecordSafetyCheck):
        _check_contraindications(command.contraindications, policy)


# Rules of a command's shape that pydantic's types do not say, each checked on its own.
_SHAPE_RULES = (_villalta_items, _uncertainties, _device, _contraindications)


def _check_contraindications(codes: list[str], policy: Policy) -> None:
    known = policy.contraindications.codes
    seen: set[str] = set()
    for code in codes:
        if code not in known:
            raise CommandRejected(
                "contraindications",
                f"{code!r} is not on the policy's lists of contraindications to fibrinolysis "
                f"(absolute: {', '.join(policy.contraindications.absolute)}; "
                f"relative: {', '.join(policy.contraindications.relative)})",
            )
        if code in seen:
            raise CommandRejected("contraindications", f"lists {code} more than once")
        seen.add(code)
