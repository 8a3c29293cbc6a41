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

from relance.core import clock, scope
from relance.core.money import from_db
from relance.core.vocab import DocumentType

from . import extras, forecast_domain, positions, sql
from .forecast_domain import Expected, Forecast, Promised
from .selectors import Converter, group_currency
from .services import behaviour_rows
from .sql import KpiFilters


def _promises(user: Any, f: KpiFilters, as_of: dt.date, keys: tuple[str, ...]) -> tuple[list[tuple], Any]:
    """Open promises as (key, currency, Promised in that currency), and the documents they cover."""
    qs = extras.open_promises(user, f, as_of)
    if qs is None:
        return [], None
    rows = qs.annotate(**positions._doc_cell()).values(*keys, "currency", "promised_for").annotate(s=Sum("amount"))
    promised = [
        (tuple(r[k] for k in keys), r["currency"], Promised(from_db(r["s"], r["currency"]), r["promised_for"]))
        for r in rows.order_by()
    ]
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


def _expected(
    user: Any,
    f: KpiFilters,
    as_of: dt.date,
    *,
    keys: tuple[str, ...] = (),
    delays: dict[int, int] | None = None,
    use_predictions: bool = True,
) -> tuple[list[tuple], list[tuple]]:
    """(key, currency, Expected) of the open invoices and (key, currency, Promised) of the promises, in their own
    currencies, grouped by ``keys`` (cell fields) besides what the rules need."""
    promised, covered = _promises(user, f, as_of, keys)
    qs, o = _open_invoices(user, f, as_of, covered)
    qs = qs.annotate(**positions._doc_cell())
    items: list[tuple] = []

    def add(r: dict[str, Any], due: dt.date, delay: int, predicted: dt.date | None = None) -> None:
        c = r["currency"]
        items.append((tuple(r[k] for k in keys), c, Expected(from_db(r["s"], c), due, delay, r["risk_class"] or "",
                                                                 predicted)))  # fmt: skip

    base = (*keys, "currency", "risk_class")
    if use_predictions and delays is None and _has_predictions():
        predicted = Q(prediction__isnull=False)
        ahead = qs.filter(predicted, prediction__expected_payment_date__gt=as_of)
        for r in ahead.values(*base, "prediction__expected_payment_date").annotate(s=Sum(o)).order_by():
            day = r["prediction__expected_payment_date"]
            add(r, day, 0, day)
        stale = qs.filter(predicted, prediction__expected_payment_date__lte=as_of)
        for r in stale.values(*base, "due_date").annotate(s=Sum(o)).order_by():
            add(r, r["due_date"], 0, as_of)
        qs = qs.filter(prediction__isnull=True)
    if delays is None:
        for r in qs.values(*base, "due_date", "customer__behaviour__delay_days").annotate(s=Sum(o)).order_by():
            add(r, r["due_date"], r["customer__behaviour__delay_days"] or 0)
    else:
        for r in qs.values(*base, "customer_id", "due_date").annotate(s=Sum(o)).order_by():
            add(r, r["due_date"], delays.get(r["customer_id"], 0))
    return items, promised


def cash_forecast(
    user: Any,
    *,
    as_of: dt.date | None = None,
    filters: KpiFilters | None = None,
    currency: str | None = None,
    delays: dict[int, int] | None = None,
    use_predictions: bool = True,
    use_summary: bool = True,
) -> Forecast:
    """Expected receipts of the user's scope after ``as_of`` (default today), in ``currency``.

    ``delays`` (customer id → days) replaces the behaviour summary: the back-test passes the delays as of the
    replayed date (and no predictions, which are today's). With a fresh summary of ``as_of`` (the cells'
    forecasts stored by the daily job), the figures are read from it: the rules are linear in the amounts, so the
    sum of the cells' forecasts, converted, is the forecast of the scope.
    """
    as_of = as_of or clock.today()
    f = filters or KpiFilters()
    conv = Converter((currency or group_currency()).upper(), as_of)
    if use_summary and delays is None and use_predictions and not f.customer:
        from . import summaries

        if summaries.fresh(summaries.FORECAST, as_of):
            return stored_forecast(user, f, as_of, conv)
    items, promised = _expected(user, f, as_of, delays=delays, use_predictions=use_predictions)
    return forecast_domain.cash_forecast(
        [_converted(e, c, conv) for _k, c, e in items],
        [Promised(conv.one(p.amount, c), p.promised_for) for _k, c, p in promised],
        as_of=as_of,
    )


def _converted(e: Expected, currency: str, conv: Converter) -> Expected:
    return Expected(conv.one(e.amount, currency), e.due_date, e.delay_days, e.risk_class, e.predicted_date)


def cell_forecasts(as_of: dt.date) -> dict[tuple, Forecast]:
    """The forecast of every cell (whole group), in the cell's currency: what the daily summary stores."""
    items, promised = _expected(scope.SystemActor("system"), KpiFilters(), as_of, keys=positions.CELL)
    per_cell: dict[tuple, tuple[list, list]] = defaultdict(lambda: ([], []))
    for key, _c, e in items:
        per_cell[key][0].append(e)
    for key, _c, p in promised:
        per_cell[key][1].append(p)
    return {key: forecast_domain.cash_forecast(i, p, as_of=as_of) for key, (i, p) in per_cell.items()}


def stored_forecast(user: Any, f: KpiFilters, as_of: dt.date, conv: Converter) -> Forecast:
    from .models import DailyForecast

    qs = positions._narrow(scope.restrict(user, DailyForecast.objects.filter(date=as_of)), f)
    rows = qs.values("period", "index", "first", "last", "currency").annotate(s=Sum("amount")).order_by()
    weeks: dict[int, list] = {}
    months: dict[int, list] = {}
    later = promised = uncertain = Decimal(0)
    for r in rows:
        amount = conv.one(_exact(r["s"]), r["currency"])
        if r["period"] == "week":
            weeks.setdefault(r["index"], [r["first"], r["last"], Decimal(0)])[2] += amount
        elif r["period"] == "month":
            months.setdefault(r["index"], [r["first"], r["last"], Decimal(0)])[2] += amount
        elif r["period"] == "later":
            later += amount
        elif r["period"] == "promised":
            promised += amount
        elif r["period"] == "uncertain":
            uncertain += amount
    out = Forecast(as_of, later=later, promised=promised, uncertain=uncertain)
    out.weeks = [tuple(weeks.get(k, [a, b, Decimal(0)])) for k, (a, b) in enumerate(forecast_domain.week_bounds(as_of))]
    out.months = [
        tuple(months.get(k, [a, b, Decimal(0)])) for k, (a, b) in enumerate(forecast_domain.month_bounds(as_of))
    ]
    return out


def _exact(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value or 0)


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
