"""Send pending flow triggers to Prefect: one `patient-pathway` run per pathway whose steps changed.

Commands write a pending `flow_trigger` row in their own transaction (pathway.services.commands). Here they
become deployment runs when a Prefect server answers; otherwise they stay pending for the next try
(the `flow-triggers` deployment every minute, and the nightly sweep).
"""

import logging

import httpx
from prefect import flow
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL

from flows import runtime
from pathway import SessionFactory
from pathway.reminders.triggers import mark_sent, pending_runs

PATIENT_PATHWAY_DEPLOYMENT = "patient-pathway/patient-pathway"

log = logging.getLogger(__name__)


def prefect_server_answers(timeout: float = 3.0) -> bool:
    """True when PREFECT_API_URL names a server whose /health answers (no URL: no server configured)."""
    url = PREFECT_API_URL.value()
    if not url:
        return False
    try:
        return httpx.get(f"{url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def send_pending_triggers(factory: SessionFactory, *, limit: int = 500) -> int:
    """Start a pathway run per pathway with pending triggers; returns how many were started."""
    if not prefect_server_answers():
        return 0
    started = 0
    with factory() as session:
        runs = pending_runs(session, limit=limit)
    for run in runs:
        try:
            flow_run = run_deployment(
                PATIENT_PATHWAY_DEPLOYMENT,
                parameters={"ref": run.pathway},
                timeout=0,
                as_subflow=False,
                # Same key for the same triggers: a retry after a lost reply does not start a second run.
                idempotency_key=f"pathway-{run.pathway}-trigger-{run.up_to}",
            )
        except Exception as problem:  # server gone or deployment not served: keep them pending
            log.warning("flow triggers kept pending: %s", type(problem).__name__)
            break
        assert isinstance(flow_run, FlowRun)  # called from sync code, run_deployment returns the run itself
        mark_sent(factory, run, flow_run=str(flow_run.id), at=runtime.utc_now())
        started += 1
    return started


@flow(name="flow-triggers")
def flow_triggers() -> int:
    """Send pending triggers now (served every minute)."""
    return send_pending_triggers(runtime.session_factory())
