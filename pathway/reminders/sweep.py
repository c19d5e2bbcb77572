"""The reminder sweep: which standing flags to tell whom, each claimed before it is sent, so it goes once.

1. Select (pure, `due_notifications`): the flags standing at `as_of` on open pathways, one per
   (pathway, code) at its highest severity, to the role owning the flag's step; plus an escalation
   to the escalation recipients once a red flag has stood `escalation_days` days. Reading the
   standing flags at `as_of` is the catch-up after downtime (what stands now, not what stood while
   nothing ran) and drops steps done since (recording a step removes its flag windows).
2. Claim (`insert_claims`): INSERT one `notification` row per key (pathway_id, code, severity, kind)
   with ON CONFLICT DO NOTHING, in a short transaction of its own (one INSERT ... SELECT per 20,000
   rows: from arrays on PostgreSQL, from a JSON array on SQLite). The unique key gives each key to
   exactly one sweep, however many run at once; a re-run finds every key taken and sends nothing.
3. Redeliver (`drop_failed_not_standing`, `take_over_failed`): a `failed` row (its channel refused
   every retry of an earlier sweep) is taken up again while its flag stands (for a request: while its
   stage still asks for it), with one conditional UPDATE `failed -> claimed` so exactly one of several
   concurrent sweeps takes it; a failed row whose flag no longer stands (step done, pathway closed,
   severity superseded) is deleted instead, never sent, and its key released. Redelivery stops once a
   row has had `redelivery_max_attempts` attempts in all or is `redelivery_max_days` old; it then stays
   `failed` and listed (pathway.views.notifications.failed_notifications) for coordinators to chase.
4. Deliver (pathway.reminders.delivery) only the rows this sweep claimed, with bounded retries and
   backoff, then mark each one sent or failed (`attempts` counts every try, across sweeps).

Claimed but unsent: a sweep holds a lock named after its claim for as long as it runs
(pathway.reminders.claimer), released by the database server or the kernel the moment its process
dies. A row still `claimed` by a claim whose lock is free belongs to a sweep that died between its
claim and its mark: the next sweep, even one started a second later, takes it over with one
conditional UPDATE (so exactly one sweep does), drops it if the flag no longer stands, and otherwise
delivers it. The claims of a sweep that is still running are never touched, however long it takes;
the re-run counts them as `in_progress`, not as sent. The outbox never gets a second line for a row
(lines carry the notification id); an apprise channel can see a repeat only if the sweep died after
the channel took the message and before the row was marked (committed straight after each such
message): a window of one message. A redelivery goes only to the channels that did not take the
message before (`accepted_channels` on the row), and a failed row never has an outbox line, so the
outbox holds one line per notification id.
"""

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlmodel import Session

from pathway.domain.rules import BEGINNING
from pathway.domain.vocabulary import SEVERITY_RANK, Severity
from pathway.logs import get_logger
from pathway.reminders.automation import requests_still_asked
from pathway.reminders.channels import Channels
from pathway.reminders.claims import Pending, failed_now, notify_once, statuses
from pathway.reminders.delivery import Clock
from pathway.reminders.messages import flag_owner
from pathway.reminders.settings import ESCALATION_ROLE, ReminderSettings
from pathway.store.db import SessionFactory
from pathway.views.filters import flag_windows, standing_on_open

log = get_logger(__name__)


@dataclass(frozen=True)
class Standing:
    """One flag window standing at the sweep's date on an open pathway."""

    pathway_id: int
    code: str
    severity: str
    starts_on: date
    due_on: date


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did with every notification due: sent it; found it sent before; could not deliver
    it (`failed`); or found it claimed by another sweep still running, which is sending it."""

    sent: int
    already_sent: int
    failed: int
    in_progress: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "already_sent": self.already_sent,
            "failed": self.failed,
            "in_progress": self.in_progress,
        }


def standing_flags(session: Session, as_of: date) -> list[Standing]:
    return [Standing(*row) for row in session.execute(_standing_query(as_of))]


def _standing_query(as_of: date) -> Any:
    window = flag_windows()
    return standing_on_open(
        as_of, window.c.pathway_id, window.c.code, window.c.severity, window.c.starts_on, window.c.due_on
    )


WINDOWS_PAGE = 10_000  # standing windows read per fetch
Window = tuple[int, str, str, date, date]  # a Standing's fields in order: what the sweep's query returns


def _red_since(window: Window) -> date:
    # A window open from the beginning (stopped early) has stood since the date it is due from.
    return window[4] if window[3] == BEGINNING else window[3]


# A severity's rank by its text (the rows carry text; building the enum per row cost more than the rest).
_RANK = {severity.value: rank for severity, rank in SEVERITY_RANK.items()}
_RED = Severity.red.value
_SEVERITY = {severity.value: severity.value for severity in Severity}  # one string per severity


def _top(window: Window) -> tuple[int, int]:
    return _RANK[window[2]], -window[4].toordinal()


def due_notifications(standing: Iterable[Standing], as_of: date, escalation_days: int) -> list[Pending]:
    """What should have been told by `as_of`: one first notice per standing flag, and due escalations."""
    windows = sorted(((w.pathway_id, w.code, w.severity, w.starts_on, w.due_on) for w in standing), key=itemgetter(0))
    return list(due_in_order(windows, as_of, escalation_days))


def due_in_order(standing: Iterable[Window], as_of: date, escalation_days: int) -> Iterator[Pending]:
    """`due_notifications` of windows that come grouped by pathway (as the sweep reads them, in pathway
    order), yielded pathway by pathway: its notices in code order, each escalation after its first
    notice. Only one pathway's windows are held at a time, so a whole cohort streams through."""
    owners: dict[str, tuple[str, str]] = {}
    for pathway_id, rows in groupby(standing, key=itemgetter(0)):
        by_code: dict[str, list[Window]] = {}
        for window in rows:
            by_code.setdefault(window[1], []).append(window)
        for code in sorted(by_code):
            windows = by_code[code]
            top = max(windows, key=_top) if len(windows) > 1 else windows[0]
            if (known := owners.get(code)) is None:
                known = owners[code] = (code, flag_owner(code))
            code, owner = known  # one string per code for the whole cohort's keys
            severity = _SEVERITY.get(top[2], top[2])
            yield Pending(pathway_id, code, severity, "first", owner, top[4])
            if severity == _RED:
                since = min(_red_since(w) for w in windows if w[2] == _RED)
                if (as_of - since).days >= escalation_days:
                    yield Pending(pathway_id, code, _RED, "escalation", ESCALATION_ROLE, top[4])


def _due_now(factory: SessionFactory, as_of: date, escalation_days: int) -> Iterator[Pending]:
    """The notifications due at `as_of`, read from the standing windows as they are claimed (a page at a
    time); the reading session ends with the stream."""
    with factory() as reading:
        windows = reading.execute(
            _standing_query(as_of).order_by(flag_windows().c.pathway_id),
            execution_options={"yield_per": WINDOWS_PAGE},
        )
        yield from due_in_order(windows.tuples(), as_of, escalation_days)


def run_sweep(
    factory: SessionFactory,
    *,
    as_of: date,
    settings: ReminderSettings,
    clock: Clock,
    channels: Channels | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SweepResult:
    """One sweep at `as_of`: claim and send every notification due and not yet taken, and try again
    the failed ones whose flag (or request) still stands."""
    with factory() as session:
        failed_seen = failed_now(session)  # first: what stands is read after, never before, these rows
        asked = requests_still_asked(session)
    delivered = notify_once(
        factory,
        _due_now(factory, as_of, settings.escalation_days),
        as_of=as_of,
        settings=settings,
        clock=clock,
        channels=channels,
        sleep=sleep,
        standing=asked,
        failed_seen=failed_seen,
    )
    with factory() as session:
        others = Counter(statuses(session, delivered.due - delivered.keys).values())
    # Claimed and not delivered by this sweep: a live sweep holds it and is sending it (a dead sweep's
    # claims were taken over above). Never counted as sent.
    result = SweepResult(delivered.sent, others["sent"], delivered.failed, others["claimed"])
    log.info("reminder sweep done", as_of=as_of.isoformat(), **result.as_dict())
    return result
