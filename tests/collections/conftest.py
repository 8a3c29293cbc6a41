"""An SMTP server in the test (aiosmtpd on 127.0.0.1, a free port) that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: email.message.EmailMessage


@dataclass
class Inbox:
    handler: Handler
    port: int

    @property
    def messages(self) -> list[Received]:
        return self.handler.received


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    cut_after_data: bool = False  # keep the message, then drop the connection before answering

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        if self.cut_after_data:
            server.transport.abort()
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    handler = Handler()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "Relance <relance@acme.example>"
    settings.RELANCE_COLLECTIONS_MAILBOX = "collections@acme.example"
    try:
        yield Inbox(handler, port)
    finally:
        controller.stop()
