"""Every endpoint answers within the caller's scope: exactly the expected customers, 404 beyond them."""

from __future__ import annotations

import pytest

from relance.api.problems import DETAIL_NOT_FOUND, NOT_FOUND
from tests.conftest import EXPECTED_SCOPE

from .conftest import assert_problem, customer_keys

USERS = sorted(EXPECTED_SCOPE)


@pytest.mark.parametrize("user_key", USERS)
def test_each_user_lists_exactly_the_customers_of_their_scope(world, api_as, user_key):
    items = api_as(user_key).items("/customers")
    assert customer_keys(world, items) == world.visible_to(user_key)
    assert len(items) == len(world.visible_to(user_key))


@pytest.mark.parametrize("user_key", USERS)
def test_each_user_lists_the_documents_of_their_customers_only(world, api_as, user_key):
    items = api_as(user_key).items("/documents")
    assert {d["id"] for d in items} == {world.documents[k].pk for k in world.visible_to(user_key)}


@pytest.mark.parametrize("user_key", USERS)
def test_each_user_lists_the_payments_of_their_customers_only(world, api_as, user_key):
    items = api_as(user_key).items("/payments")
    identified = {p["id"] for p in items if p["customer"] is not None}
    assert identified == {world.payments[k].pk for k in world.visible_to(user_key)}


@pytest.mark.parametrize("user_key", USERS)
def test_each_user_reads_each_visible_object_and_gets_404_for_every_other(world, api_as, user_key):
    api = api_as(user_key)
    visible = world.visible_to(user_key)
    for key in world.customers:
        for path in (
            f"/customers/{world.customers[key].pk}",
            f"/documents/{world.documents[key].pk}",
            f"/payments/{world.payments[key].pk}",
        ):
            response = api.get(path)
            if key in visible:
                assert response.status_code == 200, (path, response.content)
            else:
                body = assert_problem(response, 404, NOT_FOUND)
                assert body["instance"] == f"/api/v1{path}"


@pytest.mark.parametrize("kind", ["customers", "documents", "payments"])
def test_an_id_outside_the_scope_answers_exactly_like_a_missing_one(world, api_as, kind):
    api = api_as("collector_bob")
    objects = {"customers": world.customers, "documents": world.documents, "payments": world.payments}[kind]
    outside = api.get(f"/{kind}/{objects['c_par_alice'].pk}")
    missing = api.get(f"/{kind}/987654321")
    out_body, missing_body = assert_problem(outside, 404, NOT_FOUND), assert_problem(missing, 404, NOT_FOUND)
    assert out_body["detail"] == missing_body["detail"] == DETAIL_NOT_FOUND
    assert {k: v for k, v in out_body.items() if k != "instance"} == {
        k: v for k, v in missing_body.items() if k != "instance"
    }


def test_an_id_beyond_the_database_integer_range_is_a_plain_404(world, api_as):
    assert_problem(api_as("admin").get(f"/customers/{2**70}"), 404, NOT_FOUND)


@pytest.mark.parametrize(
    "user_key, sees_unidentified",
    [
        ("admin", True),
        ("credit_manager", True),
        ("auditor", True),
        ("credit_manager_uk", False),
        ("collector_alice", False),
        ("collector_carol_fr", False),
        ("sales_rep_sam", False),
        ("agency_manager_par", False),
        ("agency_manager_none", False),
    ],
)
def test_unidentified_payments_are_visible_to_group_and_company_level_users_only(
    world, api_as, user_key, sees_unidentified
):
    api = api_as(user_key)
    listed = {p["id"] for p in api.items("/payments")}
    assert (world.unidentified.pk in listed) is sees_unidentified
    response = api.get(f"/payments/{world.unidentified.pk}")
    if sees_unidentified:
        assert response.status_code == 200
        assert response.json()["customer"] is None
    else:
        assert_problem(response, 404, NOT_FOUND)


def test_a_company_level_user_sees_the_unidentified_payments_of_their_company(world, api_as):
    from tests.factories import PaymentFactory

    uk_unknown = PaymentFactory(customer=None, company=world.uk, reference="PAY-UK-UNKNOWN", currency="GBP")
    listed = {p["id"] for p in api_as("credit_manager_uk").items("/payments")}
    assert uk_unknown.pk in listed
    assert world.unidentified.pk not in listed


class TestFiltersCannotWidenTheScope:
    def test_a_company_outside_the_scope_gives_an_empty_list(self, world, api_as):
        api = api_as("collector_carol_fr")  # portfolio in FR1 and UK1, scope narrowed to FR1
        for path in ("/customers", "/documents", "/payments"):
            page = api.json(path, {"company": "UK1"})
            assert page == {"items": [], "count": 0}

    def test_a_company_restricted_user_filtering_another_company_gets_nothing(self, world, api_as):
        api = api_as("credit_manager_uk")
        assert api.json("/customers", {"company": "FR1"})["count"] == 0
        assert api.json("/payments", {"company": "FR1"})["count"] == 0

    def test_another_collector_filter_gives_an_empty_list(self, world, api_as):
        bob = world.users["collector_bob"]
        assert api_as("collector_alice").json("/customers", {"collector": bob.pk})["count"] == 0

    def test_a_collector_filter_within_the_scope_narrows(self, world, api_as):
        alice = world.users["collector_alice"]
        items = api_as("admin").items("/customers", {"collector": alice.pk})
        assert customer_keys(world, items) == {"c_par_alice", "c_uk_alice"}

    def test_an_agency_outside_the_scope_gives_an_empty_list(self, world, api_as):
        assert api_as("agency_manager_par").json("/customers", {"agency": "LYO"})["count"] == 0

    def test_a_customer_outside_the_scope_gives_empty_documents_and_payments(self, world, api_as):
        api = api_as("collector_bob")
        other = world.customers["c_par_alice"].pk
        assert api.json("/documents", {"customer": other})["count"] == 0
        assert api.json("/payments", {"customer": other})["count"] == 0

    def test_an_unknown_company_code_gives_an_empty_list_not_an_error(self, world, api_as):
        assert api_as("admin").json("/customers", {"company": "NOPE"}) == {"items": [], "count": 0}
