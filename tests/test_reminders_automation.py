"""Each stage's automation (the patient-pathway flow's tasks), and the flow triggers commands leave behind."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pathway.domain.stages import STAGE_CODES
from pathway.errors import CommandRejected
from pathway.reminders.automation import evaluate_stage, run_stage
from pathway.reminders.settings import ReminderSettings
from pathway.reminders.triggers import count_pending, mark_sent, pending_runs
from pathway.store.db import SessionFactory
from tests.conftest import governance, mdt, procedure, run, treated_pathway
from tests.support.mailbox import Mailbox, mailto, smtp_server
from tests.support.reminders import awaiting_mdt, clock_at, outbox

AT = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)
DAY = date(2026, 6, 15)


def stage(factory: SessionFactory, tmp_path: Path, name: str, **settings: object) -> tuple[str, ...]:
    report = run_stage(
        factory,
        "P1",
        name,
        as_of=DAY,
        settings=ReminderSettings(outbox_path=tmp_path / "outbox.jsonl", **settings),  # type: ignore[arg-type]
        clock=clock_at(AT),
    )
    return report.requested


def test_pmt_decision_tells_the_consenting_clinician_with_the_leaflet_once(
    factory: SessionFactory, tmp_path: Path
) -> None:
    run(factory, governance())
    awaiting_mdt(factory)
    assert stage(factory, tmp_path, "consent") == ()  # no decision yet
    run(factory, mdt("P1", held_on="2026-06-02"))
    assert stage(factory, tmp_path, "consent") == ("CONSENT_REQUESTED",)
    assert stage(factory, tmp_path, "consent") == ()
    (line,) = outbox(tmp_path)
    assert (line["code"], line["recipient_role"], line["leaflet"], line["kind"]) == (
        "CONSENT_REQUESTED",
        "clinician",
        "PIL-PMT v2.0",
        "request",
    )


@pytest.mark.parametrize(("decision", "leaflet"), [("cdt", "PIL-CDT v2.0"), ("open_thrombectomy", "PIL-OPEN v2.0")])
def test_other_procedural_decisions_attach_their_own_leaflet(
    factory: SessionFactory, tmp_path: Path, decision: str, leaflet: str
) -> None:
    awaiting_mdt(factory)
    run(factory, mdt("P1", held_on="2026-06-02", decision=decision))
    assert stage(factory, tmp_path, "consent") == ("CONSENT_REQUESTED",)
    assert [line["leaflet"] for line in outbox(tmp_path)] == [leaflet]


def test_anticoagulation_only_decision_requests_no_consent(factory: SessionFactory, tmp_path: Path) -> None:
    awaiting_mdt(factory)
    run(factory, mdt("P1", held_on="2026-06-02", decision="anticoagulation_only"))
    assert [stage(factory, tmp_path, code) for code in STAGE_CODES] == [()] * len(STAGE_CODES)


def test_procedure_requests_the_registry_entry_and_the_follow_up_bookings(
    factory: SessionFactory, tmp_path: Path
) -> None:
    treated_pathway(factory)
    requested = {code: stage(factory, tmp_path, code) for code in STAGE_CODES}
    assert requested["registry"] == ("REGISTRY_ENTRY_REQUESTED",)
    assert requested["follow_up"] == ("FOLLOW_UP_BOOKING_REQUESTED",)
    assert requested["consent"] == ()  # consent was recorded before the procedure
    roles = {line["code"]: line["recipient_role"] for line in outbox(tmp_path)}
    assert roles == {"REGISTRY_ENTRY_REQUESTED": "coordinator", "FOLLOW_UP_BOOKING_REQUESTED": "coordinator"}
    assert all(stage(factory, tmp_path, code) == () for code in STAGE_CODES)


def test_stage_is_evaluated_through_the_rules(factory: SessionFactory) -> None:
    awaiting_mdt(factory)
    with factory() as session:
        report, requests = evaluate_stage(session, "P1", "mdt", date(2026, 6, 6))
    assert report.flags == ("MDT_OVERDUE:red",) and requests == []
    assert [(s.step, s.owner, s.due_on, s.done_on) for s in report.steps] == [
        ("mdt", "coordinator", "2026-06-04", None)
    ]


def test_consent_request_mail_carries_the_leaflet_pdf(sqlite_factory: SessionFactory, tmp_path: Path) -> None:
    run(sqlite_factory, governance())
    awaiting_mdt(sqlite_factory)
    run(sqlite_factory, mdt("P1", held_on="2026-06-02"))
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        clinicians = {"clinician": [mailto(port, "dvt-clinicians@example.org")]}
        requested = stage(sqlite_factory, tmp_path, "consent", channels=clinicians, channel_interval_seconds=0)
    assert requested == ("CONSENT_REQUESTED",)
    (mail,) = mailbox.messages
    assert "pathway P1 at North Vale" in str(mail["Subject"])
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == "PIL-PMT-v2.0.pdf"
    assert attachment.get_content().startswith(b"%PDF")


# --- the event outbox (flow triggers) ---------------------------------------------------------


def test_every_recorded_pathway_command_queues_a_flow_trigger(factory: SessionFactory) -> None:
    awaiting_mdt(factory)  # register (no pathway yet), diagnosis, anticoagulation
    with factory() as session:
        assert count_pending(session) == 2
        (pending,) = pending_runs(session)
    assert pending.pathway == "P1"
    with pytest.raises(CommandRejected):
        run(factory, procedure("P1"))  # no consent: rejected, so nothing is written
    with factory() as session:
        assert count_pending(session) == 2


def test_governance_notice_queues_each_pmt_pathway_it_replans(factory: SessionFactory) -> None:
    awaiting_mdt(factory, "P1", 0)
    awaiting_mdt(factory, "P2", 1)
    run(factory, mdt("P1", held_on="2026-06-02"))
    run(factory, mdt("P2", held_on="2026-06-02", decision="anticoagulation_only"))
    with factory() as session:
        before = {r.pathway: r.up_to for r in pending_runs(session)}
    run(factory, governance())
    with factory() as session:
        after = {r.pathway: r.up_to for r in pending_runs(session)}
    assert after["P1"] > before["P1"] and after["P2"] == before["P2"]


def test_triggers_queued_after_a_run_was_started_stay_pending(factory: SessionFactory) -> None:
    awaiting_mdt(factory)
    with factory() as session:
        (started,) = pending_runs(session)
    run(factory, mdt("P1", held_on="2026-06-02"))  # recorded while the run is being started
    mark_sent(factory, started, event_id="00000000-0000-0000-0000-000000000001", at=AT)
    with factory() as session:
        assert count_pending(session) == 1
        (pending,) = pending_runs(session)
    assert pending.up_to > started.up_to
