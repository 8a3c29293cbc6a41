"""GET /payments and /payments/{id}: filters, unidentified cash, allocations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from relance.ledger import services
from relance.ledger.models import Payment
from tests.factories import PaymentFactory


@pytest.fixture
def admin(world, api_as):
    return api_as("admin")


def ids(api, params=None):
    return {p["id"] for p in api.items("/payments", params)}


def test_a_payment_reads_with_amounts_as_strings(world, admin):
    payment = world.payments["c_uk_alice"]
    body = admin.json(f"/payments/{payment.pk}")
    assert body["reference"] == "PAY-UK0001"
    assert (body["company"], body["currency"], body["amount"], body["unallocated_amount"]) == (
        "UK1",
        "GBP",
        "100.00",
        "100.00",
    )
    assert body["customer"] == {"id": payment.customer_id, "reference": "UK0001", "name": "British Widgets Ltd"}
    assert (body["kind"], body["method"], body["date"]) == ("payment", "transfer", "2026-02-01")
    assert body["bank_reference"] is None and body["payer_name"] is None
    assert body["allocations"] == []


def test_an_unidentified_payment_has_no_customer(world, admin):
    body = admin.json(f"/payments/{world.unidentified.pk}")
    assert body["customer"] is None
    assert body["company"] == "FR1"


class TestFilters:
    @pytest.fixture
    def allocated(self, world):
        payment = world.payments["c_par_alice"]
        services.allocation_create(
            actor="test", target=world.documents["c_par_alice"], payment=payment, amount="100", date="2026-06-01"
        )
        return payment

    def test_unallocated_true_and_false(self, world, admin, allocated):
        everything = {p.pk for p in Payment.objects.all()}
        assert ids(admin, {"unallocated": "true"}) == everything - {allocated.pk}
        assert ids(admin, {"unallocated": "false"}) == {allocated.pk}

    def test_company_customer_currency(self, world, admin):
        assert ids(admin, {"company": "UK1"}) == {world.payments["c_uk_alice"].pk, world.payments["c_uk_carol"].pk}
        assert ids(admin, {"customer": world.customers["c_lyo_bob"].pk}) == {world.payments["c_lyo_bob"].pk}
        assert ids(admin, {"currency": "GBP", "company": "FR1"}) == set()

    def test_updated_since(self, world, admin):
        Payment.objects.update(updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        late = PaymentFactory(customer=world.customers["c_lyo_bob"], reference="PAY-LATE", amount=Decimal("1"))
        assert ids(admin, {"updated_since": "2026-03-01T00:00:00+01:00"}) == {late.pk}


def test_a_payment_lists_its_allocations_oldest_first(world, admin):
    payment = world.payments["c_par_alice"]
    invoice = world.documents["c_par_alice"]
    services.allocation_create(actor="test", target=invoice, payment=payment, amount="30.5", date="2026-06-02")
    services.allocation_create(actor="test", target=invoice, payment=payment, amount="20", date="2026-06-01")
    body = admin.json(f"/payments/{payment.pk}")
    assert body["unallocated_amount"] == "49.50"
    assert [(a["amount"], a["date"]) for a in body["allocations"]] == [("20.00", "2026-06-01"), ("30.50", "2026-06-02")]
    assert body["allocations"][0]["target"] == {"id": invoice.pk, "number": "INV-PAR001", "type": "invoice"}
