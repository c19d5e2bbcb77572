"""One entry point serving every deployment with its schedule: `python -m flows.serve` or `pathway flows serve`.

Schedules are cron in Europe/London, so 07:00 stays 07:00 on both sides of the clock changes.
`pause_on_shutdown=False`: stopping the serving process (a restart, a deploy) must not pause the
schedules. The `patient-pathway` deployment has no schedule: a deployment trigger starts it on each
`pathway.command.recorded` event (flows/triggers.py relays them from the outbox), with the pathway
reference from the event. The reminder sweep runs one at a time (deployment concurrency limit 1: a
second run waits for the first). Importing this module starts nothing and loads no Prefect (the CLI
imports it).
"""

import importlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

TIMEZONE = "Europe/London"
REMINDER_CRON = "0 7 * * *"  # daily, before the morning MDT and clinics
DIGEST_CRON = "0 7 * * 1"  # Mondays
ROOT = Path(__file__).resolve().parents[1]
ALERT_DEPLOYMENT = "on-call-alert/on-call"


@dataclass(frozen=True)
class Spec:
    entrypoint: str  # file:function
    name: str  # the deployment's name
    cron: str | None = None  # None: on demand (or on an event) only
    concurrency_limit: int | None = None
    on_command_event: bool = False  # started by each pathway.command.recorded event


DEPLOYMENTS: tuple[Spec, ...] = (
    Spec("flows/patient_pathway.py:patient_pathway", "patient-pathway", on_command_event=True),
    Spec("flows/reminder_sweep.py:reminder_sweep", "daily", REMINDER_CRON, concurrency_limit=1),
    Spec("flows/governance_digest.py:governance_digest", "weekly", DIGEST_CRON),
    Spec("flows/alerts.py:on_call_alert", "on-call"),
)


def _schedules(spec: Spec) -> list[Any]:
    from prefect.schedules import Cron

    return [] if spec.cron is None else [Cron(spec.cron, timezone=TIMEZONE)]


def _triggers(spec: Spec) -> list[Any]:
    from prefect.events import DeploymentEventTrigger

    from flows.triggers import EVENT, REF_LABEL, RESOURCE_PREFIX

    if not spec.on_command_event:
        return []
    return [
        DeploymentEventTrigger(
            name="pathway command recorded",
            expect={EVENT},
            match={"prefect.resource.id": f"{RESOURCE_PREFIX}*"},
            parameters={"ref": f"{{{{ event.resource['{REF_LABEL}'] }}}}"},
        )
    ]


def _options(spec: Spec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "schedules": _schedules(spec),
        "triggers": _triggers(spec),
        "concurrency_limit": spec.concurrency_limit,
    }


def _flow(entrypoint: str) -> Any:
    path, name = entrypoint.split(":")
    return getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), name)


def deployments() -> list[Any]:
    """The served deployments (RunnerDeployment objects), one per flow."""
    return [_flow(spec.entrypoint).to_deployment(**_options(spec)) for spec in DEPLOYMENTS]


def serve_all() -> None:
    """Serve every deployment from this process until interrupted, with the automations in place and
    the outbox relayed every few seconds from a thread of this process."""
    from prefect import serve

    from flows.automations import ensure_automations
    from flows.triggers import relay_until

    served = deployments()
    alert = next(d for d in served if d.name == "on-call")
    ensure_automations(alert.apply())  # served deployments keep the id of their name
    stop = threading.Event()
    relay = threading.Thread(target=relay_until, args=(stop,), name="outbox-relay", daemon=True)
    relay.start()
    try:
        serve(*served, pause_on_shutdown=False)
    finally:
        stop.set()


def wait_for_server(timeout: float = 120.0) -> None:
    """Wait (bounded) for PREFECT_API_URL's server to answer: `prefect server start --background`
    returns before its server listens."""
    import time

    from flows.triggers import prefect_server_answers

    deadline = time.monotonic() + timeout
    while not prefect_server_answers():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no Prefect server answered at PREFECT_API_URL within {timeout:.0f} s")
        time.sleep(0.5)


def ensure_pool(pool: str, limit: int | None) -> None:
    """The process work pool, created if missing; its concurrency limit (runs at once over all its
    workers) set to `limit` when given."""
    import asyncio

    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectAlreadyExists

    async def apply() -> None:
        async with get_client() as client:
            try:
                await client.create_work_pool(WorkPoolCreate(name=pool, type="process", concurrency_limit=limit))
            except ObjectAlreadyExists:
                if limit is not None:
                    await client.update_work_pool(pool, WorkPoolUpdate(concurrency_limit=limit))

    asyncio.run(apply())


def deploy_to_work_pool(pool: str, *, source: Path = ROOT, entrypoints: Iterable[str] | None = None) -> list[UUID]:
    """Register deployments on a work pool, for workers on other machines (docs/deploy.md), and the
    automations (when the alert deployment is among them).

    The source is this checkout's path: each worker machine needs the same checkout (and the same
    environment) at that path. `to_deployment(...).apply()` rather than `deploy()`: deploy()'s check for
    online workers is refused (422) by Prefect 3.8's server on FastAPI 0.151 and later.
    """
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment

    from flows.automations import ensure_automations

    wanted = set(entrypoints) if entrypoints is not None else None
    ids = []
    for spec in DEPLOYMENTS:
        if wanted is not None and spec.entrypoint not in wanted:
            continue
        source_flow = Flow.from_source(source=str(source), entrypoint=spec.entrypoint)
        assert isinstance(source_flow, Flow)  # sync call: the flow itself, not a coroutine
        deployment = source_flow.to_deployment(work_pool_name=pool, **_options(spec))
        assert isinstance(deployment, RunnerDeployment)
        applied = deployment.apply()
        assert isinstance(applied, UUID)
        ids.append(applied)
        if spec.name == "on-call":
            ensure_automations(applied)
    return ids


if __name__ == "__main__":
    serve_all()
