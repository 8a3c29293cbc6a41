"""The customer's accountant follows the link of an actual reminder e-mail (sent by the daily cycle) on a
phone: pays one invoice online through the test provider, promises to pay another, disputes a third with a PDF;
then the collector sees all of it."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail
from playwright.sync_api import expect

from relance.alerts.models import Alert
from relance.collections import cycle
from relance.collections.models import Dispute, Promise
from relance.ledger.models import Document
from relance.orgs.models import BankAccount
from relance.portal import services
from relance.portal.models import PaymentSession, SessionStatus
from tests.conftest import PASSWORD, TODAY
from tests.factories import ContactFactory, CustomerFactory, DocumentFactory

from .helpers import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def acme(world, live_server, settings):
    """Acme (collector alice) with three invoices 1 to 3 days late, and a bank account to pay into."""
    settings.RELANCE_BASE_URL = live_server.url  # links, and the test provider's webhook, point at this server
    BankAccount.objects.create(company=world.fr, iban="FR7630006000011234567890189", bic="AGRIFRPP", currency="EUR")
    customer = CustomerFactory(company=world.fr, reference="ACME", name="Acme SARL", language="fr",
                               collector=world.users["collector_alice"])  # fmt: skip
    ContactFactory(customer=customer, email="compta@acme.example", name="Compta Acme", language="fr")
    for number, amount, late in (("WEB-001", "480.00", 3), ("WEB-002", "1250.00", 2), ("WEB-003", "99.90", 1)):
        due = TODAY - dt.timedelta(days=late)
        DocumentFactory(customer=customer, number=number, amount=Decimal(amount), tax_amount=Decimal("0"),
                        issue_date=due - dt.timedelta(days=30), due_date=due)  # fmt: skip
    return customer


@pytest.fixture
def reminded(acme, live_server):
    """The daily cycle sends Acme its first reminder; the link is taken from that e-mail."""
    cycle.cycle_run(as_of=TODAY)
    (reminder,) = [m for m in mail.outbox if "compta@acme.example" in m.to]
    text = reminder.body + "".join(alt for alt, _ in getattr(reminder, "alternatives", []))
    url = re.search(re.escape(live_server.url) + r"/p/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+/", text).group(0)
    return acme, url


def test_a_customer_pays_promises_and_disputes_from_the_reminder_link_and_the_collector_sees_it(
    browser, live_server, reminded, screenshot, tmp_path
):
    customer, url = reminded
    assert url.startswith(live_server.url + "/p/")
    phone = browser.new_context(viewport=PHONE, locale="fr-FR", is_mobile=True, has_touch=True)
    phone.set_default_timeout(15_000)
    page = phone.new_page()

    # Given the link of the reminder, opened on a phone: the invoices, in the contact's French
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Factures ouvertes de Acme SARL")
    for number in ("WEB-001", "WEB-002", "WEB-003"):
        expect(page.locator("main")).to_contain_text(number)
    expect(page.locator("main")).not_to_contain_text("INV-PAR001")  # another customer's invoice
    screenshot(page, "portal-01-invoices-phone")

    # When the accountant switches to English, ticks WEB-001 and pays
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("checkbox", name="WEB-001").check()
    page.get_by_role("button", name="Pay the selected invoices").click()
    # Then the bank details, the RF reference and the EPC QR code are shown
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Pay 480"))
    expect(page.locator("[data-iban]")).to_have_text("FR7630006000011234567890189")
    expect(page.locator("[data-reference]")).to_have_text(re.compile(r"^RF\d\dS\d+$"))
    expect(page.locator("img[data-epc-qr]")).to_be_visible()
    screenshot(page, "portal-02-pay")

    # When paying online: the provider's page, "Pay now", the signed webhook, back to the portal
    page.get_by_role("button", name="Pay online").click()
    expect(page).to_have_url(re.compile(r"/p/test-provider/\?s="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay 480.00 EUR")
    screenshot(page, "portal-03-provider")
    page.get_by_role("button", name="Pay now").click()
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "paid")
    screenshot(page, "portal-04-paid")
    session = PaymentSession.objects.get()
    assert session.status == SessionStatus.PAID and session.payment.unallocated_amount == 0
    assert Document.objects.get(number="WEB-001").open_amount == 0

    # When promising to pay WEB-002 on the 20th of July
    page.get_by_role("link", name="Back to the invoices").click()
    expect(page.locator("main")).not_to_contain_text("WEB-001")  # paid
    page.get_by_role("link", name="Promise to pay").click()
    page.get_by_role("checkbox", name="WEB-002").check()
    page.get_by_label("Amount").fill("1250.00")
    page.get_by_label("Payment date").fill("2026-07-20")
    page.get_by_role("button", name="Record my promise").click()
    expect(page.get_by_role("status")).to_contain_text("your promise to pay is recorded")
    expect(page.locator("main")).to_contain_text("Your promises to pay")

    # And disputing WEB-003 with a PDF
    page.get_by_role("link", name="Dispute an invoice").click()
    page.get_by_role("checkbox", name="WEB-003").check()
    page.get_by_label("Reason").select_option("quantity")
    page.get_by_label("Message").fill("Only 8 of the 10 boxes arrived.")
    page.get_by_label("Attachment (optional)").set_input_files(
        {"name": "delivery-note.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% delivery note\n%%EOF\n"}
    )
    page.get_by_role("button", name="Send the dispute").click()
    expect(page.get_by_role("status")).to_contain_text("Your dispute is recorded")
    screenshot(page, "portal-05-after-actions")
    phone.close()

    promise = Promise.objects.get()
    assert promise.source == "portal" and promise.promised_for == dt.date(2026, 7, 20)
    dispute = Dispute.objects.get(customer=customer, reason="quantity")
    assert [d.number for d in dispute.documents.all()] == ["WEB-003"]
    assert set(Alert.objects.filter(customer=customer).values_list("kind", flat=True)) >= {
        "portal.payment", "portal.promise", "portal.dispute"}  # fmt: skip

    # Then alice, the collector, sees the portal activity on the customer page
    desk = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900}, locale="en-GB")
    desk.set_default_timeout(15_000)
    staff = desk.new_page()
    login(staff, "alice@example.com", PASSWORD)
    staff.goto(f"/customers/{customer.pk}/")
    activity = staff.get_by_test_id("portal-activity")
    for kind in ("portal_payment", "promise_made", "dispute_opened", "portal_visit"):
        expect(activity).to_contain_text(kind)
    expect(activity).to_contain_text("portal:compta@acme.example")
    expect(staff.get_by_test_id("portal")).to_contain_text("delivery-note.pdf")
    expect(staff.get_by_test_id("open-items")).not_to_contain_text("WEB-001")
    screenshot(staff, "portal-06-collector")
    # and in her collections pages: the dispute and the promise made on the portal
    staff.goto("/collections/disputes/")
    expect(staff.locator("main")).to_contain_text("WEB-003")
    staff.goto("/collections/promises/")
    expect(staff.locator("main")).to_contain_text("WEB-002")
    screenshot(staff, "portal-07-collector-promises")
    desk.close()


def test_a_revoked_link_shows_the_neutral_page_in_the_browser(browser, live_server, acme):
    customer, url = acme, services.portal_link(customer=acme)
    services.link_revoke(actor="test", customer=customer)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    response = page.goto(url)
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("This link is not valid|Ce lien n'est pas valide")
    )
    expect(page.locator("body")).not_to_contain_text("Acme")
    context.close()
