"""`patient-pathway` flow: one task per stage of the single stage declaration, in pathway order.

Each task evaluates its stage from the record through pathway.domain.rules and does that stage's automation
(pathway.reminders.automation): after a procedural MDT decision the consenting clinician is told and the
information leaflet attached; after the procedure the follow-up bookings and the registry entry are
requested. The database is the source of truth: a run only reads it and sends what is not yet sent, so
it is safe to run again at any time. Parameters are the pathway reference and a date, nothing else.
"""

from dataclasses import asdict
from datetime import date
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture

from flows import runtime
from pathway import STAGES
from pathway.reminders.automation import PlannedPathway, load_plan, run_stage


def evaluate_stage(planned: PlannedPathway, stage: str) -> dict[str, Any]:
    """Evaluate one stage of the run's planned pathway and send the requests it makes (each once)."""
    report = run_stage(
        runtime.session_factory(),
        planned,
        stage,
        as_of=planned.as_of,
        settings=runtime.reminder_settings(),
        clock=runtime.utc_now,
    )
    return asdict(report)


# NO_CACHE: a stage must be read afresh on every run (the record changes; inputs alone say nothing).
STAGE_TASKS = {
    stage.code: task(name=f"stage-{stage.code}", task_run_name=stage.code, cache_policy=NO_CACHE)(evaluate_stage)
    for stage in STAGES
}


@flow(name="patient-pathway", flow_run_name="pathway-{ref}")
def patient_pathway(ref: str, as_of: date | None = None) -> list[dict[str, Any]]:
    """Walk the pathway's stages in order; the run's task graph in the Prefect UI is the patient's pathway."""
    day = as_of or runtime.london_today()
    # The record is read and planned once per run; every stage task evaluates that one plan.
    planned = load_plan(runtime.session_factory(), ref, day)
    previous: PrefectFuture[dict[str, Any]] | None = None
    futures = []
    for stage in STAGES:
        # wait_for draws the stages as a chain in the UI and keeps them in pathway order.
        previous = STAGE_TASKS[stage.code].submit(
            planned, stage.code, wait_for=[previous] if previous else [], return_state=False
        )
        futures.append(previous)
    reports = [future.result() for future in futures]
    requested = [code for report in reports for code in report["requested"]]
    get_run_logger().info("pathway %s evaluated at %s; requests sent: %s", ref, day, requested or "none")
    return reports
