"""One entry point serving every deployment with its schedule: `python -m flows.serve` or `pathway flows serve`.

Schedules are cron in Europe/London, so 07:00 stays 07:00 on both sides of the clock changes.
`pause_on_shutdown=False`: stopping the serving process (a restart, a deploy) must not pause the
schedules. Importing this module starts nothing.
"""

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from uuid import UUID

TIMEZONE = "Europe/London"
REMINDER_CRON = "0 7 * * *"  # daily, before the morning MDT and clinics
DIGEST_CRON = "0 7 * * 1"  # Mondays
TRIGGER_INTERVAL_SECONDS = 60
ROOT = Path(__file__).resolve().parents[1]

# flow entrypoint (file:function), deployment name, schedule (None: run on demand only)
DEPLOYMENTS: tuple[tuple[str, str, tuple[str, Any] | None], ...] = (
    ("flows/patient_pathway.py:patient_pathway", "patient-pathway", None),
    ("flows/reminder_sweep.py:reminder_sweep", "daily", ("cron", REMINDER_CRON)),
    ("flows/governance_digest.py:governance_digest", "weekly", ("cron", DIGEST_CRON)),
    ("flows/triggers.py:flow_triggers", "every-minute", ("interval", TRIGGER_INTERVAL_SECONDS)),
)


def _schedules(schedule: tuple[str, Any] | None) -> list[Any]:
    from prefect.schedules import Cron, Interval

    if schedule is None:
        return []
    kind, value = schedule
    return [Cron(value, timezone=TIMEZONE) if kind == "cron" else Interval(value, timezone=TIMEZONE)]


def _flow(entrypoint: str) -> Any:
    path, name = entrypoint.split(":")
    return getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), name)


def deployments() -> list[Any]:
    """The served deployments (RunnerDeployment objects), one per flow."""
    return [
        _flow(entrypoint).to_deployment(name=name, schedules=_schedules(schedule))
        for entrypoint, name, schedule in DEPLOYMENTS
    ]


def serve_all() -> None:
    """Serve every deployment from this process until interrupted."""
    from prefect import serve

    serve(*deployments(), pause_on_shutdown=False)


def deploy_to_work_pool(pool: str, *, source: Path = ROOT, entrypoints: Iterable[str] | None = None) -> list[UUID]:
    """Register deployments on a work pool, for workers on other machines (docs/deploy.md).

    The source is this checkout's path: each worker machine needs the same checkout (and the same
    environment) at that path. `to_deployment(...).apply()` rather than `deploy()`: deploy()'s check for
    online workers is refused (422) by Prefect 3.8's server on FastAPI 0.151 and later.
    """
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment

    wanted = set(entrypoints) if entrypoints is not None else None
    ids = []
    for entrypoint, name, schedule in DEPLOYMENTS:
        if wanted is not None and entrypoint not in wanted:
            continue
        source_flow = Flow.from_source(source=str(source), entrypoint=entrypoint)
        assert isinstance(source_flow, Flow)  # sync call: the flow itself, not a coroutine
        deployment = source_flow.to_deployment(name=name, work_pool_name=pool, schedules=_schedules(schedule))
        assert isinstance(deployment, RunnerDeployment)
        applied = deployment.apply()
        assert isinstance(applied, UUID)
        ids.append(applied)
    return ids


if __name__ == "__main__":
    serve_all()
