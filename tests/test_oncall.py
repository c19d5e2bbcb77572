"""On-call alerts (pathway/reminders/oncall.py, sent by the on-call-alert flow the automations start):
through a real local SMTP server and into the outbox, naming the run and never a patient."""

import json
from datetime import UTC, datetime
from pathlib import Path

from pathway.reminders.oncall import send_alert
from pathway.reminders.settings import ReminderSettings
from tests.support.mailbox import Mailbox, mailto, smtp_server

AT = datetime(2026, 6, 5, 7, 30, tzinfo=UTC)


def test_a_failed_run_alert_reaches_the_on_call_mailbox_and_the_outbox(tmp_path: Path) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        settings = ReminderSettings(
            oncall_recipients=[mailto(port, "on-call@example.org")],
            backoff_seconds=0,
            outbox_path=tmp_path / "outbox.jsonl",
        )
        sent = send_alert("flow-run-failed", "pathway-P7", settings=settings, at=AT)
    assert (sent.code, sent.channel, sent.error) == ("FLOW_RUN_FAILED", "mailto+outbox", None)
    (mail,) = mailbox.messages
    assert str(mail["To"]) == "on-call@example.org"
    assert "A flow run failed or crashed" in str(mail["Subject"])
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None and "pathway-P7" in body.get_content()
    (line,) = [json.loads(text) for text in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert (line["code"], line["recipient_role"], line["subject"], line["pathway"]) == (
        "FLOW_RUN_FAILED",
        "oncall",
        "pathway-P7",
        None,
    )


def test_by_default_the_alert_goes_to_the_outbox_alone(tmp_path: Path) -> None:
    settings = ReminderSettings(outbox_path=tmp_path / "outbox.jsonl")
    sent = send_alert("reminder-sweep-late", "reminder-sweep-2026-06-05", settings=settings, at=AT)
    assert (sent.code, sent.channel, sent.error) == ("REMINDER_SWEEP_LATE", "outbox", None)
    assert json.loads((tmp_path / "outbox.jsonl").read_text())["subject"] == "reminder-sweep-2026-06-05"
