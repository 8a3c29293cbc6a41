"""Data for the journeys: the standard world made lifelike (written through the ledger services)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from relance.collections.models import Dispute, DisputeReason
from relance.core.vocab import ContactRole, DocumentType, PayerProfile, RiskClass
from relance.ledger import services
from relance.ledger.models import Contact, Customer
from tests.conftest import World
from tests.factories import CustomerFactory, DocumentFactory, PaymentFactory

EXTRA_PORTFOLIO = 55  # more than one page (50) of customers for alice


def add_rich_data(world: World) -> None:
    alice = world.users["collector_alice"]
    par = world.customers["c_par_alice"]
    Customer.objects.filter(pk=par.pk).update(
        siren="552100554",
        vat_number="FR12552100554",
        risk_class=RiskClass.C,
        payer_profile=PayerProfile.SLOW_STEADY,
        strategic=True,
    )
    Contact.objects.create(
        customer=par,
        name="Claire Martin",
        email="claire.martin@atelier-paris.example",
        phone="+33 1 23 45 67 89",
        is_main_ap=True,
        language="fr",
    )
    Contact.objects.create(
        customer=par, name="Paul Durand", email="paul.durand@atelier-paris.example", role=ContactRole.FINANCE
    )
    part_paid = DocumentFactory(
        customer=par,
        number="INV-PAR002",
        currency="EUR",
        issue_date=dt.date(2026, 5, 15),
        due_date=dt.date(2026, 6, 14),
        amount=Decimal("2400.00"),
        tax_amount=Decimal("400.00"),
    )
    DocumentFactory(
        customer=par,
        number="INV-PAR003",
        currency="EUR",
        issue_date=dt.date(2026, 6, 20),
        due_date=dt.date(2026, 7, 20),
        amount=Decimal("960.00"),
        tax_amount=Decimal("160.00"),
    )
    credit = DocumentFactory(
        customer=par,
        number="CN-PAR001",
        type=DocumentType.CREDIT_NOTE,
        currency="EUR",
        issue_date=dt.date(2026, 6, 1),
        due_date=dt.date(2026, 6, 1),
        amount=Decimal("240.00"),
        tax_amount=Decimal("40.00"),
        corrects=part_paid,
    )
    services.allocation_create(
        actor=alice, target=part_paid, amount="100.00", date="2026-06-20", payment=world.payments["c_par_alice"]
    )
    services.allocation_create(actor=alice, target=part_paid, amount="240.00", date="2026-06-21", credit_note=credit)
    dispute = Dispute.objects.create(
        company=par.company,
        customer=par,
        reason=DisputeReason.QUANTITY,
        opened_on=dt.date(2026, 6, 22),
        message="Two pallets missing on delivery 4471.",
        owner=alice,
    )
    dispute.documents.add(part_paid)
    for n in range(EXTRA_PORTFOLIO):
        customer = CustomerFactory(
            company=world.fr,
            agency=world.par,
            reference=f"PAR{n + 100:03d}",
            name=f"Client Parisien {n + 1:02d}",
            collector=alice,
        )
        DocumentFactory(
            customer=customer,
            number=f"INV-{customer.reference}",
            currency="EUR",
            issue_date=dt.date(2026, 3, 1) + dt.timedelta(days=n),
            amount=Decimal(1000 + 37 * n),
            tax_amount=Decimal(0),
        )
    PaymentFactory(customer=world.customers["c_uk_alice"], reference="PAY-UK-2", currency="GBP")
