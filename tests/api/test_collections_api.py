"""Collections endpoints from the outside: scope per role, writes by collecting roles only, problem details."""

from __future__ import annotations

import datetime as dt

import pytest

from relance.collections import services
from relance.core import audit

from ..conftest import TODAY
from .conftest import assert_problem


def post(api, path, body):
    return api.client.post("/api/v1" + path, body, content_type="application/json", headers=api.headers())


@pytest.mark.parametrize("key", ["admin", "collector_alice", "collector_bob", "auditor", "agency_manager_none"])
def test_disputes_are_listed_within_scope(world, api_as, key):
    for k in ("c_par_alice", "c_lyo_bob"):
        services.dispute_open(
            actor=audit.SYSTEM, customer=world.customers[k], documents=[world.documents[k]], reason="price"
        )
    refs = {d["customer"]["reference"] for d in api_as(key).items("/disputes")}
    expected = {world.customers[k].reference for k in ("c_par_alice", "c_lyo_bob") if k in world.visible_to(key)}
    assert refs == expected


def test_a_collector_opens_and_resolves_a_dispute(world, api_as):
    api = api_as("collector_alice")
    cust = world.customers["c_par_alice"]
    response = post(api, "/disputes", {"customer_id": cust.pk, "documents": ["INV-PAR001"], "reason": "quality"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["documents"] == ["INV-PAR001"] and body["status"] == "open"
    response = post(api, f"/disputes/{body['id']}/resolve", {"status": "credit_note"})
    assert response.json()["status"] == "credit_note"
    history = api.items(f"/customers/{cust.pk}/collection-history")
    assert [h["kind"] for h in history] == ["dispute_resolved", "dispute_opened"]


@pytest.mark.parametrize("key, status", [("auditor", 403), ("sales_rep_sam", 403), ("collector_bob", 404)])
def test_others_cannot_open_disputes(world, api_as, key, status):
    cust = world.customers["c_par_alice"]
    response = post(api_as(key), "/disputes", {"customer_id": cust.pk, "documents": ["INV-PAR001"], "reason": "price"})
    assert_problem(response, status)


def test_a_bad_promise_is_a_problem_naming_the_field(world, api_as):
    api = api_as("collector_alice")
    cust = world.customers["c_par_alice"]
    response = post(
        api,
        "/promises",
        {
            "customer_id": cust.pk,
            "documents": ["NOPE"],
            "amount": "10",
            "currency": "EUR",
            "promised_for": TODAY.isoformat(),
        },
    )
    body = assert_problem(response, 422)
    assert "NOPE" in body["detail"]
    response = post(
        api,
        "/promises",
        {
            "customer_id": cust.pk,
            "documents": ["INV-PAR001"],
            "amount": "10",
            "currency": "EUR",
            "promised_for": (TODAY + dt.timedelta(days=3)).isoformat(),
        },
    )
    assert response.status_code == 201 and response.json()["amount"] == "10.00"
    assert response.json()["source"] == "api"
    pid = response.json()["id"]
    assert post(api, f"/promises/{pid}/cancel", {}).json()["status"] == "cancelled"
    assert [p["id"] for p in api_as("collector_bob").items("/promises")] == []


def test_reminders_are_listed_within_scope(world, api_as):
    from relance.collections import cycle

    cycle.cycle_run(as_of=TODAY, execute=False)
    mine = api_as("collector_bob").items("/reminders")
    assert mine and {r["customer"]["reference"] for r in mine} == {"LYO001"}
    assert all(r["amount"].count(".") == 1 for r in mine)
