"""The hand-computed example (tests/analytics/example.py) written into the database through the ledger services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal as D

import pytest

from relance.collections.models import Dispute
from relance.core.scope import SystemActor
from relance.core.vocab import Role
from relance.ledger import services
from relance.ledger.models import Customer, Document, ExchangeRate, Payment
from tests.factories import CompanyFactory, CustomerFactory, DocumentFactory, GroupFactory, PaymentFactory, UserFactory

from . import example


@dataclass
class Ledger:
    customers: dict[str, Customer] = field(default_factory=dict)
    docs: dict[int, Document] = field(default_factory=dict)
    payments: dict[int, Payment] = field(default_factory=dict)
    users: dict[str, object] = field(default_factory=dict)


@pytest.fixture
def example_ledger(db) -> Ledger:
    group = GroupFactory(name="Example group", currency="EUR")
    fr = CompanyFactory(group=group, code="FR1", currency="EUR")
    uk = CompanyFactory(group=group, code="UK1", currency="GBP", country="GB")
    alice = UserFactory(email="alice@example.com", role=Role.COLLECTOR)
    cm = UserFactory(email="cm@example.com", role=Role.CREDIT_MANAGER)
    ExchangeRate.objects.create(date=dt.date(2025, 12, 31), currency="GBP", rate=D("0.85"))
    led = Ledger(users={"collector": alice, "credit_manager": cm})
    led.customers["eur"] = CustomerFactory(company=fr, reference="C1", risk_class="B", collector=alice)
    led.customers["gbp"] = CustomerFactory(company=uk, reference="C2", risk_class="D")
    cust = {1: led.customers["eur"], 2: led.customers["gbp"]}
    for d in example.DOCS:
        led.docs[d.id] = DocumentFactory(
            customer=cust[d.customer_id],
            number=f"D{d.id}",
            type=d.type,
            issue_date=d.issue_date,
            due_date=d.due_date,
            currency=d.currency,
            amount=d.amount,
            tax_amount=D(0),
        )
    for p in example.PAYMENTS:
        led.payments[p.id] = PaymentFactory(
            customer=cust[1 if p.currency == "EUR" else 2],
            reference=f"P{p.id}",
            kind=p.kind,
            date=p.date,
            currency=p.currency,
            amount=p.amount,
        )
    actor = SystemActor("test")
    for a in example.ALLOCS:
        if a.is_reversal:
            continue
        services.allocation_create(
            actor=actor,
            target=led.docs[a.target_id],
            amount=a.amount,
            date=a.date,
            payment=led.payments.get(a.payment_id) if a.payment_id else None,
            credit_note=led.docs.get(a.credit_note_id) if a.credit_note_id else None,
        )
    services.payment_return(actor=actor, payment=led.payments[3], date=dt.date(2026, 3, 15))
    for d in example.DOCS:
        for opened, resolved in d.disputed:
            dispute = Dispute.objects.create(
                company=d.customer_id == 1 and fr or uk,
                customer=cust[d.customer_id],
                reason="price",
                opened_on=opened,
                resolved_on=resolved,
                status="open" if resolved is None else "rejected",
            )
            dispute.documents.add(led.docs[d.id])
    return led
