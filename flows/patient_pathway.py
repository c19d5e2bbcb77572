"""`patient-pathway` flow: one task per stage of the single stage declaration, in pathway order.

Each task evaluates its stage from the record through pathway.domain.rules and does that stage's automation
(pathway.reminders.automation): after a procedural MDT decision the consenting clinician is told and the
information leaflet attached; after the procedure the follow-up bookings and the registry entry are
requested. The database is the source of truth: a run only reads it and sends what is not yet sent, so
it is safe to run again at any time (events arrive at least once: a repeated run sends nothing new).
Parameters are the pathway reference and a date, nothing else.

The record is read and planned once per run (the `load-record` task); every stage task evaluates that
plan. Both retry a transient database failure (unreachable, busy, deadlock: `pathway.transient`) up to
RETRIES times with a growing delay; any other failure fails the run at once.
"""

from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Any

from prefect import Task, flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.futures import PrefectFuture

from flows import runtime
from pathway import STAGES, transient
from pathway.reminders.automation import PlannedPathway, load_plan, run_stage

RETRIES = 3
RETRY_DELAYS: list[float] = [1.0, 4.0, 10.0]  # seconds


def transient_failure(_task: Task[Any, Any], _run: TaskRun, state: State[Any]) -> bool:
    """Retry only what another try may cure: a transient database error."""
    try:
        state.result()
    except Exception as error:
        return transient(error)
    return False


def retrying(name: str, run_name: str | None = None) -> Callable[[Callable[..., Any]], Task[..., Any]]:
    """A task that never caches (a stage is read afresh on every run) and retries transient failures."""
    return task(
        name=name,
        task_run_name=run_name,
        cache_policy=NO_CACHE,
        retries=RETRIES,
        retry_delay_seconds=RETRY_DELAYS,
        retry_condition_fn=transient_failure,
    )


@retrying("load-record")
def load_record(ref: str, as_of: date) -> PlannedPathway:
    return load_plan(runtime.session_factory(), ref, as_of)


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


STAGE_TASKS = {stage.code: retrying(f"stage-{stage.code}", stage.code)(evaluate_stage) for stage in STAGES}


@flow(name="patient-pathway", flow_run_name="pathway-{ref}")
def patient_pathway(ref: str, as_of: date | None = None) -> list[dict[str, Any]]:
    """Walk the pathway's stages in order; the run's task graph in the Prefect UI is the patient's pathway."""
    day = as_of or runtime.london_today()
    # The record is read and planned once per run; every stage task evaluates that one plan.
    planned = load_record(ref, day)
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
