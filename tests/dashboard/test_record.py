"""Recording page: forms built from the commands, role gating, rejections beside the field, conflicts."""

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Error

from dashboard.forms import COMMAND_TITLES
from pathway.domain.clock import utc_now
from pathway.domain.commands import COMMANDS
from pathway.domain.policy import policy_in_force
from pathway.domain.roles import COORDINATOR_COMMANDS
from pathway.services.commands import execute
from pathway.store.db import SessionFactory
from pathway.views import queries
from tests.dashboard.conftest import SEEDER, element_after, page, today, tree
from tests.support.recording import key, recording, save


def fill_consent(at: AppTest, consented_on: date) -> AppTest:
    at.date_input(key=key("record_consent", "consented_on")).set_value(consented_on)
    at.text_input(key=key("record_consent", "information_leaflet")).input("PIL-PMT v1.0")
    at.checkbox(key=key("record_consent", "uncertainties_discussed")).check()
    return at


def flags(factory: SessionFactory, pathway: str) -> list[str]:
    with factory() as session:
        return [f.code for f in queries.pathway_detail(session, pathway, today()).flags]


def consents(factory: SessionFactory, pathway: str) -> int:
    with factory() as session:
        return len(queries.pathway_detail(session, pathway, today()).rows.consents)


def test_each_role_is_offered_only_the_commands_it_may_run(database: SessionFactory) -> None:
    coordinator = page("record", "coord").selectbox(key="command").options
    assert coordinator == [COMMAND_TITLES[c] for c in COMMANDS if c in COORDINATOR_COMMANDS]
    assert "Record consent" not in coordinator and "Record the MDT outcome" in coordinator
    clinician = page("record", "clin").selectbox(key="command").options
    assert clinician == [COMMAND_TITLES[c] for c in COMMANDS]
    auditor = page("record", "audit")
    assert auditor.info[0].value == "The auditor role reads only: it records nothing."
    assert len(auditor.selectbox) == 0 and len(auditor.form_submit_button) == 0


def test_recording_consent_saves_it_and_clears_the_flag(database: SessionFactory) -> None:
    assert "CONSENT_OUTSTANDING" in flags(database, "P-CONSENT")
    at = recording("clin", "record_consent", "P-CONSENT")
    assert any("you are recording against version" in m.value for m in at.markdown)
    at = save(fill_consent(at, today() - timedelta(days=1)), "record_consent")
    assert not at.exception
    assert [s.value for s in at.success] == ["Saved: record consent for pathway P-CONSENT."]
    assert consents(database, "P-CONSENT") == 1
    assert "CONSENT_OUTSTANDING" not in flags(database, "P-CONSENT")
    assert at.text_input(key=key("record_consent", "information_leaflet")).value == ""  # ready for the next entry


def test_a_rejection_is_shown_beside_its_field_and_nothing_is_written(database: SessionFactory) -> None:
    at = recording("clin", "record_consent", "P-CONSENT")
    at = save(fill_consent(at, today() - timedelta(days=30)), "record_consent")  # before presentation
    error = element_after(at, key("record_consent", "consented_on"))
    assert isinstance(error, Error)
    assert error.value.startswith("Consented on: must not be before presented_on")
    assert len(at.success) == 0
    assert consents(database, "P-CONSENT") == 0
    assert at.text_input(key=key("record_consent", "information_leaflet")).value == "PIL-PMT v1.0"  # kept


def test_a_save_that_crosses_another_users_says_so_and_keeps_the_entries(database: SessionFactory) -> None:
    at = fill_consent(recording("clin", "record_consent", "P-CONSENT"), today())
    # Someone else saves first: the procedure is scheduled while the clinician is typing.
    execute(
        database,
        SEEDER,
        {
            "command": "schedule_procedure",
            "pathway": "P-CONSENT",
            "scheduled_on": (today() + timedelta(days=3)).isoformat(),
        },
        recorded_at=utc_now(),
    )
    at = save(at, "record_consent")
    assert "was changed by someone else after you opened it" in at.error[0].value
    assert consents(database, "P-CONSENT") == 0
    assert at.text_input(key=key("record_consent", "information_leaflet")).value == "PIL-PMT v1.0"
    assert at.checkbox(key=key("record_consent", "uncertainties_discussed")).value is True
    assert "has changed since you opened it" in at.warning[0].value
    at = at.button(key="record_reload").click().run()  # read the new version, then save again
    at = save(at, "record_consent")
    assert [s.value for s in at.success] == ["Saved: record consent for pathway P-CONSENT."]
    assert consents(database, "P-CONSENT") == 1


def test_mdt_quorum_rejection_then_a_complete_mdt(database: SessionFactory) -> None:
    at = recording("coord", "record_mdt", "P-QUIET")
    at.date_input(key=key("record_mdt", "held_on")).set_value(today())
    at.radio(key=key("record_mdt", "thrombolysis")).set_value("no")
    at.selectbox(key=key("record_mdt", "decision")).set_value("pmt")
    at.text_area(key=key("record_mdt", "rationale")).input("Iliofemoral DVT, fit for PMT.")
    at.text_input(key=key("record_mdt", "attendee_vascular_surgeon")).input("Dr V")
    at.text_input(key=key("record_mdt", "attendee_interventional_radiologist")).input("Dr I")
    at = save(at, "record_mdt")
    assert "haematologist" in element_after(at, key("record_mdt", "attendees_other")).value
    at.text_input(key=key("record_mdt", "attendee_haematologist")).input("Dr H")
    at = save(at, "record_mdt")
    assert [s.value for s in at.success] == ["Saved: record the mdt outcome for pathway P-QUIET."]
    with database() as session:
        detail = queries.pathway_detail(session, "P-QUIET", today())
    assert detail.pathway.decision == "pmt"
    assert {a["role"] for a in detail.rows.mdts[0]["attendees"]} == {
        "vascular_surgeon",
        "interventional_radiologist",
        "haematologist",
    }


def test_register_patient_rejects_a_bad_nhs_number_beside_it(database: SessionFactory) -> None:
    at = recording("coord", "register_patient")
    at.text_input(key=key("register_patient", "patient")).input("H9")
    at.text_input(key=key("register_patient", "nhs_number")).input("9434765918")
    at.date_input(key=key("register_patient", "date_of_birth")).set_value(date(1960, 1, 2))
    at.selectbox(key=key("register_patient", "sex")).set_value("male")
    at.selectbox(key=key("register_patient", "site")).set_value("North Vale")
    at = save(at, "register_patient")
    assert element_after(at, key("register_patient", "nhs_number")).value.startswith("NHS number: check digit")
    at.text_input(key=key("register_patient", "nhs_number")).input("9990000050")
    at = save(at, "register_patient")
    assert [s.value for s in at.success] == ["Saved: register a patient."]


def test_a_diagnosis_opens_a_pathway_from_the_form(database: SessionFactory) -> None:
    at = recording("coord", "record_diagnosis")
    at.text_input(key=key("record_diagnosis", "pathway")).input("P-NEW")
    at.text_input(key=key("record_diagnosis", "patient")).input("H4")
    at.multiselect(key=key("record_diagnosis", "veins")).set_value(["external_iliac", "common_femoral"])
    for field in ("presented_on", "symptom_onset_on", "referred_on"):
        at.date_input(key=key("record_diagnosis", field)).set_value(today())
    at.selectbox(key=key("record_diagnosis", "leg")).set_value("left")
    at.selectbox(key=key("record_diagnosis", "imaging")).set_value("duplex")
    at = save(at, "record_diagnosis")
    assert [s.value for s in at.success] == ["Saved: record the diagnosis (opens a pathway) for pathway P-NEW."]
    with database() as session:
        detail = queries.pathway_detail(session, "P-NEW", today())
    assert (detail.pathway.extent, detail.pathway.route) == ("iliofemoral", "special_arrangements")


def test_an_unknown_pathway_is_named_beside_the_reference(database: SessionFactory) -> None:
    at = recording("clin", "record_consent", "P-NOPE")
    assert element_after(at, "record_pathway_input").value == "no pathway has this reference"
    assert len(at.form_submit_button) == 0


def test_a_save_while_another_writer_holds_the_database_says_busy_and_keeps_the_entries(
    database: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's write lock held past the wait: "busy, nothing recorded", not someone else's change."""
    monkeypatch.setenv("PATHWAY_SQLITE_BUSY_SECONDS", "0.1")
    at = fill_consent(recording("clin", "record_consent", "P-CONSENT"), today())
    holder = sqlite3.connect(tmp_path / "pathway.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        at = save(at, "record_consent")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert "busy with other saves, so nothing was recorded" in error and "changed by someone else" not in error
    assert consents(database, "P-CONSENT") == 0
    assert at.text_input(key=key("record_consent", "information_leaflet")).value == "PIL-PMT v1.0"
    at = save(at, "record_consent")  # the lock is gone: the same entries save
    assert consents(database, "P-CONSENT") == 1


# --- version 2: the safety check form and the new optional fields -------------------------------------


def test_the_safety_check_form_lists_contraindications_as_checkboxes_absolute_then_relative(
    database: SessionFactory,
) -> None:
    at = recording("clin", "record_safety_check", "P-CONSENT")
    command = "record_safety_check"
    lists = policy_in_force().contraindications
    for code in lists.codes:
        assert at.checkbox(key=key(command, f"contraindication_{code}")).label == lists.words(code)
    markdown = [m.value for m in at.markdown]
    assert markdown.index("*Absolute*") < markdown.index("*Relative*")
    at.date_input(key=key(command, "checked_on")).set_value(today())
    for field, value in (("platelets", 42.0), ("inr", 1.51), ("haemoglobin", 118.0), ("egfr", 70.0)):
        at.number_input(key=key(command, field)).set_value(value)
    at.checkbox(key=key(command, "contraindication_active_bleeding")).check()
    at.checkbox(key=key(command, "contraindication_tia_6_months")).check()
    at = save(at, command)
    assert [s.value for s in at.success] == ["Saved: record the pre-procedure safety check for pathway P-CONSENT."]
    with database() as session:
        (check,) = queries.pathway_detail(session, "P-CONSENT", today()).rows.safety_checks
    assert (check["platelets"], check["inr"]) == (42.0, 1.51)
    assert check["contraindications"] == ["active_bleeding", "tia_6_months"]
    assert "SAFETY_CHECK_FAILED" in flags(database, "P-CONSENT")


def test_a_coordinator_is_not_offered_the_safety_check(database: SessionFactory) -> None:
    options = page("record", "coord").selectbox(key="command").options
    assert COMMAND_TITLES["record_safety_check"] not in options


def test_a_procedure_hold_without_its_plan_is_refused_beside_the_restart_field(database: SessionFactory) -> None:
    command = "stop_anticoagulation"
    at = recording("clin", command, "P-CONSENT")
    at.date_input(key=key(command, "stopped_on")).set_value(today())
    at.selectbox(key=key(command, "reason")).set_value("procedure_hold")
    at = save(at, command)
    error = element_after(at, key(command, "restart_planned_on"))
    assert isinstance(error, Error) and "needs a planned restart" in error.value
    at.date_input(key=key(command, "restart_planned_on")).set_value(today() + timedelta(days=2))
    at.text_input(key=key(command, "plan_approved_by")).input("Dr H. Haematologist")
    at = save(at, command)
    assert [s.value for s in at.success] == ["Saved: stop anticoagulation for pathway P-CONSENT."]


def test_the_new_optional_fields_are_on_their_forms(database: SessionFactory) -> None:
    diagnosis = recording("coord", "record_diagnosis")
    assert diagnosis.radio(key=key("record_diagnosis", "pregnant")).options == ["yes", "no"]
    assert diagnosis.radio(key=key("record_diagnosis", "pregnant")).value is None  # nothing chosen for the user
    mdt = recording("coord", "record_mdt", "P-QUIET")
    assert mdt.text_area(key=key("record_mdt", "outside_scope_plan")) is not None
    procedure = recording("clin", "record_procedure", "P-CONSENT")
    for field in ("outside_criteria_rationale", "filter_indication", "filter_removal_planned_on"):
        assert any(getattr(e, "key", None) == key("record_procedure", field) for e in tree(procedure)), field
