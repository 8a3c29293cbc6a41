"""Pure ledger rules: open amounts, signs, days overdue, aging buckets, allocation checks.

No ORM, no clock: values in, values out, ``as_of`` explicit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from relance.core import errors
from relance.core.money import quantum

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"


@dataclass(frozen=True, slots=True)
class Bucket:
    """An aging bucket: days past due from ``min_days`` to ``max_days`` inclusive (None = open-ended)."""

    name: str
    min_days: int | None
    max_days: int | None

    def contains(self, days_past_due: int) -> bool:
        low = self.min_days if self.min_days is not None else -(10**9)
        high = self.max_days if self.max_days is not None else 10**9
        return low <= days_past_due <= high


DEFAULT_BUCKETS: tuple[Bucket, ...] = (
    Bucket("not_due", None, 0),
    Bucket("1-30", 1, 30),
    Bucket("31-60", 31, 60),
    Bucket("61-90", 61, 90),
    Bucket("91-180", 91, 180),
    Bucket("181+", 181, None),
)


def buckets_from_bounds(bounds: Sequence[int]) -> tuple[Bucket, ...]:
    """Buckets from upper bounds in days past due, e.g. (30, 60, 90, 180) gives the default set."""
    if list(bounds) != sorted(set(bounds)) or any(b <= 0 for b in bounds):
        raise errors.ValidationError("Bucket bounds must be positive and increasing.", field="buckets")
    out = [Bucket("not_due", None, 0)]
    low = 1
    for high in bounds:
        out.append(Bucket(f"{low}-{high}", low, high))
        low = high + 1
    out.append(Bucket(f"{low}+", low, None))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Item:
    """An open item as the domain sees it."""

    number: str
    type: str
    issue_date: dt.date
    due_date: dt.date
    currency: str
    amount: Decimal
    open_amount: Decimal

    @property
    def signed_open(self) -> Decimal:
        return signed(self.type, self.open_amount)


def signed(doc_type: str, amount: Decimal) -> Decimal:
    """Receivable sign: invoices count positive, credit notes negative."""
    return -amount if doc_type == CREDIT_NOTE else amount


def days_past_due(due_date: dt.date, as_of: dt.date) -> int:
    """Days since the due date (negative while not yet due)."""
    return (as_of - due_date).days


def days_overdue(due_date: dt.date, as_of: dt.date) -> int:
    """Days overdue, zero while not yet due."""
    return max(0, days_past_due(due_date, as_of))


def bucket_for(due_date: dt.date, as_of: dt.date, buckets: Sequence[Bucket] = DEFAULT_BUCKETS) -> Bucket:
    days = days_past_due(due_date, as_of)
    for bucket in buckets:
        if bucket.contains(days):
            return bucket
    raise ValueError(f"No bucket holds {days} days past due")


def aged_balance(
    items: Iterable[Item], as_of: dt.date, buckets: Sequence[Bucket] = DEFAULT_BUCKETS
) -> dict[str, dict[str, Decimal]]:
    """{currency: {bucket name: signed open amount}}; credit notes age by their own due date."""
    out: dict[str, dict[str, Decimal]] = {}
    for item in items:
        if item.open_amount == 0:
            continue
        per = out.setdefault(item.currency, {b.name: Decimal(0) for b in buckets})
        per[bucket_for(item.due_date, as_of, buckets).name] += item.signed_open
    return out


def open_amount(amount: Decimal, allocations: Iterable[Decimal]) -> Decimal:
    """What is left of a document or a payment once its allocations (reversals negative) are applied."""
    return amount - sum(allocations, Decimal(0))


def check_amount(value: Decimal, currency: str, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    """A positive amount with no more decimals than the currency has."""
    if value < 0 or (value == 0 and not allow_zero):
        message = errors.NEGATIVE_AMOUNT if value < 0 else errors.ZERO_AMOUNT
        raise errors.ValidationError(message.format(value=value), field=field)
    q = quantum(currency)
    if value != value.quantize(q):
        raise errors.ValidationError(
            errors.TOO_MANY_DECIMALS.format(value=value, currency=currency, places=-q.as_tuple().exponent),
            field=field,
        )
    return value.quantize(q)


def check_dates(issue_date: dt.date, due_date: dt.date) -> None:
    if due_date < issue_date:
        raise errors.ValidationError(errors.DUE_BEFORE_ISSUE.format(due=due_date, issue=issue_date), field="due_date")


@dataclass(frozen=True, slots=True)
class AllocationRequest:
    amount: Decimal
    currency: str
    source_label: str
    source_currency: str
    source_open: Decimal
    source_customer: int | None
    target_number: str
    target_type: str
    target_currency: str
    target_open: Decimal
    target_customer: int


def check_allocation(req: AllocationRequest) -> None:
    """Refuse an allocation that would break an invariant; the message says which and why."""
    check_amount(req.amount, req.currency)
    if req.target_type != INVOICE:
        raise errors.ValidationError(
            errors.ALLOCATION_NOT_INVOICE.format(number=req.target_number, kind=req.target_type), field="target"
        )
    for other in (req.source_currency, req.target_currency):
        if other != req.currency:
            raise errors.ValidationError(
                errors.CURRENCY_MISMATCH.format(left=req.currency, right=other), field="currency"
            )
    if req.source_customer is not None and req.source_customer != req.target_customer:
        raise errors.ValidationError(
            errors.ALLOCATION_CUSTOMER_MISMATCH.format(source=req.source_label, number=req.target_number),
            field="target",
        )
    if req.amount > req.target_open:
        raise errors.ValidationError(
            errors.ALLOCATION_OVER_TARGET.format(
                amount=req.amount, number=req.target_number, open_amount=req.target_open
            ),
            field="amount",
        )
    if req.amount > req.source_open:
        raise errors.ValidationError(
            errors.ALLOCATION_OVER_SOURCE.format(
                amount=req.amount, source=req.source_label, open_amount=req.source_open
            ),
            field="amount",
        )


def balance(documents: Iterable[tuple[str, Decimal]], payments: Iterable[Decimal]) -> Decimal:
    """A customer's balance in one currency: invoices − credit notes − payments received."""
    return sum((signed(t, a) for t, a in documents), Decimal(0)) - sum(payments, Decimal(0))


# --- late-payment interest (pure) ----------------------------------------------------------------

DAYS_IN_YEAR = Decimal(365)


def half_year_start(day: dt.date) -> dt.date:
    """1 January or 1 July of ``day``'s half-year (French statutory rates are set per half-year)."""
    return dt.date(day.year, 1 if day.month <= 6 else 7, 1)


def next_half_year(day: dt.date) -> dt.date:
    start = half_year_start(day)
    return dt.date(start.year, 7, 1) if start.month == 1 else dt.date(start.year + 1, 1, 1)


def rate_in_force(table: Sequence[tuple[dt.date, Decimal]], day: dt.date) -> Decimal:
    """The rate of the latest entry dated on or before ``day`` (``table`` sorted by date)."""
    found: Decimal | None = None
    for start, rate in table:
        if start > day:
            break
        found = rate
    if found is None:
        raise LookupError(f"No rate in force on {day.isoformat()}: load the rates (relance rates load --kind policy).")
    return found


@dataclass(frozen=True, slots=True)
class InterestLine:
    period_from: dt.date  # first day accruing
    period_to: dt.date  # last day accruing (inclusive)
    base: Decimal  # the open amount accruing
    rate: Decimal  # percent a year

    @property
    def days(self) -> int:
        return (self.period_to - self.period_from).days + 1

    @property
    def amount(self) -> Decimal:
        """Unrounded: the caller rounds once per claim line, with a named mode."""
        return self.base * self.rate / Decimal(100) * Decimal(self.days) / DAYS_IN_YEAR


def late_interest(
    *,
    due_date: dt.date,
    amount: Decimal,
    settlements: Sequence[tuple[dt.date, Decimal]],
    until: dt.date,
    rate_for: Any,
    claimed_through: dt.date | None = None,
) -> list[InterestLine]:
    """Interest on an invoice paid late or still open, period by period.

    Each day after the due date up to ``until`` accrues on the amount still unpaid at the start of that day
    (a payment dated ``p`` stops the accrual after day ``p``: an invoice paid on ``p`` is late ``p - due``
    days). A new period starts whenever the rate (``rate_for(day)``, percent a year) or the base changes.
    Days up to ``claimed_through`` were claimed before and are left out: nothing is claimed twice.
    """
    changes = sorted(settlements)
    first = due_date + dt.timedelta(days=1)
    if claimed_through is not None:
        first = max(first, claimed_through + dt.timedelta(days=1))
    lines: list[InterestLine] = []
    day = first
    while day <= until:
        paid = sum((a for d, a in changes if d < day), Decimal(0))
        base = amount - paid
        rate = rate_for(day)
        # the period ends before the next rate or base change
        end = until
        nxt = next_half_year(day) - dt.timedelta(days=1)
        end = min(end, nxt)
        later = [d for d, _ in changes if d >= day]
        if later:
            end = min(end, min(later))
        if base > 0 and rate > 0:
            if (
                lines
                and lines[-1].base == base
                and lines[-1].rate == rate
                and lines[-1].period_to == day - dt.timedelta(days=1)
            ):
                lines[-1] = InterestLine(lines[-1].period_from, end, base, rate)
            else:
                lines.append(InterestLine(day, end, base, rate))
        day = end + dt.timedelta(days=1)
    return lines
