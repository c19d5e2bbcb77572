"""Flow triggers: sent as patient-pathway deployment runs when a Prefect server answers, kept otherwise."""

import asyncio
from typing import Any

import pytest
from sqlmodel import select

from flows.patient_pathway import patient_pathway
from flows.triggers import prefect_server_answers, send_pending_triggers
from pathway.reminders.triggers import count_pending
from pathway.store.db import SessionFactory
from pathway.store.reminder_models import FlowTrigger
from tests.conftest import mdt, run
from tests.support.mailbox import free_port
from tests.support.reminders import awaiting_mdt

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]


def test_triggers_stay_pending_while_no_prefect_server_answers(flow_database: SessionFactory) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    awaiting_mdt(flow_database)
    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):
        assert not prefect_server_answers()
        assert send_pending_triggers(flow_database) == 0
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


def test_pending_triggers_become_one_deployment_run_per_pathway(flow_database: SessionFactory) -> None:
    deployment_id = patient_pathway.to_deployment(name="patient-pathway").apply()
    awaiting_mdt(flow_database, "P1", 0)
    awaiting_mdt(flow_database, "P2", 1)
    run(flow_database, mdt("P1", held_on="2026-06-02"))
    assert prefect_server_answers()
    assert send_pending_triggers(flow_database) == 2
    assert send_pending_triggers(flow_database) == 0
    runs = asyncio.run(_runs_of(deployment_id))
    assert sorted(r.parameters["ref"] for r in runs) == ["P1", "P2"]
    with flow_database() as session:
        triggers = session.exec(select(FlowTrigger)).all()
    assert {t.status for t in triggers} == {"sent"} and len(triggers) == 5
    assert {t.flow_run for t in triggers} == {str(r.id) for r in runs}
