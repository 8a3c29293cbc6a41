"""Pure portal rules: link tokens (random, signed, stored as a digest), link validity, RF references for a
selection of invoices, and the EPC QR payload. No ORM, no clock: callers pass ``now``/``as_of``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from relance.cashapp.domain import creditor_reference
from relance.core.money import Money

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


# --- payment selections: one RF reference names a set of invoices -------------------------------------------


def selection_key(document_ids: Iterable[int]) -> str:
    """One key per set of documents, whatever the order they were ticked in."""
    ids = sorted(set(int(i) for i in document_ids))
    if not ids:
        raise ValueError("a selection names at least one document")
    return hashlib.sha256(",".join(map(str, ids)).encode("ascii")).hexdigest()


def selection_reference(selection_id: int) -> str:
    """The ISO 11649 structured creditor reference of a selection (``RFkkS<id>``); cash application reads it
    back as "these invoices" (cashapp.domain.read_creditor_reference)."""
    return creditor_reference("S", selection_id)


@dataclass(frozen=True)
class Item:
    id: int
    number: str
    due_date: dt.date
    open_amount: Decimal


def allocation_plan(items: Sequence[Item], amount: Decimal) -> list[tuple[int, Decimal]]:
    """How a payment of ``amount`` settles the selected items: oldest due date first, each up to its open amount;
    what is left over stays unallocated on the customer's account."""
    left = amount
    plan: list[tuple[int, Decimal]] = []
    for item in sorted(items, key=lambda i: (i.due_date, i.number, i.id)):
        if left <= 0:
            break
        share = min(left, item.open_amount)
        if share > 0:
            plan.append((item.id, share))
            left -= share
    return plan


# --- EPC QR code (SEPA credit transfer, "Girocode") ------------------------------------------------------------

EPC_CURRENCY = "EUR"
EPC_MAX_AMOUNT = Decimal("999999999.99")


@dataclass(frozen=True)
class EpcTransfer:
    """What an EPC QR code (EPC069-12, version 002) carries: beneficiary, account, amount, RF reference."""

    name: str
    iban: str
    bic: str
    amount: Decimal
    reference: str

    def payload(self) -> str:
        """The QR text, one field a line: service tag, version 002, character set (2 = ISO 8859-1 when the name
        fits it, else 1 = UTF-8), SEPA credit transfer, BIC, name, IBAN, amount, no purpose, the RF reference."""
        amount = f"EUR{self.amount:.2f}".rstrip("0").rstrip(".")
        try:
            self.name.encode("iso-8859-1")
            charset = "2"
        except UnicodeEncodeError:
            charset = "1"
        return "\n".join(["BCD", "002", charset, "SCT", self.bic, self.name, self.iban, amount, "", self.reference])

    def qr_kwargs(self) -> dict[str, object]:
        """Arguments of ``segno.helpers.make_epc_qr`` for this transfer."""
        return {"name": self.name, "iban": self.iban, "amount": self.amount, "reference": self.reference,
                "bic": self.bic or None}  # fmt: skip


def epc_transfer(*, name: str, iban: str, bic: str, amount: Money, reference: str) -> EpcTransfer | None:
    """The QR code's content for paying ``amount`` by SEPA transfer, or None when a QR code cannot carry it
    (the EPC standard is for euros only, between 0.01 and 999,999,999.99)."""
    if amount.currency != EPC_CURRENCY or not (Decimal("0.01") <= amount.amount <= EPC_MAX_AMOUNT):
        return None
    if not iban:
        return None
    return EpcTransfer(
        name=name.strip()[:70],
        iban=iban.replace(" ", "").upper(),
        bic=bic.replace(" ", "").upper(),
        amount=amount.amount.quantize(Decimal("0.01")),
        reference=reference,
    )


# --- provider webhooks: HMAC-SHA256 over "<timestamp>.<body>" -------------------------------------------------

WEBHOOK_TOLERANCE_SECONDS = 300


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The header value a provider sends: ``t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def webhook_verified(*, secret: str, header: str, body: bytes, now: dt.datetime,
                     tolerance: int = WEBHOOK_TOLERANCE_SECONDS) -> bool:  # fmt: skip
    """Whether ``header`` signs ``body`` with ``secret`` and was made within ``tolerance`` seconds of ``now``
    (a replay of an old signed request is refused even with a valid signature)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now.timestamp() - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body).split("v1=", 1)[1]
    return hmac.compare_digest(parts.get("v1", ""), expected)


# --- uploads: the content decides the type, never the file name -----------------------------------------------

UPLOAD_TYPES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
UPLOAD_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


def sniff_upload(head: bytes) -> str | None:
    """The MIME type of an attachment from its first bytes (PDF, PNG or JPEG), else None."""
    for mime, signatures in UPLOAD_TYPES.items():
        if any(head.startswith(sig) for sig in signatures):
            return mime
    return None
