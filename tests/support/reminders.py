"""Reminder test builders: clocks, settings, the outbox, fake channels and a pathway awaiting its MDT."""

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pathway.reminders.channels import Channel, Channels, Message
from pathway.reminders.settings import ReminderSettings
from pathway.reminders.sweep import run_sweep
from pathway.services.demo import nhs_numbers
from pathway.store.db import SessionFactory
from tests.conftest import diagnose, register, run, start_anticoagulation

SWEPT_AT = datetime(2026, 6, 20, 6, 0, tzinfo=UTC)


def clock_at(instant: datetime) -> Callable[[], datetime]:
    return lambda: instant


def settings_for(tmp_path: Path, **extra: Any) -> ReminderSettings:
    return ReminderSettings(outbox_path=tmp_path / "outbox.jsonl", backoff_seconds=0, **extra)


def outbox(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "outbox.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def sweep(
    factory: SessionFactory, tmp_path: Path, day: date, *, channels: Channels | None = None, **settings: Any
) -> dict[str, int]:
    result = run_sweep(
        factory,
        as_of=day,
        settings=settings_for(tmp_path, **settings),
        clock=clock_at(SWEPT_AT),
        channels=channels,
        sleep=lambda _s: None,
    )
    return result.as_dict()


def nhs_number(n: int) -> str:
    """Valid NHS numbers from the 999 test range."""
    numbers = nhs_numbers(500_000)
    return [next(numbers) for _ in range(n + 1)][n]


def awaiting_mdt(factory: SessionFactory, pathway: str = "P1", n: int = 0) -> None:
    """Presented and referred 2026-06-01, anticoagulated: MDT_OVERDUE stands red from 2026-06-05."""
    run(factory, register(patient=f"H{pathway}", nhs=nhs_number(n)))
    run(factory, diagnose(pathway=pathway, patient=f"H{pathway}"))
    run(factory, start_anticoagulation(pathway))


class RecordingChannel:
    """Stands in for a remote service: records messages, fails the first `failures` sends."""

    scheme = "fake"

    def __init__(self, failures: int = 0, crash_after: int | None = None) -> None:
        self.failures, self.crash_after = failures, crash_after
        self.identity = f"recording-{id(self):x}"
        self.messages: list[Message] = []
        self.calls = 0

    def send(self, message: Message) -> None:
        self.calls += 1
        if self.crash_after is not None and len(self.messages) >= self.crash_after:
            raise KeyboardInterrupt("the sweep's process dies here")  # not an Exception: nothing catches it
        if self.calls <= self.failures:
            raise ConnectionError("relay refused")
        self.messages.append(message)


class FakeChannels(Channels):
    def __init__(self, settings: ReminderSettings, channel: Channel) -> None:
        super().__init__(settings)
        self.channel = channel

    def for_role(self, role: str) -> list[Channel]:
        return [self.channel]


# --- selection (pure) --------------------------------------------------------------------------
