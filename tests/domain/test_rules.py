"""Extent and route, the steps that apply, the stage, the 14-day window and the policy file.

Expectations come from docs/rules.md ("Extent and route", "The flags": the
definitions of P, X and "procedural") and from the stage declaration in pathway/domain/stages.py.
"""

import re
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from pathway.domain.policy import DEFAULT_POLICY_FILE, PolicyNumbers, load_policy, policy_in_force
from pathway.domain.record import (
    AnticoagulationEvent,
    MdtFacts,
    PathwayRecord,
    ProcedureFacts,
    ReviewFacts,
    extent_of,
    route_of,
)
from pathway.domain.rules import next_step, plan, stage_of, window_days_left
from pathway.domain.vocabulary import Decision, Extent, IvcFilter, ReviewDecision, Route, Segment, Technique, Visit
from pathway.errors import PolicyError

POLICY = load_policy()

P = date(2026, 6, 1)
MDT_DAY = date(2026, 6, 2)
X = date(2026, 6, 10)

ILIOFEMORAL = (Segment.common_femoral, Segment.femoral)
FEMOROPOPLITEAL = (Segment.femoral, Segment.popliteal)
CALF = (Segment.posterior_tibial, Segment.peroneal)


def make_record(**facts: Any) -> PathwayRecord:
    base: dict[str, Any] = {"presented_on": P, "symptom_onset_on": P, "referred_on": P, "veins": ILIOFEMORAL}
    return PathwayRecord(**(base | facts))


def mdt(decision: Decision, thrombolysis: bool = False) -> tuple[MdtFacts, ...]:
    return (MdtFacts(MDT_DAY, decision, thrombolysis),)


def done(technique: Technique = Technique.pmt, ivc_filter: IvcFilter = IvcFilter.none) -> tuple[ProcedureFacts, ...]:
    return (ProcedureFacts(X, technique, ivc_filter),)


STARTED = (AnticoagulationEvent("start", P),)


def step_codes(record: PathwayRecord) -> set[str]:
    return {s.code for s in plan(record, POLICY)}


def stage(record: PathwayRecord) -> str:
    return stage_of(record, plan(record, POLICY))


# --- extent and route ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "extent"),
    [
        (Segment.ivc, Extent.iliofemoral),
        (Segment.common_iliac, Extent.iliofemoral),
        (Segment.external_iliac, Extent.iliofemoral),
        (Segment.internal_iliac, Extent.iliofemoral),
        (Segment.common_femoral, Extent.iliofemoral),
        (Segment.femoral, Extent.femoropopliteal),
        (Segment.deep_femoral, Extent.femoropopliteal),
        (Segment.popliteal, Extent.femoropopliteal),
        (Segment.posterior_tibial, Extent.calf),
        (Segment.anterior_tibial, Extent.calf),
        (Segment.peroneal, Extent.calf),
        (Segment.calf_muscle, Extent.calf),
    ],
)
def test_extent_of_single_segment(segment: Segment, extent: Extent) -> None:
    assert extent_of((segment,)) is extent
    assert make_record(veins=(segment,)).extent is extent


def test_extent_of_covers_every_segment() -> None:
    # A new segment must be classified on purpose: the parametrized table above lists all twelve.
    assert {s.value for s in Segment} == {
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
    }


@pytest.mark.parametrize(
    ("veins", "extent"),
    [
        ((Segment.common_femoral, Segment.femoral, Segment.popliteal), Extent.iliofemoral),
        ((Segment.popliteal, Segment.peroneal, Segment.ivc), Extent.iliofemoral),
        ((Segment.calf_muscle, Segment.internal_iliac), Extent.iliofemoral),
        ((Segment.femoral, Segment.popliteal, Segment.posterior_tibial), Extent.femoropopliteal),
        ((Segment.anterior_tibial, Segment.deep_femoral), Extent.femoropopliteal),
        ((Segment.peroneal, Segment.calf_muscle, Segment.popliteal), Extent.femoropopliteal),
        ((Segment.posterior_tibial, Segment.anterior_tibial, Segment.peroneal, Segment.calf_muscle), Extent.calf),
        (tuple(Segment), Extent.iliofemoral),
    ],
)
def test_extent_of_mixed_map_takes_most_proximal_class(veins: tuple[Segment, ...], extent: Extent) -> None:
    assert extent_of(veins) is extent
    assert extent_of(tuple(reversed(veins))) is extent
    assert extent_of(frozenset(veins)) is extent


@pytest.mark.parametrize(
    ("extent", "route"),
    [
        (Extent.iliofemoral, Route.special_arrangements),
        (Extent.femoropopliteal, Route.research_only),
        (Extent.calf, Route.research_only),
    ],
)
def test_route_of_special_arrangements_only_for_iliofemoral(extent: Extent, route: Route) -> None:
    assert route_of(extent) is route


@pytest.mark.parametrize("segment", list(Segment))
def test_record_route_follows_vein_map(segment: Segment) -> None:
    record = make_record(veins=(segment,))
    reaches_cfv = segment in {
        Segment.ivc,
        Segment.common_iliac,
        Segment.external_iliac,
        Segment.internal_iliac,
        Segment.common_femoral,
    }
    expected = Route.special_arrangements if reaches_cfv else Route.research_only
    assert record.route is expected


# --- which steps apply ---------------------------------------------------------------------------------

PRE_PROCEDURE_STEPS = {"governance_notice", "research_enrolment", "consent", "procedure"}
AFTER_PROCEDURE_STEPS = {
    "registry_submission",
    "follow_up_early",
    "follow_up_week6",
    "follow_up_month6",
    "follow_up_month12",
    "filter_retrieval",
}


def test_plan_before_mdt_has_only_diagnosis_and_mdt_steps() -> None:
    assert step_codes(make_record()) == {"anticoagulation_start", "mdt"}
    assert step_codes(make_record(anticoagulation=STARTED)) == {
        "anticoagulation_start",
        "mdt",
        "anticoagulation_review",
    }


@pytest.mark.parametrize("veins", [ILIOFEMORAL, FEMOROPOPLITEAL, CALF], ids=["ilio", "fempop", "calf"])
def test_plan_anticoagulation_only_has_no_consent_or_procedure_steps(veins: tuple[Segment, ...]) -> None:
    record = make_record(veins=veins, mdts=mdt(Decision.anticoagulation_only), anticoagulation=STARTED)
    codes = step_codes(record)
    assert codes == {"anticoagulation_start", "mdt", "anticoagulation_review"}
    assert not codes & (PRE_PROCEDURE_STEPS | AFTER_PROCEDURE_STEPS)


@pytest.mark.parametrize(
    ("veins", "decision", "present", "absent"),
    [
        pytest.param(
            ILIOFEMORAL,
            Decision.pmt,
            {"governance_notice", "consent", "procedure"},
            {"research_enrolment"},
            id="pmt-iliofemoral",
        ),
        pytest.param(
            (Segment.ivc,),
            Decision.pmt,
            {"governance_notice", "consent", "procedure"},
            {"research_enrolment"},
            id="pmt-ivc",
        ),
        pytest.param(
            FEMOROPOPLITEAL,
            Decision.pmt,
            {"research_enrolment", "consent", "procedure"},
            {"governance_notice"},
            id="pmt-femoropopliteal",
        ),
        pytest.param(
            CALF, Decision.pmt, {"research_enrolment", "consent", "procedure"}, {"governance_notice"}, id="pmt-calf"
        ),
        pytest.param(
            ILIOFEMORAL,
            Decision.cdt,
            {"consent", "procedure"},
            {"governance_notice", "research_enrolment"},
            id="cdt-iliofemoral",
        ),
        pytest.param(
            FEMOROPOPLITEAL,
            Decision.cdt,
            {"consent", "procedure"},
            {"governance_notice", "research_enrolment"},
            id="cdt-femoropopliteal",
        ),
        pytest.param(
            ILIOFEMORAL,
            Decision.open_thrombectomy,
            {"consent", "procedure"},
            {"governance_notice", "research_enrolment"},
            id="open",
        ),
    ],
)
def test_plan_steps_follow_decision_and_route(
    veins: tuple[Segment, ...], decision: Decision, present: set[str], absent: set[str]
) -> None:
    codes = step_codes(make_record(veins=veins, mdts=mdt(decision)))
    assert present <= codes
    assert not absent & codes
    assert not AFTER_PROCEDURE_STEPS & codes  # nothing after the procedure until one is done


@pytest.mark.parametrize(
    ("technique", "pmt_steps"),
    [
        (Technique.pmt, True),
        (Technique.pmt_with_thrombolysis, True),
        (Technique.cdt, False),
        (Technique.open_thrombectomy, False),
    ],
)
def test_plan_registry_and_late_visits_only_after_pmt_technique(technique: Technique, pmt_steps: bool) -> None:
    decision = {Technique.cdt: Decision.cdt, Technique.open_thrombectomy: Decision.open_thrombectomy}.get(
        technique, Decision.pmt
    )
    codes = step_codes(make_record(mdts=mdt(decision), procedures=done(technique)))
    assert {"follow_up_early", "follow_up_week6"} <= codes
    for code in ("registry_submission", "follow_up_month6", "follow_up_month12"):
        assert (code in codes) is pmt_steps, code


@pytest.mark.parametrize(
    ("ivc_filter", "expected"), [(IvcFilter.temporary, True), (IvcFilter.permanent, False), (IvcFilter.none, False)]
)
def test_plan_filter_retrieval_only_with_temporary_filter(ivc_filter: IvcFilter, expected: bool) -> None:
    codes = step_codes(make_record(mdts=mdt(Decision.pmt), procedures=done(Technique.pmt, ivc_filter)))
    assert ("filter_retrieval" in codes) is expected


def test_plan_steps_sit_in_their_declared_stages() -> None:
    record = make_record(
        mdts=mdt(Decision.pmt), procedures=done(Technique.pmt, IvcFilter.temporary), anticoagulation=STARTED
    )
    stages = {s.code: s.stage for s in plan(record, POLICY)}
    assert stages == {
        "anticoagulation_start": "diagnosis",
        "mdt": "mdt",
        "governance_notice": "governance",
        "consent": "consent",
        "procedure": "procedure",
        "registry_submission": "registry",
        "follow_up_early": "follow_up",
        "follow_up_week6": "follow_up",
        "follow_up_month6": "follow_up",
        "follow_up_month12": "follow_up",
        "filter_retrieval": "filter",
        "anticoagulation_review": "anticoagulation_review",
    }


# --- stage_of: the stage of the next undone step; complete or closed at the end ----------------------

ALL_VISITS = {
    Visit.early: X + timedelta(days=10),
    Visit.week6: X + timedelta(days=42),
    Visit.month6: date(2026, 12, 10),
    Visit.month12: date(2027, 6, 10),
}
GOVERNANCE_ON = date(2026, 1, 10)
CONSENTED_ON = date(2026, 6, 3)

PMT_ILIOFEMORAL_STEPS: list[tuple[dict[str, Any], str]] = [
    ({}, "diagnosis"),
    ({"anticoagulation": STARTED}, "mdt"),
    ({"mdts": mdt(Decision.pmt)}, "governance"),
    ({"governance_notified_on": GOVERNANCE_ON}, "consent"),
    ({"consented_on": CONSENTED_ON, "scheduled_on": X}, "procedure"),
    ({"procedures": done(), "registry_submitted_on": X + timedelta(days=5)}, "follow_up"),
    ({"follow_ups": ALL_VISITS}, "anticoagulation_review"),
    ({"reviews": (ReviewFacts(date(2026, 9, 12), ReviewDecision.continue_defined),)}, "complete"),
]


@pytest.mark.parametrize("n", range(len(PMT_ILIOFEMORAL_STEPS)))
def test_stage_of_walks_a_pmt_iliofemoral_pathway(n: int) -> None:
    facts: dict[str, Any] = {}
    for more, _stage in PMT_ILIOFEMORAL_STEPS[: n + 1]:
        facts |= more
    assert stage(make_record(**facts)) == PMT_ILIOFEMORAL_STEPS[n][1]


def test_stage_of_research_route_waits_in_governance_for_enrolment() -> None:
    record = make_record(veins=FEMOROPOPLITEAL, mdts=mdt(Decision.pmt), anticoagulation=STARTED)
    assert stage(record) == "governance"
    assert stage(replace(record, enrolled_on=MDT_DAY)) == "consent"


@pytest.mark.parametrize("decision", [Decision.cdt, Decision.open_thrombectomy])
def test_stage_of_cdt_or_open_goes_from_mdt_to_consent(decision: Decision) -> None:
    assert stage(make_record(mdts=mdt(decision), anticoagulation=STARTED)) == "consent"


def test_stage_of_anticoagulation_only_goes_to_review_then_complete() -> None:
    record = make_record(mdts=mdt(Decision.anticoagulation_only), anticoagulation=STARTED)
    assert stage(record) == "anticoagulation_review"
    reviewed = make_record(
        mdts=record.mdts, anticoagulation=STARTED, reviews=(ReviewFacts(date(2026, 9, 1), ReviewDecision.stop),)
    )
    assert stage(reviewed) == "complete"
    assert next_step(reviewed, plan(reviewed, POLICY)) is None


def test_stage_of_temporary_filter_waits_in_filter_stage() -> None:
    facts: dict[str, Any] = {
        "mdts": mdt(Decision.pmt),
        "anticoagulation": STARTED,
        "governance_notified_on": GOVERNANCE_ON,
        "consented_on": CONSENTED_ON,
        "procedures": done(Technique.pmt, IvcFilter.temporary),
        "registry_submitted_on": X,
        "follow_ups": ALL_VISITS,
    }
    assert stage(make_record(**facts)) == "filter"
    assert stage(make_record(**facts, filter_outcome_on=X + timedelta(days=40))) == "anticoagulation_review"


@pytest.mark.parametrize("n", range(len(PMT_ILIOFEMORAL_STEPS)))
def test_stage_of_closed_pathway_is_closed(n: int) -> None:
    facts: dict[str, Any] = {}
    for more, _stage in PMT_ILIOFEMORAL_STEPS[: n + 1]:
        facts |= more
    record = make_record(**facts, closed_on=date(2027, 9, 1))
    assert stage(record) == "closed"
    assert next_step(record, plan(record, POLICY)) is None


def test_next_step_is_in_the_reported_stage() -> None:
    record = make_record(mdts=mdt(Decision.pmt), anticoagulation=STARTED)
    steps = plan(record, POLICY)
    upcoming = next_step(record, steps)
    assert upcoming is not None
    assert upcoming.code == "governance_notice"
    assert upcoming.stage == stage_of(record, steps)


# --- window_days_left: P + 14 - D while awaiting treatment ------------------------------------------------


@pytest.mark.parametrize("mdts", [(), *(mdt(d) for d in (Decision.pmt, Decision.cdt, Decision.open_thrombectomy))])
@pytest.mark.parametrize("offset", [0, 1, 9, 10, 13, 14, 15, 30])
def test_window_days_left_is_presentation_plus_14_minus_as_of(mdts: tuple[MdtFacts, ...], offset: int) -> None:
    record = make_record(mdts=mdts)
    assert window_days_left(record, P + timedelta(days=offset), POLICY) == 14 - offset


@pytest.mark.parametrize("offset", [0, 10, 14, 15])
def test_window_days_left_none_for_anticoagulation_only(offset: int) -> None:
    record = make_record(mdts=mdt(Decision.anticoagulation_only))
    assert window_days_left(record, P + timedelta(days=offset), POLICY) is None


@pytest.mark.parametrize("technique", list(Technique))
@pytest.mark.parametrize("offset", [9, 10, 14, 15, 30])
def test_window_days_left_none_once_procedure_done(technique: Technique, offset: int) -> None:
    record = make_record(mdts=mdt(Decision.pmt), procedures=done(technique))
    assert window_days_left(record, P + timedelta(days=offset), POLICY) is None


# --- the policy file -------------------------------------------------------------------------------------


def test_policy_in_force_loads_with_a_version() -> None:
    policy = policy_in_force()
    assert isinstance(policy.version, str)
    assert policy.version.strip()


def test_policy_every_number_has_a_source() -> None:
    policy = load_policy()
    names = list(PolicyNumbers.model_fields)
    assert len(names) >= 20
    for name in names:
        number = getattr(policy.numbers, name)
        assert number.source.strip(), name
        assert number.unit.strip(), name


def test_policy_defaults_match_the_interface() -> None:
    policy = load_policy()
    expected = {
        "mdt_due_days": 3,
        "treatment_window_days": 14,
        "treatment_window_warn_days": 4,
        "pre_procedure_red_days": 2,
        "thrombolysis_symptom_days": 14,
        "registry_due_days": 30,
        "anticoagulation_start_days": 1,
        "anticoagulation_minimum_months": 3,
        "anticoagulation_review_warn_days": 7,
        "anticoagulation_review_grace_days": 14,
        "early_visit_end_days": 21,
        "week6_visit_end_days": 56,
        "month6_visit_months": 6,
        "month6_visit_window_days": 28,
        "month12_visit_months": 12,
        "month12_visit_window_days": 42,
        "filter_retrieval_start_days": 29,
        "filter_retrieval_end_days": 54,
    }
    assert {name: policy.n(name) for name in expected} == expected


def policy_text_with(name: str, value: int) -> str:
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    changed, count = re.subn(rf"(\[numbers\.{name}\]\s*\nvalue = )\d+", rf"\g<1>{value}", text)
    assert count == 1, f"{name} not found in the policy file"
    return changed


def write_policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_policy_reads_an_unchanged_copy(tmp_path: Path) -> None:
    copy = write_policy(tmp_path, DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    assert load_policy(copy) == load_policy()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("early_visit_start_days", 22),
        ("week6_visit_start_days", 57),
        ("filter_retrieval_start_days", 55),
        ("treatment_window_warn_days", 15),
        ("filter_retrieval_end_days", 28),
        ("early_visit_end_days", 4),
    ],
)
def test_load_policy_rejects_window_start_after_end(tmp_path: Path, name: str, value: int) -> None:
    with pytest.raises(PolicyError):
        load_policy(write_policy(tmp_path, policy_text_with(name, value)))


@pytest.mark.parametrize(
    ("name", "value"),
    [("early_visit_start_days", 21), ("filter_retrieval_start_days", 54), ("week6_visit_start_days", 56)],
)
def test_load_policy_accepts_window_start_equal_to_end(tmp_path: Path, name: str, value: int) -> None:
    assert load_policy(write_policy(tmp_path, policy_text_with(name, value))).n(name) == value


@pytest.mark.parametrize(("months", "accepted"), [(0, False), (1, False), (2, False), (3, True), (6, True)])
def test_load_policy_anticoagulation_minimum_at_least_three_months(tmp_path: Path, months: int, accepted: bool) -> None:
    path = write_policy(tmp_path, policy_text_with("anticoagulation_minimum_months", months))
    if accepted:
        assert load_policy(path).n("anticoagulation_minimum_months") == months
    else:
        with pytest.raises(PolicyError):
            load_policy(path)


def test_load_policy_rejects_number_without_source(tmp_path: Path) -> None:
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    changed, count = re.subn(
        r'(\[numbers\.registry_due_days\]\s*\nvalue = \d+\s*\nunit = "[^"]*"\s*\n)source = "[^"]*"\n', r"\g<1>", text
    )
    assert count == 1
    with pytest.raises(PolicyError):
        load_policy(write_policy(tmp_path, changed))


def test_load_policy_rejects_missing_version(tmp_path: Path) -> None:
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    changed, count = re.subn(r'(?m)^version = "[^"]*"\n', "", text)
    assert count == 1
    with pytest.raises(PolicyError):
        load_policy(write_policy(tmp_path, changed))
