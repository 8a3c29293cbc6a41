"""Pure webhook rules: signatures, the retry schedule. No ORM, no clock: instants come in as arguments."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

# Wait before retry n (after the n-th failed attempt): 1 min, 5 min, 30 min, 2 h, 12 h, 24 h.
BACKOFF: tuple[dt.timedelta, ...] = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=12),
    dt.timedelta(hours=24),
)
MAX_ATTEMPTS = len(BACKOFF) + 1  # the first attempt and one per backoff step, about 39 hours in all
JITTER = 0.1  # up to 10% added to each wait, the same for a given delivery and attempt
SIGNATURE_TOLERANCE = dt.timedelta(minutes=5)  # what receivers should accept between Relance-Timestamp and now
RESPONSE_BODY_LIMIT = 2000  # characters of the receiver's answer kept in the delivery log


def next_attempt_at(*, delivery_id: int, attempts: int, failed_at: dt.datetime) -> dt.datetime | None:
    """When to try again after ``attempts`` failed attempts, or None once they are exhausted.

    The jitter spreads retries of many deliveries that failed together (a receiver outage) without
    randomness: it is derived from the delivery id and the attempt number.
    """
    if attempts >= MAX_ATTEMPTS:
        return None
    wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    digest = hashlib.sha256(f"{delivery_id}:{attempts}".encode()).digest()
    fraction = int.from_bytes(digest[:4], "big") / 2**32
    return failed_at + wait + wait * (JITTER * fraction)


def body(*, event_id: str, event_type: str, created_at: dt.datetime, data: dict[str, Any]) -> bytes:
    """The JSON body of a delivery: the same bytes for every attempt and replay of the event."""
    document = {"id": event_id, "type": event_type, "created_at": created_at.isoformat(), "data": data}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


def signature(secret: str, timestamp: int, raw_body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<raw body>"`` keyed with the subscription's secret."""
    signed = str(timestamp).encode() + b"." + raw_body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, raw_body: bytes) -> str:
    """The ``Relance-Signature`` header: ``t=<unix seconds>,v1=<hex>``."""
    return f"t={timestamp},v1={signature(secret, timestamp, raw_body)}"


def verify(
    secret: str,
    header: str,
    raw_body: bytes,
    *,
    now: int,
    tolerance: dt.timedelta = SIGNATURE_TOLERANCE,
) -> bool:
    """What a receiver does (docs/webhooks.md): check the HMAC, then that the timestamp is recent."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    expected = signature(secret, timestamp, raw_body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        return False
    return abs(now - timestamp) <= tolerance.total_seconds()


def truncate(text: str, limit: int = RESPONSE_BODY_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
