"""KPIs of a user's scope at any date, with SQL aggregates (a handful of grouped queries, no loop over rows).

Each query groups by currency (and a few small keys: risk class, day); the per-currency sums are then
converted into the presentation currency at the reference rates of the date (relance.ledger.rates) and
rounded per currency, exactly as ``domain.reference_kpis`` does, which the tests compare this with.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from relance.core import clock
from relance.core.money import from_db, quantize
from relance.ledger import rates as fx
from relance.ledger.domain import DEFAULT_BUCKETS, Bucket
from relance.orgs.models import Group

from . import domain, positions, summaries
from .sql import KpiFilters

HISTORY_DAYS = domain.BEHAVIOUR_DAYS + domain.SALES_DAYS + 31  # daily sales kept for the 12-month trend


def group_currency() -> str:
    group = Group.objects.order_by("pk").first()
    return group.currency if group else "EUR"


class Converter:
    """Per-currency sums → one presentation currency, each currency rounded on its own (see domain)."""

    def __init__(self, to: str, as_of: dt.date) -> None:
        self.to, self.as_of = to, as_of
        self._rates: dict[str, Decimal] = {to: fx.rate_on(to, as_of)}

    def rate(self, currency: str) -> Decimal:
        if currency not in self._rates:
            self._rates[currency] = fx.rate_on(currency, self.as_of)
        return self._rates[currency]

    def one(self, value: Any, currency: str) -> Decimal:
        amount = from_db(value, currency) if not isinstance(value, Decimal) else value
        if currency == self.to:
            return quantize(amount, self.to)
        return quantize(amount * self.rate(self.to) / self.rate(currency), self.to)

    def total(self, per_currency: Mapping[str, Any]) -> Decimal:
        return sum((self.one(v, c) for c, v in per_currency.items()), quantize(Decimal(0), self.to))


def _positions(user: Any, f: KpiFilters, as_of: dt.date, buckets: Sequence[Bucket], use_summary: bool) -> list[dict]:
    if use_summary and tuple(buckets) == tuple(positions.BUCKETS) and summaries.fresh(summaries.POSITION, as_of):
        return positions.stored_positions(user, f, as_of)
    return positions.live_positions(user, f, as_of, buckets)


def _flows(user: Any, f: KpiFilters, first: dt.date, last: dt.date, use_summary: bool) -> list[dict]:
    if use_summary and summaries.fresh(summaries.FLOW, last):
        return positions.stored_flows(user, f, first, last)
    return positions.live_flows(user, f, first, last)


def kpis(
    user: Any,
    *,
    as_of: dt.date | None = None,
    filters: KpiFilters | None = None,
    currency: str | None = None,
    buckets: Sequence[Bucket] = DEFAULT_BUCKETS,
    trend: bool = False,
    use_summary: bool = True,
) -> KpiResult:
    """Every KPI of the user's scope (narrowed by ``filters``) at ``as_of``, in ``currency`` (default: the group's).

    Reads the daily summaries when they are fresh for that date (summaries.py), else the ledger; the figures are
    the same either way (a test checks it).
    """
    as_of = as_of or clock.today()
    f = filters or KpiFilters()
    to = (currency or group_currency()).upper()
    conv = Converter(to, as_of)
    use_summary = use_summary and not f.customer

    per_bucket: dict[str, dict[str, Decimal]] = {b.name: defaultdict(Decimal) for b in buckets}
    per_risk: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    od_count = 0
    receivables_by_currency: dict[str, Decimal] = defaultdict(Decimal)
    cells = _positions(user, f, as_of, buckets, use_summary)
    for r in cells:
        c = r["currency"]
        for i, b in enumerate(buckets):
            v = from_db(r.get(f"b{i}"), c)
            per_bucket[b.name][c] += v
            per_risk[r["risk_class"] or ""][c] += v
            receivables_by_currency[c] += v
        for k in ("at_risk", "disputed", "unapplied", "deposits", "under_promise", "insured", "factored"):
            sums[k][c] += from_db(r[k], c)
        od_count += r["od_count"]

    out = domain.Kpis(to, as_of, domain.aging_lines({n: conv.total(v) for n, v in per_bucket.items()}, buckets))
    out.overdue_invoices = od_count
    out.by_risk_class = {k: conv.total(v) for k, v in sorted(per_risk.items()) if any(v.values())}
    out.at_risk, out.disputed = conv.total(sums["at_risk"]), conv.total(sums["disputed"])
    out.unapplied_cash, out.deposits = conv.total(sums["unapplied"]), conv.total(sums["deposits"])
    out.under_promise, out.insured = conv.total(sums["under_promise"]), conv.total(sums["insured"])
    out.factored = conv.total(sums["factored"])

    days = HISTORY_DAYS if trend else domain.BEHAVIOUR_DAYS
    history = History.from_rows(as_of, conv, _flows(user, f, as_of - dt.timedelta(days=days), as_of, use_summary))
    receivables = out.total_receivables
    out.sales_90 = history.sales(as_of - dt.timedelta(days=domain.SALES_DAYS - 1), as_of)
    out.dso_standard = domain.dso_standard(receivables, out.sales_90)
    out.dso_countback = domain.dso_countback(
        receivables, [(domain.days_in(p), history.sales(*p)) for p in domain.month_periods(as_of)]
    )
    out.average_days_of_payment = history.weighted("beh_pay")
    out.average_days_beyond_terms = history.weighted("beh_late")

    start = as_of - dt.timedelta(days=domain.PERIOD_DAYS)
    begin = history.receivables_at(start, receivables)
    period_sales = history.sales(start + dt.timedelta(days=1), as_of)
    out.collected = history.cash(start + dt.timedelta(days=1), as_of)
    out.cei = domain.cei(begin, period_sales, receivables, out.not_due)
    out.collection_rate = domain.collection_rate(out.collected, begin, period_sales)

    result = KpiResult(out, filters=f, by_currency=dict(receivables_by_currency), cells=cells)
    if trend:
        result.trend = [
            (m, domain.dso_standard(r, history.sales(m - dt.timedelta(days=domain.SALES_DAYS - 1), m)), r)
            for m in domain.month_ends(as_of)
            for r in [history.receivables_at(m, receivables)]
        ]
    return result


@dataclass
class KpiResult:
    kpis: domain.Kpis
    filters: KpiFilters
    by_currency: dict[str, Decimal]
    cells: list[dict[str, Any]] = field(default_factory=list)  # the per-cell measures behind the figures
    trend: list[tuple[dt.date, Decimal | None, Decimal]] | None = None


class History:
    """Daily sales and settlements of the scope over a window ending at ``as_of``, already converted."""

    def __init__(
        self,
        as_of: dt.date,
        sales: dict[dt.date, Decimal],
        settle: dict[dt.date, Decimal],
        cash: dict[dt.date, Decimal],
        beh: dict[str, Decimal],
    ) -> None:
        self.as_of, self._sales, self._settle, self._cash, self._beh = as_of, sales, settle, cash, beh

    @classmethod
    def from_rows(cls, as_of: dt.date, conv: Converter, rows: list[dict[str, Any]]) -> History:
        sales: dict[dt.date, Decimal] = defaultdict(Decimal)
        settle: dict[dt.date, Decimal] = defaultdict(Decimal)
        cash: dict[dt.date, Decimal] = defaultdict(Decimal)
        beh: dict[str, Decimal] = defaultdict(Decimal)
        first_beh = as_of - dt.timedelta(days=domain.BEHAVIOUR_DAYS - 1)
        for r in rows:
            c, day = r["currency"], r["day"]
            sales[day] += conv.one(r["sales"], c)
            settle[day] += conv.one(r["settled"], c)
            cash[day] += conv.one(r["cash"], c)
            if day >= first_beh:
                # weights, not money: converted exactly (no rounding to a minor unit)
                for k in ("beh", "beh_pay", "beh_late"):
                    beh[k] += r[k] * conv.rate(conv.to) / conv.rate(c)
        return cls(as_of, sales, settle, cash, beh)

    def sales(self, first: dt.date, last: dt.date) -> Decimal:
        return sum((v for d, v in self._sales.items() if first <= d <= last), Decimal(0))

    def cash(self, first: dt.date, last: dt.date) -> Decimal:
        return sum((v for d, v in self._cash.items() if first <= d <= last), Decimal(0))

    def receivables_at(self, day: dt.date, receivables_now: Decimal) -> Decimal:
        """Receivables at ``day`` from those at ``as_of``: less the sales since, plus what was settled since."""
        later = lambda d: day < d <= self.as_of  # noqa: E731
        return (
            receivables_now
            - sum((v for d, v in self._sales.items() if later(d)), Decimal(0))
            + sum((v for d, v in self._settle.items() if later(d)), Decimal(0))
        )

    def weighted(self, key: str) -> Decimal | None:
        amount = self._beh.get("beh", Decimal(0))
        if amount <= 0:
            return None
        return domain.ratio(self._beh.get(key, Decimal(0)) / amount)
