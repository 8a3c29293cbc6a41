"""The worklist's probability of payment comes from the payment-date predictions when invoices have them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse

from relance.collections import selectors
from relance.ledger.models import Document
from relance.ml.models import InvoicePrediction

from ..conftest import TODAY


def predict(document: Document, prob_late: float) -> None:
    InvoicePrediction.objects.create(
        document=document, company_id=document.company_id, customer_id=document.customer_id, as_of=TODAY,
        expected_payment_date=TODAY + dt.timedelta(days=40), expected_days_late=40, prob_late=prob_late,
        interval_low=TODAY, interval_high=TODAY + dt.timedelta(days=90), model_version="test",
    )  # fmt: skip


def by_ref(rows):
    return {r["customer"]["reference"]: r for r in rows}


def test_without_predictions_the_risk_class_gives_the_probability(world):
    rows = by_ref(selectors.worklist(world.users["collector_alice"], as_of=TODAY))
    assert rows and not any(r["predicted"] for r in rows.values())


def test_a_customer_predicted_to_pay_late_loses_its_rank_and_says_why(world, client_for):
    alice = world.users["collector_alice"]
    before = selectors.worklist(alice, as_of=TODAY)
    assert len(before) >= 2
    top = before[0]
    overdue = Document.objects.filter(
        customer_id=top["customer"]["pk"], type="invoice", open_amount__gt=0, due_date__lt=TODAY
    )
    for doc in overdue:
        predict(doc, 0.9)
    after = by_ref(selectors.worklist(alice, as_of=TODAY))
    moved = after[top["customer"]["reference"]]
    assert moved["predicted"] and moved["probability"] == Decimal("0.10")
    assert moved["gain"] < top["gain"] and moved["rank"] > 1
    for doc in overdue:
        InvoicePrediction.objects.filter(document=doc).update(prob_late=1.0)
    floored = by_ref(selectors.worklist(alice, as_of=TODAY))[top["customer"]["reference"]]
    assert floored["probability"] == selectors.P_PAY_FLOOR
    rows = client_for("collector_alice").get(reverse("web:collections_worklist")).context["rows"]
    reason = next(r["reason"] for r in rows if r["customer"]["reference"] == top["customer"]["reference"])
    assert "predicted: 5% likely to pay" in reason
