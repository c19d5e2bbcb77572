"""The dashboard served by Streamlit's ASGI server (`streamlit run dashboard/server.py`, which
`pathway dashboard` does): the app itself, the session cookie's routes (dashboard.session_cookie) and,
when PATHWAY_OIDC_CLIENT_ID is set, single sign-on's settings (dashboard.sso)."""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from streamlit.web.server.starlette import starlette_auth_routes

from dashboard import session_cookie, sso
from pathway.services.accounts import account_policy

# Streamlit's login cookie lives 30 days; ours never outlives the absolute session limit. The session
# itself is checked on the server at every run (dashboard.auth), so this only keeps the browser tidy.
if hasattr(starlette_auth_routes, "AUTH_COOKIE_MAX_AGE_SECONDS"):
    starlette_auth_routes.AUTH_COOKIE_MAX_AGE_SECONDS = int(account_policy().absolute.total_seconds())

app = st.App(
    Path(__file__).with_name("streamlit_app.py"),
    routes=session_cookie.routes(),
    middleware=[Middleware(sso.CallbackOutcome)],
    secrets=sso.OidcSettings().streamlit_secrets(),
)
