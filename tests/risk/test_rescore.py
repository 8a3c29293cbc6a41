"""Rescoring: writes scores, history and the class mirror; incremental runs touch only what changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from relance.channels import services as channels
from relance.channels.models import WebhookEvent
from relance.core import clock
from relance.ledger.models import Customer, Document, LegalEntity
from relance.risk import scoring, selectors
from relance.risk.models import CustomerRisk, LegalEntityRisk, LegalEvent, RescoreRun, ScoreHistory
from tests.factories import DocumentFactory

AS_OF = dt.date(2026, 6, 30)


def _late_history(customer, days_late: int, prefix: str, ages=(20, 40, 60, 100, 140, 180, 220, 260)):
    for i, age in enumerate(ages):
        settled_on = AS_OF - dt.timedelta(days=age)
        due = settled_on - dt.timedelta(days=days_late)
        doc = DocumentFactory(
            customer=customer,
            number=f"{prefix}-{i}",
            issue_date=due - dt.timedelta(days=30),
            due_date=due,
            amount=Decimal("1000"),
            tax_amount=0,
            currency=customer.company.currency,
        )
        Document.objects.filter(pk=doc.pk).update(open_amount=0, settled_on=settled_on)


def test_a_full_rescore_scores_every_customer_and_mirrors_the_class(world):
    result = scoring.rescore(as_of=AS_OF, full=True)
    assert result.considered == Customer.objects.count() == CustomerRisk.objects.count()
    for risk in CustomerRisk.objects.select_related("customer"):
        assert risk.customer.risk_class == risk.risk_class != ""
        assert risk.recommended_limit is not None and risk.reasons
    assert ScoreHistory.objects.count() == result.changed
    assert RescoreRun.objects.count() == 1


def test_a_second_run_with_nothing_changed_writes_nothing(world):
    scoring.rescore(as_of=AS_OF, full=True)
    again = scoring.rescore(as_of=AS_OF, full=True)
    assert again.changed == 0
    assert ScoreHistory.objects.count() == Customer.objects.count()


def test_an_incremental_run_considers_only_customers_whose_inputs_changed(world):
    clock.freeze(dt.datetime(2026, 6, 30, 8, 0, tzinfo=dt.UTC))
    scoring.rescore(as_of=AS_OF, full=True)
    # nothing has changed: only the customers with overdue items (their age is an input) are considered
    overdue = set(Document.objects.filter(open_amount__gt=0, due_date__lt=AS_OF).values_list("customer_id", flat=True))
    clock.freeze(dt.datetime(2026, 6, 30, 9, 0, tzinfo=dt.UTC))
    quiet = scoring.rescore(as_of=AS_OF)
    assert quiet.considered == len(overdue) and quiet.changed == 0
    bob = world.customers["c_lyo_bob"]
    clock.freeze(dt.datetime(2026, 6, 30, 10, 0, tzinfo=dt.UTC))
    _late_history(bob, 45, "LATE")
    changed = scoring.rescore(as_of=AS_OF)
    assert bob.pk in changed.changed_ids and changed.changed == 1
    bob.refresh_from_db()
    assert bob.risk_class in ("C", "D", "E")


def test_a_customer_paying_later_and_later_drops_class_and_keeps_history(world):
    bob = world.customers["c_lyo_bob"]
    _late_history(bob, 0, "OK")
    scoring.rescore(as_of=AS_OF, customer_ids=[bob.pk])
    before = CustomerRisk.objects.get(customer=bob)
    later = AS_OF + dt.timedelta(days=60)
    _late_history(bob, 50, "LATE", ages=(-50, -40, -30, -20))  # settled in the two months after AS_OF
    channels.subscription_create(
        actor=world.users["admin"], url="https://erp.example/h", event_types=["customer.risk_changed"]
    )
    scoring.rescore(as_of=later, customer_ids=[bob.pk])
    after = CustomerRisk.objects.get(customer=bob)
    assert (before.risk_class, after.risk_class) == ("A", "E"), (before.score, after.score)
    assert list(ScoreHistory.objects.filter(customer=bob).values_list("as_of", flat=True)) == [AS_OF, later]
    event = WebhookEvent.objects.get(type="customer.risk_changed")
    assert (event.payload["old_class"], event.payload["new_class"]) == ("A", "E")


def test_opened_proceedings_give_class_x_in_every_company_and_stop_dunning(world):
    fr_account = world.customers["c_par_alice"]
    uk_account = world.customers["c_uk_alice"]
    entity = LegalEntity.objects.create(key="SIREN:552100554", name="Atelier", country="FR", siren="552100554")
    Customer.objects.filter(pk__in=[fr_account.pk, uk_account.pk]).update(legal_entity=entity)
    LegalEvent.objects.create(
        legal_entity=entity,
        kind="receivership",
        reference="A202600001",
        published_on=AS_OF - dt.timedelta(days=5),
        judgment_date=AS_OF - dt.timedelta(days=12),
    )
    scoring.rescore(as_of=AS_OF, full=True)
    for account in (fr_account, uk_account):
        risk = CustomerRisk.objects.get(customer=account)
        assert (risk.risk_class, risk.score, risk.dunning_stopped, risk.blocked) == ("X", 0, True, True)
        assert risk.insolvency_since == AS_OF - dt.timedelta(days=12)
    assert selectors.dunning_stopped_customer_ids() == {fr_account.pk, uk_account.pk}
    assert LegalEntityRisk.objects.get(legal_entity=entity).risk_class == "X"
