"""The demo's risk story: the receivership-like customer is class X; a deteriorating payer drops and slips."""

from __future__ import annotations

from relance.alerts.models import Alert
from relance.ledger.models import Customer
from relance.risk import selectors
from relance.risk.models import Claim, CustomerRisk, ScoreHistory
from tests.demo.conftest import demo  # noqa: F401 - the module-scoped demo group


def test_the_receivership_like_customer_is_in_class_x_with_dunning_stopped_and_a_claim(demo, db):  # noqa: F811
    vasseur = Customer.objects.get(company__code="FR1", name="Établissements Vasseur & Fils SA")
    risk = CustomerRisk.objects.get(customer=vasseur)
    assert (risk.risk_class, risk.dunning_stopped, vasseur.risk_class) == ("X", True, "X")
    assert vasseur.pk in selectors.dunning_stopped_customer_ids()
    assert Claim.objects.filter(customer=vasseur, declared_on=None).exists()
    assert Alert.objects.filter(customer=vasseur, kind="risk.legal_event", cleared_on=None).exists()


def test_a_deteriorating_payer_drops_class_and_raises_a_slippage_alert(demo, db):  # noqa: F811
    code, reference = demo.highlights["deteriorating"].split()[:2]  # the busiest deteriorating payer
    customers = Customer.objects.filter(company__code=code, reference=reference)
    dropped = [
        c
        for c in customers
        if len(set(ScoreHistory.objects.filter(customer=c).values_list("risk_class", flat=True))) > 1
        and Alert.objects.filter(customer=c, kind="risk.payment_slippage", cleared_on=None).exists()
        and Alert.objects.filter(customer=c, kind="risk.class_downgrade", cleared_on=None).exists()
    ]
    assert dropped, [(c.reference, list(ScoreHistory.objects.filter(customer=c).values_list("risk_class", "score")))
                     for c in customers]  # fmt: skip
