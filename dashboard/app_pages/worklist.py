"""Worklist: open pathways, most urgent first, a page at a time, refreshed every minute."""

from collections.abc import Callable
from datetime import date
from math import ceil

import streamlit as st

from dashboard import auth, components, deps, outage
from pathway import FLAGS, STAGE_COMPLETE, STAGES, Route, SessionFactory, policy_in_force
from pathway.services.downloads import audited, csv_rows
from pathway.views import queries

PAGE_SIZE = 50
REFRESH_SECONDS = 60
CSV_CHUNK = 1000
CSV_LIMIT = 200_000

actor = auth.require_actor()
st.title("Worklist")


def _first_page() -> None:
    st.session_state.pop("worklist_page", None)  # back to the pagination's default, page 1


columns = st.columns([2, 3, 2, 2, 1.5])
site = columns[0].selectbox(
    "Site", [None, *deps.sites()], key="worklist_site", format_func=lambda v: v or "All sites", on_change=_first_page
)
flag = columns[1].selectbox(
    "Flag",
    [None, *(f.code for f in FLAGS)],
    key="worklist_flag",
    format_func=lambda v: f"{components.words(v)} ({v})" if v else "Any flag or none",
    on_change=_first_page,
)
stage = columns[2].selectbox(
    "Stage",
    [None, *(s.code for s in STAGES), STAGE_COMPLETE],
    key="worklist_stage",
    format_func=lambda v: components.stage_words(v) if v else "All stages",
    on_change=_first_page,
)
route = columns[3].selectbox(
    "Route",
    [None, *(r.value for r in Route)],
    key="worklist_route",
    format_func=lambda v: components.words(v) if v else "All routes",
    on_change=_first_page,
)
flagged_only = columns[4].toggle("Flagged only", key="worklist_flagged_only", on_change=_first_page)
filters = (site, flag, stage, route, flagged_only)


def _csv_maker(factory: SessionFactory, as_of: date, identifiers: bool) -> Callable[[], str]:
    """Made when the button is drawn, run only when it is clicked (in chunks, never the whole table at once)."""

    def make() -> str:
        rows: list[queries.WorklistRow] = []
        with factory() as session:
            while len(rows) < CSV_LIMIT:
                chunk = queries.worklist(
                    session,
                    as_of,
                    site=site,
                    flag=flag,
                    stage=stage,
                    route=route,
                    flagged_only=flagged_only,
                    limit=CSV_CHUNK,
                    offset=len(rows),
                    sites=actor.sites,
                )
                rows += chunk
                if len(chunk) < CSV_CHUNK:
                    break
        return components.worklist_csv(rows, identifiers=identifiers)

    return outage.quiet(make, "worklist CSV")


@st.fragment(run_every=REFRESH_SECONDS)
def live_worklist(page: int) -> None:
    # A fragment's own run is outside the app's outage guard: the message takes the table's place,
    # and the next refresh (every minute) tries the database again.
    with outage.reported("worklist refresh", stop=False):
        _live_worklist(page)


def _live_worklist(page: int) -> None:
    # A timed refresh is not activity: an idle session still ends on time.
    auth.keep_alive_or_stop()
    now = deps.now()
    as_of = deps.today()
    total = deps.worklist_count(as_of, *filters, sites=deps.sites_of(actor))
    counts = deps.severity_counts(as_of, site, sites=deps.sites_of(actor))
    metrics = st.columns(4)
    metrics[0].metric(":red[Red]", counts["red"], border=True)
    metrics[1].metric(":orange[Amber]", counts["amber"], border=True)
    metrics[2].metric("Open pathways", sum(counts.values()), border=True)
    metrics[3].metric("Matching filters", total, border=True)
    pages = max(1, ceil(total / PAGE_SIZE))
    page = min(page, pages)
    rows = deps.worklist_page(as_of, *filters, PAGE_SIZE, (page - 1) * PAGE_SIZE, sites=deps.sites_of(actor))
    shown = f"{(page - 1) * PAGE_SIZE + 1}–{(page - 1) * PAGE_SIZE + len(rows)} of {total}" if rows else "none"
    st.caption(
        f"As of **{components.london_time(now)}** (Europe/London), refreshed every minute · "
        f"showing {shown} · select a row to open the patient's pathway"
    )
    table = components.worklist_frame(rows, identifiers=actor.sees_identifiers)
    window_days = policy_in_force().n("treatment_window_days")
    event = st.dataframe(
        table,
        hide_index=True,
        column_config=components.worklist_columns(window_days),
        key="worklist_table",
        on_select="rerun",
        selection_mode="single-row",
        height=min(38 + 35 * max(len(table), 1), 38 + 35 * 20),
    )
    selected = event.selection.rows if event is not None else []
    if selected:
        st.session_state["patient_selected"] = table.iloc[selected[0]]["pathway"]
        st.switch_page("app_pages/patient.py")


page_count = max(1, ceil(deps.worklist_count(deps.today(), *filters, sites=deps.sites_of(actor)) / PAGE_SIZE))
if st.session_state.get("worklist_page", 1) > page_count:  # the data shrank under the page shown
    _first_page()
live_worklist(int(st.session_state.get("worklist_page", 1)))
below = st.columns([4, 1])
with below[0]:
    st.pagination(page_count, key="worklist_page", max_visible_pages=9)
# Outside the timed fragment: a download registered by a fragment run can be dropped by the next run.
below[1].download_button(
    "Download CSV",
    # Audited when made (on the click): pathway.services.downloads.
    data=audited(
        deps.session_factory(),
        actor,
        "worklist_csv",
        _csv_maker(deps.session_factory(), deps.today(), actor.sees_identifiers),
        clock=deps.now,
        rows=csv_rows,
        filters={"site": site, "flag": flag, "stage": stage, "route": route, "flagged_only": flagged_only},
    ),
    file_name=f"worklist-{deps.today().isoformat()}.csv",
    mime="text/csv",
    key="worklist_download",
    on_click="ignore",
)
