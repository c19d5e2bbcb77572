"""The event outbox: each recorded command asks for a patient-pathway flow run by writing a row.

The row is written in the command's own transaction (pathway.services.commands), so recording never waits for
nor fails because of Prefect. The relay (flows/triggers.py) emits pending rows as Prefect events when a
server answers and leaves them pending otherwise; several rows for one pathway become one event.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, update
from sqlmodel import Session, col, func, select

from pathway.store.db import SessionFactory
from pathway.store.models import Pathway
from pathway.store.reminder_models import FlowTrigger
from pathway.store.unit_of_work import writing


def queue_flow_trigger(session: Session, pathway_id: int | None, command: str, at: datetime) -> None:
    """Ask for a pathway flow run, inside the caller's transaction."""
    assert pathway_id is not None
    session.execute(
        insert(FlowTrigger),
        [{"pathway_id": pathway_id, "command": command, "status": "pending", "created_at": at}],
    )


@dataclass(frozen=True)
class PendingRun:
    pathway: str
    up_to: int  # the newest pending trigger id it answers


def pending_runs(session: Session, *, limit: int = 500) -> list[PendingRun]:
    """One run per pathway with pending triggers, oldest first."""
    newest = func.max(FlowTrigger.id)
    found = session.exec(
        select(Pathway.ref, newest)
        .join(Pathway, col(Pathway.id) == col(FlowTrigger.pathway_id))
        .where(col(FlowTrigger.status) == "pending")
        .group_by(col(Pathway.ref))
        .order_by(func.min(FlowTrigger.id))
        .limit(limit)
    ).all()
    return [PendingRun(ref, int(up_to or 0)) for ref, up_to in found]


def mark_sent(factory: SessionFactory, run: PendingRun, *, event_id: str, at: datetime) -> None:
    """Mark the pathway's triggers up to the one the event carried (a trigger queued since stays pending)."""
    mark_all_sent(factory, [(run, event_id)], at=at)


def mark_all_sent(factory: SessionFactory, sent: Sequence[tuple[PendingRun, str]], *, at: datetime) -> None:
    """`mark_sent` for many pathways' events, in one transaction."""
    with writing(factory) as session:
        for run, event_id in sent:
            pathway_id = select(Pathway.id).where(Pathway.ref == run.pathway).scalar_subquery()
            session.execute(
                update(FlowTrigger)
                .where(
                    col(FlowTrigger.pathway_id) == pathway_id,
                    col(FlowTrigger.status) == "pending",
                    col(FlowTrigger.id) <= run.up_to,
                )
                .values(status="sent", sent_at=at, event_id=event_id)
            )


def count_pending(session: Session) -> int:
    return session.exec(select(func.count()).select_from(FlowTrigger).where(FlowTrigger.status == "pending")).one()
