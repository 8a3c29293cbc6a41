"""Each alert type: raised once by the daily job, cleared when its condition ends; insolvency claims."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from relance.alerts.models import Alert
from relance.collections.models import Promise
from relance.ledger.models import Document, LegalEntity
from relance.risk import jobs, monitor, scoring
from relance.risk.models import Claim, CreditInsuranceCover, CustomerRisk, LegalEvent
from tests.factories import DocumentFactory

AS_OF = dt.date(2026, 6, 30)


def live(kind: str, customer=None) -> list[Alert]:
    qs = Alert.objects.filter(kind=kind, cleared_on__isnull=True)
    return list(qs.filter(customer=customer) if customer else qs)


def run(day: dt.date = AS_OF) -> dict:
    return jobs.run_daily(day, full=True)


def test_limit_overrun_is_raised_once_and_cleared_when_exposure_falls_back(world):
    alice = world.customers["c_par_alice"]
    run()
    CustomerRisk.objects.filter(customer=alice).update(granted_limit=Decimal("100.00"))
    run()
    run()
    assert len(live("risk.limit_overrun", alice)) == 1
    assert Alert.objects.filter(kind="risk.limit_overrun", customer=alice).count() == 1
    CustomerRisk.objects.filter(customer=alice).update(granted_limit=Decimal("1000000.00"))
    run()
    assert live("risk.limit_overrun", alice) == []
    assert Alert.objects.get(kind="risk.limit_overrun", customer=alice).cleared_on == AS_OF


def test_a_new_overdue_above_the_threshold_is_raised_then_cleared_when_paid(world):
    bob = world.customers["c_lyo_bob"]
    doc = DocumentFactory(
        customer=bob,
        number="BIG-1",
        issue_date=dt.date(2026, 5, 20),
        due_date=dt.date(2026, 6, 20),
        amount=Decimal("12000"),
        tax_amount=0,
    )
    run()
    run()
    assert [a.key for a in live("risk.new_overdue", bob)] == ["BIG-1"]
    Document.objects.filter(pk=doc.pk).update(open_amount=0, settled_on=AS_OF)
    run()
    assert live("risk.new_overdue", bob) == []


def test_cover_expiring_is_raised_and_cleared_once_renewed(world):
    bob = world.customers["c_lyo_bob"]
    cover = CreditInsuranceCover.objects.create(
        customer=bob,
        insurer="Atradius",
        insured_amount=Decimal("30000"),
        currency="EUR",
        valid_from=dt.date(2025, 7, 15),
        expires_on=dt.date(2026, 7, 14),
    )
    run()
    assert [a.key for a in live("risk.cover_expiring", bob)] == [f"cover:{cover.pk}"]
    CreditInsuranceCover.objects.create(
        customer=bob,
        insurer="Atradius",
        insured_amount=Decimal("30000"),
        currency="EUR",
        valid_from=dt.date(2026, 7, 15),
        expires_on=dt.date(2027, 7, 14),
    )
    run()
    assert live("risk.cover_expiring", bob) == []


def test_a_broken_promise_is_raised_once_while_overdue(world):
    alice = world.customers["c_par_alice"]
    Promise.objects.create(
        company=world.fr,
        customer=alice,
        amount=Decimal("100"),
        currency="EUR",
        promised_for=dt.date(2026, 6, 25),
        made_on=dt.date(2026, 6, 10),
        status="broken",
        resolved_on=dt.date(2026, 6, 26),
    )
    run()
    run()
    assert len(live("promise.broken", alice)) == 1
    run(AS_OF + dt.timedelta(days=40))
    assert live("promise.broken", alice) == []


def test_a_promise_alert_raised_by_collections_is_not_doubled(world):
    from relance.alerts import services as alerts

    alice = world.customers["c_par_alice"]
    promise = Promise.objects.create(
        company=world.fr,
        customer=alice,
        amount=Decimal("100"),
        currency="EUR",
        promised_for=dt.date(2026, 6, 25),
        made_on=dt.date(2026, 6, 10),
        status="broken",
        resolved_on=dt.date(2026, 6, 26),
    )
    alerts.alert_raise(
        kind="promise.broken", company=world.fr, customer=alice, key=str(promise.pk), title="Broken", as_of=AS_OF
    )
    run()
    assert len(live("promise.broken", alice)) == 1


def _entity_for(customer, siren="552100554"):
    entity = LegalEntity.objects.create(key=f"SIREN:{siren}", name=customer.name, country="FR", siren=siren)
    type(customer).objects.filter(pk=customer.pk).update(legal_entity=entity)
    return entity


def test_a_legal_event_raises_an_alert_and_opens_a_claim_with_its_deadline_and_reminders(world):
    alice = world.customers["c_par_alice"]
    entity = _entity_for(alice)
    run(dt.date(2026, 6, 28))
    LegalEvent.objects.create(
        legal_entity=entity, kind="receivership", reference="A2026-77", published_on=dt.date(2026, 6, 29)
    )
    run()
    run()
    assert [a.key for a in live("risk.legal_event", alice)] == ["A2026-77"]
    claim = Claim.objects.get(customer=alice)
    assert claim.deadline == dt.date(2026, 8, 29)
    assert len(live("insolvency.claim_deadline", alice)) == 1
    downgrade = live("risk.class_downgrade", alice)
    assert [a.key for a in downgrade] == [f"{downgrade[0].data['old']}>X"]
    run(dt.date(2026, 8, 20))  # nine days before the deadline: the 10-day reminder
    assert [a.key for a in live("insolvency.claim_reminder", alice)] == [f"claim:{claim.pk}:10"]
    Claim.objects.filter(pk=claim.pk).update(declared_on=dt.date(2026, 8, 21))
    run(dt.date(2026, 8, 21))
    assert live("insolvency.claim_deadline", alice) == [] and live("insolvency.claim_reminder", alice) == []


def test_payment_slippage_alert_for_a_customer_drifting_late(world):
    bob = world.customers["c_lyo_bob"]
    for i, (age, late) in enumerate(
        [(200, 0), (190, 1), (180, 0), (170, 2), (160, 0), (150, 1), (60, 25), (40, 30), (20, 28)]
    ):
        settled_on = AS_OF - dt.timedelta(days=age)
        due = settled_on - dt.timedelta(days=late)
        doc = DocumentFactory(
            customer=bob,
            number=f"S-{i}",
            issue_date=due - dt.timedelta(days=30),
            due_date=due,
            amount=Decimal("1000"),
            tax_amount=0,
        )
        Document.objects.filter(pk=doc.pk).update(open_amount=0, settled_on=settled_on)
    run()
    run()
    assert len(live("risk.payment_slippage", bob)) == 1
    assert Alert.objects.filter(kind="risk.payment_slippage").count() == 1


def test_the_incremental_daily_job_looks_at_changed_and_monitored_customers(world):
    scoring.rescore(as_of=AS_OF, full=True)
    result = jobs.run_daily(AS_OF)
    assert result["rescore"]["mode"] == "changed"
    assert result["monitoring"]["customers"] == len(
        monitor.monitored_customer_ids(AS_OF)
        | set(
            scoring.changed_customer_ids(
                scoring.RescoreRun.objects.first().started_at,
                last_as_of=AS_OF,
                as_of=AS_OF,
                cfg=scoring.settings_for(world.fr.group_id),
            )
        )
    )
