"""Monitoring rules (pure): which alert conditions hold for a customer on a date.

The daily job compares these conditions with the live alerts: a condition without a live alert raises one,
a live alert whose condition no longer holds is cleared (risk.monitor). So each alert is raised once and
lasts as long as its condition. Kinds (public names, other apps coordinate on them):

* ``risk.class_downgrade``  class worse than its best class over the last ``downgrade_days`` (score history);
* ``risk.legal_event``      a legal event published in the last ``legal_event_alert_days``;
* ``risk.limit_overrun``    exposure above the limit in force, when granted or a recommended limit above 0;
* ``risk.payment_slippage`` the delay drifts significantly (Welch's one-sided t-test, see :func:`slippage`);
* ``risk.new_overdue``      an invoice at least ``new_overdue_threshold`` overdue for 30 days at most;
* ``risk.cover_expiring``   credit-insurance cover expiring within ``cover_expiry_days`` and not renewed;
* ``promise.broken``        a promise broken in the last 30 days while the customer is still overdue (key: the
  promise id, as relance.collections raises it: the same alert, never two).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from relance.core.money import quantize

from .config import dec
from .domain import BehaviourStats, WindowStats, class_rank

CLASS_DOWNGRADE = "risk.class_downgrade"
LEGAL_EVENT = "risk.legal_event"
LIMIT_OVERRUN = "risk.limit_overrun"
PAYMENT_SLIPPAGE = "risk.payment_slippage"
NEW_OVERDUE = "risk.new_overdue"
COVER_EXPIRING = "risk.cover_expiring"
PROMISE_BROKEN = "promise.broken"
CLAIM_DEADLINE = "insolvency.claim_deadline"
MONITORED = (CLASS_DOWNGRADE, LEGAL_EVENT, LIMIT_OVERRUN, PAYMENT_SLIPPAGE, NEW_OVERDUE, COVER_EXPIRING)
DOWNGRADE_DAYS = 90
NEW_OVERDUE_DAYS = 30
PROMISE_DAYS = 30

# One-sided critical values of Student's t for alpha = 0.10, 0.05, 0.025, 0.01 by degrees of freedom.
_T_TABLE = {
    1: (3.078, 6.314, 12.706, 31.821),
    2: (1.886, 2.920, 4.303, 6.965),
    3: (1.638, 2.353, 3.182, 4.541),
    4: (1.533, 2.132, 2.776, 3.747),
    5: (1.476, 2.015, 2.571, 3.365),
    6: (1.440, 1.943, 2.447, 3.143),
    7: (1.415, 1.895, 2.365, 2.998),
    8: (1.397, 1.860, 2.306, 2.896),
    9: (1.383, 1.833, 2.262, 2.821),
    10: (1.372, 1.812, 2.228, 2.764),
    12: (1.356, 1.782, 2.179, 2.681),
    15: (1.341, 1.753, 2.131, 2.602),
    20: (1.325, 1.725, 2.086, 2.528),
    30: (1.310, 1.697, 2.042, 2.457),
    60: (1.296, 1.671, 2.000, 2.390),
    120: (1.289, 1.658, 1.980, 2.358),
}
_NORMAL = (1.282, 1.645, 1.960, 2.326)
_ALPHAS = ("0.10", "0.05", "0.025", "0.01")


def t_critical(df: float, alpha: str = "0.05") -> float:
    """One-sided critical value for ``df`` degrees of freedom (the next tabulated df below: conservative)."""
    column = _ALPHAS.index(alpha)
    if df > 120:
        return _NORMAL[column]
    usable = [d for d in _T_TABLE if d <= max(1.0, df)]
    return _T_TABLE[max(usable)][column]


@dataclass(frozen=True)
class Slippage:
    recent_mean: Decimal
    prior_mean: Decimal
    t: float
    df: float
    critical: float

    @property
    def drift(self) -> Decimal:
        return self.recent_mean - self.prior_mean


def slippage(recent: WindowStats, prior: WindowStats, cfg: dict[str, Any]) -> Slippage | None:
    """A significant increase of the days late in the recent window over the customer's own history.

    Welch's unequal-variance t-test, one-sided (H1: recent mean > prior mean), on the days between due date and
    settlement of the invoices settled in each window; degrees of freedom by Welch-Satterthwaite. It needs
    ``slippage_min_recent`` and ``slippage_min_prior`` invoices and a drift of at least ``slippage_min_days``.
    """
    m = cfg["monitoring"]
    if recent.n < int(m["slippage_min_recent"]) or prior.n < int(m["slippage_min_prior"]):
        return None
    mean_r, mean_p = recent.mean, prior.mean
    if mean_r is None or mean_p is None or mean_r - mean_p < dec(m["slippage_min_days"]):
        return None
    vr, vp = float(recent.variance() or 0), float(prior.variance() or 0)
    ar, ap = vr / recent.n, vp / prior.n
    se2 = ar + ap
    diff = float(mean_r - mean_p)
    if se2 == 0:  # no spread at all: a constant shift is as significant as it gets
        t, df = math.inf, float(recent.n + prior.n - 2)
    else:
        t = diff / math.sqrt(se2)
        denom = (ar * ar / (recent.n - 1) if recent.n > 1 else 0) + (ap * ap / (prior.n - 1) if prior.n > 1 else 0)
        df = se2 * se2 / denom if denom > 0 else float(recent.n + prior.n - 2)
    critical = t_critical(df, str(m["slippage_alpha"]))
    if t < critical:
        return None
    return Slippage(mean_r, mean_p, t, df, critical)


@dataclass(frozen=True)
class Condition:
    kind: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    severity: str = "warning"


@dataclass(frozen=True)
class OverdueItem:
    number: str
    open_amount: Decimal  # company currency
    due_date: dt.date


@dataclass(frozen=True)
class CoverIn:
    id: int
    insurer: str
    expires_on: dt.date | None
    valid_from: dt.date


@dataclass(frozen=True)
class MonitorInput:
    risk_class: str
    best_recent_class: str  # best class in the last DOWNGRADE_DAYS days (score history), "" if none
    stats: BehaviourStats
    exposure: Decimal
    limit: Decimal | None
    currency: str
    limit_granted: bool = False  # the limit in force is a granted one (else the recommended one)
    overdue_items: tuple[OverdueItem, ...] = ()
    legal_events: tuple[tuple[str, str, dt.date], ...] = ()  # (reference, kind, published_on)
    covers: tuple[CoverIn, ...] = ()
    broken_promises: tuple[tuple[int, dt.date], ...] = ()  # (promise id, broken on)


def conditions(data: MonitorInput, *, as_of: dt.date, cfg: dict[str, Any]) -> list[Condition]:
    """Every alert condition that holds for the customer on ``as_of``."""
    m = cfg["monitoring"]
    out: list[Condition] = []
    if data.best_recent_class and class_rank(data.risk_class) > class_rank(data.best_recent_class):
        severity = "critical" if data.risk_class in ("E", "X") else "warning"
        params = {"old": data.best_recent_class, "new": data.risk_class}
        out.append(Condition(CLASS_DOWNGRADE, f"{data.best_recent_class}>{data.risk_class}", params, severity))
    for reference, kind, published_on in data.legal_events:
        if 0 <= (as_of - published_on).days < int(m["legal_event_alert_days"]):
            severity = "info" if kind in ("closure", "plan") else "critical"
            params = {"kind": kind, "published_on": published_on.isoformat(), "reference": reference}
            out.append(Condition(LEGAL_EVENT, reference, params, severity))
    # Only against a limit that means something: a granted one (even 0: a decision), or a recommended one above
    # 0. A recommended 0 (class E/X, negative equity) already says "no credit": the class, its downgrade alert
    # and the credit check (cash in advance) cover it; an overrun alert on each such account only adds noise.
    if data.limit is not None and (data.limit_granted or data.limit > 0) and data.exposure > data.limit:
        params = {
            "exposure": str(quantize(data.exposure, data.currency)),
            "limit": str(quantize(data.limit, data.currency)),
            "currency": data.currency,
        }
        out.append(Condition(LIMIT_OVERRUN, "", params))
    slip = slippage(data.stats.recent, data.stats.prior, cfg)
    if slip is not None:
        params = {
            "recent": str(round(slip.recent_mean, 1)),
            "prior": str(round(slip.prior_mean, 1)),
            "t": round(slip.t, 2) if math.isfinite(slip.t) else "inf",
            "df": round(slip.df, 1),
        }
        out.append(Condition(PAYMENT_SLIPPAGE, "", params))
    threshold = dec(m["new_overdue_threshold"])
    for item in data.overdue_items:
        days = (as_of - item.due_date).days
        if 0 < days <= NEW_OVERDUE_DAYS and item.open_amount >= threshold:
            amount = str(quantize(item.open_amount, data.currency))
            params = {"number": item.number, "amount": amount, "days": days, "currency": data.currency}
            out.append(Condition(NEW_OVERDUE, item.number, params))
    horizon = as_of + dt.timedelta(days=int(m["cover_expiry_days"]))
    for cover in data.covers:
        if cover.expires_on is None or not as_of <= cover.expires_on <= horizon:
            continue
        renewed = any(
            c.id != cover.id and (c.expires_on is None or c.expires_on > cover.expires_on) for c in data.covers
        )
        if not renewed:
            params = {"insurer": cover.insurer, "expires_on": cover.expires_on.isoformat()}
            out.append(Condition(COVER_EXPIRING, f"cover:{cover.id}", params))
    if data.stats.overdue_amount > 0:
        for promise_id, broken_on in data.broken_promises:
            if 0 <= (as_of - broken_on).days < PROMISE_DAYS:
                out.append(
                    Condition(
                        PROMISE_BROKEN, str(promise_id), {"broken_on": broken_on.isoformat(), "promise": promise_id}
                    )
                )
    return out
