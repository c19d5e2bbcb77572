"""Delivering the rows a sweep claimed, and marking each one sent or failed.

Marks are committed straight after every message that went through an apprise channel, so a sweep
killed mid-batch can have sent at most one message that its row does not show (the row stays claimed
and is retried: see pathway.reminders.sweep). Outbox-only messages are marked in groups, with their
outbox lines written in the same step just before the commit; a retry finds a line by its notification
id and does not write it again, so the outbox holds each notification once whatever the batch size.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, update
from sqlmodel import Session, col, select

from pathway.db import SessionFactory
from pathway.leaflets import get_leaflet, render_pdf
from pathway.models import Pathway
from pathway.reminders.channels import Channels, Message, Outbox, deliver
from pathway.reminders.messages import compose
from pathway.reminders.models import Notification
from pathway.reminders.settings import ReminderSettings
from pathway.reminders.transactions import writing
from pathway.repository import table_of

Key = tuple[int, str, str, str]  # pathway_id, code, severity, kind
Clock = Callable[[], datetime]
OUTBOX_BATCH = 500


@dataclass(frozen=True)
class Claimed:
    id: int
    key: Key
    pathway: str
    site: str
    recipient_role: str
    due_on: date | None
    leaflet: str | None
    attempts: int
    taken_over: bool  # claimed by a sweep that died, now this sweep's


@dataclass(frozen=True)
class Delivered:
    sent: int
    failed: int
    keys: frozenset[Key]


def claimed_by(session: Session, claim: str) -> list[Claimed]:
    found = session.exec(
        select(Notification, Pathway.ref, Pathway.site)
        .join(Pathway, col(Pathway.id) == col(Notification.pathway_id))
        .where(col(Notification.claim) == claim, col(Notification.status) == "claimed")
        .order_by(col(Notification.id))
    ).all()
    return [
        Claimed(
            id=n.id or 0,
            key=(n.pathway_id, n.code, n.severity, n.kind),
            pathway=ref,
            site=site,
            recipient_role=n.recipient_role,
            due_on=n.due_on,
            leaflet=n.leaflet,
            attempts=n.attempts,
            taken_over=n.created_at < n.claimed_at,
        )
        for n, ref, site in found
    ]


def leaflet_file(label: str, folder: Path) -> Path:
    """The leaflet's PDF, rendered once into `folder` and attached from there."""
    leaflet = get_leaflet(label)
    path = folder / f"{leaflet.identifier}-v{leaflet.version}.pdf"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render_pdf(leaflet))
    return path


class _Marks:
    """Outcomes waiting to be committed, with the outbox lines of the delivered ones."""

    def __init__(self, factory: SessionFactory, claim: str, outbox: Outbox | None, in_outbox: set[int]) -> None:
        self.factory, self.claim, self.outbox, self.in_outbox = factory, claim, outbox, in_outbox
        self.marks: list[dict[str, Any]] = []
        self.lines: list[str] = []

    def add(self, row: Claimed, message: Message, delivered: bool, values: dict[str, Any]) -> None:
        self.marks.append({"mark_id": row.id, **values})
        if delivered and self.outbox and row.id not in self.in_outbox:
            self.lines.append(self.outbox.line(message, values["channel"], values["sent_at"]))

    def commit(self) -> None:
        if not self.marks:
            return
        table = table_of(Notification)
        statement = (
            table.update()
            .where(table.c.id == bindparam("mark_id"), table.c.claim == self.claim)
            .values(
                status=bindparam("status"),
                attempts=bindparam("attempts"),
                channel=bindparam("channel"),
                sent_at=bindparam("sent_at"),
                last_error=bindparam("last_error"),
            )
        )
        with writing(self.factory) as session:
            if self.outbox and self.lines:
                # Before the commit: a failed commit leaves the rows claimed and their lines findable.
                self.outbox.append_lines(self.lines)
            session.connection().execute(statement, self.marks)
        self.marks, self.lines = [], []


def _renew(factory: SessionFactory, claim: str, at: datetime) -> None:
    with writing(factory) as session:
        session.execute(
            update(Notification)
            .where(col(Notification.claim) == claim, col(Notification.status) == "claimed")
            .values(claimed_at=at)
        )


def deliver_claimed(
    factory: SessionFactory,
    *,
    claim: str,
    settings: ReminderSettings,
    channels: Channels,
    clock: Clock,
    sleep: Callable[[float], None] = time.sleep,
    standing: frozenset[Key] | None = None,
) -> Delivered:
    """Deliver this sweep's claimed rows; a taken-over flag notice that no longer stands is dropped."""
    with factory() as session:
        rows = claimed_by(session, claim)
    outbox_path = settings.resolved_outbox()
    outbox = Outbox(outbox_path) if outbox_path else None
    in_outbox = outbox.written() if outbox and any(r.taken_over for r in rows) else set()
    marks = _Marks(factory, claim, outbox, in_outbox)
    sent = failed = 0
    keys = set()
    renewed = clock()
    for row in rows:
        now = clock()
        if (now - renewed).total_seconds() > settings.claim_lease_seconds / 3:
            # A slow batch (apprise paces e-mail at 5.5 s) keeps its claims: no other sweep may take them over.
            _renew(factory, claim, now)
            renewed = now
        _pathway_id, code, severity, kind = row.key
        if row.taken_over and standing is not None and kind != "request" and row.key not in standing:
            with writing(factory) as session:  # the step was done since: release the key
                session.execute(delete(Notification).where(col(Notification.id) == row.id))
            continue
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
        external = channels.for_role(row.recipient_role)
        delivery = deliver(
            message, external, retries=settings.retries, backoff_seconds=settings.backoff_seconds, sleep=sleep
        )
        values = {
            "status": "sent" if delivery.delivered else "failed",
            "attempts": row.attempts + delivery.attempts,
            "channel": channels.names(row.recipient_role, outbox is not None),
            "sent_at": clock() if delivery.delivered else None,
            "last_error": delivery.error,
        }
        marks.add(row, message, delivery.delivered, values)
        sent += delivery.delivered
        failed += not delivery.delivered
        keys.add(row.key)
        if external or len(marks.marks) >= OUTBOX_BATCH:
            marks.commit()
    marks.commit()
    return Delivered(sent, failed, frozenset(keys))
