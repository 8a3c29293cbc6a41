"""Portal fixtures: a customer with a main AP contact, open invoices in two companies, and the test provider
delivering its webhooks through the Django test client (a fake transport: the same signed request, no socket)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.test import Client

from relance.ledger.models import Contact, Customer, Document
from relance.orgs.models import BankAccount, Company
from relance.portal import providers, services
from tests.factories import CompanyFactory, ContactFactory, CustomerFactory, DocumentFactory


@dataclass
class Portal:
    company: Company
    customer: Customer
    contact: Contact
    docs: list[Document]
    other_customer: Customer
    other_doc: Document
    other_company_doc: Document
    usd_doc: Document
    url: str
    token: str
    webhooks: list[tuple[str, bytes, dict]] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/p/{self.token}/"


@pytest.fixture
def portal(db, settings) -> Portal:
    settings.RELANCE_BASE_URL = "http://testserver"
    company = CompanyFactory(code="FR1", name="Relance Demo SAS")
    BankAccount.objects.create(company=company, iban="FR7630006000011234567890189", bic="AGRIFRPP", currency="EUR")
    customer = CustomerFactory(company=company, reference="ACME", name="Acme Industries SA", language="fr")
    contact = ContactFactory(customer=customer, email="ap@acme.example", name="Claire Payable", language="en")
    docs = [
        DocumentFactory(customer=customer, number="F-001", amount=Decimal("1200.00"), tax_amount=Decimal("200"),
                        issue_date=dt.date(2026, 4, 1), due_date=dt.date(2026, 5, 1)),
        DocumentFactory(customer=customer, number="F-002", amount=Decimal("300.50"), tax_amount=Decimal("50"),
                        issue_date=dt.date(2026, 5, 15), due_date=dt.date(2026, 6, 15)),
        DocumentFactory(customer=customer, number="F-003", amount=Decimal("99.99"), tax_amount=Decimal("10"),
                        issue_date=dt.date(2026, 6, 20), due_date=dt.date(2026, 7, 20)),
    ]  # fmt: skip
    usd_doc = DocumentFactory(customer=customer, number="F-USD", currency="USD", amount=Decimal("500"),
                              tax_amount=Decimal("0"))  # fmt: skip
    other_customer = CustomerFactory(company=company, reference="OTHER", name="Other Buyer SARL")
    other_doc = DocumentFactory(customer=other_customer, number="O-001")
    # the same legal customer in another company of the group: not part of this link
    other_company = CompanyFactory(code="UK1", name="Relance UK Ltd", currency="GBP")
    twin = CustomerFactory(company=other_company, reference="ACME", name="Acme Industries SA")
    other_company_doc = DocumentFactory(customer=twin, number="UK-001", currency="GBP")
    url = services.portal_link(customer=customer)
    token = url.rstrip("/").rsplit("/", 1)[-1]
    return Portal(company, customer, contact, docs, other_customer, other_doc, other_company_doc, usd_doc, url,
                  token)  # fmt: skip


@pytest.fixture
def provider_via_client(portal):
    """The test provider, delivering its signed webhooks with a Django test client."""
    delivered = portal.webhooks

    def transport(url: str, body: bytes, headers: dict[str, str]) -> int:
        delivered.append((url, body, headers))
        path = url.split("://", 1)[1].split("/", 1)[1]
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
        response = Client().post("/" + path, data=body, content_type="application/json", **extra)
        return response.status_code

    previous = providers._PROVIDERS["test"]
    providers.register("test", lambda: providers.TestProvider(transport=transport))
    yield
    providers.register("test", previous)


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
