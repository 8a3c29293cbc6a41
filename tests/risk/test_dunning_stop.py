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


def test_a_bodacc_import_stops_dunning_at_once_in_every_company(world):
    """Import, then the dunning cycle with no rescoring in between: every account of the entity is held."""
    import io
    from pathlib import Path

    from django.core.management import call_command

    from relance.core import clock
    from relance.ledger.models import LegalEntity
    from relance.risk import scoring

    siren = "552100554"  # the receivership of tests/risk/data/bodacc_sample.json
    entity = LegalEntity.objects.create(key=f"SIREN:{siren}", name="Vasseur", country="FR", siren=siren)
    accounts = {}
    for company, ref, currency in (
        (world.fr, "VASSEUR", "EUR"),
        (world.uk, "VASSEUR-UK", "GBP"),
        (world.fr, "OK", "EUR"),
    ):
        linked = {} if ref == "OK" else {"legal_entity": entity, "siren": siren}
        collector = world.users["collector_alice"]
        cust = CustomerFactory(company=company, reference=ref, name=f"{ref} Ltd", collector=collector, **linked)
        ContactFactory(customer=cust, email=f"ap@{ref.lower()}.example")
        ledger.document_upsert(actor=audit.SYSTEM, company=company, customer=cust, number=f"F-{ref}",
                               issue_date=DAY - dt.timedelta(days=46), due_date=DAY - dt.timedelta(days=16),
                               currency=currency, amount="900.00")  # fmt: skip
        accounts[ref] = cust
    clock.freeze(DAY)
    try:
        scoring.rescore(as_of=DAY, full=True)  # yesterday's daily job: nobody in proceedings
        assert not CustomerRisk.objects.filter(dunning_stopped=True).exists()
        out = io.StringIO()
        data = Path(__file__).parent / "data" / "bodacc_sample.json"
        call_command("import", "legal-events", str(data), stdout=out, stderr=io.StringIO())
        assert "2 customer account(s)" in out.getvalue()
        result = cycle.cycle_run(as_of=DAY, dry_run=True)
    finally:
        clock.freeze(None)
    statuses = {(a["customer_ref"], a["status"], a.get("reason")) for a in result.actions}
    for ref in ("VASSEUR", "VASSEUR-UK"):
        assert (ref, "skipped", "insolvency") in statuses
        assert {s for r, s, _ in statuses if r == ref} == {"skipped"}
        risk = CustomerRisk.objects.get(customer=accounts[ref])
        assert (risk.risk_class, risk.blocked, risk.dunning_stopped) == ("X", True, True)
        accounts[ref].refresh_from_db()
        assert accounts[ref].risk_class == "X"
    assert any(r == "OK" and s != "skipped" for r, s, _ in statuses)
    assert CustomerRisk.objects.get(customer=accounts["OK"]).risk_class != "X"
    # the legal-event alert and the claim to declare are raised at once too
    from relance.alerts.models import Alert

    kinds = set(Alert.objects.filter(customer=accounts["VASSEUR"]).values_list("kind", flat=True))
    assert {"risk.legal_event", "insolvency.claim_deadline"} <= kinds


def test_a_targeted_rescore_is_not_the_next_incremental_runs_starting_point(world):
    """An import rescoring a few accounts must not hide from the next daily run what changed before it."""
    from relance.risk import scoring

    cust = CustomerFactory(company=world.fr, reference="QUIET")  # nothing overdue: only a change makes it a candidate
    scoring.rescore(as_of=DAY, full=True)
    assert cust.pk not in scoring.rescore(as_of=DAY).considered_ids
    ledger.document_upsert(actor=audit.SYSTEM, company=world.fr, customer=cust, number="F-NEW", issue_date=DAY,
                           due_date=DAY + dt.timedelta(days=30), currency="EUR", amount="500.00")  # fmt: skip
    targeted = scoring.rescore(as_of=DAY, customer_ids=[world.customers["c_lyo_bob"].pk])
    assert targeted.as_dict()["mode"] == "customers"
    assert cust.pk in scoring.rescore(as_of=DAY).considered_ids
