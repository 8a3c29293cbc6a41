"""Pure KPI formulas: aged balance, DSO (countback and standard), payment delays, CEI, collection rate.

No ORM, no clock: small immutable values in, Decimals out, ``as_of`` explicit. The SQL selectors
(relance.analytics.selectors) compute the same figures with aggregates; ``reference_kpis`` here is the
slow, obviously-correct twin the tests compare them with. Formulas and worked examples: docs/kpi.md.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from relance.core.money import quantize
from relance.ledger.domain import CREDIT_NOTE, DEFAULT_BUCKETS, INVOICE, Bucket, days_past_due

ZERO = Decimal(0)
RATIO = Decimal("0.1")  # DSO days, CEI and rates are given to one decimal
SALES_DAYS = 90  # standard DSO: sales of the last 90 days
PERIOD_DAYS = 30  # CEI and collection rate: the 30 days ending at as_of
BEHAVIOUR_DAYS = 365  # average days of payment / beyond terms: payments of the last 365 days
AT_RISK_CLASSES = frozenset({"D", "E", "X"})
AT_RISK_DAYS = 90  # ... and invoices more than 90 days past due, whatever the class


def ratio(value: Decimal) -> Decimal:
    return value.quantize(RATIO, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Doc:
    """A document as the KPI formulas see it."""

    id: int
    customer_id: int
    type: str
    issue_date: dt.date
    due_date: dt.date
    currency: str
    amount: Decimal
    risk_class: str = ""
    disputed: tuple[tuple[dt.date, dt.date | None], ...] = ()  # (opened_on, resolved_on) of its disputes
    factored: tuple[dt.date, dt.date | None] | None = None  # (assigned_on, released_on)

    def disputed_at(self, day: dt.date) -> bool:
        return any(o <= day and (r is None or r > day) for o, r in self.disputed)

    def factored_at(self, day: dt.date) -> bool:
        return (
            self.factored is not None
            and self.factored[0] <= day
            and (self.factored[1] is None or self.factored[1] > day)
        )


@dataclass(frozen=True, slots=True)
class Alloc:
    """An allocation: to ``target_id`` from a payment, a credit note or nothing (non-cash); reversals negative."""

    target_id: int
    amount: Decimal
    date: dt.date
    payment_id: int | None = None
    credit_note_id: int | None = None
    reversed_on: dt.date | None = None  # for an original allocation: the date of its reversal, if any
    is_reversal: bool = False


@dataclass(frozen=True, slots=True)
class Pay:
    id: int
    kind: str  # "payment" | "deposit"
    date: dt.date
    currency: str
    amount: Decimal
    returned_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class AgingLine:
    bucket: str
    min_days: int | None
    max_days: int | None
    amount: Decimal


# ---------------------------------------------------------------- small formulas


def open_at(doc: Doc, allocations: Iterable[Alloc], as_of: dt.date) -> Decimal:
    """What was open of ``doc`` at the end of ``as_of``: amount less allocations (to it, or from it for a
    credit note) dated on or before; reversals are negative allocations, so they reopen on their own date."""
    if doc.issue_date > as_of:
        return ZERO
    used = sum((a.amount for a in allocations if a.date <= as_of and doc.id in (a.target_id, a.credit_note_id)), ZERO)
    return doc.amount - used


def signed(doc_type: str, amount: Decimal) -> Decimal:
    return -amount if doc_type == CREDIT_NOTE else amount


def dso_standard(receivables: Decimal, sales: Decimal, days: int = SALES_DAYS) -> Decimal | None:
    """Open receivables / sales of the last ``days`` days × ``days``; None without sales."""
    if sales <= 0:
        return None
    return ratio(receivables / sales * days)


def dso_countback(receivables: Decimal, periods: Sequence[tuple[int, Decimal]]) -> Decimal | None:
    """Countback: walk back through periods (most recent first, each ``(days, sales)``), counting whole periods
    while the receivables exceed their sales, then the fraction of the period that absorbs the rest.

    Receivables still left after the last period count every period in full (the DSO is then at least that).
    """
    if receivables <= 0:
        return ratio(ZERO)
    left, days = receivables, Decimal(0)
    for period_days, sales in periods:
        if sales <= 0:
            days += period_days
            continue
        if left <= sales:
            return ratio(days + left / sales * period_days)
        left -= sales
        days += period_days
    return ratio(days) if periods else None


def month_periods(as_of: dt.date, months: int = 12) -> list[tuple[dt.date, dt.date]]:
    """Countback periods: the month to date (1st .. as_of), then whole calendar months, most recent first."""
    out = [(as_of.replace(day=1), as_of)]
    first = as_of.replace(day=1)
    for _ in range(months - 1):
        end = first - dt.timedelta(days=1)
        first = end.replace(day=1)
        out.append((first, end))
    return out


def month_ends(as_of: dt.date, months: int = 12) -> list[dt.date]:
    """The last ``months`` month ends up to ``as_of``, oldest first; the last one is ``as_of`` itself."""
    out = [as_of]
    day = as_of.replace(day=1) - dt.timedelta(days=1)
    for _ in range(months - 1):
        out.append(day)
        day = day.replace(day=1) - dt.timedelta(days=1)
    return out[::-1]


def days_in(period: tuple[dt.date, dt.date]) -> int:
    return (period[1] - period[0]).days + 1


def weighted_days(pairs: Iterable[tuple[Decimal, int]]) -> Decimal | None:
    """Σ amount × days / Σ amount; None without amounts."""
    total = weighted = ZERO
    for amount, days in pairs:
        total += amount
        weighted += amount * days
    return ratio(weighted / total) if total > 0 else None


def cei(begin: Decimal, sales: Decimal, end_total: Decimal, end_current: Decimal) -> Decimal | None:
    """Collection effectiveness index, 0–100:
    (begin + sales − end total) / (begin + sales − end current) × 100."""
    collectable = begin + sales - end_current
    if collectable <= 0:
        return None
    value = (begin + sales - end_total) / collectable * 100
    return ratio(min(Decimal(100), max(ZERO, value)))


def collection_rate(collected: Decimal, begin: Decimal, sales: Decimal) -> Decimal | None:
    """Cash collected in the period / (receivables at its start + sales of the period) × 100."""
    base = begin + sales
    if base <= 0:
        return None
    return ratio(collected / base * 100)


def convert(amount: Decimal, currency: str, to: str, rates: Mapping[str, Decimal]) -> Decimal:
    """``amount`` in ``to`` through the euro rates (units per EUR), unrounded; rounding is the caller's."""
    if currency == to:
        return amount
    return amount * rates[to] / rates[currency]


def aging_lines(amounts: Mapping[str, Decimal], buckets: Sequence[Bucket] = DEFAULT_BUCKETS) -> list[AgingLine]:
    return [AgingLine(b.name, b.min_days, b.max_days, amounts.get(b.name, ZERO)) for b in buckets]


# ---------------------------------------------------------------- the whole set, by hand


@dataclass
class Kpis:
    """Every KPI of a scope at a date, in one presentation ``currency`` (rounded to its minor unit)."""

    currency: str
    as_of: dt.date
    aging: list[AgingLine]
    dso_countback: Decimal | None = None
    dso_standard: Decimal | None = None
    average_days_of_payment: Decimal | None = None
    average_days_beyond_terms: Decimal | None = None
    cei: Decimal | None = None
    collection_rate: Decimal | None = None
    sales_90: Decimal = ZERO
    collected: Decimal = ZERO
    disputed: Decimal = ZERO
    under_promise: Decimal = ZERO
    unapplied_cash: Decimal = ZERO
    deposits: Decimal = ZERO
    by_risk_class: dict[str, Decimal] = field(default_factory=dict)
    at_risk: Decimal = ZERO
    insured: Decimal = ZERO
    factored: Decimal = ZERO
    overdue_invoices: int = 0

    @property
    def total_receivables(self) -> Decimal:
        return sum((line.amount for line in self.aging), ZERO)

    @property
    def not_due(self) -> Decimal:
        return sum((line.amount for line in self.aging if line.max_days is not None and line.max_days <= 0), ZERO)

    @property
    def overdue(self) -> Decimal:
        return self.total_receivables - self.not_due


def _sum_converted(per_currency: Mapping[str, Decimal], to: str, rates: Mapping[str, Decimal]) -> Decimal:
    """Each currency's sum converted and rounded on its own, then added: what the SQL path does too."""
    return sum((quantize(convert(v, c, to, rates), to) for c, v in per_currency.items()), ZERO)


def _add(acc: dict[str, Decimal], currency: str, value: Decimal) -> None:
    acc[currency] = acc.get(currency, ZERO) + value


def reference_kpis(
    docs: Sequence[Doc],
    allocations: Sequence[Alloc],
    payments: Sequence[Pay],
    *,
    as_of: dt.date,
    currency: str,
    rates: Mapping[str, Decimal],
    buckets: Sequence[Bucket] = DEFAULT_BUCKETS,
    insured_limits: Mapping[int, tuple[str, Decimal]] | None = None,
    under_promise: Mapping[str, Decimal] | None = None,
) -> Kpis:
    """Every KPI from the raw ledger rows, one row at a time (the tests' reference; small data only).

    ``insured_limits``: customer id → (currency, insured amount) of the covers in force at ``as_of``.
    """
    opens = {d.id: open_at(d, allocations, as_of) for d in docs}
    by_id = {d.id: d for d in docs}
    conv = lambda per: _sum_converted(per, currency, rates)  # noqa: E731

    aging: dict[str, dict[str, Decimal]] = {b.name: {} for b in buckets}
    risk: dict[str, dict[str, Decimal]] = {}
    at_risk: dict[str, Decimal] = {}
    disputed: dict[str, Decimal] = {}
    factored: dict[str, Decimal] = {}
    per_customer: dict[int, dict[str, Decimal]] = {}
    overdue_invoices = 0
    for d in docs:
        o = opens[d.id]
        if o == 0 or d.issue_date > as_of:
            continue
        s = signed(d.type, o)
        days = days_past_due(d.due_date, as_of)
        bucket = next(b for b in buckets if b.contains(days))
        _add(aging[bucket.name], d.currency, s)
        risk.setdefault(d.risk_class, {})
        _add(risk[d.risk_class], d.currency, s)
        if d.risk_class in AT_RISK_CLASSES or (d.type == INVOICE and days > AT_RISK_DAYS):
            _add(at_risk, d.currency, s)
        if d.type == INVOICE and d.disputed_at(as_of):
            _add(disputed, d.currency, o)
        if d.factored_at(as_of):
            _add(factored, d.currency, s)
        if d.type == INVOICE and days > 0:
            overdue_invoices += 1
        _add(per_customer.setdefault(d.customer_id, {}), d.currency, s)

    out = Kpis(currency, as_of, aging_lines({n: conv(v) for n, v in aging.items()}, buckets))
    out.overdue_invoices = overdue_invoices
    out.by_risk_class = {k: conv(v) for k, v in sorted(risk.items())}
    out.at_risk, out.disputed, out.factored = conv(at_risk), conv(disputed), conv(factored)
    out.under_promise = conv(under_promise or {})

    insured: dict[str, Decimal] = {}
    for cid, (cur, limit) in (insured_limits or {}).items():
        balance = per_customer.get(cid, {}).get(cur, ZERO)
        if balance > 0:
            _add(insured, cur, min(balance, limit))
    out.insured = conv(insured)

    # cash: unapplied payments and deposits at as_of
    unapplied: dict[str, Decimal] = {}
    deposits: dict[str, Decimal] = {}
    for p in payments:
        if p.date > as_of or (p.returned_on is not None and p.returned_on <= as_of):
            continue
        left = p.amount - sum((a.amount for a in allocations if a.payment_id == p.id and a.date <= as_of), ZERO)
        _add(deposits if p.kind == "deposit" else unapplied, p.currency, left)
    out.unapplied_cash, out.deposits = conv(unapplied), conv(deposits)

    # sales (net of credit notes), by day
    def sales(first: dt.date, last: dt.date) -> Decimal:
        per: dict[str, Decimal] = {}
        for d in docs:
            if first <= d.issue_date <= last:
                _add(per, d.currency, signed(d.type, d.amount))
        return conv(per)

    receivables = out.total_receivables
    out.sales_90 = sales(as_of - dt.timedelta(days=SALES_DAYS - 1), as_of)
    out.dso_standard = dso_standard(receivables, out.sales_90)
    out.dso_countback = dso_countback(receivables, [(days_in(p), sales(*p)) for p in month_periods(as_of)])

    # payment behaviour: live cash allocations of the last 365 days
    # (amounts converted unrounded: these are weights, not money)
    pay_pairs: list[tuple[Decimal, int]] = []
    late_pairs: list[tuple[Decimal, int]] = []
    first = as_of - dt.timedelta(days=BEHAVIOUR_DAYS - 1)
    for a in allocations:
        if a.payment_id is None or a.is_reversal or not first <= a.date <= as_of:
            continue
        if a.reversed_on is not None and a.reversed_on <= as_of:
            continue
        target = by_id[a.target_id]
        amount = convert(a.amount, target.currency, currency, rates)
        pay_pairs.append((amount, (a.date - target.issue_date).days))
        late_pairs.append((amount, max(0, (a.date - target.due_date).days)))
    out.average_days_of_payment = weighted_days(pay_pairs)
    out.average_days_beyond_terms = weighted_days(late_pairs)

    # CEI and collection rate over the 30 days ending at as_of
    start = as_of - dt.timedelta(days=PERIOD_DAYS)
    begin_total = reference_receivables(docs, allocations, start, currency, rates)
    period_sales = sales(start + dt.timedelta(days=1), as_of)
    collected: dict[str, Decimal] = {}
    for a in allocations:
        if a.payment_id is not None and start < a.date <= as_of:
            _add(collected, by_id[a.target_id].currency, a.amount)
    out.collected = conv(collected)
    out.cei = cei(begin_total, period_sales, receivables, out.not_due)
    out.collection_rate = collection_rate(out.collected, begin_total, period_sales)
    return out


def reference_receivables(
    docs: Sequence[Doc], allocations: Sequence[Alloc], as_of: dt.date, currency: str, rates: Mapping[str, Decimal]
) -> Decimal:
    per: dict[str, Decimal] = {}
    for d in docs:
        o = open_at(d, allocations, as_of)
        if o:
            _add(per, d.currency, signed(d.type, o))
    return _sum_converted(per, currency, rates)


def days_in_month(day: dt.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]
