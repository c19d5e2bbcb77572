"""The dashboard served by Streamlit's ASGI server (`streamlit run dashboard/server.py`, which
`pathway dashboard` does): the app itself plus the session cookie's routes (dashboard.session_cookie)."""

from pathlib import Path

import streamlit as st

from dashboard import session_cookie

app = st.App(Path(__file__).with_name("streamlit_app.py"), routes=session_cookie.routes())
