"""The patient-pathway flow: a run per pathway named after it, one task per declared stage, in order."""

import asyncio
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from flows import runtime
from flows.patient_pathway import STAGE_TASKS, patient_pathway
from pathway.domain.stages import STAGES
from pathway.reminders.automation import load_plan
from pathway.store.db import SessionFactory
from tests.conftest import treated_pathway
from tests.support.reminders import outbox
from tests.support.statements import counting

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]
DAY = date(2026, 6, 15)


def test_one_task_per_declared_stage_in_pathway_order() -> None:
    assert list(STAGE_TASKS) == [stage.code for stage in STAGES]
    assert [t.name for t in STAGE_TASKS.values()] == [f"stage-{stage.code}" for stage in STAGES]


def test_stage_task_requests_the_registry_entry_once(flow_database: SessionFactory, tmp_path: Path) -> None:
    treated_pathway(flow_database)
    first = STAGE_TASKS["registry"].fn(load_plan(flow_database, "P1", DAY), "registry")
    again = STAGE_TASKS["registry"].fn(load_plan(flow_database, "P1", DAY), "registry")
    assert first["requested"] == ("REGISTRY_ENTRY_REQUESTED",) and again["requested"] == ()
    assert first["steps"][0]["step"] == "registry_submission" and first["steps"][0]["done_on"] is None
    assert [line["code"] for line in outbox(tmp_path)] == ["REGISTRY_ENTRY_REQUESTED"]


async def _run_and_tasks(flow_run_id: Any, expected: int) -> tuple[Any, list[Any]]:
    """The flow run and its task runs, once the server has them all completed (task states arrive as
    events, a moment after the flow returns): polled for at most 30 s."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import TaskRunSort

    deadline = time.monotonic() + 30
    async with get_client() as client:
        while True:
            task_runs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                sort=TaskRunSort.EXPECTED_START_TIME_ASC,
                limit=50,  # explicit: this server version rejects a null limit
            )
            done = [t for t in task_runs if t.state_type == StateType.COMPLETED]
            if len(done) == expected or time.monotonic() > deadline:
                return await client.read_flow_run(flow_run_id), task_runs
            await asyncio.sleep(0.2)


def test_flow_run_is_the_patients_pathway_and_a_rerun_sends_nothing_new(
    flow_database: SessionFactory, tmp_path: Path
) -> None:
    treated_pathway(flow_database)
    state = patient_pathway("P1", as_of=DAY, return_state=True)
    assert state.is_completed()
    reports = state.result()
    assert [r["stage"] for r in reports] == [stage.code for stage in STAGES]
    flow_run, task_runs = asyncio.run(_run_and_tasks(state.state_details.flow_run_id, len(STAGES) + 1))
    assert flow_run.name == "pathway-P1"
    assert flow_run.parameters == {"ref": "P1", "as_of": "2026-06-15"}
    in_order = [t.name for t in sorted(task_runs, key=lambda t: t.start_time)]
    assert in_order[0].startswith("load-record") and in_order[1:] == [stage.code for stage in STAGES]
    requested = sorted(line["code"] for line in outbox(tmp_path))
    assert requested == ["FOLLOW_UP_BOOKING_REQUESTED", "REGISTRY_ENTRY_REQUESTED"]
    with runtime.session_factory()() as session:
        engine = session.get_bind()  # the engine the flow's tasks use in this process (not Prefect's)
    assert isinstance(engine, Engine)
    with counting(engine) as statements:
        assert patient_pathway("P1", as_of=DAY, return_state=True).is_completed()
    assert sorted(line["code"] for line in outbox(tmp_path)) == requested
    # The rerun reads and plans the record once for its nine stages (13 statements, one per table).
    assert sum(1 for s in statements.sent if " FROM mdt_meeting " in s) == 1, statements.sent


def test_a_transient_database_error_is_retried_and_any_other_fails_the_run_at_once(
    flow_database: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from flows import patient_pathway as module

    treated_pathway(flow_database)
    calls: list[str] = []
    real = module.load_plan

    def flaky(factory: SessionFactory, ref: str, as_of: date) -> Any:
        calls.append(ref)
        if calls.count("P1") == 1 and ref == "P1":  # the first connection drops, as in a failover
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        return real(factory, ref, as_of)

    monkeypatch.setattr(module, "load_plan", flaky)
    fast = module.load_record.with_options(retry_delay_seconds=0)
    monkeypatch.setattr(module, "load_record", fast)
    assert patient_pathway("P1", as_of=DAY, return_state=True).is_completed()
    assert calls == ["P1", "P1"]
    calls.clear()
    failed = patient_pathway("NO-SUCH", as_of=DAY, return_state=True)
    assert failed.is_failed() and calls == ["NO-SUCH"]  # NotFound: not transient, so not tried again
