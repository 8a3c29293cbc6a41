"""List endpoints read a page in a fixed number of queries, however many rows it holds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from relance.core.vocab import Role
from tests.factories import ContactFactory, CustomerFactory, DocumentFactory, PaymentFactory, UserFactory

from .conftest import ApiClient, token_for


@pytest.fixture
def many(world):
    for n in range(30):
        collector = UserFactory(email=f"collector{n}@example.com", role=Role.COLLECTOR)
        customer = CustomerFactory(company=world.fr, agency=world.par, collector=collector, reference=f"BULK{n:03d}")
        ContactFactory(customer=customer)
        DocumentFactory(customer=customer, issue_date=dt.date(2026, 3, 1))
        PaymentFactory(customer=customer, amount=Decimal("10"))


@pytest.mark.parametrize("path", ["/customers", "/documents", "/payments"])
@pytest.mark.parametrize("user_key", ["admin", "agency_manager_par"])
def test_a_page_costs_a_fixed_number_of_queries(world, many, client, django_assert_max_num_queries, path, user_key):
    api = ApiClient(client, token_for(world.users[user_key]))
    api.get("/me")  # the key's first use is recorded once a minute; keep that write out of the count
    with django_assert_max_num_queries(6):
        response = api.get(path, {"limit": 1000})
    assert response.status_code == 200
    assert len(response.json()["items"]) > 30
