"""Version 2 in what the tracker gives out: PTS read with its timing, FHIR, the registry file, the NICE audit
report and the reminders (each new flag in plain words to its owner)."""

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pathway.cli.main import app
from pathway.domain import pts
from pathway.domain.policy import DEFAULT_POLICY_FILE, load_policy
from pathway.domain.rules import FLAG_BY_CODE
from pathway.exports.audit_report import audit_html, build_audit
from pathway.exports.fhir import bundle_json, export_pathway
from pathway.exports.registry import registry_export
from pathway.reminders.messages import compose, flag_owner
from pathway.store.db import SessionFactory
from pathway.views import queries
from tests.conftest import (
    consent,
    diagnose,
    governance,
    mdt,
    procedure,
    register,
    run,
    safety_check,
    start_anticoagulation,
)
from tests.support.reminders import outbox, sweep

POLICY = load_policy()
P = date(2026, 1, 15)  # presented: P + 3 months = 2026-04-15
LATER = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
NEW_FLAGS = (
    "SAFETY_CHECK_OUTSTANDING",
    "SAFETY_CHECK_FAILED",
    "OUTSIDE_GUIDANCE_SCOPE",
    "ANTICOAGULATION_RESTART_OVERDUE",
)


# --- PTS: acute phase, confirmation (CAVA) ----------------------------------------------------------


def score(seen_on: str, total: int, ulcer: bool = False, visit: str = "month6") -> pts.Score:
    return pts.Score(visit, date.fromisoformat(seen_on), total, ulcer)


@pytest.mark.parametrize(
    ("seen_on", "category"),
    [
        ("2026-01-25", None),
        ("2026-02-26", None),
        ("2026-04-14", None),
        ("2026-04-15", "severe"),
        ("2026-07-15", "severe"),
    ],
)
def test_a_score_before_p_plus_3_months_carries_no_category(seen_on: str, category: str | None) -> None:
    (reading,) = pts.assess([score(seen_on, 16)], P, POLICY).readings
    assert reading.category == category
    assert reading.words == (category or "acute phase, not diagnostic")


@pytest.mark.parametrize(
    ("scores", "status"),
    [
        ([score("2026-04-15", 6), score("2026-07-15", 5)], "confirmed"),  # both from P + 3 months, 3 months apart
        ([score("2026-04-15", 6), score("2026-07-14", 9)], "not_confirmed"),  # a day short of 3 months apart
        ([score("2026-02-01", 12, visit="early"), score("2026-05-01", 7)], "not_confirmed"),  # one acute
        ([score("2026-04-15", 4), score("2026-09-15", 12)], "not_confirmed"),  # only one of 5 or more
        ([score("2026-04-15", 0, ulcer=True)], "confirmed"),  # an ulcer from P + 3 months
        ([score("2026-04-14", 0, ulcer=True)], "not_yet_assessable"),  # the ulcer is in the acute phase
        ([score("2026-02-01", 20, visit="early")], "not_yet_assessable"),
        ([], "not_yet_assessable"),
    ],
    ids=["two-apart", "too-close", "one-acute", "one-high", "ulcer", "acute-ulcer", "acute-only", "none"],
)
def test_pts_confirmed_per_cava(scores: list[pts.Score], status: str) -> None:
    assert pts.assess(scores, P, POLICY).status == status


# --- FHIR: the safety check, the hold plan, the rationale, every diagnosis code ------------------------


def safety_pathway(factory: SessionFactory, **diagnosis: Any) -> None:
    run(factory, governance())
    run(factory, register())
    run(factory, diagnose(veins=["ivc", "common_iliac", "common_femoral"], **diagnosis))
    run(factory, start_anticoagulation())
    run(factory, mdt(decision="cdt"))
    run(factory, consent())
    run(factory, safety_check(checked_on="2026-06-03", platelets=48, contraindications=["tia_6_months"]))
    run(
        factory,
        {
            "command": "stop_anticoagulation",
            "pathway": "P1",
            "stopped_on": "2026-06-04",
            "reason": "procedure_hold",
            "restart_planned_on": "2026-06-06",
            "plan_approved_by": "Dr H. Haematologist",
        },
    )


def bundle(factory: SessionFactory, as_of: date = date(2026, 6, 15)) -> dict[str, Any]:
    with factory() as session:
        data: dict[str, Any] = json.loads(bundle_json(export_pathway(session, "P1", as_of)))
    return data


def of(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == kind]


def test_fhir_safety_check_as_loinc_observations_with_ucum_units(sqlite_factory: SessionFactory) -> None:
    safety_pathway(sqlite_factory)
    observations = of(bundle(sqlite_factory), "Observation")
    labs = {
        o["code"]["coding"][0]["code"]: o
        for o in observations
        if o["code"]["coding"][0]["system"] == "http://loinc.org"
    }
    assert {code: labs[code]["valueQuantity"]["code"] for code in labs} == {
        "777-3": "10*9/L",
        "6301-6": "{INR}",
        "718-7": "g/L",
        "62238-1": "mL/min/{1.73_m2}",
    }
    assert labs["777-3"]["valueQuantity"] | {"system": "http://unitsofmeasure.org"} == labs["777-3"]["valueQuantity"]
    assert labs["777-3"]["valueQuantity"]["value"] == 48
    assert all(o["effectiveDateTime"] == "2026-06-03" for o in labs.values())
    (listed,) = [o for o in observations if o["code"]["coding"][0]["code"] == "fibrinolysis-contraindications"]
    (component,) = listed["component"]
    assert component["code"]["coding"][0]["code"] == "tia_6_months"
    assert component["valueCodeableConcept"]["coding"][0]["code"] == "relative"


def test_fhir_hold_plan_and_every_diagnosis_code(sqlite_factory: SessionFactory) -> None:
    safety_pathway(sqlite_factory)
    data = bundle(sqlite_factory)
    (held,) = [m for m in of(data, "MedicationStatement") if m["status"] == "on-hold"]
    extensions = {e["url"].rsplit("/", 1)[1]: e for e in held["extension"]}
    assert extensions["restart-planned-on"]["valueDate"] == "2026-06-06"
    assert extensions["hold-plan-approved-by"]["valueString"] == "Dr H. Haematologist"
    assert "restart planned on 2026-06-06" in held["note"][0]["text"]
    (condition,) = of(data, "Condition")
    codes = [c["code"] for c in condition["code"]["coding"]]
    assert {"I82.220", "I82.422", "I82.412"} <= set(codes)  # the IVC and the left leg's iliac and femoral veins


def test_fhir_procedure_carries_the_outside_criteria_rationale_and_filter_plan(sqlite_factory: SessionFactory) -> None:
    safety_pathway(sqlite_factory, bleeding_risk="high")
    rationale = "Limb-threatening DVT; bleeding risk accepted by the patient."
    run(
        sqlite_factory,
        procedure(
            technique="cdt",
            ivc_filter="temporary",
            filter_removal_planned_on="2026-07-10",
            outside_criteria_rationale=rationale,
        ),
    )
    (done,) = of(bundle(sqlite_factory), "Procedure")
    notes = " ".join(n["text"] for n in done["note"])
    assert f"Outside NICE NG158 criteria, rationale: {rationale}" in notes
    assert "filter removal planned on 2026-07-10" in notes and "filter indication adjunct to catheter therapy" in notes


# --- registry file and NICE audit report ---------------------------------------------------------------


def pmt_case(factory: SessionFactory, ref: str, patient: str, nhs: str, veins: list[str], **details: Any) -> None:
    run(factory, register(patient=patient, nhs=nhs, **details.pop("patient_facts", {})))
    run(factory, diagnose(pathway=ref, patient=patient, veins=veins, **details.pop("diagnosis", {})))
    run(factory, start_anticoagulation(ref))
    run(factory, mdt(ref, thrombolysis=details.get("technique") == "pmt_with_thrombolysis", **details.pop("mdt", {})))
    if "common_femoral" not in veins and not set(veins) & {"ivc", "common_iliac", "external_iliac", "internal_iliac"}:
        enrol = {"study_id": "S", "ethics_ref": "E", "enrolled_on": "2026-06-03"}
        run(factory, {"command": "enrol_research", "pathway": ref, **enrol})
    run(factory, consent(ref))
    if details.pop("checked", True):
        run(factory, safety_check(ref, checked_on="2026-06-04", **details.pop("check", {})))
    run(factory, procedure(ref, **details))


@pytest.mark.parametrize(
    ("veins", "cfv"),
    [
        (["internal_iliac"], False),  # the review's case: iliofemoral extent, but not the common femoral vein
        (["external_iliac", "common_iliac"], False),
        (["common_femoral"], True),
        (["ivc", "common_iliac", "common_femoral", "femoral"], True),
    ],
)
def test_registry_cfv_involvement_from_the_recorded_veins(
    sqlite_factory: SessionFactory, veins: list[str], cfv: bool
) -> None:
    run(sqlite_factory, governance())
    pmt_case(sqlite_factory, "P1", "H100", "9434765919", veins)
    (row,) = registry_export_rows(sqlite_factory)
    assert row["cfv_involved"] is cfv


def registry_export_rows(factory: SessionFactory) -> list[dict[str, Any]]:
    with factory() as session:
        return registry_export(session, date(2026, 6, 15), sites=None)


def audit_cohort(factory: SessionFactory) -> None:
    run(factory, governance())
    rationale = "<b>Phlegmasia</b>: limb threatened"
    pmt_case(
        factory,
        "P1",
        "H1",
        "9434765919",
        ["common_femoral"],
        technique="pmt_with_thrombolysis",
        outside_criteria_rationale=rationale,
        diagnosis={"bleeding_risk": "high"},
    )
    pmt_case(factory, "P2", "H2", "9434765870", ["common_femoral"], check={"inr": 1.8}, diagnosis={"pregnant": True})
    pmt_case(
        factory,
        "P3",
        "H3",
        "9434765862",
        ["common_femoral"],
        checked=False,
        patient_facts={"date_of_birth": "2010-03-01"},
        mdt={"outside_scope_plan": "Paediatric protocol"},
    )


def test_registry_rows_carry_the_safety_net(sqlite_factory: SessionFactory) -> None:
    audit_cohort(sqlite_factory)
    rows = {r["pathway"]: r for r in registry_export_rows(sqlite_factory)}
    assert rows["P1"]["thrombolysis_criteria_met"] is False
    assert rows["P1"]["outside_criteria_rationale"] == "<b>Phlegmasia</b>: limb threatened"
    assert (rows["P2"]["inr"], rows["P2"]["safety_check_failed"], rows["P2"]["pregnant"]) == (1.8, True, True)
    assert rows["P2"]["outside_guidance_scope"] is True and "outside_scope_plan" in rows["P2"]["missing"]
    assert rows["P3"]["age_at_presentation"] == 16 and rows["P3"]["outside_scope_plan"] == "Paediatric protocol"
    assert {"safety_check_on", "platelets", "inr", "safety_check_failed"} <= set(rows["P3"]["missing"])
    assert "thrombolysis_criteria_met" in rows["P2"]["not_applicable"]


def test_audit_report_counts_thrombolysis_outside_criteria_failed_checks_and_scope(
    sqlite_factory: SessionFactory, tmp_path: Path
) -> None:
    audit_cohort(sqlite_factory)
    with sqlite_factory() as session:
        report = build_audit(session, date(2026, 6, 15), site="North Vale", sites=None)
    figures = {f.key: (f.count, f.of) for f in report.figures}
    assert figures["thrombolysis_outside_criteria"] == (1, 1)
    assert figures["safety_check_failed"] == (1, 2)
    assert figures["safety_check_missing"] == (1, 3)
    assert figures["outside_guidance_scope"] == (2, 3)
    assert figures["outside_scope_with_plan"] == (1, 2)
    page = audit_html(report)
    assert "&lt;b&gt;Phlegmasia&lt;/b&gt;: limb threatened" in page and "<b>Phlegmasia</b>" not in page
    assert 'id="outside-criteria"' in page


def test_audit_report_window_and_pts_note_come_from_the_policy(sqlite_factory: SessionFactory, tmp_path: Path) -> None:
    audit_cohort(sqlite_factory)
    text = DEFAULT_POLICY_FILE.read_text().replace(
        "[numbers.treatment_window_days]\nvalue = 14", "[numbers.treatment_window_days]\nvalue = 10"
    )
    stricter = tmp_path / "policy.toml"
    stricter.write_text(text)
    with sqlite_factory() as session:
        report = build_audit(session, date(2026, 6, 15), sites=None, policy=load_policy(stricter))
    page = audit_html(report)
    assert "10-day window" in page and "PMT within 10 days of presentation" in page
    assert "14-day window" not in page
    assert "before 3 months from presentation" in page


# --- reminders: words and owners of the new flags --------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "owner"),
    [
        ("SAFETY_CHECK_OUTSTANDING", "clinician"),
        ("SAFETY_CHECK_FAILED", "clinician"),
        ("OUTSIDE_GUIDANCE_SCOPE", "coordinator"),
        ("ANTICOAGULATION_RESTART_OVERDUE", "clinician"),
    ],
)
def test_each_new_flag_has_plain_words_and_an_owner(code: str, owner: str) -> None:
    assert flag_owner(code) == owner
    words = FLAG_BY_CODE[code].words
    assert words and "_" not in words
    message = compose(
        notification_id=1,
        pathway="P1",
        site="North Vale",
        code=code,
        severity="red",
        kind="first",
        recipient_role=owner,
        due_on=date(2026, 6, 20),
    )
    assert words in message.title and f"Step owner: {owner}" in message.body


def test_sweep_sends_the_failed_safety_check_to_the_clinician(factory: SessionFactory, tmp_path: Path) -> None:
    run(factory, governance())
    run(factory, register())
    run(factory, diagnose())
    run(factory, start_anticoagulation())
    run(factory, mdt())
    run(factory, consent())
    run(factory, {"command": "schedule_procedure", "pathway": "P1", "scheduled_on": "2026-06-22"})
    run(factory, safety_check(checked_on="2026-06-10", platelets=30))
    sweep(factory, tmp_path, date(2026, 6, 12))
    sent = [(line["code"], line["severity"], line["recipient_role"]) for line in outbox(tmp_path)]
    assert ("SAFETY_CHECK_FAILED", "red", "clinician") in sent


def test_every_flag_code_is_one_of_the_contract() -> None:
    assert set(NEW_FLAGS) <= set(FLAG_BY_CODE)
    with_words = {code: flag.words for code, flag in FLAG_BY_CODE.items()}
    assert all(with_words.values())


def test_show_says_which_scores_are_acute_and_whether_pts_is_confirmed(
    sqlite_factory: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(sqlite_factory, governance())
    run(sqlite_factory, register())
    run(sqlite_factory, diagnose())
    run(sqlite_factory, mdt())
    run(sqlite_factory, consent())
    run(sqlite_factory, procedure())
    visit = {"command": "record_follow_up", "pathway": "P1"}
    high = {"items": [2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], "ulcer": False}  # 5
    run(sqlite_factory, visit | {"visit": "early", "seen_on": "2026-06-12", "villalta": high})
    run(sqlite_factory, visit | {"visit": "month6", "seen_on": "2026-11-20", "villalta": high}, at=LATER)
    run(sqlite_factory, visit | {"visit": "month12", "seen_on": "2027-03-01", "villalta": high}, at=LATER)
    with sqlite_factory() as session:
        shown = queries.pathway_detail(session, "P1", date(2027, 3, 1)).as_dict()
    readings = {v["visit"]: (v["pts_category"], v["pts_reading"]) for v in shown["record"]["follow_ups"]}
    assert readings == {
        "early": (None, "acute phase, not diagnostic"),
        "month6": ("mild", "mild"),
        "month12": ("mild", "mild"),
    }
    assert shown["pts"]["status"] == "confirmed"
    assert "2026-11-20" in shown["pts"]["basis"] and "2027-03-01" in shown["pts"]["basis"]
    # The command line's table says it per visit too: the acute-phase score carries no category.
    monkeypatch.setenv("PATHWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'pathway.db'}")
    table = CliRunner().invoke(app, ["show", "P1", "--as-of", "2027-03-01"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    rows = {line.split("│")[1].strip(): line for line in table.stdout.splitlines() if line.count("│") == 5}
    assert "acute phase, not diagnostic" in rows["early"] and "mild" not in rows["early"]
    assert "mild" in rows["month6"] and "mild" in rows["month12"]
