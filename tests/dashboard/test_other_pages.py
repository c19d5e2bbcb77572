"""Reminders, Policy and Reports pages."""

import sys
from datetime import timedelta

import pytest
from sqlmodel import select

from pathway.domain.clock import utc_now
from pathway.domain.policy import policy_in_force
from pathway.store.db import SessionFactory
from pathway.store.models import Pathway
from pathway.store.reminder_models import Notification
from tests.dashboard.conftest import page, texts, today


def _notify(factory: SessionFactory, pathway: str, code: str, status: str, error: str | None = None) -> None:
    now = utc_now()
    with factory() as session, session.begin():
        pathway_id = session.exec(select(Pathway.id).where(Pathway.ref == pathway)).one()
        session.add(
            Notification(
                pathway_id=pathway_id,
                code=code,
                severity="red",
                kind="first",
                recipient_role="coordinator",
                channel="mailto",
                status=status,
                attempts=3 if status == "failed" else 1,
                last_error=error,
                as_of=today(),
                claim="test",
                claimed_at=now,
                created_at=now - timedelta(minutes=5 if status == "sent" else 1),
                sent_at=now if status == "sent" else None,
            )
        )


def test_reminders_page_lists_failed_and_recent_notifications(database: SessionFactory) -> None:
    _notify(database, "P-MISSED", "MDT_OVERDUE", "sent")
    _notify(database, "P-TREATED", "REGISTRY_SUBMISSION_OVERDUE", "failed", "SMTP refused")
    at = page("reminders", "coord")
    assert not at.exception
    assert [h.value for h in at.subheader] == ["Failed notifications (1)", "Recent notifications (2)"]
    failed, recent = (frame.value for frame in at.dataframe)
    assert list(failed["pathway"]) == ["P-TREATED"]
    assert failed["last_error"].iloc[0] == "SMTP refused"
    assert failed["flag"].iloc[0] == "Registry entry overdue"
    assert list(recent["pathway"]) == ["P-TREATED", "P-MISSED"]  # newest first
    assert len(at.download_button) == 2
    patient = page("patient", "coord", patient_selected="P-MISSED")
    assert "MDT_OVERDUE" in texts(patient)  # the patient page lists the reminders sent about it


def test_reminders_page_says_when_reminders_are_not_configured(
    database: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pathway.views.notifications", None)  # as if issue 3 were not installed
    at = page("reminders", "coord")
    assert not at.exception
    assert at.info[0].value.startswith("Reminders not configured")
    assert len(at.dataframe) == 0


def test_policy_page_shows_the_version_and_the_source_of_every_number(database: SessionFactory) -> None:
    at = page("policy", "audit")
    policy = policy_in_force()
    assert f"Version **{policy.version}**" in at.markdown[0].value
    numbers = at.dataframe[0].value.set_index("setting")
    assert set(numbers.index) == set(type(policy.numbers).model_fields)
    assert numbers.loc["treatment_window_days", "value"] == 14
    assert numbers.loc["treatment_window_days", "source"].startswith("NICE HTG516 3.9")
    assert numbers.loc["treatment_window_days", "allowed"] == "7 to 14"  # a 60-day window is refused at load
    assert numbers.loc["inr_max", "value"] == 1.5
    contraindications = at.dataframe[1].value
    assert list(contraindications["class"]).count("absolute") == 6
    assert "active_bleeding" in set(contraindications["code"])
    sessions = at.dataframe[2].value.set_index("setting")["value"]
    assert (sessions["inactivity timeout"], sessions["absolute session limit"]) == (30, 12)


def test_reports_page_shows_each_report_with_a_download(database: SessionFactory) -> None:
    at = page("reports", "audit")
    assert not at.exception
    assert [h.value for h in at.subheader] == [
        "Days from presentation to procedure",
        "Treated within the 14-day window, by month of presentation",
        "Pathways by stage",
        "Standing flags by type",
        "Complications",
        "Registry completeness",
    ]
    assert len(at.download_button) == 6
    assert len(at.get("vega_lite_chart")) == 4
    complications = next(f.value for f in at.dataframe if "complication" in f.value.columns)
    assert complications["complication"].iloc[0] == "access-site haematoma"
    registry = next(f.value for f in at.dataframe if "completeness" in f.value.columns)
    assert (registry["pmt_pathways"].iloc[0], registry["overdue"].iloc[0]) == (1, 1)
    assert "Ada" not in texts(at) and "H1" not in texts(at)


def test_the_patient_page_reads_its_own_reminders_however_many_others_are_newer(database: SessionFactory) -> None:
    # Its one reminder is older than 200 about another pathway: read by pathway, it is still listed.
    _notify(database, "P-MISSED", "MDT_OVERDUE", "sent")
    for number in range(201):  # one notification per (pathway, code, severity, kind): codes made up
        _notify(database, "P-TREATED", f"TEST_CODE_{number}", "failed", "SMTP refused")
    patient = page("patient", "coord", patient_selected="P-MISSED")
    reminders = next(f.value for f in patient.dataframe if "code" in f.value.columns and "channel" in f.value.columns)
    assert list(reminders["pathway"]) == ["P-MISSED"] and list(reminders["code"]) == ["MDT_OVERDUE"]
