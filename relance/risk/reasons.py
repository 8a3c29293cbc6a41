"""Reasons and rules in words a sales rep understands, in the reader's language.

Scores store reasons as ``{"code", "params"}`` (risk.domain); they are rendered when shown (page, API, PDF),
in the active language.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .domain import Reason

LEGAL_KINDS = {
    "safeguard": gettext_lazy("safeguard proceedings"),
    "receivership": gettext_lazy("receivership"),
    "liquidation": gettext_lazy("judicial liquidation"),
}

TEXTS: dict[str, Any] = {
    "insolvency": gettext_lazy("In insolvency proceedings ({kind}) since {since}: dunning stopped, declare the claim."),
    "dbt": gettext_lazy("Pays {days} days after the due date on average (recent invoices count more)."),
    "on_time": gettext_lazy("Pays on time ({count} invoices settled in the last 12 months)."),
    "late_share": gettext_lazy("{percent}% of invoices paid late."),
    "drift": gettext_lazy("Paying later than before: {recent} days late recently, {prior} days before."),
    "broken_promises": gettext_lazy("{count} broken promise(s) to pay in the last 12 months."),
    "disputes": gettext_lazy("{count} open dispute(s)."),
    "overdue": gettext_lazy("{percent}% of the balance is overdue, the oldest item by {days} days."),
    "thin_history": gettext_lazy("Little payment history ({count} settled invoices): partly a sector estimate."),
    "negative_equity": gettext_lazy("Negative equity in the {year} statements."),
    "z_distress": gettext_lazy("Weak {year} financial statements (Altman Z'' {z}: distress zone)."),
    "z_grey": gettext_lazy("Average {year} financial statements (Altman Z'' {z}: grey zone)."),
    "z_safe": gettext_lazy("Sound {year} financial statements (Altman Z'' {z})."),
    "external_low": gettext_lazy("Low credit-bureau score: {score}/100 ({providers})."),
    "external_mid": gettext_lazy("Average credit-bureau score: {score}/100 ({providers})."),
    "external_good": gettext_lazy("Good credit-bureau score: {score}/100 ({providers})."),
    "payment_incident": gettext_lazy("{count} registered payment incident(s) in the last 12 months."),
    "plan": gettext_lazy("A continuation or recovery plan is being carried out."),
    "baseline": gettext_lazy("Nothing known yet: estimate for its sector and size ({score}/100)."),
    # recommended limit rule
    "sales": gettext_lazy(
        "{monthly} {currency} of monthly sales with us x {months} months x {factor} for class {class} = {amount}"
    ),
    "starter": gettext_lazy("No sales history: starting limit for class {class} = {amount} {currency}"),
    "starter_floor": gettext_lazy("raised to the starting limit for class {class} = {amount} {currency}"),
    "equity_cap": gettext_lazy("capped at {percent}% of equity = {amount} {currency}"),
    "provider_cap": gettext_lazy("capped at the credit bureau's limit = {amount} {currency}"),
    "rounded": gettext_lazy("rounded down: {amount} {currency}"),
    # credit check
    "check_insolvency": gettext_lazy("The customer is in insolvency proceedings."),
    "check_blocked": gettext_lazy("The account is blocked by credit management."),
    "check_class_cash": gettext_lazy("Risk class {class}: payment before delivery only."),
    "check_no_limit": gettext_lazy("No credit limit: payment before delivery."),
    "check_over_limit": gettext_lazy(
        "Exposure after this order, {exposure_after} {currency}, exceeds the limit of {limit}."
    ),
    "check_class_deposit": gettext_lazy("Risk class {class} requires a deposit."),
    "check_long_terms": gettext_lazy(
        "{days} days of payment terms is more than the {max} days allowed for this class."
    ),
    "check_overdue": gettext_lazy("An invoice is overdue by {days} days."),
    "check_deposit_too_large": gettext_lazy("The deposit needed ({percent}%) is too large: ask for payment upfront."),
    "check_within_limit": gettext_lazy("Within the limit of {limit} {currency} ({headroom} left after this order)."),
}


def text(reason: Reason | dict[str, Any]) -> str:
    """One reason in the active language."""
    if isinstance(reason, Reason):
        code, params = reason.code, dict(reason.params)
    else:
        code, params = reason.get("code", ""), dict(reason.get("params") or {})
    template = TEXTS.get(code)
    if template is None:
        return code
    if "kind" in params and params["kind"] in LEGAL_KINDS:
        params["kind"] = str(LEGAL_KINDS[params["kind"]])
    try:
        return str(template).format(**params)
    except (KeyError, IndexError):
        return str(template)


def texts(reasons: Iterable[Reason | dict[str, Any]]) -> list[str]:
    return [text(r) for r in reasons]


def rule_text(steps: Iterable[Reason | dict[str, Any]]) -> str:
    """The recommended-limit rule as one sentence."""
    return _("; ").join(text(s) for s in steps)
