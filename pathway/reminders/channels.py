"""Where notifications go: apprise URLs per recipient role, and the JSON-lines outbox.

A message names the pathway reference and site, the flag and its severity, never a patient's
name, NHS number or date of birth (the pathway reference is what the team looks up).
"""

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Protocol

from pathway.errors import DeliveryError
from pathway.reminders.settings import ReminderSettings


# A string as json.dumps writes it (ASCII, escaped); None as null.
def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring_ascii(value)


def _number(value: int | None) -> str:
    return "null" if value is None else str(int(value))


@dataclass(frozen=True)
class Message:
    code: str
    severity: str
    kind: str
    recipient_role: str
    title: str
    body: str
    pathway: str | None = None  # None for the governance digest
    site: str | None = None
    notification_id: int | None = None
    leaflet: str | None = None
    attachments: tuple[Path, ...] = field(default_factory=tuple)


class Channel(Protocol):
    scheme: str
    identity: str  # stable across sweeps and settings reorders; never the URL (it may hold credentials)

    def send(self, message: Message) -> None: ...


class AppriseChannel:
    """One apprise URL. Its text may hold credentials, so only the scheme is kept for records."""

    def __init__(self, url: str, interval_seconds: float | None = None) -> None:
        import apprise  # imported here: apprise loads every plugin, which is slow

        self.scheme = url.split("://", 1)[0].lower()
        self.identity = hashlib.sha256(url.encode()).hexdigest()[:12]
        self._apprise = apprise.Apprise()
        if not self._apprise.add(url):
            raise ValueError(f"not a usable apprise URL (scheme {self.scheme!r})")
        if interval_seconds is not None:
            for service in self._apprise:
                service.request_rate_per_sec = interval_seconds

    def send(self, message: Message) -> None:
        attach = [str(p) for p in message.attachments] or None
        if not self._apprise.notify(body=message.body, title=message.title, attach=attach):
            raise DeliveryError(f"{self.scheme}: not delivered")


class Outbox:
    """Appends one JSON line per delivered notification; a retry never writes the same one twice."""

    scheme = "outbox"

    def __init__(self, path: Path) -> None:
        self.path = path

    def line(self, message: Message, channel: str, at: datetime) -> str:
        return self.record_line(
            notification=message.notification_id,
            pathway=message.pathway,
            site=message.site,
            code=message.code,
            severity=message.severity,
            kind=message.kind,
            recipient_role=message.recipient_role,
            channel=channel,
            leaflet=message.leaflet,
            at=at,
        )

    @staticmethod
    def record_line(
        *,
        notification: int | None,
        pathway: str | None,
        site: str | None,
        code: str,
        severity: str,
        kind: str,
        recipient_role: str,
        channel: str,
        leaflet: str | None,
        at: datetime,
    ) -> str:
        """One notification's line (what a message says, never its words): the fields in name order.

        The bytes json.dumps(record, sort_keys=True) writes, put together from each value's JSON (the
        sweep writes a line per notification; a dict through the encoder cost five times as much)."""
        return (
            f'{{"at": "{at.isoformat()}", "channel": {_text(channel)}, "code": {_text(code)}, '
            f'"kind": {_text(kind)}, "leaflet": {_text(leaflet)}, "notification": {_number(notification)}, '
            f'"pathway": {_text(pathway)}, "recipient_role": {_text(recipient_role)}, '
            f'"severity": {_text(severity)}, "site": {_text(site)}}}\n'
        )

    def append(self, message: Message, channel: str, at: datetime) -> None:
        self.append_lines([self.line(message, channel, at)])

    def append_lines(self, lines: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Append mode, one write per line: lines from concurrent sweeps never interleave.
        with self.path.open("a", encoding="utf-8") as handle:
            for text in lines:
                handle.write(text)

    def written(self) -> set[int]:
        """Notification ids already in the outbox (read only when a dead sweep's claims are retried)."""
        if not self.path.exists():
            return set()
        ids = set()
        with self.path.open(encoding="utf-8") as handle:
            for text in handle:
                try:
                    found = json.loads(text).get("notification")
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash
                if isinstance(found, int):
                    ids.add(found)
        return ids


@dataclass(frozen=True)
class Delivery:
    attempts: int
    error: str | None
    channel: str
    accepted: frozenset[str] = frozenset()  # identities of the channels that took it

    @property
    def delivered(self) -> bool:
        return self.error is None


def deliver(
    message: Message,
    channels: Sequence[Channel],
    *,
    retries: int,
    backoff_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    accepted: frozenset[str] = frozenset(),
) -> Delivery:
    """Send through every channel; retry only the channels that failed, with exponential backoff.

    `accepted` names (by identity, a hash of the URL) channels that took this message in an earlier
    sweep: a redelivery sends only to the others, so no channel sees the message twice, even when the
    role's URLs were reordered or one replaced in between.
    """
    names = "+".join(sorted({c.scheme for c in channels})) or "none"
    taken = set(accepted)
    remaining = [i for i, channel in enumerate(channels) if channel.identity not in taken]
    attempts, error = 0, None
    while True:
        attempts += 1
        failed = []
        for index in remaining:
            channel = channels[index]
            try:
                channel.send(message)
            except Exception as problem:  # any channel fault is retried, then recorded, never raised
                failed.append(index)
                error = f"{channel.scheme}: {type(problem).__name__}: {problem}"[:500]
            else:
                taken.add(channel.identity)
        if not failed:
            return Delivery(attempts, None, names, frozenset(taken))
        if attempts > retries:
            return Delivery(attempts, error, names, frozenset(taken))
        sleep(backoff_seconds * 2 ** (attempts - 1))
        remaining = failed


class Channels:
    """The apprise channels of each recipient role, built once per sweep from the settings."""

    def __init__(self, settings: ReminderSettings) -> None:
        self.settings = settings
        self._built: dict[str, list[Channel]] = {}
        self._names: dict[tuple[str, bool], str] = {}

    def for_role(self, role: str) -> list[Channel]:
        if role not in self._built:
            interval = self.settings.channel_interval_seconds
            self._built[role] = [AppriseChannel(url, interval) for url in self.settings.recipients(role)]
        return self._built[role]

    def names(self, role: str, outbox: bool) -> str:
        """The schemes a role's notifications go through, e.g. "mailto+outbox" (worked out once per role)."""
        if (role, outbox) not in self._names:
            schemes = {url.split("://", 1)[0].lower() for url in self.settings.recipients(role)}
            if outbox:
                schemes.add(Outbox.scheme)
            self._names[role, outbox] = "+".join(sorted(schemes)) or "none"
        return self._names[role, outbox]
