"""The event outbox: pending rows become `pathway.command.recorded` events when a Prefect server answers
(kept otherwise), and the patient-pathway deployment's trigger turns each event into one run."""

import asyncio
import time
from typing import Any

import pytest
from sqlmodel import select

from flows.patient_pathway import patient_pathway
from flows.serve import DEPLOYMENTS, _options
from flows.triggers import prefect_server_answers, relay_outbox
from pathway.reminders.triggers import count_pending
from pathway.store.db import SessionFactory
from pathway.store.reminder_models import FlowTrigger
from tests.conftest import mdt, run
from tests.support.mailbox import free_port
from tests.support.reminders import awaiting_mdt

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]


def test_outbox_rows_stay_pending_while_no_prefect_server_answers(flow_database: SessionFactory) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    awaiting_mdt(flow_database)
    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):
        assert not prefect_server_answers()
        assert relay_outbox(flow_database) == 0
    with flow_database() as session:
        assert count_pending(session) == 2


def test_nothing_is_emitted_without_a_configured_prefect_api(flow_database: SessionFactory) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    awaiting_mdt(flow_database)
    started = time.monotonic()
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert PREFECT_API_URL.value() is None
        assert relay_outbox(flow_database) == 0  # no temporary server started (that takes ~20 s)
    assert time.monotonic() - started < 5
    with flow_database() as session:
        assert count_pending(session) == 2


async def _runs_of(deployment_id: Any) -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        runs: list[Any] = await client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            sort=FlowRunSort.ID_DESC,  # explicit, like limit: this server version rejects nulls
            limit=50,
        )
        return runs


def _poll_runs(deployment_id: Any, expected: int, timeout: float = 60) -> list[Any]:
    deadline = time.monotonic() + timeout
    while len(runs := asyncio.run(_runs_of(deployment_id))) < expected and time.monotonic() < deadline:
        time.sleep(0.25)
    return runs


def test_each_pathways_event_starts_one_patient_pathway_run_through_the_deployment_trigger(
    flow_database: SessionFactory,
) -> None:
    spec = next(s for s in DEPLOYMENTS if s.name == "patient-pathway")
    deployment_id = patient_pathway.to_deployment(**_options(spec)).apply()  # registers its trigger
    awaiting_mdt(flow_database, "P1", 0)
    awaiting_mdt(flow_database, "P2", 1)
    run(flow_database, mdt("P1", held_on="2026-06-02"))
    assert relay_outbox(flow_database) == 2  # five rows, two pathways: one event each
    assert relay_outbox(flow_database) == 0
    with flow_database() as session:
        rows = session.exec(select(FlowTrigger)).all()
    assert {r.status for r in rows} == {"sent"} and len(rows) == 5
    assert len({r.event_id for r in rows}) == 2
    runs = _poll_runs(deployment_id, 2)
    assert sorted(r.parameters["ref"] for r in runs) == ["P1", "P2"]
