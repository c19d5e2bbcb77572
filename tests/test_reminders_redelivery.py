"""Redelivery: a notification whose channel stayed down through the sweep's retries is listed as failed,
and a later sweep delivers it exactly once after the channel recovers (issue: "Notification channel
down: retried, listed as failed, delivered exactly once after recovery").

Run on SQLite and (with PATHWAY_TEST_POSTGRES_URL) PostgreSQL. The remote service is a fake that
counts what it takes, or a real SMTP server on loopback (aiosmtpd); the outbox is real.
"""

import threading
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from pathway.reminders.automation import run_stage
from pathway.reminders.channels import Channel, Channels, Message
from pathway.reminders.claims import drop_failed_not_standing, failed_now
from pathway.reminders.settings import ReminderSettings
from pathway.reminders.sweep import SweepResult, run_sweep
from pathway.store.db import SessionFactory
from pathway.store.reminder_models import Notification
from pathway.views.notifications import failed_notifications
from tests.conftest import consent, governance, mdt, run, safety_check
from tests.support.mailbox import Mailbox, mailto, smtp_server
from tests.support.reminders import SWEPT_AT, awaiting_mdt, clock_at, outbox, settings_for

DAY = date(2026, 6, 5)  # MDT_OVERDUE stands red on P1 (see awaiting_mdt)


class Relay:
    """A remote relay that refuses everything while down; counts calls and keeps what it takes."""

    scheme = "fake"

    def __init__(self, up: bool = False) -> None:
        self.up = up
        self.identity = f"relay-{id(self):x}"  # as an apprise URL's hash: the same relay, the same identity
        self.calls = 0
        self.messages: list[Message] = []
        self._lock = threading.Lock()  # concurrent sweeps share it

    def send(self, message: Message) -> None:
        with self._lock:
            self.calls += 1
            if not self.up:
                raise ConnectionError("relay down")
            self.messages.append(message)


class RelayChannels(Channels):
    """Every role's channels are the given relays, in this order."""

    def __init__(self, settings: ReminderSettings, *relays: Channel) -> None:
        super().__init__(settings)
        self.relays = list(relays)

    def for_role(self, role: str) -> list[Channel]:
        return self.relays


def sweep(
    factory: SessionFactory,
    tmp_path: Path,
    *relays: Channel,
    day: date = DAY,
    at: datetime = SWEPT_AT,
    **extra: Any,
) -> dict[str, int]:
    settings = settings_for(tmp_path, **({"retries": 2} | extra))
    result: SweepResult = run_sweep(
        factory,
        as_of=day,
        settings=settings,
        clock=clock_at(at),
        channels=RelayChannels(settings, *relays),
        sleep=lambda _s: None,
    )
    return result.as_dict()


def rows(factory: SessionFactory) -> list[Notification]:
    with factory() as session:
        return list(session.exec(select(Notification).order_by(Notification.id)).all())  # type: ignore[arg-type]


def test_failed_notification_is_listed_then_sent_once_when_the_channel_recovers(
    factory: SessionFactory, tmp_path: Path
) -> None:
    awaiting_mdt(factory)
    relay = Relay(up=False)
    assert sweep(factory, tmp_path, relay) == {"sent": 0, "already_sent": 0, "failed": 1, "in_progress": 0}
    assert relay.calls == 3 and outbox(tmp_path) == []  # 1 try + 2 retries
    with factory() as session:
        (listed,) = failed_notifications(session, sites=None)
    assert (listed.pathway, listed.code, listed.status, listed.attempts) == ("P1", "MDT_OVERDUE", "failed", 3)
    assert listed.last_error == "fake: ConnectionError: relay down"

    relay.up = True
    later = SWEPT_AT + timedelta(hours=1)
    assert sweep(factory, tmp_path, relay, at=later) == {"sent": 1, "already_sent": 0, "failed": 0, "in_progress": 0}
    assert len(relay.messages) == 1 and relay.messages[0].code == "MDT_OVERDUE"
    (row,) = rows(factory)
    assert (row.status, row.attempts, row.last_error, row.accepted_channels) == ("sent", 4, None, None)
    assert row.sent_at == later
    (line,) = outbox(tmp_path)
    assert line["notification"] == row.id and line["code"] == "MDT_OVERDUE"
    with factory() as session:
        assert failed_notifications(session, sites=None) == []

    # The third sweep sends nothing again; two days on, only the escalation (a notification of its own).
    assert sweep(factory, tmp_path, relay, at=later + timedelta(hours=1)) == {
        "sent": 0,
        "already_sent": 1,
        "failed": 0,
        "in_progress": 0,
    }
    assert sweep(factory, tmp_path, relay, day=DAY + timedelta(days=2), at=later + timedelta(days=2))["sent"] == 1
    assert [(m.code, m.kind) for m in relay.messages] == [("MDT_OVERDUE", "first"), ("MDT_OVERDUE", "escalation")]
    assert [line["kind"] for line in outbox(tmp_path)] == ["first", "escalation"]


def test_failed_notification_whose_flag_cleared_is_dropped_not_sent(factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(factory)
    relay = Relay(up=False)
    assert sweep(factory, tmp_path, relay)["failed"] == 1
    run(factory, mdt("P1", held_on="2026-06-05", decision="anticoagulation_only"))
    relay.up = True
    result = sweep(factory, tmp_path, relay, day=DAY + timedelta(days=1), at=SWEPT_AT + timedelta(days=1))
    assert result == {"sent": 0, "already_sent": 0, "failed": 0, "in_progress": 0}
    assert relay.messages == [] and outbox(tmp_path) == []
    assert rows(factory) == []  # the key is released: never sent, nothing left for coordinators to chase
    with factory() as session:
        assert failed_notifications(session, sites=None) == []


def test_failed_amber_notice_superseded_by_red_is_dropped(factory: SessionFactory, tmp_path: Path) -> None:
    """Consent amber from 3 June, red from 8 June (procedure on 10 June): the red notice goes, not the amber."""
    run(factory, governance())
    awaiting_mdt(factory)
    run(factory, mdt("P1", held_on="2026-06-02"))
    run(factory, {"command": "schedule_procedure", "pathway": "P1", "scheduled_on": "2026-06-10"})
    run(factory, safety_check("P1", checked_on="2026-06-08"))  # so only consent stays outstanding
    relay = Relay(up=False)
    assert sweep(factory, tmp_path, relay, day=date(2026, 6, 3))["failed"] == 1
    relay.up = True
    assert sweep(factory, tmp_path, relay, day=date(2026, 6, 9), at=SWEPT_AT + timedelta(days=6))["sent"] == 1
    assert [(m.code, m.severity) for m in relay.messages] == [("CONSENT_OUTSTANDING", "red")]
    assert [(r.severity, r.status) for r in rows(factory)] == [("red", "sent")]


def test_a_failed_row_retried_elsewhere_after_the_sweep_read_what_stands_is_not_dropped(
    factory: SessionFactory, tmp_path: Path
) -> None:
    """The sweep drops a failed row only as it was when the sweep read what stands: one that another
    sweep or a pathway run took up, tried and failed again meanwhile was judged on a newer state."""
    awaiting_mdt(factory)
    assert sweep(factory, tmp_path, Relay(up=False))["failed"] == 1
    with factory() as session:
        seen = failed_now(session)
    (row,) = rows(factory)
    with factory() as session, session.begin():  # tried again elsewhere (3 more attempts), failed again
        session.execute(update(Notification).where(col(Notification.id) == row.id).values(attempts=6))
    assert drop_failed_not_standing(factory, frozenset(), seen) == 0
    assert [(r.id, r.status) for r in rows(factory)] == [(row.id, "failed")]
    with factory() as session:
        seen = failed_now(session)
    assert drop_failed_not_standing(factory, frozenset(), seen) == 1
    assert rows(factory) == []


def test_two_concurrent_sweeps_redeliver_each_failed_notification_once(factory: SessionFactory, tmp_path: Path) -> None:
    pathways = 4
    for n in range(pathways):
        awaiting_mdt(factory, f"P{n}", n)
    relay = Relay(up=False)
    day = date(2026, 6, 12)
    assert sweep(factory, tmp_path, relay, day=day)["failed"] == 3 * pathways  # MDT first, escalation, window
    relay.up = True
    start = threading.Barrier(3)
    results: list[dict[str, int]] = []

    def one_sweep() -> None:
        start.wait()
        results.append(sweep(factory, tmp_path, relay, day=day, at=SWEPT_AT + timedelta(hours=1)))

    threads = [threading.Thread(target=one_sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 3 and sum(r["sent"] for r in results) == 3 * pathways
    assert all(r["failed"] == 0 for r in results)
    assert Counter((m.pathway, m.code, m.kind) for m in relay.messages).most_common(1)[0][1] == 1
    assert len(relay.messages) == 3 * pathways
    lines = outbox(tmp_path)
    assert len(lines) == 3 * pathways == len({line["notification"] for line in lines})
    assert {r.status for r in rows(factory)} == {"sent"}


def test_redelivery_goes_only_to_the_channels_that_missed_it(factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(factory)
    took, missed = Relay(up=True), Relay(up=False)
    assert sweep(factory, tmp_path, took, missed)["failed"] == 1
    (row,) = rows(factory)
    assert (row.status, row.accepted_channels) == ("failed", took.identity)
    missed.up = True
    assert sweep(factory, tmp_path, took, missed, at=SWEPT_AT + timedelta(hours=1))["sent"] == 1
    assert (len(took.messages), len(missed.messages)) == (1, 1)
    assert len(outbox(tmp_path)) == 1


def test_redelivery_skips_the_channel_that_took_it_after_the_urls_are_reordered_and_one_replaced(
    factory: SessionFactory, tmp_path: Path
) -> None:
    """The channels that took a message are known by identity, not by their place in the settings."""
    awaiting_mdt(factory)
    took, broken = Relay(up=True), Relay(up=False)
    assert sweep(factory, tmp_path, took, broken)["failed"] == 1
    replacement = Relay(up=True)  # the broken hook replaced by a new one, listed first
    assert sweep(factory, tmp_path, replacement, took, at=SWEPT_AT + timedelta(hours=1))["sent"] == 1
    assert (len(took.messages), len(replacement.messages)) == (1, 1)


def test_a_channel_still_down_costs_one_rows_retries_per_sweep(factory: SessionFactory, tmp_path: Path) -> None:
    for n in range(3):
        awaiting_mdt(factory, f"P{n}", n)
    relay = Relay(up=False)
    assert sweep(factory, tmp_path, relay)["failed"] == 3
    assert relay.calls == 9
    again = sweep(factory, tmp_path, relay, at=SWEPT_AT + timedelta(hours=1))
    assert again == {"sent": 0, "already_sent": 0, "failed": 3, "in_progress": 0}
    assert relay.calls == 12  # the first redelivery tried and failed; the other two wait untried
    assert sorted(r.attempts for r in rows(factory)) == [3, 3, 6]
    assert {r.status for r in rows(factory)} == {"failed"}
    relay.up = True
    assert sweep(factory, tmp_path, relay, at=SWEPT_AT + timedelta(hours=2))["sent"] == 3
    assert len(relay.messages) == 3 and len(outbox(tmp_path)) == 3


def test_redelivery_stops_at_the_attempt_cap_and_the_row_stays_listed(factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(factory)
    relay = Relay(up=False)
    calls = []
    for hour in range(4):
        sweep(factory, tmp_path, relay, at=SWEPT_AT + timedelta(hours=hour), retries=1, redelivery_max_attempts=5)
        calls.append(relay.calls)
    assert calls == [2, 4, 6, 6]  # attempts 2, 4, 6: at 6 (>= 5) it is no longer tried
    relay.up = True
    assert sweep(factory, tmp_path, relay, at=SWEPT_AT + timedelta(hours=5), redelivery_max_attempts=5)["sent"] == 0
    assert relay.messages == [] and outbox(tmp_path) == []
    with factory() as session:
        (listed,) = failed_notifications(session, sites=None)
    assert (listed.status, listed.attempts) == ("failed", 6)


def test_redelivery_stops_after_its_days_and_the_row_stays_listed(factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(factory)
    relay = Relay(up=False)
    sweep(factory, tmp_path, relay, redelivery_max_days=2)
    relay.up = True
    late = sweep(
        factory, tmp_path, relay, day=DAY + timedelta(days=3), at=SWEPT_AT + timedelta(days=3), redelivery_max_days=2
    )
    assert late["sent"] == 1  # the escalation, a notification of its own; the failed first notice is not tried
    assert [(m.code, m.kind) for m in relay.messages] == [("MDT_OVERDUE", "escalation")]
    with factory() as session:
        (listed,) = failed_notifications(session, sites=None)
    assert (listed.code, listed.kind, listed.attempts) == ("MDT_OVERDUE", "first", 3)


def test_failed_request_is_sent_by_the_sweep_while_its_stage_asks_for_it(
    factory: SessionFactory, tmp_path: Path
) -> None:
    run(factory, governance())
    awaiting_mdt(factory)
    run(factory, mdt("P1", held_on="2026-06-02"))
    relay = Relay(up=False)
    settings = settings_for(tmp_path, retries=0)
    report = run_stage(
        factory,
        "P1",
        "consent",
        as_of=date(2026, 6, 3),
        settings=settings,
        clock=clock_at(SWEPT_AT),
        channels=RelayChannels(settings, relay),
        sleep=lambda _s: None,
    )
    assert report.requested == ("CONSENT_REQUESTED",)
    assert [(r.code, r.status) for r in rows(factory)] == [("CONSENT_REQUESTED", "failed")]
    relay.up = True
    sweep(factory, tmp_path, relay, day=date(2026, 6, 3), at=SWEPT_AT + timedelta(hours=1))
    assert [m.code for m in relay.messages if m.kind == "request"] == ["CONSENT_REQUESTED"]
    assert relay.messages[0].attachments  # the leaflet goes with it, as the first time
    sweep(factory, tmp_path, relay, day=date(2026, 6, 3), at=SWEPT_AT + timedelta(hours=2))
    assert [m.code for m in relay.messages if m.kind == "request"] == ["CONSENT_REQUESTED"]


def test_failed_request_no_longer_asked_for_is_dropped(factory: SessionFactory, tmp_path: Path) -> None:
    run(factory, governance())
    awaiting_mdt(factory)
    run(factory, mdt("P1", held_on="2026-06-02"))
    relay = Relay(up=False)
    settings = settings_for(tmp_path, retries=0)
    run_stage(
        factory,
        "P1",
        "consent",
        as_of=date(2026, 6, 3),
        settings=settings,
        clock=clock_at(SWEPT_AT),
        channels=RelayChannels(settings, relay),
        sleep=lambda _s: None,
    )
    run(factory, consent("P1", consented_on="2026-06-03"))
    relay.up = True
    sweep(factory, tmp_path, relay, day=date(2026, 6, 4), at=SWEPT_AT + timedelta(days=1))
    assert [m for m in relay.messages if m.kind == "request"] == []
    assert [r.code for r in rows(factory) if r.kind == "request"] == []


def test_smtp_down_through_the_retries_then_back_mails_once(factory: SessionFactory, tmp_path: Path) -> None:
    """A real relay (aiosmtpd on loopback) answers 451 to the sweep's 3 tries, then takes the next one."""
    awaiting_mdt(factory)
    mailbox = Mailbox(refuse_first=3)
    with smtp_server(mailbox) as port:
        settings = ReminderSettings(
            channels={"coordinator": [mailto(port, "dvt-coordinators@example.org")]},
            channel_interval_seconds=0,
            backoff_seconds=0,
            retries=2,
            outbox_path=tmp_path / "outbox.jsonl",
        )
        counts = [
            run_sweep(factory, as_of=DAY, settings=settings, clock=clock_at(SWEPT_AT + timedelta(hours=h))).as_dict()
            for h in range(3)
        ]
    assert counts == [
        {"sent": 0, "already_sent": 0, "failed": 1, "in_progress": 0},
        {"sent": 1, "already_sent": 0, "failed": 0, "in_progress": 0},
        {"sent": 0, "already_sent": 1, "failed": 0, "in_progress": 0},
    ]
    assert mailbox.attempts == 4 and len(mailbox.messages) == 1
    assert mailbox.subjects() == ["[RED] MDT assessment overdue (pathway P1 at North Vale)"]
    (row,) = rows(factory)
    assert (row.status, row.attempts) == ("sent", 4)
    assert len(outbox(tmp_path)) == 1
