"""Reminders through a real channel: apprise's mailto:// to an SMTP server on loopback (aiosmtpd)."""

import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from pathway.domain.clock import utc_now
from pathway.reminders.settings import ReminderSettings
from pathway.reminders.sweep import run_sweep
from pathway.services.bulk_load import load_cohort
from pathway.services.demo import cohort
from pathway.store.db import SessionFactory
from pathway.store.reminder_models import Notification
from tests.conftest import ADMIN
from tests.support.mailbox import Mailbox, mailto, smtp_server
from tests.support.reminders import awaiting_mdt, clock_at, outbox

ROOT = Path(__file__).resolve().parents[1]
COHORT_DAY = date(2026, 6, 15)


def mail_settings(tmp_path: Path, port: int, **extra: Any) -> ReminderSettings:
    return ReminderSettings(
        channels={
            "coordinator": [mailto(port, "dvt-coordinators@example.org")],
            "clinician": [mailto(port, "dvt-clinicians@example.org")],
        },
        escalation_recipients=[mailto(port, "vascular-lead@example.org")],
        channel_interval_seconds=0,
        backoff_seconds=0,
        outbox_path=tmp_path / "outbox.jsonl",
        **extra,
    )


def test_smtp_server_receives_the_reminder_and_the_escalation(sqlite_factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(sqlite_factory)
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        settings = mail_settings(tmp_path, port)
        at = datetime(2026, 6, 7, 6, 0, tzinfo=UTC)
        result = run_sweep(sqlite_factory, as_of=date(2026, 6, 7), settings=settings, clock=clock_at(at))
    assert result.sent == 2
    first, escalation = sorted(mailbox.messages, key=lambda m: str(m["Subject"]).startswith("ESCALATION"))
    assert str(first["To"]) == "dvt-coordinators@example.org"
    assert str(first["Subject"]) == "[RED] MDT assessment overdue (pathway P1 at North Vale)"
    body = first.get_body(preferencelist=("plain",))
    assert body is not None
    assert "Flag: MDT_OVERDUE" in body.get_content() and "Due: 2026-06-04" in body.get_content()
    assert str(escalation["To"]) == "vascular-lead@example.org"
    assert str(escalation["Subject"]).startswith("ESCALATION: MDT assessment overdue, red for 2+ days")
    assert [line["channel"] for line in outbox(tmp_path)] == ["mailto+outbox", "mailto+outbox"]


def test_smtp_refusing_twice_then_accepting_delivers_once(sqlite_factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(sqlite_factory)
    mailbox = Mailbox(refuse_first=2)
    with smtp_server(mailbox) as port:
        settings = mail_settings(tmp_path, port, retries=3)
        result = run_sweep(sqlite_factory, as_of=date(2026, 6, 5), settings=settings, clock=utc_now)
    assert result.as_dict() == {"sent": 1, "already_sent": 0, "failed": 0, "in_progress": 0}
    assert mailbox.attempts == 3 and len(mailbox.messages) == 1
    with sqlite_factory() as session:
        (row,) = session.exec(select(Notification)).all()
    assert (row.status, row.attempts) == ("sent", 3)


def test_sweep_killed_with_sigkill_mid_batch_then_rerun_mails_each_once(
    sqlite_engine: Engine, sqlite_factory: SessionFactory, tmp_path: Path
) -> None:
    """A sweep process is killed while a message is in flight; the next sweep sends the rest, each once.

    "Claimed but unsent" after the kill: rows left `claimed` by the dead sweep; the next sweep takes them
    over at once (the dead sweep's claim lock is free) and sends them. The message in flight was never
    accepted, so it is one of them.
    """
    for n in range(4):
        awaiting_mdt(sqlite_factory, f"P{n}", n)
    mailbox = Mailbox(hang_after=3)
    with smtp_server(mailbox) as port:
        settings = mail_settings(tmp_path, port, retries=0)
        env = {key: value for key, value in os.environ.items() if not key.startswith("PATHWAY_REMINDER_")}
        env |= {
            "PATHWAY_REMINDER_CHANNELS": json.dumps(settings.channels),
            "PATHWAY_REMINDER_ESCALATION_RECIPIENTS": json.dumps(settings.escalation_recipients),
            "PATHWAY_REMINDER_CHANNEL_INTERVAL_SECONDS": "0",
            "PATHWAY_REMINDER_RETRIES": "0",
            "PATHWAY_REMINDER_OUTBOX_PATH": str(tmp_path / "outbox.jsonl"),
            "PATHWAY_HOME": str(tmp_path),
        }
        code = (
            "import sys, datetime; from pathway.store.db import make_engine, make_session_factory; "
            "from pathway.reminders.settings import ReminderSettings; from pathway.reminders.sweep import run_sweep; "
            "from pathway.domain.clock import utc_now; "
            "run_sweep(make_session_factory(make_engine(sys.argv[1])), as_of=datetime.date(2026, 6, 12), "
            "settings=ReminderSettings(), clock=utc_now)"
        )
        sweeper = subprocess.Popen([sys.executable, "-c", code, str(sqlite_engine.url)], env=env, cwd=ROOT)
        try:
            assert mailbox.hanging.wait(timeout=90), "the sweep never reached its fourth message"
        finally:
            os.kill(sweeper.pid, signal.SIGKILL)
            sweeper.wait(timeout=30)
        with sqlite_factory() as session:
            statuses = Counter(n.status for n in session.exec(select(Notification)).all())
        assert statuses == {"sent": 3, "claimed": 9}  # 4 pathways: MDT first + escalation + window at risk
        mailbox.hang_after = None
        later = run_sweep(
            sqlite_factory, as_of=date(2026, 6, 12), settings=settings, clock=lambda: utc_now() + timedelta(hours=1)
        )
    assert later.sent == 9
    assert len(mailbox.messages) == 12 and len(set(mailbox.subjects())) == 12
    lines = outbox(tmp_path)
    assert len(lines) == 12 and len({line["notification"] for line in lines}) == 12


def test_no_patient_identifiers_in_the_outbox_or_the_mail(sqlite_factory: SessionFactory, tmp_path: Path) -> None:
    load_cohort(sqlite_factory, patients=20, seed=3, today=COHORT_DAY, actor=ADMIN)
    registered = [c for patient in cohort(20, seed=3, today=COHORT_DAY) for c in patient if "nhs_number" in c]
    identifiers = {c["nhs_number"] for c in registered} | {c["name"] for c in registered}
    identifiers |= {c["date_of_birth"] for c in registered}
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        result = run_sweep(sqlite_factory, as_of=COHORT_DAY, settings=mail_settings(tmp_path, port), clock=utc_now)
    assert result.sent > 20 and len(mailbox.messages) == result.sent
    written = (tmp_path / "outbox.jsonl").read_text() + "\n".join(mailbox.texts())
    assert re.search(r"DVT-\d{7}", written)  # the pathway reference is what a notification names
    assert [found for found in identifiers if found in written] == []
