"""document.overdue: once per invoice, the day after its due date, caught up after days without a run."""

import datetime as dt

from relance.channels import services as channels
from relance.channels.models import WebhookEvent
from relance.core import scheduler
from tests.factories import DocumentFactory


def overdue_numbers():
    return sorted(
        p["number"] for p in WebhookEvent.objects.filter(type="document.overdue").values_list("payload", flat=True)
    )


def test_overdue_events_once_each_with_catch_up(world):
    channels.subscription_create(
        actor=world.users["admin"], url="https://erp.example/hooks", event_types=["document.overdue"]
    )
    c = world.customers["c_par_alice"]
    for n, due in (
        ("D-0701", dt.date(2026, 7, 1)),
        ("D-0702", dt.date(2026, 7, 2)),
        ("D-0705", dt.date(2026, 7, 5)),
        ("D-0710", dt.date(2026, 7, 10)),
    ):
        DocumentFactory(customer=c, number=n, issue_date=dt.date(2026, 6, 1), due_date=due)
    DocumentFactory(
        customer=c, number="D-PAID", issue_date=dt.date(2026, 6, 1), due_date=dt.date(2026, 7, 1), open_amount=0
    )
    scheduler.run_job("webhooks_overdue", dt.date(2026, 7, 2))  # first run: due yesterday (07-01) only
    assert overdue_numbers() == ["D-0701"]
    scheduler.run_job("webhooks_overdue", dt.date(2026, 7, 2))  # the same date again: nothing
    scheduler.run_job("webhooks_overdue", dt.date(2026, 7, 7))  # days without a run: 07-02 .. 07-06 caught up
    assert overdue_numbers() == ["D-0701", "D-0702", "D-0705"]
    scheduler.run_job("webhooks_overdue", dt.date(2026, 7, 8))
    assert overdue_numbers() == ["D-0701", "D-0702", "D-0705"]


def test_no_subscription_no_work(world):
    DocumentFactory(
        customer=world.customers["c_par_alice"],
        number="D-X",
        due_date=dt.date(2026, 7, 1),
        issue_date=dt.date(2026, 6, 1),
    )
    run = scheduler.run_job("webhooks_overdue", dt.date(2026, 7, 2))
    assert run.result == {"emitted": 0} and not WebhookEvent.objects.exists()
