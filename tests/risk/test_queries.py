"""The SQL aggregates agree with the pure reference (stats_from_items), and exposure adds up."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from relance.ledger.models import Document
from relance.risk import config, domain, queries
from relance.risk.models import Order
from tests.factories import CustomerFactory, DocumentFactory, PaymentFactory

AS_OF = dt.date(2026, 6, 30)
CFG = config.resolve({})


def test_the_sql_behaviour_aggregates_match_the_pure_reference(world):
    rng = random.Random(5)
    customer = CustomerFactory(company=world.fr, reference="AGG1")
    settled_items, open_items = [], []
    for i in range(40):
        issue = AS_OF - dt.timedelta(days=rng.randint(20, 500))
        due = issue + dt.timedelta(days=30)
        amount = Decimal(rng.randint(100, 9000))
        doc = DocumentFactory(
            customer=customer, number=f"AGG-{i}", issue_date=issue, due_date=due, amount=amount, tax_amount=0
        )
        if rng.random() < 0.7 and due + dt.timedelta(days=40) < AS_OF:
            settled_on = due + dt.timedelta(days=rng.randint(-10, 40))
            Document.objects.filter(pk=doc.pk).update(open_amount=0, settled_on=settled_on)
            settled_items.append(domain.SettledItem(amount, due, settled_on))
        else:
            open_items.append(domain.OpenItem(amount, due))
    expected = domain.stats_from_items(settled_items, open_items, as_of=AS_OF, cfg=CFG)
    got = queries.ledger_figures([customer.pk], as_of=AS_OF, cfg=CFG)[customer.pk].stats
    assert got.recent == expected.recent and got.prior == expected.prior
    assert got.weight == expected.weight and got.weighted_days == expected.weighted_days
    assert (got.open_amount, got.overdue_amount, got.oldest_overdue_days) == (
        expected.open_amount,
        expected.overdue_amount,
        expected.oldest_overdue_days,
    )


def test_exposure_is_open_receivables_plus_open_orders_less_deposits(world):
    customer = world.customers["c_par_alice"]  # one open invoice from the world fixture
    invoice_open = world.documents["c_par_alice"].open_amount
    Order.objects.create(
        company=world.fr,
        customer=customer,
        reference="SO-1",
        order_date=AS_OF,
        amount=Decimal("250.00"),
        currency="EUR",
    )
    Order.objects.create(
        company=world.fr,
        customer=customer,
        reference="SO-2",
        order_date=AS_OF,
        amount=Decimal("999.00"),
        currency="EUR",
        status="invoiced",
    )
    PaymentFactory(customer=customer, reference="DEP-1", kind="deposit", currency="EUR", amount=Decimal("100.00"))
    exp = queries.exposures({customer.pk: "EUR"}, as_of=AS_OF)[customer.pk]
    assert exp.receivables == invoice_open and exp.orders == Decimal("250.00") and exp.deposits == Decimal("100.00")
    assert exp.total == invoice_open + Decimal("150.00")
