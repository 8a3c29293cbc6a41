"""Words for the features (customer page, API): why an invoice is predicted late, in the user's language."""

from __future__ import annotations

import math

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .selectors import Reason

LABELS = {
    "n_settled": gettext_lazy("invoices paid before"),
    "mean_delay": gettext_lazy("average past delay"),
    "median_delay": gettext_lazy("median past delay"),
    "std_delay": gettext_lazy("spread of past delays"),
    "last_delay": gettext_lazy("delay of the last payment"),
    "recent_mean_delay": gettext_lazy("average delay of the last three payments"),
    "trend": gettext_lazy("trend of the delays (days per month)"),
    "max_delay": gettext_lazy("longest past delay"),
    "iqr_delay": gettext_lazy("spread of the usual delays"),
    "recent_median_delay": gettext_lazy("median delay of the last six payments"),
    "earlier_median_delay": gettext_lazy("median delay before the last six payments"),
    "share_late": gettext_lazy("share of past invoices paid very late"),
    "days_since_last_payment": gettext_lazy("days since the last payment"),
    "n_open_overdue": gettext_lazy("other invoices overdue and unpaid"),
    "oldest_overdue_days": gettext_lazy("days overdue of the oldest unpaid invoice"),
    "open_overdue_share": gettext_lazy("share of invoices overdue and unpaid"),
    "disputes_before": gettext_lazy("past disputes"),
    "dispute_rate": gettext_lazy("share of invoices disputed"),
    "log_amount": gettext_lazy("amount"),
    "amount_ratio": gettext_lazy("amount compared with the usual invoices"),
    "terms_days": gettext_lazy("payment terms (days)"),
    "due_month": gettext_lazy("month of the due date"),
    "age_days": gettext_lazy("age of the invoice (days)"),
    "days_past_due": gettext_lazy("days past due"),
    "reminders_so_far": gettext_lazy("reminders sent"),
    "own_disputes": gettext_lazy("disputes on this invoice"),
}
DAYS = {
    "mean_delay",
    "median_delay",
    "std_delay",
    "last_delay",
    "recent_mean_delay",
    "max_delay",
    "iqr_delay",
    "recent_median_delay",
    "earlier_median_delay",
    "days_since_last_payment",
    "oldest_overdue_days",
    "terms_days",
    "age_days",
    "days_past_due",
}
SHARES = {"share_late", "open_overdue_share", "dispute_rate"}


def value_text(feature: str, value: float) -> str:
    if feature in SHARES:
        return f"{value * 100:.0f} %"
    if feature == "log_amount":
        return f"{math.expm1(value):,.0f}".replace(",", " ")
    if feature == "days_since_last_payment" and value >= 9999:
        return _("never paid")
    if feature in DAYS:
        return _("%(days)s days") % {"days": f"{value:.0f}"}
    if feature == "amount_ratio":
        return f"× {value:.1f}"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def describe(reason: Reason) -> str:
    """'average past delay: 28 days (usual: 2 days), 12 days later' in the active language."""
    label = LABELS.get(reason.feature, reason.feature)
    effect = (
        _("%(days)s days later") % {"days": f"{reason.days:.0f}"}
        if reason.days >= 0
        else _("%(days)s days earlier") % {"days": f"{-reason.days:.0f}"}
    )
    return _("%(label)s: %(value)s (usual: %(usual)s), %(effect)s") % {
        "label": label,
        "value": value_text(reason.feature, reason.value),
        "usual": value_text(reason.feature, reason.reference),
        "effect": effect,
    }


RULES = {
    "defaulting": gettext_lazy("an invoice %(overdue)s days overdue and no payment for %(silence)s days"),
    "defaulting_never": gettext_lazy("an invoice %(overdue)s days overdue and no payment ever"),
    "thin": gettext_lazy("only %(paid)s invoices paid so far"),
    "deteriorating": gettext_lazy("last six payments %(recent)s days late, %(jump)s days later than before"),
    "erratic": gettext_lazy("usual delays spread over %(spread)s days"),
    "slow": gettext_lazy("usually paid %(median)s days late"),
    "prompt": gettext_lazy("usually paid %(median)s days from the due date"),
}


def rule_text(key: str, params: dict[str, int]) -> str:
    """The payer-profile rule in the active language ('' for an unknown key)."""
    template = RULES.get(key)
    if template is None:
        return ""
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return ""
