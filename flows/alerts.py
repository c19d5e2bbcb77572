"""`on-call-alert` flow: tell the on-call channel what a Prefect automation saw (flows/automations.py).

Started by the automations only: `alert` is a key of pathway.reminders.oncall.ALERTS and `subject`
the flow run's name (a pathway reference at most, never a patient identifier).
"""

from prefect import flow, get_run_logger

from flows import runtime
from pathway.reminders.oncall import send_alert


@flow(name="on-call-alert", flow_run_name="on-call-{alert}")
def on_call_alert(alert: str, subject: str) -> dict[str, str | None]:
    sent = send_alert(alert, subject, settings=runtime.reminder_settings(), at=runtime.utc_now())
    get_run_logger().info("on-call alert %s about %s sent through %s", sent.code, subject, sent.channel)
    if sent.error is not None:
        get_run_logger().warning("on-call alert %s not delivered everywhere: %s", sent.code, sent.error)
    return {"code": sent.code, "channel": sent.channel, "error": sent.error}
