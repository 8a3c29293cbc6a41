"""Insolvency proceedings stop dunning: the collections cycle (which reads risk.selectors) holds a class-X customer."""

from __future__ import annotations

import datetime as dt

from relance.collections import cycle
from relance.core import audit
from relance.ledger import services as ledger
from relance.risk.models import CustomerRisk
from tests.factories import ContactFactory, CustomerFactory

DAY = dt.date(2026, 6, 30)


def test_the_cycle_skips_customers_whose_dunning_is_stopped(world):
    customers = {}
    for ref in ("OK", "INSOLV"):
        cust = CustomerFactory(
            company=world.fr, reference=ref, name=f"{ref} SARL", collector=world.users["collector_alice"]
        )
        ContactFactory(customer=cust, email=f"ap@{ref.lower()}.example")
        ledger.document_upsert(actor=audit.SYSTEM, company=world.fr, customer=cust, number=f"F-{ref}",
                               issue_date=DAY - dt.timedelta(days=46), due_date=DAY - dt.timedelta(days=16),
                               currency="EUR", amount="900.00")  # fmt: skip
        customers[ref] = cust
    CustomerRisk.objects.create(customer=customers["INSOLV"], currency="EUR", risk_class="X", dunning_stopped=True)
    result = cycle.cycle_run(as_of=DAY, dry_run=True)
    statuses = {(a["customer_ref"], a["status"], a.get("reason")) for a in result.actions}
    assert ("INSOLV", "skipped", "insolvency") in statuses
    assert {s for ref, s, _ in statuses if ref == "INSOLV"} == {"skipped"}
    assert any(ref == "OK" and s != "skipped" for ref, s, _ in statuses)
