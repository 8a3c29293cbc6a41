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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

DEFAULT_LATE_DAYS = 30
RECENT = 3  # "recent" delays: the last three settled invoices


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

# Words for the customer page ("why late"), keyed by feature name.
FEATURE_LABELS: dict[str, str] = {
    "n_settled": "number of invoices paid before",
    "mean_delay": "average past delay",
    "median_delay": "median past delay",
    "std_delay": "spread of past delays",
    "last_delay": "delay of the last payment",
    "recent_mean_delay": "average delay of the last three payments",
    "trend": "trend of the delays",
    "max_delay": "longest past delay",
    "share_late": "share of past invoices paid very late",
    "days_since_last_payment": "days since the last payment",
    "n_open_overdue": "other invoices overdue and unpaid",
    "oldest_overdue_days": "days overdue of the oldest unpaid invoice",
    "open_overdue_share": "share of issued invoices overdue and unpaid",
    "disputes_before": "past disputes",
    "dispute_rate": "share of invoices disputed",
    "log_amount": "amount",
    "amount_ratio": "amount compared with the customer's usual invoices",
    "terms_days": "payment terms",
    "due_month": "month of the due date",
    "age_days": "age of the invoice",
    "days_past_due": "days past due",
    "reminders_so_far": "reminders sent",
    "own_disputes": "disputes on this invoice",
}

NO_PAYMENT_YET = 9999.0  # days_since_last_payment when nothing was ever paid


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _median(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _std(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    m = _mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def _trend(points: Sequence[tuple[int, int]]) -> float:
    """Least-squares slope of delay against due date, in days of delay per 30 days; 0 with < 3 points."""
    if len(points) < 3:
        return 0.0
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    mx, my = _mean(xs), _mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return 30.0 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


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


def customer_features(
    history: Iterable[InvoiceFacts],
    as_of: dt.date,
    *,
    exclude: int | str | None = None,
    late_days: int = DEFAULT_LATE_DAYS,
) -> dict[str, float]:
    """The customer's side of the features: past delays, their trend, unpaid invoices, disputes, as of ``as_of``."""
    issued = [inv for inv in history if inv.key != exclude and inv.issue_date < as_of]
    paid = paid_history(issued, as_of)
    delays = [float(inv.delay) for inv in paid]  # type: ignore[arg-type]
    recent = delays[-RECENT:]
    # recent points for the trend: the last 8 payments, by due date
    trend_points = sorted((inv.due_date.toordinal(), inv.delay) for inv in paid[-8:])
    open_overdue = [
        inv for inv in issued if (inv.settled_on is None or inv.settled_on >= as_of) and inv.due_date < as_of
    ]
    oldest = max(((as_of - inv.due_date).days for inv in open_overdue), default=0)
    disputes = sum(1 for inv in issued for d in inv.disputes if d < as_of)
    last_payment = paid[-1].settled_on if paid else None
    return {
        "n_settled": float(len(delays)),
        "mean_delay": _mean(delays),
        "median_delay": _median(delays),
        "std_delay": _std(delays),
        "last_delay": delays[-1] if delays else 0.0,
        "recent_mean_delay": _mean(recent),
        "trend": _trend(trend_points),  # type: ignore[arg-type]
        "max_delay": max(delays, default=0.0),
        "share_late": (sum(1 for d in delays if d > late_days) / len(delays)) if delays else 0.0,
        "days_since_last_payment": float((as_of - last_payment).days) if last_payment else NO_PAYMENT_YET,
        "n_open_overdue": float(len(open_overdue)),
        "oldest_overdue_days": float(oldest),
        "open_overdue_share": len(open_overdue) / len(issued) if issued else 0.0,
        "disputes_before": float(disputes),
        "dispute_rate": disputes / len(issued) if issued else 0.0,
    }


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
    history = list(history)
    cust = (
        customer
        if customer is not None
        else customer_features(history, as_of, exclude=invoice.key, late_days=late_days)
    )
    earlier = [float(inv.amount) for inv in history if inv.key != invoice.key and inv.issue_date < as_of]
    amount = float(invoice.amount)
    usual = _mean(earlier)
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
