"""`pathway reminders run` without PREFECT_API_URL: its temporary Prefect server dies with it, even when
the command is killed with SIGKILL (issue 12, item 2), and a failing sweep is one line, no traceback.

Each test runs the command as a user does, in its own process, against a temporary server of its own.
Waiting for a process to end uses a pidfd (the kernel says when), never a sleep.
"""

import os
import re
import select
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pathway.store.db import make_engine, migrate

ROOT = Path(__file__).resolve().parents[2]
STARTED = re.compile(r"started a temporary Prefect server at (\S+) \(it stops with this command, process (\d+)\)")
pytestmark = pytest.mark.prefect


def _environment(tmp_path: Path, database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PATHWAY_", "PREFECT_"))}
    return env | {
        "PATHWAY_DATABASE_URL": f"sqlite:///{database}",
        "PATHWAY_HOME": str(tmp_path / "home"),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
    }


def _ended_within(pid: int, seconds: float) -> bool:
    """Whether process `pid` (not our child) ends within `seconds`: its pidfd turns readable."""
    try:
        descriptor = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([descriptor], [], [], seconds)
        return bool(readable)
    finally:
        os.close(descriptor)


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_a_sigkilled_reminders_run_takes_its_temporary_prefect_server_with_it(tmp_path: Path) -> None:
    database = tmp_path / "pathway.db"
    migrate(make_engine(f"sqlite:///{database}"))
    command = subprocess.Popen(
        [sys.executable, "-m", "pathway.cli.main", "reminders", "run"],
        env=_environment(tmp_path, database),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert command.stderr is not None
        first = command.stderr.readline()
        started = STARTED.search(first)
        assert started, first
        api_url, tether = started.group(1), int(started.group(2))
        (server,) = _children(tether)
        assert httpx.get(f"{api_url}/health", timeout=10).status_code == 200
        command.send_signal(signal.SIGKILL)
        command.wait(30)
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
    assert command.returncode == -signal.SIGKILL
    assert _ended_within(server, 60), f"the temporary Prefect server {server} outlived the killed command"
    assert _ended_within(tether, 30)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{api_url}/health", timeout=5)


def test_a_failing_reminders_run_is_one_line_and_an_exit_status_without_a_traceback(tmp_path: Path) -> None:
    database = tmp_path / "empty.db"  # no tables: the sweep's first query fails
    database.touch()
    result = subprocess.run(
        [sys.executable, "-m", "pathway.cli.main", "reminders", "run", "--format", "json"],
        env=_environment(tmp_path, database),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("database error (OperationalError); details in ")
    assert "Error logging to API" not in result.stderr  # the run's logs reached the server before it stopped
    started = STARTED.search(result.stderr)
    assert started and _ended_within(int(started.group(2)), 30)
