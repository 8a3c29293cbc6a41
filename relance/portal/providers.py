"""Online payment providers behind one small interface, and the built-in test provider.

A provider creates a *session* for an amount (we redirect the customer to its page) and later tells us the
outcome through a *signed webhook* to ``/p/webhooks/<provider>/``. ``docs/portal.md`` has the recipe for a real
provider (Stripe Checkout, Mollie, GoCardless…): implement :class:`PaymentProvider` and register it.

The test provider is a complete stand-in: its hosted page (``/p/test-provider/``) is reached by redirect with
signed parameters, and its "pay" and "fail" buttons send an HMAC-signed webhook to our endpoint over HTTP,
exactly as a real provider would, then send the customer back to the return URL.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.core import signing
from django.urls import reverse

from relance.core.money import Money

from . import domain

PAID, FAILED = "paid", "failed"
SIGNATURE_HEADER = "X-Relance-Signature"


class InvalidWebhook(Exception):
    """A webhook whose signature, age or content cannot be trusted: refused, nothing changes."""


@dataclass(frozen=True)
class CreatedSession:
    provider_ref: str
    redirect_url: str


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    provider_ref: str
    status: str  # PAID or FAILED
    amount: Money


class PaymentProvider(Protocol):
    name: str

    def create_session(
        self, *, amount: Money, reference: str, description: str, return_url: str, webhook_url: str
    ) -> CreatedSession:
        """Open a payment for ``amount``; the customer is sent to ``redirect_url``."""
        ...

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], now: dt.datetime) -> WebhookEvent:
        """The verified event of a webhook request; raises :class:`InvalidWebhook` when it cannot be trusted."""
        ...


# --- the built-in test provider ----------------------------------------------------------------------------------

Transport = Callable[[str, bytes, dict[str, str]], int]  # (url, body, headers) -> HTTP status


def http_transport(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST over HTTP, as a real provider's servers would."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _webhook_secret() -> str:
    return str(getattr(settings, "RELANCE_PORTAL_WEBHOOK_SECRET", "") or settings.SECRET_KEY + ":portal-webhooks")


class TestProvider:
    """A provider that lives inside Relance: hosted page, redirect back, HMAC-signed webhook."""

    name = "test"
    _SALT = "relance.portal.test-provider"

    def __init__(self, transport: Transport | None = None, secret: str | None = None) -> None:
        self.transport = transport or http_transport
        self.secret = secret or _webhook_secret()

    # what our server calls
    def create_session(
        self, *, amount: Money, reference: str, description: str, return_url: str, webhook_url: str
    ) -> CreatedSession:
        ref = "tp_" + secrets.token_hex(12)
        state = {
            "ref": ref,
            "amount": str(amount.amount),
            "currency": amount.currency,
            "reference": reference,
            "description": description[:200],
            "return": return_url,
            "webhook": webhook_url,
        }
        blob = signing.dumps(state, salt=self._SALT, compress=True)
        base = str(getattr(settings, "RELANCE_BASE_URL", "")).rstrip("/")
        url = base + reverse("portal:test_provider") + "?" + urllib.parse.urlencode({"s": blob})
        return CreatedSession(provider_ref=ref, redirect_url=url)

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], now: dt.datetime) -> WebhookEvent:
        header = headers.get(SIGNATURE_HEADER, "")
        if not domain.webhook_verified(secret=self.secret, header=header, body=body, now=now):
            raise InvalidWebhook("bad or stale signature")
        try:
            data = json.loads(body)
            status = data["status"]
            if status not in (PAID, FAILED):
                raise ValueError(status)
            amount = Money(Decimal(str(data["amount"])), str(data["currency"]))
            return WebhookEvent(event_id=str(data["id"]), provider_ref=str(data["session"]), status=status,
                                amount=amount)  # fmt: skip
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise InvalidWebhook(f"unreadable event: {exc}")

    # what the provider's own pages do
    def read_state(self, blob: str) -> dict[str, str] | None:
        """The session behind the hosted page's signed parameter, or None when it was tampered with."""
        try:
            return signing.loads(blob, salt=self._SALT, max_age=24 * 3600)
        except signing.BadSignature:
            return None

    def signed_event(self, state: Mapping[str, str], status: str, *, now: dt.datetime) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {
                "id": "evt_" + secrets.token_hex(8),
                "session": state["ref"],
                "status": status,
                "amount": state["amount"],
                "currency": state["currency"],
            }
        ).encode("utf-8")
        header = domain.webhook_signature(secret=self.secret, timestamp=int(now.timestamp()), body=body)
        return body, {"Content-Type": "application/json", SIGNATURE_HEADER: header}

    def complete(self, state: Mapping[str, str], status: str, *, now: dt.datetime) -> int:
        """The customer pressed "pay" (or "fail") on the hosted page: tell the merchant's webhook endpoint."""
        body, headers = self.signed_event(state, status, now=now)
        return self.transport(state["webhook"], body, headers)


_PROVIDERS: dict[str, Callable[[], PaymentProvider]] = {"test": TestProvider}


def register(name: str, factory: Callable[[], PaymentProvider]) -> None:
    """Make a provider available under ``name`` (select it with RELANCE_PORTAL_PROVIDER)."""
    _PROVIDERS[name] = factory


def get(name: str | None = None) -> PaymentProvider:
    name = name or str(getattr(settings, "RELANCE_PORTAL_PROVIDER", "test") or "")
    if name not in _PROVIDERS:
        raise LookupError(f"Unknown payment provider {name!r}; known: {', '.join(sorted(_PROVIDERS))}.")
    return _PROVIDERS[name]()


def enabled() -> bool:
    """Whether online payment is offered (RELANCE_PORTAL_PROVIDER set to a known provider)."""
    name = str(getattr(settings, "RELANCE_PORTAL_PROVIDER", "") or "")
    return name in _PROVIDERS
