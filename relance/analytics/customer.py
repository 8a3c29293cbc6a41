"""The analytics section of the customer 360 page, and the customer's statement of account, in the customer's own
currency (the currency most of its open items are in, else its company's)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext as _

from relance.core import clock
from relance.core.money import quantize
from relance.ledger import rates as fx
from relance.ledger import selectors as ledger
from relance.ledger.domain import DEFAULT_BUCKETS, bucket_for, days_overdue
from relance.ledger.models import Customer

from . import charts, domain, forecast, positions, report, selectors
from .exports import Export
from .sql import KpiFilters


def own_currency(user: Any, customer: Customer) -> str:
    rows = (
        ledger.documents(user, ledger.DocumentFilters(customer=customer.pk, status="open"))
        .order_by()
        .values("currency")
        .annotate(n=Count("pk"))
    )
    counts = Counter({r["currency"]: r["n"] for r in rows})
    return counts.most_common(1)[0][0] if counts else customer.company.currency


@dataclass
class CustomerPanel:
    currency: str
    data: dict[str, Any] | None
    behaviour_chart: Any = None
    forecast_chart: Any = None
    error: str = ""


def panel(user: Any, customer: Customer, *, as_of: dt.date | None = None) -> CustomerPanel:
    as_of = as_of or clock.today()
    currency = own_currency(user, customer)
    f = KpiFilters(customer=customer.pk)
    try:
        result = selectors.kpis(user, as_of=as_of, filters=f, currency=currency)
        fc = forecast.cash_forecast(user, as_of=as_of, filters=f, currency=currency)
    except fx.RateMissing as exc:
        return CustomerPanel(currency, None, error=exc.message)
    out = CustomerPanel(currency, report.as_json(result))
    # payment behaviour: amount-weighted days beyond terms of the cash applied each month, last 12 months
    first = domain.month_ends(as_of)[0].replace(day=1)
    per_month: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in positions.live_flows(user, f, first, as_of):
        month = r["day"].strftime("%m/%y")
        per_month[month][0] += r["beh"]
        per_month[month][1] += r["beh_late"]
    points = []
    for end in domain.month_ends(as_of):
        amount, late = per_month.get(end.strftime("%m/%y"), (Decimal(0), Decimal(0)))
        points.append(
            charts.Bar(
                end.strftime("%m/%y"),
                domain.ratio(late / amount) if amount > 0 else Decimal(0),
                f"{end.strftime('%m/%Y')}: "
                + (
                    _("%(days)s days beyond terms") % {"days": domain.ratio(late / amount)}
                    if amount > 0
                    else _("no payment")
                ),
                tone="warn",
            )
        )
    out.behaviour_chart = charts.bar_chart(
        points, label=_("Days beyond terms, by month paid"), testid="chart-behaviour"
    )
    out.forecast_chart = charts.bar_chart(
        [
            charts.Bar(
                a.strftime("%d/%m"), quantize(v, currency), f"{a} – {b}: {quantize(v, currency)} {currency}", tone="ok"
            )
            for a, b, v in fc.weeks
        ],
        label=_("Expected receipts, next 13 weeks"),
        testid="chart-customer-forecast",
    )
    return out


def statement(user: Any, customer: Customer, *, as_of: dt.date | None = None) -> Export:
    """Statement of account: every open item at ``as_of`` (credit notes and unapplied cash negative), its days
    overdue and aging bucket, in the customer's own currency (other currencies converted at ``as_of``'s rates),
    with a running balance."""
    as_of = as_of or clock.today()
    currency = own_currency(user, customer)
    conv = selectors.Converter(currency, as_of)
    docs = ledger.documents(user, ledger.DocumentFilters(customer=customer.pk, status="open")).order_by(
        "due_date", "number"
    )
    cash = ledger.payments(user, ledger.PaymentFilters(customer=customer.pk, unallocated=True)).order_by("date")
    headers = ["date", "due_date", "reference", "type", "currency", "open_amount", "amount_" + currency.lower(),
               "days_overdue", "bucket", "balance_" + currency.lower()]  # fmt: skip
    rows: list[list[Any]] = []
    balance = quantize(Decimal(0), currency)
    for d in docs:
        sign = -1 if d.type == "credit_note" else 1
        amount = conv.one(sign * d.open_amount, d.currency)
        balance += amount
        late = days_overdue(d.due_date, as_of) if sign > 0 else 0
        bucket = bucket_for(d.due_date, as_of, DEFAULT_BUCKETS).name
        rows.append([d.issue_date, d.due_date, d.number, d.type, d.currency, sign * d.open_amount, amount, late, bucket,
                     balance])  # fmt: skip
    for p in cash:
        amount = conv.one(-p.unallocated_amount, p.currency)
        balance += amount
        rows.append([p.date, None, p.reference, p.kind, p.currency, -p.unallocated_amount, amount, 0, "", balance])
    return Export(f"statement-{customer.reference}", headers, rows)
