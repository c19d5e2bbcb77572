"""FHIR R4B export of one pathway: every resource type, real codes, and a Bundle fhir.resources accepts."""

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError
from sqlmodel import select
from typer.testing import CliRunner

from pathway.errors import NotFound
from pathway.exports.fhir import bundle_json, export_pathway
from pathway.store.db import SessionFactory, make_engine, make_session_factory, migrate
from pathway.store.models import Step
from tests.conftest import diagnose, register, run, treated_pathway
from tests.support.sites import list_sites

LATER = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
AS_OF = date(2026, 12, 20)
ITEMS = [2, 1, 1, 0, 0, 1, 0, 0, 0, 1, 0]  # total 6: mild PTS


def _full_pathway(factory: SessionFactory) -> None:
    """PMT on 2026-06-05 (left femoral DVT), a switch of anticoagulant, early and month-6 visits."""
    treated_pathway(factory)
    run(
        factory,
        {"command": "start_anticoagulation", "pathway": "P1", "agent": "rivaroxaban", "started_on": "2026-06-06"},
    )
    visit = {"command": "record_follow_up", "pathway": "P1", "patency": "patent"}
    run(factory, visit | {"visit": "early", "seen_on": "2026-06-12", "villalta": {"items": ITEMS, "ulcer": False}})
    run(
        factory,
        visit | {"visit": "month6", "seen_on": "2026-12-05", "villalta": {"items": ITEMS, "ulcer": True}},
        at=LATER,
    )


def _bundle(factory: SessionFactory, ref: str = "P1", as_of: date = AS_OF) -> dict[str, Any]:
    with factory() as session:
        data: dict[str, Any] = json.loads(bundle_json(export_pathway(session, ref, as_of)))
    return data


def _of(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _references(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return own + [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


def test_bundle_holds_every_resource_type_and_validates_under_r4b(factory: SessionFactory) -> None:
    _full_pathway(factory)
    text = json.dumps(_bundle(factory))
    parsed = Bundle.model_validate_json(text)
    kinds = {entry.resource.get_resource_type() for entry in parsed.entry or []}
    assert kinds == {
        "Patient",
        "Condition",
        "EpisodeOfCare",
        "CarePlan",
        "Task",
        "Procedure",
        "Consent",
        "MedicationStatement",
        "Observation",
        "Flag",
    }
    assert parsed.type == "collection"


def test_an_invalid_resource_fails_validation(sqlite_factory: SessionFactory) -> None:
    treated_pathway(sqlite_factory)
    bundle = _bundle(sqlite_factory)
    task = _of(bundle, "Task")[0]
    del task["intent"]  # required in R4B
    with pytest.raises(ValidationError):
        Bundle.model_validate_json(json.dumps(bundle))


def test_patient_carries_the_nhs_number_with_the_nhs_system(sqlite_factory: SessionFactory) -> None:
    treated_pathway(sqlite_factory)
    (patient,) = _of(_bundle(sqlite_factory), "Patient")
    assert {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"} in patient["identifier"]
    assert patient["birthDate"] == "1970-03-04"
    assert patient["gender"] == "female"


@pytest.mark.parametrize(("leg", "icd10cm"), [("left", "I82.412"), ("right", "I82.411")])
def test_condition_is_coded_in_icd10_icd10cm_and_snomed(sqlite_factory: SessionFactory, leg: str, icd10cm: str) -> None:
    run(sqlite_factory, register())
    run(sqlite_factory, diagnose(leg=leg))
    (condition,) = _of(_bundle(sqlite_factory), "Condition")
    codings = {(c["system"], c["code"]) for c in condition["code"]["coding"]}
    assert codings == {
        ("http://hl7.org/fhir/sid/icd-10", "I80.1"),
        ("http://hl7.org/fhir/sid/icd-10-cm", icd10cm),
        ("http://snomed.info/sct", "404223003"),
    }
    assert condition["bodySite"][0]["text"] == f"{leg.capitalize()} leg: common femoral vein, femoral vein"
    assert condition["onsetDateTime"] == "2026-06-01"


def test_procedure_is_cpt_37187_for_pmt(sqlite_factory: SessionFactory) -> None:
    treated_pathway(sqlite_factory)
    (procedure,) = _of(_bundle(sqlite_factory), "Procedure")
    assert procedure["code"]["coding"] == [{"system": "http://www.ama-assn.org/go/cpt", "code": "37187"}]
    assert procedure["performedDateTime"] == "2026-06-05"
    assert procedure["usedCode"] == [{"text": "Synthetic catheter"}]
    assert procedure["status"] == "completed"


def test_one_task_per_materialised_step_with_status_and_due_date(sqlite_factory: SessionFactory) -> None:
    treated_pathway(sqlite_factory)
    tasks = _of(_bundle(sqlite_factory), "Task")
    with sqlite_factory() as session:
        steps = session.exec(select(Step).order_by(Step.id)).all()  # type: ignore[arg-type]
    assert [t["code"]["coding"][0]["code"] for t in tasks] == [s.code for s in steps]
    for task, step in zip(tasks, steps, strict=True):
        assert task["status"] == ("completed" if step.done_on else "requested")
        assert task["restriction"]["period"]["end"] == step.due_on.isoformat()
    assert {t["code"]["coding"][0]["code"] for t in tasks if t["status"] == "completed"} >= {"mdt", "procedure"}
    plan = _of(_bundle(sqlite_factory), "CarePlan")[0]
    assert len(plan["activity"]) == len(tasks)


def test_tasks_of_a_closed_pathway_are_cancelled_not_requested(sqlite_factory: SessionFactory) -> None:
    treated_pathway(sqlite_factory)
    submitted = {"command": "submit_registry", "pathway": "P1", "submitted_on": "2026-06-09", "registry_ref": "R-1"}
    run(sqlite_factory, submitted)
    run(sqlite_factory, {"command": "close_pathway", "pathway": "P1", "closed_on": "2026-06-10", "reason": "withdrawn"})
    bundle = _bundle(sqlite_factory)
    assert {t["status"] for t in _of(bundle, "Task")} == {"completed", "cancelled"}
    assert _of(bundle, "EpisodeOfCare")[0]["status"] == "finished"
    assert _of(bundle, "CarePlan")[0]["status"] == "revoked"


def test_consent_names_the_leaflet_given(sqlite_factory: SessionFactory) -> None:
    treated_pathway(sqlite_factory)
    (consent,) = _of(_bundle(sqlite_factory), "Consent")
    assert consent["dateTime"] == "2026-06-03"
    assert {"url": consent["extension"][0]["url"], "valueString": "PIL-PMT v2.0"} in consent["extension"]
    assert consent["provision"]["code"][0]["coding"][0]["code"] == "37187"


def test_one_medication_statement_per_anticoagulation_course(sqlite_factory: SessionFactory) -> None:
    _full_pathway(sqlite_factory)
    first, second = _of(_bundle(sqlite_factory), "MedicationStatement")
    assert first["medicationCodeableConcept"]["text"] == "apixaban"
    assert first["effectivePeriod"] == {"start": "2026-06-01", "end": "2026-06-06"}
    assert first["status"] == "stopped"
    assert second["medicationCodeableConcept"]["text"] == "rivaroxaban"
    assert second["effectivePeriod"] == {"start": "2026-06-06"}
    assert second["status"] == "active"


def test_villalta_scores_are_observations_with_category_and_ulcer(sqlite_factory: SessionFactory) -> None:
    _full_pathway(sqlite_factory)
    early, month6 = _of(_bundle(sqlite_factory), "Observation")
    assert early["valueInteger"] == month6["valueInteger"] == sum(ITEMS)
    assert month6["effectiveDateTime"] == "2026-12-05"

    def component(observation: dict[str, Any], text: str) -> dict[str, Any]:
        return next(c for c in observation["component"] if c["code"]["text"] == text)

    # The early visit is in the acute phase: no PTS category, and the reading says why (version 2).
    assert [c for c in early["component"] if c["code"]["text"] == "PTS category"] == []
    assert component(early, "PTS reading")["valueString"] == "acute phase, not diagnostic"
    assert component(early, "venous ulcer")["valueBoolean"] is False
    assert component(month6, "PTS category")["valueCodeableConcept"]["coding"][0]["code"] == "severe"  # ulcer
    assert component(month6, "venous ulcer")["valueBoolean"] is True


def test_flags_are_those_standing_at_the_as_of_date(sqlite_factory: SessionFactory) -> None:
    _full_pathway(sqlite_factory)
    codes = {f["code"]["coding"][0]["code"] for f in _of(_bundle(sqlite_factory), "Flag")}
    assert codes == {"REGISTRY_SUBMISSION_OVERDUE", "ANTICOAGULATION_REVIEW_OVERDUE", "FOLLOW_UP_OVERDUE"}
    assert _of(_bundle(sqlite_factory, as_of=date(2026, 6, 15)), "Flag") == []


def test_export_is_reproducible_and_every_reference_resolves(sqlite_factory: SessionFactory) -> None:
    _full_pathway(sqlite_factory)
    with sqlite_factory() as session:
        first = bundle_json(export_pathway(session, "P1", AS_OF))
        second = bundle_json(export_pathway(session, "P1", AS_OF))
    assert first == second
    bundle = json.loads(first)
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert all(
        u.startswith("urn:uuid:") and u == f"urn:uuid:{e['resource']['id']}"
        for u, e in zip(full_urls, bundle["entry"], strict=True)
    )
    assert len(set(full_urls)) == len(full_urls)
    assert set(_references(bundle)) <= set(full_urls)


def test_unknown_pathway_is_not_found(sqlite_factory: SessionFactory) -> None:
    with sqlite_factory() as session, pytest.raises(NotFound):
        export_pathway(session, "NOPE", AS_OF)


@pytest.fixture
def cli_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SessionFactory:
    """A migrated SQLite file that the CLI reaches through PATHWAY_DATABASE_URL."""

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    migrate(engine)
    monkeypatch.setenv("PATHWAY_DATABASE_URL", url)
    made = make_session_factory(engine)
    list_sites(made)
    return made


def test_cli_export_fhir_prints_a_valid_bundle(cli_factory: SessionFactory, tmp_path: Path) -> None:
    from pathway.cli.exports import export_app

    _full_pathway(cli_factory)
    runner = CliRunner()
    printed = runner.invoke(export_app, ["fhir", "P1", "--as-of", "2026-12-20"])
    assert printed.exit_code == 0, printed.output
    bundle = Bundle.model_validate_json(printed.stdout)
    assert len(bundle.entry or []) == len(_bundle(cli_factory)["entry"])
    target = tmp_path / "p1.json"
    written = runner.invoke(export_app, ["fhir", "P1", "--as-of", "2026-12-20", "--output", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_text() == printed.stdout
    missing = runner.invoke(export_app, ["fhir", "NOPE"])
    assert missing.exit_code == 1
    assert "pathway" in missing.stderr
