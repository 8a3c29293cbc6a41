"""Writes of the analytics app: the customer payment-behaviour summary (one transaction, derived data only)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, Sum

from relance.ledger.models import Allocation

from . import domain, sql
from .models import CustomerBehaviour


def behaviour_rows(as_of: dt.date, customer_ids: list[int] | None = None) -> dict[int, tuple[int, int, int]]:
    """customer id → (mean delay, mean days to pay, allocations) from live cash allocations of the 365 days up to
    ``as_of``, weighted by amount (one grouped query)."""
    first = as_of - dt.timedelta(days=domain.BEHAVIOUR_DAYS - 1)
    qs = Allocation.objects.filter(
        payment__isnull=False, reverses__isnull=True, date__gte=first, date__lte=as_of
    ).exclude(reversed_by__date__lte=as_of)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=customer_ids)
    rows = (
        qs.order_by()
        .values("customer_id")
        .annotate(
            a=Sum("amount"),
            late=Sum(F("amount") * sql.DaysBetween(F("date"), F("target__due_date")), output_field=sql.AMOUNT),
            pay=Sum(F("amount") * sql.DaysBetween(F("date"), F("target__issue_date")), output_field=sql.AMOUNT),
            n=Count("pk", filter=Q(amount__gt=0)),
        )
    )
    out = {}
    for r in rows:
        a = _dec(r["a"])
        if a > 0:
            out[r["customer_id"]] = (_days(_dec(r["late"]) / a), _days(_dec(r["pay"]) / a), r["n"])
    return out


def _dec(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value or 0)


def _days(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@transaction.atomic
def behaviour_refresh(*, actor: Any, as_of: dt.date) -> dict[str, int]:
    """Recompute every customer's behaviour at ``as_of`` (idempotent: the same date gives the same rows)."""
    rows = behaviour_rows(as_of)
    CustomerBehaviour.objects.all().delete()
    CustomerBehaviour.objects.bulk_create(
        [
            CustomerBehaviour(customer_id=cid, as_of=as_of, delay_days=late, days_to_pay=pay, payments=n)
            for cid, (late, pay, n) in rows.items()
        ],
        batch_size=2000,
    )
    # a derived summary, like the ledger's stored open amounts: no audit row (nothing a user decided changed)
    return {"customers": len(rows)}
