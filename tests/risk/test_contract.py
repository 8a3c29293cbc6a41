"""The risk records other features read: dunning stop, insured and factored outstanding, risk class."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from relance.risk import selectors
from relance.risk.models import CreditInsuranceCover, CustomerRisk, FactoredDocument


def test_dunning_stopped_customers_are_listed_per_company(world):
    fr, uk = world.customers["c_par_alice"], world.customers["c_uk_alice"]
    CustomerRisk.objects.create(customer=fr, currency="EUR", dunning_stopped=True, risk_class="X")
    CustomerRisk.objects.create(customer=uk, currency="GBP", dunning_stopped=True, risk_class="X")
    CustomerRisk.objects.create(customer=world.customers["c_lyo_bob"], currency="EUR", risk_class="B")
    assert selectors.dunning_stopped_customer_ids() == {fr.pk, uk.pk}
    assert selectors.dunning_stopped_customer_ids(company_ids=[world.fr.pk]) == {fr.pk}
    assert selectors.dunning_stopped_customer_ids(company_ids=[]) == set()


def test_cover_and_factoring_records_hang_off_customer_and_document(world):
    customer = world.customers["c_par_alice"]
    cover = CreditInsuranceCover.objects.create(
        customer=customer,
        insurer="Allianz Trade",
        insured_amount=Decimal("50000.00"),
        currency="EUR",
        valid_from=dt.date(2026, 1, 1),
        expires_on=dt.date(2026, 12, 31),
    )
    factored = FactoredDocument.objects.create(
        document=world.documents["c_par_alice"], factor="BNP Factor", assigned_on=dt.date(2026, 4, 2)
    )
    assert list(customer.insurance_covers.all()) == [cover]
    assert world.documents["c_par_alice"].factoring == factored
