"""The webhook vocabulary (event types and their data) and the HTTP transport that posts deliveries.

Event type names are a public vocabulary: receivers branch on them. Add types, never rename one.
The ``data`` of an event is the object as the REST API shows it (amounts as decimal strings, dates
as ``YYYY-MM-DD``), so that a receiver can also fetch it again from ``/api/v1``.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlsplit

from relance.core.money import quantize

# --- event types ---------------------------------------------------------------------------------

DOCUMENT_CREATED = "document.created"
DOCUMENT_UPDATED = "document.updated"
DOCUMENT_OVERDUE = "document.overdue"
PAYMENT_RECEIVED = "payment.received"
PAYMENT_ALLOCATED = "payment.allocated"
CUSTOMER_RISK_CHANGED = "customer.risk_changed"
ALERT_CREATED = "alert.created"
PROMISE_BROKEN = "promise.broken"
DISPUTE_OPENED = "dispute.opened"

EVENT_TYPES: dict[str, str] = {
    DOCUMENT_CREATED: "An invoice or credit note was recorded. data: the document.",
    DOCUMENT_UPDATED: "An invoice or credit note changed (amount, dates, customer...). data: the document.",
    DOCUMENT_OVERDUE: "An open invoice passed its due date. data: the document.",
    PAYMENT_RECEIVED: "A payment was recorded. data: the payment.",
    PAYMENT_ALLOCATED: "A payment was applied to an invoice. data: the allocation, its payment and invoice.",
    CUSTOMER_RISK_CHANGED: "A customer's risk class changed. data: the customer, the old and new class.",
    ALERT_CREATED: "A monitoring alert was raised on a customer. data: the alert.",
    PROMISE_BROKEN: "A customer's promise to pay was not kept by its date. data: the promise.",
    DISPUTE_OPENED: "A customer disputed documents. data: the dispute.",
}


def register(name: str, description: str) -> None:
    """A later app declares a new event type (names are ``<object>.<past participle>``)."""
    EVENT_TYPES.setdefault(name, description)


# --- data of the events --------------------------------------------------------------------------


def _amount(value: Decimal, currency: str) -> str:
    return str(quantize(value, currency))


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def customer_ref(customer: Any) -> dict[str, Any] | None:
    if customer is None:
        return None
    return {"id": customer.pk, "reference": customer.reference, "name": customer.name}


def document_data(doc: Any) -> dict[str, Any]:
    """A document as GET /api/v1/documents/{id} shows it (without its allocations)."""
    return {
        "id": doc.pk,
        "company": doc.company.code,
        "customer": customer_ref(doc.customer),
        "number": doc.number,
        "type": doc.type,
        "issue_date": _date(doc.issue_date),
        "due_date": _date(doc.due_date),
        "currency": doc.currency,
        "amount": _amount(doc.amount, doc.currency),
        "tax_amount": _amount(doc.tax_amount, doc.currency),
        "open_amount": _amount(doc.open_amount, doc.currency),
        "status": "open" if doc.open_amount > 0 else "settled",
        "settled_on": _date(doc.settled_on),
        "corrects_id": doc.corrects_id,
        "source": doc.source,
    }


def payment_data(payment: Any) -> dict[str, Any]:
    """A payment as GET /api/v1/payments/{id} shows it (without its allocations)."""
    return {
        "id": payment.pk,
        "company": payment.company.code,
        "customer": customer_ref(payment.customer),
        "reference": payment.reference,
        "kind": payment.kind,
        "date": _date(payment.date),
        "currency": payment.currency,
        "amount": _amount(payment.amount, payment.currency),
        "unallocated_amount": _amount(payment.unallocated_amount, payment.currency),
        "method": payment.method,
        "source": payment.source,
    }


def allocation_data(allocation: Any) -> dict[str, Any]:
    """A payment applied to an invoice."""
    payment, target = allocation.payment, allocation.target
    return {
        "id": allocation.pk,
        "company": allocation.company.code,
        "customer": customer_ref(allocation.customer),
        "payment": {"id": payment.pk, "reference": payment.reference} if payment else None,
        "invoice": {"id": target.pk, "number": target.number, "type": target.type},
        "currency": allocation.currency,
        "amount": _amount(allocation.amount, allocation.currency),
        "date": _date(allocation.date),
        "invoice_open_amount": _amount(target.open_amount, target.currency),
        "payment_unallocated_amount": _amount(payment.unallocated_amount, payment.currency) if payment else None,
    }


# --- transport -----------------------------------------------------------------------------------

TIMEOUT_SECONDS = 10.0
USER_AGENT = "Relance-Webhooks/1"
SCHEMES = ("http", "https")


@dataclass(frozen=True)
class HttpAnswer:
    """What the receiver answered: a status and body, or no answer at all (``error``)."""

    status: int | None
    body: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Transport(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpAnswer: ...


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (3xx, a failure), not something to follow with a signed body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class UrllibTransport:
    """Posts with the standard library: one connection per attempt, no redirects, a timeout."""

    def __init__(self, read_limit: int = 64 * 1024) -> None:
        self.read_limit = read_limit
        self.opener = urllib.request.build_opener(_NoRedirects())

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpAnswer:
        if urlsplit(url).scheme not in SCHEMES:
            return HttpAnswer(None, error=f"unsupported URL scheme in {url!r}")
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return HttpAnswer(response.status, self._text(response))
        except urllib.error.HTTPError as exc:  # an answer, with a status that is not 2xx
            return HttpAnswer(exc.code, self._text(exc))
        except urllib.error.URLError as exc:
            return HttpAnswer(None, error=f"could not connect: {exc.reason}")
        except TimeoutError:
            return HttpAnswer(None, error=f"no answer within {timeout:g} seconds")
        except OSError as exc:
            return HttpAnswer(None, error=f"connection failed: {exc}")

    def _text(self, response: Any) -> str:
        try:
            raw = response.read(self.read_limit)
        except (OSError, TimeoutError):
            return ""
        return raw.decode("utf-8", errors="replace")


TRANSPORT: Transport = UrllibTransport()
