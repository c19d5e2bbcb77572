"""The login gate on the entry point: nothing before sign-in, lockout, timeouts, roles' pages."""

from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from pathway.domain.clock import utc_now
from pathway.services.accounts import disable_user
from pathway.store.db import SessionFactory
from tests.dashboard.conftest import APP, NHS, PASSWORD, TIMEOUT, app, texts


def sign_in(at: AppTest, name: str, password: str = PASSWORD) -> AppTest:
    fields = {w.label: w for w in at.text_input}
    fields["Username"].input(name)
    fields["Password"].input(password)
    return at.form_submit_button[0].click().run()


def test_before_sign_in_only_the_login_form_shows(database: SessionFactory) -> None:
    at = app()
    assert not at.exception
    assert [w.label for w in at.text_input] == ["Username", "Password"]
    assert at.text_input[1].proto.type == at.text_input[1].proto.PASSWORD
    assert [b.label for b in at.form_submit_button] == ["Sign in"]
    assert all(frame.value.empty for frame in at.dataframe) and len(at.metric) == 0  # the hidden warm-up table only
    page_text = texts(at)
    assert all(ref not in page_text for ref in ("P-CONSENT", "P-MISSED", "H1", NHS[0]))
    at.switch_page("app_pages/patient.py").run()  # a link to a page still shows only the form
    assert [w.label for w in at.text_input] == ["Username", "Password"] and len(at.title) == 1
    assert all(ref not in texts(at) for ref in ("P-CONSENT", "Ada"))


def test_signing_in_opens_the_worklist(database: SessionFactory) -> None:
    at = sign_in(app(), "coord")
    assert not at.exception
    assert at.title[0].value == "Worklist"
    assert at.session_state["auth_user"] == "coord"
    assert "Signed in as **coord** (coordinator)" in [m.value for m in at.sidebar.markdown]


def test_unknown_user_and_wrong_password_get_the_same_error(database: SessionFactory) -> None:
    unknown = sign_in(app(), "nobody")
    wrong = sign_in(app(), "coord", "wrong password")
    assert [e.value for e in unknown.error] == [e.value for e in wrong.error] == ["Unknown username or wrong password."]
    assert "auth_user" not in wrong.session_state


def test_five_failures_lock_the_account_even_for_the_right_password(database: SessionFactory) -> None:
    at = app()
    for _ in range(5):
        at = sign_in(at, "clin", "wrong password")
    at = sign_in(at, "clin", PASSWORD)
    assert [e.value for e in at.error] == ["Unknown username or wrong password."]
    assert "auth_user" not in at.session_state
    assert "locked for 15 minutes" in " ".join(c.value for c in at.caption)


def _signed_in_app(name: str) -> AppTest:
    at = sign_in(app(), name)
    assert at.title[0].value == "Worklist"
    return at


def test_thirty_minutes_without_activity_signs_out(database: SessionFactory) -> None:
    at = _signed_in_app("coord")
    at.session_state["auth_last_active_at"] = utc_now() - timedelta(minutes=31)
    at.run()
    assert "auth_user" not in at.session_state
    assert at.info[0].value.startswith("You were signed out after 30 minutes without activity")
    assert [w.label for w in at.text_input] == ["Username", "Password"]
    assert all(frame.value.empty for frame in at.dataframe)


def test_activity_keeps_the_session_until_the_twelve_hour_limit(database: SessionFactory) -> None:
    at = _signed_in_app("coord")
    at.session_state["auth_last_active_at"] = utc_now() - timedelta(minutes=29)
    at.run()
    assert at.title[0].value == "Worklist"  # 29 idle minutes: still signed in, and now active again
    assert utc_now() - at.session_state["auth_last_active_at"] < timedelta(minutes=1)
    at.session_state["auth_signed_in_at"] = utc_now() - timedelta(hours=12, minutes=1)
    at.run()
    assert "auth_user" not in at.session_state
    assert "at most 12 hours" in at.info[0].value


def test_disabling_an_account_ends_its_open_session(database: SessionFactory) -> None:
    at = _signed_in_app("clin")
    disable_user(database, "clin")
    at.run()
    assert "auth_user" not in at.session_state
    assert "disabled" in at.info[0].value


def test_sign_out_clears_the_session(database: SessionFactory) -> None:
    at = _signed_in_app("coord")
    at.session_state["patient_selected"] = "P-CONSENT"
    at.sidebar.button(key="auth_sign_out").click().run()
    assert "auth_user" not in at.session_state and "patient_selected" not in at.session_state
    assert [w.label for w in at.text_input] == ["Username", "Password"]


def test_auditors_get_no_recording_page(database: SessionFactory) -> None:
    auditor = _signed_in_app("audit")
    with pytest.raises(ValueError, match="Could not find"):
        auditor.switch_page("app_pages/record.py")
    auditor.switch_page("app_pages/reports.py").run()
    assert auditor.title[0].value == "Reports"
    clinician = _signed_in_app("clin")
    clinician.switch_page("app_pages/record.py").run()
    assert clinician.title[0].value == "Recording"


def test_a_page_run_without_sign_in_shows_nothing() -> None:
    at = AppTest.from_file(str(APP.parent / "app_pages" / "patient.py"), default_timeout=TIMEOUT)
    at.session_state["patient_selected"] = "P-CONSENT"
    at.run()
    assert [w.value for w in at.warning] == ["Please sign in to see this page."]
    assert len(at.title) == 0 and len(at.text_input) == 0


@pytest.mark.parametrize("name", ["clin", "audit"])
def test_every_page_of_the_role_renders_from_the_entry_point(database: SessionFactory, name: str) -> None:
    at = app(name)
    pages = ["worklist", "patient", "reports", "reminders", "exports", "codes", "policy"]
    pages += ["record"] if name == "clin" else []
    at.session_state["patient_selected"] = "P-TREATED"
    for page_file in pages:
        at.switch_page(f"app_pages/{page_file}.py").run()
        assert not at.exception, (page_file, at.exception)
        assert len(at.title) == 1 and at.sidebar.button(key="auth_sign_out")
