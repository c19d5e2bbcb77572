"""The login gate: sign in with a named account, session timeouts, and the actor every page uses.

Session state holds only the account's name and role and two UTC instants (signed in, last
active). The rules (lockout, timeouts) live in pathway.services.accounts; this module only applies them.
A full rerun of the app is user activity; a fragment's timed refresh is not.
"""

from datetime import datetime

import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no pandas-stubs in the lock
import streamlit as st

from dashboard import components, deps, outage
from pathway import Actor, Role
from pathway.errors import AuthenticationFailed
from pathway.services.accounts import account_policy, active_role, authenticate, session_end, session_end_message

USER = "auth_user"
ROLE = "auth_role"
SIGNED_IN_AT = "auth_signed_in_at"
LAST_ACTIVE_AT = "auth_last_active_at"
NOTICE = "auth_notice"


def current_actor() -> Actor | None:
    name, role = st.session_state.get(USER), st.session_state.get(ROLE)
    return Actor(name, Role(role)) if name and role else None


def sign_in(actor: Actor, at: datetime) -> None:
    st.session_state[USER] = actor.name
    st.session_state[ROLE] = actor.role.value
    st.session_state[SIGNED_IN_AT] = at
    st.session_state[LAST_ACTIVE_AT] = at


def sign_out(notice: str | None = None) -> None:
    """Forget the account and every page's state (nothing of the last user stays behind)."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if notice:
        st.session_state[NOTICE] = notice


def enforce_session(*, activity: bool) -> Actor | None:
    """Apply the timeouts and the account's current state; returns the signed-in actor or None.

    `activity` is True for a full run (a click or an entry) and False for a timed refresh, which
    must not keep an idle session alive.
    """
    actor = current_actor()
    if actor is None:
        return None
    policy = account_policy()
    now = deps.now()
    ended = session_end(
        signed_in_at=st.session_state[SIGNED_IN_AT],
        last_active_at=st.session_state[LAST_ACTIVE_AT],
        now=now,
        policy=policy,
    )
    if ended is not None:
        sign_out(session_end_message(ended, policy))
        return None
    # A disabled account loses its open sessions; a changed role applies at once.
    try:
        role = active_role(deps.session_factory(), actor.name)
    except Exception as error:
        if not outage.unreachable(error):
            raise
        # The account cannot be checked while the database is down: the session keeps the role checked
        # on its last run (no page can read or write anything until the database answers again, and
        # the next run checks again). Signing out here would lose what the user was typing.
        outage.note(error, "account check")
        role = actor.role
    if role is None:
        sign_out("Your account has been disabled. Ask an administrator.")
        return None
    st.session_state[ROLE] = role.value
    if activity:
        st.session_state[LAST_ACTIVE_AT] = now
    return Actor(actor.name, role)


def require_actor() -> Actor:
    """Every page starts here: nothing below it runs without a signed-in account."""
    actor = current_actor()
    if actor is None:
        st.warning("Please sign in to see this page.")
        st.stop()
    return actor


def keep_alive_or_stop() -> None:
    """For a fragment's timed refresh: end the run (and the session) once the session has expired."""
    if enforce_session(activity=False) is None:
        st.rerun(scope="app")


def login_page() -> None:
    st.title("DVT thrombectomy pathway")
    st.caption("Sign in with your own named account.")
    if notice := st.session_state.pop(NOTICE, None):
        st.info(notice)
    with st.form("login_form"):
        name = st.text_input("Username", key="login_username", autocomplete="username")
        password = st.text_input("Password", type="password", key="login_password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    policy = account_policy()
    st.caption(
        f"After {policy.lockout_attempts} failed attempts in a row an account is locked for "
        f"{policy.lockout_minutes} minutes. Sessions end after {policy.session_inactivity_minutes} minutes "
        f"without activity and after {policy.session_absolute_hours} hours in all."
    )
    _load_table_component()
    if submitted:
        _attempt(name, password)


def _load_table_component() -> None:
    """An empty, invisible table, so the browser loads Streamlit's table component while the form is
    filled in rather than after the click: fetching and compiling it took 0.5 to 1 s of the worklist's
    first render in chromium on two busy cores (bench/dashboard.py's measure). It holds no data."""
    st.html("<style>.st-key-auth_table_warmup {display: none;}</style>")  # out of sight and of screen readers
    with st.container(height=1, border=False, key="auth_table_warmup"):
        st.dataframe(pd.DataFrame({"": []}), hide_index=True, height=1, key="auth_table_warmup_frame")


def _attempt(name: str, password: str) -> None:
    now = deps.now()
    try:
        actor = authenticate(deps.session_factory(), name, password, now)
    except AuthenticationFailed as failure:
        st.error(str(failure))
        return None
    except Exception as error:
        if not outage.unreachable(error):
            raise
        outage.note(error, "sign-in")
        outage.show(outage.SIGN_IN)
        return None
    sign_out()  # start from a clean session state
    sign_in(actor, now)
    st.rerun()


def sidebar(actor: Actor) -> None:
    with st.sidebar:
        st.markdown(f"Signed in as **{components.plain(actor.name)}** ({actor.role.value})")
        if not actor.sees_identifiers:
            st.caption("Pseudonymised view: no names, NHS numbers or dates of birth.")
        if st.button("Sign out", key="auth_sign_out"):
            sign_out("You have signed out.")
            st.rerun()
