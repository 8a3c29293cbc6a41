"""Aged balance by customer and currency, as one SQL aggregate over the scoped open documents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Case, DecimalField, F, Q, Sum, Value, When

from relance.core.money import from_db
from relance.core.vocab import DocumentType
from relance.ledger import selectors
from relance.ledger.domain import DEFAULT_BUCKETS, Bucket

AMOUNT = DecimalField(max_digits=18, decimal_places=3)


@dataclass(frozen=True)
class AgedRow:
    company: str
    customer_id: int
    customer_ref: str
    customer_name: str
    currency: str
    buckets: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), Decimal(0))

    @property
    def overdue(self) -> Decimal:
        return sum((v for k, v in self.buckets.items() if k != "not_due"), Decimal(0))


def _bucket_q(bucket: Bucket, as_of: dt.date) -> Q:
    """Documents whose days past due at ``as_of`` fall in ``bucket`` (due_date = as_of - days)."""
    q = Q()
    if bucket.min_days is not None:
        q &= Q(due_date__lte=as_of - dt.timedelta(days=bucket.min_days))
    if bucket.max_days is not None:
        q &= Q(due_date__gte=as_of - dt.timedelta(days=bucket.max_days))
    return q


def aged_balance(
    user: Any,
    *,
    as_of: dt.date,
    buckets: Sequence[Bucket] = DEFAULT_BUCKETS,
    filters: selectors.DocumentFilters | None = None,
) -> Iterator[AgedRow]:
    """Open items of the user's scope at today's open amounts, by customer and currency, in buckets.

    Credit notes count negative, in the bucket of their own due date. One query; figures are exact
    Decimals (SQLite's float sums are quantized to the currency's minor unit).
    """
    signed = Case(
        When(type=DocumentType.CREDIT_NOTE, then=-F("open_amount")), default=F("open_amount"), output_field=AMOUNT
    )
    sums = {
        f"b{i}": Sum(Case(When(_bucket_q(b, as_of), then=signed), default=Value(0), output_field=AMOUNT))
        for i, b in enumerate(buckets)
    }
    rows = (
        selectors.documents(user, filters)
        .filter(open_amount__gt=0)
        .values("company__code", "customer_id", "customer__reference", "customer__name", "currency")
        .annotate(**sums)
        .order_by("company__code", "customer__reference", "currency")
    )
    for r in rows:
        cur = r["currency"]
        yield AgedRow(
            r["company__code"],
            r["customer_id"],
            r["customer__reference"],
            r["customer__name"],
            cur,
            {b.name: from_db(r[f"b{i}"], cur) for i, b in enumerate(buckets)},
        )
