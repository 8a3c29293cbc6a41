"""The group's risk settings: defaults, and validation of the JSON document stored in ``RiskSettings``.

A stored document only overrides what it names (a deep merge over :data:`DEFAULTS`); an unknown key, a value
of the wrong type or an inconsistent set of thresholds is refused with a message naming the key. Pure: no ORM.
Every weight and threshold is documented in docs/risk.md.
"""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from relance.core import errors

CLASSES = ("A", "B", "C", "D", "E")  # best to worst; "X" (insolvency proceedings) is outside the scale

DEFAULTS: dict[str, Any] = {
    # share of each source in the score (renormalised over the sources present)
    "weights": {"behaviour": 50, "financials": 25, "external": 25},
    # lowest score of each class; below the D threshold: E
    "classes": {"A": 80, "B": 65, "C": 50, "D": 35},
    "behaviour": {
        "lookback_days": 365,  # settled invoices considered
        "recent_days": 90,  # the "recent" window for the trend and the slippage test
        "grace_days": 5,  # paid more than this many days after the due date counts as late
        "full_confidence_invoices": 6,  # fewer settled invoices: blended with the baseline
        "recency_weights": {"90": 1.0, "180": 0.6, "365": 0.3},  # age of the settlement (days, upper bound): weight
        "dbt_points_per_day": 1.0,
        "dbt_max_penalty": 40,
        "late_share_penalty": 20,  # points for 100 % of invoices paid late
        "drift_points_per_day": 0.5,
        "drift_max_penalty": 15,
        "broken_promise_penalty": 8,
        "broken_promise_max_penalty": 24,
        "dispute_penalty": 4,
        "dispute_max_penalty": 12,
        "overdue_share_penalty": 15,  # points when all the open balance is overdue
        "overdue_free_days": 30,  # oldest overdue item: no penalty up to this age
        "overdue_days_per_point": 6,
        "overdue_max_penalty": 25,
    },
    "financials": {"max_age_months": 24, "negative_equity_cap": 20},
    "external": {"max_age_days": 365},
    "legal": {
        "incident_window_days": 365,
        "incident_penalty": 15,
        "incident_class_cap": "C",  # a registered payment incident: never better than this class
        "plan_class_cap": "D",  # a continuation or recovery plan being carried out
        "claim_months": 2,  # the claim must be declared within two months of the publication (France)
        "claim_reminder_days": [30, 10, 3],
    },
    "baseline": {
        "default": 60,
        "by_size": {"micro": 52, "small": 58, "medium": 64, "large": 70},
        "by_sector": {"41": -6, "43": -6, "49": -3, "56": -6, "47": -3, "62": 2, "86": 4, "84": 10},
    },
    "limits": {
        "months_of_sales": 3.0,  # recommended limit = this many months of average sales with us...
        "class_factor": {"A": 1.5, "B": 1.2, "C": 1.0, "D": 0.5, "E": 0.0, "X": 0.0},  # ...times the class factor
        "starter": {"A": 20000, "B": 10000, "C": 5000, "D": 1000, "E": 0, "X": 0},  # without sales history
        "equity_share": 0.10,  # never more than this share of the customer's equity
        "round_to": 100,
        "four_eyes_above": 50000,  # granting more than this needs a second approver
    },
    "credit_check": {
        "deposit_step": 5,  # deposit percentages are rounded up to a multiple of this
        "max_deposit_percent": 60,  # a larger deposit: cash in advance instead
        "class_deposit": {"D": 30},  # minimum deposit for a class
        "cash_in_advance_classes": ["E"],
        "max_terms_days": {"A": 90, "B": 60, "C": 60, "D": 45, "E": 0},
        "long_terms_deposit": 20,
        "overdue_days_deposit": 60,  # an item overdue by more than this: deposit
        "overdue_deposit": 30,
    },
    "monitoring": {
        "new_overdue_threshold": 10000,  # company currency
        "cover_expiry_days": 30,
        "legal_event_alert_days": 90,  # a legal-event alert stays live this long (or until proceedings close)
        "slippage_min_recent": 3,
        "slippage_min_prior": 5,
        "slippage_min_days": 10,  # the drift must also be this large (days)
        "slippage_alpha": "0.05",
    },
}

UNKNOWN_KEY = "Unknown setting {path!r}; see docs/risk.md for the settings."
WRONG_TYPE = "Setting {path!r} must be {kind} (got {value!r})."
CLASSES_ORDER = "Class thresholds must decrease from A to D (got {values})."
WEIGHTS_ZERO = "At least one source weight must be greater than zero."
BAD_CLASS = "Setting {path!r} must be one of A, B, C, D, E (got {value!r})."
BAD_ALPHA = "Setting {path!r} must be one of {choices} (got {value!r})."

ALPHAS = ("0.10", "0.05", "0.025", "0.01")
_FREE_KEYS = {"recency_weights", "by_sector", "by_size", "class_deposit", "max_terms_days", "class_factor", "starter"}


def _number(path: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise errors.ValidationError(WRONG_TYPE.format(path=path, kind="a number", value=value), field=path)
    try:
        Decimal(str(value))
    except InvalidOperation:
        raise errors.ValidationError(WRONG_TYPE.format(path=path, kind="a number", value=value), field=path)


def _merge(base: dict[str, Any], override: dict[str, Any], path: str) -> dict[str, Any]:
    out = copy.deepcopy(base)
    if not isinstance(override, dict):
        raise errors.ValidationError(WRONG_TYPE.format(path=path or "settings", kind="an object", value=override))
    for key, value in override.items():
        here = f"{path}.{key}" if path else key
        leaf = path.rsplit(".", 1)[-1]
        if key not in base and leaf not in _FREE_KEYS:
            raise errors.ValidationError(UNKNOWN_KEY.format(path=here), field=here)
        current = base.get(key)
        if isinstance(current, dict):
            out[key] = _merge(current, value, here)
        elif isinstance(current, list):
            if not isinstance(value, list):
                raise errors.ValidationError(WRONG_TYPE.format(path=here, kind="a list", value=value), field=here)
            for v in value:
                if key == "cash_in_advance_classes":
                    if v not in CLASSES:
                        raise errors.ValidationError(BAD_CLASS.format(path=here, value=v), field=here)
                else:
                    _number(here, v)
            out[key] = list(value)
        elif isinstance(current, str) and key in ("incident_class_cap", "plan_class_cap"):
            if value not in CLASSES:
                raise errors.ValidationError(BAD_CLASS.format(path=here, value=value), field=here)
            out[key] = value
        elif key == "slippage_alpha":
            if str(value) not in ALPHAS:
                raise errors.ValidationError(
                    BAD_ALPHA.format(path=here, choices=", ".join(ALPHAS), value=value), field=here
                )
            out[key] = str(value)
        else:
            _number(here, value)
            if isinstance(value, str):
                value = float(value) if "." in value else int(value)
            out[key] = value
    return out


def resolve(document: dict[str, Any] | None) -> dict[str, Any]:
    """The effective settings: ``document`` merged over the defaults, validated."""
    settings = _merge(DEFAULTS, document or {}, "")
    thresholds = [Decimal(str(settings["classes"][c])) for c in ("A", "B", "C", "D")]
    if any(a <= b for a, b in zip(thresholds, thresholds[1:], strict=False)):
        raise errors.ValidationError(CLASSES_ORDER.format(values=settings["classes"]), field="classes")
    if sum(Decimal(str(v)) for v in settings["weights"].values()) <= 0:
        raise errors.ValidationError(WEIGHTS_ZERO, field="weights")
    for name in ("behaviour", "financials", "external"):
        if Decimal(str(settings["weights"][name])) < 0:
            raise errors.ValidationError(
                WRONG_TYPE.format(path=f"weights.{name}", kind="zero or more", value=settings["weights"][name])
            )
    return settings


def dec(value: Any) -> Decimal:
    """A setting as a Decimal (settings are JSON numbers)."""
    return Decimal(str(value))
