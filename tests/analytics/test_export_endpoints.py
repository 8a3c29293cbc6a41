"""Exports from the outside: the API and the pages give each role exactly its scope."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from relance.orgs import services
from tests.conftest import EXPECTED_SCOPE, PASSWORD


def refs(body: bytes) -> set[str]:
    rows = list(csv.reader(io.StringIO(body.decode("utf-8").lstrip("\ufeff"))))
    return {r[1] for r in rows[1:]}


@pytest.mark.parametrize("user_key", sorted(EXPECTED_SCOPE))
@pytest.mark.parametrize("kind", ["customers", "open-items", "aged-balance"])
def test_api_exports_hold_exactly_the_callers_scope(client, world, user_key, kind):
    _, token = services.apikey_create(actor="test", email=world.users[user_key].email)
    response = client.get(f"/api/v1/exports/{kind}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert refs(response.content) == {world.customers[k].reference for k in world.visible_to(user_key)}


def test_api_xlsx_export(client, world):
    _, token = services.apikey_create(actor="test", email="bob@example.com")
    response = client.get("/api/v1/exports/open-items?format=xlsx", headers={"Authorization": f"Bearer {token}"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert [r[1] for r in rows[1:]] == ["LYO001"]


def test_unknown_export_is_a_problem(client, world):
    _, token = services.apikey_create(actor="test", email="admin@example.com")
    response = client.get("/api/v1/exports/everything", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422 and response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("user_key", sorted(EXPECTED_SCOPE))
def test_page_exports_hold_exactly_the_users_scope(client, world, user_key):
    assert client.login(email=world.users[user_key].email, password=PASSWORD)
    response = client.get(reverse("web:export", args=["open-items", "csv"]))
    assert response.status_code == 200
    assert refs(response.content) == {world.customers[k].reference for k in world.visible_to(user_key)}


def test_page_export_requires_login(client, world):
    response = client.get(reverse("web:export", args=["customers", "xlsx"]))
    assert response.status_code == 302
