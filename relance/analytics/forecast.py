"""Cash forecast of a user's scope (grouped SQL aggregates fed to ``forecast_domain``) and its back-test.

Delays come from, in order: the payment-date model's prediction of the invoice (relance.ml, when present),
else the customer's behaviour summary (analytics.CustomerBehaviour), else 0 days. The back-test recomputes
each customer's delay as of each replayed date from the allocations dated before it, so that it never looks
into the future it is scored on.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, Sum

from relance.core import clock
from relance.core.vocab import DocumentType

from . import extras, forecast_domain, sql
from .forecast_domain import Expected, Forecast, Promised
from .selectors import Converter, group_currency
from .services import behaviour_rows
from .sql import KpiFilters


def _promises(user: Any, f: KpiFilters, as_of: dt.date, conv: Converter) -> tuple[list[Promised], Any]:
    qs = extras.open_promises(user, f, as_of)
    if qs is None:
        return [], None
    rows = qs.values("currency", "promised_for").annotate(s=Sum("amount")).order_by()
    promised = [Promised(conv.one(r["s"], r["currency"]), r["promised_for"]) for r in rows]
    covered = qs.model.documents.through.objects.filter(promise__in=qs.values("pk"), document=OuterRef("pk"))
    return promised, covered


def _open_invoices(user: Any, f: KpiFilters, as_of: dt.date, covered: Any) -> tuple[Any, Any]:
    qs = sql.documents(user, f).filter(type=DocumentType.INVOICE)
    qs, o = sql.open_documents(qs, as_of, clock.today())
    if covered is not None:
        qs = qs.exclude(Exists(covered))
    return qs, o


def _has_predictions() -> bool:
    return extras.model("ml.InvoicePrediction") is not None


def cash_forecast(
    user: Any,
    *,
    as_of: dt.date | None = None,
    filters: KpiFilters | None = None,
    currency: str | None = None,
    delays: dict[int, int] | None = None,
    use_predictions: bool = True,
) -> Forecast:
    """Expected receipts of the user's scope after ``as_of`` (default today), in ``currency``.

    ``delays`` (customer id → days) replaces the behaviour summary: the back-test passes the delays as of the
    replayed date (and no predictions, which are today's).
    """
    as_of = as_of or clock.today()
    f = filters or KpiFilters()
    conv = Converter((currency or group_currency()).upper(), as_of)
    promised, covered = _promises(user, f, as_of, conv)
    qs, o = _open_invoices(user, f, as_of, covered)
    items: list[Expected] = []
    if use_predictions and delays is None and _has_predictions():
        predicted = Q(prediction__isnull=False)
        ahead = qs.filter(predicted, prediction__expected_payment_date__gt=as_of)
        for r in (
            ahead.values("currency", "prediction__expected_payment_date", "customer__risk_class")
            .annotate(s=Sum(o))
            .order_by()
        ):
            day = r["prediction__expected_payment_date"]
            items.append(Expected(conv.one(r["s"], r["currency"]), day, 0, r["customer__risk_class"], day))
        stale = qs.filter(predicted, prediction__expected_payment_date__lte=as_of)
        for r in stale.values("currency", "due_date", "customer__risk_class").annotate(s=Sum(o)).order_by():
            items.append(Expected(conv.one(r["s"], r["currency"]), r["due_date"], 0, r["customer__risk_class"], as_of))
        qs = qs.filter(prediction__isnull=True)
    if delays is None:
        rows = qs.values("currency", "due_date", "customer__behaviour__delay_days", "customer__risk_class")
        rows = rows.annotate(s=Sum(o)).order_by()
        for r in rows:
            items.append(
                Expected(
                    conv.one(r["s"], r["currency"]),
                    r["due_date"],
                    r["customer__behaviour__delay_days"] or 0,
                    r["customer__risk_class"],
                )
            )
    else:
        rows = qs.values("customer_id", "currency", "due_date", "customer__risk_class").annotate(s=Sum(o)).order_by()
        for r in rows:
            items.append(
                Expected(
                    conv.one(r["s"], r["currency"]),
                    r["due_date"],
                    delays.get(r["customer_id"], 0),
                    r["customer__risk_class"],
                )
            )
    return forecast_domain.cash_forecast(items, promised, as_of=as_of)


def receipts(
    user: Any, f: KpiFilters, first: dt.date, last: dt.date, conv: Converter, *, issued_by: dt.date
) -> dict[dt.date, Decimal]:
    """Cash really applied to the scope's invoices issued by ``issued_by`` (those a forecast made then knew), by
    allocation date (reversals deducted)."""
    qs = sql.allocations(user, f).filter(
        payment__isnull=False, date__gte=first, date__lte=last, target__issue_date__lte=issued_by
    )
    out: dict[dt.date, Decimal] = defaultdict(Decimal)
    for r in qs.values("date", "currency").annotate(s=Sum("amount")).order_by():
        out[r["date"]] += conv.one(r["s"], r["currency"])
    return out


def naive_forecast(user: Any, f: KpiFilters, as_of: dt.date, conv: Converter) -> Forecast:
    """Every open invoice expected in full on its due date; overdue ones in the first week."""
    qs, o = _open_invoices(user, f, as_of, None)
    items = [
        Expected(conv.one(r["s"], r["currency"]), r["due_date"], 0, "", max(r["due_date"], as_of + dt.timedelta(1)))
        for r in qs.values("currency", "due_date").annotate(s=Sum(o)).order_by()
    ]
    return forecast_domain.cash_forecast(items, [], as_of=as_of)


@dataclass(frozen=True)
class BacktestRow:
    as_of: dt.date
    weeks: int
    actual: list[Decimal]
    forecast: list[Decimal]
    naive: list[Decimal]

    def as_dict(self) -> dict[str, Any]:
        fe = forecast_domain.forecast_error(self.forecast, self.actual)
        ne = forecast_domain.forecast_error(self.naive, self.actual)
        r = lambda v: None if v is None else str(v.quantize(Decimal("0.01")))  # noqa: E731
        return {
            "as_of": self.as_of.isoformat(),
            "weeks": self.weeks,
            "actual": [str(v) for v in self.actual],
            "forecast": [str(v.quantize(Decimal("0.01"))) for v in self.forecast],
            "naive": [str(v.quantize(Decimal("0.01"))) for v in self.naive],
            "forecast_mae": r(fe["mae"]),
            "forecast_wape": r(fe["wape"]),
            "naive_mae": r(ne["mae"]),
            "naive_wape": r(ne["wape"]),
        }


def backtest(
    user: Any,
    dates: list[dt.date],
    *,
    weeks: int = forecast_domain.WEEKS,
    filters: KpiFilters | None = None,
    currency: str | None = None,
) -> list[BacktestRow]:
    """For each date: the forecast made with what was known then, the naive due-date forecast, and the receipts
    that really came, week by week (only whole weeks before today count)."""
    f = filters or KpiFilters()
    to = (currency or group_currency()).upper()
    today = clock.today()
    out = []
    for day in dates:
        usable = min(weeks, (today - day).days // 7)
        if usable < 1:
            continue
        conv = Converter(to, day)
        delays = {cid: late for cid, (late, _pay, _n) in behaviour_rows(day).items()}
        fc = cash_forecast(user, as_of=day, filters=f, currency=to, delays=delays, use_predictions=False)
        naive = naive_forecast(user, f, day, conv)
        bounds = forecast_domain.week_bounds(day, usable)
        got = receipts(user, f, bounds[0][0], bounds[-1][1], conv, issued_by=day)
        actual = [sum((v for d, v in got.items() if a <= d <= b), Decimal(0)) for a, b in bounds]
        out.append(
            BacktestRow(day, usable, actual, [w[2] for w in fc.weeks[:usable]], [w[2] for w in naive.weeks[:usable]])
        )
    return out
