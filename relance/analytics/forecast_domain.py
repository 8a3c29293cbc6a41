"""The cash forecast, pure: expected receipts week by week (13 weeks) and month by month (6 months).

Rules (docs/kpi.md, "Cash forecast"):
1. An open promise to pay comes first: its amount is expected on the promised date (the next week if that date
   has passed), and the documents it covers leave the rest of the forecast.
2. Every other open invoice is expected on its due date moved by its customer's delay (the customer's own
   amount-weighted mean of payment date − due date over the last 365 days; 0 without history), or on the date
   the payment-date model predicts when one is given.
3. An invoice whose expected date has already passed is not certain any more: its amount times its likelihood of
   payment (by days past due; nothing for a customer in insolvency proceedings, class X) is spread evenly over
   the first ``SPREAD_WEEKS`` weeks.
Credit notes bring no cash and are left out; amounts expected after the horizon are reported as ``later``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)
WEEKS = 13
MONTHS = 6
SPREAD_WEEKS = 4
# likelihood of payment of an invoice already late on its expected date, by days past its due date
LIKELIHOOD: tuple[tuple[int, Decimal], ...] = (
    (30, Decimal("0.90")),
    (60, Decimal("0.75")),
    (90, Decimal("0.60")),
    (180, Decimal("0.40")),
)
LIKELIHOOD_BEYOND = Decimal("0.15")
NO_PAYMENT_CLASSES = frozenset({"X"})


@dataclass(frozen=True, slots=True)
class Expected:
    """An amount (already in the forecast currency) due on ``due_date``, for a customer with ``delay_days``."""

    amount: Decimal
    due_date: dt.date
    delay_days: int = 0
    risk_class: str = ""
    predicted_date: dt.date | None = None  # from the payment-date model, when there is one


@dataclass(frozen=True, slots=True)
class Promised:
    amount: Decimal
    promised_for: dt.date


@dataclass
class Forecast:
    as_of: dt.date
    weeks: list[tuple[dt.date, dt.date, Decimal]] = field(default_factory=list)  # (first day, last day, amount)
    months: list[tuple[dt.date, dt.date, Decimal]] = field(default_factory=list)
    later: Decimal = ZERO
    promised: Decimal = ZERO
    uncertain: Decimal = ZERO  # expected amounts of overdue invoices, after likelihood

    @property
    def total_weeks(self) -> Decimal:
        return sum((w[2] for w in self.weeks), ZERO)


def likelihood(days_past_due: int, risk_class: str = "") -> Decimal:
    if risk_class in NO_PAYMENT_CLASSES:
        return ZERO
    for limit, p in LIKELIHOOD:
        if days_past_due <= limit:
            return p
    return LIKELIHOOD_BEYOND


def expected_date(item: Expected) -> dt.date:
    return item.predicted_date or item.due_date + dt.timedelta(days=item.delay_days)


def week_bounds(as_of: dt.date, weeks: int = WEEKS) -> list[tuple[dt.date, dt.date]]:
    """Week k covers as_of + 7k + 1 .. as_of + 7k + 7."""
    return [(as_of + dt.timedelta(days=7 * k + 1), as_of + dt.timedelta(days=7 * k + 7)) for k in range(weeks)]


def month_bounds(as_of: dt.date, months: int = MONTHS) -> list[tuple[dt.date, dt.date]]:
    """The rest of as_of's month (from the next day), then whole calendar months."""
    out = []
    first = as_of + dt.timedelta(days=1)
    for _ in range(months):
        nxt = (first.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        out.append((first, nxt - dt.timedelta(days=1)))
        first = nxt
    return out


def cash_forecast(
    items: Iterable[Expected],
    promises: Iterable[Promised],
    *,
    as_of: dt.date,
    weeks: int = WEEKS,
    months: int = MONTHS,
) -> Forecast:
    """Expected receipts by day, then added up by week and by month (see the module's rules)."""
    by_day: dict[dt.date, Decimal] = {}
    tomorrow = as_of + dt.timedelta(days=1)

    def put(day: dt.date, amount: Decimal) -> None:
        by_day[day] = by_day.get(day, ZERO) + amount

    out = Forecast(as_of)
    for p in promises:
        put(max(p.promised_for, tomorrow), p.amount)
        out.promised += p.amount
    spread: Decimal = ZERO
    for item in items:
        if item.amount <= 0:
            continue
        day = expected_date(item)
        if day > as_of:
            put(day, item.amount)
        else:
            spread += item.amount * likelihood((as_of - item.due_date).days, item.risk_class)
    out.uncertain = spread
    if spread:
        share = spread / SPREAD_WEEKS
        for k in range(SPREAD_WEEKS):
            put(as_of + dt.timedelta(days=7 * k + 1), share)
    wb, mb = week_bounds(as_of, weeks), month_bounds(as_of, months)
    out.weeks = [(a, b, _between(by_day, a, b)) for a, b in wb]
    out.months = [(a, b, _between(by_day, a, b)) for a, b in mb]
    horizon = max(wb[-1][1], mb[-1][1])
    out.later = sum((v for d, v in by_day.items() if d > horizon), ZERO)
    return out


def _between(by_day: dict[dt.date, Decimal], first: dt.date, last: dt.date) -> Decimal:
    return sum((v for d, v in by_day.items() if first <= d <= last), ZERO)


def forecast_error(forecast: Sequence[Decimal], actual: Sequence[Decimal]) -> dict[str, Decimal | None]:
    """Mean absolute error and weighted absolute percentage error (Σ|f − a| / Σa × 100) of paired periods."""
    diffs = [abs(f - a) for f, a in zip(forecast, actual, strict=True)]
    total = sum(actual, ZERO)
    return {
        "mae": (sum(diffs, ZERO) / len(diffs)) if diffs else None,
        "wape": (sum(diffs, ZERO) / total * 100) if total > 0 else None,
    }
