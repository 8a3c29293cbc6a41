"""Payment-date predictions and payer profiles (relance.ml): ``GET /documents/{id}/prediction`` and
``GET /customers/{id}/payer-profile``. Both read within the caller's scope (docs/ml.md)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema

from relance.api import problems
from relance.api.auth import actor
from relance.ledger import selectors as ledger_selectors
from relance.ml import selectors
from relance.ml.labels import describe

router = Router(tags=["predictions"])

NO_PREDICTION = "Document {id} has no prediction: only open invoices are predicted, by the daily job."
NO_PROFILE = "Customer {id} has no payer profile yet: profiles are computed by the daily job."


class ReasonOut(Schema):
    feature: str
    value: float
    reference: float
    days: float
    text: str


class PredictionOut(Schema):
    document_id: int
    customer_id: int
    as_of: dt.date
    expected_payment_date: dt.date
    expected_days_late: int
    prob_late: float
    late_threshold_days: int
    interval_low: dt.date
    interval_high: dt.date
    model_version: str
    fallback: bool
    fallback_reason: str
    reasons: list[ReasonOut]


class PayerProfileOut(Schema):
    customer_id: int
    profile: str
    rule: str
    as_of: dt.date
    features: dict[str, float]


@router.get(
    "/documents/{document_id}/prediction",
    response={200: PredictionOut, **problems.responses(404)},
    summary="Payment-date prediction of an open invoice",
    description=(
        "When the invoice is expected to be paid (`expected_payment_date`, an 80% interval `interval_low` – "
        "`interval_high`), the probability of being paid more than `late_threshold_days` days after the due date "
        "(`prob_late`), the model that predicted it (or the fallback used, and why), and the features that push "
        "the date later, in words. 404 when the caller may not see the document or it has no prediction."
    ),
)
def get_prediction(request: HttpRequest, document_id: int) -> dict:
    user = actor(request)
    document = ledger_selectors.document(user, document_id)
    found = selectors.predictions([document.pk], user=user).get(document.pk)
    if found is None:
        raise problems.Problem(404, NO_PREDICTION.format(id=document.pk))
    return {
        **{f: getattr(found, f) for f in PredictionOut.model_fields if f != "reasons"},
        "reasons": [
            {"feature": r.feature, "value": r.value, "reference": r.reference, "days": r.days, "text": describe(r)}
            for r in found.reasons
        ],
    }


@router.get(
    "/customers/{customer_id}/payer-profile",
    response={200: PayerProfileOut, **problems.responses(404)},
    summary="Payer profile of a customer",
    description=(
        "The customer's payer profile (`prompt`, `slow_steady`, `erratic`, `deteriorating`, `defaulting`, or empty "
        "when there is too little history), the rule that put it there and the features computed on `as_of`."
    ),
)
def get_payer_profile(request: HttpRequest, customer_id: int) -> selectors.PayerProfileView:
    user = actor(request)
    customer = ledger_selectors.customer(user, customer_id)
    view = selectors.payer_profile(customer.pk, user=user)
    if view is None:
        raise problems.Problem(404, NO_PROFILE.format(id=customer.pk))
    return view
