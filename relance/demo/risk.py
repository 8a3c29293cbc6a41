"""The demo's risk story (issue 5): after the ledger is written, the risk features see what a user would.

* "Établissements Vasseur & Fils SA" (FR1, the receivership-like account) gets a BODACC-like legal event opening
  receivership proceedings: class X, dunning stopped, a claim to declare within two months.
* Deteriorating payers are scored three months back (when they still paid on time) and today: their class
  drops and the daily monitoring raises their payment-slippage alert.
* A few large accounts get credit-insurance cover (one expiring soon) and financial statements; then one full
  rescore and one monitoring pass (the daily job's work) on every customer.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from relance.ledger.models import Customer

RECEIVERSHIP_NAME = "Établissements Vasseur & Fils SA"
HISTORY_DAYS = 75  # within the 90 days the class-downgrade rule looks back


def apply(*, as_of: dt.date, deteriorating: list[tuple[str, str]]) -> dict[str, Any]:
    """Add the risk inputs of the story and run the scoring and the monitoring once. Returns counts.

    ``deteriorating``: (company code, reference) of the deteriorating payers of the plan.
    """
    from relance.risk import monitor, scoring
    from relance.risk.models import CreditInsuranceCover, FinancialStatement, LegalEvent

    vasseur = (
        Customer.objects.filter(company__code="FR1", name=RECEIVERSHIP_NAME).select_related("legal_entity").first()
    )
    if vasseur is not None and vasseur.legal_entity_id:
        LegalEvent.objects.get_or_create(
            reference=f"DEMO-A{as_of:%Y%m%d}-0001",
            defaults={
                "legal_entity_id": vasseur.legal_entity_id,
                "kind": "receivership",
                "published_on": as_of - dt.timedelta(days=12),
                "judgment_date": as_of - dt.timedelta(days=19),
                "court": "Tribunal de commerce de Lille Métropole",
                "representative": "SELARL MJ Nord, 12 rue Nationale, 59000 Lille",
                "description": "Jugement d'ouverture d'une procédure de redressement judiciaire",
                "source": "demo",
            },
        )
        FinancialStatement.objects.get_or_create(
            legal_entity_id=vasseur.legal_entity_id,
            fiscal_year_end=dt.date(as_of.year - 1, 12, 31),
            defaults=dict(
                currency="EUR", total_assets=Decimal("8200000"), total_liabilities=Decimal("8900000"),
                equity=Decimal("-700000"), working_capital=Decimal("-1300000"), retained_earnings=Decimal("-2100000"),
                ebit=Decimal("-650000"), sales=Decimal("12400000"), cash=Decimal("45000"), source="demo",
            ),
        )  # fmt: skip
    large = list(
        Customer.objects.filter(size="large", kind="business")
        .exclude(name=RECEIVERSHIP_NAME)
        .select_related("company")
        .order_by("pk")[:4]
    )
    for i, customer in enumerate(large):
        CreditInsuranceCover.objects.get_or_create(
            customer=customer,
            insurer=("Allianz Trade", "Atradius", "Coface")[i % 3],
            defaults={
                "reference": f"POL-{customer.reference}",
                "insured_amount": Decimal(50000 + 25000 * i),
                "currency": customer.company.currency,
                "valid_from": as_of - dt.timedelta(days=340 if i == 0 else 100),
                "expires_on": as_of + dt.timedelta(days=20 if i == 0 else 265),
            },
        )
        if customer.legal_entity_id and i % 2 == 1:
            FinancialStatement.objects.get_or_create(
                legal_entity_id=customer.legal_entity_id,
                fiscal_year_end=dt.date(as_of.year - 1, 12, 31),
                defaults=dict(
                    currency=customer.company.currency, total_assets=Decimal("5000000"),
                    total_liabilities=Decimal("2600000"), equity=Decimal("2400000"),
                    working_capital=Decimal("900000"), retained_earnings=Decimal("1500000"),
                    ebit=Decimal("480000"), sales=Decimal("9000000"), cash=Decimal("600000"), source="demo",
                ),
            )  # fmt: skip
    ids = []
    for code in {c for c, _ in deteriorating}:
        refs = [r for c, r in deteriorating if c == code]
        ids += list(Customer.objects.filter(company__code=code, reference__in=refs).values_list("pk", flat=True))
    if ids:  # scored when they still paid on time: today's class is lower, the monitoring sees the drop
        scoring.rescore(as_of=as_of - dt.timedelta(days=HISTORY_DAYS), customer_ids=ids, actor="demo")
    result = scoring.rescore(as_of=as_of, full=True, actor="demo")
    counts = monitor.monitor(as_of=as_of)
    return {"scored": result.considered, "class_changes": result.class_changes, **counts}
