"""The weekly governance digest: its figures, its file, and one sending per week."""

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine

from pathway.reminders.digest import build_digest, send_digest, week_of
from pathway.reminders.settings import ReminderSettings
from pathway.store.db import SessionFactory
from tests.conftest import consent, governance, mdt, open_pathway, procedure, run, start_anticoagulation
from tests.support.reminders import clock_at, nhs_number, outbox

DAY = date(2026, 6, 15)  # a Monday
AT = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)


def cohort_for_governance(factory: SessionFactory) -> None:
    """P1 PMT on day 4 with a temporary filter; P2 waiting past day 14; P3 PMT on day 15, on the registry."""
    run(factory, governance())
    open_pathway(factory, "P1", "H1")
    run(factory, start_anticoagulation("P1"))
    run(factory, mdt("P1"))
    run(factory, consent("P1"))
    run(factory, procedure("P1", ivc_filter="temporary"))
    run(factory, {"command": "register_patient", **_patient("H2", 1)})
    run(factory, _diagnosis("P2", "H2", "2026-05-25"))
    run(factory, {"command": "register_patient", **_patient("H3", 2)})
    run(factory, _diagnosis("P3", "H3", "2026-05-28"))
    run(factory, start_anticoagulation("P3", "2026-05-28"))
    run(factory, mdt("P3", held_on="2026-05-29"))
    run(factory, consent("P3", consented_on="2026-05-30"))
    run(factory, procedure("P3", performed_on="2026-06-12"))
    run(factory, {"command": "submit_registry", "pathway": "P3", "submitted_on": "2026-06-13", "registry_ref": "R-3"})


def _patient(ref: str, n: int) -> dict[str, str]:
    return {
        "patient": ref,
        "nhs_number": nhs_number(n),
        "date_of_birth": "1960-01-01",
        "sex": "male",
        "site": "North Vale",
    }


def _diagnosis(pathway: str, patient: str, presented: str) -> dict[str, object]:
    return {
        "command": "record_diagnosis",
        "patient": patient,
        "pathway": pathway,
        "presented_on": presented,
        "symptom_onset_on": presented,
        "referred_on": presented,
        "leg": "right",
        "veins": ["external_iliac", "common_femoral"],
        "imaging": "duplex",
    }


def test_digest_counts_stages_flags_window_registry_and_filters(factory: SessionFactory) -> None:
    cohort_for_governance(factory)
    with factory() as session:
        digest = build_digest(session, DAY)
    assert digest.week_of == DAY and week_of(date(2026, 6, 21)) == DAY
    assert sum(digest.open_by_stage.values()) == 3 and digest.open_by_stage["diagnosis"] == 1  # P2
    assert digest.flags["MDT_OVERDUE"] == {"red": 1}
    assert digest.flags["ANTICOAGULATION_NOT_STARTED"] == {"red": 1}
    assert [(o.pathway, o.performed_on, o.day) for o in digest.outside_window] == [
        ("P2", None, 21),
        ("P3", date(2026, 6, 12), 15),
    ]
    assert (digest.pmt_pathways, digest.registry_submitted, digest.registry_completeness) == (2, 1, 0.5)
    assert [(f.pathway, f.placed_on, f.days) for f in digest.unretrieved_filters] == [("P1", date(2026, 6, 5), 10)]
    text = digest.as_markdown()
    assert "1 of 2 PMT pathways entered (50%)" in text and "- P2 (North Vale): presented 2026-05-25, day 21" in text


def test_digest_is_kept_as_a_file_and_sent_once_a_week(factory: SessionFactory, tmp_path: Path) -> None:
    cohort_for_governance(factory)
    settings = ReminderSettings(outbox_path=tmp_path / "outbox.jsonl", digests_path=tmp_path / "digests")
    first = send_digest(factory, as_of=DAY, settings=settings, clock=clock_at(AT))
    again = send_digest(factory, as_of=date(2026, 6, 17), settings=settings, clock=clock_at(AT))
    assert (first.status, again.status) == ("sent", "already_sent")
    assert first.file == tmp_path / "digests" / "governance-2026-06-15.md" == again.file
    assert first.file.read_text().startswith("# Governance digest, week of 2026-06-15")
    assert [(line["code"], line["recipient_role"]) for line in outbox(tmp_path)] == [
        ("GOVERNANCE_DIGEST", "governance")
    ]
    next_week = send_digest(factory, as_of=date(2026, 6, 22), settings=settings, clock=clock_at(AT))
    assert next_week.status == "sent" and next_week.file.name == "governance-2026-06-22.md"


def test_a_digest_claimed_by_a_sender_that_died_is_sent_by_the_next_run_and_a_live_ones_is_left(
    factory: SessionFactory, tmp_path: Path
) -> None:
    from pathway.reminders.claimer import holding_claim
    from pathway.store.reminder_models import GovernanceDigest

    cohort_for_governance(factory)
    settings = ReminderSettings(outbox_path=tmp_path / "outbox.jsonl", digests_path=tmp_path / "digests")
    with holding_claim(factory) as live:
        row = {"week_of": week_of(DAY), "file": "x", "status": "claimed", "attempts": 0, "claimed_at": AT}
        with factory() as session, session.begin():
            session.add(GovernanceDigest(**row, claim=live.claim))
        # Its sender is alive (it holds the claim's lock): another run leaves the week to it.
        assert send_digest(factory, as_of=DAY, settings=settings, clock=clock_at(AT)).status == "already_sent"
    # The block ended without marking the row, as a killed sender would: the lock is gone with it.
    assert send_digest(factory, as_of=DAY, settings=settings, clock=clock_at(AT)).status == "sent"
    assert [line["code"] for line in outbox(tmp_path)] == ["GOVERNANCE_DIGEST"]


def test_the_digest_states_and_anchors_the_audit_trail_and_says_when_it_is_broken(
    factory: SessionFactory, engine: Engine, tmp_path: Path
) -> None:
    import json

    from sqlalchemy import text

    from pathway.store import audit
    from pathway.store.audit_anchor import AnchorStore, database_identity

    cohort_for_governance(factory)
    store = AnchorStore(tmp_path / "anchors.jsonl", b"k" * 32, database_identity(str(engine.url)))
    settings = ReminderSettings(outbox_path=tmp_path / "outbox.jsonl", digests_path=tmp_path / "digests")
    sent = send_digest(factory, as_of=DAY, settings=settings, clock=clock_at(AT), audit_anchors=store)
    with factory() as session:
        chain = audit.verify(session)
    text_sent = sent.file.read_text()
    assert f"Intact: {chain.rows} rows, head `{chain.head}` (anchored, signed)." in text_sent
    anchor = json.loads(store.path.read_text())
    assert (anchor["source"], anchor["rows"], anchor["head"]) == ("digest", chain.rows, chain.head)

    with engine.begin() as connection:  # the last row deleted, triggers bypassed
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for statement in audit.DROP_TRIGGERS["sqlite"]:
                connection.execute(text(statement))
        connection.execute(text(f"DELETE FROM audit_event WHERE id = {chain.rows}"))
    again = send_digest(factory, as_of=DAY, settings=settings, clock=clock_at(AT), audit_anchors=store)
    assert "BROKEN" in again.file.read_text() and "rows deleted" in again.file.read_text()
