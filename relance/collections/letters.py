"""What a formal notice claims besides the invoices: late-payment interest and recovery indemnities."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from relance.ledger.models import Customer, Document

from .models import DunningAction


def claims_for(action: DunningAction, customer: Customer, documents: list[Document], as_of: dt.date) -> dict[str, Any]:
    """Interest and indemnities to claim in this notice (recorded so they are never claimed twice)."""
    from . import interest

    lines = interest.claim(action=action, customer=customer, documents=documents, as_of=as_of)
    total_claims = sum((line["amount"] for line in lines), Decimal(0))
    invoices = sum((d.open_amount for d in documents), Decimal(0))
    return {"claims": lines, "claims_total": total_claims, "grand_total": invoices + total_claims}
