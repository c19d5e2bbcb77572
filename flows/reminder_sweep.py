"""`reminder-sweep` flow (daily, 07:00 Europe/London): exactly-once reminders and escalations.

Batch work: two tasks in all, however many patients (a task run costs about 10 ms). The sweep itself
is pathway.reminders.sweep.run_sweep; see its docstring for how each notification is sent once.
Each run (the daily one, or a re-run) also tries again the notifications an earlier run could not
deliver (`failed`) whose flag still stands, so a channel that was down gets each of them exactly once
after it recovers; "failed" in the counts is what this run could not deliver.
"""

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import runtime
from flows.runtime import run_name
from flows.triggers import relay_outbox
from pathway.reminders.sweep import run_sweep


@task(cache_policy=NO_CACHE)
def start_pathway_runs() -> int:
    """Relay the outbox's pending rows (events that start pathway runs), left by a Prefect outage."""
    return relay_outbox(runtime.session_factory())


@task(cache_policy=NO_CACHE)
def sweep_reminders(as_of: date) -> dict[str, int]:
    """Claim and send every notification standing at `as_of` and not yet sent."""
    result = run_sweep(
        runtime.session_factory(), as_of=as_of, settings=runtime.reminder_settings(), clock=runtime.utc_now
    )
    return result.as_dict()


@flow(name="reminder-sweep", flow_run_name=run_name("reminder-sweep"))
def reminder_sweep(as_of: date | None = None) -> dict[str, int]:
    """One sweep at `as_of` (default: today in London): {"sent", "already_sent", "failed", "in_progress"}."""
    day = as_of or runtime.london_today()
    started = start_pathway_runs()
    counts = sweep_reminders(day)
    get_run_logger().info("reminder sweep at %s: %s; pathway events relayed: %d", day, counts, started)
    return counts
