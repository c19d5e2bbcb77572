"""The weekly governance digest: where the open pathways stand, what is flagged, what slipped.

Content (pathway references and sites only): open pathways by stage; standing flags by code and
severity; pathways outside the 14-day treatment window (open and waiting past it, and procedures done
after it); registry completeness for PMT (HTG516 1.3); temporary IVC filters with no retrieval decision.
It is kept as a file under the digests folder and sent once per week (claimed like a notification).
It ends with the audit trail's state (pathway.store.audit_check): its row count and head hash, anchored
(signed with the audit key) outside the database, or what does not match: a record of the chain's
head sent away every week, where no one with rights on the database can reach it.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from pathway.domain.policy import policy_in_force
from pathway.domain.text import markdown_literal
from pathway.domain.vocabulary import PMT_TECHNIQUES, IvcFilter
from pathway.reminders.channels import Channels, Message, Outbox, deliver
from pathway.reminders.claimer import holding_claim, live_claims
from pathway.reminders.delivery import Clock
from pathway.reminders.settings import GOVERNANCE_ROLE, ReminderSettings
from pathway.reminders.transactions import insert_ignoring_taken
from pathway.store.audit_anchor import AnchorStore
from pathway.store.audit_check import AuditCheck, check_audit
from pathway.store.db import SessionFactory
from pathway.store.models import FilterOutcomeRow, Pathway, Procedure, RegistrySubmission
from pathway.store.reminder_models import GovernanceDigest
from pathway.store.repository import table_of
from pathway.store.unit_of_work import writing
from pathway.views.filters import flag_windows, standing_on_open

DIGEST_CODE = "GOVERNANCE_DIGEST"


@dataclass(frozen=True)
class OutsideWindow:
    pathway: str
    site: str
    presented_on: date
    performed_on: date | None  # None: still waiting
    day: int  # days after presentation (of the procedure, or as of the digest)


@dataclass(frozen=True)
class FilterInPlace:
    pathway: str
    site: str
    placed_on: date
    days: int


@dataclass(frozen=True)
class Digest:
    as_of: date
    week_of: date
    open_by_stage: dict[str, int]
    flags: dict[str, dict[str, int]]  # code -> severity -> pathways
    outside_window: list[OutsideWindow]
    pmt_pathways: int
    registry_submitted: int
    unretrieved_filters: list[FilterInPlace]
    window_days: int = 14  # the policy's treatment window (HTG516 3.9), set by build_digest
    audit: AuditCheck | None = None

    @property
    def registry_completeness(self) -> float | None:
        return self.registry_submitted / self.pmt_pathways if self.pmt_pathways else None

    def as_markdown(self) -> str:
        lines = [f"# Governance digest, week of {self.week_of.isoformat()}", "", f"As of {self.as_of.isoformat()}."]
        lines += ["", "## Open pathways by stage", "", "| stage | pathways |", "|---|---|"]
        lines += [f"| {stage} | {n} |" for stage, n in sorted(self.open_by_stage.items())]
        lines += ["", "## Standing flags", "", "| flag | red | amber |", "|---|---|---|"]
        lines += [f"| {code} | {s.get('red', 0)} | {s.get('amber', 0)} |" for code, s in sorted(self.flags.items())]
        waiting = [o for o in self.outside_window if o.performed_on is None]
        late = [o for o in self.outside_window if o.performed_on is not None]
        days = self.window_days
        lines += ["", f"## Outside the {days}-day window", "", f"Waiting past day {days}: {len(waiting)}."]
        lines += [f"- {_where(o.pathway, o.site)}: presented {o.presented_on}, day {o.day}" for o in waiting]
        lines += ["", f"Procedures after day {days}: {len(late)}."]
        lines += [f"- {_where(o.pathway, o.site)}: procedure on day {o.day}" for o in late]
        share = self.registry_completeness
        lines += ["", "## Registry completeness (PMT, HTG516 1.3)", ""]
        lines.append(
            f"{self.registry_submitted} of {self.pmt_pathways} PMT pathways entered ({share:.0%})."
            if share is not None
            else "No PMT pathways yet."
        )
        lines += ["", "## Temporary IVC filters without a retrieval decision", "", f"{len(self.unretrieved_filters)}."]
        lines += [
            f"- {_where(f.pathway, f.site)}: placed {f.placed_on}, {f.days} days" for f in self.unretrieved_filters
        ]
        if self.audit is not None:
            lines += ["", "## Audit trail", ""]
            if self.audit.intact:
                signed = "signed" if self.audit.anchor and self.audit.anchor.mac else "not signed: no audit key"
                lines.append(f"Intact: {self.audit.rows} rows, head `{self.audit.head}` (anchored, {signed}).")
                lines.append(f"Clinical rows matching the trail: {self.audit.clinical_rows}.")
            else:
                lines.append("BROKEN. Run `pathway audit verify` and tell the clinical safety officer:")
                lines += [f"- {problem}" for problem in self.audit.problems]
        return "\n".join(lines) + "\n"


def _where(pathway: str, site: str) -> str:
    """A pathway and its site as typed, literal in the markdown (a site is never a link or an image)."""
    return f"{markdown_literal(pathway)} ({markdown_literal(site)})"


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def build_digest(session: Session, as_of: date) -> Digest:
    window_days = policy_in_force().n("treatment_window_days")
    is_open = col(Pathway.closed_on).is_(None)
    stages = session.exec(select(Pathway.stage, func.count()).where(is_open).group_by(col(Pathway.stage))).all()
    window = flag_windows()
    counted = func.count(func.distinct(window.c.pathway_id))
    standing = session.execute(
        standing_on_open(as_of, window.c.code, window.c.severity, counted).group_by(window.c.code, window.c.severity)
    ).all()
    flags: dict[str, dict[str, int]] = {}
    for code, severity, n in standing:
        flags.setdefault(code, {})[severity] = int(n)
    first_procedure = func.min(Procedure.performed_on)
    treated = session.exec(
        select(col(Pathway.ref), col(Pathway.site), col(Pathway.presented_on), first_procedure)
        .join(Procedure, col(Procedure.pathway_id) == col(Pathway.id))
        .group_by(col(Pathway.id), col(Pathway.ref), col(Pathway.site), col(Pathway.presented_on))
    ).all()
    outside = [
        OutsideWindow(ref, site, presented, done, (done - presented).days)
        for ref, site, presented, done in treated
        if done is not None and (done - presented).days > window_days
    ]
    waiting = session.exec(
        select(col(Pathway.ref), col(Pathway.site), col(Pathway.presented_on)).where(
            is_open, col(Pathway.window_closes_on).is_not(None), col(Pathway.window_closes_on) < as_of
        )
    ).all()
    outside += [OutsideWindow(ref, site, presented, None, (as_of - presented).days) for ref, site, presented in waiting]
    pmt_technique = col(Procedure.technique).in_([t.value for t in PMT_TECHNIQUES])
    pmt_pathways = session.exec(select(func.count(func.distinct(Procedure.pathway_id))).where(pmt_technique)).one()
    submitted = session.exec(
        select(func.count(func.distinct(RegistrySubmission.pathway_id))).where(
            col(RegistrySubmission.pathway_id).in_(select(Procedure.pathway_id).where(pmt_technique))
        )
    ).one()
    decided = select(FilterOutcomeRow.pathway_id)
    filters = session.exec(
        select(Pathway.ref, Pathway.site, func.max(Procedure.performed_on))
        .join(Procedure, col(Procedure.pathway_id) == col(Pathway.id))
        .where(Procedure.ivc_filter == IvcFilter.temporary.value, col(Pathway.id).not_in(decided))
        .group_by(col(Pathway.id), col(Pathway.ref), col(Pathway.site))
    ).all()
    return Digest(
        as_of=as_of,
        week_of=week_of(as_of),
        open_by_stage={stage: int(n) for stage, n in stages},
        flags=flags,
        outside_window=sorted(outside, key=lambda o: (o.performed_on is not None, -o.day, o.pathway)),
        pmt_pathways=int(pmt_pathways),
        registry_submitted=int(submitted),
        unretrieved_filters=sorted(
            (FilterInPlace(ref, site, placed, (as_of - placed).days) for ref, site, placed in filters if placed),
            key=lambda f: (-f.days, f.pathway),
        ),
        window_days=window_days,
    )


@dataclass(frozen=True)
class DigestResult:
    file: Path
    status: str  # sent | already_sent | failed


def send_digest(
    factory: SessionFactory,
    *,
    as_of: date,
    settings: ReminderSettings,
    clock: Clock,
    channels: Channels | None = None,
    sleep: Callable[[float], None] = time.sleep,
    audit_anchors: AnchorStore | None = None,
) -> DigestResult:
    """Write the week's digest file (refreshed on every run) and send it once per week. With
    `audit_anchors`, the audit trail is checked and anchored, and the digest says how it stands."""
    channels = channels or Channels(settings)
    with factory() as session:
        digest = build_digest(session, as_of)
    if audit_anchors is not None:
        digest = replace(digest, audit=check_audit(factory, audit_anchors, at=clock(), source="digest"))
    folder = settings.resolved_digests()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"governance-{digest.week_of.isoformat()}.md"
    text = digest.as_markdown()
    path.write_text(text, encoding="utf-8")
    with holding_claim(factory) as holder:  # held until the digest is marked (pathway.reminders.claimer)
        mine = _claim_week(factory, digest.week_of, path, holder.claim, clock())
        if mine is None:
            return DigestResult(path, "already_sent")
        return _send(factory, digest, path, text, mine, settings=settings, channels=channels, clock=clock, sleep=sleep)


def _claim_week(factory: SessionFactory, week: date, path: Path, claim: str, at: datetime) -> GovernanceDigest | None:
    """Claim the week's digest, or take over the claim of a sender that died; None if another has it."""
    row = {"week_of": week, "file": str(path), "status": "claimed", "attempts": 0, "claim": claim}
    with writing(factory) as session:
        statement = insert_ignoring_taken(session, table_of(GovernanceDigest), ("week_of",))
        session.execute(statement, [row | {"claimed_at": at}])
    with factory() as session:
        found = session.exec(select(GovernanceDigest).where(GovernanceDigest.week_of == week)).one()
    if found.status == "claimed" and found.claim != claim and not live_claims(factory, {found.claim}):
        with writing(factory) as session:
            session.execute(
                update(GovernanceDigest)
                .where(
                    col(GovernanceDigest.week_of) == week,
                    col(GovernanceDigest.status) == "claimed",
                    col(GovernanceDigest.claim) == found.claim,
                )
                .values(claim=claim, claimed_at=at)
            )
    with factory() as session:
        return session.exec(select(GovernanceDigest).where(GovernanceDigest.claim == claim)).first()


def _send(
    factory: SessionFactory,
    digest: Digest,
    path: Path,
    text: str,
    mine: GovernanceDigest,
    *,
    settings: ReminderSettings,
    channels: Channels,
    clock: Clock,
    sleep: Callable[[float], None],
) -> DigestResult:
    title = f"Governance digest, week of {digest.week_of.isoformat()}"
    message = Message(DIGEST_CODE, "info", "digest", GOVERNANCE_ROLE, title, text, attachments=(path,))
    delivery = deliver(
        message,
        channels.for_role(GOVERNANCE_ROLE),
        retries=settings.retries,
        backoff_seconds=settings.backoff_seconds,
        sleep=sleep,
    )
    outbox_path = settings.resolved_outbox()
    at = clock()
    with writing(factory) as session:
        if delivery.delivered and outbox_path:
            Outbox(outbox_path).append(message, channels.names(GOVERNANCE_ROLE, True), at)
        status = "sent" if delivery.delivered else "failed"
        session.execute(
            update(GovernanceDigest)
            .where(col(GovernanceDigest.id) == mine.id)
            .values(
                status=status,
                attempts=mine.attempts + delivery.attempts,
                last_error=delivery.error,
                sent_at=at if delivery.delivered else None,
            )
        )
    return DigestResult(path, status)
