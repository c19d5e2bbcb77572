"""State in the URL: worklist filters and page, ?pathway=REF on the patient and recording pages, and
"Record for this pathway" opening the recording page on that pathway's next step, its patient named."""

from streamlit.testing.v1 import AppTest

from dashboard.forms import flag_command
from pathway.store.db import SessionFactory
from tests.dashboard.conftest import APP, PAGES, TIMEOUT, app, page, signed_in, texts


def _page_with_url(name: str, user: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=TIMEOUT)
    signed_in(at, user)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def test_worklist_filters_come_from_the_url(database: SessionFactory) -> None:
    at = _page_with_url("worklist", "coord", site="Harbour Royal")
    assert not at.exception
    assert at.selectbox(key="site").value == "Harbour Royal"
    assert list(at.dataframe[0].value["pathway"]) == ["P-HARBOUR"]
    flagged = _page_with_url("worklist", "coord", flagged="true", stage="Information and consent")
    assert list(flagged.dataframe[0].value["pathway"]) == ["P-CONSENT"]


def test_filters_are_kept_when_the_user_comes_back_to_the_worklist(database: SessionFactory) -> None:
    at = app("coord")
    at.selectbox(key="site").set_value("Harbour Royal").run()
    at.switch_page("app_pages/reports.py").run()
    at.switch_page("app_pages/worklist.py").run()
    assert not at.exception
    assert at.selectbox(key="site").value == "Harbour Royal"
    assert list(at.dataframe[0].value["pathway"]) == ["P-HARBOUR"]


def test_a_link_to_a_patient_opens_that_pathway(database: SessionFactory) -> None:
    at = _page_with_url("patient", "clin", pathway="P-CONSENT")
    assert not at.exception
    assert at.text_input(key="patient_ref_input").value == "P-CONSENT"
    assert "Pathway P-CONSENT" in texts(at)
    # Typing another reference puts it in the URL, so the address bar can be shared as it is.
    at.text_input(key="patient_ref_input").set_value("P-QUIET").run()
    assert at.query_params["pathway"] in ("P-QUIET", ["P-QUIET"])  # AppTest lists a value
    assert "Pathway P-QUIET" in texts(at)


def test_the_identity_line_names_the_patient_in_uk_formats(database: SessionFactory) -> None:
    at = page("patient", "clin", patient_selected="P-CONSENT")
    (identity,) = [t.value for t in at.text if t.value.startswith("NHS ")]
    assert identity.startswith("NHS 943 476 5919 · Ada Testcase · born 4 Mar 1970 (")
    assert "hospital number H1" in identity


def test_record_for_this_pathway_opens_its_next_step_with_the_patient_named(database: SessionFactory) -> None:
    at = app("clin")
    at.query_params["pathway"] = "P-CONSENT"
    at.switch_page("app_pages/patient.py").run()
    assert "Pathway P-CONSENT" in texts(at)
    at.button(key="patient_record").click().run()
    assert not at.exception
    assert at.title[0].value == "Recording"
    assert at.selectbox(key="command").value == "record_consent"  # the next step's form, chosen
    assert at.text_input(key="record_pathway_input").value == "P-CONSENT"
    # Above the form, as plain text: whose record this is.
    identity = [t.value for t in at.text if t.value.startswith("NHS ")]
    assert identity and identity[0].startswith("NHS 943 476 5919 · Ada Testcase · born 4 Mar 1970 (")


def test_the_recording_page_reads_its_pathway_and_form_from_the_url(database: SessionFactory) -> None:
    at = _page_with_url("record", "clin", pathway="P-QUIET", command="Record the MDT outcome")  # labels, as links carry
    assert not at.exception
    assert at.selectbox(key="command").value == "record_mdt"
    assert at.text_input(key="record_pathway_input").value == "P-QUIET"
    assert any(t.value.startswith("NHS 999 000 0034 · Di Mockford") for t in at.text)


def test_record_beside_a_flag_opens_the_form_that_clears_it(database: SessionFactory) -> None:
    at = app("clin")
    at.query_params["pathway"] = "P-CONSENT"
    at.switch_page("app_pages/patient.py").run()
    # P-CONSENT stands on consent outstanding: beside it, the consent form (not the next step's, not registration).
    beside = at.button(key="patient_record_CONSENT_OUTSTANDING")
    assert beside.label == "Record consent"
    beside.click().run()
    assert not at.exception
    assert at.title[0].value == "Recording"
    assert at.selectbox(key="command").value == "record_consent"
    assert at.text_input(key="record_pathway_input").value == "P-CONSENT"


def test_a_safety_check_flag_opens_the_safety_check_form() -> None:
    assert flag_command("SAFETY_CHECK_OUTSTANDING") == "record_safety_check"
    assert flag_command("MDT_OVERDUE") == "record_mdt"
    assert flag_command("NOT_A_FLAG") is None


def test_readers_get_no_record_button_beside_a_flag(database: SessionFactory) -> None:
    at = _page_with_url("patient", "audit", pathway="P-MISSED")
    assert not at.exception
    assert "Pathway P-MISSED" in texts(at)
    assert [b.key for b in at.button if str(b.key).startswith("patient_record")] == []
    worklist = _page_with_url("worklist", "audit")
    assert [s.key for s in worklist.selectbox if s.key == "worklist_record"] == []


def test_record_from_the_worklist_opens_the_flags_form_on_its_pathway(database: SessionFactory) -> None:
    at = app("clin")
    chooser = at.selectbox(key="worklist_record")
    (consent,) = [o for o in chooser.options if o.startswith("P-CONSENT · Consent not yet recorded")]
    chooser.set_value(consent).run()
    assert not at.exception
    assert at.title[0].value == "Recording"
    assert at.selectbox(key="command").value == "record_consent"
    assert at.text_input(key="record_pathway_input").value == "P-CONSENT"


def test_back_to_the_worklist_after_a_reload_elsewhere_finds_its_filters(database: SessionFactory) -> None:
    # A new session (a reload on the patient page) whose URL carries the worklist's filters back.
    at = signed_in(AppTest.from_file(str(APP), default_timeout=TIMEOUT), "coord")
    at.query_params["pathway"] = "P-HARBOUR"
    at.query_params["worklist"] = "site=Harbour+Royal&flagged=false"
    at.switch_page("app_pages/patient.py").run()
    assert "Pathway P-HARBOUR" in texts(at)
    at.query_params.clear()
    at.switch_page("app_pages/worklist.py").run()  # the browser's Back, the entry's parameters rewritten
    assert not at.exception
    assert at.selectbox(key="site").value == "Harbour Royal"
    assert list(at.dataframe[0].value["pathway"]) == ["P-HARBOUR"]
