"""A process killed in the middle of recording a command leaves nothing half-written (issue 6, item 4).

For every command, on SQLite and PostgreSQL: a separate process runs `services.execute` and is
stopped at the last moment of its transaction (every row it writes flushed to the database, the
audit row appended, the commit not yet made) and killed there with SIGKILL, as an out-of-memory
kill or a pulled plug would. Then: every table's row count and every pathway's version are as
before, the audit chain verifies, and the same command recorded again is accepted (the killed
writer's locks are gone: SQLite's journal rolled back, PostgreSQL's backend aborted).

The child signals "flushed" on its stdout and then blocks reading its stdin, so the parent kills it
at a known point without sleeping.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pathway.store import audit
from pathway.store.db import SessionFactory
from tests.conftest import RECORDED_AT, run
from tests.support.commands import ALL_COMMANDS, database_state, prepare, valid_command

ROOT = Path(__file__).resolve().parents[1]

# Runs in the child: execute one command; just before the commit, flush everything, say so, block.
CHILD = textwrap.dedent(
    """
    import json, sys
    from datetime import datetime
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from pathway.store.db import make_engine, make_session_factory
    from pathway.domain.roles import Actor
    from pathway.services.commands import execute
    from pathway.domain.vocabulary import Role

    url, payload, at = sys.argv[1], json.loads(sys.argv[2]), datetime.fromisoformat(sys.argv[3])

    @event.listens_for(Session, "before_commit")
    def stop_before_commit(session):
        session.flush()
        print("flushed", flush=True)
        sys.stdin.read()  # blocks until the parent kills this process

    execute(make_session_factory(make_engine(url)), Actor("killed-writer", Role.admin), payload, recorded_at=at)
    print("committed", flush=True)
    """
)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def kill_mid_command(engine: Engine, payload: dict[str, object]) -> str:
    """Run the command in a child process, SIGKILL it once its transaction is flushed; what it said."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, _url(engine), json.dumps(payload), RECORDED_AT.isoformat()],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    said = child.stdout.readline().strip()  # "flushed", or "" if the child died first
    child.send_signal(signal.SIGKILL)
    _, errors = child.communicate()
    assert child.returncode == -signal.SIGKILL, errors
    assert said == "flushed", errors
    return said


@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_sigkill_before_commit_leaves_nothing_and_the_command_can_be_recorded_again(
    engine: Engine, factory: SessionFactory, name: str
) -> None:
    prepare(factory, name)
    payload = valid_command(name)
    before = database_state(factory)

    kill_mid_command(engine, payload)

    assert database_state(factory) == before, "a killed command left rows behind"
    with factory() as session:
        report = audit.verify(session)
    assert report.intact, report
    outcome = run(factory, payload)
    assert outcome.command == name
    after = database_state(factory)
    assert after["rows"]["audit_event"] == before["rows"]["audit_event"] + 1
