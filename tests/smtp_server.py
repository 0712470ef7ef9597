"""A real SMTP server on 127.0.0.1 for tests: it records what it accepts and can be told to refuse.

kipp talks to it through ``KIPP_SMTP_URL`` exactly as to a production server, from the test's
own process or from a worker, gunicorn or any other process on the machine::

    from tests.smtp_server import SmtpServer

    with SmtpServer() as smtp:                 # or the ``smtp_server`` fixture below
        env = {"KIPP_SMTP_URL": smtp.url}
        smtp.answer_temporary_failure()        # every message: "451 4.3.0 Try again later"
        smtp.refuse_connections()              # the port closes: "connection refused"
        smtp.accept()                          # back to normal (reopens the same port)
        smtp.wait_for(30, timeout=60)          # until 30 messages were accepted
        smtp.refusing = True                   # the same as answer_temporary_failure() (False: accept())
        smtp.delay = 5                         # wait 5 s before answering each message (a slow server)
        smtp.delay_before_data = True          # ... spent before the message is handed over instead
                                               #   (a sender killed meanwhile has sent nothing)
        smtp.messages                          # what it accepted: Received(recipient, subject, message_id,
                                               #   received_at, message), in order of arrival
        smtp.message_ids()                     # their Message-ID headers
        smtp.duplicates()                      # Message-IDs accepted more than once
        smtp.refused                           # how many messages it answered 451 to

Use it as a pytest fixture by importing it into a test module or a conftest::

    from tests.smtp_server import smtp_server  # noqa: F401

The server runs in a thread of the test process (aiosmtpd's Controller on a free port).
"""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator

import pytest
from aiosmtpd.controller import Controller

TEMPORARY_FAILURE = "451 4.3.0 Try again later"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    recipient: str
    subject: str
    message_id: str
    received_at: float  # time.time() when it was accepted
    message: email.message.Message


class RecordingHandler:
    """aiosmtpd handler: accepts and records each message, or answers ``failure`` when one is set,
    after waiting ``delay`` seconds (at the recipient, before the message, if ``delay_before_data``)."""

    def __init__(self) -> None:
        self.failure: str | None = None
        self.delay = 0.0
        self.delay_before_data = False
        self.messages: list[Received] = []
        self.refused = 0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.delay and self.delay_before_data:
            await asyncio.sleep(self.delay)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay and not self.delay_before_data:
            await asyncio.sleep(self.delay)
        with self._lock:
            if self.failure:
                self.refused += 1
                return self.failure
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append(Received(str(message["To"]), str(message["Subject"]), str(message["Message-ID"]),
                                          time.time(), message))
        return "250 2.0.0 OK"


class SmtpServer:
    """A real SMTP server on 127.0.0.1; ``url`` is the KIPP_SMTP_URL that reaches it."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.handler = RecordingHandler()
        self._controller: Controller | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> "SmtpServer":
        if self._controller is None:
            self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- behaviour ---------------------------------------------------------------------------------
    def accept(self) -> None:
        """Accept every message (and listen again if connections were refused)."""
        self.handler.failure = None
        self.start()

    def answer_temporary_failure(self, reply: str = TEMPORARY_FAILURE) -> None:
        """Answer every message with a temporary failure (by default 451): the sender must retry."""
        self.handler.failure = reply
        self.start()

    def refuse_connections(self) -> None:
        """Close the port: a sender gets "connection refused" until ``accept``."""
        self.stop()

    @property
    def refusing(self) -> bool:
        return self.handler.failure is not None

    @refusing.setter
    def refusing(self, value: bool) -> None:
        if value:
            self.answer_temporary_failure()
        else:
            self.accept()

    @property
    def delay(self) -> float:
        return self.handler.delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self.handler.delay = seconds

    @property
    def delay_before_data(self) -> bool:
        return self.handler.delay_before_data

    @delay_before_data.setter
    def delay_before_data(self, value: bool) -> None:
        self.handler.delay_before_data = value

    # -- what arrived ------------------------------------------------------------------------------
    @property
    def messages(self) -> list[Received]:
        with self.handler._lock:
            return list(self.handler.messages)

    @property
    def refused(self) -> int:
        return self.handler.refused

    def message_ids(self) -> list[str]:
        return [m.message_id for m in self.messages]

    def received_by(self, address: str) -> list[Received]:
        return [m for m in self.messages if m.recipient.lower() == address.lower()]

    def duplicates(self) -> dict[str, int]:
        """Message-IDs that arrived more than once, with how often."""
        return {mid: n for mid, n in Counter(self.message_ids()).items() if n > 1}

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        """Wait until at least ``count`` messages were accepted; False if the time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.handler.messages) >= count:
                return True
            time.sleep(0.1)
        return len(self.handler.messages) >= count

    def clear(self) -> None:
        with self.handler._lock:
            self.handler.messages.clear()
            self.handler.refused = 0


@pytest.fixture()
def smtp_server() -> Iterator[SmtpServer]:
    """A fresh SMTP server for one test, accepting everything."""
    with SmtpServer() as server:
        yield server
