"""Collections pages from the outside: each role sees its scope, only collecting roles act."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from relance.collections import replies, services
from relance.collections.models import Activity, Dispute, Promise, RulebookVersion, Task
from relance.core import audit
from relance.core.money import Money

from ..conftest import TODAY


@pytest.fixture
def dispute(world):
    return services.dispute_open(
        actor=audit.SYSTEM,
        customer=world.customers["c_par_alice"],
        documents=[world.documents["c_par_alice"]],
        reason="price",
    )


@pytest.mark.parametrize(
    "key", ["admin", "collector_alice", "collector_bob", "auditor", "sales_rep_sam", "agency_manager_none"]
)
def test_worklist_ranks_only_customers_in_scope(world, client_for, key):
    response = client_for(key).get(reverse("web:collections_worklist"))
    assert response.status_code == 200
    refs = {r["customer"]["reference"] for r in response.context["rows"]}
    expected = {world.customers[k].reference for k in world.visible_to(key)}
    if key == "collector_alice":  # her own portfolio only
        expected = {"PAR001", "UK0001"}
    assert refs == expected
    for row in response.context["rows"]:
        assert "overdue" in row["reason"]


def test_worklist_leaves_out_disputed_invoices_and_gives_the_reason(world, client_for, dispute):
    rows = client_for("collector_alice").get(reverse("web:collections_worklist")).context["rows"]
    assert [r["customer"]["reference"] for r in rows] == ["UK0001"]
    assert "60 days late" in rows[0]["reason"]  # due 2026-05-01, today 2026-06-30


@pytest.mark.parametrize(
    "key, status", [("collector_alice", 302), ("auditor", 403), ("sales_rep_sam", 403), ("collector_bob", 404)]
)
def test_the_call_form_logs_a_call_with_a_promise_and_a_next_action(world, client_for, key, status):
    cust = world.customers["c_par_alice"]
    doc = world.documents["c_par_alice"]
    url = reverse("web:collections_call", args=[cust.pk])
    response = client_for(key).post(
        url,
        {
            "outcome": "reached",
            "note": "Will pay Friday",
            "documents": [doc.pk],
            "promise_amount": "100,00",
            "promise_date": (TODAY + dt.timedelta(days=4)).isoformat(),
            "next_action_on": (TODAY + dt.timedelta(days=5)).isoformat(),
        },
    )
    assert response.status_code == status
    if status == 302:
        promise = Promise.objects.get(customer=cust)
        assert promise.amount == Decimal("100.00") and list(promise.documents.all()) == [doc]
        assert Task.objects.get(customer=cust, kind="follow_up").due_on == TODAY + dt.timedelta(days=5)
        call = Activity.objects.get(customer=cust, kind="call")
        assert call.data["outcome"] == "reached" and call.data["promise"] == promise.pk
    else:
        assert not Promise.objects.exists()


def test_a_bad_call_form_writes_nothing(world, client_for):
    cust = world.customers["c_par_alice"]
    response = client_for("collector_alice").post(
        reverse("web:collections_call", args=[cust.pk]),
        {
            "outcome": "reached",
            "promise_amount": "100",
            "promise_date": "",
            "next_action_on": (TODAY + dt.timedelta(days=5)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert "needs both an amount and a date" in response.content.decode()
    assert not Task.objects.exists() and not Activity.objects.filter(kind="call").exists()


def test_disputes_page_and_resolution(world, client_for, dispute):
    page = client_for("collector_bob").get(reverse("web:collections_disputes"))
    assert list(page.context["page"]) == []
    client = client_for("collector_alice")
    page = client.get(reverse("web:collections_disputes"))
    assert [d.pk for d in page.context["page"]] == [dispute.pk] and page.context["page"][0].age == 0
    client.post(reverse("web:collections_dispute_resolve", args=[dispute.pk]), {"status": "rejected"})
    dispute.refresh_from_db()
    assert dispute.status == "rejected"


def test_auditor_cannot_resolve(world, client_for, dispute):
    response = client_for("auditor").post(
        reverse("web:collections_dispute_resolve", args=[dispute.pk]), {"status": "rejected"}
    )
    assert response.status_code == 403
    assert Dispute.objects.get().status == "open"


def test_promises_page(world, client_for):
    services.promise_create(
        actor=audit.SYSTEM,
        customer=world.customers["c_uk_alice"],
        documents=[],
        amount=Money(Decimal("10"), "GBP"),
        promised_for=TODAY,
    )
    assert len(client_for("collector_alice").get(reverse("web:collections_promises")).context["page"]) == 1
    assert len(client_for("collector_bob").get(reverse("web:collections_promises")).context["page"]) == 0


def test_scenarios_page_shows_and_only_admins_edit_with_line_errors(world, client_for):
    url = reverse("web:collections_scenarios")
    page = client_for("collector_alice").get(url)
    assert page.status_code == 200 and "first_reminder" in page.content.decode()
    assert client_for("collector_alice").post(url, {"text": "x"}).status_code == 403
    admin = client_for("admin")
    bad = page.context["text"].replace("channel: call", "channel: carrier-pigeon", 1)
    response = admin.post(url, {"text": bad})
    assert "line 14" in response.content.decode() and "carrier-pigeon" in response.content.decode()
    assert RulebookVersion.objects.count() == 1
    good = page.context["text"].replace("name: Standard", "name: Standard (edited)")
    assert admin.post(url, {"text": good, "comment": "web"}).status_code == 302
    assert RulebookVersion.objects.get(version=2).comment == "web"


def test_customer_page_shows_the_collection_history(world, client_for, dispute):
    cust = world.customers["c_par_alice"]
    page = client_for("collector_alice").get(reverse("web:customer_detail", args=[cust.pk]))
    assert 'data-testid="collections"' in page.content.decode() and "dispute_opened" in page.content.decode()


def test_replies_page_correct_and_handle(world, client_for):
    from ..factories import ContactFactory

    ContactFactory(customer=world.customers["c_par_alice"], email="ap@atelier.example")
    raw = (
        b"From: ap@atelier.example\r\nTo: collections@acme.example\r\nSubject: Re: relance\r\n"
        b"Message-ID: <r1@atelier.example>\r\n\r\nNous reglerons la facture vendredi.\r\n"
    )
    reply, _ = replies.ingest(raw=raw)
    assert reply.classification == "promise" and reply.customer == world.customers["c_par_alice"]
    assert len(client_for("collector_bob").get(reverse("web:collections_replies")).context["page"]) == 0
    client = client_for("collector_alice")
    assert len(client.get(reverse("web:collections_replies")).context["page"]) == 1
    client.post(reverse("web:collections_reply_update", args=[reply.pk]), {"classification": "dispute", "handled": "1"})
    reply.refresh_from_db()
    assert reply.classification == "dispute" and reply.rule == "corrected by alice@example.com"
    assert reply.handled_at is not None and reply.handled_by == world.users["collector_alice"]


def test_every_open_task_is_reachable_page_by_page(world, client_for):
    cust = world.customers["c_par_alice"]
    Task.objects.bulk_create(
        Task(company=cust.company, customer=cust, kind="call", title=f"Call {n}", due_on=TODAY,
             assignee=world.users["collector_alice"], status="open")
        for n in range(55)
    )  # fmt: skip
    client = client_for("collector_alice")
    first = client.get(reverse("web:collections_worklist")).content.decode()
    second = client.get(reverse("web:collections_worklist") + "?page=2").content.decode()
    assert first.count("data-task=") == 50 and second.count("data-task=") == 5
    assert "Call 54" in second and "Call 54" not in first


def test_marking_a_task_done_goes_back_only_to_this_site(world, client_for):
    cust = world.customers["c_par_alice"]
    task = Task.objects.create(company=cust.company, customer=cust, kind="call", title="Call", due_on=TODAY,
                               assignee=world.users["collector_alice"], status="open")  # fmt: skip
    client = client_for("collector_alice")
    url = reverse("web:collections_task_done", args=[task.pk])
    response = client.post(url, {"next": "https://evil.example/phish"})
    assert response.status_code == 302 and response["Location"] == reverse("web:collections_worklist")
    task.refresh_from_db()
    assert task.status == "done"
    other = Task.objects.create(company=cust.company, customer=cust, kind="call", title="Call 2", due_on=TODAY,
                                assignee=world.users["collector_alice"], status="open")  # fmt: skip
    here = reverse("web:customer_detail", args=[cust.pk])
    response = client.post(reverse("web:collections_task_done", args=[other.pk]), {"next": here})
    assert response["Location"] == here


@pytest.mark.parametrize("key, status, left", [("auditor", 403, "open"), ("collector_bob", 404, "open"),
                                               ("collector_alice", 302, "cancelled")])  # fmt: skip
def test_cancelling_a_promise_from_its_page(world, client_for, key, status, left):
    cust = world.customers["c_par_alice"]
    promise = services.promise_create(
        actor=audit.SYSTEM, customer=cust, documents=[world.documents["c_par_alice"]],
        amount=Money(Decimal("100.00"), "EUR"), promised_for=TODAY + dt.timedelta(days=5),
    )  # fmt: skip
    response = client_for(key).post(reverse("web:collections_promise_cancel", args=[promise.pk]))
    assert response.status_code == status
    promise.refresh_from_db()
    assert promise.status == left
