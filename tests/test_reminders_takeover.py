"""A sweep killed between claiming and sending loses nothing, and a live sweep's claims are never taken
(issue 12, item 2), on SQLite and PostgreSQL, with real processes.

A child process runs the sweep through a channel that records each message in a file and, at its third
message, says "blocked" and waits on its standard input. The parent then either kills it with SIGKILL
(the claim lock goes with the process: an immediate re-run delivers the rest, each once) or runs a
second sweep beside it (it sends nothing, counts the live sweep's unsent claims as in progress) and lets
the child finish.
"""

import fcntl
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, text
from sqlmodel import select

from pathway.reminders.claimer import CLAIM_LOCKS, claim_key, lock_folder
from pathway.reminders.sweep import run_sweep
from pathway.store.db import SessionFactory
from pathway.store.reminder_models import Notification
from tests.support.reminders import (
    SWEPT_AT,
    FakeChannels,
    RecordingChannel,
    awaiting_mdt,
    clock_at,
    outbox,
    settings_for,
)

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2026, 6, 12)  # three pathways: MDT overdue (first and escalation) and window at risk: 9 messages

CHILD = textwrap.dedent(
    """
    import json, sys
    from datetime import date, datetime, UTC
    from pathway.store.db import make_engine, make_session_factory
    from pathway.reminders.channels import Channels
    from pathway.reminders.settings import ReminderSettings
    from pathway.reminders.sweep import run_sweep

    url, outbox, sent_file = sys.argv[1:4]

    class Blocking:
        scheme, identity, count = "fake", "blocking", 0

        def send(self, message):
            self.count += 1
            if self.count == 3:
                print("blocked", flush=True)
                sys.stdin.readline()  # the parent kills this process here, or lets it go on
            with open(sent_file, "a") as sent:
                sent.write(json.dumps([message.pathway, message.code, message.kind]) + "\\n")

    class OneChannel(Channels):
        def for_role(self, role):
            return [channel]

    channel = Blocking()
    settings = ReminderSettings(outbox_path=outbox, backoff_seconds=0, retries=0)
    result = run_sweep(
        make_session_factory(make_engine(url)),
        as_of=date(2026, 6, 12),
        settings=settings,
        clock=lambda: datetime(2026, 6, 20, 6, 0, tzinfo=UTC),
        channels=OneChannel(settings),
    )
    print(json.dumps(result.as_dict()), flush=True)
    """
)


def start_blocked_sweep(engine: Engine, tmp_path: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            engine.url.render_as_string(hide_password=False),
            str(tmp_path / "outbox.jsonl"),
            str(tmp_path / "child-sent.jsonl"),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    said = child.stdout.readline().strip()
    if said != "blocked":
        child.kill()
        raise AssertionError(child.communicate()[1])
    return child


def child_sent(tmp_path: Path) -> list[tuple[str, str, str]]:
    path = tmp_path / "child-sent.jsonl"
    return [tuple(json.loads(line)) for line in path.read_text().splitlines()] if path.exists() else []


def statuses(factory: SessionFactory) -> Counter[str]:
    with factory() as session:
        return Counter(n.status for n in session.exec(select(Notification)).all())


def the_claim(factory: SessionFactory) -> str:
    with factory() as session:
        (claim,) = {n.claim for n in session.exec(select(Notification).where(Notification.status == "claimed"))}
    return claim


def wait_until_released(engine: Engine, claim: str) -> None:
    """Block (no polling) until the dead holder's lock is free: PostgreSQL drops it when it sees the
    killed process's connection close; the kernel releases a flock before the parent's wait() returns."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SET statement_timeout = '60s'"))
            key = {"namespace": CLAIM_LOCKS, "key": claim_key(claim)}
            connection.execute(text("SELECT pg_advisory_lock(:namespace, :key)"), key)
            connection.execute(text("SELECT pg_advisory_unlock(:namespace, :key)"), key)
            connection.commit()
        return
    descriptor = os.open(lock_folder(engine) / f"{claim}.lock", os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if still held
    finally:
        os.close(descriptor)


def test_a_sweep_sigkilled_between_claim_and_send_is_delivered_by_an_immediate_rerun_once(
    engine: Engine, factory: SessionFactory, tmp_path: Path
) -> None:
    for n in range(3):
        awaiting_mdt(factory, f"P{n}", n)
    child = start_blocked_sweep(engine, tmp_path)
    claim = the_claim(factory)
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert statuses(factory) == {"sent": 2, "claimed": 7}  # the third was never marked
    wait_until_released(engine, claim)

    healthy = RecordingChannel()
    rerun = run_sweep(
        factory,
        as_of=DAY,
        settings=settings_for(tmp_path),
        clock=clock_at(SWEPT_AT),  # the same instant: no lease to wait out
        channels=FakeChannels(settings_for(tmp_path), healthy),
    )

    assert rerun.as_dict() == {"sent": 7, "already_sent": 2, "failed": 0, "in_progress": 0}
    sent = child_sent(tmp_path) + [(m.pathway, m.code, m.kind) for m in healthy.messages]
    assert len(sent) == 9 and len(set(sent)) == 9, sent
    lines = outbox(tmp_path)
    assert len(lines) == 9 and len({line["notification"] for line in lines}) == 9
    assert statuses(factory) == {"sent": 9}


def test_a_live_sweep_keeps_its_claims_while_a_rerun_counts_them_in_progress(
    engine: Engine, factory: SessionFactory, tmp_path: Path
) -> None:
    for n in range(3):
        awaiting_mdt(factory, f"P{n}", n)
    child = start_blocked_sweep(engine, tmp_path)
    try:
        rival = RecordingChannel()
        rerun = run_sweep(
            factory,
            as_of=DAY,
            settings=settings_for(tmp_path),
            clock=clock_at(SWEPT_AT),
            channels=FakeChannels(settings_for(tmp_path), rival),
        )
        assert rerun.as_dict() == {"sent": 0, "already_sent": 2, "failed": 0, "in_progress": 7}
        assert rival.messages == []
        finished, errors = child.communicate(input="go on\n", timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, errors
    assert json.loads(finished.strip().splitlines()[-1]) == {
        "sent": 9,
        "already_sent": 0,
        "failed": 0,
        "in_progress": 0,
    }
    sent = child_sent(tmp_path)
    assert len(sent) == 9 and len(set(sent)) == 9
    assert statuses(factory) == {"sent": 9}
    assert len({line["notification"] for line in outbox(tmp_path)}) == len(outbox(tmp_path)) == 9
