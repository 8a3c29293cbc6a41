"""The customer's pages: what they show, in which language, and that they show nothing else."""

import pytest

from relance.collections.models import Activity
from relance.portal import services

pytestmark = pytest.mark.django_db


def test_the_home_page_lists_this_customers_open_invoices_with_this_company_only(client, portal):
    page = client.get(portal.path).content.decode()
    for number in ("F-001", "F-002", "F-003", "F-USD"):
        assert number in page
    assert "O-001" not in page  # another customer
    assert "UK-001" not in page  # the same customer's account with another company
    assert "1 600,49" in page or "1,600.49" in page  # EUR total open


def test_the_page_speaks_the_contacts_language_and_switches(client, portal):
    assert "Open invoices of" in client.get(portal.path).content.decode()  # the contact reads English
    fr = client.get(portal.path + "?lang=fr").content.decode()
    assert "Factures ouvertes de" in fr
    assert "Factures ouvertes de" in client.get(portal.path).content.decode()  # the choice sticks


def test_the_page_uses_the_customers_language_without_a_contact_language(client, portal):
    portal.contact.language = ""
    portal.contact.save()
    assert "Factures ouvertes de" in client.get(portal.path).content.decode()


def test_a_visit_lands_in_the_activity_log_once_a_day(client, portal):
    client.get(portal.path)
    client.get(portal.path)
    visits = Activity.objects.filter(customer=portal.customer, kind="portal_visit")
    assert visits.count() == 1
    assert visits.get().actor == "portal:ap@acme.example"


def test_pages_are_not_cached_and_leak_no_referrer(client, portal):
    response = client.get(portal.path)
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("suffix", ["", "pay/1/", "promise/", "dispute/", "contact/", "statement/pdf/"])
def test_wrong_expired_or_revoked_tokens_show_the_same_neutral_page(client, portal, suffix):
    neutral = client.get(f"/p/not-a-token/{suffix}")
    services.link_revoke(actor="test", customer=portal.customer)
    revoked = client.get(portal.path + suffix)
    assert neutral.status_code == revoked.status_code == 404
    assert neutral.content == revoked.content
    assert b"Acme" not in revoked.content and b"F-001" not in revoked.content


def test_guessing_tokens_is_rate_limited_per_address(client, portal, settings):
    settings.RELANCE_PORTAL_RATE_LIMITS = {"invalid_ip": (3, 600)}
    statuses = [client.get(f"/p/guess{i}.x/").status_code for i in range(5)]
    assert statuses == [404, 404, 404, 429, 429]
    # even a valid link is refused to that address for the rest of the window, and shows nothing
    blocked = client.get(portal.path)
    assert blocked.status_code == 429 and b"F-001" not in blocked.content
    other = client.get(portal.path, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_each_invoice_downloads_as_a_pdf(client, portal):
    response = client.get(portal.path + f"documents/{portal.docs[0].pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and "F-001" in response["Content-Disposition"]


def test_the_statement_of_account_downloads_as_a_pdf_in_the_readers_language(client, portal):
    from relance.channels.pdf import render_html
    from relance.portal import selectors

    response = client.get(portal.path + "statement/pdf/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert "statement-ACME-2026-06-30.pdf" in response["Content-Disposition"]
    link = services.link_resolve(portal.token, touch=False)
    context = {"company": portal.company, "customer": portal.customer,
               **selectors.statement(link, as_of=portal.docs[0].due_date)}  # fmt: skip
    html = render_html("portal/statement_pdf.html", context, language="fr")
    assert "Relevé de compte" in html and "F-001" in html and "O-001" not in html and "UK-001" not in html
