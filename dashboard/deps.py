"""What every page shares: the session factory (one per process) and cached reads over pathway.views.queries.

The factory is built from `pathway.settings.Settings` (env `PATHWAY_DATABASE_URL`, `PATHWAY_HOME`),
so tests point the dashboard at a temporary database with environment variables alone. Cached
reads return plain values (never ORM objects bound to a session) and are cleared after each write.
"""

import importlib
from datetime import date, datetime
from types import ModuleType
from typing import Any

import streamlit as st

from pathway import Actor, Database, SessionFactory, london_date, open_database, utc_now
from pathway.services import commands as services
from pathway.settings import Settings
from pathway.views import queries, reports
from pathway.views import sites as site_views
from pathway.views.reading import read

# The worklist refreshes every minute; its cache is shorter so a refresh always reads anew.
WORKLIST_TTL = "20s"
REPORT_TTL = "5m"
SITE_COMMANDS = {"register_patient", "record_diagnosis", "notify_governance"}


@st.cache_resource(show_spinner=False)
def database() -> Database:
    settings = Settings()
    return open_database(settings.resolved_database_url(), sqlite_busy_seconds=settings.sqlite_busy_seconds)


def session_factory() -> SessionFactory:
    return database().factory


def reset_connections() -> None:
    """After a failure (dashboard.outage): the next session opens fresh connections."""
    database().close_pooled()


def now() -> datetime:
    """The one clock of the dashboard (UTC); pages show it in Europe/London."""
    return utc_now()


def today() -> date:
    return london_date(now())


def clear_reads(command: str | None = None) -> None:
    """After a successful write: clear the reads it can change, not every cache of every user.

    Any command can change the worklist and its counts; only a command naming a site can add one.
    Reports are summaries over months and expire on their own (REPORT_TTL). With no command (a
    database outage) every cached read is dropped, so nothing read before it is shown as current.
    """
    if command is None:
        st.cache_data.clear()
        return
    for cached in (worklist_page, worklist_count, severity_counts, backlog_groups, backlog_page):
        cached.clear()
    if command in SITE_COMMANDS:
        sites.clear()


@st.cache_data(ttl=WORKLIST_TTL, max_entries=200, show_spinner=False)
def worklist_page(
    as_of: date,
    site: str | None,
    flag: str | None,
    stage: str | None,
    route: str | None,
    flagged_only: bool,
    limit: int,
    offset: int,
    *,
    sites: tuple[str, ...] | None = None,
) -> list[queries.WorklistRow]:
    """`sites`: the reader's sites (per-site access; None: every site), part of the cache key."""
    return read(
        session_factory(),
        queries.worklist,
        as_of,
        site=site,
        flag=flag,
        stage=stage,
        route=route,
        flagged_only=flagged_only,
        limit=limit,
        offset=offset,
        sites=sites,
        window_first=True,  # today's 14-day cases before the older red backlog
    )


@st.cache_data(ttl=WORKLIST_TTL, max_entries=200, show_spinner=False)
def worklist_count(
    as_of: date,
    site: str | None,
    flag: str | None,
    stage: str | None,
    route: str | None,
    flagged_only: bool,
    *,
    sites: tuple[str, ...] | None = None,
) -> int:
    return read(
        session_factory(),
        reports.count_worklist,
        as_of,
        site=site,
        flag=flag,
        stage=stage,
        route=route,
        flagged_only=flagged_only,
        sites=sites,
    )


@st.cache_data(ttl=WORKLIST_TTL, max_entries=50, show_spinner=False)
def severity_counts(as_of: date, site: str | None, *, sites: tuple[str, ...] | None = None) -> dict[str, int]:
    return read(session_factory(), queries.count_open, as_of, site=site, sites=sites)


@st.cache_data(ttl=WORKLIST_TTL, max_entries=50, show_spinner=False)
def backlog_groups(
    as_of: date, site: str | None, stage: str | None, route: str | None, *, sites: tuple[str, ...] | None = None
) -> list[queries.BacklogGroup]:
    """The worklist's older backlog, counted by age group (queries.backlog_by_age)."""
    return read(session_factory(), queries.backlog_by_age, as_of, site=site, stage=stage, route=route, sites=sites)


@st.cache_data(ttl=WORKLIST_TTL, max_entries=200, show_spinner=False)
def backlog_page(
    as_of: date,
    first_day: int,
    last_day: int | None,
    site: str | None,
    stage: str | None,
    route: str | None,
    limit: int,
    *,
    sites: tuple[str, ...] | None = None,
) -> list[queries.WorklistRow]:
    return read(
        session_factory(),
        queries.backlog_rows,
        as_of,
        first_day,
        last_day,
        site=site,
        stage=stage,
        route=route,
        sites=sites,
        limit=limit,
    )


def sites_of(actor: Actor) -> tuple[str, ...] | None:
    """The reader's sites as a cache key (per-site access), or None for every site."""
    return None if actor.sites is None else tuple(sorted(actor.sites))


@st.cache_data(ttl=REPORT_TTL, max_entries=4, show_spinner=False)
def sites() -> list[str]:
    return read(session_factory(), reports.sites)


@st.cache_data(ttl=REPORT_TTL, max_entries=4, show_spinner=False)
def site_list(retired: bool = False) -> list[site_views.SiteView]:
    """The managed list of sites (pathway.views.sites), active ones only unless `retired`."""
    return read(session_factory(), site_views.site_list, retired=retired)


def listed_sites() -> list[str]:
    """The sites a form offers for a new record: the active ones on the managed list."""
    return [site.name for site in site_list()]


def clear_sites() -> None:
    """After the list of sites changed (the Sites page)."""
    site_list.clear()
    sites.clear()


def find_pathways(text: str, identifiers: bool, sites: tuple[str, ...] | None) -> list[queries.FoundPathway]:
    """The search box: reference, NHS number or hospital number, over the reader's sites (never cached)."""
    return read(session_factory(), queries.find_pathways, text, identifiers=identifiers, sites=sites)


OPENED = "record_opened"  # session state: the (page, pathway) whose opening was last audited


def open_record(actor: Actor, ref: str, as_of: date, *, page: str) -> queries.PathwayDetail:
    """One pathway's record for this person (raises pathway.errors.NotFound); read fresh, never cached.

    Every read, reruns included, goes through the service (pathway.services.commands.open_record), which
    checks the role and the account's sites each time, a refusal looking like an unknown reference. The
    opening on a page is audited (one `read_pathway` row); the reruns of that same view (a click, a form
    field) are not, so the trail shows each opening, not each widget interaction; a refusal always is.
    """
    reopened = st.session_state.get(OPENED) == (page, ref)
    detail = services.open_record(session_factory(), actor, ref, as_of=as_of, recorded_at=now(), reopened=reopened)
    st.session_state[OPENED] = (page, ref)
    return detail


def reminder_queries() -> ModuleType | None:
    """pathway.views.notifications (issue 3) when it is there with both reads, else None."""
    try:
        module = importlib.import_module("pathway.views.notifications")
    except ImportError:
        return None
    wanted = ("recent_notifications", "failed_notifications")
    return module if all(hasattr(module, name) for name in wanted) else None


def pathway_notifications(actor: Actor, ref: str, limit: int = 200) -> list[Any] | None:
    """One pathway's notifications, read by pathway in SQL over the reader's sites; None when reminders
    are not configured."""
    module = reminder_queries()
    if module is None or not hasattr(module, "pathway_notifications"):
        return None
    return list(read(session_factory(), module.pathway_notifications, ref, sites=actor.sites, limit=limit))


def notifications(actor: Actor, kind: str, limit: int = 200) -> list[Any] | None:
    """Recent or failed notifications (frozen NotificationView rows) of the reader's sites, or None when
    not configured."""
    module = reminder_queries()
    if module is None:
        return None
    view = getattr(module, f"{kind}_notifications")
    return list(read(session_factory(), view, sites=actor.sites, limit=limit))


def report(actor: Actor, name: str, as_of: date) -> list[Any]:
    """One of pathway.views.reports' reports by name over the reader's sites (cached per set of sites)."""
    return _report(name, as_of, sites_of(actor))


@st.cache_data(ttl=REPORT_TTL, max_entries=20, show_spinner=False)
def _report(name: str, as_of: date, sites: tuple[str, ...] | None) -> list[Any]:
    """`sites`: the reader's site keys (per-site access; None: every site), part of the cache key."""
    factory = session_factory()
    if name == "days_to_procedure":
        return list(read(factory, reports.days_to_procedure, sites=sites))
    if name == "window_by_month":
        return list(read(factory, reports.window_by_month, sites=sites))
    if name == "pathways_by_stage":
        return list(read(factory, reports.pathways_by_stage, sites=sites))
    if name == "flags_by_type":
        return list(read(factory, reports.flags_by_type, as_of, sites=sites))
    if name == "complications":
        return list(read(factory, reports.complications, sites=sites))
    if name == "registry_completeness":
        return list(read(factory, reports.registry_completeness, as_of, sites=sites))
    raise ValueError(f"unknown report {name}")
