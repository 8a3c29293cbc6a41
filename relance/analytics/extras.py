"""Figures from other apps' records: amounts under promise (collections), insured and factored outstanding (risk).

The risk app may not be installed: each figure then is zero (``available`` says which were computed), so the
dashboard and the API keep their shape. Everything is a grouped SQL aggregate through the user's scope.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import Exists, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Least

from relance.core import clock, scope
from relance.core.money import from_db

from . import sql
from .sql import KpiFilters


@dataclass
class Extras:
    under_promise: dict[str, Decimal] = field(default_factory=dict)
    insured: dict[str, Decimal] = field(default_factory=dict)
    factored: dict[str, Decimal] = field(default_factory=dict)
    available: set[str] = field(default_factory=set)


def model(label: str) -> Any:
    """The model ``app.Model`` if its app is installed, else None."""
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _sums(rows: Any, key: str = "s") -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        out[r["currency"]] += from_db(r[key], r["currency"])
    return dict(out)


def open_promises(user: Any, f: KpiFilters, as_of: dt.date) -> Any:
    Promise = model("collections.Promise")
    if Promise is None:
        return None
    qs = scope.restrict(user, Promise.objects.all()).filter(f.customer_q()).order_by()
    if f.currency:
        qs = qs.filter(currency=f.currency.upper())
    return qs.filter(made_on__lte=as_of).filter(Q(status="open") | Q(resolved_on__gt=as_of))


def figures(user: Any, f: KpiFilters, as_of: dt.date) -> Extras:
    out = Extras()
    promises = open_promises(user, f, as_of)
    if promises is not None:
        out.under_promise = _sums(promises.values("currency").annotate(s=Sum("amount")))
        out.available.add("under_promise")

    Factored = model("risk.FactoredDocument")
    if Factored is not None:
        docs, o = sql.open_documents(sql.documents(user, f), as_of, clock.today())
        in_force = Factored.objects.filter(document=OuterRef("pk"), assigned_on__lte=as_of).filter(
            Q(released_on__isnull=True) | Q(released_on__gt=as_of)
        )
        out.factored = _sums(docs.filter(Exists(in_force)).values("currency").annotate(s=Sum(sql.signed(o))))
        out.available.add("factored")

    Cover = model("risk.CreditInsuranceCover")
    if Cover is not None:
        # per customer and currency: min(open balance, insured amount of the covers in force in that currency)
        covers = (
            Cover.objects.filter(customer=OuterRef("customer_id"), currency=OuterRef("currency"))
            .filter(valid_from__lte=as_of)
            .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=as_of))
            .order_by()
            .values("customer")
            .annotate(s=Sum("insured_amount"))
            .values("s")
        )
        docs, o = sql.open_documents(sql.documents(user, f), as_of, clock.today())
        per_customer = (
            docs.values("customer_id", "currency")
            .annotate(bal=Sum(sql.signed(o)), cover=Min(Coalesce(Subquery(covers, output_field=sql.AMOUNT), sql.ZERO)))
            .filter(bal__gt=0, cover__gt=0)
        )
        per_customer = per_customer.annotate(ins=Least("bal", "cover"))
        currencies = sorted(set(docs.values_list("currency", flat=True).distinct()))
        out.insured = {  # one aggregate over the per-customer aggregate for each currency (a few)
            c: from_db(per_customer.filter(currency=c).aggregate(t=Sum("ins"))["t"], c) for c in currencies
        }
        out.available.add("insured")
    return out
