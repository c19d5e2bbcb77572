"""One pathway as a FHIR R4B Bundle (a `collection`), built from the stored record.

Every resource gets a uuid5 id derived from the pathway reference (the Patient's from the patient
reference, so one person keeps one id across their pathways), and the entries use `urn:uuid:`
fullUrls: exporting the same record twice gives the same bytes. Resources are written as JSON-ready
mappings and validated once by fhir.resources when the Bundle is built, so an invalid element fails
the export instead of reaching a receiving system.
"""

import uuid
from datetime import date
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlmodel import Session

from pathway.codes import get_procedure, suggest_diagnosis_codes
from pathway.domain.rules import FLAG_BY_CODE
from pathway.domain.stages import STEPS
from pathway.domain.vocabulary import VILLALTA_ITEMS
from pathway.views import queries
from pathway.views.queries import PathwayDetail

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"
ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED_SYSTEM = "http://snomed.info/sct"
CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
# The project's own code systems, identifiers and extensions. A placeholder namespace: a trust
# that exchanges these bundles replaces it with one it controls.
LOCAL_BASE = "https://dvt-pathway.example.org/fhir"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, LOCAL_BASE)

SNOMED_LEG_DVT = ("404223003", "Deep venous thrombosis of lower extremity (disorder)")
# CPT numbers only; the descriptions shown are our own (pathway.codes), never the AMA's text.
CPT_BY_TECHNIQUE = {"pmt": "37187", "pmt_with_thrombolysis": "37187", "cdt": "37212", "open_thrombectomy": "34421"}
VEIN_WORDS = {"ivc": "inferior vena cava", "calf_muscle": "calf muscle veins"}
STOP_STATUS = {"course_complete": "completed", "procedure_hold": "on-hold"}
LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
# The safety check's laboratory values (version 2) as LOINC observations with UCUM units. eGFR: the
# creatinine-based CKD-EPI estimate UK laboratories report (display from LOINC's long name).
SAFETY_LABS = (
    ("platelets", "777-3", "Platelets [#/volume] in Blood by Automated count", "10*9/L"),
    ("inr", "6301-6", "INR in Platelet poor plasma by Coagulation assay", "{INR}"),
    ("haemoglobin", "718-7", "Hemoglobin [Mass/volume] in Blood", "g/L"),
    (
        "egfr",
        "62238-1",
        "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by "
        "Creatinine-based formula (CKD-EPI)",
        "mL/min/{1.73_m2}",
    ),
)
SYSTEM_URLS = {"icd10": ICD10_SYSTEM, "icd10cm": ICD10CM_SYSTEM}

Resource = dict[str, Any]


def resource_id(*parts: str) -> str:
    """A stable id for a resource: the same parts always give the same uuid5."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _ref(resource: Resource) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource['id']}"}


def _text(words: str) -> dict[str, str]:
    return {"text": words}


def _local(kind: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": f"{LOCAL_BASE}/CodeSystem/{kind}", "code": code}
    return {"coding": [coding | ({"display": display} if display else {})], "text": display or code}


def _extension(name: str, **value: Any) -> dict[str, Any]:
    return {"url": f"{LOCAL_BASE}/StructureDefinition/{name}", **value}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _vein(segment: str) -> str:
    return VEIN_WORDS.get(segment, segment.replace("_", " ") + " vein")


def _prune(value: Any) -> Any:
    """Drop empty elements: FHIR forbids null values and empty arrays or objects."""
    if isinstance(value, dict):
        kept = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, [], {}, "")}
    if isinstance(value, list):
        return [v for v in (_prune(item) for item in value) if v not in (None, [], {}, "")]
    return value


def _patient(detail: PathwayDetail) -> Resource:
    patient = detail.patient
    return {
        "resourceType": "Patient",
        "id": resource_id("patient", patient.ref),
        "identifier": [
            {"system": NHS_NUMBER_SYSTEM, "value": patient.nhs_number},
            {"system": f"{LOCAL_BASE}/Id/patient", "value": patient.ref},
        ],
        "name": [{"text": patient.name}] if patient.name else [],
        "gender": patient.sex,  # the interface's sex values are FHIR's AdministrativeGender codes
        "birthDate": patient.date_of_birth.isoformat(),
        "managingOrganization": {"display": patient.site},
    }


def _condition(detail: PathwayDetail, subject: Resource) -> Resource:
    p = detail.pathway
    codes = suggest_diagnosis_codes(list(p.veins), p.leg)  # every applicable code, the leg's side kept
    veins = ", ".join(_vein(v) for v in p.veins)
    return {
        "resourceType": "Condition",
        "id": resource_id("pathway", p.ref, "condition"),
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "encounter-diagnosis",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                *(
                    {"system": SYSTEM_URLS[str(c["system"])], "code": c["code"], "display": c["description"]}
                    for c in codes
                ),
                {"system": SNOMED_SYSTEM, "code": SNOMED_LEG_DVT[0], "display": SNOMED_LEG_DVT[1]},
            ],
            "text": f"Acute deep vein thrombosis of the {p.leg} leg ({p.extent})",
        },
        "bodySite": [_text(f"{p.leg.capitalize()} leg: {veins}")],
        "stage": [{"summary": _text(f"extent {p.extent}; NICE HTG516 route {p.route}"), "type": _text("extent")}],
        "evidence": [{"code": [_text(f"imaging: {p.imaging}")]}],
        "subject": _ref(subject),
        "onsetDateTime": p.symptom_onset_on.isoformat(),
        "recordedDate": p.presented_on.isoformat(),
    }


def _episode(detail: PathwayDetail, subject: Resource, condition: Resource) -> Resource:
    p = detail.pathway
    return {
        "resourceType": "EpisodeOfCare",
        "id": resource_id("pathway", p.ref, "episode"),
        "identifier": [{"system": f"{LOCAL_BASE}/Id/pathway", "value": p.ref}],
        "status": "finished" if p.closed_on else "active",
        "type": [_text("Acute leg DVT thrombus-removal pathway (NICE HTG516)")],
        "diagnosis": [{"condition": _ref(condition), "rank": 1}],
        "patient": _ref(subject),
        "managingOrganization": {"display": p.site},
        "period": {"start": p.presented_on.isoformat(), "end": _iso(p.closed_on)},
    }


def _tasks(detail: PathwayDetail, subject: Resource, condition: Resource, plan_id: str) -> list[Resource]:
    """One Task per materialised step: the plan the tracker itself works from (pathway.domain.stages)."""
    p = detail.pathway
    tasks = []
    for step in detail.steps:
        stage, definition = STEPS[step.code]
        # A closed pathway asks for nothing more: its undone steps are cancelled, not requested.
        status = "completed" if step.done_on else "cancelled" if p.closed_on else "requested"
        tasks.append(
            {
                "resourceType": "Task",
                "id": resource_id("pathway", p.ref, "task", step.code),
                "basedOn": [{"reference": f"urn:uuid:{plan_id}"}],
                "status": status,
                "businessStatus": _text(stage.title),
                "intent": "plan",
                "code": _local("step", step.code, definition.title),
                "description": definition.title,
                "focus": _ref(condition),
                "for": _ref(subject),
                "executionPeriod": {"end": _iso(step.done_on)},
                "performerType": [_text(step.owner_role)],
                "restriction": {"period": {"end": step.due_on.isoformat()}},
            }
        )
    return tasks


def _care_plan(detail: PathwayDetail, subject: Resource, condition: Resource, tasks: list[Resource]) -> Resource:
    p = detail.pathway
    status = ("completed" if p.close_reason == "completed" else "revoked") if p.closed_on else "active"
    return {
        "resourceType": "CarePlan",
        "id": resource_id("pathway", p.ref, "careplan"),
        "status": status,
        "intent": "plan",
        "title": "DVT thrombus-removal pathway (NICE HTG516)",
        "description": f"MDT decision: {p.decision or 'awaited'}; route: {p.route}; stage: {p.stage}",
        "subject": _ref(subject),
        "period": {"start": p.presented_on.isoformat(), "end": _iso(p.closed_on)},
        "addresses": [_ref(condition)],
        "activity": [{"reference": _ref(task)} for task in tasks],
    }


def _procedures(detail: PathwayDetail, subject: Resource, condition: Resource) -> list[Resource]:
    p = detail.pathway
    found = []
    for n, row in enumerate(sorted(detail.rows.procedures, key=lambda r: (r["performed_on"], r["id"]))):
        cpt = CPT_BY_TECHNIQUE[row["technique"]]
        known = get_procedure(cpt)
        details = [
            f"technique {row['technique']}",
            f"IVC filter {row['ivc_filter']}" + (f" ({row['filter_model']})" if row.get("filter_model") else ""),
            f"stent {'yes' if row['stent'] else 'no'}",
        ]
        if row.get("thrombolytic_agent"):
            details.append(f"thrombolytic {row['thrombolytic_agent']}")
        if row.get("filter_indication"):
            details.append(f"filter indication {row['filter_indication'].replace('_', ' ')}")
        if row.get("filter_removal_planned_on"):
            details.append(f"filter removal planned on {row['filter_removal_planned_on'].isoformat()}")
        notes = [{"text": "; ".join(details)}]
        if row.get("outside_criteria_rationale"):  # thrombolysis outside NICE NG158's criteria (version 2)
            notes.append({"text": f"Outside NICE NG158 criteria, rationale: {row['outside_criteria_rationale']}"})
        found.append(
            {
                "resourceType": "Procedure",
                "id": resource_id("pathway", p.ref, "procedure", str(n)),
                "status": "completed",
                "code": {
                    "coding": [{"system": CPT_SYSTEM, "code": cpt}],
                    "text": known.description if known else row["technique"],
                },
                "subject": _ref(subject),
                "performedDateTime": row["performed_on"].isoformat(),
                "reasonReference": [_ref(condition)],
                "bodySite": [_text(f"{p.leg.capitalize()} leg; access via the {row['access_vein']} vein")],
                "outcome": _text(f"thrombus removal {row['clot_removal'].replace('_', ' ')}"),
                "complication": [_text(c) for c in row["complications"] or []],
                "usedCode": [_text(row["device"])] if row.get("device") else [],
                "note": notes,
            }
        )
    return found


def _consents(detail: PathwayDetail, subject: Resource) -> list[Resource]:
    p = detail.pathway
    decision = p.decision or ""
    cpt = {"pmt": "37187", "cdt": "37212", "open_thrombectomy": "34421"}.get(decision)
    return [
        {
            "resourceType": "Consent",
            "id": resource_id("pathway", p.ref, "consent", str(n)),
            "extension": [
                _extension("information-leaflet", valueString=row["information_leaflet"]),
                _extension("uncertainties-discussed", valueBoolean=row["uncertainties_discussed"]),
            ],
            "status": "active",
            "scope": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment"}]
            },
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}], "text": "Patient consent"}],
            "patient": _ref(subject),
            "dateTime": row["consented_on"].isoformat(),
            "policy": [{"uri": "https://www.nice.org.uk/guidance/htg516"}],
            "provision": {
                "type": "permit",
                "code": [{"coding": [{"system": CPT_SYSTEM, "code": cpt}], "text": decision}] if cpt else [],
            },
        }
        for n, row in enumerate(sorted(detail.rows.consents, key=lambda r: (r["consented_on"], r["id"])))
    ]


def _courses(detail: PathwayDetail) -> list[dict[str, Any]]:
    """Anticoagulation courses in recorded order: a start while running is a switch of agent."""
    courses: list[dict[str, Any]] = []
    running: dict[str, Any] | None = None
    for event in detail.rows.anticoagulation:
        if event["kind"] == "start":
            if running is not None:
                running |= {"end": event["event_on"], "status": "stopped", "reason": f"switched to {event['agent']}"}
            running = {"agent": event["agent"], "start": event["event_on"], "status": "active"}
            courses.append(running)
        elif running is not None:
            reason = event["stop_reason"]
            running |= {"end": event["event_on"], "status": STOP_STATUS.get(reason, "stopped"), "reason": reason}
            if reason == "procedure_hold":  # R15: the haematology-approved plan to restart
                running |= {"restart": event.get("restart_planned_on"), "approved_by": event.get("plan_approved_by")}
            running = None
    return courses


def _medications(detail: PathwayDetail, subject: Resource, condition: Resource) -> list[Resource]:
    ref = detail.pathway.ref
    return [
        {
            "resourceType": "MedicationStatement",
            "id": resource_id("pathway", ref, "medication", str(n)),
            "extension": [
                _extension("restart-planned-on", valueDate=_iso(course.get("restart"))),
                _extension("hold-plan-approved-by", valueString=course.get("approved_by")),
            ],
            "status": course["status"],
            "statusReason": [_text(course["reason"])] if course.get("reason") else [],
            "medicationCodeableConcept": _text(course["agent"].replace("_", " ")),
            "subject": _ref(subject),
            "effectivePeriod": {"start": course["start"].isoformat(), "end": _iso(course.get("end"))},
            "reasonReference": [_ref(condition)],
            "note": [{"text": _hold_words(course)}] if course.get("reason") == "procedure_hold" else [],
        }
        for n, course in enumerate(_courses(detail))
    ]


def _hold_words(course: dict[str, Any]) -> str:
    restart, approved = course.get("restart"), course.get("approved_by")
    planned = f"restart planned on {restart.isoformat()}" if restart else "no restart date recorded"
    return f"Periprocedural hold: {planned}" + (f", plan approved by {approved}" if approved else "")


def _safety_checks(detail: PathwayDetail, subject: Resource) -> list[Resource]:
    """Each safety check: its laboratory values (LOINC, UCUM) and the contraindications it lists."""
    ref, found = detail.pathway.ref, []
    lists = detail.active_policy.contraindications
    for n, row in enumerate(detail.rows.safety_checks):
        common = {
            "resourceType": "Observation",
            "status": "final",
            "subject": _ref(subject),
            "effectiveDateTime": row["checked_on"].isoformat(),
        }
        lab = [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ]
        for field, loinc, display, unit in SAFETY_LABS:
            found.append(
                common
                | {
                    "id": resource_id("pathway", ref, "safety-check", str(n), field),
                    "category": lab,
                    "code": {"coding": [{"system": LOINC_SYSTEM, "code": loinc, "display": display}], "text": display},
                    "valueQuantity": {"value": row[field], "unit": unit, "system": UCUM_SYSTEM, "code": unit},
                }
            )
        listed = [
            {
                "code": _local("fibrinolysis-contraindication", code, lists.words(code)),
                "valueCodeableConcept": _local(
                    "contraindication-class", "absolute" if code in lists.absolute else "relative"
                ),
            }
            for code in row["contraindications"] or []
        ]
        found.append(
            common
            | {
                "id": resource_id("pathway", ref, "safety-check", str(n), "contraindications"),
                "code": _local("safety-check", "fibrinolysis-contraindications", "Contraindications to fibrinolysis"),
                "valueString": f"{len(listed)} listed" if listed else "none listed",
                "component": listed,
                "note": [{"text": f"pregnancy test: {row['pregnancy_test']}"}] if row.get("pregnancy_test") else [],
            }
        )
    return found


def _villalta(
    ref: str, key: str, subject: Resource, condition: Resource, seen_on: date, total: int, row: dict[str, Any]
) -> Resource:
    components: list[dict[str, Any]] = []
    if row.get("pts_category"):
        components.append({"code": _text("PTS category"), "valueCodeableConcept": _local("pts", row["pts_category"])})
    if row.get("pts_reading"):
        components.append({"code": _text("PTS reading"), "valueString": row["pts_reading"]})
    if row.get("villalta_ulcer") is not None:
        components.append({"code": _text("venous ulcer"), "valueBoolean": row["villalta_ulcer"]})
    for item, score in zip(VILLALTA_ITEMS, row.get("villalta_items") or [], strict=False):
        components.append({"code": _local("villalta-item", item), "valueInteger": score})
    return {
        "resourceType": "Observation",
        "id": resource_id("pathway", ref, "villalta", key),
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}
        ],
        "code": _local("score", "villalta", "Villalta post-thrombotic syndrome score"),
        "subject": _ref(subject),
        "focus": [_ref(condition)],
        "effectiveDateTime": seen_on.isoformat(),
        "valueInteger": total,
        "note": [{"text": f"visit {key}"}],
        "component": components,
    }


def _observations(detail: PathwayDetail, subject: Resource, condition: Resource) -> list[Resource]:
    """Villalta scores with their PTS category as the timing rule reads it (none in the acute phase)."""
    p = detail.pathway
    found = []
    if p.baseline_villalta is not None:
        found.append(_villalta(p.ref, "baseline", subject, condition, p.presented_on, p.baseline_villalta, {}))
    readings = {(r.score.visit, r.score.seen_on): r for r in detail.pts.readings}
    for row in sorted(detail.rows.follow_ups, key=lambda r: r["seen_on"]):
        if row.get("villalta_total") is not None:
            reading = readings.get((row["visit"], row["seen_on"]))
            read = {"pts_category": reading.category, "pts_reading": reading.words} if reading else {}
            found.append(
                _villalta(p.ref, row["visit"], subject, condition, row["seen_on"], row["villalta_total"], row | read)
            )
    return found


def _flags(detail: PathwayDetail, subject: Resource) -> list[Resource]:
    return [
        {
            "resourceType": "Flag",
            "id": resource_id("pathway", detail.pathway.ref, "flag", flag.code),
            "extension": [
                _extension("flag-severity", valueCode=flag.severity.value),
                _extension("flag-due", valueDate=flag.due_on.isoformat()),
            ],
            "status": "active",
            "category": [_local("flag-severity", flag.severity.value)],
            "code": _local("flag", flag.code, FLAG_BY_CODE[flag.code].words),
            "subject": _ref(subject),
        }
        for flag in detail.flags
    ]


def bundle_from_detail(detail: PathwayDetail) -> Bundle:
    """The Bundle for one pathway's record; flags are those standing at the detail's as-of date."""
    subject = _patient(detail)
    condition = _condition(detail, subject)
    plan_id = resource_id("pathway", detail.pathway.ref, "careplan")
    tasks = _tasks(detail, subject, condition, plan_id)
    resources = [
        subject,
        condition,
        _episode(detail, subject, condition),
        _care_plan(detail, subject, condition, tasks),
        *tasks,
        *_procedures(detail, subject, condition),
        *_consents(detail, subject),
        *_medications(detail, subject, condition),
        *_observations(detail, subject, condition),
        *_safety_checks(detail, subject),
        *_flags(detail, subject),
    ]
    data = {
        "resourceType": "Bundle",
        "id": resource_id("pathway", detail.pathway.ref, "bundle"),
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": _prune(r)} for r in resources],
    }
    return Bundle.model_validate(data)


def export_pathway(session: Session, ref: str, as_of: date) -> Bundle:
    """Read one pathway (NotFound if the reference is unknown) and build its Bundle at `as_of`."""
    return bundle_from_detail(queries.pathway_detail(session, ref, as_of))


def bundle_json(bundle: Bundle) -> str:
    return bundle.model_dump_json(indent=2)
