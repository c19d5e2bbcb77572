"""Delivering the rows a sweep claimed, and marking each one sent or failed.

Marks are committed straight after every message that went through an apprise channel, so a sweep
killed mid-batch can have sent at most one message that its row does not show (the row stays claimed
and the next sweep takes it over: see pathway.reminders.sweep). Before each such message, and before
each group of outbox-only marks, the sweep checks that it still holds its claim's lock
(pathway.reminders.claimer); if its connection broke and the lock went with it, it stops (ClaimLost)
rather than send what another sweep may now take over. Outbox-only messages are marked in groups of up to
5,000 (one UPDATE by a list of ids per group of equal values, one `sent_at` per group), with their
outbox lines written in the same step just before the commit; a retry finds a line by its notification
id and does not write it again, so the outbox holds each notification once whatever the batch size.

A row marked `failed` keeps its attempts, its last error and the channels that did take it
(`accepted_channels`); a later sweep that takes it up again (pathway.reminders.claims.take_over_failed)
sends it only through the others, and only one row's retries per role while that role's channels stay
down in the sweep.
"""

import time
from collections.abc import Callable, Iterable, Iterator, Set
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from sys import intern
from typing import Any

from sqlalchemy import Integer, String, bindparam, cast, func
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

from pathway.errors import ClaimLost
from pathway.leaflets import get_leaflet, render_pdf
from pathway.reminders.channels import Channels, Message, Outbox, deliver
from pathway.reminders.claimer import ClaimHolder
from pathway.reminders.messages import compose
from pathway.reminders.settings import ReminderSettings
from pathway.store.db import SessionFactory
from pathway.store.models import Pathway
from pathway.store.reminder_models import Notification
from pathway.store.repository import table_of
from pathway.store.unit_of_work import writing

Key = tuple[int, str, str, str]  # pathway_id, code, severity, kind
Clock = Callable[[], datetime]
OUTBOX_BATCH = 5000  # outbox-only rows marked (and their lines written) per commit
MARK_CHUNK = 1000  # ids per UPDATE
CLAIMED_PAGE = 5000  # claimed rows read per fetch


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    key: Key
    pathway: str
    site: str
    recipient_role: str
    due_on: date | None
    leaflet: str | None
    attempts: int  # so far: more than 0 for a failed notification this sweep tries again
    taken_over: bool  # claimed by a sweep that died, or failed before: now this sweep's
    last_error: str | None = None
    accepted: frozenset[str] = frozenset()  # identities of channels that took it in an earlier sweep

    @property
    def redelivery(self) -> bool:
        return self.attempts > 0


@dataclass(frozen=True)
class Delivered:
    sent: int
    failed: int
    keys: Set[Key]  # the keys of the rows this call delivered or failed
    due: Set[Key] = frozenset()  # notify_once: every key it found due (claimed then, or taken before)


def claimed_by(session: Session, claim: str, taken_over: frozenset[int] = frozenset()) -> Iterator[Claimed]:
    """This sweep's claimed rows with their pathway's reference and site, in id order (plain columns:
    no ORM objects, which cost more than everything else the sweep does per row). `taken_over`: the
    ids this sweep took over from a dead one (a re-run within the same second shows no later claim time).
    Streamed CLAIMED_PAGE rows at a time (a server-side cursor on PostgreSQL), so a whole cohort's claims
    are never held at once: the caller keeps `session` open while it reads, and marks through others."""
    n, p = table_of(Notification), table_of(Pathway)
    found = session.execute(
        sa_select(
            n.c.id,
            n.c.pathway_id,
            n.c.code,
            n.c.severity,
            n.c.kind,
            p.c.ref,
            p.c.site,
            n.c.recipient_role,
            n.c.due_on,
            n.c.leaflet,
            n.c.attempts,
            (n.c.created_at < n.c.claimed_at).label("taken_over"),
            n.c.last_error,
            n.c.accepted_channels,
        )
        .join(p, p.c.id == n.c.pathway_id)
        .where(n.c.claim == claim, n.c.status == "claimed")
        .order_by(n.c.id),
        execution_options={"yield_per": CLAIMED_PAGE},
    )
    for page in found.partitions():
        yield from [
            Claimed(
                id,
                (pathway_id, intern(code), intern(severity), intern(kind)),  # a cohort's keys share their words
                ref,
                site,
                role,
                due_on,
                leaflet,
                attempts,
                bool(later_claim) or id in taken_over,
                last_error,
                accepted_identities(accepted),
            )
            for (
                id,
                pathway_id,
                code,
                severity,
                kind,
                ref,
                site,
                role,
                due_on,
                leaflet,
                attempts,
                later_claim,
                last_error,
                accepted,
            ) in page
        ]


def accepted_identities(text: str | None) -> frozenset[str]:
    return frozenset(text.split()) if text else frozenset()


def accepted_text(identities: frozenset[str]) -> str | None:
    return " ".join(sorted(identities)) or None


def leaflet_file(label: str, folder: Path) -> Path:
    """The leaflet's PDF, rendered once into `folder` and attached from there."""
    leaflet = get_leaflet(label)
    path = folder / f"{leaflet.identifier}-v{leaflet.version}.pdf"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render_pdf(leaflet))
    return path


MARKED = ("status", "attempts", "channel", "sent_at", "last_error", "accepted_channels")


class _Marks:
    """Outcomes waiting to be committed, with the outbox lines of the delivered ones.

    Rows sent through the outbox alone are marked together at commit time with one `sent_at` (one
    UPDATE per group of equal values, by id, rather than one per row); their lines carry that time.
    Such a batch may be written in the background (`commit(wait=False)`) while the sweep prepares the
    next: one batch at a time, in order, each one's lines appended before its marks are committed, as
    in the foreground; any other commit first waits for it (and raises what it raised).
    """

    def __init__(
        self,
        factory: SessionFactory,
        claim: str,
        outbox: Outbox | None,
        in_outbox: set[int],
        clock: Clock,
        background: ThreadPoolExecutor | None = None,
    ) -> None:
        self.factory, self.claim, self.outbox, self.in_outbox, self.clock = factory, claim, outbox, in_outbox, clock
        self.marks: list[tuple[int, tuple[Any, ...]]] = []  # id, values in MARKED order
        self.lines: list[str] = []
        self.outbox_only: list[tuple[Claimed, str]] = []  # row, channel names: sent at commit
        self.dropped: list[int] = []
        self.background = background
        self.writing: Future[None] | None = None  # the batch being written in the background

    def __len__(self) -> int:
        return len(self.marks) + len(self.outbox_only) + len(self.dropped)

    def add(self, row: Claimed, message: Message | None, delivered: bool, values: dict[str, Any]) -> None:
        self.marks.append((row.id, tuple(values[name] for name in MARKED)))
        if delivered and message and self.outbox and row.id not in self.in_outbox:
            self.lines.append(self.outbox.line(message, values["channel"], values["sent_at"]))

    def add_outbox_only(self, row: Claimed, channel: str) -> None:
        self.outbox_only.append((row, channel))

    def drop(self, row: Claimed) -> None:
        self.dropped.append(row.id)

    def commit(self, *, wait: bool = True) -> None:
        """Commit what is waiting; `wait=False`: in the background, when the marks have a thread for it."""
        batch = self._take() if len(self) else None
        self.finish()
        if batch is None:
            return
        if wait or self.background is None:
            self._write(*batch)
        else:
            self.writing = self.background.submit(self._write, *batch)

    def finish(self) -> None:
        """Wait for the batch being written in the background, if any (raising what it raised)."""
        writing, self.writing = self.writing, None
        if writing is not None:
            writing.result()

    def _take(self) -> tuple[list[str], dict[tuple[Any, ...], list[int]], list[int]]:
        if self.outbox_only:
            at = self.clock()
            for row, channel in self.outbox_only:
                values = ("sent", row.attempts + 1, channel, at, None, None)
                self.marks.append((row.id, values))
                if self.outbox and row.id not in self.in_outbox:
                    _pathway_id, code, severity, kind = row.key
                    self.lines.append(
                        self.outbox.record_line(
                            notification=row.id,
                            pathway=row.pathway,
                            site=row.site,
                            code=code,
                            severity=severity,
                            kind=kind,
                            recipient_role=row.recipient_role,
                            channel=channel,
                            leaflet=row.leaflet,
                            at=at,
                        )
                    )
        groups: dict[tuple[Any, ...], list[int]] = {}
        for row_id, values in self.marks:
            groups.setdefault(values, []).append(row_id)
        batch = (self.lines, groups, self.dropped)
        self.marks, self.lines, self.outbox_only, self.dropped = [], [], [], []
        return batch

    def _write(self, lines: list[str], groups: dict[tuple[Any, ...], list[int]], dropped: list[int]) -> None:
        table = table_of(Notification)
        with writing(self.factory) as session:
            if self.outbox and lines:
                # Before the commit: a failed commit leaves the rows claimed and their lines findable.
                self.outbox.append_lines(lines)
            connection = session.connection()
            one_of, chunk, as_ids = _ids_match(connection.dialect.name, table.c.id)
            mark = (
                table.update()
                .where(table.c.claim == self.claim, one_of)
                .values({name: bindparam(f"new_{name}") for name in MARKED})
            )
            for values, ids in groups.items():
                named = {f"new_{name}": value for name, value in zip(MARKED, values, strict=True)}
                for start in range(0, len(ids), chunk):
                    connection.execute(mark, {"ids": as_ids(ids[start : start + chunk]), **named})
            drop = table.delete().where(table.c.claim == self.claim, one_of)
            for start in range(0, len(dropped), chunk):
                connection.execute(drop, {"ids": as_ids(dropped[start : start + chunk])})


def _ids_match(dialect: str, column: Any) -> tuple[Any, int, Callable[[list[int]], Any]]:
    """`column` is one of the list parameter `ids`, how many ids to pass at once, and how to pass them.

    PostgreSQL takes the list as one array, whatever its length, written here as an array literal
    (psycopg's list adapter cost more per id than the update) and unnested: `IN (SELECT unnest(...))`
    is planned as an index lookup per id, where `= ANY(CAST(:ids ...))` could be a scan of the table
    testing every row against the whole list. SQLite gets an expanded IN list, kept under its limit
    on parameters.
    """
    if dialect == "postgresql":
        ids = cast(bindparam("ids", type_=String()), postgresql.ARRAY(Integer))
        return column.in_(sa_select(func.unnest(ids))), 50_000, _int_array
    return column.in_(bindparam("ids", expanding=True)), MARK_CHUNK, list


def _int_array(ids: list[int]) -> str:
    return "{" + ",".join(map(str, ids)) + "}"


def deliver_claimed(
    factory: SessionFactory,
    *,
    holder: ClaimHolder,
    settings: ReminderSettings,
    channels: Channels,
    clock: Clock,
    sleep: Callable[[float], None] = time.sleep,
    standing: Set[Key] | None = None,
    taken_over: frozenset[int] = frozenset(),
) -> Delivered:
    """Deliver this sweep's claimed rows; a taken-over flag notice that no longer stands is dropped.

    A failed notification taken up again (`Claimed.redelivery`) goes only to the channels that did not
    take it before; once a role's channels fail in this sweep, its other redeliveries wait for the next
    sweep untried (a channel that is still down costs one row's retries per sweep, not every row's).
    """
    claim = holder.claim
    outbox_path = settings.resolved_outbox()
    outbox = Outbox(outbox_path) if outbox_path else None
    # The rows stream in through `reading`; the marks go through sessions of their own, a batch of
    # outbox-only marks written by `background` while the next one is prepared.
    with factory() as reading, ThreadPoolExecutor(max_workers=1, thread_name_prefix="marks") as background:
        in_outbox = outbox.written() if outbox and _any_taken_over(reading, claim, taken_over) else set()
        marks = _Marks(factory, claim, outbox, in_outbox, clock, background)
        return _deliver(
            claimed_by(reading, claim, taken_over),
            marks,
            holder=holder,
            settings=settings,
            channels=channels,
            clock=clock,
            sleep=sleep,
            standing=standing,
            outbox=outbox is not None,
        )


def _any_taken_over(session: Session, claim: str, taken_over: frozenset[int]) -> bool:
    """Whether any of this sweep's claimed rows was another's first (then its outbox line may exist)."""
    if taken_over:
        return True
    n = table_of(Notification)
    later = n.c.created_at < n.c.claimed_at
    found = session.execute(sa_select(n.c.id).where(n.c.claim == claim, n.c.status == "claimed", later).limit(1))
    return found.first() is not None


def _deliver(
    rows: Iterable[Claimed],
    marks: "_Marks",
    *,
    holder: ClaimHolder,
    settings: ReminderSettings,
    channels: Channels,
    clock: Clock,
    sleep: Callable[[float], None],
    standing: Set[Key] | None,
    outbox: bool,
) -> Delivered:
    sent = failed = 0
    keys = set()
    down: set[str] = set()  # roles whose channels failed in this sweep
    for row in rows:
        _pathway_id, code, severity, kind = row.key
        if row.taken_over and standing is not None and kind != "request" and row.key not in standing:
            marks.drop(row)  # the step was done since: release the key
            continue
        keys.add(row.key)
        channel_names = channels.names(row.recipient_role, outbox)
        external = channels.for_role(row.recipient_role)
        if not external:
            marks.add_outbox_only(row, channel_names)  # nothing to send but the outbox line
            sent += 1
            if len(marks) >= OUTBOX_BATCH:
                _still_held(holder)
                marks.commit(wait=False)
            continue
        if row.redelivery and row.recipient_role in down:
            values = {
                "status": "failed",
                "attempts": row.attempts,
                "channel": channel_names,
                "sent_at": None,
                "last_error": row.last_error,
                "accepted_channels": accepted_text(row.accepted),
            }
            marks.add(row, None, False, values)
            failed += 1
            continue
        # Before a message leaves the machine: the batch in the background committed, the claim still held.
        marks.finish()
        _still_held(holder)
        message = compose(
            notification_id=row.id,
            pathway=row.pathway,
            site=row.site,
            code=code,
            severity=severity,
            kind=kind,
            recipient_role=row.recipient_role,
            due_on=row.due_on,
            leaflet=row.leaflet,
            leaflet_file=leaflet_file(row.leaflet, settings.resolved_leaflets()) if row.leaflet else None,
            escalation_days=settings.escalation_days,
        )
        delivery = deliver(
            message,
            external,
            retries=settings.retries,
            backoff_seconds=settings.backoff_seconds,
            sleep=sleep,
            accepted=row.accepted,
        )
        if not delivery.delivered:
            down.add(row.recipient_role)
        values = {
            "status": "sent" if delivery.delivered else "failed",
            "attempts": row.attempts + delivery.attempts,
            "channel": channel_names,
            "sent_at": clock() if delivery.delivered else None,
            "last_error": delivery.error,
            "accepted_channels": None if delivery.delivered else accepted_text(delivery.accepted),
        }
        marks.add(row, message, delivery.delivered, values)
        sent += delivery.delivered
        failed += not delivery.delivered
        marks.commit()  # straight after a message that left the machine
    _still_held(holder)
    marks.commit()
    return Delivered(sent, failed, keys)


def _still_held(holder: ClaimHolder) -> None:
    if not holder.still_held():
        raise ClaimLost("this sweep's claim lock was lost (database connection broken); stopping")
