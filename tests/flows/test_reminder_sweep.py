"""The reminder-sweep and governance-digest flows on the synthetic cohort: sent once, and nothing
about a patient in the outbox, the logs or the flow-run parameters."""

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from flows.governance_digest import governance_digest
from flows.reminder_sweep import reminder_sweep, sweep_reminders
from pathway.services.bulk_load import load_cohort
from pathway.services.demo import cohort
from pathway.store.db import SessionFactory
from tests.conftest import ADMIN
from tests.support.reminders import awaiting_mdt, outbox

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]
COHORT_DAY = date(2026, 6, 15)


def test_sweep_task_sends_and_counts(flow_database: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(flow_database)
    assert sweep_reminders.fn(date(2026, 6, 5)) == {"sent": 1, "already_sent": 0, "failed": 0, "in_progress": 0}
    assert sweep_reminders.fn(date(2026, 6, 5)) == {"sent": 0, "already_sent": 1, "failed": 0, "in_progress": 0}
    assert [line["code"] for line in outbox(tmp_path)] == ["MDT_OVERDUE"]


async def _flow_run(flow_run_id: Any) -> Any:
    from prefect import get_client

    async with get_client() as client:
        return await client.read_flow_run(flow_run_id)


def test_sweeping_the_cohort_twice_sends_each_standing_flag_once_and_names_no_patient(
    flow_database: SessionFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    load_cohort(flow_database, patients=60, seed=3, today=COHORT_DAY, actor=ADMIN)
    caplog.set_level("DEBUG")
    first = reminder_sweep(as_of=COHORT_DAY, return_state=True)
    second = reminder_sweep(as_of=COHORT_DAY, return_state=True)
    counts = first.result()
    assert counts["sent"] > 40 and counts["failed"] == 0
    assert second.result() == {"sent": 0, "already_sent": counts["sent"], "failed": 0, "in_progress": 0}
    lines = outbox(tmp_path)
    assert len(lines) == counts["sent"] == len({(x["pathway"], x["code"], x["severity"], x["kind"]) for x in lines})
    flow_run = asyncio.run(_flow_run(first.state_details.flow_run_id))
    parameters = flow_run.parameters
    assert parameters == {"as_of": "2026-06-15"} and flow_run.name == "reminder-sweep-2026-06-15"

    registered = [c for patient in cohort(60, seed=3, today=COHORT_DAY) for c in patient if "nhs_number" in c]
    identifiers = {c["nhs_number"] for c in registered} | {c["name"] for c in registered}
    identifiers |= {c["date_of_birth"] for c in registered}
    written = (tmp_path / "outbox.jsonl").read_text() + caplog.text + str(parameters)
    assert "reminder sweep at 2026-06-15" in caplog.text  # the flow's own log line was captured
    assert [found for found in identifiers if found in written] == []


def test_governance_digest_flow_keeps_the_file_and_sends_once(flow_database: SessionFactory, tmp_path: Path) -> None:
    load_cohort(flow_database, patients=20, seed=3, today=COHORT_DAY, actor=ADMIN)
    first = governance_digest(as_of=COHORT_DAY)
    again = governance_digest(as_of=COHORT_DAY)
    assert (first["status"], again["status"]) == ("sent", "already_sent")
    digest = tmp_path / "digests" / "governance-2026-06-15.md"
    assert first["file"] == str(digest) and "## Standing flags" in digest.read_text()
    assert [line["code"] for line in outbox(tmp_path)] == ["GOVERNANCE_DIGEST"]
