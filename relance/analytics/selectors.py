"""KPIs of a user's scope at any date, with SQL aggregates (a handful of grouped queries, no loop over rows).

Each query groups by currency (and a few small keys: risk class, day); the per-currency sums are then
converted into the presentation currency at the reference rates of the date (relance.ledger.rates) and
rounded per currency, exactly as ``domain.reference_kpis`` does, which the tests compare this with.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, F, Q, Sum, Value, When

from relance.core import clock
from relance.core.money import from_db, quantize
from relance.core.vocab import DocumentType, PaymentKind
from relance.ledger import rates as fx
from relance.ledger.domain import DEFAULT_BUCKETS, Bucket
from relance.orgs.models import Group

from . import domain, extras, sql
from .aging import _bucket_q
from .sql import AMOUNT, CREDIT_NOTE, INVOICE, KpiFilters

HISTORY_DAYS = domain.BEHAVIOUR_DAYS + domain.SALES_DAYS + 31  # daily sales kept for the 12-month trend


def group_currency() -> str:
    group = Group.objects.order_by("pk").first()
    return group.currency if group else "EUR"


def rates_for(currencies: set[str], as_of: dt.date) -> dict[str, Decimal]:
    """Units per euro of each currency at ``as_of``; RateMissing names the one missing."""
    return {c: fx.rate_on(c, as_of) for c in sorted(currencies)}


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


def _aging_aggregates(as_of: dt.date, open_expr: Any, buckets: Sequence[Bucket]) -> dict[str, Any]:
    s = sql.signed(open_expr)
    at_risk = Q(customer__risk_class__in=sorted(domain.AT_RISK_CLASSES)) | (
        INVOICE & Q(due_date__lt=as_of - dt.timedelta(days=domain.AT_RISK_DAYS))
    )
    aggs: dict[str, Any] = {
        f"b{i}": Sum(Case(When(_bucket_q(b, as_of), then=s), default=sql.ZERO, output_field=AMOUNT))
        for i, b in enumerate(buckets)
    }
    aggs["at_risk"] = Sum(Case(When(at_risk, then=s), default=sql.ZERO, output_field=AMOUNT))
    aggs["disputed"] = Sum(
        Case(When(INVOICE & sql.disputed_q(as_of), then=open_expr), default=sql.ZERO, output_field=AMOUNT)
    )
    aggs["od_count"] = Count("pk", filter=INVOICE & Q(due_date__lt=as_of))
    return aggs


@dataclass
class AgingByCurrency:
    """Raw aggregates of the open items: currency → risk class → bucket/at_risk/disputed sums."""

    rows: list[dict[str, Any]]


def _aging_rows(user: Any, f: KpiFilters, as_of: dt.date, buckets: Sequence[Bucket]) -> list[dict[str, Any]]:
    qs, o = sql.open_documents(sql.documents(user, f), as_of, clock.today())
    return list(
        qs.values("currency", "customer__risk_class").annotate(**_aging_aggregates(as_of, o, buckets)).order_by()
    )


def _daily_sales(user: Any, f: KpiFilters, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Net sales (invoices − credit notes, incl. tax) by issue date and currency."""
    signed_amount = Case(When(CREDIT_NOTE, then=-F("amount")), default=F("amount"), output_field=AMOUNT)
    return list(
        sql.documents(user, f)
        .filter(issue_date__gte=first, issue_date__lte=last)
        .values("issue_date", "currency")
        .annotate(s=Sum(signed_amount))
        .order_by()
    )


def _daily_settlements(user: Any, f: KpiFilters, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Per allocation date and currency: what left the receivables (cash, non-cash), cash alone, and the
    payment-behaviour sums of live cash allocations (amount, amount × days to pay, amount × days late)."""
    cash = Q(payment__isnull=False)
    effect = Case(
        When(cash, then=F("amount")),
        When(credit_note__isnull=False, then=sql.ZERO),
        When(target__type=DocumentType.INVOICE, then=F("amount")),
        default=-F("amount"),
        output_field=AMOUNT,
    )
    live = cash & Q(reverses__isnull=True) & ~Q(reversed_by__date__lte=last)
    to_pay = sql.DaysBetween(F("date"), F("target__issue_date"))
    late = Case(
        When(date__gt=F("target__due_date"), then=sql.DaysBetween(F("date"), F("target__due_date"))),
        default=Value(0),
    )
    return list(
        sql.allocations(user, f)
        .filter(date__gte=first, date__lte=last)
        .values("date", "currency")
        .annotate(
            effect=Sum(effect),
            cash=Sum("amount", filter=cash),
            beh=Sum("amount", filter=live),
            beh_pay=Sum(F("amount") * to_pay, filter=live, output_field=AMOUNT),
            beh_late=Sum(F("amount") * late, filter=live, output_field=AMOUNT),
        )
        .order_by()
    )


def _cash_rows(user: Any, f: KpiFilters, as_of: dt.date) -> list[dict[str, Any]]:
    qs, left = sql.unallocated_payments(sql.payments(user, f), as_of, clock.today())
    return list(qs.values("currency", "kind").annotate(s=Sum(left)).order_by())


def kpis(
    user: Any,
    *,
    as_of: dt.date | None = None,
    filters: KpiFilters | None = None,
    currency: str | None = None,
    buckets: Sequence[Bucket] = DEFAULT_BUCKETS,
    trend: bool = False,
) -> KpiResult:
    """Every KPI of the user's scope (narrowed by ``filters``) at ``as_of``, in ``currency`` (default: the group's)."""
    as_of = as_of or clock.today()
    f = filters or KpiFilters()
    to = (currency or group_currency()).upper()
    conv = Converter(to, as_of)

    aging_rows = _aging_rows(user, f, as_of, buckets)
    per_bucket: dict[str, dict[str, Decimal]] = {b.name: defaultdict(Decimal) for b in buckets}
    per_risk: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    at_risk: dict[str, Decimal] = defaultdict(Decimal)
    disputed: dict[str, Decimal] = defaultdict(Decimal)
    od_count = 0
    receivables_by_currency: dict[str, Decimal] = defaultdict(Decimal)
    not_due_by_currency: dict[str, Decimal] = defaultdict(Decimal)
    for r in aging_rows:
        c = r["currency"]
        for i, b in enumerate(buckets):
            v = from_db(r[f"b{i}"], c)
            per_bucket[b.name][c] += v
            per_risk[r["customer__risk_class"]][c] += v
            receivables_by_currency[c] += v
            if b.max_days is not None and b.max_days <= 0:
                not_due_by_currency[c] += v
        at_risk[c] += from_db(r["at_risk"], c)
        disputed[c] += from_db(r["disputed"], c)
        od_count += r["od_count"]

    out = domain.Kpis(to, as_of, domain.aging_lines({n: conv.total(v) for n, v in per_bucket.items()}, buckets))
    out.overdue_invoices = od_count
    out.by_risk_class = {k: conv.total(v) for k, v in sorted(per_risk.items())}
    out.at_risk, out.disputed = conv.total(at_risk), conv.total(disputed)

    unapplied: dict[str, Decimal] = defaultdict(Decimal)
    deposits: dict[str, Decimal] = defaultdict(Decimal)
    for r in _cash_rows(user, f, as_of):
        (deposits if r["kind"] == PaymentKind.DEPOSIT else unapplied)[r["currency"]] += from_db(r["s"], r["currency"])
    out.unapplied_cash, out.deposits = conv.total(unapplied), conv.total(deposits)

    ex = extras.figures(user, f, as_of)
    out.under_promise = conv.total(ex.under_promise)
    out.insured = conv.total(ex.insured)
    out.factored = conv.total(ex.factored)

    history = History.load(user, f, as_of, conv, days=HISTORY_DAYS if trend else domain.BEHAVIOUR_DAYS)
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

    result = KpiResult(out, filters=f, by_currency=dict(receivables_by_currency))
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
    def load(cls, user: Any, f: KpiFilters, as_of: dt.date, conv: Converter, *, days: int) -> History:
        first = as_of - dt.timedelta(days=days)
        sales: dict[dt.date, Decimal] = defaultdict(Decimal)
        for r in _daily_sales(user, f, first, as_of):
            sales[r["issue_date"]] += conv.one(r["s"], r["currency"])
        settle: dict[dt.date, Decimal] = defaultdict(Decimal)
        cash: dict[dt.date, Decimal] = defaultdict(Decimal)
        beh: dict[str, Decimal] = defaultdict(Decimal)
        first_beh = as_of - dt.timedelta(days=domain.BEHAVIOUR_DAYS - 1)
        for r in _daily_settlements(user, f, first, as_of):
            c, day = r["currency"], r["date"]
            settle[day] += conv.one(r["effect"], c)
            cash[day] += conv.one(r["cash"], c)
            if day >= first_beh:
                # weights, not money: converted exactly (no rounding to a minor unit)
                for k in ("beh", "beh_pay", "beh_late"):
                    v = r[k] or 0
                    v = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
                    beh[k] += v * conv.rate(conv.to) / conv.rate(c)
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
