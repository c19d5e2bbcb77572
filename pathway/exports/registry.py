"""The registry file: one row per PMT case with the minimum data set of pathway-spec.md (d).

NICE HTG516 1.3 asks for every PMT patient to be entered in the BSIR Venous Registry, and 1.4 for
the selection criteria (clot site, symptom severity, age) to be reported. A case is a pathway whose
first PMT (technique `pmt` or `pmt_with_thrombolysis`) falls in the period; the row describes that
procedure. No name, NHS number, date of birth or hospital number leaves in the file: age only.

Every required item that is absent is named in the row's `missing` list; outcome items whose visit
is not yet due are named in `pending`; items that do not apply to the case (no stent, no filter, no
thrombolysis) in `not_applicable` and written `n/a` in the CSV. No cell is blank without a reason.
"""

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from pathway.domain import pts
from pathway.domain.clock import age_on
from pathway.domain.criteria import outside_guidance_scope, safety_check_failures, thrombolysis_criteria_failures
from pathway.domain.policy import Policy, policy_in_force
from pathway.domain.record import PathwayRecord, most_proximal
from pathway.domain.text import site_key
from pathway.domain.vocabulary import PMT_TECHNIQUES, Segment
from pathway.exports import csv_file
from pathway.store.models import Pathway, Patient, Procedure, Step
from pathway.store.repository import BATCH, RecordRows, Row, id_in, load_many_rows, record_from_rows, table_of

T = TypeVar("T")
# Exports of at least this many cases show a progress bar on a terminal console, when one is given.
PROGRESS_FROM = 50
FOLLOW_UP_VISITS = ("month6", "month12")
VISIT_ITEMS = ("seen_on", "villalta_total", "pts_category", "patency")
# Selection items held on the pathway row, and procedure items copied from the index PMT's row.
PATHWAY_SELECTION = [
    "provoked_status",
    "active_cancer",
    "prior_dvt",
    "baseline_villalta",
    "baseline_vcss",
    "functional_status",
    "life_expectancy_ge_1y",
    "bleeding_risk",
]
PROCEDURE_COLUMNS = [
    "device",
    "device_maker",
    "device_mechanism",
    "access_vein",
    "thrombolytic_agent",
    "lytic_dose_mg",
    "infusion_hours",
    "venoplasty",
    "stent",
    "stent_veins",
    "stent_count",
    "stent_model",
    "ivc_filter",
    "filter_model",
    "filter_indication",
    "filter_removal_planned_on",
    "clot_removal",
    "complications",
    "outside_criteria_rationale",
]
BLEEDING_ORDER = ("none", "minor", "crnm", "major")


@dataclass(frozen=True)
class PmtCase:
    """A pathway with a PMT, its rows and materialised steps, and the index (first) PMT."""

    pathway: Pathway
    patient: Patient
    rows: RecordRows
    steps: dict[str, date]  # step code: its due date (from the materialised plan)
    index: Row
    policy: Policy

    @cached_property
    def record(self) -> PathwayRecord:
        return record_from_rows(self.rows)

    @cached_property
    def pts(self) -> pts.PtsAssessment:
        return pts.assess(pts.scores_of(self.rows.follow_ups), self.pathway.presented_on, self.policy)

    @property
    def performed_on(self) -> date:
        performed: date = self.index["performed_on"]
        return performed

    def due_on(self, step: str) -> date | None:
        return self.steps.get(step)

    def visit(self, name: str) -> Row | None:
        return next((v for v in self.rows.follow_ups if v["visit"] == name), None)


def load_pmt_cases(
    session: Session,
    *,
    start: date | None = None,
    end: date | None = None,
    site: str | None = None,
    sites: Collection[str] | None,
    progress: Console | None = None,
    policy: Policy | None = None,
) -> list[PmtCase]:
    """PMT cases whose first PMT falls in [start, end] (either end open), by procedure date.

    `sites`: the reader's site keys (per-site access; None: every site), always given by the caller; a
    `site` outside them finds nothing, as a site with no PMT case would."""
    policy = policy or policy_in_force()
    techniques = [t.value for t in PMT_TECHNIQUES]
    first = (
        select(Procedure.pathway_id, func.min(Procedure.performed_on).label("first_pmt"))
        .where(col(Procedure.technique).in_(techniques))
        .group_by(col(Procedure.pathway_id))
        .subquery()
    )
    query = (
        select(Pathway, Patient)
        .join(first, first.c.pathway_id == col(Pathway.id))
        .join(Patient, col(Patient.id) == col(Pathway.patient_id))
    )
    if start is not None:
        query = query.where(first.c.first_pmt >= start)
    if end is not None:
        query = query.where(first.c.first_pmt <= end)
    if site is not None:
        query = query.where(Pathway.site_key == site_key(site))
    if sites is not None:
        query = query.where(col(Pathway.site_key).in_(sorted(sites)))
    found = session.exec(query.order_by(first.c.first_pmt, col(Pathway.ref))).all()
    ids = [p.id for p, _patient in found if p.id is not None]
    steps: dict[int, dict[str, date]] = {}
    step = table_of(Step)
    for first_id in range(0, len(ids), BATCH):  # in batches: PostgreSQL takes at most 65,535 parameters
        chunk = ids[first_id : first_id + BATCH]
        for pathway_id, code, due_on in session.execute(
            sa_select(step.c.pathway_id, step.c.code, step.c.due_on)
            .where(id_in(session, step.c.pathway_id, chunk))
            .order_by(step.c.id)
        ).all():
            steps.setdefault(pathway_id, {})[code] = due_on
    records = load_many_rows(session, [pathway for pathway, _patient in found])
    cases = []
    for pathway, patient in _tracked(found, "Reading PMT cases", progress):
        assert pathway.id is not None
        rows = records[pathway.id]
        index = min(
            (r for r in rows.procedures if r["technique"] in techniques), key=lambda r: (r["performed_on"], r["id"])
        )
        cases.append(PmtCase(pathway, patient, rows, steps.get(pathway.id, {}), index, policy))
    return cases


def _tracked(items: Sequence[T], description: str, console: Console | None) -> Iterable[T]:
    if console is None or not console.is_terminal or len(items) < PROGRESS_FROM:
        yield from items
        return
    with Progress(console=console, transient=True) as bar:
        yield from bar.track(items, description=description)


def mdt_roles(case: PmtCase) -> list[str]:
    """Roles present at the MDT in force (the latest meeting); names stay out of exports."""
    if not case.rows.mdts:
        return []
    latest = max(case.rows.mdts, key=lambda m: (m["held_on"], m["id"]))
    return sorted({a["role"] for a in latest["attendees"]})


def registry_status(case: PmtCase, as_of: date) -> str:
    if case.rows.registry:
        return "submitted"
    due = case.due_on("registry_submission")
    return "overdue" if due is not None and as_of > due else "due"


# --- the minimum data set ------------------------------------------------------------------------
# Each item names the condition under which it is required; `status` turns that into one of
# required, pending (not yet due), not_applicable or optional for a case on a date.

REQUIRED, PENDING, NOT_APPLICABLE, OPTIONAL = "required", "pending", "not_applicable", "optional"

SELECTION: dict[str, str] = {
    **dict.fromkeys(("age_at_presentation", "sex", "leg", "symptom_onset_on", "presented_on"), "always"),
    # Version 2: NG158's scope (R4) and the specialist plan a patient outside it needs.
    **dict.fromkeys(("pregnant", "outside_guidance_scope"), "always"),
    "outside_scope_plan": "outside_scope",
    **dict.fromkeys(("veins", "most_proximal_vein", "cfv_involved", "extent", "route"), "always"),
    **dict.fromkeys(PATHWAY_SELECTION, "always"),
    **dict.fromkeys(("mdt_held_on", "mdt_roles"), "always"),
}
PROCEDURE: dict[str, str] = {
    **dict.fromkeys(("procedure_on", "technique", "pmt_procedures"), "always"),
    **dict.fromkeys(("days_presentation_to_procedure", "days_onset_to_procedure"), "always"),
    **dict.fromkeys(("device", "device_maker", "device_mechanism", "access_vein"), "always"),
    **dict.fromkeys(("thrombolytic_agent", "lytic_dose_mg", "infusion_hours"), "thrombolysis"),
    **dict.fromkeys(("venoplasty", "stent"), "always"),
    **dict.fromkeys(("stent_veins", "stent_count", "stent_model"), "stent"),
    # Version 2: the pre-procedure safety check in force on the day (SIR 2019) and NG158's criteria.
    **dict.fromkeys(("safety_check_on", "platelets", "inr", "safety_check_failed"), "always"),
    "thrombolysis_criteria_met": "thrombolysis",
    "outside_criteria_rationale": "outside_criteria",
    "ivc_filter": "always",
    **dict.fromkeys(("filter_model", "filter_inserted_on", "filter_indication"), "filter"),
    "filter_removal_planned_on": "temporary_filter",
    **dict.fromkeys(("filter_outcome", "filter_outcome_on"), "filter_outcome"),
    **dict.fromkeys(("clot_removal", "complications"), "always"),
}
OUTCOMES: dict[str, str] = {
    **{f"{visit}_{item}": visit for visit in FOLLOW_UP_VISITS for item in VISIT_ITEMS},
    **dict.fromkeys(("recurrent_vte", "bleeding"), "any_visit"),
    "pts_status": "always",
    "died": "always",
    "died_on": "died",
    "pathway_status": "always",
    "close_reason": "closed",
    "registry_status": "always",
    **dict.fromkeys(("registry_submitted_on", "registry_ref"), "optional"),  # registry_status says why
}
ITEMS: dict[str, str] = {"pathway": "always", "site": "always", **SELECTION, **PROCEDURE, **OUTCOMES}
COLUMNS: tuple[str, ...] = (*ITEMS, "missing", "pending", "not_applicable")
CONDITIONS = frozenset(ITEMS.values())


def _visit_status(case: PmtCase, visit: str, as_of: date) -> str:
    """A follow-up visit is required once its window has ended, unless the pathway closed first."""
    if case.visit(visit) is not None:
        return REQUIRED
    due = case.due_on(f"follow_up_{visit}")
    closed = case.pathway.closed_on
    if due is None or (closed is not None and closed <= due):
        return NOT_APPLICABLE
    return REQUIRED if as_of > due else PENDING


def status(condition: str, case: PmtCase, as_of: date) -> str:
    x = case.index
    match condition:
        case "always":
            return REQUIRED
        case "optional":
            return OPTIONAL
        case "thrombolysis":
            applies = x["technique"] == "pmt_with_thrombolysis"
        case "stent":
            applies = bool(x["stent"])
        case "filter":
            applies = x["ivc_filter"] != "none"
        case "temporary_filter":
            applies = x["ivc_filter"] == "temporary"
        case "outside_scope":
            applies = bool(outside_guidance_scope(case.record, case.policy))
        case "outside_criteria":
            applies = x["technique"] == "pmt_with_thrombolysis" and not _criteria_met(case)
        case "died":
            applies = case.pathway.close_reason == "died"
        case "closed":
            applies = case.pathway.closed_on is not None
        case "filter_outcome":
            # A temporary filter needs a retrieval decision once its window (FDA: day 29-54) has passed.
            if x["ivc_filter"] != "temporary":
                return OPTIONAL if x["ivc_filter"] == "permanent" else NOT_APPLICABLE
            due = case.due_on("filter_retrieval")
            return REQUIRED if case.rows.filter_outcomes or (due and as_of > due) else PENDING
        case "any_visit":
            # Recurrence and bleeding are asked at every visit: required once any visit is in or overdue.
            statuses = {_visit_status(case, v, as_of) for v in FOLLOW_UP_VISITS}
            if case.rows.follow_ups or REQUIRED in statuses:
                return REQUIRED
            return PENDING if PENDING in statuses else NOT_APPLICABLE
        case _:
            return _visit_status(case, condition, as_of)
    return REQUIRED if applies else NOT_APPLICABLE


def _criteria_met(case: PmtCase) -> bool:
    return not thrombolysis_criteria_failures(case.record, case.performed_on, case.policy)


def _safety_check(case: PmtCase) -> tuple[Row, list[str]] | None:
    """The safety check in force on the procedure day (the latest on or before it) and its failures."""
    record = case.record
    latest = record.latest_safety_check(case.performed_on)
    if latest is None:
        return None
    row = [r for r in case.rows.safety_checks if r["checked_on"] == latest.checked_on][-1]
    return row, safety_check_failures(latest, record.thrombolysis_planned, case.policy)


def _worst(values: list[str | None], order: tuple[str, ...]) -> str | None:
    known = [v for v in values if v is not None]
    return max(known, key=order.index) if known else None


def _recurrence(values: list[str | None]) -> str | None:
    known = {v for v in values if v is not None}
    if not known:
        return None
    events = sorted(known - {"none"})
    return ";".join(events) if events else "none"


def _values(case: PmtCase, as_of: date) -> dict[str, Any]:
    p, x, patient = case.pathway, case.index, case.patient
    veins = [Segment(v) for v in p.veins]
    performed = case.performed_on
    visits = {v: case.visit(v) or {} for v in FOLLOW_UP_VISITS}
    follow_ups = case.rows.follow_ups
    outcome = case.rows.filter_outcomes[0] if case.rows.filter_outcomes else {}
    registry = case.rows.registry[0] if case.rows.registry else {}
    mdt_days = [m["held_on"] for m in case.rows.mdts]
    record = case.record
    checked = _safety_check(case)
    check, check_failures = checked if checked else ({}, [])
    categories = {(r.score.visit, r.score.seen_on): r.category for r in case.pts.readings}
    thrombolysis = x["technique"] == "pmt_with_thrombolysis"
    values: dict[str, Any] = {
        "pathway": p.ref,
        "site": p.site,
        "age_at_presentation": age_on(patient.date_of_birth, p.presented_on),
        "sex": patient.sex,
        "leg": p.leg,
        "symptom_onset_on": p.symptom_onset_on,
        "presented_on": p.presented_on,
        "veins": [v.value for v in veins],
        "most_proximal_vein": most_proximal(tuple(veins)).value,
        # From the veins recorded (an isolated internal iliac clot does not involve the common femoral).
        "cfv_involved": Segment.common_femoral in veins,
        "pregnant": record.pregnant,
        "outside_guidance_scope": bool(outside_guidance_scope(record, case.policy)),
        "outside_scope_plan": record.outside_scope_plan,
        "extent": p.extent,
        "route": p.route,
        **{k: getattr(p, k) for k in PATHWAY_SELECTION},
        "mdt_held_on": max(mdt_days) if mdt_days else None,
        "mdt_roles": mdt_roles(case) or None,
        "procedure_on": performed,
        "technique": x["technique"],
        "pmt_procedures": sum(r["technique"] in PMT_TECHNIQUES for r in case.rows.procedures),
        "days_presentation_to_procedure": (performed - p.presented_on).days,
        "days_onset_to_procedure": (performed - p.symptom_onset_on).days,
        **{k: x.get(k) for k in PROCEDURE_COLUMNS},
        "safety_check_on": check.get("checked_on"),
        "platelets": check.get("platelets"),
        "inr": check.get("inr"),
        "safety_check_failed": bool(check_failures) if checked else None,
        "thrombolysis_criteria_met": _criteria_met(case) if thrombolysis else None,
        "filter_inserted_on": performed if x["ivc_filter"] != "none" else None,
        "filter_outcome": outcome.get("outcome"),
        "filter_outcome_on": outcome.get("decided_on"),
        **{f"{visit}_{item}": row.get(item) for visit, row in visits.items() for item in VISIT_ITEMS},
        # The PTS category as the timing rule reads it (pathway.domain.pts): none in the acute phase.
        **{
            f"{visit}_pts_category": categories.get((visit, row["seen_on"])) if row else None
            for visit, row in visits.items()
        },
        "pts_status": case.pts.status,
        "recurrent_vte": _recurrence([v.get("recurrent_vte") for v in follow_ups]),
        "bleeding": _worst([v.get("bleeding") for v in follow_ups], BLEEDING_ORDER),
        "died": p.close_reason == "died",
        "died_on": p.closed_on if p.close_reason == "died" else None,
        "pathway_status": "closed" if p.closed_on else "open",
        "close_reason": p.close_reason,
        "registry_status": registry_status(case, as_of),
        "registry_submitted_on": registry.get("submitted_on"),
        "registry_ref": registry.get("registry_ref"),
    }
    return values


def registry_row(case: PmtCase, as_of: date) -> dict[str, Any]:
    """One case as plain values (dates as ISO strings) with its missing, pending and n/a items."""
    values = _values(case, as_of)
    row: dict[str, Any] = {}
    missing, pending, not_applicable = [], [], []
    needs = {condition: status(condition, case, as_of) for condition in CONDITIONS}  # 15 conditions, 75 items
    for item, condition in ITEMS.items():
        value = values.get(item)
        needed = needs[condition]
        if needed == NOT_APPLICABLE and value in (None, []):
            not_applicable.append(item)
        elif value is None or (value == [] and item != "complications"):  # no complications is an answer
            if needed == REQUIRED:
                missing.append(item)
            elif needed == PENDING:
                pending.append(item)
        row[item] = value.isoformat() if isinstance(value, date) else value
    return row | {"missing": missing, "pending": pending, "not_applicable": not_applicable}


def registry_rows(cases: list[PmtCase], as_of: date) -> list[dict[str, Any]]:
    return [registry_row(case, as_of) for case in cases]


def write_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] = COLUMNS) -> str:
    """CSV text (pathway.exports.csv_file: formula-safe); items that do not apply read `n/a`, empty
    lists (no complications) read `none`."""

    def shown(row: dict[str, Any]) -> dict[str, Any]:
        skipped = set(row.get("not_applicable") or ())
        return {c: "n/a" if c in skipped else ("none" if row.get(c) == [] else row.get(c)) for c in columns}

    return csv_file.write_csv((shown(row) for row in rows), columns)


def write_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def registry_export(
    session: Session,
    as_of: date,
    *,
    start: date | None = None,
    end: date | None = None,
    site: str | None = None,
    sites: Collection[str] | None,
    progress: Console | None = None,
) -> list[dict[str, Any]]:
    """The registry rows for PMT cases in [start, end], judged complete or not as of `as_of` (`sites`: the
    reader's, see load_pmt_cases)."""
    cases = load_pmt_cases(session, start=start, end=end, site=site, sites=sites, progress=progress)
    return registry_rows(cases, as_of)
