"""Features of an invoice as of a prediction date, from the customer's history (pure, as-of only).

Nothing here reads the database or the clock. The one rule: **only what was known before ``as_of``
may count**. An event dated ``as_of`` or later is invisible:

* another invoice counts only if it was issued before ``as_of``; its payment delay counts only if it was
  settled before ``as_of`` (``settled_on < as_of``); otherwise it is, at most, an invoice still open;
* a dispute counts only if it was opened before ``as_of``; a reminder only if it was sent before ``as_of``;
* the invoice itself contributes its amount, dates and terms, and its own reminders and disputes before
  ``as_of`` (none when predicting as of its issue date), never its payment.

``tests/ml/test_features.py`` checks this with Hypothesis: changing or adding anything dated on or after
``as_of`` never changes a feature.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

DEFAULT_LATE_DAYS = 30
RECENT = 3  # "recent" delays: the last three settled invoices
WINDOW = 6  # recent_median_delay: the last six; earlier_median_delay: the ones before


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """What the ledger says about one invoice of a customer (dates of its events included)."""

    key: int | str
    issue_date: dt.date
    due_date: dt.date
    amount: Decimal
    currency: str = "EUR"
    settled_on: dt.date | None = None  # date paid in full; None while open (or closed without payment)
    disputes: tuple[dt.date, ...] = ()  # dates disputes on this invoice were opened
    reminders: tuple[dt.date, ...] = ()  # dates reminders about this invoice were sent

    @property
    def delay(self) -> int | None:
        """Days between the due date and the payment (negative: early); None while unpaid."""
        return None if self.settled_on is None else (self.settled_on - self.due_date).days


# The order of the model's columns. Keep names stable: model files store them.
FEATURE_NAMES: tuple[str, ...] = (
    "n_settled",
    "mean_delay",
    "median_delay",
    "std_delay",
    "last_delay",
    "recent_mean_delay",
    "trend",
    "max_delay",
    "iqr_delay",
    "recent_median_delay",
    "earlier_median_delay",
    "share_late",
    "days_since_last_payment",
    "n_open_overdue",
    "oldest_overdue_days",
    "open_overdue_share",
    "disputes_before",
    "dispute_rate",
    "log_amount",
    "amount_ratio",
    "terms_days",
    "due_month",
    "age_days",
    "days_past_due",
    "reminders_so_far",
    "own_disputes",
)

NO_PAYMENT_YET = 9999.0  # days_since_last_payment when nothing was ever paid


def paid_history(
    history: Iterable[InvoiceFacts], as_of: dt.date, *, exclude: int | str | None = None
) -> list[InvoiceFacts]:
    """Invoices settled before ``as_of`` (the only delays known then), oldest settlement first."""
    done = [
        inv
        for inv in history
        if inv.key != exclude and inv.settled_on is not None and inv.settled_on < as_of and inv.issue_date < as_of
    ]
    return sorted(done, key=lambda inv: (inv.settled_on, inv.due_date, str(inv.key)))


_NEVER = 10**9  # ordinal of "not settled"


class CustomerHistory:
    """A customer's invoices as arrays, to compute ``customer_features`` at many dates quickly.

    Building it reads every invoice once; each ``features(as_of)`` call is then vectorised (numpy), but applies
    exactly the as-of rules of the module docstring.
    """

    def __init__(self, history: Iterable[InvoiceFacts]) -> None:
        invoices = sorted(history, key=lambda i: (i.settled_on or dt.date.max, i.due_date, str(i.key)))
        self.index = {inv.key: n for n, inv in enumerate(invoices)}
        self.issue = np.array([i.issue_date.toordinal() for i in invoices], dtype=np.int64)
        self.due = np.array([i.due_date.toordinal() for i in invoices], dtype=np.int64)
        self.settled = np.array(
            [i.settled_on.toordinal() if i.settled_on else _NEVER for i in invoices], dtype=np.int64
        )
        self.amount = np.array([float(i.amount) for i in invoices], dtype=float)
        self.dispute_day = np.array([d.toordinal() for i in invoices for d in i.disputes], dtype=np.int64)
        self.dispute_owner = np.array([n for n, i in enumerate(invoices) for _ in i.disputes], dtype=np.int64)

    def features(
        self, as_of: dt.date, *, exclude: int | str | None = None, late_days: int = DEFAULT_LATE_DAYS
    ) -> dict[str, float]:
        a = as_of.toordinal()
        issued = self.issue < a
        if exclude is not None and exclude in self.index:
            issued[self.index[exclude]] = False
        paid = issued & (self.settled < a)  # invoices are ordered by settlement: this keeps that order
        delays = (self.settled[paid] - self.due[paid]).astype(float)
        n = len(delays)
        overdue = issued & ~(self.settled < a) & (self.due < a)
        n_issued = int(issued.sum())
        n_overdue = int(overdue.sum())
        disputes = int((issued[self.dispute_owner] & (self.dispute_day < a)).sum()) if len(self.dispute_day) else 0
        earlier = delays[:-WINDOW] if n > WINDOW else delays[: max(1, n // 2)]
        last8_due = self.due[paid][-8:].astype(float)
        last8 = delays[-8:]
        ordered = np.sort(delays)
        return {
            "n_settled": float(n),
            "mean_delay": float(delays.mean()) if n else 0.0,
            "median_delay": _q(ordered, 0.5),
            "std_delay": float(delays.std(ddof=1)) if n > 1 else 0.0,
            "last_delay": float(delays[-1]) if n else 0.0,
            "recent_mean_delay": float(delays[-RECENT:].mean()) if n else 0.0,
            "trend": _slope(last8_due, last8),
            "max_delay": float(ordered[-1]) if n else 0.0,
            "iqr_delay": _q(ordered, 0.75) - _q(ordered, 0.25),
            "recent_median_delay": _q(np.sort(delays[-WINDOW:]), 0.5),
            "earlier_median_delay": _q(np.sort(earlier), 0.5),
            "share_late": float((delays > late_days).mean()) if n else 0.0,
            "days_since_last_payment": float(a - self.settled[paid][-1]) if n else NO_PAYMENT_YET,
            "n_open_overdue": float(n_overdue),
            "oldest_overdue_days": float((a - self.due[overdue]).max()) if n_overdue else 0.0,
            "open_overdue_share": n_overdue / n_issued if n_issued else 0.0,
            "disputes_before": float(disputes),
            "dispute_rate": disputes / n_issued if n_issued else 0.0,
            # fsum: exact, so the order of the invoices (which later events change) cannot move the last digit
            "mean_amount": math.fsum(self.amount[issued]) / n_issued if n_issued else 0.0,
        }


def _q(ordered: np.ndarray, q: float) -> float:
    """Quantile of an already sorted array, linear interpolation (numpy's default); 0 when empty."""
    n = len(ordered)
    if n == 0:
        return 0.0
    pos = (n - 1) * q
    lo = int(pos)
    hi = min(lo + 1, n - 1)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of delay against due date, in days of delay per 30 days; 0 with < 3 points."""
    if len(x) < 3:
        return 0.0
    dx = x - x.mean()
    sxx = float((dx * dx).sum())
    return 0.0 if sxx == 0 else 30.0 * float((dx * (y - y.mean())).sum()) / sxx


def customer_features(
    history: Iterable[InvoiceFacts],
    as_of: dt.date,
    *,
    exclude: int | str | None = None,
    late_days: int = DEFAULT_LATE_DAYS,
) -> dict[str, float]:
    """The customer's side of the features as of ``as_of``: past delays (mean, median, spread, last ones, trend),
    unpaid overdue invoices, past disputes, usual amount. ``exclude``: the invoice being predicted."""
    return CustomerHistory(history).features(as_of, exclude=exclude, late_days=late_days)


def invoice_features(
    invoice: InvoiceFacts,
    history: Iterable[InvoiceFacts],
    as_of: dt.date,
    *,
    late_days: int = DEFAULT_LATE_DAYS,
    customer: dict[str, float] | None = None,
) -> dict[str, float]:
    """All features of ``invoice`` as of ``as_of`` (on or after its issue date), in FEATURE_NAMES order.

    ``history`` is the customer's invoices (the invoice itself may be among them: it is skipped).
    ``customer`` may pass ``customer_features(history, as_of, exclude=invoice.key)`` already computed.
    """
    if as_of < invoice.issue_date:
        raise ValueError(f"cannot predict invoice {invoice.key} before its issue date ({invoice.issue_date})")
    cust = (
        customer
        if customer is not None
        else customer_features(history, as_of, exclude=invoice.key, late_days=late_days)
    )
    amount = float(invoice.amount)
    usual = cust["mean_amount"]
    feats = dict(cust)
    feats.update(
        {
            "log_amount": math.log1p(max(amount, 0.0)),
            "amount_ratio": amount / usual if usual > 0 else 1.0,
            "terms_days": float((invoice.due_date - invoice.issue_date).days),
            "due_month": float(invoice.due_date.month),
            "age_days": float((as_of - invoice.issue_date).days),
            "days_past_due": float((as_of - invoice.due_date).days),
            "reminders_so_far": float(sum(1 for d in invoice.reminders if d < as_of)),
            "own_disputes": float(sum(1 for d in invoice.disputes if d < as_of)),
        }
    )
    return {name: feats[name] for name in FEATURE_NAMES}


def as_row(features: dict[str, float]) -> list[float]:
    """The features as a model row, in FEATURE_NAMES order."""
    return [features[name] for name in FEATURE_NAMES]
