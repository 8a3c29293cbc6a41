"""Small ledgers for the ML tests, written in bulk (documents settled on a given day, no allocations needed)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from relance.ledger.models import Document


def invoices(customer, rows, prefix="I") -> list[Document]:
    """rows: (issue_date, terms, delay or None for open, amount str). Settled ones have open_amount 0."""
    docs = []
    for i, (issue, terms, delay, amount) in enumerate(rows):
        due = issue + dt.timedelta(days=terms)
        docs.append(
            Document(
                company=customer.company,
                customer=customer,
                number=f"{prefix}{customer.pk}-{i:05d}",
                issue_date=issue,
                due_date=due,
                currency="EUR",
                amount=Decimal(amount),
                tax_amount=Decimal("0"),
                open_amount=Decimal("0") if delay is not None else Decimal(amount),
                settled_on=None if delay is None else due + dt.timedelta(days=delay),
            )
        )
    return Document.objects.bulk_create(docs)


def monthly(start: dt.date, count: int, delays, terms: int = 30, amount: str = "1000.00"):
    """``count`` invoices two weeks apart from ``start``; ``delays(i)`` gives each one's delay (None: open)."""
    return [(start + dt.timedelta(days=14 * i), terms, delays(i), amount) for i in range(count)]
