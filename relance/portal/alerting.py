"""What the collector sees of portal actions: an alert each (kind ``portal.*``, one per action)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from relance.ledger.models import Customer

PAYMENT_ALERT = "portal.payment"
PROMISE_ALERT = "portal.promise"
DISPUTE_ALERT = "portal.dispute"
CONTACT_ALERT = "portal.contact"


def alert(
    *, kind: str, customer: Customer, key: str, title: str, message: str = "", data: dict[str, Any], as_of: dt.date
) -> None:
    """Raise the alert (idempotent per key) for the customer's collector."""
    from relance.alerts.services import alert_raise

    alert_raise(
        kind=kind,
        company=customer.company,
        customer=customer,
        key=key,
        title=title[:200],
        message=message,
        data={**data, "source": "portal"},
        as_of=as_of,
    )
