"""The outbox relay: pending `flow_trigger` rows become `pathway.command.recorded` Prefect events.

Commands write a pending `flow_trigger` row in their own transaction (pathway.services.commands). The relay
emits one event per pathway with pending rows and marks those rows sent with the event's id; the
`patient-pathway` deployment's trigger (flows/serve.py) turns each event into a run. When no server
answers, the rows stay pending and go with the next relay: after the next `pathway apply`, from the
serving process's relay loop (every few seconds), from `pathway flows relay`, and from the daily sweep.

Delivery is at least once (a relay that dies between the emit and the mark emits again), and the run is
idempotent. Events go through Prefect's events client, a batch per connection confirmed by a ping the
server answers after the batch's last event, not `emit_event`, whose background worker drops an event it cannot send and
says nothing to the caller: a row is marked sent only once the server has taken its event. Without
PREFECT_API_URL nothing is emitted (Prefect would start a temporary server of its own, ~20 s).
"""

import asyncio
import threading
from uuid import uuid4

import httpx
from prefect.events import Event
from prefect.events.clients import get_events_client
from prefect.settings import PREFECT_API_URL

from flows import runtime
from pathway import SessionFactory
from pathway.logs import get_logger
from pathway.reminders.triggers import PendingRun, mark_all_sent, pending_runs

EVENT = "pathway.command.recorded"
RESOURCE_PREFIX = "pathway.ref."
REF_LABEL = "pathway.ref"
RELAY_INTERVAL_SECONDS = 5.0
BATCH = 100  # events per connection, confirmed together and marked sent in one transaction

log = get_logger(__name__)


def prefect_server_answers(timeout: float = 3.0) -> bool:
    """True when PREFECT_API_URL names a server whose /health answers (no URL: no server configured)."""
    url = PREFECT_API_URL.value()
    if not url:
        return False
    try:
        return httpx.get(f"{url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def command_event(run: PendingRun) -> Event:
    """The event for a pathway's pending rows: the reference only (never a patient identifier)."""
    return Event(
        event=EVENT,
        resource={"prefect.resource.id": f"{RESOURCE_PREFIX}{run.pathway}", REF_LABEL: run.pathway},
        payload={"up_to": run.up_to},
        id=uuid4(),
    )


async def _emit_confirmed(factory: SessionFactory, runs: list[PendingRun], sent: list[str]) -> None:
    """Emit a batch's events on one connection; the last one waits for the server's answer to a ping
    sent after it (Prefect's checkpoint: the server has read every event before it). Then mark the
    batch sent, in one transaction. A failure anywhere leaves the batch pending (sent again later:
    at least once)."""
    for start in range(0, len(runs), BATCH):
        batch = [(run, command_event(run)) for run in runs[start : start + BATCH]]
        # One ping per batch: Prefect checkpoints once `checkpoint_every` events are unconfirmed.
        async with get_events_client(reconnection_attempts=1, checkpoint_every=len(batch)) as client:
            for _run, event in batch:
                await client.emit(event)
        mark_all_sent(factory, [(run, str(event.id)) for run, event in batch], at=runtime.utc_now())
        sent += [run.pathway for run, _event in batch]


def relay_outbox(factory: SessionFactory, *, limit: int = 500) -> int:
    """Emit one event per pathway with pending rows (oldest first); returns how many were emitted."""
    if not prefect_server_answers():
        return 0
    with factory() as session:
        runs = pending_runs(session, limit=limit)
    if not runs:
        return 0
    sent: list[str] = []
    try:
        asyncio.run(_emit_confirmed(factory, runs, sent))
    except Exception as problem:  # server gone part-way: what was not confirmed stays pending
        log.warning("outbox relay stopped, rows kept pending", events_sent=len(sent), error=type(problem).__name__)
    if sent:
        log.info("outbox relayed", events=len(sent))
    return len(sent)


def relay_until(stop: threading.Event, interval: float = RELAY_INTERVAL_SECONDS) -> None:
    """Relay the outbox every `interval` seconds until `stop` is set (the serving process's loop)."""
    while not stop.wait(interval):
        try:
            relay_outbox(runtime.session_factory())
        except Exception as problem:  # the database away for a moment: try again next time
            log.warning("outbox relay failed, will try again", error=type(problem).__name__)
