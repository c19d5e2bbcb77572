"""The alert automations and `pathway apply`'s relay, against the Prefect test harness's server.

Firing each automation end to end (a failed run, a sweep that hangs) needs workers to run the alert
flow: tests/flows/test_event_scale_out.py does that on a PostgreSQL-backed server.
"""

import json
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from flows.automations import FAILED, SWEEP_NOT_COMPLETED, SWEEP_NOT_STARTED, SWEEP_WITHIN, ensure_automations
from flows.serve import REMINDER_CRON
from pathway.cli.main import app
from pathway.store.db import SessionFactory
from pathway.store.reminder_models import FlowTrigger
from tests.conftest import diagnose, register

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]
NAMES = (FAILED, SWEEP_NOT_COMPLETED, SWEEP_NOT_STARTED)


def _named(name: str) -> list[object]:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        found: list[object] = client.read_automations_by_name(name)
        return found


def test_the_automations_are_upserted_by_name_and_start_the_alert_deployment() -> None:
    alert = UUID(int=42)
    first = ensure_automations(alert)
    again = ensure_automations(UUID(int=43), sweep_within=timedelta(seconds=10))
    assert first == again  # updated in place, not created twice
    found = {name: _named(name) for name in NAMES}
    assert {name: len(automations) for name, automations in found.items()} == dict.fromkeys(NAMES, 1)
    (failed,) = found[FAILED]
    (late,) = found[SWEEP_NOT_COMPLETED]
    assert failed.trigger.expect == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}  # type: ignore[attr-defined]
    watched = failed.trigger.model_dump_json()  # type: ignore[attr-defined]
    assert "patient-pathway" in watched and "reminder-sweep" in watched and "on-call-alert" not in watched
    assert late.trigger.within == timedelta(seconds=10)  # type: ignore[attr-defined]
    assert {str(a.deployment_id) for a in late.actions} == {str(UUID(int=43))}  # type: ignore[attr-defined]
    ensure_automations(alert)  # back to the production window
    assert _named(SWEEP_NOT_COMPLETED)[0].trigger.within == SWEEP_WITHIN  # type: ignore[attr-defined]


def test_the_late_window_runs_from_the_sweeps_07_00_to_07_30() -> None:
    assert REMINDER_CRON == "0 7 * * *" and timedelta(minutes=30) == SWEEP_WITHIN


def test_pathway_apply_sends_its_events_when_a_prefect_server_is_configured(
    flow_database: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL

    log = tmp_path / "commands.jsonl"
    log.write_text(json.dumps(register()) + "\n" + json.dumps(diagnose()) + "\n")
    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    result = CliRunner().invoke(app, ["apply", str(log)])
    assert result.exit_code == 0, result.output
    assert "1 pathway events sent to Prefect" in result.stderr
    with flow_database() as session:
        (row,) = session.exec(select(FlowTrigger)).all()
    assert row.status == "sent" and row.event_id is not None
