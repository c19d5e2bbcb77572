"""Reminder settings, read once at the edges (flows, CLI) from `PATHWAY_REMINDER_*` variables.

Channels are apprise URLs (mailto://, msteams://, json://...), given per recipient role as JSON:

    PATHWAY_REMINDER_CHANNELS='{"coordinator": ["mailto://relay.trust.nhs.uk?to=dvt-team@trust.nhs.uk"]}'
    PATHWAY_REMINDER_ESCALATION_RECIPIENTS='["mailto://relay.trust.nhs.uk?to=vascular-lead@trust.nhs.uk"]'

URLs may hold credentials: they are never logged nor stored; a notification records only the scheme.
"""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pathway.settings import Settings

# Who an escalation and the weekly digest go to, beside the roles owning steps.
ESCALATION_ROLE = "escalation"
GOVERNANCE_ROLE = "governance"
ONCALL_ROLE = "oncall"  # operations alerts: a flow run failed, the daily sweep did not complete in time


class ReminderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PATHWAY_REMINDER_", env_ignore_empty=True, extra="ignore")

    channels: dict[str, list[str]] = Field(default_factory=dict)
    escalation_recipients: list[str] = Field(default_factory=list)
    governance_recipients: list[str] = Field(default_factory=list)
    oncall_recipients: list[str] = Field(default_factory=list)  # the on-call channel (the outbox as well)
    escalation_days: int = Field(default=2, ge=1, le=60)
    retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=2.0, ge=0)
    # A notification that failed after its retries is tried again by later sweeps (and re-runs) while
    # its flag stands, until it has had this many delivery attempts in all or is this many days old;
    # past either it stays `failed` for coordinators to follow up by hand (0 days: never tried again).
    redelivery_max_attempts: int = Field(default=24, ge=1, le=1000)
    redelivery_max_days: int = Field(default=7, ge=0, le=90)
    # None keeps apprise's own pacing per service (5.5 s between e-mails through one relay).
    channel_interval_seconds: float | None = Field(default=None, ge=0)
    outbox: bool = True
    outbox_path: Path | None = None
    digests_path: Path | None = None

    def recipients(self, role: str) -> list[str]:
        if role == ESCALATION_ROLE:
            return list(self.escalation_recipients)
        if role == GOVERNANCE_ROLE:
            return list(self.governance_recipients)
        if role == ONCALL_ROLE:
            return list(self.oncall_recipients)
        return list(self.channels.get(role, []))

    def resolved_outbox(self, home: Path | None = None) -> Path | None:
        if not self.outbox:
            return None
        return self.outbox_path or (home or Settings().home) / "outbox.jsonl"

    def resolved_digests(self, home: Path | None = None) -> Path:
        return self.digests_path or (home or Settings().home) / "digests"

    def resolved_leaflets(self, home: Path | None = None) -> Path:
        """Where leaflet PDFs are rendered once, to be attached to consent requests."""
        return (home or Settings().home) / "leaflets"
