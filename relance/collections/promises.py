"""Promises to pay kept or broken, from the payments received (the daily job ``collections_promises``).

A promise is **kept** as soon as the customer's payments in its currency dated from the day it was made
reach its amount (less the tolerance), or when every document it covers is settled. It is **broken** when
its date plus :data:`GRACE_DAYS` (bank transfers take a day or two) has passed without that: the
``promise.broken`` webhook is emitted, an alert raised for the collector, and dunning resumes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from relance.core import audit
from relance.core.money import from_db
from relance.ledger.models import Payment

from . import services
from .models import Promise, PromiseStatus

GRACE_DAYS = 2
TOLERANCE = Decimal("5")
BROKEN_ALERT = "collections.promise_broken"


def _paid(promise: Promise, as_of: dt.date) -> Decimal:
    total = Payment.objects.filter(
        customer_id=promise.customer_id,
        currency=promise.currency,
        date__gte=promise.made_on,
        date__lte=as_of,
        returned_on__isnull=True,
    ).aggregate(t=Sum("amount"))["t"]
    return from_db(total, promise.currency)


def outcome(promise: Promise, as_of: dt.date) -> str:
    """kept, broken, or open (pure given the figures read here)."""
    docs = list(promise.documents.all())
    if docs and all(d.open_amount == 0 for d in docs):
        return PromiseStatus.KEPT
    if _paid(promise, as_of) >= promise.amount - TOLERANCE:
        return PromiseStatus.KEPT
    if as_of > promise.promised_for + dt.timedelta(days=GRACE_DAYS):
        return PromiseStatus.BROKEN
    return PromiseStatus.OPEN


def review(*, as_of: dt.date) -> dict[str, Any]:
    """Settle every open promise that is kept or broken on ``as_of``."""
    from relance.alerts import services as alerts

    counts: dict[str, int] = defaultdict(int)
    for promise in (
        Promise.objects.filter(status=PromiseStatus.OPEN, made_on__lte=as_of)
        .select_related("customer", "company")
        .prefetch_related("documents")
    ):
        result = outcome(promise, as_of)
        if result == PromiseStatus.KEPT:
            services.promise_keep(actor=audit.SYSTEM, promise=promise, as_of=as_of)
        elif result == PromiseStatus.BROKEN:
            services.promise_break(actor=audit.SYSTEM, promise=promise, as_of=as_of)
            alerts.alert_raise(
                kind=BROKEN_ALERT,
                company=promise.company,
                customer=promise.customer,
                key=str(promise.pk),
                title=f"Promise to pay {promise.amount} {promise.currency} by {promise.promised_for} broken",
                message="The promised payment was not received; reminders resume.",
                data={
                    "promise": promise.pk,
                    "amount": str(promise.amount),
                    "currency": promise.currency,
                    "promised_for": promise.promised_for.isoformat(),
                },
                as_of=as_of,
            )
        counts[result] += 1
    return {
        "kept": counts[PromiseStatus.KEPT],
        "broken": counts[PromiseStatus.BROKEN],
        "still_open": counts[PromiseStatus.OPEN],
    }
