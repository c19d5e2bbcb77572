"""The dashboard's recording page in AppTest: a form chosen for a user, its widget keys, its save
(shared by the recording and form-default tests)."""

from typing import Any

from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import page


def key(command: str, field: str) -> str:
    return f"record_{command}_{field}"


def recording(user: str, command: str, pathway: str | None = None) -> AppTest:
    state: dict[str, Any] = {"patient_selected": pathway} if pathway else {}
    at = page("record", user, **state)
    return at.selectbox(key="command").set_value(command).run()


def save(at: AppTest, command: str) -> AppTest:
    return at.button(key=f"FormSubmitter:record_form_{command}-Save").click().run()
