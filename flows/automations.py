"""Prefect automations that watch the flows and start the `on-call-alert` deployment (flows/alerts.py).

Created, or updated in place by name (`Automation.create()` twice would make two), by `pathway flows
serve` and `pathway flows deploy`:
- FAILED: a run of one of the tracker's flows entered Failed or Crashed (the alert flow itself is left
  out, so a failing alert cannot start another);
- SWEEP_LATE: the daily reminder sweep has not completed by 07:30 Europe/London, the sweep being
  scheduled at 07:00: a proactive trigger that fires when a sweep run started (Running) and no
  Completed followed within 30 minutes; and a reactive one on the sweep's run turning Late (not picked
  up by any worker, so never Running).
A server that is down at 07:00 creates no run and no event: nothing here can notice that (hazard H6).
"""

from datetime import timedelta
from typing import Any
from uuid import UUID

from prefect.automations import Automation
from prefect.events import EventTrigger, Posture, RunDeployment

WATCHED_FLOWS = ["patient-pathway", "reminder-sweep", "governance-digest"]
FAILED = "pathway: a flow run failed or crashed"
SWEEP_NOT_COMPLETED = "pathway: reminder sweep not completed by 07:30"
SWEEP_NOT_STARTED = "pathway: reminder sweep late (not started)"
SWEEP_WITHIN = timedelta(minutes=30)  # from 07:00 (flows.serve.REMINDER_CRON) to 07:30 Europe/London


def _flow_named(names: str | list[str]) -> dict[str, Any]:
    return {"prefect.resource.role": "flow", "prefect.resource.name": names}


def _alert(deployment_id: UUID, alert: str, subject: str) -> RunDeployment:
    return RunDeployment(
        source="selected", deployment_id=deployment_id, parameters={"alert": alert, "subject": subject}
    )


def automations(alert_deployment: UUID, *, sweep_within: timedelta = SWEEP_WITHIN) -> list[Automation]:
    """The automations, unsaved (no ids until `ensure_automations`)."""
    run_name = "{{ event.resource['prefect.resource.name'] }}"
    flow_runs = {"prefect.resource.id": "prefect.flow-run.*"}
    return [
        Automation(
            name=FAILED,
            trigger=EventTrigger(
                expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
                match=flow_runs,
                match_related=_flow_named(WATCHED_FLOWS),
                posture=Posture.Reactive,
                threshold=1,
            ),
            actions=[_alert(alert_deployment, "flow-run-failed", run_name)],
        ),
        Automation(
            name=SWEEP_NOT_COMPLETED,
            trigger=EventTrigger(
                after={"prefect.flow-run.Running"},
                expect={"prefect.flow-run.Completed"},
                match=flow_runs,
                match_related=_flow_named("reminder-sweep"),
                for_each={"prefect.resource.id"},
                posture=Posture.Proactive,
                threshold=1,
                within=sweep_within,
            ),
            actions=[_alert(alert_deployment, "reminder-sweep-late", "reminder-sweep (started, not completed)")],
        ),
        Automation(
            name=SWEEP_NOT_STARTED,
            trigger=EventTrigger(
                expect={"prefect.flow-run.Late"},
                match=flow_runs,
                match_related=_flow_named("reminder-sweep"),
                posture=Posture.Reactive,
                threshold=1,
            ),
            actions=[_alert(alert_deployment, "reminder-sweep-late", run_name)],
        ),
    ]


def ensure_automations(alert_deployment: UUID, *, sweep_within: timedelta = SWEEP_WITHIN) -> list[UUID]:
    """Create each automation, or update the one of that name: running this twice leaves one of each."""
    ids = []
    for wanted in automations(alert_deployment, sweep_within=sweep_within):
        try:
            existing = Automation.read(name=wanted.name)
            assert isinstance(existing, Automation)  # sync call: the automation, not a coroutine
        except ValueError:  # no automation of that name yet
            created = wanted.create()
            assert isinstance(created, Automation) and created.id is not None
            ids.append(created.id)
            continue
        existing.trigger, existing.actions, existing.enabled = wanted.trigger, wanted.actions, True
        existing.update()
        assert existing.id is not None
        ids.append(existing.id)
    return ids
