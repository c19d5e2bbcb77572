"""Scale-out on one machine, as docs/deploy.md sets it up on several: a Prefect server on PostgreSQL, a
process work pool with a concurrency limit, three workers, the deployments and automations registered
by `pathway flows deploy`, and the application database on PostgreSQL.

- Commands recorded on many pathways become outbox rows, relayed as events; the deployment trigger
  starts one patient-pathway run per pathway, and each run is executed exactly once, by one worker
  (the workers' own logs say which), spread over all three.
- Two reminder sweeps started together never overlap (the deployment's concurrency limit of 1).
- The automations fire against this real server: a failed flow run, and a sweep that started and did
  not complete within the (test-short) window, each put an alert in the on-call outbox.

PATHWAY_SCALE_OUT_PATHWAYS sets how many pathways (default 12). Each run is a new Python process on a
worker: 30 pathways took 200 s here (about 6.7 s per run over 6 slots on a shared 2-core machine), so
the issue's 2,000 would take hours; set the variable to 2000 on a machine that has them (docs/deploy.md).
Needs PATHWAY_TEST_POSTGRES_URL: a SQLite-backed Prefect server locks under such a burst.
"""

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy.engine import make_url

from flows.local_stack import stack_environment, stop_local_stack, wait_for_health
from flows.serve import ROOT, deploy_to_work_pool
from flows.triggers import relay_outbox
from pathway.reminders.triggers import count_pending
from pathway.store.db import SessionFactory, make_engine, make_session_factory, migrate
from tests.conftest import POSTGRES_URL
from tests.support.databases import scratch_database
from tests.support.mailbox import free_port
from tests.support.reminders import awaiting_mdt
from tests.support.sites import list_sites

pytestmark = [
    pytest.mark.prefect,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES_URL,
        reason="scale-out needs PostgreSQL (PATHWAY_TEST_POSTGRES_URL): the Prefect server of a scale-out "
        "runs on PostgreSQL, a SQLite-backed one locks under a burst of runs",
    ),
]
POOL = "dvt-scale-out"
WORKERS = 3
WORKER_LIMIT = 2
POOL_LIMIT = WORKERS * WORKER_LIMIT
PATHWAYS = int(os.environ.get("PATHWAY_SCALE_OUT_PATHWAYS", "12"))
SUBMITTED = re.compile(r"Worker '[^']+' submitting flow run '([0-9a-f-]{36})'")
ABORTED = re.compile(r"Aborted submission of flow run '([0-9a-f-]{36})'")  # another worker had it first


@dataclass
class Cluster:
    home: Path
    api: str
    factory: SessionFactory
    server: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    deployments: dict[str, Any]

    def worker_log(self, index: int) -> str:
        return (self.home / f"worker-{index}.log").read_text()


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


async def _create_pool() -> None:
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    async with get_client() as client:
        await client.create_work_pool(
            WorkPoolCreate(name=POOL, type="process", concurrency_limit=POOL_LIMIT), overwrite=True
        )


async def _deployments_by_name() -> dict[str, Any]:
    from prefect import get_client
    from prefect.client.schemas.sorting import DeploymentSort

    async with get_client() as client:
        found = await client.read_deployments(limit=20, offset=0, sort=DeploymentSort.NAME_ASC)
        return {f"{d.name}": d for d in found}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = tmp_path_factory.mktemp("scale-out")
    prefect_db = scratch_database("test_h4_prefect")
    app_db = scratch_database("test_h4_app")
    prefect_url = make_url(next(prefect_db)).set(drivername="postgresql+asyncpg").render_as_string(False)
    app_url = next(app_db)
    engine = make_engine(app_url)
    migrate(engine)
    factory = make_session_factory(engine)
    list_sites(factory)  # the sites the commands record at, on the managed list
    port = free_port()
    env = stack_environment(home, port) | {
        "PATHWAY_DATABASE_URL": app_url,
        "PATHWAY_REMINDER_BACKOFF_SECONDS": "0",
        "PREFECT_API_DATABASE_CONNECTION_URL": prefect_url,
        "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": "2",  # 30 s by default
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_UI_ENABLED": "false",
    }
    server = _start(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env,
        home / "server.log",
    )
    workers: list[subprocess.Popen[bytes]] = []
    try:
        wait_for_health(port, server, timeout=180)
        with (
            temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}),
            pytest.MonkeyPatch.context() as patch,
        ):
            patch.setenv("PATHWAY_DATABASE_URL", app_url)
            patch.setenv("PATHWAY_HOME", str(home))
            asyncio.run(_create_pool())
            deploy_to_work_pool(POOL)  # every deployment, its trigger, and the automations
            command = [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL]
            for index in range(WORKERS):
                worker_command = [*command, "--limit", str(WORKER_LIMIT), "--name", f"worker-{index}"]
                workers.append(_start(worker_command, env, home / f"worker-{index}.log"))
            yield Cluster(home, env["PREFECT_API_URL"], factory, server, workers, asyncio.run(_deployments_by_name()))
    finally:
        stop_local_stack([server, *workers])
        engine.dispose()
        for database in (app_db, prefect_db):
            next(database, None)


async def _runs(deployment_id: Any) -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    found: list[Any] = []
    async with get_client() as client:
        while True:
            page = await client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
                sort=FlowRunSort.ID_DESC,
                limit=200,
                offset=len(found),
            )
            found += page
            if len(page) < 200:
                return found


def _until(done: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := done()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(1)
    return found


def _outbox(home: Path) -> list[dict[str, Any]]:
    path = home / "outbox.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_each_pathways_run_is_executed_exactly_once_spread_over_the_three_workers(cluster: Cluster) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    started = time.monotonic()
    for n in range(PATHWAYS):
        awaiting_mdt(cluster.factory, f"S{n}", n)  # three commands, two on the pathway (outbox rows)
    recorded = time.monotonic() - started
    with temporary_settings(updates={PREFECT_API_URL: cluster.api}):
        relayed = 0
        while sent := relay_outbox(cluster.factory):
            relayed += sent
        emitted = time.monotonic() - started - recorded
        assert relayed == PATHWAYS
        with cluster.factory() as session:
            assert count_pending(session) == 0
        deployment = cluster.deployments["patient-pathway"]

        def all_finished() -> list[Any] | None:
            runs = asyncio.run(_runs(deployment.id))
            finished = [r for r in runs if r.state is not None and r.state.is_final()]
            return runs if len(runs) >= PATHWAYS and len(finished) == len(runs) else None

        runs = _until(all_finished, 120 + 3 * PATHWAYS, "every pathway run finished")
    elapsed = time.monotonic() - started
    refs = Counter(r.parameters["ref"] for r in runs)
    assert refs == Counter({f"S{n}": 1 for n in range(PATHWAYS)})  # one run per pathway, no more
    assert {r.state.type.value for r in runs} == {"COMPLETED"}
    assert {r.run_count for r in runs} == {1}
    # What each worker started: the runs it submitted, less those the server refused it (taken already).
    logs = [cluster.worker_log(i) for i in range(WORKERS)]
    started_by = [Counter(SUBMITTED.findall(log)) - Counter(ABORTED.findall(log)) for log in logs]
    everywhere = sum(started_by, Counter())
    ids = {str(r.id) for r in runs}
    assert {run_id: everywhere[run_id] for run_id in ids} == dict.fromkeys(ids, 1), "a run started twice, or never"
    per_worker = [len(ids & set(counter)) for counter in started_by]
    assert all(per_worker), f"runs per worker: {per_worker}"
    aborted = sum(len(ABORTED.findall(log)) for log in logs)
    print(
        f"{PATHWAYS} pathways: commands {recorded:.1f} s, relay {emitted:.2f} s, all runs done {elapsed:.1f} s; "
        f"runs per worker {per_worker}; submissions refused by the server (taken by another worker) {aborted}"
    )


def test_two_reminder_sweeps_started_together_never_overlap(cluster: Cluster) -> None:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: cluster.api}):
        started = [
            run_deployment("reminder-sweep/daily", parameters={"as_of": "2026-06-05"}, timeout=0) for _ in range(2)
        ]
        deployment = cluster.deployments["daily"]

        def both_finished() -> list[Any] | None:
            runs = [r for r in asyncio.run(_runs(deployment.id)) if r.id in {s.id for s in started}]
            return runs if len(runs) == 2 and all(r.state.is_final() for r in runs) else None

        runs = _until(both_finished, 180, "both sweeps finished")
    assert {r.state.type.value for r in runs} == {"COMPLETED"}
    first, second = sorted(runs, key=lambda r: r.start_time)
    assert first.end_time <= second.start_time, "two sweeps ran at the same time"


def test_a_failed_flow_run_alerts_the_on_call_channel(cluster: Cluster) -> None:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: cluster.api}):
        failed = run_deployment("patient-pathway/patient-pathway", parameters={"ref": "NO-SUCH"}, timeout=180)
    assert failed.state is not None and failed.state.is_failed()
    alerts = _until(
        lambda: [a for a in _outbox(cluster.home) if a["code"] == "FLOW_RUN_FAILED"], 120, "the failure alert"
    )
    assert [(a["subject"], a["recipient_role"], a["channel"]) for a in alerts] == [
        ("pathway-NO-SUCH", "oncall", "outbox")
    ]


def test_a_sweep_that_has_not_completed_in_time_alerts_the_on_call_channel(cluster: Cluster) -> None:
    from prefect.events import Event
    from prefect.events.clients import get_events_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.automations import ensure_automations

    # A sweep run that started and then hangs: its Running event, and no Completed after it.
    run_id, flow_id = uuid4(), uuid4()
    running = Event(
        event="prefect.flow-run.Running",
        resource={"prefect.resource.id": f"prefect.flow-run.{run_id}", "prefect.resource.name": "sweep-hung"},
        related=[
            {"prefect.resource.id": f"prefect.flow.{flow_id}", "prefect.resource.role": "flow"}
            | {"prefect.resource.name": "reminder-sweep"}
        ],
    )

    async def send() -> None:
        # A client of this cluster's server, confirmed (emit_event's process-wide worker may still be
        # bound to a server an earlier test used: its event went there).
        async with get_events_client(checkpoint_every=1) as client:
            await client.emit(running)

    with temporary_settings(updates={PREFECT_API_URL: cluster.api}):
        # The same automations, the window shortened from 30 minutes to 10 s (upserted by name).
        ensure_automations(cluster.deployments["on-call"].id, sweep_within=timedelta(seconds=10))
        asyncio.run(send())
        alerts = _until(
            lambda: [a for a in _outbox(cluster.home) if a["code"] == "REMINDER_SWEEP_LATE"], 120, "the late alert"
        )
    assert ("reminder-sweep (started, not completed)", "oncall") in {
        (a["subject"], a["recipient_role"]) for a in alerts
    }
