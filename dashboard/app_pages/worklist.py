"""Worklist: open pathways, most urgent first, a page at a time, refreshed every minute."""

from collections.abc import Callable
from datetime import date
from math import ceil
from urllib.parse import parse_qsl, urlencode

import streamlit as st

from dashboard import auth, components, deps, forms, outage
from pathway import COMMANDS, FLAGS, STAGE_COMPLETE, STAGES, Route, SessionFactory, may_run, policy_in_force
from pathway.services.downloads import audited, csv_rows
from pathway.views import queries

PAGE_SIZE = 50
REFRESH_SECONDS = 60
CSV_CHUNK = 1000
CSV_LIMIT = 200_000

actor = auth.require_actor()
records = any(may_run(actor.role, name) for name in COMMANDS)
st.title("Worklist")


# A lookup over the whole table (not the rows on screen): reference in any case, and for those who
# see identifiers the NHS number (with or without spaces) or the hospital number.
what = "pathway reference, NHS number or hospital number" if actor.sees_identifiers else "pathway reference"
wanted = st.text_input(f"Find a pathway by {what}", key="worklist_find")
if wanted.strip():
    found = deps.find_pathways(wanted, actor.sees_identifiers, deps.sites_of(actor))
    if not found:
        st.info(f"No pathway found for {components.plain(wanted.strip())}.")
    for hit in found:
        shown = f"{hit.pathway} · {hit.patient} · " if actor.sees_identifiers else f"{hit.pathway} · "
        st.page_link(
            "app_pages/patient.py",
            label=components.plain(f"{shown}{hit.site} · {components.stage_words(hit.stage)} · {hit.status}"),
            query_params={"pathway": hit.pathway},
            icon=":material/open_in_new:",
        )

# The filters and the page live in the URL (bound widgets: ?site=...&flag=...&page=2), so a reload
# or a shared link opens the same view; they are also kept for the session, so leaving the worklist
# and coming back (the sidebar drops the URL's parameters) finds them as they were.
FILTER_KEYS = ("site", "flag", "stage", "route", "flagged", "page")
KEPT = "worklist_kept"


def _first_page() -> None:
    st.session_state["page"] = 1


# Only the reader's own sites are offered (another site's name is not this account's to browse).
SITE_OPTIONS = [None, *(name for name in deps.sites() if actor.sees_site(name))]
FLAG_OPTIONS = [None, *(f.code for f in FLAGS)]
STAGE_OPTIONS = [None, *(s.code for s in STAGES), STAGE_COMPLETE]
ROUTE_OPTIONS = [None, *(r.value for r in Route)]


def _site_words(v: str | None) -> str:
    return v or ("All sites" if actor.sites is None else "All your sites")


def _flag_words(v: str | None) -> str:
    return f"{components.words(v)} ({v})" if v else "Any flag or none"


def _stage_words(v: str | None) -> str:
    return components.stage_words(v) if v else "All stages"


def _route_words(v: str | None) -> str:
    return components.words(v) if v else "All routes"


# Back from another page (the widgets' own state is gone) with nothing in the URL: as they were,
# from this session, or after a reload there from what that page's URL carried back
# (components.remember_worklist: Streamlit rewrites this page's history entry on the way out),
# put in the URL and drawn afresh (session values set under a bound widget showed an empty box).
arrived = not any(key in st.session_state for key in FILTER_KEYS)
if arrived and not any(key in st.query_params for key in FILTER_KEYS):
    for left in ("pathway", components.WORKLIST_URL):  # left on this page's history entry on the way out
        st.query_params.pop(left, None)
    if KEPT in st.session_state:
        for key, value in st.session_state[KEPT].items():
            st.session_state[key] = value
    elif back := st.session_state.pop(components.WORKLIST_URL, ""):
        for key, value in parse_qsl(back):
            if key in FILTER_KEYS:
                st.query_params[key] = value
        st.rerun()  # drawn afresh from the URL, as a link with these filters is


# A wrapping row, not fixed columns: at 800 px the filters move onto a second line instead of
# being cut to "Sta..." (each keeps a readable width).
columns = st.container(horizontal=True, vertical_alignment="bottom")
site = columns.selectbox(
    "Site",
    SITE_OPTIONS,
    key="site",
    format_func=_site_words,
    on_change=_first_page,
    bind="query-params",
    width=220,
)
flag = columns.selectbox(
    "Flag",
    FLAG_OPTIONS,
    key="flag",
    format_func=_flag_words,
    on_change=_first_page,
    bind="query-params",
    width=340,
)
stage = columns.selectbox(
    "Stage",
    STAGE_OPTIONS,
    key="stage",
    format_func=_stage_words,
    on_change=_first_page,
    bind="query-params",
    width=240,
)
route = columns.selectbox(
    "Route",
    ROUTE_OPTIONS,
    key="route",
    format_func=_route_words,
    on_change=_first_page,
    bind="query-params",
    width=220,
)
flagged_only = columns.toggle("Flagged only", key="flagged", on_change=_first_page, bind="query-params")
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
                    window_first=True,
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
    metrics = st.container(horizontal=True)  # wraps at narrow widths rather than truncating
    metrics.metric(":red[Red]", counts["red"], border=True, width=170)
    metrics.metric(":orange[Amber]", counts["amber"], border=True, width=170)
    metrics.metric("Open pathways", sum(counts.values()), border=True, width=170)
    metrics.metric("Matching filters", total, border=True, width=170)
    pages = max(1, ceil(total / PAGE_SIZE))
    page = min(page, pages)
    rows = deps.worklist_page(as_of, *filters, PAGE_SIZE, (page - 1) * PAGE_SIZE, sites=deps.sites_of(actor))
    shown = f"{(page - 1) * PAGE_SIZE + 1}–{(page - 1) * PAGE_SIZE + len(rows)} of {total}" if rows else "none"
    st.caption(
        f"As of **{components.london_time(now)}** (Europe/London), refreshed every minute · "
        f"showing {shown} · open treatment windows first (fewest days left), then red, amber and the rest · "
        "select a row to open the patient's pathway"
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
    # The keyboard way to open a row (the grid's own row selection needs Shift+Space): choose its
    # reference here and press Enter.
    chosen = st.selectbox(
        "Open a pathway listed above",
        list(table["pathway"]),
        index=None,
        key="worklist_open",
        placeholder="Type or choose a reference, then Enter",
        width=340,
    )
    if chosen:
        _open(chosen)
    if records:
        _record_chooser(rows)
    selected = event.selection.rows if event is not None else []
    if selected:
        _open(str(table.iloc[selected[0]]["pathway"]))


def _record_chooser(rows: list[queries.WorklistRow]) -> None:
    """ "Record" for each flag on screen: the form that clears it, its pathway filled in (keyboard too)."""
    steps = {
        f"{row.pathway} · {components.words(flag.code)} → {forms.COMMAND_TITLES[command]}": (row.pathway, command)
        for row in rows
        for flag in row.flags
        if (command := forms.flag_command(flag.code)) and may_run(actor.role, command)
    }
    if not steps:
        return
    wanted = st.selectbox(
        "Record a flagged step listed above",
        list(steps),
        index=None,
        key="worklist_record",
        placeholder="Type or choose a pathway's flag, then Enter",
        width=560,
    )
    if wanted:
        ref, command = steps[wanted]
        _keep_filters()
        st.session_state["patient_selected"] = ref
        st.switch_page("app_pages/record.py", query_params=forms.record_link(ref, command) | _way_back())


def _open(ref: str) -> None:
    _keep_filters()
    st.session_state["patient_selected"] = ref
    st.switch_page("app_pages/patient.py", query_params={"pathway": ref} | _way_back())


def _way_back() -> dict[str, str]:
    """This view's filters as the next page's ?worklist=..., for Back after a reload there."""
    shown = urlencode([(key, st.query_params[key]) for key in FILTER_KEYS if key in st.query_params])
    return {components.WORKLIST_URL: shown} if shown else {}


def backlog_by_age() -> None:
    """Below today's list: the older backlog (window not open, a flag past due), by how long overdue.

    Each group is counted and opens to its first rows, red first, then the longest overdue; the
    site, stage and route filters apply (the flag filters choose today's list). A group's rows are
    read and drawn only while it is open: drawn closed, the four tables were most of the worklist's
    first render (four more reads, and four more grids built in the browser behind closed groups).
    """
    st.markdown("#### Older backlog, by how long overdue")
    sites = deps.sites_of(actor)
    groups = deps.backlog_groups(deps.today(), site, stage, route, sites=sites)
    st.markdown(
        f"{sum(g.count for g in groups)} open pathways whose treatment window is not open have a flag past its "
        "due date, grouped by their most overdue flag. Open a group to see it; select a row to open the pathway."
    )
    for group in groups:
        opened = st.expander(
            f"{group.words} ({group.count})", expanded=False, key=f"backlog_open_{group.first_day}", on_change="rerun"
        )
        with opened:
            if not opened.open:
                continue
            if not group.count:
                st.markdown("None.")
                continue
            rows = deps.backlog_page(
                deps.today(), group.first_day, group.last_day, site, stage, route, PAGE_SIZE, sites=sites
            )
            if group.count > len(rows):
                st.markdown(f"The first {len(rows)} of {group.count}: narrow them with the filters above.")
            table = components.worklist_frame(rows, identifiers=actor.sees_identifiers)
            event = st.dataframe(
                table,
                hide_index=True,
                column_config=components.worklist_columns(policy_in_force().n("treatment_window_days")),
                key=f"backlog_{group.first_day}",
                on_select="rerun",
                selection_mode="single-row",
                height=min(38 + 35 * max(len(table), 1), 38 + 35 * 12),
            )
            if event is not None and event.selection.rows:
                _open(str(table.iloc[event.selection.rows[0]]["pathway"]))


def _keep_filters() -> None:
    st.session_state[KEPT] = {key: st.session_state[key] for key in FILTER_KEYS if key in st.session_state}


page_count = max(1, ceil(deps.worklist_count(deps.today(), *filters, sites=deps.sites_of(actor)) / PAGE_SIZE))
if int(st.session_state.get("page") or 1) > page_count:  # the data shrank under the page shown (or a stale link)
    _first_page()
table_slot = st.container()  # the table above its pagination; the page number is read first
below = st.columns([4, 1])
with below[0]:
    page_number = st.pagination(page_count, key="page", max_visible_pages=9, bind="query-params")
with table_slot:
    live_worklist(page_number)
_keep_filters()  # for the sidebar's way back, which drops the URL
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
backlog_by_age()
