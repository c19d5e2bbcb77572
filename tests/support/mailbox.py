"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for apprise's mailto:// channel."""

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class Mailbox:
    """Accepts mail; can refuse the first N with 451 (try later), or hold one open to mimic a hang."""

    def __init__(self, refuse_first: int = 0, hang_after: int | None = None) -> None:
        self.refuse_first = refuse_first
        self.hang_after = hang_after
        self.messages: list[EmailMessage] = []
        self.attempts = 0
        self.hanging = threading.Event()  # set once a message is being held open
        self._release = asyncio.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.attempts <= self.refuse_first:
            return "451 4.3.0 Try again later"
        if self.hang_after is not None and len(self.messages) >= self.hang_after:
            self.hanging.set()
            await self._release.wait()
            return "451 4.3.0 Gave up"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def texts(self) -> list[str]:
        return [m.as_string() for m in self.messages]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server(mailbox: Mailbox) -> Iterator[int]:
    """Serve `mailbox` on 127.0.0.1 at a free port; yields the port."""
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, server_hostname="localhost")
    controller.start()
    try:
        yield port
    finally:
        controller.loop.call_soon_threadsafe(mailbox._release.set)
        controller.stop()


def mailto(port: int, to: str) -> str:
    return f"mailto://127.0.0.1:{port}?from=dvt-tracker@example.org&to={to}&name=DVT%20tracker"
