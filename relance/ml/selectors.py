"""Reads of predictions and payer profiles (other apps: the forecast, the worklist, the risk score, pages, API).

``predictions(document_ids)`` is the contract the KPI and collections apps read: one frozen value per
document that has a prediction. Pass ``user=`` to read within that user's scope (pages, API); without it the
caller has already scoped the document ids (system jobs, another selector).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from relance.core import scope

from .models import InvoicePrediction, PayerFeatures


@dataclass(frozen=True, slots=True)
class Reason:
    """One feature that pushes the prediction later (or earlier): its value, the usual value, the effect."""

    feature: str
    value: float
    reference: float
    days: float  # days of delay this feature adds (negative: removes) compared with the usual value


@dataclass(frozen=True, slots=True)
class Prediction:
    document_id: int
    customer_id: int
    as_of: dt.date
    expected_payment_date: dt.date
    expected_days_late: int
    prob_late: float  # probability of being paid more than late_threshold_days after the due date
    late_threshold_days: int
    interval_low: dt.date
    interval_high: dt.date
    model_version: str
    fallback: bool
    fallback_reason: str
    reasons: tuple[Reason, ...] = ()


def _value(p: InvoicePrediction) -> Prediction:
    return Prediction(
        document_id=p.document_id,
        customer_id=p.customer_id,
        as_of=p.as_of,
        expected_payment_date=p.expected_payment_date,
        expected_days_late=p.expected_days_late,
        prob_late=p.prob_late,
        late_threshold_days=p.late_threshold_days,
        interval_low=p.interval_low,
        interval_high=p.interval_high,
        model_version=p.model_version,
        fallback=p.fallback,
        fallback_reason=p.fallback_reason,
        reasons=tuple(Reason(**r) for r in p.reasons or ()),
    )


def predictions(document_ids: Iterable[int], *, user: Any = None) -> dict[int, Prediction]:
    """The latest prediction of each document that has one, by document id."""
    ids = sorted(set(document_ids))
    if not ids:
        return {}
    qs = InvoicePrediction.objects.all()
    if user is not None:
        qs = scope.restrict(user, qs)
    out: dict[int, Prediction] = {}
    for start in range(0, len(ids), 900):  # stay under SQLite's parameter limit
        for p in qs.filter(document_id__in=ids[start : start + 900]):
            out[p.document_id] = _value(p)
    return out


def customer_predictions(user: Any, customer_id: int) -> dict[int, Prediction]:
    """The predictions of one customer's open invoices, within the user's scope."""
    qs = scope.restrict(user, InvoicePrediction.objects.filter(customer_id=customer_id))
    return {p.document_id: _value(p) for p in qs}


@dataclass(frozen=True, slots=True)
class PayerProfileView:
    customer_id: int
    profile: str
    rule: str
    as_of: dt.date
    features: dict[str, float]
    rule_key: str = ""
    rule_params: dict[str, int] | None = None


def payer_profile(customer_id: int, *, user: Any = None) -> PayerProfileView | None:
    """The profile of a customer with the features that put it there (None before the first daily run)."""
    qs = PayerFeatures.objects.filter(customer_id=customer_id)
    if user is not None:
        qs = scope.restrict(user, qs)
    row = qs.first()
    if row is None:
        return None
    return _profile(row)


def payer_profiles(customer_ids: Iterable[int]) -> dict[int, PayerProfileView]:
    """Profiles of already-scoped customers, by customer id (for the risk score)."""
    ids = sorted(set(customer_ids))
    out: dict[int, PayerProfileView] = {}
    for start in range(0, len(ids), 900):
        for row in PayerFeatures.objects.filter(customer_id__in=ids[start : start + 900]):
            out[row.customer_id] = _profile(row)
    return out


def _profile(row: PayerFeatures) -> PayerProfileView:
    return PayerProfileView(
        row.customer_id, row.profile, row.rule, row.as_of, dict(row.features), row.rule_key, dict(row.rule_params)
    )


@dataclass(frozen=True, slots=True)
class PredictionRow:
    """One open invoice on the customer page: its prediction and the reasons in words."""

    document_id: int
    number: str
    due_date: dt.date
    prediction: Prediction
    reasons: tuple[str, ...]


PAGE_LIMIT = 10


def customer_section(user: Any, customer_id: int, *, limit: int = PAGE_LIMIT) -> dict[str, Any]:
    """What the customer page shows: the payer profile and the open invoices most likely to be paid late."""
    from relance.ledger.models import Document

    from .labels import describe, rule_text

    preds = sorted(
        customer_predictions(user, customer_id).values(),
        key=lambda p: (-p.prob_late, p.expected_payment_date, p.document_id),
    )
    shown = preds[:limit]
    docs = {
        d.pk: d
        for d in scope.restrict(user, Document.objects.filter(pk__in=[p.document_id for p in shown])).only(
            "pk", "number", "due_date", "customer_id"
        )
    }
    rows = [
        PredictionRow(
            p.document_id,
            docs[p.document_id].number,
            docs[p.document_id].due_date,
            p,
            tuple(describe(r) for r in p.reasons),
        )
        for p in shown
        if p.document_id in docs
    ]
    profile = payer_profile(customer_id, user=user)
    return {
        "profile": profile,
        "profile_rule": rule_text(profile.rule_key, profile.rule_params or {}) if profile else "",
        "predictions": rows,
        "prediction_count": len(preds),
        "late_days": shown[0].late_threshold_days if shown else None,
    }
