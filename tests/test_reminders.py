"""The reminder sweep: one notification per standing flag and severity, to the step's owner, exactly once.

Run on SQLite and (with PATHWAY_TEST_POSTGRES_URL) PostgreSQL. The outbox, a real local channel,
is the record of what went out; a fake channel stands in only where a remote service would fail.
"""

import threading
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from pathway.domain.rules import BEGINNING, END
from pathway.reminders.channels import Channels, Message
from pathway.reminders.claims import Pending, insert_claims
from pathway.reminders.settings import ReminderSettings
from pathway.reminders.sweep import Standing, due_notifications, run_sweep, standing_flags
from pathway.store.db import SessionFactory
from pathway.store.reminder_models import Notification
from pathway.views.notifications import failed_notifications, recent_notifications
from tests.conftest import consent, governance, mdt, run, safety_check
from tests.support.reminders import (
    SWEPT_AT,
    FakeChannels,
    RecordingChannel,
    awaiting_mdt,
    clock_at,
    outbox,
    settings_for,
    sweep,
)


def test_due_notifications_one_per_flag_at_its_highest_severity_to_the_step_owner() -> None:
    day = date(2026, 6, 9)
    standing = [
        Standing(1, "CONSENT_OUTSTANDING", "amber", BEGINNING, date(2026, 6, 10)),
        Standing(1, "CONSENT_OUTSTANDING", "red", date(2026, 6, 8), date(2026, 6, 10)),
        Standing(1, "MDT_OVERDUE", "red", date(2026, 6, 9), date(2026, 6, 8)),
        Standing(2, "TREATMENT_WINDOW_AT_RISK", "amber", date(2026, 6, 9), date(2026, 6, 13)),
    ]
    due = due_notifications(standing, day, escalation_days=2)
    assert [(p.pathway_id, p.code, p.severity, p.kind, p.recipient_role) for p in due] == [
        (1, "CONSENT_OUTSTANDING", "red", "first", "clinician"),
        (1, "MDT_OVERDUE", "red", "first", "coordinator"),
        (2, "TREATMENT_WINDOW_AT_RISK", "amber", "first", "clinician"),
    ]


@pytest.mark.parametrize(("days_red", "escalated"), [(0, False), (1, False), (2, True), (9, True)])
def test_due_notifications_escalate_a_red_flag_standing_n_days(days_red: int, escalated: bool) -> None:
    day = date(2026, 6, 20)
    standing = [Standing(1, "MDT_OVERDUE", "red", day - timedelta(days=days_red), END)]
    kinds = [(p.kind, p.recipient_role) for p in due_notifications(standing, day, escalation_days=2)]
    assert kinds == [("first", "coordinator")] + ([("escalation", "escalation")] if escalated else [])


def test_due_notifications_never_escalate_amber() -> None:
    day = date(2026, 6, 20)
    standing = [Standing(1, "CONSENT_OUTSTANDING", "amber", BEGINNING, date(2026, 7, 1))]
    assert [p.kind for p in due_notifications(standing, day, escalation_days=2)] == ["first"]


# --- sweeps against a real database ----------------------------------------------------------


def test_sweep_rerun_sends_nothing_new(factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(factory)
    first = sweep(factory, tmp_path, date(2026, 6, 5))
    again = sweep(factory, tmp_path, date(2026, 6, 5))
    assert first == {"sent": 1, "already_sent": 0, "failed": 0, "in_progress": 0}
    assert again == {"sent": 0, "already_sent": 1, "failed": 0, "in_progress": 0}
    lines = outbox(tmp_path)
    assert [(line["pathway"], line["code"], line["severity"], line["recipient_role"]) for line in lines] == [
        ("P1", "MDT_OVERDUE", "red", "coordinator")
    ]
    assert lines[0]["site"] == "North Vale" and lines[0]["channel"] == "outbox"
    assert datetime.fromisoformat(lines[0]["at"]) == SWEPT_AT


def test_sweep_does_not_notify_a_step_completed_before_it(factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(factory, "P1", 0)
    awaiting_mdt(factory, "P2", 1)
    run(factory, mdt("P1", held_on="2026-06-04", decision="anticoagulation_only"))
    sweep(factory, tmp_path, date(2026, 6, 6))
    assert {(line["pathway"], line["code"]) for line in outbox(tmp_path)} == {("P2", "MDT_OVERDUE")}


def test_sweep_escalates_a_red_flag_after_two_days_once(factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(factory)
    sent = [sweep(factory, tmp_path, date(2026, 6, day))["sent"] for day in (5, 6, 7, 8, 9)]
    assert sent == [1, 0, 1, 0, 0]
    escalations = [line for line in outbox(tmp_path) if line["kind"] == "escalation"]
    assert [(e["code"], e["recipient_role"]) for e in escalations] == [("MDT_OVERDUE", "escalation")]


def test_sweep_catches_up_after_downtime_with_what_stands_now(factory: SessionFactory, tmp_path: Path) -> None:
    """Consent amber until the day before S - 2 (S = 10 June), red from 8 June; no sweep ran 4 to 8 June."""
    run(factory, governance())
    awaiting_mdt(factory)
    run(factory, mdt("P1", held_on="2026-06-02"))
    run(factory, {"command": "schedule_procedure", "pathway": "P1", "scheduled_on": "2026-06-10"})
    run(factory, safety_check("P1", checked_on="2026-06-08"))  # so only consent stays outstanding
    assert sweep(factory, tmp_path, date(2026, 6, 3))["sent"] == 1  # consent outstanding, amber
    after_downtime = sweep(factory, tmp_path, date(2026, 6, 9))
    assert after_downtime == {
        "sent": 1,
        "already_sent": 0,
        "failed": 0,
        "in_progress": 0,
    }  # red now; the amber is not repeated
    assert sweep(factory, tmp_path, date(2026, 6, 9))["sent"] == 0
    sent = [(line["code"], line["severity"], line["kind"]) for line in outbox(tmp_path)]
    assert sent == [("CONSENT_OUTSTANDING", "amber", "first"), ("CONSENT_OUTSTANDING", "red", "first")]


def test_sweep_after_the_consent_is_recorded_sends_nothing_more(factory: SessionFactory, tmp_path: Path) -> None:
    run(factory, governance())
    awaiting_mdt(factory)
    run(factory, mdt("P1", held_on="2026-06-02"))
    assert sweep(factory, tmp_path, date(2026, 6, 3))["sent"] == 1
    run(factory, consent("P1", consented_on="2026-06-04"))
    assert sweep(factory, tmp_path, date(2026, 6, 5)) == {"sent": 0, "already_sent": 0, "failed": 0, "in_progress": 0}


def test_two_concurrent_sweeps_send_each_notification_once(factory: SessionFactory, tmp_path: Path) -> None:
    pathways = 6
    for n in range(pathways):
        awaiting_mdt(factory, f"P{n}", n)
    start = threading.Barrier(3)
    results: list[dict[str, int]] = []

    def one_sweep() -> None:
        start.wait()
        results.append(sweep(factory, tmp_path, date(2026, 6, 12)))

    threads = [threading.Thread(target=one_sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    lines = outbox(tmp_path)
    # Each pathway: MDT_OVERDUE first and escalation, TREATMENT_WINDOW_AT_RISK first.
    assert len(lines) == 3 * pathways
    assert Counter((x["pathway"], x["code"], x["kind"]) for x in lines).most_common(1)[0][1] == 1
    assert sum(r["sent"] for r in results) == 3 * pathways
    assert all(r["failed"] == 0 for r in results) and len(results) == 3
    # Every sweep accounts for every notification: sent by it, sent before, or being sent by another.
    assert all(r["sent"] + r["already_sent"] + r["in_progress"] == 3 * pathways for r in results)
    with factory() as session:
        assert len(session.exec(select(Notification)).all()) == 3 * pathways


def test_sweep_killed_mid_batch_then_rerun_sends_each_once(factory: SessionFactory, tmp_path: Path) -> None:
    """The sweep dies after 2 deliveries: an immediate re-run sends the claimed-but-unsent rows, each once."""
    for n in range(3):
        awaiting_mdt(factory, f"P{n}", n)
    dying = RecordingChannel(crash_after=2)
    with pytest.raises(KeyboardInterrupt):
        sweep(factory, tmp_path, date(2026, 6, 12), channels=FakeChannels(settings_for(tmp_path), dying))
    with factory() as session:
        statuses = Counter(n.status for n in session.exec(select(Notification)).all())
    assert statuses == {"sent": 2, "claimed": 7}
    # Its claim lock went with it: a re-run at the same instant takes the 7 over and sends each once.
    healthy = RecordingChannel()
    again = sweep(factory, tmp_path, date(2026, 6, 12), channels=FakeChannels(settings_for(tmp_path), healthy))
    assert again == {"sent": 7, "already_sent": 2, "failed": 0, "in_progress": 0}
    sent = dying.messages + healthy.messages
    assert len(sent) == 9 and len({(m.pathway, m.code, m.kind) for m in sent}) == 9
    assert len(outbox(tmp_path)) == 9 and len({line["notification"] for line in outbox(tmp_path)}) == 9


def test_taken_over_claim_is_dropped_when_its_step_was_done_since(factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(factory)
    with pytest.raises(KeyboardInterrupt):
        sweep(
            factory,
            tmp_path,
            date(2026, 6, 5),
            channels=FakeChannels(settings_for(tmp_path), RecordingChannel(crash_after=0)),
        )
    run(factory, mdt("P1", held_on="2026-06-05", decision="anticoagulation_only"))
    later = run_sweep(
        factory,
        as_of=date(2026, 6, 6),
        settings=settings_for(tmp_path),
        clock=clock_at(SWEPT_AT + timedelta(hours=1)),
    )
    assert later.as_dict() == {"sent": 0, "already_sent": 0, "failed": 0, "in_progress": 0}
    with factory() as session:
        assert session.exec(select(Notification)).all() == []
    assert outbox(tmp_path) == []


def test_channel_failing_twice_then_recovering_delivers_once(factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(factory)
    flaky = RecordingChannel(failures=2)
    pauses: list[float] = []
    result = run_sweep(
        factory,
        as_of=date(2026, 6, 5),
        settings=ReminderSettings(outbox_path=tmp_path / "outbox.jsonl", retries=3, backoff_seconds=2),
        clock=clock_at(SWEPT_AT),
        channels=FakeChannels(settings_for(tmp_path), flaky),
        sleep=pauses.append,
    )
    assert result.sent == 1 and len(flaky.messages) == 1 and flaky.calls == 3
    assert pauses == [2, 4]  # exponential backoff between attempts
    with factory() as session:
        (row,) = session.exec(select(Notification)).all()
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)


def test_channel_failing_past_the_retries_is_recorded_as_failed_and_listed(
    factory: SessionFactory, tmp_path: Path
) -> None:
    """Within its sweep: bounded retries, then `failed` and listed (later sweeps: test_reminders_redelivery)."""
    awaiting_mdt(factory)
    broken = RecordingChannel(failures=99)
    channels = FakeChannels(settings_for(tmp_path), broken)
    result = sweep(factory, tmp_path, date(2026, 6, 5), channels=channels, retries=2)
    assert result == {"sent": 0, "already_sent": 0, "failed": 1, "in_progress": 0}
    assert broken.calls == 3 and outbox(tmp_path) == []
    with factory() as session:
        (failed,) = failed_notifications(session, sites=None)
    assert (failed.pathway, failed.site, failed.code, failed.status, failed.attempts) == (
        "P1",
        "North Vale",
        "MDT_OVERDUE",
        "failed",
        3,
    )
    assert failed.last_error == "fake: ConnectionError: relay refused" and failed.sent_at is None


def test_recent_notifications_newest_first_with_every_field(factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(factory)
    sweep(factory, tmp_path, date(2026, 6, 5))
    run_sweep(
        factory,
        as_of=date(2026, 6, 7),
        settings=settings_for(tmp_path),
        clock=clock_at(SWEPT_AT + timedelta(days=2)),
    )
    with factory() as session:
        views = recent_notifications(session, sites=None, limit=10)
        assert failed_notifications(session, sites=None) == []
        assert len(recent_notifications(session, sites=None, limit=1)) == 1
    assert [(v.code, v.kind, v.recipient_role) for v in views] == [
        ("MDT_OVERDUE", "escalation", "escalation"),
        ("MDT_OVERDUE", "first", "coordinator"),
    ]
    newest = views[0]
    assert (newest.pathway, newest.site, newest.severity, newest.channel, newest.status) == (
        "P1",
        "North Vale",
        "red",
        "outbox",
        "sent",
    )
    assert newest.created_at == SWEPT_AT + timedelta(days=2) and newest.sent_at == newest.created_at
    assert newest.attempts == 1 and newest.last_error is None


def test_standing_flags_ignore_closed_pathways(factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(factory)
    run(factory, {"command": "close_pathway", "pathway": "P1", "closed_on": "2026-06-04", "reason": "transferred"})
    with factory() as session:
        assert standing_flags(session, date(2026, 6, 10)) == []


def test_pending_key_names_pathway_code_severity_kind() -> None:
    pending = Pending(7, "MDT_OVERDUE", "red", "escalation", "escalation", None)
    assert pending.key == (7, "MDT_OVERDUE", "red", "escalation")


def test_claiming_a_taken_key_inserts_nothing_and_raises_nothing(factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(factory)
    sweep(factory, tmp_path, date(2026, 6, 5))
    with factory() as session:
        (held,) = session.exec(select(Notification)).all()
    taken = Pending(held.pathway_id, "MDT_OVERDUE", "red", "first", "coordinator", None)
    channels = Channels(settings_for(tmp_path))
    insert_claims(factory, [taken], claim="rival", as_of=date(2026, 6, 5), at=SWEPT_AT, channels=channels, outbox=True)
    with factory() as session:
        assert [(n.id, n.claim, n.status) for n in session.exec(select(Notification)).all()] == [
            (held.id, held.claim, "sent")
        ]


def test_a_live_sweeps_claims_are_never_taken_over_however_long_it_runs(
    factory: SessionFactory, tmp_path: Path
) -> None:
    """Sweep A's clock runs an hour per message; sweep B starts while A is mid-batch: it sends nothing,
    counts A's unsent claims as in progress (not as sent), and A finishes its batch."""
    for n in range(3):
        awaiting_mdt(factory, f"P{n}", n)
    ticks = iter(range(0, 10_000_000, 3600))

    def slow_clock() -> datetime:
        return SWEPT_AT + timedelta(seconds=next(ticks))

    rival = RecordingChannel()
    settings = settings_for(tmp_path)
    rival_counts: list[dict[str, int]] = []

    class RivalStartsMidBatch(RecordingChannel):
        def send(self, message: Message) -> None:
            super().send(message)
            if len(self.messages) == 3:
                now = slow_clock()
                result = run_sweep(
                    factory,
                    as_of=date(2026, 6, 12),
                    settings=settings,
                    clock=lambda: now,
                    channels=FakeChannels(settings, rival),
                )
                rival_counts.append(result.as_dict())

    first = RivalStartsMidBatch()
    run_sweep(
        factory, as_of=date(2026, 6, 12), settings=settings, clock=slow_clock, channels=FakeChannels(settings, first)
    )
    assert rival.messages == [] and len(first.messages) == 9
    assert rival_counts == [{"sent": 0, "already_sent": 2, "failed": 0, "in_progress": 7}]  # the 3rd not yet marked
    assert len(outbox(tmp_path)) == 9
