"""The dashboard's pages: served by dashboard/server.py (`pathway dashboard`), which adds the session cookie's routes.

Before sign-in only the login form is drawn: no page runs, so no patient data can be reached by URL.
After sign-in the pages offered follow the role: auditors get no recording page. A database outage
is reported by dashboard.outage, here for every page (and in the worklist's timed refresh and the
recording form's save, which run on their own).
"""

import streamlit as st

from dashboard import auth, components, deps, outage
from pathway import COMMANDS, Actor, Role, may_run
from pathway.logs import configure as configure_logs
from pathway.services.accounts import active_role

configure_logs()  # structured logs: JSON in production, readable lines on a terminal (pathway/logs.py)
st.set_page_config(
    page_title="DVT thrombectomy pathway",
    page_icon=":material/vital_signs:",
    layout="wide",
    initial_sidebar_state="auto",  # folded on phones; under 1,000 px by components.fold_sidebar_when_narrow
)


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
    if actor is None or actor.role is Role.admin:  # the managed list of sites: admins only
        pages.append(st.Page("app_pages/sites.py", title="Sites", icon=":material/domain:"))
    return pages


# A rerun made by the outage retry (below) is not the user's activity.
actor = auth.enforce_session(activity=not st.session_state.pop(outage.RETRIED, False))
if actor is None:
    # The pages are registered (hidden) so a link to one shows the login form rather than a
    # "page not found" dialog over it; none of them runs: the script stops after the form.
    st.navigation(pages_for(None), position="hidden")
    auth.login_page()
    st.stop()
auth.sidebar(actor)
components.focus_style()  # a visible keyboard focus on every page (WCAG 2.4.7)
components.fold_sidebar_when_narrow()  # under 1,000 px the sidebar starts folded away
page = st.navigation(pages_for(actor))
if st.session_state.get("page_shown") != page.url_path:
    # Another page: the next record shown is a new opening, audited again (deps.open_record).
    st.session_state.pop(deps.OPENED, None)
    st.session_state["page_shown"] = page.url_path
# The one place a page's database outage is caught: the message where the page stopped, no traceback,
# still signed in; the next run (any click, or the retry drawn under the message every 30 s) tries again.
signed_in = actor
with outage.reported(
    f"page {page.title}",
    then=lambda: outage.retry_when_back(lambda: active_role(deps.session_factory(), signed_in.name)),
):
    page.run()
