"""Every role x every dashboard page (AppTest), and the recording forms each role is offered.

The pages are read from the `st.Page(...)` calls of the entry point (the one place navigation is
declared), so a new page joins the matrix by itself; the roles are `Role`, with each role's seeded
account, plus a signed-out visitor and a disabled account. Expected: every page opens for every role
but the auditor's Recording page (the auditor records nothing) and the Sites page (the managed list
of sites), which is for admins only; a page a role may not open is not offered in navigation, and
reaching it anyway (a link, a bookmark, a role changed under an open page, or the page's script run
on its own) shows a refusal and no patient data. The recording forms offered follow the expected
permission table of tests/support/access.py (the services' matrix uses it too).
"""

from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from dashboard.forms import COMMAND_TITLES
from pathway.domain.commands import COMMANDS
from pathway.domain.vocabulary import Role
from pathway.services.accounts import disable_user
from pathway.store.db import SessionFactory
from tests.dashboard.conftest import ACCOUNTS, APP, NHS, app, page, texts
from tests.support.access import EXPECTED, navigation_pages

ACCOUNT_OF = {role: name for name, role in ACCOUNTS.items()}
SEEDED_REFS = ("P-CONSENT", "P-MISSED", "P-TREATED", "P-QUIET", "P-HARBOUR")
SEEDED_NAMES = ("Ada Testcase", "Bo Sample", "Cy Example", "Di Mockford", "Ed Fictor")
IDENTIFIERS = (*SEEDED_NAMES, *NHS, *(f"{n[:3]} {n[3:6]} {n[6:]}" for n in NHS), "1970-03-04", "04/03/1970")
LOGIN_FIELDS = ["Username", "Password"]


PAGES = navigation_pages()
# The pages a role may not open (every other page of PAGES opens for it).
DENIED_PAGES: dict[Role, frozenset[str]] = {
    Role.admin: frozenset(),
    Role.clinician: frozenset({"app_pages/sites.py"}),
    Role.coordinator: frozenset({"app_pages/sites.py"}),
    Role.auditor: frozenset({"app_pages/record.py", "app_pages/sites.py"}),
}


def stem(page_file: str) -> str:
    return Path(page_file).stem


def found(at: AppTest, words: tuple[str, ...]) -> list[str]:
    shown = texts(at)
    return [word for word in words if word in shown]


def assert_only_the_login_form(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert [w.label for w in at.text_input] == LOGIN_FIELDS
    assert [b.label for b in at.form_submit_button] == ["Sign in"]
    assert all(frame.value.empty for frame in at.dataframe)
    assert len(at.metric) == 0 and len(at.selectbox) == 0
    assert found(at, SEEDED_REFS + IDENTIFIERS) == []


def test_the_matrix_covers_every_page_file_and_role() -> None:
    """The navigation names every page file there is, and each role has a seeded account and a row."""
    files = sorted(f"app_pages/{p.name}" for p in (APP.parent / "app_pages").glob("*.py"))
    assert files == PAGES
    assert set(ACCOUNT_OF) == set(Role) == set(DENIED_PAGES)
    assert all(denied <= set(PAGES) for denied in DENIED_PAGES.values())


@pytest.mark.parametrize("page_file", PAGES, ids=stem)
@pytest.mark.parametrize("role", list(Role))
def test_role_x_page(database: SessionFactory, role: Role, page_file: str) -> None:
    at = app(ACCOUNT_OF[role])
    at.session_state["patient_selected"] = "P-TREATED"  # a page that shows a record shows this one
    if page_file not in DENIED_PAGES[role]:
        at.switch_page(page_file).run()
        assert not at.exception, at.exception
        assert len(at.title) == 1 and at.sidebar.button(key="auth_sign_out")
        if role is Role.auditor:  # pseudonymised on every page
            assert found(at, IDENTIFIERS) == []
        if stem(page_file) == "patient":
            shown = texts(at)
            assert "P-TREATED" in shown  # the record is there...
            assert ("Ada Testcase" in shown or "Cy Example" in shown) is (role is not Role.auditor)
            offers_recording = [b.label for b in at.button if b.key == "patient_record"] != []
            assert offers_recording is bool(EXPECTED[role])  # ...and a way to record only for who may
        return
    # Not offered: the page is not registered in this role's navigation.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(page_file)
    # Its script run on its own (navigation bypassed) refuses and shows nothing of a patient.
    alone = page(stem(page_file), ACCOUNT_OF[role], patient_selected="P-TREATED")
    assert not alone.exception, alone.exception
    assert len(alone.info) + len(alone.warning) + len(alone.error) >= 1  # the refusal
    assert len(alone.form_submit_button) == 0 and len(alone.selectbox) == 0 and len(alone.dataframe) == 0
    assert found(alone, SEEDED_REFS + IDENTIFIERS) == []


@pytest.mark.parametrize("role", [r for r in Role if DENIED_PAGES[r]])
def test_a_denied_page_left_open_falls_back_when_the_role_changes(database: SessionFactory, role: Role) -> None:
    """A page open (or bookmarked) under a role that may see it, requested again under one that may not:
    the denied page does not run; navigation falls back to the default page."""
    allowed = next(r for r in Role if not DENIED_PAGES[r])
    name = ACCOUNT_OF[allowed]
    at = app(name)
    for page_file in sorted(DENIED_PAGES[role]):
        at.switch_page(page_file).run()
        title = at.title[0].value
        with database() as session, session.begin():
            session.execute(
                text("UPDATE account SET role = :role WHERE name = :name"), {"role": role.value, "name": name}
            )
        at.run()  # the same page requested again, now as `role`
        assert not at.exception, at.exception
        assert at.session_state["auth_role"] == role.value
        assert [t.value for t in at.title] == ["Worklist"] != [title]
        assert len(at.form_submit_button) == 0 and [s.key for s in at.selectbox if s.key == "command"] == []
        with database() as session, session.begin():
            session.execute(
                text("UPDATE account SET role = :role WHERE name = :name"), {"role": allowed.value, "name": name}
            )
        at.run()  # the role back: its pages registered again before the next one is opened


@pytest.mark.parametrize("page_file", PAGES, ids=stem)
def test_signed_out_x_page(database: SessionFactory, page_file: str) -> None:
    at = app()
    at.session_state["patient_selected"] = "P-TREATED"
    assert_only_the_login_form(at)
    at.switch_page(page_file).run()  # a link to the page
    assert_only_the_login_form(at)


@pytest.mark.parametrize("page_file", PAGES, ids=stem)
def test_disabled_account_x_page(database: SessionFactory, page_file: str) -> None:
    at = app(ACCOUNT_OF[Role.admin])  # the account that may open every page
    assert at.title[0].value == "Worklist"
    disable_user(database, ACCOUNT_OF[Role.admin])
    at.session_state["patient_selected"] = "P-TREATED"
    at.switch_page(page_file).run()
    assert "auth_user" not in at.session_state
    assert any("disabled" in i.value for i in at.info)
    assert_only_the_login_form(at)


@pytest.mark.parametrize("role", list(Role))
def test_recording_forms_offered_match_the_roles_commands(database: SessionFactory, role: Role) -> None:
    at = page("record", ACCOUNT_OF[role], patient_selected="P-QUIET")
    assert not at.exception, at.exception
    allowed = [name for name in COMMANDS if name in EXPECTED[role]]
    if not allowed:
        assert len(at.selectbox) == 0 and len(at.form_submit_button) == 0
        assert [i.value for i in at.info] == [f"The {role.value} role reads only: it records nothing."]
        return
    chooser = at.selectbox(key="command")
    assert chooser.options == [COMMAND_TITLES[name] for name in allowed]
    for name in allowed:
        at = at.selectbox(key="command").set_value(name).run()
        assert not at.exception, (name, at.exception)
        assert [b.key for b in at.form_submit_button] == [f"FormSubmitter:record_form_{name}-Save"], name


@pytest.mark.parametrize("role", list(Role))
def test_opening_a_patients_record_on_the_dashboard_is_audited(database: SessionFactory, role: Role) -> None:
    at = page("patient", ACCOUNT_OF[role], patient_selected="P-TREATED")
    assert not at.exception and "P-TREATED" in texts(at)
    with database() as session:
        last = session.execute(text("SELECT command, actor, pathway_ref FROM audit_event ORDER BY id DESC")).first()
    assert last is not None and tuple(last) == ("read_pathway", ACCOUNT_OF[role], "P-TREATED")
