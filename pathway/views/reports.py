"""Read side for the dashboard's reports and paging. Never writes.

Every report is aggregated by the database (GROUP BY), so its cost does not grow with what the
page shows; the one exception is complications, kept in a JSON list on the procedure row and
counted here (one small row per procedure). Dates differ by dialect only in two expressions:
days between two dates and the month of a date.
"""

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, Integer, and_, case, cast, func, literal
from sqlalchemy import select as select_columns  # any number of columns (sqlmodel's select stops at 4)
from sqlmodel import Session, col, select

from pathway.domain.policy import Policy, policy_in_force
from pathway.domain.rules import FLAG_BY_CODE
from pathway.domain.stages import STAGE_CLOSED, STAGE_COMPLETE, STAGES
from pathway.domain.vocabulary import PMT_TECHNIQUES, PROCEDURAL_DECISIONS
from pathway.store.models import FlagWindowRow, Pathway, Procedure, RegistrySubmission, Site
from pathway.store.repository import pathway_site_keys, sites_as_registered, table_of
from pathway.views.filters import WorklistFilter, standing
from pathway.views.queries import count_open


def _dialect(session: Session) -> str:
    bind = session.get_bind()
    return bind.dialect.name


def _days_between(session: Session, later: Any, earlier: Any) -> Any:
    if _dialect(session) == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return later - earlier  # PostgreSQL: date - date is an integer number of days


def _of_sites(query: Any, sites: Collection[str] | None, pathway_id: Any = None) -> Any:
    """`query` limited to pathways of these sites (site keys; per-site access): None is every site.
    `pathway_id`: the column to join the pathway on, when the query does not select from it already."""
    if sites is None:
        return query
    if pathway_id is not None:
        query = query.join(Pathway, col(Pathway.id) == pathway_id)
    return query.where(col(Pathway.site_key).in_(sorted(sites)))


def _month(session: Session, day: Any) -> Any:
    if _dialect(session) == "sqlite":
        return func.strftime("%Y-%m", day)
    return func.to_char(day, "YYYY-MM")


# --- paging ------------------------------------------------------------------------------------


def count_worklist(
    session: Session,
    as_of: date,
    *,
    site: str | None = None,
    flag: str | None = None,
    stage: str | None = None,
    route: str | None = None,
    flagged_only: bool = False,
    sites: Collection[str] | None = None,
) -> int:
    """How many rows `queries.worklist` returns with the same filters (for 'page N of M'): the same
    WorklistFilter builds both WHERE clauses. Filtered by site(s) alone, flagged or not, the count is the
    severity tally's (queries.count_open: no scan of a million pathways on every render)."""
    if flag is None and stage is None and route is None:
        counts = count_open(session, as_of, site=site, sites=sites)
        return counts["red"] + counts["amber"] + (0 if flagged_only else counts["none"])
    chosen = WorklistFilter(
        site=site,
        flag=flag,
        stage=stage,
        route=route,
        flagged_only=flagged_only,
        sites=None if sites is None else frozenset(sites),
    )
    pathway = table_of(Pathway)
    query = select_columns(func.count()).select_from(pathway).where(*chosen.conditions(pathway))
    if chosen.needs_a_standing_flag():
        # Uncorrelated: one pass over the standing windows (a correlated EXISTS re-scans them per pathway).
        query = query.where(pathway.c.id.in_(chosen.flagged(as_of)))
    return int(session.execute(query).scalar_one())


def sites(session: Session) -> list[str]:
    """Every site with a pathway, for the worklist's site filter: one entry per site, spelt as it was
    first recorded (pathway.domain.text.site_key decides which spellings are one site)."""
    keys = pathway_site_keys(session)
    spelling = dict(session.execute(select_columns(col(Site.site_key), col(Site.name))).tuples().all())
    if any(key not in spelling for key in keys):
        # A site recorded and never put on the managed list (migration 0011 lists every site in use, so
        # only a database written around the services): its first spelling, read from the records.
        spelling = sites_as_registered(session)
    return sorted({spelling.get(key, key) for key in keys})


# --- reports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DaysToProcedure:
    days: int
    pathways: int
    within_window: bool


@dataclass(frozen=True)
class WindowByMonth:
    month: str  # month of presentation, YYYY-MM
    procedural: int  # MDT chose PMT, CDT or open thrombectomy
    treated_within_window: int
    treated_late: int
    not_treated: int
    share_within_window: float | None


@dataclass(frozen=True)
class StageCount:
    stage: str
    title: str
    pathways: int


@dataclass(frozen=True)
class FlagCount:
    code: str
    words: str
    severity: str
    pathways: int


@dataclass(frozen=True)
class ComplicationCount:
    complication: str
    procedures: int
    share_of_procedures: float


@dataclass(frozen=True)
class RegistryByMonth:
    month: str  # month of the first PMT, YYYY-MM
    pmt_pathways: int
    submitted: int
    awaiting: int  # not yet submitted, still within the registry deadline
    overdue: int
    completeness: float


def _first_procedure(techniques: frozenset[str] | None = None) -> Any:
    query = select(
        Procedure.pathway_id.label("pathway_id"),  # type: ignore[attr-defined]
        func.min(Procedure.performed_on).label("performed_on"),
    )
    if techniques is not None:
        query = query.where(col(Procedure.technique).in_(sorted(techniques)))
    return query.group_by(col(Procedure.pathway_id)).subquery()


def days_to_procedure(
    session: Session, *, sites: Collection[str] | None, policy: Policy | None = None
) -> list[DaysToProcedure]:
    """Pathways by days from presentation to their first procedure (the 14-day line is the policy's).
    Every report takes `sites` (the reader's site keys, or None for every site) and must be given it."""
    window = (policy or policy_in_force()).n("treatment_window_days")
    first = _first_procedure()
    days = _days_between(session, first.c.performed_on, Pathway.presented_on).label("days")
    query = (
        select(days, func.count())
        .select_from(Pathway)
        .join(first, first.c.pathway_id == col(Pathway.id))
        .group_by(days)
        .order_by(days)
    )
    query = _of_sites(query, sites)
    return [DaysToProcedure(int(d), int(n), int(d) <= window) for d, n in session.exec(query).all()]


def window_by_month(
    session: Session, *, sites: Collection[str] | None, policy: Policy | None = None
) -> list[WindowByMonth]:
    """By month of presentation: procedural decisions and how many were treated within the window."""
    window = (policy or policy_in_force()).n("treatment_window_days")
    first = _first_procedure()
    days = _days_between(session, first.c.performed_on, Pathway.presented_on)
    month = _month(session, Pathway.presented_on).label("month")
    query = (
        select_columns(
            month,
            func.count(),
            func.sum(case((days <= window, 1), else_=0)),
            func.sum(case((days > window, 1), else_=0)),
            func.sum(case((first.c.performed_on.is_(None), 1), else_=0)),
        )
        .select_from(Pathway)
        .outerjoin(first, first.c.pathway_id == col(Pathway.id))
        .where(col(Pathway.decision).in_(sorted(d.value for d in PROCEDURAL_DECISIONS)))
        .group_by(month)
        .order_by(month)
    )
    query = _of_sites(query, sites)
    return [
        WindowByMonth(
            str(m), int(n), int(within or 0), int(late or 0), int(none or 0), (within or 0) / n if n else None
        )
        for m, n, within, late, none in session.execute(query).all()
    ]


def pathways_by_stage(session: Session, *, sites: Collection[str] | None) -> list[StageCount]:
    """Every pathway by its stage, in the order the stages are declared, then complete and closed."""
    query = _of_sites(select(Pathway.stage, func.count()), sites).group_by(col(Pathway.stage))
    found = dict(session.exec(query).all())
    titles = {s.code: s.title for s in STAGES} | {STAGE_COMPLETE: "Complete", STAGE_CLOSED: "Closed"}
    order = [*titles, *sorted(set(found) - set(titles))]
    return [StageCount(code, titles.get(code, code), int(found.get(code, 0))) for code in order]


def flags_by_type(session: Session, as_of: date, *, sites: Collection[str] | None) -> list[FlagCount]:
    """Open pathways by standing flag and severity at `as_of` (a pathway counts once per flag)."""
    query = select(
        FlagWindowRow.code, FlagWindowRow.severity, func.count(func.distinct(FlagWindowRow.pathway_id))
    ).where(standing(table_of(FlagWindowRow), as_of))
    query = _of_sites(query, sites, col(FlagWindowRow.pathway_id)).group_by(
        col(FlagWindowRow.code), col(FlagWindowRow.severity)
    )
    rows = [
        FlagCount(code, FLAG_BY_CODE[code].words if code in FLAG_BY_CODE else code, severity, int(n))
        for code, severity, n in session.exec(query).all()
    ]
    return sorted(rows, key=lambda r: (r.severity != "red", -r.pathways, r.code))


def complications(session: Session, *, sites: Collection[str] | None) -> list[ComplicationCount]:
    """Each complication recorded at a procedure, with its share of all procedures."""
    lists = session.exec(_of_sites(select(Procedure.complications), sites, col(Procedure.pathway_id))).all()
    total = len(lists)
    counted = Counter(item.strip().lower() for items in lists for item in (items or []) if item.strip())
    none = sum(1 for items in lists if not items)
    rows = [ComplicationCount(name, n, n / total) for name, n in counted.most_common()]
    return [*rows, ComplicationCount("(none recorded)", none, none / total)] if total else []


def registry_completeness(
    session: Session, as_of: date, *, sites: Collection[str] | None, policy: Policy | None = None
) -> list[RegistryByMonth]:
    """By month of the first PMT: registry entries made, awaited and overdue (HTG516 1.3)."""
    due_days = (policy or policy_in_force()).n("registry_due_days")
    first = _first_procedure(frozenset(t.value for t in PMT_TECHNIQUES))
    submitted = (
        select(RegistrySubmission.pathway_id.label("pathway_id"))  # type: ignore[attr-defined]
        .group_by(col(RegistrySubmission.pathway_id))
        .subquery()
    )
    month = _month(session, first.c.performed_on).label("month")
    age = _days_between(session, literal(as_of, Date), first.c.performed_on)
    is_submitted = submitted.c.pathway_id.is_not(None)
    query = (
        select_columns(
            month,
            func.count(),
            func.sum(case((is_submitted, 1), else_=0)),
            func.sum(case((and_(~is_submitted, age <= due_days), 1), else_=0)),
            func.sum(case((and_(~is_submitted, age > due_days), 1), else_=0)),
        )
        .select_from(first)
        .outerjoin(submitted, submitted.c.pathway_id == first.c.pathway_id)
        .group_by(month)
        .order_by(month)
    )
    query = _of_sites(query, sites, first.c.pathway_id)
    return [
        RegistryByMonth(str(m), int(n), int(done or 0), int(awaiting or 0), int(late or 0), (done or 0) / n)
        for m, n, done, awaiting, late in session.execute(query).all()
    ]
