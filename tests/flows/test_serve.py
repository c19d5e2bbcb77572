"""Serving: every deployment from one entry point, cron in Europe/London, right across the clock changes."""

import asyncio
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from flows import serve
from pathway.domain.clock import LONDON, london_date
from pathway.reminders.settings import ReminderSettings
from pathway.reminders.sweep import run_sweep
from pathway.store.db import SessionFactory
from tests.conftest import diagnose, register, run, start_anticoagulation
from tests.support.reminders import outbox

pytestmark = pytest.mark.prefect
ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_entry_point_starts_nothing_and_loads_no_prefect() -> None:
    code = "import sys, flows.serve; print('prefect' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "False"


def _deployments() -> dict[str, Any]:
    return {f"{d.flow_name}/{d.name}": d for d in serve.deployments()}


def test_every_flow_is_served_with_its_schedule() -> None:
    deployments = _deployments()
    crons = {
        name: [(s.schedule.cron, s.schedule.timezone) for s in d.schedules if hasattr(s.schedule, "cron")]
        for name, d in deployments.items()
    }
    assert crons == {
        "patient-pathway/patient-pathway": [],
        "reminder-sweep/daily": [("0 7 * * *", "Europe/London")],
        "governance-digest/weekly": [("0 7 * * 1", "Europe/London")],
        "on-call-alert/on-call": [],
    }
    assert deployments["patient-pathway/patient-pathway"].schedules == []


def test_no_poller_the_pathway_deployment_is_started_by_the_command_event() -> None:
    deployments = _deployments()
    assert not any(d.schedules and not hasattr(d.schedules[0].schedule, "cron") for d in deployments.values())
    (trigger,) = deployments["patient-pathway/patient-pathway"].triggers
    assert trigger.expect == {"pathway.command.recorded"}
    assert trigger.parameters == {"ref": "{{ event.resource['pathway.ref'] }}"}
    assert all(not d.triggers for name, d in deployments.items() if name != "patient-pathway/patient-pathway")


def test_two_reminder_sweeps_never_overlap_the_deployment_runs_one_at_a_time() -> None:
    deployments = _deployments()
    assert deployments["reminder-sweep/daily"].concurrency_limit == 1
    assert all(d.concurrency_limit is None for name, d in deployments.items() if name != "reminder-sweep/daily")


def test_serving_never_pauses_the_schedules_on_shutdown(monkeypatch: pytest.MonkeyPatch) -> None:
    import prefect
    from prefect.deployments.runner import RunnerDeployment

    from flows import automations, triggers

    alert_id = UUID(int=7)
    called: dict[str, Any] = {}
    monkeypatch.setattr(prefect, "serve", lambda *args, **kwargs: called.update(args=args, kwargs=kwargs))
    monkeypatch.setattr(RunnerDeployment, "apply", lambda self, **_: alert_id)  # no server here
    monkeypatch.setattr(automations, "ensure_automations", lambda deployment: called.update(alert=deployment))
    monkeypatch.setattr(triggers, "relay_until", lambda stop: called.update(relay=stop))
    serve.serve_all()
    assert called["kwargs"] == {"pause_on_shutdown": False}
    assert sorted(d.name for d in called["args"]) == ["daily", "on-call", "patient-pathway", "weekly"]
    assert called["alert"] == alert_id  # the automations start the served alert deployment
    assert called["relay"].is_set()  # the outbox relay ran beside the deployments and stopped with them


def _next_runs(cron: str, start: datetime, n: int = 4) -> list[datetime]:
    from prefect.server.schemas.schedules import CronSchedule

    # The server's own schedule code (the client schedule object cannot compute dates).
    dates = asyncio.run(CronSchedule(cron=cron, timezone=serve.TIMEZONE).get_dates(n=n, start=start))
    return [datetime.fromtimestamp(d.timestamp(), tz=UTC) for d in dates]  # plain datetimes, not pendulum


@pytest.mark.parametrize(
    ("start", "utc_hours"),
    [
        (datetime(2026, 3, 27, 12, tzinfo=UTC), [7, 6, 6, 6]),  # GMT, then BST from 29 March
        (datetime(2026, 10, 23, 12, tzinfo=UTC), [6, 7, 7, 7]),  # BST, then GMT from 25 October
    ],
)
def test_daily_sweep_runs_at_seven_london_time_across_the_clock_change(start: datetime, utc_hours: list[int]) -> None:
    runs = _next_runs(serve.REMINDER_CRON, start)
    assert [r.hour for r in runs] == utc_hours
    assert {(r.astimezone(LONDON).hour, r.astimezone(LONDON).minute) for r in runs} == {(7, 0)}
    first_day = start.date() + timedelta(days=1)
    assert [london_date(r) for r in runs] == [first_day + timedelta(days=i) for i in range(4)]


def test_weekly_digest_runs_monday_seven_london_time_across_both_changes() -> None:
    spring = _next_runs(serve.DIGEST_CRON, datetime(2026, 3, 22, tzinfo=UTC), 2)
    autumn = _next_runs(serve.DIGEST_CRON, datetime(2026, 10, 19, tzinfo=UTC), 2)
    assert [r.isoformat() for r in spring] == ["2026-03-23T07:00:00+00:00", "2026-03-30T06:00:00+00:00"]
    assert [r.isoformat() for r in autumn] == ["2026-10-19T06:00:00+00:00", "2026-10-26T07:00:00+00:00"]


@pytest.mark.parametrize(
    ("referred", "start", "first_notified"),
    [
        # MDT due 3 calendar days after referral, red from day 4, whatever the length of the days between.
        (date(2026, 3, 26), datetime(2026, 3, 27, 12, tzinfo=UTC), date(2026, 3, 30)),
        (date(2026, 10, 22), datetime(2026, 10, 23, 12, tzinfo=UTC), date(2026, 10, 26)),
    ],
)
def test_scheduled_sweeps_notify_on_the_right_london_day_across_the_change(
    sqlite_factory: SessionFactory, tmp_path: Path, referred: date, start: datetime, first_notified: date
) -> None:
    recorded = datetime.combine(referred, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    run(sqlite_factory, register(), at=recorded)
    run(sqlite_factory, diagnose(presented=referred), at=recorded)
    run(sqlite_factory, start_anticoagulation(started_on=referred.isoformat()), at=recorded)
    settings = ReminderSettings(outbox_path=tmp_path / "outbox.jsonl")
    for instant in _next_runs(serve.REMINDER_CRON, start):
        # A scheduled run sweeps as of its London calendar day.
        run_sweep(sqlite_factory, as_of=london_date(instant), settings=settings, clock=lambda at=instant: at)
    firsts = [line for line in outbox(tmp_path) if line["code"] == "MDT_OVERDUE" and line["kind"] == "first"]
    assert [london_date(datetime.fromisoformat(line["at"])) for line in firsts] == [first_notified]
