"""Read side of the reminders, for the dashboard's Reminders page and the CLI. Never writes.

Every read takes `sites` (the reader's site keys, per-site access; None for every site) and must be given it."""

from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from pathway.store.models import Pathway
from pathway.store.reminder_models import Notification


@dataclass(frozen=True)
class NotificationView:
    pathway: str
    site: str
    code: str
    severity: str
    kind: str
    recipient_role: str
    channel: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["created_at"] = self.created_at.isoformat()
        values["sent_at"] = self.sent_at.isoformat() if self.sent_at else None
        return values


def _views(
    session: Session,
    *,
    status: str | None,
    limit: int,
    sites: Collection[str] | None,
    pathway: str | None = None,
) -> list[NotificationView]:
    query = select(Notification, Pathway.ref, Pathway.site).join(
        Pathway, col(Pathway.id) == col(Notification.pathway_id)
    )
    if status is not None:
        query = query.where(col(Notification.status) == status)
    if pathway is not None:
        query = query.where(col(Pathway.ref) == pathway)
    if sites is not None:
        query = query.where(col(Pathway.site_key).in_(sorted(sites)))
    query = query.order_by(col(Notification.created_at).desc(), col(Notification.id).desc()).limit(limit)
    return [
        NotificationView(
            pathway=ref,
            site=site,
            code=n.code,
            severity=n.severity,
            kind=n.kind,
            recipient_role=n.recipient_role,
            channel=n.channel,
            status=n.status,
            attempts=n.attempts,
            created_at=n.created_at,
            sent_at=n.sent_at,
            last_error=n.last_error,
        )
        for n, ref, site in session.exec(query).all()
    ]


def recent_notifications(
    session: Session, *, sites: Collection[str] | None, limit: int = 200
) -> list[NotificationView]:
    """The newest notifications in any status, newest first."""
    return _views(session, status=None, limit=limit, sites=sites)


def pathway_notifications(
    session: Session, pathway: str, *, sites: Collection[str] | None, limit: int = 200
) -> list[NotificationView]:
    """One pathway's notifications in any status, newest first (its patient page), read by pathway in SQL."""
    return _views(session, status=None, limit=limit, sites=sites, pathway=pathway)


def failed_notifications(
    session: Session, *, sites: Collection[str] | None, limit: int = 200
) -> list[NotificationView]:
    """Notifications not delivered after their retries, newest first: coordinators follow these up.

    Each stays listed until a later sweep delivers it (it is tried again while its flag stands, up to
    ReminderSettings.redelivery_max_attempts / redelivery_max_days, then left for a coordinator) or
    drops it because its flag no longer stands; `attempts` counts every try so far.
    """
    return _views(session, status="failed", limit=limit, sites=sites)
