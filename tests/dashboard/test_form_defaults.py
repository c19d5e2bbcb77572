"""No silent defaults on the recording forms, every broken rule shown at once in plain words, and
sites chosen from the managed list (never typed)."""

from datetime import timedelta

from streamlit.testing.v1.element_tree import Error

from dashboard.forms import plain_words
from pathway.domain.clock import utc_now
from pathway.services.sites import retire_site
from pathway.store.db import SessionFactory
from pathway.views import queries
from tests.dashboard.conftest import SEEDER, element_after, today
from tests.dashboard.conftest import _clear_streamlit_caches as clear_caches
from tests.support.recording import key, recording, save


def test_clinical_choices_start_empty(database: SessionFactory) -> None:
    procedure = recording("clin", "record_procedure", "P-CONSENT")
    for field in ("technique", "access_vein", "ivc_filter", "clot_removal"):
        assert procedure.selectbox(key=key("record_procedure", field)).value is None, field
    assert procedure.radio(key=key("record_procedure", "stent")).value is None
    mdt = recording("coord", "record_mdt", "P-QUIET")
    assert mdt.selectbox(key=key("record_mdt", "decision")).value is None
    assert mdt.radio(key=key("record_mdt", "thrombolysis")).value is None
    patient = recording("coord", "register_patient")
    assert patient.date_input(key=key("register_patient", "date_of_birth")).value is None
    assert patient.selectbox(key=key("register_patient", "sex")).value is None


def test_event_dates_cannot_be_after_today_but_a_planned_date_can(database: SessionFactory) -> None:
    consent = recording("clin", "record_consent", "P-CONSENT")
    picker = consent.date_input(key=key("record_consent", "consented_on"))
    assert picker.proto.max == today().isoformat()
    assert picker.proto.format == "DD/MM/YYYY"  # UK order
    schedule = recording("clin", "schedule_procedure", "P-CONSENT")
    planned = schedule.date_input(key=key("schedule_procedure", "scheduled_on"))
    assert planned.proto.max > today().isoformat()
    born = recording("coord", "register_patient").date_input(key=key("register_patient", "date_of_birth"))
    assert born.proto.min <= "1920-01-01"  # an old patient's birth date can be entered


def test_a_procedure_saved_untouched_lists_every_missing_choice_at_once(database: SessionFactory) -> None:
    command = "record_procedure"
    at = save(recording("clin", command, "P-CONSENT"), command)
    assert not at.exception
    for field in ("performed_on", "technique", "access_vein", "ivc_filter", "stent", "clot_removal"):
        error = element_after(at, key(command, field))
        assert isinstance(error, Error) and error.value.endswith("is required"), (field, error)
    assert any(e.value.startswith("Not saved: ") and "entries need attention" in e.value for e in at.error)
    assert len(at.success) == 0
    with database() as session:
        assert queries.pathway_detail(session, "P-CONSENT", today()).rows.procedures == []


def test_missing_choices_and_broken_clinical_rules_are_shown_together_beside_their_fields(
    database: SessionFactory,
) -> None:
    """The service judges the whole form at once: the choices left empty (its shape) and the clinical
    rules (no consent yet for P-CONSENT; a permanent filter needs its indication), each beside its field."""
    command = "record_procedure"
    at = recording("clin", command, "P-CONSENT")
    at.date_input(key=key(command, "performed_on")).set_value(today())
    at.selectbox(key=key(command, "ivc_filter")).set_value("permanent")
    at = save(at, command)
    assert not at.exception
    for field in ("technique", "access_vein", "stent", "clot_removal"):
        assert element_after(at, key(command, field)).value.endswith("is required"), field
    consent = element_after(at, key(command, "performed_on")).value
    assert "no consent is recorded" in consent and "record_consent" not in consent  # plain words, no code
    assert "is required for a permanent IVC filter" in element_after(at, key(command, "filter_indication")).value
    assert any(e.value.startswith("Not saved: 6 entries need attention") for e in at.error)
    with database() as session:
        assert queries.pathway_detail(session, "P-CONSENT", today()).rows.procedures == []


def test_the_site_is_chosen_from_the_managed_list_and_starts_empty(database: SessionFactory) -> None:
    """No typed site: the form offers the active sites on the list (tests.support.sites), none chosen;
    a site retired meanwhile is no longer offered."""
    command = "register_patient"
    at = recording("coord", command)
    site = at.selectbox(key=key(command, "site"))
    assert site.value is None and "North Vale" in site.options and "Harbour Royal" in site.options
    at.text_input(key=key(command, "patient")).input("H9")
    at.text_input(key=key(command, "nhs_number")).input("9990000050")
    at.date_input(key=key(command, "date_of_birth")).set_value(today() - timedelta(days=365 * 50))
    at.selectbox(key=key(command, "sex")).set_value("male")
    at = save(at, command)
    assert element_after(at, key(command, "site")).value == "Site: is required"
    at.selectbox(key=key(command, "site")).set_value("North Vale")
    at = save(at, command)
    assert [s.value for s in at.success] == ["Saved: register a patient."]
    retire_site(database, SEEDER, "South Vale", at=utc_now())
    clear_caches()
    assert "South Vale" not in recording("coord", command).selectbox(key=key(command, "site")).options


def test_messages_use_labels_and_uk_dates_not_codes() -> None:
    assert plain_words("needs a vascular_surgeon") == "needs a vascular surgeon"
    assert plain_words("consent must come first (record_consent first)") == (
        "consent must come first ('Record consent' first)"
    )
    assert plain_words("must not be before 2026-12-01") == "must not be before 1 Dec 2026"
