"""Text a user typed is shown as text on every page: never as markdown, HTML, LaTeX or a Streamlit directive.

A hostile patient is recorded through the services (as any user could), then every page that shows
it, or echoes what was typed, is run: no element that Streamlit renders as markdown may carry the
user's text unescaped, and the identity line puts the real NHS number first.
"""

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from pathway.store.db import SessionFactory
from tests.dashboard.conftest import NHS, app, page
from tests.support.hostile import ACTIVE, IMAGE, NAME, RATIONALE, record_hostile_patient


def markdown_bodies(at: AppTest) -> list[str]:
    """Every string the run handed to an element that Streamlit renders as markdown."""
    bodies: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning", "error"):
        bodies += [str(element.value) for element in getattr(at, kind)]
    bodies += [f"{m.label}\n{m.value}" for m in at.metric]
    bodies += [e.label for e in at.expander]
    bodies += [str(e.proto.label) for e in at.tabs]
    return bodies


def assert_no_active_text(at: AppTest) -> None:
    assert not at.exception
    found = [(active, body) for body in markdown_bodies(at) for active in ACTIVE if active in body]
    assert found == []


@pytest.fixture
def hostile(database: SessionFactory) -> SessionFactory:
    record_hostile_patient(database)
    return database


def test_the_patient_page_shows_recorded_text_as_text_and_the_real_nhs_number_first(hostile: SessionFactory) -> None:
    at = page("patient", "clin", patient_selected="P-HOSTILE")
    assert_no_active_text(at)
    (identity,) = [t.value for t in at.text if "NHS" in t.value]
    # The real number is the line's first: the name's fake one can only come after it.
    assert identity.startswith("NHS 999 000 0050 · ")
    assert NAME in identity and IMAGE in identity  # shown whole, as typed
    recorded = "".join(frame.value.to_csv() for frame in at.dataframe)
    assert RATIONALE in recorded  # the record's tables hold the text as it was typed


def test_the_auditors_patient_page_shows_the_site_as_text(hostile: SessionFactory) -> None:
    at = page("patient", "audit", patient_selected="P-HOSTILE")
    assert_no_active_text(at)
    (identity,) = [t.value for t in at.text if t.value.startswith("Site: ")]
    assert identity == f"Site: {IMAGE} · Sex: female"  # pseudonymised: no name, NHS number or birth date
    assert NAME not in "".join(t.value for t in at.text)


@pytest.mark.parametrize("name", ["patient", "exports"])
def test_an_unknown_reference_typed_is_echoed_as_text(database: SessionFactory, name: str) -> None:
    state = {"patient_selected": IMAGE} if name == "patient" else {}
    at = page(name, "clin", **state)
    if name == "exports":
        at = at.text_input(key="exports_pathway").set_value(IMAGE).run()
    assert_no_active_text(at)
    (error,) = [e.value for e in at.error]
    assert error.startswith("No pathway has the reference ") and "8699/p" in error


def test_the_record_page_shows_the_hostile_pathway_and_its_rejections_as_text(hostile: SessionFactory) -> None:
    at = page("record", "clin", patient_selected="P-HOSTILE")
    assert_no_active_text(at)
    at.selectbox(key="command").set_value("register_patient").run()
    at.text_input(key="record_register_patient_patient").input("H-HOSTILE")
    at.text_input(key="record_register_patient_nhs_number").input(NHS[0])
    at.selectbox(key="record_register_patient_site").set_value(IMAGE)  # a listed site with a hostile name
    at.date_input(key="record_register_patient_date_of_birth").set_value(date(1970, 3, 4))
    at.selectbox(key="record_register_patient_sex").set_value("female")
    at = at.button(key="FormSubmitter:record_form_register_patient-Save").click().run()
    assert_no_active_text(at)
    assert any("already registered" in e.value for e in at.error)


def test_the_worklist_and_reports_show_the_hostile_site_as_text(hostile: SessionFactory) -> None:
    for name in ("worklist", "reports", "reminders", "exports"):
        at = page(name, "coord")
        assert_no_active_text(at)
    worklist = page("worklist", "coord")
    assert IMAGE in worklist.dataframe[0].value["site"].tolist()


def test_the_codes_page_echoes_a_search_as_text(database: SessionFactory) -> None:
    at = page("codes", "clin")
    at.text_input(key="codes_query").set_value(IMAGE).run()
    assert_no_active_text(at)
    (info,) = [i.value for i in at.info]
    assert info.startswith("No code matches")


def test_the_whole_app_with_the_hostile_record_selected_stays_plain(hostile: SessionFactory) -> None:
    assert_no_active_text(app("boss"))
