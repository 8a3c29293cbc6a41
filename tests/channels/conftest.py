"""A real HTTP receiver for webhook tests: a thread on 127.0.0.1, verifying signatures as docs/webhooks.md says."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.api.conftest import anonymous, api_as  # noqa: F401 - the API tests' fixtures, for the webhook endpoints

TOLERANCE = 300  # seconds


def verify(secret: str, raw_body: bytes, signature_header: str, now: float | None = None) -> bool:
    """The receiver's check, copied from docs/webhooks.md."""
    try:
        parts = dict(item.split("=", 1) for item in signature_header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    signed = f"{timestamp}.".encode() + raw_body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        return False
    return abs((now or time.time()) - timestamp) <= TOLERANCE


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers 500 to the first ``fail_first`` calls, then 200; records every call."""

    secret: str
    fail_first: int = 0
    delay: float = 0.0  # seconds before answering
    calls: list[Call] = field(default_factory=list)
    url: str = ""

    def answer(self, call: Call) -> tuple[int, bytes]:
        self.calls.append(call)
        if not call.verified:
            return 401, b"bad signature"
        if len(self.calls) <= self.fail_first:
            return 500, b"receiver not ready (" + str(len(self.calls)).encode() + b")"
        return 200, b'{"ok": true}'


@pytest.fixture
def receiver():
    state = Receiver(secret="whsec_test-secret-0123456789")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k: v for k, v in self.headers.items()}
            call = Call(self.path, headers, body, verify(state.secret, body, headers.get("Relance-Signature", "")))
            if state.delay:
                time.sleep(state.delay)
            status, answer = state.answer(call)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/relance"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
