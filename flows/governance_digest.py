"""`governance-digest` flow (weekly, Monday 07:00 Europe/London): the coordinator and governance summary.

Kept as a file under $PATHWAY_HOME/digests/ and sent once per week to the governance recipients; it
ends with the audit trail's row count and head hash, anchored outside the database.
"""

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import runtime
from flows.runtime import run_name
from pathway.reminders.digest import send_digest


@task(cache_policy=NO_CACHE)
def write_and_send_digest(as_of: date) -> dict[str, str]:
    result = send_digest(
        runtime.session_factory(),
        as_of=as_of,
        settings=runtime.reminder_settings(),
        clock=runtime.utc_now,
        audit_anchors=runtime.audit_anchors(),  # the audit trail checked and anchored, stated in the digest
    )
    return {"file": str(result.file), "status": result.status}


@flow(name="governance-digest", flow_run_name=run_name("governance-digest"))
def governance_digest(as_of: date | None = None) -> dict[str, str]:
    day = as_of or runtime.london_today()
    result = write_and_send_digest(day)
    get_run_logger().info("governance digest at %s: %s (%s)", day, result["status"], result["file"])
    return result
