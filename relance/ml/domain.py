"""Pure decisions of the ML app: fallback estimates, turning days into dates, payer-profile rules.

No ORM, no clock. Delays are days between the due date and the payment (negative: early).

Fallback ladder (used when the company has no trained model, see docs/ml.md):
1. the customer's own past delays, when it has at least ``MIN_CUSTOMER_HISTORY`` of them;
2. the delays of the company's customers with the same payer profile (at least ``MIN_BASELINE``);
3. the delays of all the company's customers (at least ``MIN_BASELINE``);
4. the due date itself (no history at all).
The reason returned says which one was used.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from relance.core.vocab import PayerProfile

MIN_CUSTOMER_HISTORY = 3
MIN_BASELINE = 20
INTERVAL = (0.1, 0.9)  # an 80% interval
UNSEEN_MARGIN = 14  # days added when an open invoice is already later than every delay of the reference set


@dataclass(frozen=True, slots=True)
class Estimate:
    """Days late (expected, interval) and probability of more than ``late_days`` late; how it was obtained."""

    days_late: float
    low: float
    high: float
    prob_late: float
    fallback: bool = False
    reason: str = ""


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile (numpy's default), pure Python."""
    if not values:
        raise ValueError("quantile of nothing")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def estimate_from_delays(delays: Sequence[float], *, late_days: int, elapsed: float | None = None) -> Estimate:
    """Mean, 80% interval and smoothed share above ``late_days`` of ``delays``.

    ``elapsed``: days already past due of an invoice still open; only delays longer than that are possible,
    so the estimate is conditioned on them (or ``elapsed + UNSEEN_MARGIN`` when none is longer).
    """
    values = [float(d) for d in delays]
    if elapsed is not None and elapsed > 0:
        longer = [d for d in values if d > elapsed]
        if not longer:
            days = elapsed + UNSEEN_MARGIN
            return Estimate(days, elapsed, days + UNSEEN_MARGIN, 1.0 if elapsed > late_days else 0.5)
        values = longer
    if not values:
        return Estimate(0.0, 0.0, 0.0, 0.5)
    late = sum(1 for d in values if d > late_days)
    prob = (late + 0.5) / (len(values) + 1)  # smoothed: never exactly 0 or 1 from a handful of invoices
    return Estimate(sum(values) / len(values), quantile(values, INTERVAL[0]), quantile(values, INTERVAL[1]), prob)


def fallback_estimate(
    *,
    customer_delays: Sequence[float],
    profile_delays: Sequence[float] = (),
    company_delays: Sequence[float] = (),
    late_days: int,
    elapsed: float | None = None,
    why: str = "no trained model for this company",
) -> Estimate:
    """The documented fallback ladder (module docstring); the reason names the rung used."""
    if len(customer_delays) >= MIN_CUSTOMER_HISTORY:
        source, delays = f"customer mean of {len(customer_delays)} past delays", customer_delays
    elif len(profile_delays) >= MIN_BASELINE:
        source, delays = "baseline of customers with the same payer profile", profile_delays
    elif len(company_delays) >= MIN_BASELINE:
        source, delays = "company baseline", company_delays
    else:
        source, delays = "due date (no payment history)", ()
    est = estimate_from_delays(delays, late_days=late_days, elapsed=elapsed)
    return Estimate(est.days_late, est.low, est.high, est.prob_late, True, f"{why}: {source}")


def beyond_elapsed(est: Estimate, elapsed: float) -> Estimate:
    """A model's estimate for an invoice still open ``elapsed`` days after its due date: it will be paid later than
    that. An estimate not beyond it (models learn from invoices paid, rarely this late) becomes
    ``elapsed + UNSEEN_MARGIN``, like the fallback's."""
    if elapsed <= 0:
        return est
    if est.days_late > elapsed:
        return Estimate(est.days_late, max(est.low, elapsed), est.high, est.prob_late, est.fallback, est.reason)
    days = elapsed + UNSEEN_MARGIN
    return Estimate(days, elapsed, max(est.high, days + UNSEEN_MARGIN), est.prob_late, est.fallback, est.reason)


@dataclass(frozen=True, slots=True)
class DatedPrediction:
    expected_payment_date: dt.date
    expected_days_late: int
    prob_late: float
    interval_low: dt.date
    interval_high: dt.date


def to_dates(est: Estimate, *, due_date: dt.date, as_of: dt.date, late_days: int) -> DatedPrediction:
    """Days late → dates. An open invoice is paid on ``as_of`` at the earliest; once it is more than
    ``late_days`` past due and still open, being paid late is certain."""

    def day(days: float) -> dt.date:
        return max(due_date + dt.timedelta(days=round(days)), as_of)

    expected = day(est.days_late)
    low = min(day(est.low), expected)
    high = max(day(est.high), expected)
    prob = 1.0 if (as_of - due_date).days > late_days else min(max(est.prob_late, 0.0), 1.0)
    return DatedPrediction(expected, (expected - due_date).days, prob, low, high)


# --- payer profiles ------------------------------------------------------------------------------------

# Thresholds of the classification (docs/ml.md explains them). Days unless said. They are round values chosen
# for what each behaviour means to a credit manager; `relance ml profiles --compare` reports how well they
# recover the demo generator's profiles.
PROFILE_MIN_HISTORY = 3  # fewer settled invoices (and no long-unpaid one): not classified
DEFAULTING_OVERDUE_DAYS = 60  # the oldest unpaid invoice is that many days past due...
DEFAULTING_SILENCE_DAYS = 45  # ...and nothing was paid for that long
DETERIORATING_MIN_HISTORY = 6
DETERIORATING_JUMP = 15.0  # the last six payments' median delay is 15 days above the earlier median...
DETERIORATING_LATE = 15.0  # ...and at least 15 days late
ERRATIC_IQR = 20.0  # the middle half of the delays spans 20 days or more (robust to a few outliers)
SLOW_MEDIAN = 10.0  # typically paid more than 10 days late, steadily


# The rules' explanations: English here (audit trail, CLI); relance.ml.labels translates them for pages.
RULE_TEXTS = {
    "defaulting": "an invoice {overdue} days overdue and no payment for {silence} days",
    "defaulting_never": "an invoice {overdue} days overdue and no payment ever",
    "thin": "only {paid} invoices paid so far",
    "deteriorating": "last six payments {recent} days late, {jump} days later than before",
    "erratic": "usual delays spread over {spread} days",
    "slow": "usually paid {median} days late",
    "prompt": "usually paid {median} days from the due date",
}


@dataclass(frozen=True, slots=True)
class ProfileDecision:
    profile: str  # a PayerProfile value, or "" when there is too little history
    rule_key: str
    params: dict[str, int]

    @property
    def rule(self) -> str:
        return RULE_TEXTS[self.rule_key].format(**self.params)


def classify_payer(f: dict[str, float]) -> ProfileDecision:
    """The payer profile from the customer's features (``features.customer_features``): the first rule that holds.

    1. defaulting: an invoice unpaid ``DEFAULTING_OVERDUE_DAYS`` past due and no payment for
       ``DEFAULTING_SILENCE_DAYS``;
    2. not classified: fewer than ``PROFILE_MIN_HISTORY`` paid invoices;
    3. deteriorating: recent median delay ``DETERIORATING_JUMP`` above the earlier one and ``DETERIORATING_LATE`` late;
    4. erratic: interquartile range of the delays at least ``ERRATIC_IQR``;
    5. slow but steady: median delay above ``SLOW_MEDIAN``;
    6. prompt: the rest.
    """

    def r(value: float) -> int:
        return int(round(value))

    if f["oldest_overdue_days"] >= DEFAULTING_OVERDUE_DAYS and f["days_since_last_payment"] >= DEFAULTING_SILENCE_DAYS:
        if f["days_since_last_payment"] >= 9999:
            return ProfileDecision(
                PayerProfile.DEFAULTING, "defaulting_never", {"overdue": r(f["oldest_overdue_days"])}
            )
        return ProfileDecision(
            PayerProfile.DEFAULTING,
            "defaulting",
            {"overdue": r(f["oldest_overdue_days"]), "silence": r(f["days_since_last_payment"])},
        )
    if f["n_settled"] < PROFILE_MIN_HISTORY:
        return ProfileDecision("", "thin", {"paid": r(f["n_settled"])})
    jump = f["recent_median_delay"] - f["earlier_median_delay"]
    if (
        f["n_settled"] >= DETERIORATING_MIN_HISTORY
        and jump >= DETERIORATING_JUMP
        and f["recent_median_delay"] >= DETERIORATING_LATE
    ):
        return ProfileDecision(
            PayerProfile.DETERIORATING, "deteriorating", {"recent": r(f["recent_median_delay"]), "jump": r(jump)}
        )
    if f["iqr_delay"] >= ERRATIC_IQR:
        return ProfileDecision(PayerProfile.ERRATIC, "erratic", {"spread": r(f["iqr_delay"])})
    if f["median_delay"] > SLOW_MEDIAN:
        return ProfileDecision(PayerProfile.SLOW_STEADY, "slow", {"median": r(f["median_delay"])})
    return ProfileDecision(PayerProfile.PROMPT, "prompt", {"median": r(f["median_delay"])})
