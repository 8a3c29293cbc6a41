"""Documents settled without cash (source closure, write-off) show how on their page and in the API."""

import datetime as dt

import pytest
from django.urls import reverse

from relance.ledger import services
from relance.ledger.models import SOURCE_CLOSURE, WRITE_OFF
from relance.orgs import services as org_services
from tests.conftest import PASSWORD


@pytest.mark.parametrize("source, label", [(SOURCE_CLOSURE, b"Closed by the source system"), (WRITE_OFF, b"Write-off")])
def test_a_non_cash_settlement_is_shown_on_the_document_page(client, world, source, label):
    doc = world.documents["c_par_alice"]
    services.document_close(actor="test", document=doc, date=dt.date(2026, 6, 30), source=source)
    client.login(email="admin@example.com", password=PASSWORD)
    response = client.get(reverse("web:document_detail", args=[doc.pk]))
    assert response.status_code == 200
    assert label in response.content


def test_a_non_cash_settlement_in_the_api(client, world):
    doc = world.documents["c_par_alice"]
    services.document_close(actor="test", document=doc, date=dt.date(2026, 6, 30))
    _, token = org_services.apikey_create(actor="test", email="admin@example.com")
    response = client.get(f"/api/v1/documents/{doc.pk}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["open_amount"] == "0.00"
