"""Tables of the reminder sweep, the pathway flow's triggers and the weekly digest (issue 3).

A notification row is written (claimed) *before* anything is sent, under a unique key, so a re-run
or a second sweep running at the same time finds the key taken and sends nothing.
"""

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from pathway.store.models import utc_column

# claimed: written, not yet delivered (a sweep is sending it, or died doing so: the next sweep takes it over).
# failed: not delivered after the sweep's retries; later sweeps try it again while its flag stands (up
# to a cap: ReminderSettings.redelivery_*), and drop it once the flag no longer stands.
NOTIFICATION_STATUSES = ("claimed", "sent", "failed")
# first: a flag stands at this severity; escalation: a red flag has stood N days;
# request: the pathway flow asks for an action (consent with the leaflet, bookings, the registry entry).
NOTIFICATION_KINDS = ("first", "escalation", "request")


class Notification(SQLModel, table=True):
    """One message about one pathway, sent at most once per key (pathway, code, severity, kind)."""

    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id")
    code: str = Field(max_length=40)  # a flag code, or a request such as CONSENT_REQUESTED
    severity: str = Field(max_length=5)  # amber | red | info
    kind: str = Field(max_length=12)
    recipient_role: str = Field(max_length=20)
    channel: str = Field(max_length=120)  # the schemes it went through, e.g. "mailto+outbox"
    status: str = Field(max_length=10)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    # Of a failed notification: the positions (in the role's channel list) of the channels that took it
    # all the same, e.g. "0 2"; a redelivery sends to the others only. None once sent or never tried.
    accepted_channels: str | None = Field(default=None, max_length=400)  # channel identities
    as_of: date  # the day the flag was seen standing
    due_on: date | None = None
    leaflet: str | None = Field(default=None, max_length=40)  # label of the leaflet attached
    claim: str = Field(max_length=32)  # the sweep holding it
    claimed_at: datetime = utc_column()
    created_at: datetime = utc_column()
    sent_at: datetime | None = utc_column(nullable=True)

    __table_args__ = (
        UniqueConstraint("pathway_id", "code", "severity", "kind", name="uq_notification_key"),
        CheckConstraint("status IN ('claimed', 'sent', 'failed')", name="status"),
        CheckConstraint("kind IN ('first', 'escalation', 'request')", name="kind"),
        Index("ix_notification_status_claimed", "status", "claimed_at"),
        Index("ix_notification_created", "created_at"),
    )


class FlowTrigger(SQLModel, table=True):
    """The event outbox: a recorded command asking for a patient-pathway flow run, written in the command's
    transaction. The relay (flows/triggers.py) emits it as a `pathway.command.recorded` Prefect event
    when a server answers and marks it `sent` with the event's id; until then it stays `pending`."""

    __tablename__: ClassVar[str] = "flow_trigger"
    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="pathway.id")
    command: str = Field(max_length=40)
    status: str = Field(max_length=10)  # pending | sent
    created_at: datetime = utc_column()
    sent_at: datetime | None = utc_column(nullable=True)
    event_id: str | None = Field(default=None, max_length=36)  # the Prefect event that carried it

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent')", name="status"),
        Index("ix_flow_trigger_status_pathway", "status", "pathway_id"),
    )


class GovernanceDigest(SQLModel, table=True):
    """The weekly governance digest: one per week, claimed like a notification before it is sent."""

    __tablename__: ClassVar[str] = "governance_digest"
    id: int | None = Field(default=None, primary_key=True)
    week_of: date = Field(unique=True)  # the Monday of the digest's week
    file: str = Field(max_length=300)
    status: str = Field(max_length=10)  # claimed | sent | failed
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    claim: str = Field(max_length=32)
    claimed_at: datetime = utc_column()
    sent_at: datetime | None = utc_column(nullable=True)

    __table_args__ = (CheckConstraint("status IN ('claimed', 'sent', 'failed')", name="status"),)
