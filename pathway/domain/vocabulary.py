"""The clinical vocabulary of the pathway: every enumerated value the commands take (docs/rules.md).

Values are plain strings (StrEnum) so they serialise as the interface spells them.
"""

from enum import StrEnum


class Segment(StrEnum):
    ivc = "ivc"
    common_iliac = "common_iliac"
    external_iliac = "external_iliac"
    internal_iliac = "internal_iliac"
    common_femoral = "common_femoral"
    femoral = "femoral"
    deep_femoral = "deep_femoral"
    popliteal = "popliteal"
    posterior_tibial = "posterior_tibial"
    anterior_tibial = "anterior_tibial"
    peroneal = "peroneal"
    calf_muscle = "calf_muscle"


# Proximal first: used to name the most proximal vein involved.
SEGMENT_ORDER: tuple[Segment, ...] = tuple(Segment)

ILIOFEMORAL_SEGMENTS = frozenset(
    {
        Segment.ivc,
        Segment.common_iliac,
        Segment.external_iliac,
        Segment.internal_iliac,
        Segment.common_femoral,
    }
)
FEMOROPOPLITEAL_SEGMENTS = frozenset({Segment.femoral, Segment.deep_femoral, Segment.popliteal})


class Extent(StrEnum):
    iliofemoral = "iliofemoral"
    femoropopliteal = "femoropopliteal"
    calf = "calf"


class Route(StrEnum):
    special_arrangements = "special_arrangements"
    research_only = "research_only"


class Sex(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class Leg(StrEnum):
    left = "left"
    right = "right"


class Imaging(StrEnum):
    duplex = "duplex"
    venography = "venography"
    ct_venography = "ct_venography"
    mr_venography = "mr_venography"


class Agent(StrEnum):
    apixaban = "apixaban"
    rivaroxaban = "rivaroxaban"
    edoxaban = "edoxaban"
    dabigatran = "dabigatran"
    lmwh = "lmwh"
    unfractionated_heparin = "unfractionated_heparin"
    warfarin = "warfarin"


class StopReason(StrEnum):
    course_complete = "course_complete"
    bleeding = "bleeding"
    procedure_hold = "procedure_hold"
    patient_choice = "patient_choice"
    other = "other"


class Decision(StrEnum):
    pmt = "pmt"
    cdt = "cdt"
    open_thrombectomy = "open_thrombectomy"
    anticoagulation_only = "anticoagulation_only"


PROCEDURAL_DECISIONS = frozenset({Decision.pmt, Decision.cdt, Decision.open_thrombectomy})

# HTG516 3.8: the MDT must include these three specialties.
REQUIRED_MDT_ROLES = ("vascular_surgeon", "interventional_radiologist", "haematologist")


class Technique(StrEnum):
    pmt = "pmt"
    pmt_with_thrombolysis = "pmt_with_thrombolysis"
    cdt = "cdt"
    open_thrombectomy = "open_thrombectomy"


PMT_TECHNIQUES = frozenset({Technique.pmt, Technique.pmt_with_thrombolysis})
# Version 2: a thrombolytic technique gives a lytic drug; a percutaneous one goes through a puncture
# (and so needs a device recorded); only the open operation is neither.
THROMBOLYTIC_TECHNIQUES = frozenset({Technique.pmt_with_thrombolysis, Technique.cdt})
PERCUTANEOUS_TECHNIQUES = frozenset({Technique.pmt, Technique.pmt_with_thrombolysis, Technique.cdt})


class AccessVein(StrEnum):
    popliteal = "popliteal"
    femoral = "femoral"
    jugular = "jugular"
    other = "other"


class IvcFilter(StrEnum):
    none = "none"
    temporary = "temporary"
    permanent = "permanent"


class FilterIndication(StrEnum):
    """Why an IVC filter was placed (pathway-spec R9)."""

    anticoagulation_contraindicated = "anticoagulation_contraindicated"
    recurrent_vte_on_anticoagulation = "recurrent_vte_on_anticoagulation"
    adjunct_to_catheter_therapy = "adjunct_to_catheter_therapy"
    research = "research"


class PregnancyTest(StrEnum):
    negative = "negative"
    positive = "positive"
    not_done = "not_done"
    not_applicable = "not_applicable"


class ClotRemoval(StrEnum):
    grade_1 = "grade_1"
    grade_2 = "grade_2"
    grade_3 = "grade_3"


class Visit(StrEnum):
    early = "early"
    week6 = "week6"
    month6 = "month6"
    month12 = "month12"


PROCEDURAL_VISITS = (Visit.early, Visit.week6)
PMT_VISITS = (Visit.month6, Visit.month12)


class Patency(StrEnum):
    patent = "patent"
    partially_occluded = "partially_occluded"
    occluded = "occluded"


class ReviewDecision(StrEnum):
    stop = "stop"
    continue_defined = "continue_defined"
    continue_indefinite = "continue_indefinite"


class FilterOutcome(StrEnum):
    retrieved = "retrieved"
    kept_permanent = "kept_permanent"


class CloseReason(StrEnum):
    completed = "completed"
    withdrawn = "withdrawn"
    declined = "declined"
    transferred = "transferred"
    died = "died"


class Severity(StrEnum):
    amber = "amber"
    red = "red"


SEVERITY_RANK = {Severity.amber: 1, Severity.red: 2}


class Role(StrEnum):
    coordinator = "coordinator"
    clinician = "clinician"
    auditor = "auditor"
    admin = "admin"


# Villalta items in the order a command lists them (pathway-spec.md section (d)):
# five patient-rated symptoms, then six clinician-rated signs.
VILLALTA_ITEMS = (
    "pain",
    "cramps",
    "heaviness",
    "paraesthesia",
    "pruritus",
    "pretibial_oedema",
    "skin_induration",
    "hyperpigmentation",
    "redness",
    "venous_ectasia",
    "pain_on_calf_compression",
)
