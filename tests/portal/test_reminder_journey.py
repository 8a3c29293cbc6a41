"""From the reminder e-mail to the portal and back to dunning: the link in an actual reminder opens the portal;
a dispute made there holds that invoice in the next cycles, a promise holds its invoice until its date, an online
payment closes the invoice so that it is not reminded again."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client

from relance.collections import cycle
from relance.core import audit, clock
from relance.ledger import services as ledger
from relance.portal import services
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 30)


@pytest.fixture
def acme(world, settings):
    settings.RELANCE_BASE_URL = "http://testserver"
    customer = CustomerFactory(company=world.fr, reference="ACME", name="Acme SARL", language="fr",
                               collector=world.users["collector_alice"])  # fmt: skip
    ContactFactory(customer=customer, email="ap@acme-client.example", name="Claire Payeur")
    docs = {}
    for number, days_late in [("F-1", 1), ("F-2", 2), ("F-3", 3)]:
        due = DAY - dt.timedelta(days=days_late)
        docs[number], _ = ledger.document_upsert(actor=audit.SYSTEM, company=world.fr, customer=customer,
                                                 number=number, issue_date=due - dt.timedelta(days=30), due_date=due,
                                                 currency="EUR", amount="300.00")  # fmt: skip
    return customer, docs


def _link_in(message) -> str:
    text = message.body if isinstance(message.body, str) else ""
    for alternative, _mime in getattr(message, "alternatives", []):
        text += alternative
    found = re.search(r"http://testserver(/p/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+/)", text)
    assert found, "no portal link in the reminder"
    return found.group(1)


def _acme_actions(result):
    return {a["documents"][0]: (a["status"], a.get("reason")) for a in result.actions if a["customer_ref"] == "ACME"}


def test_the_link_of_a_reminder_opens_the_portal_and_portal_actions_steer_the_next_cycles(acme):
    customer, docs = acme
    cycle.cycle_run(as_of=DAY)
    (reminder,) = [m for m in mail.outbox if "ap@acme-client.example" in m.to]
    path = _link_in(reminder)
    assert services.link_resolve(path.strip("/").split("/")[-1]).contact.email == "ap@acme-client.example"

    client = Client()
    page = client.get(path).content.decode()
    assert all(number in page for number in ("F-1", "F-2", "F-3"))
    assert client.post(path + "dispute/", {"doc": [docs["F-1"].pk], "reason": "price", "message": "Wrong price"}
                       ).status_code == 302  # fmt: skip
    promised_for = DAY + dt.timedelta(days=10)
    assert client.post(path + "promise/", {"doc": [docs["F-2"].pk], "amount": "300.00",
                                           "date": promised_for.isoformat()}).status_code == 302  # fmt: skip

    # the following days, the disputed and promised invoices are held; F-3 goes on
    later = DAY + dt.timedelta(days=7)
    clock.freeze(later)
    actions = _acme_actions(cycle.cycle_run(as_of=later))
    assert actions.get("F-1") == ("skipped", "disputed")
    assert actions.get("F-2") == ("skipped", "promised")
    assert actions.get("F-3") == ("sent", None)  # the next reminder, for the invoice still open and undisputed


def test_an_invoice_paid_through_the_portal_is_not_reminded_again(acme, provider_via_test_client):
    customer, docs = acme
    cycle.cycle_run(as_of=DAY)
    (reminder,) = [m for m in mail.outbox if "ap@acme-client.example" in m.to]
    path = _link_in(reminder)
    client = Client()
    go = client.post(path + "pay/", {"doc": [d.pk for d in docs.values()]})
    online = client.post(go["Location"] + "online/")
    hosted = client.get(online["Location"])
    blob = re.search(rb'name="s" value="([^"]+)"', hosted.content).group(1).decode()
    client.post("/p/test-provider/", {"s": blob, "outcome": "pay"})
    for doc in docs.values():
        doc.refresh_from_db()
        assert doc.open_amount == 0
    later = DAY + dt.timedelta(days=15)
    clock.freeze(later)
    assert _acme_actions(cycle.cycle_run(as_of=later)) == {}


@pytest.fixture
def provider_via_test_client():
    from relance.portal import providers

    def transport(url: str, body: bytes, headers: dict[str, str]) -> int:
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        sig = {"HTTP_X_RELANCE_SIGNATURE": headers["X-Relance-Signature"]}
        return Client().post(path, data=body, content_type="application/json", **sig).status_code

    previous = providers._PROVIDERS["test"]
    providers.register("test", lambda: providers.TestProvider(transport=transport))
    yield
    providers.register("test", previous)
