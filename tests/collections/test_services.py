"""Disputes, promises and the activity log: the services other apps build on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from relance.channels import webhooks
from relance.channels.models import WebhookEvent, WebhookSubscription
from relance.collections import activity, selectors, services
from relance.collections.models import Activity, DisputeStatus, PromiseStatus
from relance.core import audit, errors
from relance.core.models import AuditEntry
from relance.core.money import Money

from ..conftest import TODAY


@pytest.fixture
def hooks(world):
    return WebhookSubscription.objects.create(
        url="https://hooks.example.com/r",
        secret="s" * 20,
        event_types=[webhooks.DISPUTE_OPENED, webhooks.PROMISE_BROKEN],
    )


def test_dispute_open_and_resolve(world, hooks):
    cust = world.customers["c_par_alice"]
    doc = world.documents["c_par_alice"]
    alice = world.users["collector_alice"]
    d = services.dispute_open(actor=alice, customer=cust, documents=[doc], reason="price", message="Too dear")
    assert d.status == DisputeStatus.OPEN and d.opened_on == TODAY and d.owner == alice
    assert list(d.documents.all()) == [doc]
    assert AuditEntry.objects.filter(action="dispute.open", object_id=str(d.pk)).exists()
    event = WebhookEvent.objects.get(type=webhooks.DISPUTE_OPENED)
    assert event.payload["documents"] == [doc.number] and event.payload["reason"] == "price"
    act = Activity.objects.get(kind=activity.DISPUTE_OPENED)
    assert act.user == alice and act.data["documents"] == [doc.number]
    assert list(selectors.open_disputes(alice, customer_id=cust.pk)) == [d]
    assert list(selectors.open_disputes(world.users["collector_bob"])) == []

    d = services.dispute_resolve(actor=alice, dispute=d, status="credit_note", as_of=TODAY + dt.timedelta(days=3))
    assert d.status == "credit_note" and d.resolved_on == TODAY + dt.timedelta(days=3)
    assert not selectors.open_disputes(alice).exists()
    with pytest.raises(errors.ValidationError, match="already resolved"):
        services.dispute_resolve(actor=alice, dispute=d, status="rejected")


def test_dispute_refuses_other_customers_documents_and_unknown_reason(world):
    cust = world.customers["c_par_alice"]
    other = world.documents["c_lyo_bob"]
    with pytest.raises(errors.ValidationError, match=f"{other.number} does not belong"):
        services.dispute_open(actor=audit.SYSTEM, customer=cust, documents=[other], reason="price")
    with pytest.raises(errors.ValidationError, match="not a dispute reason"):
        services.dispute_open(actor=audit.SYSTEM, customer=cust, documents=[world.documents["c_par_alice"]], reason="x")
    with pytest.raises(errors.ValidationError, match="at least one document"):
        services.dispute_open(actor=audit.SYSTEM, customer=cust, documents=[], reason="price")


@pytest.mark.parametrize(
    "role,allowed",
    [
        ("collector_alice", True),
        ("credit_manager", True),
        ("collector_bob", False),
        ("auditor", False),
        ("sales_rep_sam", False),
    ],
)
def test_dispute_permissions(world, role, allowed):
    cust = world.customers["c_par_alice"]
    call = lambda: services.dispute_open(  # noqa: E731
        actor=world.users[role], customer=cust, documents=[world.documents["c_par_alice"]], reason="price"
    )
    if allowed:
        call()
    else:
        with pytest.raises((errors.PermissionDenied, errors.NotFound)):
            call()


def test_promise_lifecycle(world, hooks):
    cust = world.customers["c_par_alice"]
    doc = world.documents["c_par_alice"]
    p = services.promise_create(
        actor="portal:contact 12",
        customer=cust,
        documents=[doc],
        amount=Money(Decimal("50"), "EUR"),
        promised_for=TODAY + dt.timedelta(days=7),
        source="portal",
    )
    assert p.status == PromiseStatus.OPEN and p.amount == Decimal("50.00") and p.made_on == TODAY
    assert Activity.objects.get(kind=activity.PROMISE_MADE).actor == "portal:contact 12"
    assert list(selectors.open_promises(world.users["collector_alice"])) == [p]
    services.promise_break(actor=audit.SYSTEM, promise=p, as_of=TODAY + dt.timedelta(days=8))
    p.refresh_from_db()
    assert p.status == PromiseStatus.BROKEN and p.resolved_on == TODAY + dt.timedelta(days=8)
    assert WebhookEvent.objects.get(type=webhooks.PROMISE_BROKEN).payload["status"] == "broken"
    with pytest.raises(errors.ValidationError, match="already broken"):
        services.promise_cancel(actor=audit.SYSTEM, promise=p)


def test_promise_validation(world):
    cust = world.customers["c_par_alice"]
    doc = world.documents["c_par_alice"]
    later = TODAY + dt.timedelta(days=5)
    with pytest.raises(errors.ValidationError, match="is in EUR"):
        services.promise_create(
            actor=audit.SYSTEM, customer=cust, documents=[doc], amount=Money(Decimal("5"), "GBP"), promised_for=later
        )
    with pytest.raises(errors.ValidationError, match="before the day"):
        services.promise_create(
            actor=audit.SYSTEM,
            customer=cust,
            documents=[doc],
            amount=Money(Decimal("5"), "EUR"),
            promised_for=TODAY - dt.timedelta(days=1),
        )
    with pytest.raises(errors.ValidationError, match="greater than zero"):
        services.promise_create(
            actor=audit.SYSTEM, customer=cust, documents=[doc], amount=Money(Decimal("0"), "EUR"), promised_for=later
        )
    p = services.promise_create(
        actor=audit.SYSTEM, customer=cust, documents=[], amount=Money(Decimal("5"), "EUR"), promised_for=later
    )
    p = services.promise_cancel(actor=audit.SYSTEM, promise=p)
    assert p.status == PromiseStatus.CANCELLED and p.resolved_on == TODAY


def test_activity_record(world):
    cust = world.customers["c_uk_alice"]
    a = services.activity_record(
        customer=cust,
        kind=activity.NOTE,
        text="Called",
        actor=world.users["admin"],
        data={"amount": Decimal("1.50"), "on": TODAY},
    )
    assert (
        a.company_id == cust.company_id
        and a.actor == "admin@example.com"
        and a.data == {"amount": "1.50", "on": "2026-06-30"}
    )
    with pytest.raises(errors.ValidationError, match="not a kind"):
        services.activity_record(customer=cust, kind="nonsense")
    assert list(selectors.activities(world.users["collector_alice"], customer_id=cust.pk)) == [a]
    assert not selectors.activities(world.users["collector_bob"]).exists()
