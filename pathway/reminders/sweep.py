"""The reminder sweep: which standing flags to tell whom, each claimed before it is sent, so it goes once.

1. Select (pure, `due_notifications`): the flags standing at `as_of` on open pathways, one per
   (pathway, code) at its highest severity, to the role owning the flag's step; plus an escalation
   to the escalation recipients once a red flag has stood `escalation_days` days. Reading the
   standing flags at `as_of` is the catch-up after downtime (what stands now, not what stood while
   nothing ran) and drops steps done since (recording a step removes its flag windows).
2. Claim (`insert_claims`): INSERT one `notification` row per key (pathway_id, code, severity, kind)
   with ON CONFLICT DO NOTHING, in a short transaction of its own. The unique key gives each key to
   exactly one sweep, however many run at once; a re-run finds every key taken and sends nothing.
3. Deliver (pathway.reminders.delivery) only the rows this sweep claimed, with bounded retries and
   backoff, then mark each one sent or failed.

Claimed but unsent: a row still `claimed` once its lease (`claim_lease_seconds`, 15 minutes) has run
out belongs to a sweep that died between its claim and its mark (a live sweep renews its claims every
third of the lease). The next sweep takes it over with one
conditional UPDATE (so exactly one sweep does), drops it if the flag no longer stands, and otherwise
delivers it. The outbox never gets a second line for it (lines carry the notification id); an apprise
channel can see a repeat only if the sweep died after the channel took the message and before the row
was marked (committed straight after each such message): a window of one message.
"""

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, col, select

from pathway.db import SessionFactory
from pathway.models import FlagWindowRow, Pathway
from pathway.reminders.channels import Channels
from pathway.reminders.delivery import Clock, Delivered, Key, deliver_claimed
from pathway.reminders.messages import flag_owner
from pathway.reminders.models import Notification
from pathway.reminders.settings import ESCALATION_ROLE, ReminderSettings
from pathway.reminders.transactions import insert_ignoring_taken, writing
from pathway.repository import table_of
from pathway.rules import BEGINNING
from pathway.vocabulary import SEVERITY_RANK, Severity

KEY_COLUMNS = ("pathway_id", "code", "severity", "kind")


@dataclass(frozen=True)
class Standing:
    """One flag window standing at the sweep's date on an open pathway."""

    pathway_id: int
    code: str
    severity: str
    starts_on: date
    due_on: date


@dataclass(frozen=True)
class Pending:
    """A notification to claim: its key, who it is for, and what it may attach."""

    pathway_id: int
    code: str
    severity: str
    kind: str
    recipient_role: str
    due_on: date | None
    leaflet: str | None = None

    @property
    def key(self) -> Key:
        return (self.pathway_id, self.code, self.severity, self.kind)


@dataclass(frozen=True)
class SweepResult:
    sent: int
    already_sent: int
    failed: int

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "already_sent": self.already_sent, "failed": self.failed}


def standing_flags(session: Session, as_of: date) -> list[Standing]:
    window = table_of(FlagWindowRow)
    found = session.execute(
        sa_select(window.c.pathway_id, window.c.code, window.c.severity, window.c.starts_on, window.c.due_on)
        .join(table_of(Pathway), col(Pathway.id) == window.c.pathway_id)
        .where(col(Pathway.closed_on).is_(None), window.c.starts_on <= as_of, window.c.ends_on >= as_of)
    ).all()
    return [Standing(*row) for row in found]


def _red_since(window: Standing) -> date:
    # A window open from the beginning (stopped early) has stood since the date it is due from.
    return window.due_on if window.starts_on == BEGINNING else window.starts_on


def due_notifications(standing: Iterable[Standing], as_of: date, escalation_days: int) -> list[Pending]:
    """What should have been told by `as_of`: one first notice per standing flag, and due escalations."""
    by_flag: dict[tuple[int, str], list[Standing]] = {}
    for window in standing:
        by_flag.setdefault((window.pathway_id, window.code), []).append(window)
    pending = []
    for (pathway_id, code), windows in sorted(by_flag.items()):
        top = max(windows, key=lambda w: (SEVERITY_RANK[Severity(w.severity)], -w.due_on.toordinal()))
        pending.append(Pending(pathway_id, code, top.severity, "first", flag_owner(code), top.due_on))
        if top.severity == Severity.red:
            since = min(_red_since(w) for w in windows if w.severity == Severity.red)
            if (as_of - since).days >= escalation_days:
                pending.append(Pending(pathway_id, code, Severity.red.value, "escalation", ESCALATION_ROLE, top.due_on))
    return pending


def insert_claims(
    factory: SessionFactory,
    pending: Sequence[Pending],
    *,
    claim: str,
    as_of: date,
    at: datetime,
    channels: Channels,
    outbox: bool,
) -> None:
    """Write a `claimed` row for every key not yet taken (taken keys are left as they are)."""
    rows = [
        {
            "pathway_id": p.pathway_id,
            "code": p.code,
            "severity": p.severity,
            "kind": p.kind,
            "recipient_role": p.recipient_role,
            "channel": channels.names(p.recipient_role, outbox),
            "status": "claimed",
            "attempts": 0,
            "last_error": None,
            "as_of": as_of,
            "due_on": p.due_on,
            "leaflet": p.leaflet,
            "claim": claim,
            "claimed_at": at,
            "created_at": at,
            "sent_at": None,
        }
        for p in pending
    ]
    if not rows:
        return
    with writing(factory) as session:
        statement = insert_ignoring_taken(session, table_of(Notification), KEY_COLUMNS)
        for start in range(0, len(rows), 1000):
            session.execute(statement, rows[start : start + 1000])


def take_over_stale(factory: SessionFactory, *, claim: str, at: datetime, lease_seconds: float) -> None:
    """Move claims whose lease ran out (their sweep died) to this sweep, in one conditional UPDATE."""
    with writing(factory) as session:
        session.execute(
            update(Notification)
            .where(
                col(Notification.status) == "claimed",
                col(Notification.claimed_at) < at - timedelta(seconds=lease_seconds),
            )
            .values(claim=claim, claimed_at=at)
        )


def notify_once(
    factory: SessionFactory,
    pending: Sequence[Pending],
    *,
    as_of: date,
    settings: ReminderSettings,
    clock: Clock,
    channels: Channels | None = None,
    sleep: Callable[[float], None] = time.sleep,
    standing: frozenset[Key] | None = None,
    take_over: bool = True,
) -> Delivered:
    """Claim and deliver: the one path every notification takes (sweep and pathway flow alike).

    The sweep (`take_over`) also picks up claims whose sweep died; a pathway flow run leaves them to it.
    """
    channels = channels or Channels(settings)
    for role in {p.recipient_role for p in pending}:
        channels.for_role(role)  # a bad URL fails here, before anything is claimed
    claim = uuid.uuid4().hex
    at = clock()
    if take_over:
        take_over_stale(factory, claim=claim, at=at, lease_seconds=settings.claim_lease_seconds)
    insert_claims(factory, pending, claim=claim, as_of=as_of, at=at, channels=channels, outbox=settings.outbox)
    return deliver_claimed(
        factory, claim=claim, settings=settings, channels=channels, clock=clock, sleep=sleep, standing=standing
    )


def sent_or_sending(session: Session, keys: Iterable[Key]) -> set[Key]:
    """Which of these keys are sent, or claimed by a sweep that is sending them."""
    wanted = set(keys)
    found: set[Key] = set()
    ids = sorted({k[0] for k in wanted})
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.exec(
            select(Notification.pathway_id, Notification.code, Notification.severity, Notification.kind).where(
                col(Notification.pathway_id).in_(chunk), col(Notification.status).in_(("sent", "claimed"))
            )
        ).all()
        found |= {tuple(r) for r in rows} & wanted  # type: ignore[arg-type]
    return found


def run_sweep(
    factory: SessionFactory,
    *,
    as_of: date,
    settings: ReminderSettings,
    clock: Clock,
    channels: Channels | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SweepResult:
    """One sweep at `as_of`: claim and send every notification due and not yet taken."""
    with factory() as session:
        due = due_notifications(standing_flags(session, as_of), as_of, settings.escalation_days)
    keys = frozenset(p.key for p in due)
    delivered = notify_once(
        factory, due, as_of=as_of, settings=settings, clock=clock, channels=channels, sleep=sleep, standing=keys
    )
    with factory() as session:
        already = len(sent_or_sending(session, keys - delivered.keys))
    return SweepResult(delivered.sent, already, delivered.failed)
