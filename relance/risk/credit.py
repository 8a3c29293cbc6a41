"""Credit limits and credit checks (pure): the recommended limit with its rule, and the credit-check decision.

Recommended limit (settings ``limits``, docs/risk.md):

    monthly sales with us (last 12 months) x months_of_sales x class factor
    (a customer without sales history: the starter limit of its class; never below it with a history)
    capped at equity_share x equity (latest financial statements), and at the provider's limit when given,
    rounded down to round_to.

Credit check (settings ``credit_check``): each rule proposes a decision and possibly a deposit; the strictest
wins (approve < approve_with_deposit < cash_in_advance < block). A deposit is rounded up to ``deposit_step``;
above ``max_deposit_percent`` the answer is cash in advance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from relance.core.money import quantize

from .config import dec
from .domain import Reason, X

APPROVE = "approve"
DEPOSIT = "approve_with_deposit"
CASH = "cash_in_advance"
BLOCK = "block"
DECISIONS = (APPROVE, DEPOSIT, CASH, BLOCK)


@dataclass(frozen=True)
class LimitInput:
    risk_class: str
    currency: str
    sales_12m: Decimal = Decimal(0)  # invoiced over the last 12 months, company currency
    months_of_history: int = 0  # months since the first invoice, at most 12
    equity: Decimal | None = None  # latest statement, company currency
    provider_limit: Decimal | None = None


@dataclass(frozen=True)
class Recommendation:
    amount: Decimal
    currency: str
    steps: tuple[Reason, ...]  # the rule, step by step (rendered by risk.reasons.rule_text)


def _fmt(value: Decimal, currency: str) -> str:
    return str(quantize(value, currency))


def recommended_limit(data: LimitInput, cfg: dict[str, Any]) -> Recommendation:
    """The recommended credit limit and the rule that produced it."""
    lim = cfg["limits"]
    cur = data.currency
    factor = dec(lim["class_factor"].get(data.risk_class, 0))
    steps: list[Reason] = []
    if data.sales_12m > 0 and data.months_of_history > 0:
        months = min(12, data.months_of_history)
        monthly = data.sales_12m / months
        amount = monthly * dec(lim["months_of_sales"]) * factor
        steps.append(
            Reason(
                "sales",
                {
                    "monthly": _fmt(monthly, cur),
                    "months": str(dec(lim["months_of_sales"])),
                    "factor": str(factor),
                    "class": data.risk_class,
                    "amount": _fmt(amount, cur),
                    "currency": cur,
                },
            )
        )
        # Never below what a customer without history gets: small buyers with a good record keep a usable limit
        # (3 months of 30 EUR must not round down to 0 and force payment upfront on a class C customer).
        floor = dec(lim["starter"].get(data.risk_class, 0))
        if amount < floor:
            amount = floor
            steps.append(
                Reason("starter_floor", {"class": data.risk_class, "amount": _fmt(amount, cur), "currency": cur})
            )
    else:
        amount = dec(lim["starter"].get(data.risk_class, 0))
        steps.append(Reason("starter", {"class": data.risk_class, "amount": _fmt(amount, cur), "currency": cur}))
    if data.equity is not None:
        cap = max(Decimal(0), data.equity) * dec(lim["equity_share"])
        if cap < amount:
            amount = cap
            pct = str((dec(lim["equity_share"]) * 100).normalize())
            steps.append(Reason("equity_cap", {"percent": pct, "amount": _fmt(cap, cur), "currency": cur}))
    if data.provider_limit is not None and data.provider_limit < amount:
        amount = data.provider_limit
        steps.append(Reason("provider_cap", {"amount": _fmt(amount, cur), "currency": cur}))
    step = dec(lim["round_to"]) or Decimal(1)
    rounded = (amount / step).to_integral_value(rounding=ROUND_DOWN) * step
    rounded = quantize(max(Decimal(0), rounded), cur)
    steps.append(Reason("rounded", {"amount": _fmt(rounded, cur), "currency": cur}))
    return Recommendation(rounded, cur, tuple(steps))


def needs_second_approver(amount: Decimal, cfg: dict[str, Any]) -> bool:
    """Four eyes: a limit above ``limits.four_eyes_above`` (company currency) needs a second approver."""
    return amount > dec(cfg["limits"]["four_eyes_above"])


@dataclass(frozen=True)
class CheckInput:
    amount: Decimal  # the order or quote, company currency
    currency: str  # the company's currency
    payment_terms_days: int
    exposure: Decimal
    limit: Decimal | None  # granted (valid) else recommended; None: never assessed
    risk_class: str
    blocked: bool = False
    oldest_overdue_days: int = 0


@dataclass(frozen=True)
class CheckResult:
    decision: str
    deposit_percent: int | None
    reasons: tuple[Reason, ...]
    exposure_after: Decimal
    currency: str
    limit: Decimal | None = None
    rules: dict[str, Any] = field(default_factory=dict)


def credit_check(data: CheckInput, cfg: dict[str, Any]) -> CheckResult:
    """Approve, ask a deposit, ask cash in advance, or block a new order of ``amount``."""
    cc = cfg["credit_check"]
    cur = data.currency
    after = quantize(data.exposure + data.amount, cur)

    def done(decision: str, reasons: list[Reason], deposit: int | None = None) -> CheckResult:
        return CheckResult(decision, deposit, tuple(reasons), after, cur, data.limit)

    if data.risk_class == X:
        return done(BLOCK, [Reason("check_insolvency")])
    if data.blocked:
        return done(BLOCK, [Reason("check_blocked")])
    if data.risk_class in cc["cash_in_advance_classes"]:
        return done(CASH, [Reason("check_class_cash", {"class": data.risk_class})])
    if data.limit is None or data.limit <= 0:
        return done(CASH, [Reason("check_no_limit")])
    deposits: list[tuple[Decimal, Reason]] = []
    limit = data.limit
    if after > limit:
        excess = min(data.amount, after - limit)
        pct = excess / data.amount * 100 if data.amount > 0 else Decimal(100)
        params = {"limit": _fmt(limit, cur), "exposure_after": _fmt(after, cur), "currency": cur}
        deposits.append((pct, Reason("check_over_limit", params)))
    class_min = cc["class_deposit"].get(data.risk_class)
    if class_min:
        deposits.append((dec(class_min), Reason("check_class_deposit", {"class": data.risk_class})))
    max_terms = cc["max_terms_days"].get(data.risk_class)
    if max_terms is not None and data.payment_terms_days > int(max_terms):
        params = {"days": data.payment_terms_days, "max": int(max_terms)}
        deposits.append((dec(cc["long_terms_deposit"]), Reason("check_long_terms", params)))
    if data.oldest_overdue_days > int(cc["overdue_days_deposit"]):
        deposits.append((dec(cc["overdue_deposit"]), Reason("check_overdue", {"days": data.oldest_overdue_days})))
    if not deposits:
        headroom = limit - after
        params = {"limit": _fmt(limit, cur), "headroom": _fmt(headroom, cur), "currency": cur}
        return done(APPROVE, [Reason("check_within_limit", params)])
    step = int(cc["deposit_step"]) or 1
    worst = max(p for p, _ in deposits)
    percent = min(100, int(math.ceil(worst / step)) * step)
    reasons = [r for _, r in sorted(deposits, key=lambda d: -d[0])]
    if percent >= 100 or percent > int(cc["max_deposit_percent"]):
        return done(CASH, [*reasons, Reason("check_deposit_too_large", {"percent": percent})])
    return done(DEPOSIT, reasons, percent)
