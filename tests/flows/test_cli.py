"""`pathway reminders run` and `pathway reminders list`: the sweep through Prefect from the command line."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pathway.cli.main import app
from pathway.store.db import SessionFactory
from tests.support.reminders import awaiting_mdt

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]


def test_reminders_run_prints_the_counts_and_sends_once(flow_database: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(flow_database)
    runner = CliRunner()
    command = ["reminders", "run", "--as-of", "2026-06-05", "--format", "json"]
    first = runner.invoke(app, command)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout.strip().splitlines()[-1]) == {
        "sent": 1,
        "already_sent": 0,
        "failed": 0,
        "in_progress": 0,
    }
    again = runner.invoke(app, command)
    assert json.loads(again.stdout.strip().splitlines()[-1]) == {
        "sent": 0,
        "already_sent": 1,
        "failed": 0,
        "in_progress": 0,
    }
    listed = runner.invoke(app, ["reminders", "list", "--format", "json"])
    (notification,) = json.loads(listed.stdout)
    assert (notification["pathway"], notification["code"], notification["status"]) == ("P1", "MDT_OVERDUE", "sent")
    assert runner.invoke(app, ["reminders", "list", "--failed", "--format", "json"]).stdout.strip() == "[]"
