"""The local stack and the scale-out topology on one machine: a real Prefect server, the serving
process, then a process work pool with one worker that runs the reminder deployment (docs/deploy.md)."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from flows.local_stack import stack_environment, start_local_stack, stop_local_stack, wait_for_health
from flows.serve import deploy_to_work_pool
from pathway.domain.clock import LONDON
from pathway.store.db import SessionFactory, make_engine, make_session_factory, migrate
from pathway.store.reminder_models import Notification
from tests.support.mailbox import free_port
from tests.support.reminders import awaiting_mdt
from tests.support.sites import list_sites

pytestmark = [pytest.mark.prefect, pytest.mark.slow]
POOL = "dvt-process-pool"


@dataclass
class Stack:
    home: Path
    port: int
    factory: SessionFactory
    processes: list[subprocess.Popen[bytes]]

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("stack")
    url = f"sqlite:///{home / 'pathway.db'}"
    engine = make_engine(url)
    migrate(engine)
    factory = make_session_factory(engine)
    list_sites(factory)
    awaiting_mdt(factory)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATHWAY_DATABASE_URL", url)  # the stack's processes inherit it
        port = free_port()
        processes = start_local_stack(home, port, timeout=180)
        try:
            yield Stack(home, port, factory, processes)
        finally:
            stop_local_stack(processes)


async def _deployments() -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.sorting import DeploymentSort

    async with get_client() as client:
        found: list[Any] = await client.read_deployments(limit=20, offset=0, sort=DeploymentSort.NAME_ASC)
        return found


def _served(stack: Stack, expected: int, timeout: float = 180) -> dict[str, Any]:
    """The deployments on the server, once the serving process has registered them (polled, bounded)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        found = asyncio.run(_deployments())
        if len(found) >= expected:
            return {d.name: d for d in found}
        assert stack.processes[1].poll() is None, (stack.home / "prefect" / "serve.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "the serving process did not register its deployments in time"
        time.sleep(0.5)


async def _scheduled_runs(deployment_id: Any) -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        runs: list[Any] = await client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=5,
            offset=0,
        )
        return runs


def _poll(read: Any, timeout: float = 120) -> Any:
    import time

    deadline = time.monotonic() + timeout
    while not (found := asyncio.run(read())) and time.monotonic() < deadline:
        time.sleep(0.5)
    return found


def test_local_stack_serves_every_deployment_with_its_schedule_and_keeps_it_on_shutdown(stack: Stack) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    assert wait_for_health(stack.port, stack.processes[0], timeout=5) < 5
    with temporary_settings(updates={PREFECT_API_URL: stack.api}):
        served = _served(stack, 4)
        schedules = {
            name: [(s.schedule.cron, s.schedule.timezone, s.active) for s in d.schedules if hasattr(s.schedule, "cron")]
            for name, d in served.items()
        }
        assert schedules["daily"] == [("0 7 * * *", "Europe/London", True)]
        assert schedules["weekly"] == [("0 7 * * 1", "Europe/London", True)]
        assert set(served) == {"daily", "weekly", "patient-pathway", "on-call"}
        # The server's scheduler turns the cron into runs at 07:00 London time (none with SQLAlchemy 2.1).
        runs = _poll(lambda: _scheduled_runs(served["daily"].id))
        assert runs and {r.expected_start_time.astimezone(LONDON).strftime("%H:%M") for r in runs} == {"07:00"}
        stop_local_stack(stack.processes[1:])  # the serving process, as a restart would
        after = {d.name: d for d in asyncio.run(_deployments())}
    assert not after["daily"].paused and all(s.active for s in after["daily"].schedules)


def test_worker_on_a_process_pool_runs_the_reminder_deployment(stack: Stack) -> None:
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    stop_local_stack(stack.processes[1:])
    env = stack_environment(stack.home, stack.port) | {"PATHWAY_DATABASE_URL": os.environ["PATHWAY_DATABASE_URL"]}
    worker: subprocess.Popen[bytes] | None = None
    with temporary_settings(updates={PREFECT_API_URL: stack.api}):

        async def create_pool() -> None:
            async with get_client() as client:
                await client.create_work_pool(WorkPoolCreate(name=POOL, type="process"), overwrite=True)

        asyncio.run(create_pool())
        deploy_to_work_pool(POOL, entrypoints=["flows/reminder_sweep.py:reminder_sweep"])
        with (stack.home / "worker.log").open("ab") as log:
            command = [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--limit", "1"]
            worker = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            flow_run = run_deployment(
                "reminder-sweep/daily", parameters={"as_of": "2026-06-05"}, timeout=300, poll_interval=1
            )
        finally:
            stop_local_stack([worker])
    assert flow_run.state is not None and flow_run.state.is_completed(), (stack.home / "worker.log").read_text()[-3000:]
    assert flow_run.work_pool_name == POOL
    assert flow_run.infrastructure_pid is not None and flow_run.infrastructure_pid != os.getpid()
    with stack.factory() as session:
        sent = session.exec(select(Notification)).all()
    assert [(n.code, n.status) for n in sent] == [("MDT_OVERDUE", "sent")]
    assert "MDT_OVERDUE" in (stack.home / "outbox.jsonl").read_text()
