"""The ledger services record webhook events themselves: cash application, FEC and e-invoice imports,
and any other caller of the services send the same events as the bulk API."""

import datetime as dt
from decimal import Decimal

from relance.channels import services as channels
from relance.channels.models import WebhookEvent
from relance.ledger import services

D = dt.date(2026, 6, 1)
EVENTS = ["document.created", "document.updated", "payment.received", "payment.allocated"]


def test_services_emit_document_and_payment_events(world):
    channels.subscription_create(actor=world.users["admin"], url="https://erp.example/hooks", event_types=EVENTS)
    fr, customer = world.fr, world.customers["c_par_alice"]
    doc, _ = services.document_upsert(
        actor="t",
        company=fr,
        customer=customer,
        number="F-EVT",
        issue_date=D,
        due_date=D + dt.timedelta(days=30),
        currency="EUR",
        amount="100.00",
    )
    services.document_upsert(
        actor="t",
        company=fr,
        customer=customer,
        number="F-EVT",
        issue_date=D,
        due_date=D + dt.timedelta(days=45),
        currency="EUR",
        amount="100.00",
    )
    pay, _ = services.payment_upsert(
        actor="t", company=fr, customer=customer, reference="P-EVT", date=D, currency="EUR", amount="60.00"
    )
    services.allocation_create(actor="t", target=doc, payment=pay, amount="60.00", date=D)
    events = dict(WebhookEvent.objects.values_list("type", "payload"))
    assert sorted(events) == sorted(EVENTS) and WebhookEvent.objects.count() == 4
    allocated = events["payment.allocated"]
    assert allocated["payment_unallocated_amount"] == "0.00" and allocated["invoice_open_amount"] == "40.00"
    assert events["document.created"]["number"] == "F-EVT"


def test_an_unchanged_upsert_and_no_subscription_record_nothing(world):
    fr, customer = world.fr, world.customers["c_par_alice"]
    services.payment_upsert(
        actor="t", company=fr, customer=customer, reference="P-NONE", date=D, currency="EUR", amount=Decimal("5.00")
    )
    assert not WebhookEvent.objects.exists()
    channels.subscription_create(actor=world.users["admin"], url="https://erp.example/hooks", event_types=EVENTS)
    services.payment_upsert(
        actor="t", company=fr, customer=customer, reference="P-NONE", date=D, currency="EUR", amount=Decimal("5.00")
    )
    assert not WebhookEvent.objects.exists()
