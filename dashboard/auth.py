"""The login gate: sign in with a named account, session timeouts, and the actor every page uses.

The session lives on the server (pathway.services.accounts: a random token stored hashed, ended by sign-out,
a disabled account, a password reset and the time limits); session state holds the account's name
and role, the token and two UTC instants (signed in, last active), and the browser holds the token in
an HttpOnly cookie (dashboard.session_cookie) so a reload resumes the session. The rules live in
pathway.services.accounts; this module only applies them. A full rerun of the app is user activity; a
fragment's timed refresh is not.
"""

from datetime import datetime

import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no pandas-stubs in the lock
import streamlit as st

from dashboard import components, deps, outage, session_cookie, sso
from pathway import Actor, Role
from pathway.errors import AuthenticationFailed, SessionEnded, SsoRefused
from pathway.services.accounts import (
    SignedIn,
    account_policy,
    address_key,
    end_session,
    refuse_sso,
    resume_session,
    session_end,
    session_end_message,
    session_started_at,
    sign_in,
    sso_sign_in,
)

USER = "auth_user"
ROLE = "auth_role"
SITES = "auth_sites"  # the site keys the account sees (a sorted list), or None for every site
TOKEN = "auth_token"  # the server-side session's secret (pathway.services.accounts); never shown or logged
SIGNED_IN_AT = "auth_signed_in_at"
LAST_ACTIVE_AT = "auth_last_active_at"
NOTICE = "auth_notice"
COOKIE_CODE = "auth_cookie_code"  # the one-time code the next run hands the browser for its cookie
COOKIE_CLEAR = "auth_cookie_clear"  # the next run asks the browser to drop its cookie
COOKIE_TRIED = "auth_cookie_tried"  # the cookie this connection arrived with, once tried (kept across sign-out)
SSO_REFUSED = "auth_sso_refused"  # why this connection's single sign-on was refused (audited once)
KEPT = (COOKIE_TRIED, SSO_REFUSED)  # what a sign-out or a refusal leaves in place for this connection


def current_actor() -> Actor | None:
    name, role = st.session_state.get(USER), st.session_state.get(ROLE)
    sites = st.session_state.get(SITES)
    return Actor(name, Role(role), None if sites is None else frozenset(sites)) if name and role else None


def _keep_role_and_sites(actor: Actor) -> None:
    st.session_state[ROLE] = actor.role.value
    st.session_state[SITES] = None if actor.sites is None else sorted(actor.sites)


def start(signed: SignedIn, *, carry: bool = True) -> None:
    """Remember a session that pathway.services.accounts opened (the login form's or single sign-on's); with
    `carry`, the next run hands the browser its HttpOnly cookie, so a reload keeps the session."""
    clear()  # nothing of a previous user stays behind
    _remember(signed.actor, signed.token, signed.started_at, signed.started_at)
    if carry:
        st.session_state[COOKIE_CODE] = session_cookie.offer(
            signed.token, int(account_policy().absolute.total_seconds())
        )


def _remember(actor: Actor, token: str, signed_in_at: datetime, last_active_at: datetime) -> None:
    st.session_state[USER] = actor.name
    _keep_role_and_sites(actor)
    st.session_state[TOKEN] = token
    st.session_state[SIGNED_IN_AT] = signed_in_at
    st.session_state[LAST_ACTIVE_AT] = last_active_at


def clear(notice: str | None = None, *, drop_cookie: bool = False) -> None:
    """Forget the account and every page's state (nothing of the last user stays behind)."""
    kept = {key: st.session_state[key] for key in KEPT if key in st.session_state}
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state.update(kept)
    if notice:
        st.session_state[NOTICE] = notice
    if drop_cookie:
        st.session_state[COOKIE_CLEAR] = True


def cookie_token(name: str = session_cookie.COOKIE) -> str | None:
    """A cookie this browser connection came with (read by the server, never by the page)."""
    try:
        found = st.context.cookies.get(name)
    except Exception:  # AppTest has no browser request behind it
        return None
    return found if isinstance(found, str) and found else None


def _resume_from_cookie(*, activity: bool) -> Actor | None:
    """After a reload or in a new tab: the session the cookie names, if it is still open."""
    token = cookie_token()
    if token is None or st.session_state.get(COOKIE_TRIED) == address_key(token):
        return None
    st.session_state[COOKIE_TRIED] = address_key(token)  # its hash; once per connection: its cookie never changes
    factory, now = deps.session_factory(), deps.now()
    try:
        actor = resume_session(factory, token, now, activity=activity)
        started = session_started_at(factory, token)
    except SessionEnded as over:
        clear(str(over), drop_cookie=True)
        return None
    if started is None:
        return None
    _remember(actor, token, started, now)
    return actor


def sso_configured() -> bool:
    try:
        return bool(st.secrets.get("auth"))
    except Exception:  # no secrets at all
        return False


def _sso_user() -> dict[str, object] | None:
    if not sso_configured():
        return None
    try:
        return dict(st.user.to_dict()) if st.user.is_logged_in else None
    except Exception:  # AppTest: no browser, no login cookie
        return None


def _resume_from_sso() -> Actor | None:
    """A login Streamlit accepted through single sign-on: checked again (dashboard.sso.problem), then
    the linked account's own session (pathway.services.accounts.sso_sign_in), carried by our cookie."""
    claims = _sso_user()
    if SSO_REFUSED in st.session_state:
        return None
    factory, now = deps.session_factory(), deps.now()
    if claims is None:
        failed = cookie_token(session_cookie.SSO_FAILED_COOKIE) if sso_configured() else None
        if failed and session_cookie.first_sight_of_failure(failed):
            # Streamlit refused the provider's answer and landed here anonymous: say so, audit it once.
            refuse_sso(factory, now, "callback_refused", address=client_address())
            st.session_state[SSO_REFUSED] = sso.CALLBACK_FAILED
            st.session_state[COOKIE_CLEAR] = True
        return None
    reason = sso.problem(claims, str(st.secrets["auth"].get("client_id") or ""), now)
    if reason is None:
        try:
            signed = sso_sign_in(factory, str(claims["sub"]), now, address=client_address(), claims=claims)
        except SsoRefused as refused:  # the claims give no role, an unlisted site, ... (audited)
            st.session_state[SSO_REFUSED] = components.plain(refused)
            return None
        except AuthenticationFailed:
            st.session_state[SSO_REFUSED] = sso.PROBLEMS["unknown_identity"]  # audited by sso_sign_in
            return None
        start(signed)
        return signed.actor
    refuse_sso(factory, now, reason, address=client_address())
    st.session_state[SSO_REFUSED] = sso.PROBLEMS[reason]
    return None


def browser_cookie_step() -> None:
    """Hand the browser its cookie, or have it drop one, once (invisible; the code is used once)."""
    if code := st.session_state.pop(COOKIE_CODE, None):
        st.html(session_cookie.claim_script(code), unsafe_allow_javascript=True, width="content")
    if st.session_state.pop(COOKIE_CLEAR, False):
        st.html(session_cookie.clear_script(), unsafe_allow_javascript=True, width="content")


def sign_out(notice: str | None = None, *, reason: str = "signed_out") -> bool:
    """End the server-side session (audited once) and forget the page state; True when the browser is
    being sent to single sign-on's logout (then the caller must not rerun: a rerun drops that redirect)."""
    token = st.session_state.get(TOKEN)
    if token:
        try:
            end_session(deps.session_factory(), token, deps.now(), reason=reason)
        except Exception as error:
            if not outage.unreachable(error):
                raise
            # The database is down: the session is forgotten here; on the server it ends at its time limit.
            outage.note(error, "sign-out")
    clear(notice, drop_cookie=True)
    if reason == "signed_out" and _sso_user() is not None:
        st.session_state.pop(SSO_REFUSED, None)
        st.logout()  # Streamlit's login cookie too (and the provider's session where it offers logout)
        return True
    return False


def enforce_session(*, activity: bool) -> Actor | None:
    """Apply the timeouts and the account's current state; returns the signed-in actor or None.

    The server-side session (pathway.services.accounts.resume_session) decides: ended on sign-out, when the
    account is disabled or its password reset, and by the time limits. `activity` is True for a full
    run (a click or an entry) and False for a timed refresh, which must not keep an idle session alive.
    """
    actor = current_actor()
    token = st.session_state.get(TOKEN)
    if actor is None or not token:
        if actor is not None:
            clear()  # page state without a server-side session is no session
        try:
            return _resume_from_cookie(activity=activity) or _resume_from_sso()
        except Exception as error:
            if not outage.unreachable(error):
                raise
            outage.note(error, "session cookie")
            return None
    policy = account_policy()
    now = deps.now()
    # This page's own clock first: a timed refresh that is not activity must not outlive the limit
    # even between the server's (coarser) writes of the last activity.
    ended = session_end(
        signed_in_at=st.session_state[SIGNED_IN_AT],
        last_active_at=st.session_state[LAST_ACTIVE_AT],
        now=now,
        policy=policy,
    )
    if ended is not None:
        sign_out(session_end_message(ended, policy), reason=ended.value)
        return None
    try:
        current = resume_session(deps.session_factory(), token, now, activity=activity, policy=policy)
    except SessionEnded as over:
        clear(str(over), drop_cookie=True)
        return None
    except Exception as error:
        if not outage.unreachable(error):
            raise
        # The account cannot be checked while the database is down: the session keeps the role checked
        # on its last run (no page can read or write anything until the database answers again, and
        # the next run checks again). Signing out here would lose what the user was typing.
        outage.note(error, "account check")
        current = actor
    _keep_role_and_sites(current)  # a changed role or change of sites applies at once
    if activity:
        st.session_state[LAST_ACTIVE_AT] = now
    return current


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
    browser_cookie_step()
    if sso_configured():
        _sso_buttons()
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


def _sso_buttons() -> None:
    if refused := st.session_state.get(SSO_REFUSED):
        st.error(refused)
    if _sso_user() is not None:
        # Signed in at the provider but not here (refused, or ended by our limits): start over there.
        if st.button("Sign out of single sign-on", key="auth_sso_logout"):
            st.session_state.pop(SSO_REFUSED, None)
            st.logout()
    elif st.button("Sign in with single sign-on", key="auth_sso_login", type="primary"):
        st.login()


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
        signed = sign_in(deps.session_factory(), name, password, now, address=client_address())
    except AuthenticationFailed as failure:
        st.error(str(failure))
        return None
    except Exception as error:
        if not outage.unreachable(error):
            raise
        outage.note(error, "sign-in")
        outage.show(outage.SIGN_IN)
        return None
    start(signed)
    st.rerun()


def client_address() -> str | None:
    """The browser's network address for per-address throttling: the first X-Forwarded-For hop when a
    trusted proxy sets it (PATHWAY_TRUST_PROXY=1), else the socket's peer (st.context.ip_address)."""
    if account_policy().trust_proxy:
        forwarded = st.context.headers.get("X-Forwarded-For", "")
        if first := forwarded.split(",")[0].strip():
            return first
    address = st.context.ip_address
    return address if isinstance(address, str) else None  # AppTest has no socket: no address


def sidebar(actor: Actor) -> None:
    with st.sidebar:
        browser_cookie_step()
        st.markdown(f"Signed in as **{components.plain(actor.name)}** ({actor.role.value})")
        if not actor.sees_identifiers:
            st.caption("Pseudonymised view: no names, NHS numbers or dates of birth.")
        if st.button("Sign out", key="auth_sign_out"):
            if sign_out("You have signed out."):
                st.stop()  # the logout redirect is on its way; a rerun now would drop it (seen in the browser)
            st.rerun()
