"""Operations alerts to the on-call channel: a flow run failed or crashed, the daily sweep is late.

Prefect automations (flows/automations.py) start the `on-call-alert` flow, which calls `send_alert`.
The message names the flow run (its name holds a pathway reference at most, never a patient identifier)
and goes to `PATHWAY_REMINDER_ONCALL_RECIPIENTS` (apprise URLs) and to the outbox (on by default).
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pathway.reminders.channels import Channels, Message, Outbox, deliver
from pathway.reminders.settings import ONCALL_ROLE, ReminderSettings

ALERTS = {
    "flow-run-failed": ("FLOW_RUN_FAILED", "A flow run failed or crashed"),
    "reminder-sweep-late": ("REMINDER_SWEEP_LATE", "The daily reminder sweep has not completed in time"),
}


@dataclass(frozen=True)
class AlertSent:
    code: str
    channel: str
    error: str | None


def send_alert(
    alert: str,
    subject: str,
    *,
    settings: ReminderSettings,
    at: datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> AlertSent:
    """Tell the on-call channel; `subject` names the flow run (or flow) concerned."""
    code, title = ALERTS[alert]
    message = Message(
        code=code,
        severity="red",
        kind="alert",
        recipient_role=ONCALL_ROLE,
        title=f"DVT pathway operations: {title}",
        body=f"{title}: {subject}. See the Prefect UI for the run's logs.",
    )
    channels = Channels(settings)
    outbox_path = settings.resolved_outbox()
    delivery = deliver(
        message,
        channels.for_role(ONCALL_ROLE),
        retries=settings.retries,
        backoff_seconds=settings.backoff_seconds,
        sleep=sleep,
    )
    names = channels.names(ONCALL_ROLE, outbox_path is not None)
    if outbox_path is not None:
        line = Outbox.record_line(
            notification=None,
            pathway=None,
            site=None,
            code=code,
            severity=message.severity,
            kind=message.kind,
            recipient_role=ONCALL_ROLE,
            channel=names,
            leaflet=None,
            at=at,
        )
        record = json.loads(line) | {"subject": subject}
        Outbox(outbox_path).append_lines([json.dumps(record, sort_keys=True) + "\n"])
    return AlertSent(code, names, delivery.error)
