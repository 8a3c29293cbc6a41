"""What the home dashboard shows, for a user, a date and filters: KPIs, charts with drill-down links, tables.

Only reads (selectors) and presentation (chart bars, links); the view renders it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Case, Count, Min, Sum, When
from django.urls import reverse
from django.utils.translation import gettext as _

from relance.core import clock
from relance.core.money import from_db, quantize
from relance.ledger import selectors as selectors_ledger
from relance.ledger.domain import DEFAULT_BUCKETS, Bucket, days_overdue
from relance.ledger.models import Customer
from relance.orgs.models import Agency, Company
from relance.web.queries import OverdueCustomer, Totals

from . import charts, forecast, positions, report, selectors, sql, summaries
from .aging import _bucket_q
from .forecast_domain import Forecast
from .sql import KpiFilters

TOP_CUSTOMERS = 20
RISK_TONES = {"A": "ok", "B": "ok", "C": "warn", "D": "danger", "E": "danger", "X": "danger", "": "muted"}


def document_url(f: KpiFilters, **extra: Any) -> str:
    """The document list filtered like the dashboard (company, agency, collector, risk class, currency)."""
    params = {
        "company": f.company,
        "agency": f.agency,
        "collector": f.collector or "",
        "risk_class": f.risk_class,
        "currency": f.currency,
        **extra,
    }
    return f"{reverse('web:document_list')}?{urlencode({k: v for k, v in params.items() if v not in ('', None)})}"


def customer_url(f: KpiFilters, **extra: Any) -> str:
    params = {
        "company": f.company,
        "agency": f.agency,
        "collector": f.collector or "",
        "risk_class": f.risk_class,
        "currency": f.currency,
        **extra,
    }
    return f"{reverse('web:customer_list')}?{urlencode({k: v for k, v in params.items() if v not in ('', None)})}"


@dataclass(frozen=True)
class CustomerAging:
    customer_id: int
    reference: str
    name: str
    company: str
    currency: str  # of the amounts below (the presentation currency)
    buckets: list[Decimal]
    total: Decimal


def aged_by_customer(
    user: Any,
    *,
    as_of: dt.date,
    filters: KpiFilters,
    currency: str,
    buckets: Sequence[Bucket] = DEFAULT_BUCKETS,
    limit: int | None = TOP_CUSTOMERS,
) -> list[CustomerAging]:
    """Aged balance by customer in ``currency`` (each customer's currencies converted at ``as_of``).

    With ``limit``, the customers with the largest balances (ranked in SQL on their raw sums, so across
    currencies the ranking is approximate; the amounts shown are exact).
    """
    if tuple(buckets) == tuple(positions.BUCKETS) and summaries.fresh(summaries.POSITION, as_of):
        return _stored_aged(user, as_of=as_of, filters=filters, currency=currency, limit=limit)
    qs, o = sql.open_documents(sql.documents(user, filters), as_of, clock.today())
    s = sql.signed(o)
    aggs = {
        f"b{i}": Sum(Case(When(_bucket_q(b, as_of), then=s), default=sql.ZERO, output_field=sql.AMOUNT))
        for i, b in enumerate(buckets)
    }
    rows = qs.values("customer_id").annotate(t=Sum(s)).order_by("-t", "customer_id")
    if limit is not None:
        rows = rows[:limit]
    ids = [r["customer_id"] for r in rows]
    detail = (
        qs.filter(customer_id__in=ids)
        .values("customer_id", "customer__reference", "customer__name", "company__code", "currency")
        .annotate(**aggs)
        .order_by()
    )
    conv = selectors.Converter(currency, as_of)
    acc: dict[int, dict[str, Any]] = {}
    for r in detail:
        row = acc.setdefault(
            r["customer_id"],
            {"ref": r["customer__reference"], "name": r["customer__name"], "co": r["company__code"],
             "b": [Decimal(0)] * len(buckets)},
        )  # fmt: skip
        for i in range(len(buckets)):
            row["b"][i] += conv.one(from_db(r[f"b{i}"], r["currency"]), r["currency"])
    out = [
        CustomerAging(cid, a["ref"], a["name"], a["co"], currency, a["b"], sum(a["b"], Decimal(0)))
        for cid, a in acc.items()
    ]
    return sorted(out, key=lambda c: (-c.total, c.reference))


def _stored_aged(
    user: Any, *, as_of: dt.date, filters: KpiFilters, currency: str, limit: int | None
) -> list[CustomerAging]:
    qs = positions.stored_customers(user, filters, as_of)
    ranked = qs.values("customer_id").annotate(t=Sum("total")).order_by("-t", "customer_id")
    if limit is not None:
        ranked = ranked[:limit]
        qs = qs.filter(customer_id__in=[r["customer_id"] for r in ranked])
    conv = selectors.Converter(currency, as_of)
    acc: dict[int, dict[str, Any]] = {}
    names = {
        c["pk"]: c
        for c in Customer.objects.filter(pk__in=qs.values("customer_id")).values(
            "pk", "reference", "name", "company__code"
        )
    }
    for r in qs.values("customer_id", "currency", *(f"b{i}" for i in range(6))):
        n = names[r["customer_id"]]
        row = acc.setdefault(
            r["customer_id"],
            {"ref": n["reference"], "name": n["name"], "co": n["company__code"], "b": [Decimal(0)] * 6},
        )
        for i in range(6):
            row["b"][i] += conv.one(from_db(r[f"b{i}"], r["currency"]), r["currency"])
    out = [
        CustomerAging(cid, a["ref"], a["name"], a["co"], currency, a["b"], sum(a["b"], Decimal(0)))
        for cid, a in acc.items()
    ]
    return sorted(out, key=lambda c: (-c.total, c.reference))


@dataclass
class Dashboard:
    as_of: dt.date
    filters: KpiFilters
    result: selectors.KpiResult
    data: dict[str, Any]
    forecast: Forecast | None
    customers: list[CustomerAging]
    charts: dict[str, Any] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return self.result.kpis.currency


def build(user: Any, params: report.Params, *, with_risk: bool = True) -> Dashboard:
    f, as_of = params.filters, params.as_of
    currency = params.currency or (f.currency or None)
    result = selectors.kpis(user, as_of=as_of, filters=f, currency=currency, trend=True)
    k = result.kpis
    live = as_of >= clock.today()
    # the forecast and the per-customer table are today's: a past date shows its KPIs and charts (from the
    # summaries), its forecast is replayed by `relance forecast-backtest` and its customers are in the export
    fc = forecast.cash_forecast(user, as_of=as_of, filters=f, currency=k.currency) if live else None
    customers = aged_by_customer(user, as_of=as_of, filters=f, currency=k.currency) if live else []
    board = Dashboard(as_of, f, result, report.as_json(result), fc, customers)
    # drill-down targets: the lists show today's open items, so links are offered for today's dashboard only
    board.links = (
        {
            "total": document_url(f, status="open"),
            "overdue": document_url(f, overdue="on", sort="due_date"),
            "not_due": document_url(f, status="open", days_max=0),
            "disputed": document_url(f, status="open", disputed="on"),
            "at_risk": customer_url(f, overdue="on", sort="oldest_overdue"),
            "customers": customer_url(f),
            "cash": reverse("web:cash_queue"),
        }
        if live
        else {}
    )
    bars = []
    for line in k.aging:
        href = ""
        if live:
            extra: dict[str, Any] = {"status": "open", "sort": "due_date"}
            if line.min_days is not None:
                extra["days_min"] = line.min_days
            if line.max_days is not None:
                extra["days_max"] = line.max_days
            href = document_url(f, **extra)
        tone = (
            "ok"
            if line.max_days is not None and line.max_days <= 0
            else "warn"
            if (line.max_days or 999) <= 60
            else "danger"
        )
        label = _("not due") if line.bucket == "not_due" else line.bucket
        bars.append(charts.Bar(label, line.amount, f"{label}: {line.amount} {k.currency}", href, tone))
    board.charts["aging"] = charts.bar_chart(bars, label=_("Aged balance"), testid="chart-aging")
    board.charts["trend"] = charts.line_chart(
        [(m.strftime("%m/%y"), dso) for m, dso, _r in result.trend or []],
        label=_("DSO (standard), month ends"),
        testid="chart-dso",
    )
    if fc is not None:
        board.charts["forecast"] = charts.bar_chart(
            [
                charts.Bar(
                    a.strftime("%d/%m"),
                    v.quantize(Decimal("1")),
                    f"{a.isoformat()} – {b.isoformat()}: {v.quantize(Decimal('0.01'))} {k.currency}",
                    document_url(f, status="open", type="invoice", sort="due_date") if live else "",
                    "ok",
                )
                for a, b, v in fc.weeks
            ],
            label=_("Expected receipts, next 13 weeks"),
            testid="chart-forecast",
        )
    if with_risk:
        board.charts["risk"] = charts.bar_chart(
            [
                charts.Bar(
                    cls or "–",
                    amount,
                    f"{cls or _('no class')}: {amount} {k.currency}",
                    customer_url(f, risk_class=cls or "-") if live else "",
                    RISK_TONES.get(cls, ""),
                )
                for cls, amount in k.by_risk_class.items()
            ],
            label=_("Outstanding by risk class"),
            testid="chart-risk",
        )
    return board


def totals_from_cells(cells: Sequence[dict[str, Any]], by: str | None = None) -> list[Totals]:
    """The home page's per-currency totals (and by company or agency) from the KPI cells: no extra query on the
    ledger. Same figures as relance.web.queries.scope_totals / totals_by (unallocated cash includes deposits)."""
    field_ = {"company": "company_id", "agency": "agency_id"}.get(by or "", "")
    acc: dict[tuple, dict[str, Any]] = {}
    for r in cells:
        key = (r[field_] if field_ else None, r["currency"])
        a = acc.setdefault(key, defaultdict(int))
        for k in ("inv_open", "cn_open", "od_amount", "unapplied", "deposits"):
            a[k] += from_db(r[k], r["currency"])
        for k in ("od_count", "cust_open", "cust_od"):
            a[k] += r[k]
    names: dict[Any, tuple[str, str]] = {}
    if by == "company":
        names = {c.pk: (c.code, c.name) for c in Company.objects.filter(pk__in={k[0] for k in acc})}
    elif by == "agency":
        names = {a.pk: (a.code, a.name) for a in Agency.objects.filter(pk__in={k[0] for k in acc if k[0]})}
    out = []
    for (group, currency), a in acc.items():
        if by and not (a["inv_open"] or a["cn_open"]):
            continue  # like totals_by: groups with open items only
        if not any(a.values()):
            continue
        code, name = names.get(group, ("", ""))
        out.append(
            Totals(
                currency=currency,
                invoices_open=quantize(a["inv_open"], currency),
                credit_notes_open=quantize(a["cn_open"], currency),
                overdue=quantize(a["od_amount"], currency),
                overdue_invoices=a["od_count"],
                customers_open=a["cust_open"],
                customers_overdue=a["cust_od"],
                unallocated_cash=quantize(a["unapplied"] + a["deposits"], currency),
                label=name,
                key=code,
            )
        )
    return sorted(out, key=lambda t: (not t.key, t.key, t.currency))  # "no agency" last


def overdue_customers(user: Any, *, as_of: dt.date, limit: int) -> list[OverdueCustomer]:
    """Customers with overdue invoices, largest overdue amount first (per currency row), as
    relance.web.queries.overdue_customers gives them; grouped on the open-items index first, names fetched for
    the rows kept only (the same figures, faster on a large ledger); from today's summary when it is fresh."""
    if summaries.fresh(summaries.POSITION, as_of):
        rows = list(
            positions.stored_customers(user, KpiFilters(), as_of)
            .filter(od_amount__gt=0)
            .values("customer_id", "currency", "od_amount", "od_count", "oldest_due")
            .order_by("-od_amount", "customer_id")[:limit]
        )
        rows = [
            {"customer_id": r["customer_id"], "currency": r["currency"], "od": r["od_amount"], "n": r["od_count"],
             "oldest": r["oldest_due"]}
            for r in rows
        ]  # fmt: skip
    else:
        rows = _live_overdue(user, as_of, limit)
    return _overdue_rows(rows, as_of)


def overdue_customer_count(user: Any, *, as_of: dt.date) -> int:
    """Customers with an invoice overdue at ``as_of``."""
    if summaries.fresh(summaries.POSITION, as_of):
        qs = positions.stored_customers(user, KpiFilters(), as_of).filter(od_amount__gt=0)
    else:
        qs = selectors_ledger.documents(user, selectors_ledger.DocumentFilters(overdue=True), as_of=as_of).order_by()
    return qs.values("customer_id").distinct().count()


def _live_overdue(user: Any, as_of: dt.date, limit: int) -> list[dict[str, Any]]:
    return list(
        selectors_ledger.documents(user, selectors_ledger.DocumentFilters(overdue=True), as_of=as_of)
        .order_by()
        .values("customer_id", "currency")
        .annotate(od=Sum("open_amount"), n=Count("pk"), oldest=Min("due_date"))
        .order_by("-od", "customer_id")[:limit]
    )


def _overdue_rows(rows: list[dict[str, Any]], as_of: dt.date) -> list[OverdueCustomer]:
    names = {
        c["pk"]: c
        for c in Customer.objects.filter(pk__in=[r["customer_id"] for r in rows]).values(
            "pk", "reference", "name", "company__code"
        )
    }
    out = [
        OverdueCustomer(
            customer_id=r["customer_id"],
            reference=names[r["customer_id"]]["reference"],
            name=names[r["customer_id"]]["name"],
            company=names[r["customer_id"]]["company__code"],
            currency=r["currency"],
            overdue=from_db(r["od"], r["currency"]),
            invoices=r["n"],
            oldest_due=r["oldest"],
            days_overdue=days_overdue(r["oldest"], as_of),
        )
        for r in rows
    ]
    return sorted(out, key=lambda c: (-c.overdue, c.reference))
