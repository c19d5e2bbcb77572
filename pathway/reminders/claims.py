"""Claiming notifications so each goes once, redelivering failed ones, and taking over a dead sweep's
claims (steps 2 to 4 of pathway.reminders.sweep). The sweep and the flow's stage requests both send
through `notify_once`."""

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import Date, bindparam, delete, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from pathway.domain.vocabulary import Role
from pathway.reminders.channels import Channels
from pathway.reminders.claimer import holding_claim, live_claims
from pathway.reminders.delivery import Clock, Delivered, Key, deliver_claimed
from pathway.reminders.settings import ESCALATION_ROLE, ReminderSettings
from pathway.store.db import SessionFactory
from pathway.store.models import UTCDateTime
from pathway.store.reminder_models import Notification
from pathway.store.repository import table_of
from pathway.store.unit_of_work import writing


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


# PostgreSQL: every claim of a chunk in one statement, a column per array (a parameter list of this
# size would cost psycopg more to parse than the insert costs the server). The arrays go as array
# literals built here (psycopg's list adapter quoted each element in Python: a third of the claim's
# cost); each text column as positions in a short list of its distinct values (`*_names`), so no text
# ever needs quoting by hand.
PG_CLAIMS = text(
    """
    INSERT INTO notification (pathway_id, code, severity, kind, recipient_role, channel, status, attempts,
                              as_of, due_on, leaflet, claim, claimed_at, created_at)
    SELECT t.pathway_id, (CAST(:code_names AS varchar[]))[t.code], (CAST(:severity_names AS varchar[]))[t.severity],
           (CAST(:kind_names AS varchar[]))[t.kind], (CAST(:role_names AS varchar[]))[t.recipient_role],
           (CAST(:channel_names AS varchar[]))[t.channel], 'claimed', 0,
           :as_of, t.due_on, (CAST(:leaflet_names AS varchar[]))[t.leaflet], :claim, :at, :at
    FROM unnest(CAST(:pathway_ids AS integer[]), CAST(:code_positions AS integer[]),
                CAST(:severity_positions AS integer[]), CAST(:kind_positions AS integer[]),
                CAST(:role_positions AS integer[]), CAST(:channel_positions AS integer[]),
                CAST(:due AS date[]), CAST(:leaflet_positions AS integer[]))
         AS t(pathway_id, code, severity, kind, recipient_role, channel, due_on, leaflet)
    ON CONFLICT (pathway_id, code, severity, kind) DO NOTHING
    """
).bindparams(bindparam("at", type_=UTCDateTime()), bindparam("as_of", type_=Date()))
# SQLite: the same, the rows given as one JSON array (`WHERE true` keeps ON CONFLICT apart from the SELECT).
SQLITE_CLAIMS = text(
    """
    INSERT INTO notification (pathway_id, code, severity, kind, recipient_role, channel, status, attempts,
                              as_of, due_on, leaflet, claim, claimed_at, created_at)
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
           json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), 'claimed', 0,
           :as_of, json_extract(value, '$[6]'), json_extract(value, '$[7]'), :claim, :at, :at
    FROM json_each(:payload) WHERE true
    ON CONFLICT (pathway_id, code, severity, kind) DO NOTHING
    """
).bindparams(bindparam("at", type_=UTCDateTime()), bindparam("as_of", type_=Date()))
CLAIMS_PER_STATEMENT = 20_000
FailedSeen = dict[int, tuple[Key, int]]  # failed notification id: (its key, its attempts) when read


def insert_claims(
    factory: SessionFactory,
    pending: Iterable[Pending],
    *,
    claim: str,
    as_of: date,
    at: datetime,
    channels: Channels,
    outbox: bool,
) -> set[Key]:
    """Write a `claimed` row for every key not yet taken (taken keys are left as they are); returns every
    key of `pending` (a set of its own). `pending` may be a stream: it is read once, CLAIMS_PER_STATEMENT
    rows at a time."""
    keys: set[Key] = set()
    chunks = batched(pending, CLAIMS_PER_STATEMENT)
    first = next(chunks, None)
    if first is None:
        return keys  # nothing due: no write transaction
    with writing(factory) as session:
        connection = session.connection()
        dialect = connection.dialect.name
        if dialect not in ("postgresql", "sqlite"):
            raise NotImplementedError(f"claims are written for SQLite and PostgreSQL, not {dialect}")
        for chunk in chain([first], chunks):
            keys.update(p.key for p in chunk)
            if dialect == "postgresql":
                columns: dict[str, list[str | None]] = {
                    "code": [p.code for p in chunk],
                    "severity": [p.severity for p in chunk],
                    "kind": [p.kind for p in chunk],
                    "role": [p.recipient_role for p in chunk],
                    "channel": [channels.names(p.recipient_role, outbox) for p in chunk],
                    "leaflet": [p.leaflet for p in chunk],
                }
                values: dict[str, Any] = {"as_of": as_of, "claim": claim, "at": at}
                for name, column in columns.items():
                    values[f"{name}_names"], values[f"{name}_positions"] = _positions(column)
                values["pathway_ids"] = "{" + ",".join([str(p.pathway_id) for p in chunk]) + "}"
                values["due"] = _array([p.due_on.isoformat() if p.due_on else None for p in chunk])
                connection.execute(PG_CLAIMS, values)
                continue
            payload = [
                [
                    p.pathway_id,
                    p.code,
                    p.severity,
                    p.kind,
                    p.recipient_role,
                    channels.names(p.recipient_role, outbox),
                    p.due_on.isoformat() if p.due_on else None,  # SQLite keeps dates as ISO text
                    p.leaflet,
                ]
                for p in chunk
            ]
            connection.execute(
                SQLITE_CLAIMS, {"payload": json.dumps(payload), "as_of": as_of, "claim": claim, "at": at}
            )
    return keys


def _positions(column: list[str | None]) -> tuple[list[str], str]:
    """A text column as its distinct values and an array literal of each one's position among them
    (1-based, as PostgreSQL counts; NULL for None)."""
    found: dict[str, int] = {}
    positions = [None if value is None else found.setdefault(value, len(found) + 1) for value in column]
    return list(found), _array([None if at is None else str(at) for at in positions])


def _array(items: list[str | None]) -> str:
    """An array literal of items that need no quoting (numbers, ISO dates)."""
    return "{" + ",".join(["NULL" if item is None else item for item in items]) + "}"


def batched(items: Iterable[Pending], size: int) -> Iterator[list[Pending]]:
    """`items` in lists of `size` (the last one shorter); itertools.batched is Python 3.12."""
    chunk: list[Pending] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def take_over_dead(factory: SessionFactory, *, claim: str, at: datetime) -> frozenset[int]:
    """Move to this sweep the rows still claimed by sweeps that died (their claim's lock is free), in one
    conditional UPDATE per call; returns the ids moved. Live sweeps' claims are left alone."""
    n = table_of(Notification)
    with factory() as session:
        holders = {row[0] for row in session.execute(sa_select(n.c.claim).where(n.c.status == "claimed").distinct())}
    holders.discard(claim)
    dead = holders - live_claims(factory, holders)
    if not dead:
        return frozenset()
    with writing(factory) as session:
        moved = session.execute(
            update(n)
            .where(n.c.status == "claimed", n.c.claim.in_(sorted(dead)))
            .values(claim=claim, claimed_at=at)
            .returning(n.c.id)
        )
        return frozenset(row[0] for row in moved)


def failed_rows(session: Session) -> list[tuple[int, Key, int, datetime]]:
    """Every failed notification: id, key, attempts so far, when it was first claimed."""
    n = table_of(Notification)
    found = session.execute(
        sa_select(n.c.id, n.c.pathway_id, n.c.code, n.c.severity, n.c.kind, n.c.attempts, n.c.created_at).where(
            n.c.status == "failed"
        )
    ).all()
    return [(row[0], (row[1], row[2], row[3], row[4]), row[5], row[6]) for row in found]


def take_over_failed(
    factory: SessionFactory, *, keys: Set[Key], claim: str, at: datetime, settings: ReminderSettings
) -> None:
    """Claim for this sweep the failed notifications among `keys` (they stand now) still under the cap.

    One conditional UPDATE (`status = 'failed'`) moves them to `claimed`: when sweeps run at once, each
    row goes to exactly one of them (PostgreSQL re-checks the condition on the locked row; SQLite's
    writers queue); the others find it claimed and leave it to its new holder.
    """
    if not keys or settings.redelivery_max_days == 0:
        return
    oldest = at - timedelta(days=settings.redelivery_max_days)
    with factory() as session:
        ids = [
            row_id
            for row_id, key, attempts, created_at in failed_rows(session)
            if key in keys and attempts < settings.redelivery_max_attempts and created_at >= oldest
        ]
    if not ids:
        return
    with writing(factory) as session:
        for start in range(0, len(ids), 500):
            session.execute(
                update(Notification)
                .where(col(Notification.id).in_(ids[start : start + 500]), col(Notification.status) == "failed")
                .values(claim=claim, claimed_at=at, status="claimed")
            )


def drop_failed_not_standing(factory: SessionFactory, standing: Set[Key], failed_seen: FailedSeen) -> int:
    """Delete the failed notifications whose flag (or request) no longer stands: never sent, key released.

    Only rows that were failed when `standing` was read (`failed_seen`: id to attempts then) and are
    unchanged since (still failed, same attempts): a row that another sweep or a pathway run claimed,
    tried and failed again meanwhile was judged against a newer state than ours and is left alone.
    """
    gone: dict[int, list[int]] = {}
    for row_id, (key, attempts) in failed_seen.items():
        if key not in standing:
            gone.setdefault(attempts, []).append(row_id)
    dropped = 0
    if not gone:
        return dropped
    with writing(factory) as session:
        for attempts, ids in gone.items():
            for start in range(0, len(ids), 500):
                done = session.execute(
                    delete(Notification).where(
                        col(Notification.id).in_(ids[start : start + 500]),
                        col(Notification.status) == "failed",
                        col(Notification.attempts) == attempts,
                    )
                )
                dropped += done.rowcount  # type: ignore[attr-defined]
    return dropped


def failed_now(session: Session) -> FailedSeen:
    """The failed notifications as they are now: id to (key, attempts)."""
    return {row_id: (key, attempts) for row_id, key, attempts, _created in failed_rows(session)}


def notify_once(
    factory: SessionFactory,
    pending: Iterable[Pending],
    *,
    as_of: date,
    settings: ReminderSettings,
    clock: Clock,
    channels: Channels | None = None,
    sleep: Callable[[float], None] = time.sleep,
    standing: frozenset[Key] | None = None,
    failed_seen: FailedSeen | None = None,
    take_over: bool = True,
) -> Delivered:
    """Claim and deliver: the one path every notification takes (sweep and pathway flow alike).

    The sweep (`take_over`) also picks up claims whose sweep died; a pathway flow run leaves them to it.
    Both take up again the failed notifications among the keys they find due now (`pending`, and
    `standing` for the sweep: what stands beyond `pending`), which the sweep, knowing everything that
    stands (and which rows were failed when it read that: `failed_seen`), first prunes. `pending` may
    be a stream (the sweep's whole cohort): it is read once, while claiming. The result's `due` is
    every key of `pending` and `standing`.
    """
    channels = channels or Channels(settings)
    # A bad URL fails here, before anything is claimed: every role's, since a failed row taken up
    # again may be for a role none of `pending` is for (a stream's roles are the step owners' and
    # the escalation role, all among these).
    roles = {r.value for r in Role} | {ESCALATION_ROLE}
    if isinstance(pending, Sequence):
        roles |= {p.recipient_role for p in pending}
    for role in roles:
        channels.for_role(role)
    with holding_claim(factory) as holder:  # held until every row claimed here is marked
        claim, at = holder.claim, clock()
        taken_over = take_over_dead(factory, claim=claim, at=at) if take_over else frozenset()
        due = insert_claims(
            factory, pending, claim=claim, as_of=as_of, at=at, channels=channels, outbox=settings.outbox
        )
        due |= standing or set()  # in place: a cohort's keys are not copied
        if standing is not None and failed_seen is not None:
            drop_failed_not_standing(factory, due, failed_seen)
        take_over_failed(factory, keys=due, claim=claim, at=at, settings=settings)
        delivered = deliver_claimed(
            factory,
            holder=holder,
            settings=settings,
            channels=channels,
            clock=clock,
            sleep=sleep,
            standing=due if standing is not None else None,
            taken_over=taken_over,
        )
        return replace(delivered, due=due)


def statuses(session: Session, keys: Iterable[Key]) -> dict[Key, str]:
    """The status (sent, claimed or failed) of each of these keys that has a notification row."""
    wanted = set(keys)
    found: dict[Key, str] = {}
    n = table_of(Notification)
    ids = sorted({k[0] for k in wanted})
    for start in range(0, len(ids), 500):
        rows = session.execute(
            sa_select(n.c.pathway_id, n.c.code, n.c.severity, n.c.kind, n.c.status).where(
                n.c.pathway_id.in_(ids[start : start + 500])
            )
        ).all()
        for pathway_id, code, severity, kind, status in rows:
            if (key := (pathway_id, code, severity, kind)) in wanted:
                found[key] = status
    return found
