"""The dashboard's one entry point: `streamlit run dashboard/streamlit_app.py` (or `pathway dashboard`).

Before sign-in only the login form is drawn: no page runs, so no patient data can be reached by URL.
After sign-in the pages offered follow the role: auditors get no recording page.
"""

import streamlit as st

from dashboard import auth
from pathway.commands import COMMANDS
from pathway.roles import Actor, may_run

st.set_page_config(page_title="DVT thrombectomy pathway", page_icon=":material/vital_signs:", layout="wide")


def pages_for(actor: Actor | None) -> list[st.Page]:
    """The pages a role may open (all of them, hidden, before sign-in)."""
    pages = [
        st.Page("app_pages/worklist.py", title="Worklist", icon=":material/checklist:", default=True),
        st.Page("app_pages/patient.py", title="Patient", icon=":material/timeline:"),
    ]
    if actor is None or any(may_run(actor.role, name) for name in COMMANDS):
        pages.append(st.Page("app_pages/record.py", title="Recording", icon=":material/edit_note:"))
    pages += [
        st.Page("app_pages/reports.py", title="Reports", icon=":material/bar_chart:"),
        st.Page("app_pages/reminders.py", title="Reminders", icon=":material/notifications:"),
        st.Page("app_pages/exports.py", title="Exports", icon=":material/download:"),
        st.Page("app_pages/codes.py", title="Codes and leaflets", icon=":material/search:"),
        st.Page("app_pages/policy.py", title="Policy", icon=":material/policy:"),
    ]
    return pages


actor = auth.enforce_session(activity=True)
if actor is None:
    # The pages are registered (hidden) so a link to one shows the login form rather than a
    # "page not found" dialog over it; none of them runs: the script stops after the form.
    st.navigation(pages_for(None), position="hidden")
    auth.login_page()
    st.stop()
auth.sidebar(actor)
st.navigation(pages_for(actor)).run()
