"""The words of each notification: built from the notification's key, the pathway reference and site.

Nothing here reads the patient: a message can only say what the key and the pathway row say.
"""

from datetime import date
from pathlib import Path

from pathway.domain.rules import FLAG_BY_CODE
from pathway.domain.stages import STEPS
from pathway.reminders.channels import Message

CONSENT_REQUESTED = "CONSENT_REQUESTED"
FOLLOW_UP_BOOKING_REQUESTED = "FOLLOW_UP_BOOKING_REQUESTED"
REGISTRY_ENTRY_REQUESTED = "REGISTRY_ENTRY_REQUESTED"

REQUEST_WORDS = {
    CONSENT_REQUESTED: "Consent discussion with written information",
    FOLLOW_UP_BOOKING_REQUESTED: "Book the follow-up visits",
    REGISTRY_ENTRY_REQUESTED: "Enter the procedure on the BSIR Venous Registry",
}
FOOTER = "Open the pathway in the tracker for details. This message carries no patient identifiers."


def flag_owner(code: str) -> str:
    """The role owning the step a flag is about (domain.rules names the step, domain.stages its owner)."""
    _stage, step = STEPS[FLAG_BY_CODE[code].step]
    return step.owner.value


def compose(
    *,
    notification_id: int,
    pathway: str,
    site: str,
    code: str,
    severity: str,
    kind: str,
    recipient_role: str,
    due_on: date | None,
    leaflet: str | None = None,
    leaflet_file: Path | None = None,
    escalation_days: int = 2,
) -> Message:
    where = f"pathway {pathway} at {site}"
    due = f"Due: {due_on.isoformat()}" if due_on else ""
    if kind == "request":
        words = REQUEST_WORDS.get(code, code)
        title = f"Action: {words} ({where})"
        lines = [f"Pathway: {pathway}", f"Site: {site}", f"Request: {code} ({words})", due]
        if leaflet:
            lines.append(f"Information leaflet: {leaflet} (attached); discuss the uncertainties (NICE HTG516 1.2).")
    else:
        flag = FLAG_BY_CODE[code]
        if kind == "escalation":
            title = f"ESCALATION: {flag.words}, red for {escalation_days}+ days ({where})"
        else:
            title = f"[{severity.upper()}] {flag.words} ({where})"
        lines = [
            f"Pathway: {pathway}",
            f"Site: {site}",
            f"Flag: {code} ({flag.words})",
            f"Severity: {severity}",
            due,
            f"Step owner: {flag_owner(code)}",
        ]
    body = "\n".join([line for line in lines if line] + ["", FOOTER])
    return Message(
        code=code,
        severity=severity,
        kind=kind,
        recipient_role=recipient_role,
        title=title,
        body=body,
        pathway=pathway,
        site=site,
        notification_id=notification_id,
        leaflet=leaflet,
        attachments=(leaflet_file,) if leaflet_file else (),
    )
