"""Aggregates for the staff pages, as thin calls over the ledger selectors.

Every function starts from a scoped queryset (``relance.ledger.selectors``), so the figures
never include what the user may not see. Sums leave through ``money.from_db`` (SQLite returns
floats); amounts are kept per currency and never added across currencies.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Min, Q, QuerySet, Sum

from relance.core import scope
from relance.core.money import from_db
from relance.core.vocab import DocumentType
from relance.ledger import domain, selectors
from relance.orgs.models import Company

INVOICE = Q(type=DocumentType.INVOICE)
CREDIT_NOTE = Q(type=DocumentType.CREDIT_NOTE)


def _overdue(as_of: dt.date) -> Q:
    return Q(type=DocumentType.INVOICE, due_date__lt=as_of)


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole) if whole > 0 else None


@dataclass(frozen=True)
class Totals:
    """Open receivables of a set of customers in one currency."""

    currency: str
    invoices_open: Decimal
    credit_notes_open: Decimal
    overdue: Decimal
    overdue_invoices: int
    customers_open: int
    customers_overdue: int
    unallocated_cash: Decimal = Decimal(0)
    label: str = ""  # the group the row stands for (company, agency...), if any
    key: str = ""

    @property
    def open(self) -> Decimal:
        """Open invoices less open credit notes."""
        return self.invoices_open - self.credit_notes_open

    @property
    def overdue_ratio(self) -> Decimal | None:
        return _ratio(self.overdue, self.invoices_open)


def _open_documents(user: Any) -> QuerySet:
    return selectors.documents(user, selectors.DocumentFilters(status="open")).order_by()


def _aggregates(as_of: dt.date) -> dict[str, Any]:
    overdue = _overdue(as_of)
    return {
        "inv": Sum("open_amount", filter=INVOICE),
        "cn": Sum("open_amount", filter=CREDIT_NOTE),
        "od": Sum("open_amount", filter=overdue),
        "od_count": Count("pk", filter=overdue),
        "cust": Count("customer_id", distinct=True),
        "od_cust": Count("customer_id", distinct=True, filter=overdue),
    }


def _totals(row: dict[str, Any], cash: Decimal | None = None, *, label: str = "", key: str = "") -> Totals:
    c = row["currency"]
    return Totals(
        currency=c,
        invoices_open=from_db(row["inv"], c),
        credit_notes_open=from_db(row["cn"], c),
        overdue=from_db(row["od"], c),
        overdue_invoices=row["od_count"],
        customers_open=row["cust"],
        customers_overdue=row["od_cust"],
        unallocated_cash=cash if cash is not None else from_db(0, c),
        label=label,
        key=key,
    )


def _unallocated_cash(user: Any, *group_by: str) -> dict[tuple, Decimal]:
    rows = (
        selectors.payments(user, selectors.PaymentFilters(unallocated=True))
        .order_by()
        .values(*group_by, "currency")
        .annotate(s=Sum("unallocated_amount"))
    )
    return {(*(r[g] for g in group_by), r["currency"]): from_db(r["s"], r["currency"]) for r in rows}


def scope_totals(user: Any, *, as_of: dt.date) -> list[Totals]:
    """Per currency, everything the user may see: open, overdue, counts, unallocated cash."""
    rows = _open_documents(user).values("currency").annotate(**_aggregates(as_of)).order_by("currency")
    cash = _unallocated_cash(user)
    out = [_totals(r, cash.pop((r["currency"],), None)) for r in rows]
    for (currency,), amount in sorted(cash.items()):
        zero = from_db(0, currency)
        out.append(Totals(currency, zero, zero, zero, 0, 0, 0, amount))
    return sorted(out, key=lambda t: t.currency)


def totals_by(user: Any, *, as_of: dt.date, by: str) -> list[Totals]:
    """Per company (``by="company"``) or agency (``by="agency"``) and currency."""
    if by == "company":
        key, label = "company__code", "company__name"
        cash_key = "company__code"
    elif by == "agency":
        key, label = "customer__agency__code", "customer__agency__name"
        cash_key = "customer__agency__code"
    else:
        raise ValueError(by)
    rows = _open_documents(user).values(key, label, "currency").annotate(**_aggregates(as_of)).order_by(key, "currency")
    cash = _unallocated_cash(user, cash_key)
    return [_totals(r, cash.get((r[key], r["currency"])), label=r[label] or "", key=r[key] or "") for r in rows]


def currencies(user: Any) -> list[str]:
    """Currencies worth offering in a filter: the base currencies of the visible companies and those of open items.

    Open items only, so the query stays on the partial index of open documents however long the history.
    """
    base = scope.restrict(user, Company.objects.all()).order_by().values_list("currency", flat=True).distinct()
    used = _open_documents(user).values_list("currency", flat=True).distinct()
    return sorted(set(base) | set(used))


def customer_count(user: Any, *, overdue_at: dt.date | None = None) -> int:
    """Customers the user may see; with ``overdue_at``, only those with an invoice overdue at that date."""
    if overdue_at is None:
        return selectors.customers(user).count()
    return selectors.customers(user, selectors.CustomerFilters(overdue=True), as_of=overdue_at).count()


@dataclass(frozen=True)
class OverdueCustomer:
    """One customer's overdue invoices in one currency."""

    customer_id: int
    reference: str
    name: str
    company: str
    currency: str
    overdue: Decimal
    invoices: int
    oldest_due: dt.date
    days_overdue: int


def overdue_customers(user: Any, *, as_of: dt.date, limit: int | None = 20) -> list[OverdueCustomer]:
    """Customers with overdue invoices, largest overdue amount first (amounts compared within a currency row)."""
    qs = (
        selectors.documents(user, selectors.DocumentFilters(overdue=True), as_of=as_of)
        .order_by()
        .values("customer_id", "customer__reference", "customer__name", "company__code", "currency")
        .annotate(od=Sum("open_amount"), n=Count("pk"), oldest=Min("due_date"))
        .order_by("-od", "customer__reference")
    )
    if limit is not None:
        qs = qs[:limit]
    return [
        OverdueCustomer(
            customer_id=r["customer_id"],
            reference=r["customer__reference"],
            name=r["customer__name"],
            company=r["company__code"],
            currency=r["currency"],
            overdue=from_db(r["od"], r["currency"]),
            invoices=r["n"],
            oldest_due=r["oldest"],
            days_overdue=domain.days_overdue(r["oldest"], as_of),
        )
        for r in qs
    ]


@dataclass(frozen=True)
class CustomerFigures:
    """Open balance (invoices − credit notes − unallocated cash) and overdue of one customer in one currency."""

    currency: str
    balance: Decimal
    overdue: Decimal


@dataclass(frozen=True)
class CustomerSummary:
    """What a list row shows of a customer's account: figures per currency and the oldest overdue invoice."""

    figures: tuple[CustomerFigures, ...] = ()
    days_overdue: int = 0  # of the oldest overdue invoice, in any currency


def customer_figures(user: Any, customer_ids: Iterable[int], *, as_of: dt.date) -> dict[int, CustomerSummary]:
    """For the customers of a page: figures per currency and days overdue (two grouped queries)."""
    ids = list(customer_ids)
    if not ids:
        return {}
    overdue = _overdue(as_of)
    docs = (
        _open_documents(user)
        .filter(customer_id__in=ids)
        .values("customer_id", "currency")
        .annotate(
            inv=Sum("open_amount", filter=INVOICE),
            cn=Sum("open_amount", filter=CREDIT_NOTE),
            od=Sum("open_amount", filter=overdue),
            oldest=Min("due_date", filter=overdue),
        )
    )
    cash = (
        selectors.payments(user, selectors.PaymentFilters(unallocated=True))
        .filter(customer_id__in=ids)
        .order_by()
        .values("customer_id", "currency")
        .annotate(s=Sum("unallocated_amount"))
    )
    amounts: dict[int, dict[str, list[Decimal]]] = defaultdict(dict)
    days: dict[int, int] = defaultdict(int)
    for r in docs:
        c, cid = r["currency"], r["customer_id"]
        amounts[cid][c] = [from_db(r["inv"], c) - from_db(r["cn"], c), from_db(r["od"], c)]
        if r["oldest"] is not None:
            days[cid] = max(days[cid], domain.days_overdue(r["oldest"], as_of))
    for r in cash:
        c = r["currency"]
        entry = amounts[r["customer_id"]].setdefault(c, [from_db(0, c), from_db(0, c)])
        entry[0] -= from_db(r["s"], c)
    return {
        cid: CustomerSummary(
            tuple(CustomerFigures(c, bal, od) for c, (bal, od) in sorted(per.items())), days.get(cid, 0)
        )
        for cid, per in amounts.items()
    }
