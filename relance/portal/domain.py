"""Pure portal rules: link tokens (random, signed, stored as a digest), link validity, RF references for a
selection of invoices, and the EPC QR payload. No ORM, no clock: callers pass ``now``/``as_of``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from enum import StrEnum

TOKEN_BYTES = 32
SIGNATURE_CHARS = 16  # 96 bits of HMAC-SHA256, URL-safe base64
_SALT = b"relance.portal.link:"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_raw_token() -> str:
    """A fresh random token body (256 bits, URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def _signature(raw: str, secret: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), _SALT + raw.encode("ascii"), hashlib.sha256).digest()
    return _b64(mac)[:SIGNATURE_CHARS]


def sign_token(raw: str, secret: str) -> str:
    """The token as it travels in URLs: ``<raw>.<signature>``."""
    return f"{raw}.{_signature(raw, secret)}"


def unsign_token(token: str, secret: str) -> str | None:
    """The raw part of a correctly signed token, else None (checked in constant time, before any lookup)."""
    if not token or len(token) > 200 or token.count(".") != 1:
        return None
    raw, signature = token.split(".")
    if not raw or not raw.isascii() or not signature.isascii():
        return None
    if not hmac.compare_digest(signature, _signature(raw, secret)):
        return None
    return raw


def token_digest(raw: str) -> str:
    """What the database stores: SHA-256 of the raw token, hex."""
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


class LinkState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


def link_state(*, expires_at: dt.datetime, revoked_at: dt.datetime | None, now: dt.datetime) -> LinkState:
    """Whether a link still opens the portal at ``now``."""
    if revoked_at is not None and revoked_at <= now:
        return LinkState.REVOKED
    if now >= expires_at:
        return LinkState.EXPIRED
    return LinkState.VALID


def expiry(*, now: dt.datetime, days: int) -> dt.datetime:
    """When a link created at ``now`` stops working."""
    if days < 1:
        raise ValueError("a portal link lives at least one day")
    return now + dt.timedelta(days=days)
