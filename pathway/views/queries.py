"""Read side: the worklist and one pathway's full record. Never writes.

The worklist reads the materialised flag windows (pathway.store.plan), so it needs no Prefect run to be
right; a page of it is read in index order and stops when full, so its cost follows the rows
shown, not the number of patients (docs/benchmarks.md).
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Date, Integer, String, and_, bindparam, case, exists, func, literal, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from pathway.domain import pts, rules
from pathway.domain.criteria import outside_guidance_scope, safety_check_failures, thrombolysis_criteria_failures
from pathway.domain.policy import Policy, policy_in_force
from pathway.domain.vocabulary import SEVERITY_RANK, Severity
from pathway.errors import NotFound
from pathway.store import tally
from pathway.store.models import AuditEvent, FlagWindowRow, Pathway, Patient, Step
from pathway.store.repository import load_rows, record_from_rows, table_of
from pathway.views.filters import SITES, WorklistFilter, is_open
from pathway.views.filters import standing as standing_at


@dataclass(frozen=True)
class WorklistRow:
    pathway: str
    patient: str
    site: str
    decision: str | None
    route: str
    extent: str
    stage: str
    presented_on: date
    window_days_left: int | None
    next_step: str | None
    next_due_on: date | None
    owner_role: str | None
    version: int
    flags: list[rules.Flag] = field(default_factory=list)

    @property
    def severity(self) -> str | None:
        return self.flags[0].severity.value if self.flags else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "pathway": self.pathway,
            "patient": self.patient,
            "site": self.site,
            "decision": self.decision,
            "route": self.route,
            "extent": self.extent,
            "stage": self.stage,
            "presented_on": self.presented_on.isoformat(),
            "window_days_left": self.window_days_left,
            "next_step": self.next_step,
            "next_due_on": self.next_due_on.isoformat() if self.next_due_on else None,
            "owner_role": self.owner_role,
            "severity": self.severity,
            "flags": [f.as_dict() for f in self.flags],
        }


def worklist(
    session: Session,
    as_of: date,
    *,
    site: str | None = None,
    flag: str | None = None,
    stage: str | None = None,
    route: str | None = None,
    flagged_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
    sites: Collection[str] | None = None,
    window_first: bool = False,
) -> list[WorklistRow]:
    """Open pathways, most urgent first: red, then amber, then none; then earliest due.

    With `window_first` (the dashboard's default order), pathways whose treatment window is still
    open at `as_of` come before everything else, fewest days left first: today's 14-day cases are
    not buried under an old red backlog. The set of rows is the same either way.

    A pathway ranks by the worst flag standing at `as_of`, then by the earliest due date of its
    standing flags (its next step's due date when none stands), then by reference. A page
    (`limit`, `offset` up to _DEEP_OFFSET) is read tier by tier in index order and stops once it
    is full, so its cost follows the rows shown, not the number of open pathways
    (docs/benchmarks.md). A flag filter, a deeper page or no limit groups every matching
    pathway's standing flags at once instead (the same order; its cost follows the matches).
    """
    shown = WorklistFilter(
        site=site,
        flag=flag,
        stage=stage,
        route=route,
        flagged_only=flagged_only,
        sites=None if sites is None else frozenset(sites),
    )
    if flag is None and limit is not None and offset <= _DEEP_OFFSET:
        ids = _urgent_first(session, as_of, shown, flagged_only, limit, offset, window_first=window_first)
        return _worklist_rows(session, ids, as_of)
    standing = (
        select(
            FlagWindowRow.pathway_id.label("pathway_id"),  # type: ignore[attr-defined]
            func.max(FlagWindowRow.severity_rank).label("rank"),
            func.min(FlagWindowRow.due_on).label("due"),
        )
        .where(standing_at(table_of(FlagWindowRow), as_of))
        .group_by(col(FlagWindowRow.pathway_id))
    )
    if flag:
        # Only the pathways the flag stands on (index on code, starts_on): cost follows the matches.
        standing = standing.where(col(FlagWindowRow.pathway_id).in_(shown.flagged(as_of)))
    ranked = standing.subquery()
    rank = func.coalesce(ranked.c.rank, literal(0))
    query = select(Pathway.id)
    if flagged_only or flag:
        query = query.join(ranked, ranked.c.pathway_id == col(Pathway.id))
    else:
        query = query.outerjoin(ranked, ranked.c.pathway_id == col(Pathway.id))
    query = query.where(*shown.conditions(table_of(Pathway)))
    # Unflagged pathways sort by their next step's due date; flagged ones by their most pressing flag.
    due = case((ranked.c.due.is_not(None), ranked.c.due), else_=Pathway.next_due_on)
    order = [rank.desc(), due.asc().nulls_last(), col(Pathway.ref)]
    if window_first:
        open_window = col(Pathway.window_closes_on) >= as_of
        # As the tiered read's window tier: days left, then reference; the rest in the usual order.
        first = [case((open_window, 0), else_=1), case((open_window, Pathway.window_closes_on), else_=None)]
        order = [*first, case((open_window, Pathway.ref), else_=None), *order]
    query = query.order_by(*order).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return _worklist_rows(session, [i for i in session.exec(query).all() if i is not None], as_of)


# Past about this offset, skipping rows tier by tier costs more than grouping every open pathway's
# windows. At 100,000 pathways, 50 rows at offset 10,000: 170 ms tiered, 510 ms grouped on SQLite
# (410 and 580 ms on PostgreSQL); at offset 60,000: 2.1 s tiered, 0.7 s grouped (1.1 and 0.35 s).
_DEEP_OFFSET = 10_000


def _listed(pathway: Any, filters: tuple[str, ...]) -> list[Any]:
    """Open, and these filters as parameters named after their columns (for statements built once)."""
    return [
        is_open(pathway),
        *(
            pathway.c.site_key.in_(bindparam(name, expanding=True))
            if name == SITES
            else pathway.c[name] == bindparam(name, type_=String)
            for name in filters
        ),
    ]


def _urgent_first(
    session: Session,
    as_of: date,
    shown: WorklistFilter,
    flagged_only: bool,
    limit: int,
    offset: int,
    *,
    window_first: bool = False,
) -> list[int]:
    """Pathway ids of one page of the worklist, in its order, read tier by tier.

    Red tier: standing windows in due order (index ix_flag_window_due), each pathway at its first
    standing window (its earliest due), kept when a red window stands on it. Amber tier: the same
    over amber windows where no red one stands. Then pathways with nothing standing, by next due
    date (index ix_pathway_open_due), dated ones first. Each tier stops at the rows still wanted.
    With `window_first`, a first tier holds the pathways whose window is still open (fewest days
    left first) and the other tiers leave them out.
    """
    tiers = ["red", "amber"] if flagged_only else ["red", "amber", "dated", "undated"]
    if window_first:
        tiers = ["window", *tiers]
    filters = tuple(shown.values())
    ids: list[int] = []
    skip = offset
    for tier in tiers:
        if len(ids) >= limit:
            break
        wanted = skip + limit - len(ids)
        got = list(
            session.execute(
                _tier(tier, filters, window_first, flagged_only and tier == "window"),
                {"as_of": as_of, "wanted": wanted, **shown.values()},
            ).scalars()
        )
        if len(got) <= skip:  # the whole tier lies before the page
            skip -= len(got)
            continue
        ids += got[skip:]
        skip = 0
    return ids


@cache
def _tier(tier: str, filters: tuple[str, ...], window_first: bool = False, flagged_only: bool = False) -> Any:
    """One tier's statement (built once per tier and set of filters; values are bound at run time)."""
    window = table_of(FlagWindowRow).alias("w")
    other = table_of(FlagWindowRow).alias("other")
    pathway = table_of(Pathway)
    as_of = bindparam("as_of", type_=Date)
    listed = _listed(pathway, filters)
    if tier == "window":
        query = select(pathway.c.id).where(*listed, pathway.c.window_closes_on >= as_of)
        if flagged_only:
            query = query.where(exists().where(other.c.pathway_id == pathway.c.id, standing_at(other, as_of)))
        query = query.order_by(pathway.c.window_closes_on, pathway.c.ref)
        return query.limit(bindparam("wanted", type_=Integer))
    if window_first:  # the window tier has them already
        listed.append(or_(pathway.c.window_closes_on.is_(None), pathway.c.window_closes_on < as_of))
    if tier in ("dated", "undated"):
        flagged = exists().where(other.c.pathway_id == pathway.c.id, standing_at(other, as_of))
        query = select(pathway.c.id).where(*listed, ~flagged)
        if tier == "dated":  # NULLS LAST, as two ranges, so SQLite too reads them in index order
            query = query.where(pathway.c.next_due_on.is_not(None)).order_by(pathway.c.next_due_on, pathway.c.ref)
        else:
            query = query.where(pathway.c.next_due_on.is_(None)).order_by(pathway.c.ref)
        return query.limit(bindparam("wanted", type_=Integer))
    first_standing = _first_standing(window, as_of)
    red_stands = exists().where(
        other.c.pathway_id == window.c.pathway_id,
        standing_at(other, as_of),
        other.c.severity_rank == SEVERITY_RANK[Severity.red],
    )
    # Pathway conditions as correlated subqueries, so the scan starts from the windows' due index.
    on_list = exists().where(pathway.c.id == window.c.pathway_id, *listed)
    reference = select(pathway.c.ref).where(pathway.c.id == window.c.pathway_id).scalar_subquery()
    query = select(window.c.pathway_id).where(standing_at(window, as_of), first_standing, on_list)
    if tier == "red":
        query = query.where(red_stands)
    else:
        # Amber is the only rank below red: an amber-tier pathway's windows are all amber.
        query = query.where(window.c.severity_rank == SEVERITY_RANK[Severity.amber], ~red_stands)
    return query.order_by(window.c.due_on, reference).limit(bindparam("wanted", type_=Integer))


def _first_standing(window: Any, as_of: Any) -> Any:
    """The window is its pathway's first standing at `as_of` in due order (then id): none stands before it."""
    earlier = table_of(FlagWindowRow).alias("earlier")
    return ~exists().where(
        earlier.c.pathway_id == window.c.pathway_id,
        standing_at(earlier, as_of),
        or_(
            earlier.c.due_on < window.c.due_on,
            and_(earlier.c.due_on == window.c.due_on, earlier.c.id < window.c.id),
        ),
    )


@cache
def _row_statements() -> tuple[Any, Any]:
    """The worklist rows' columns (with the next step's owner) and their standing flag windows, by ids."""
    pathway, patient, window, step = table_of(Pathway), table_of(Patient), table_of(FlagWindowRow), table_of(Step)
    owner = (  # who owns the next step (the newest such step, should a plan ever hold two)
        core_select(step.c.owner_role)
        .where(step.c.pathway_id == pathway.c.id, step.c.code == pathway.c.next_step, step.c.done_on.is_(None))
        .order_by(step.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    columns = [pathway.c[name] for name in _WORKLIST_COLUMNS]
    summary = (
        core_select(*columns, patient.c.ref.label("patient"), owner.label("owner_role"))
        .join(patient, patient.c.id == pathway.c.patient_id)
        .where(pathway.c.id.in_(bindparam("ids", expanding=True)))
    )
    flags = core_select(
        window.c.pathway_id, window.c.code, window.c.severity, window.c.starts_on, window.c.ends_on, window.c.due_on
    ).where(
        window.c.pathway_id.in_(bindparam("ids", expanding=True)), standing_at(window, bindparam("as_of", type_=Date))
    )
    return summary, flags


def _worklist_rows(session: Session, ids: list[int], as_of: date) -> list[WorklistRow]:
    """The worklist rows of these pathway ids, in this order: plain columns, no ORM objects."""
    summary_statement, flags_statement = _row_statements()
    severities = {severity.value: severity for severity in Severity}
    summary: dict[int, Any] = {}
    windows: dict[int, list[rules.FlagWindow]] = {i: [] for i in ids}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        summary |= {row[0]: row for row in session.execute(summary_statement, {"ids": chunk})}
        for pathway_id, code, severity, starts_on, ends_on, due_on in session.execute(
            flags_statement, {"ids": chunk, "as_of": as_of}
        ):
            windows[pathway_id].append(rules.FlagWindow(code, severities[severity], starts_on, ends_on, due_on))
    rows = []
    for i in ids:
        # The columns of _WORKLIST_COLUMNS, then the patient's reference and the next step's owner.
        _, ref, site, decision, route, extent, stage, presented_on, closes, *later = summary[i]
        next_step, next_due_on, version, patient, owner_role = later
        rows.append(
            WorklistRow(
                pathway=ref,
                patient=patient,
                site=site,
                decision=decision,
                route=route,
                extent=extent,
                stage=stage,
                presented_on=presented_on,
                window_days_left=(closes - as_of).days if closes else None,
                next_step=next_step,
                next_due_on=next_due_on,
                owner_role=owner_role,
                version=version,
                flags=rules.merge_standing(windows[i], as_of),
            )
        )
    return rows


_WORKLIST_COLUMNS = (
    "id",
    "ref",
    "site",
    "decision",
    "route",
    "extent",
    "stage",
    "presented_on",
    "window_closes_on",
    "next_step",
    "next_due_on",
    "version",
)


def count_open(
    session: Session, as_of: date, *, site: str | None = None, sites: Collection[str] | None = None
) -> dict[str, int]:
    """Open pathways by worst standing severity at `as_of` (red, amber, none).

    Read from the severity tally kept by every command (pathway.store.tally): a few thousand rows
    whatever the number of pathways. recount_open counts the same from the windows themselves.
    """
    ranks = tally.counts(session, as_of, _site_keys(site, sites))
    red, amber = ranks.get(SEVERITY_RANK[Severity.red], 0), ranks.get(SEVERITY_RANK[Severity.amber], 0)
    return {Severity.red.value: red, Severity.amber.value: amber, "none": ranks.get(tally.OPEN, 0) - red - amber}


def _site_keys(site: str | None, sites: Collection[str] | None) -> set[str] | None:
    """The site keys a count covers: the site filter within the reader's sites (None: every site)."""
    values = WorklistFilter(site=site, sites=None if sites is None else frozenset(sites)).values()
    keys: set[str] | None = None
    if "site_key" in values:
        keys = {values["site_key"]}
    if SITES in values:
        keys = set(values[SITES]) if keys is None else keys & set(values[SITES])
    return keys


def recount_open(
    session: Session, as_of: date, *, site: str | None = None, sites: Collection[str] | None = None
) -> dict[str, int]:
    """count_open counted from the standing windows and the open pathways (every open pathway read):
    what the tally must always equal (tests/store/test_tally.py; bench compares their cost)."""
    shown = WorklistFilter(site=site, sites=None if sites is None else frozenset(sites))
    pathway = table_of(Pathway)
    total = session.exec(select(func.count()).select_from(pathway).where(*shown.conditions(pathway))).one()
    worst = (
        select(FlagWindowRow.pathway_id, func.max(FlagWindowRow.severity_rank).label("rank"))
        .where(standing_at(table_of(FlagWindowRow), as_of))
        .group_by(col(FlagWindowRow.pathway_id))
        .subquery()
    )
    query = (
        select(worst.c.rank, func.count())
        .select_from(worst.join(pathway, pathway.c.id == worst.c.pathway_id))
        .where(*shown.conditions(pathway))
        .group_by(worst.c.rank)
    )
    names = {SEVERITY_RANK[Severity.red]: Severity.red.value, SEVERITY_RANK[Severity.amber]: Severity.amber.value}
    counts = dict.fromkeys([*names.values(), "none"], 0)
    for rank, number in session.exec(query).all():
        counts[names[int(rank)]] = int(number)
    counts["none"] = int(total) - sum(counts.values())
    return counts


@dataclass(frozen=True)
class PathwayDetail:
    pathway: Pathway
    patient: Patient
    record: Any
    steps: list[Step]
    flags: list[rules.Flag]
    window_days_left: int | None
    audit: list[AuditEvent]
    rows: Any
    as_of: date | None = None
    policy: Policy | None = None

    @property
    def pts(self) -> pts.PtsAssessment:
        """PTS read from the follow-up scores: acute-phase scores carry no category (pathway.domain.pts)."""
        return pts.assess(pts.scores_of(self.rows.follow_ups), self.pathway.presented_on, self.active_policy)

    @property
    def active_policy(self) -> Policy:
        return self.policy or policy_in_force()

    def safety(self) -> dict[str, Any]:
        """Version 2's safety net for this pathway, in plain words, at the as-of date."""
        record, policy = self.record, self.active_policy
        as_of = self.as_of or record.presented_on
        latest = record.latest_safety_check(as_of)
        rows = self.rows
        checked = [row for row in rows.safety_checks if latest is not None and row["checked_on"] == latest.checked_on]
        booked = record.scheduled_on
        criteria_on = max(as_of, booked) if booked else as_of
        stop = record.standing_stop
        hold = next((e for e in reversed(rows.anticoagulation) if e["kind"] == "stop"), None) if stop else None
        return {
            "age_at_presentation": record.age_at_presentation,
            "pregnant": record.pregnant,
            "outside_guidance_scope": outside_guidance_scope(record, policy),
            "outside_scope_plan": record.outside_scope_plan,
            "thrombolysis_planned": record.thrombolysis_planned,
            "thrombolysis_criteria": {
                "on": criteria_on.isoformat(),
                "failures": thrombolysis_criteria_failures(record, criteria_on, policy),
            }
            if record.thrombolysis_planned and not record.procedures
            else None,
            "latest_safety_check": _plain(
                {k: v for k, v in checked[-1].items() if k not in ("id", "pathway_id")}
                | {"failures": safety_check_failures(latest, record.thrombolysis_planned, policy)}
            )
            if checked and latest is not None
            else None,
            "outside_criteria_rationale": [
                {"performed_on": x["performed_on"].isoformat(), "technique": x["technique"], "rationale": text}
                for x in rows.procedures
                if (text := x.get("outside_criteria_rationale"))
            ],
            "anticoagulation_hold": {
                "stopped_on": _plain(hold["event_on"]),
                "restart_planned_on": _plain(hold.get("restart_planned_on")),
                "plan_approved_by": hold.get("plan_approved_by"),
            }
            if hold is not None and hold.get("stop_reason") == "procedure_hold"
            else None,
        }

    def as_dict(self, *, identifiers: bool = True) -> dict[str, Any]:
        p, patient = self.pathway, self.patient
        person: dict[str, Any] = {"patient": patient.ref, "sex": patient.sex, "site": patient.site}
        if identifiers:
            person |= {
                "nhs_number": patient.nhs_number,
                "name": patient.name,
                "date_of_birth": patient.date_of_birth.isoformat(),
            }
        facts = {
            name: [
                _plain({k: v for k, v in row.items() if k not in ("id", "pathway_id")})
                for row in getattr(self.rows, name)
            ]
            for name in (
                "mdts",
                "anticoagulation",
                "enrolments",
                "consents",
                "schedules",
                "procedures",
                "registry",
                "follow_ups",
                "reviews",
                "filter_outcomes",
                "safety_checks",
            )
        }
        assessment = self.pts
        readings = {(r.score.visit, r.score.seen_on.isoformat()): r for r in assessment.readings}
        for visit in facts["follow_ups"]:  # the category as the timing rule reads it, never the acute one
            reading = readings.get((visit["visit"], visit["seen_on"]))
            visit["pts_category"] = reading.category if reading else None
            visit["pts_reading"] = reading.words if reading else None
        return {
            "pathway": p.ref,
            **person,
            "status": "closed" if p.closed_on else "open",
            "closed_on": _plain(p.closed_on),
            "close_reason": p.close_reason,
            "presented_on": p.presented_on.isoformat(),
            "symptom_onset_on": p.symptom_onset_on.isoformat(),
            "referred_on": p.referred_on.isoformat(),
            "leg": p.leg,
            "veins": p.veins,
            "imaging": p.imaging,
            "extent": p.extent,
            "route": p.route,
            "decision": p.decision,
            "stage": p.stage,
            "window_days_left": self.window_days_left,
            "policy_version": p.policy_version,
            "version": p.version,
            "governance_notified_on": _plain(self.rows.governance_notified_on),
            "record": facts,
            "safety": self.safety(),
            "pts": assessment.as_dict(),
            "steps": [
                {
                    "stage": s.stage,
                    "step": s.code,
                    "owner_role": s.owner_role,
                    "warn_on": s.warn_on.isoformat(),
                    "due_on": s.due_on.isoformat(),
                    "done_on": _plain(s.done_on),
                }
                for s in self.steps
            ],
            "flags": [f.as_dict() for f in self.flags],
            "audit": [
                {
                    "at": a.at.isoformat(),
                    "actor": a.actor,
                    "role": a.role,
                    "command": a.command,
                    "clinician": a.clinician,
                }
                for a in self.audit
            ],
        }


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def pathway_detail(session: Session, ref: str, as_of: date, *, policy: Policy | None = None) -> PathwayDetail:
    policy = policy or policy_in_force()
    pathway = session.exec(select(Pathway).where(Pathway.ref == ref)).first()
    if pathway is None:
        raise NotFound("pathway", "no pathway has this reference")
    patient = session.get(Patient, pathway.patient_id)
    assert patient is not None
    rows = load_rows(session, pathway)
    record = record_from_rows(rows)
    steps = list(session.exec(select(Step).where(Step.pathway_id == pathway.id).order_by(col(Step.id))).all())
    audit = list(
        session.exec(select(AuditEvent).where(AuditEvent.pathway_ref == ref).order_by(col(AuditEvent.id))).all()
    )
    return PathwayDetail(
        pathway=pathway,
        patient=patient,
        record=record,
        steps=steps,
        flags=rules.flags_at(record, as_of, policy),
        window_days_left=rules.window_days_left(record, as_of, policy),
        audit=audit,
        rows=rows,
        as_of=as_of,
        policy=policy,
    )


@dataclass(frozen=True)
class FoundPathway:
    pathway: str
    patient: str
    site: str
    stage: str
    status: str  # open or closed


def find_pathways(
    session: Session,
    text: str,
    *,
    identifiers: bool = True,
    sites: Collection[str] | None = None,
    limit: int = 20,
) -> list[FoundPathway]:
    """Pathways whose reference (any case) is `text`, or, with `identifiers`, whose patient's NHS number
    (spaces ignored) or hospital number (any case) is: the whole table, not a page of the worklist.

    Without `identifiers` (a pseudonymised reader) only the pathway reference is looked up, so an
    NHS number cannot be used to find whose record a pathway is. `sites` (site keys, per-site access):
    another site's pathway is not found, as if it did not exist; None: every site.
    """
    wanted = " ".join(text.split())
    if not wanted:
        return []
    pathway, patient = table_of(Pathway), table_of(Patient)
    matches = [func.lower(pathway.c.ref) == wanted.lower()]
    if identifiers:
        digits = wanted.replace(" ", "").replace("-", "")
        if digits.isdigit():
            matches.append(patient.c.nhs_number == digits)
        matches.append(func.lower(patient.c.ref) == wanted.lower())
    query = (
        core_select(pathway.c.ref, patient.c.ref, pathway.c.site, pathway.c.stage, pathway.c.closed_on)
        .join(patient, patient.c.id == pathway.c.patient_id)
        .where(or_(*matches))
        .where(*([pathway.c.site_key.in_(sorted(sites))] if sites is not None else []))
        .order_by(pathway.c.closed_on.is_not(None), pathway.c.presented_on.desc(), pathway.c.ref)
        .limit(limit)
    )
    return [
        FoundPathway(ref, patient_ref, site, stage, "closed" if closed_on else "open")
        for ref, patient_ref, site, stage, closed_on in session.execute(query)
    ]


# The older backlog under the worklist's "today" view, by how long its most overdue standing flag has
# been due: (first day, last day) overdue, the last group open-ended (kept by the tally, pathway.store.tally).
BACKLOG_AGES = tally.BACKLOG_AGES


@dataclass(frozen=True)
class BacklogGroup:
    first_day: int
    last_day: int | None  # None: no upper bound
    count: int

    @property
    def words(self) -> str:
        if self.last_day is None:
            return f"Overdue more than {self.first_day - 1} days"
        return f"Overdue {self.first_day}–{self.last_day} days"


def _backlog(
    as_of: date, site: str | None, stage: str | None, route: str | None, sites: Collection[str] | None
) -> tuple[Any, Any]:
    """The backlog as a subquery (id, ref, oldest overdue standing due date, worst overdue rank), and its due
    column (recount_backlog_by_age; backlog_rows reads the same pathways tier by tier).

    The backlog: open pathways on the reader's sites and these filters whose treatment window is not
    open at `as_of` (those lead the worklist), with a standing flag already past its due date.
    """
    window, pathway = table_of(FlagWindowRow), table_of(Pathway)
    shown = WorklistFilter(site=site, stage=stage, route=route, sites=None if sites is None else frozenset(sites))
    overdue = (
        core_select(
            window.c.pathway_id.label("pathway_id"),
            func.min(window.c.due_on).label("due"),
            func.max(window.c.severity_rank).label("rank"),
        )
        .where(standing_at(window, as_of), window.c.due_on < as_of)
        .group_by(window.c.pathway_id)
        .subquery()
    )
    query = (
        core_select(pathway.c.id, pathway.c.ref, overdue.c.due, overdue.c.rank)
        .join(overdue, overdue.c.pathway_id == pathway.c.id)
        .where(
            *shown.conditions(pathway),
            or_(pathway.c.window_closes_on.is_(None), pathway.c.window_closes_on < as_of),
        )
        .subquery()
    )
    return query, query.c.due


def backlog_by_age(
    session: Session,
    as_of: date,
    *,
    site: str | None = None,
    stage: str | None = None,
    route: str | None = None,
    sites: Collection[str] | None = None,
) -> list[BacklogGroup]:
    """How many backlog pathways fall in each age group (BACKLOG_AGES), every group listed (0 too).

    By site (and the reader's sites) the counts are read from the tally every command keeps
    (pathway.store.tally): no scan. The tally is not kept by stage or route, so with either of those
    filters they are counted from the windows (recount_backlog_by_age): every standing overdue window
    is read, as before the tally (docs/architecture.md).
    """
    if stage is not None or route is not None:
        return recount_backlog_by_age(session, as_of, site=site, stage=stage, route=route, sites=sites)
    ranks = tally.counts(session, as_of, _site_keys(site, sites), backlog=True)
    return [BacklogGroup(first, last, ranks.get(tally.BACKLOG + i, 0)) for i, (first, last) in enumerate(BACKLOG_AGES)]


def recount_backlog_by_age(
    session: Session,
    as_of: date,
    *,
    site: str | None = None,
    stage: str | None = None,
    route: str | None = None,
    sites: Collection[str] | None = None,
) -> list[BacklogGroup]:
    """backlog_by_age counted from the standing windows of every open pathway: what the tally must
    always equal (tests/store/test_tally.py), and the count by stage or route."""
    backlog, due = _backlog(as_of, site, stage, route, sites)
    bucket = case(
        *((due >= as_of - timedelta(days=last), i) for i, (_first, last) in enumerate(BACKLOG_AGES) if last),
        else_=len(BACKLOG_AGES) - 1,
    )
    statement = core_select(bucket, func.count()).select_from(backlog).group_by(bucket)
    counted: dict[int, int] = {int(i): int(n) for i, n in session.execute(statement).all()}
    return [BacklogGroup(first, last, counted.get(i, 0)) for i, (first, last) in enumerate(BACKLOG_AGES)]


def backlog_rows(
    session: Session,
    as_of: date,
    first_day: int,
    last_day: int | None,
    *,
    site: str | None = None,
    stage: str | None = None,
    route: str | None = None,
    sites: Collection[str] | None = None,
    limit: int = 50,
) -> list[WorklistRow]:
    """The backlog pathways overdue `first_day`..`last_day` days: red first, then the longest overdue.

    Read tier by tier as the worklist's page is: standing windows in due order over the group's due
    dates (index ix_flag_window_due), each pathway at its oldest overdue standing window, red tier (a red
    flag overdue) then amber; each tier stops at the rows still wanted, so the cost follows the rows
    walked to fill the page, not the number of pathways (docs/architecture.md).
    """
    filters = WorklistFilter(site=site, stage=stage, route=route, sites=None if sites is None else frozenset(sites))
    values = filters.values()
    bounds = {"as_of": as_of, "latest": as_of - timedelta(days=first_day)}
    if last_day is not None:
        bounds["earliest"] = as_of - timedelta(days=last_day)
    ids: list[int] = []
    for red in (True, False):
        if len(ids) >= limit:
            break
        statement = _backlog_tier(red, tuple(values), last_day is not None)
        ids += session.execute(statement, {**bounds, "wanted": limit - len(ids), **values}).scalars()
    return _worklist_rows(session, ids, as_of)


@cache
def _backlog_tier(red: bool, filters: tuple[str, ...], bounded: bool) -> Any:
    """One backlog tier's statement (values bound at run time): pathway ids in the order of their oldest
    overdue standing window's due date, then reference, due between `earliest` (when `bounded`) and
    `latest`; red: with a red window standing and overdue, else without one."""
    window, other = table_of(FlagWindowRow).alias("w"), table_of(FlagWindowRow).alias("other")
    pathway = table_of(Pathway)
    as_of = bindparam("as_of", type_=Date)
    due_range = [window.c.due_on <= bindparam("latest", type_=Date), window.c.due_on < as_of]
    if bounded:
        due_range.append(window.c.due_on >= bindparam("earliest", type_=Date))
    oldest = _first_standing(window, as_of)  # overdue itself, so the pathway's oldest overdue window
    red_overdue = exists().where(
        other.c.pathway_id == window.c.pathway_id,
        standing_at(other, as_of),
        other.c.due_on < as_of,
        other.c.severity_rank == SEVERITY_RANK[Severity.red],
    )
    # Pathway conditions as correlated subqueries, so the scan starts from the windows' due index.
    window_not_open = or_(pathway.c.window_closes_on.is_(None), pathway.c.window_closes_on < as_of)
    listed = exists().where(pathway.c.id == window.c.pathway_id, *_listed(pathway, filters), window_not_open)
    reference = core_select(pathway.c.ref).where(pathway.c.id == window.c.pathway_id).scalar_subquery()
    query = core_select(window.c.pathway_id).where(*due_range, standing_at(window, as_of), oldest, listed)
    if red:
        query = query.where(red_overdue)
    else:  # amber is the only rank below red: an amber-tier pathway's overdue windows are all amber
        query = query.where(window.c.severity_rank == SEVERITY_RANK[Severity.amber], ~red_overdue)
    return query.order_by(window.c.due_on, reference).limit(bindparam("wanted", type_=Integer))
