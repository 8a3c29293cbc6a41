"""Paying from the portal: the selection's RF reference, the EPC QR code, cash application matching it, and
online payment through the test provider's redirect page and signed webhook."""

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.test import Client
from segno import helpers

from relance.alerts.models import Alert
from relance.cashapp import domain as cash_domain
from relance.cashapp import services as cash
from relance.cashapp.models import BankLine, LineStatus
from relance.collections.models import Activity
from relance.core.money import Money
from relance.ledger import selectors as ledger_selectors
from relance.ledger.models import Allocation, Payment
from relance.portal import domain, payments, providers
from relance.portal.messages import MIXED_CURRENCIES, NOT_PAYABLE
from relance.portal.models import PaymentSelection, PaymentSession, SessionStatus
from tests.cashapp.builders import write

pytestmark = pytest.mark.django_db


def _select(client, portal, docs):
    response = client.post(portal.path + "pay/", {"doc": [d.pk for d in docs]})
    assert response.status_code == 302, response.content[:500]
    return PaymentSelection.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[-1])), response


def test_selecting_invoices_gives_one_rf_reference_for_that_set(client, portal):
    sel, response = _select(client, portal, portal.docs[:2])
    assert sel.reference == domain.selection_reference(sel.pk)
    assert cash_domain.read_creditor_reference(sel.reference) == ("S", sel.pk)
    assert set(sel.documents.all()) == set(portal.docs[:2]) and sel.amount == Decimal("1500.50")
    again, _ = _select(client, portal, [portal.docs[1], portal.docs[0]])  # same set, other order
    assert again == sel and PaymentSelection.objects.count() == 1


def test_the_payment_page_shows_bank_details_reference_and_an_epc_qr_code(client, portal):
    sel, response = _select(client, portal, portal.docs[:2])
    page = client.get(response["Location"]).content.decode()
    assert "FR7630006000011234567890189" in page and "AGRIFRPP" in page
    assert sel.reference in page
    assert re.search(r'<img src="data:image/svg\+xml[^"]+"[^>]*data-epc-qr', page)
    transfer = payments.epc_transfer(sel, payments.bank_details(portal.company, "EUR"))
    data = helpers._make_epc_qr_data(**transfer.qr_kwargs()).decode("latin-1")
    assert data == transfer.payload()
    assert data.split("\n")[6:] == ["FR7630006000011234567890189", "EUR1500.5", "", sel.reference]


def test_a_non_euro_selection_gets_bank_details_and_says_plainly_there_is_no_qr(client, portal):
    _, response = _select(client, portal, [portal.usd_doc])
    page = client.get(response["Location"] + "?lang=en").content.decode()
    assert "data-epc-qr" not in page
    assert "the QR code standard (EPC) is for euro transfers only" in page


def test_mixed_currencies_are_refused_with_a_clear_message(client, portal):
    response = client.post(portal.path + "pay/?lang=en", {"doc": [portal.docs[0].pk, portal.usd_doc.pk]})
    assert response.status_code == 400
    assert MIXED_CURRENCIES.split("(")[0] in response.content.decode()
    assert not PaymentSelection.objects.exists()


@pytest.mark.parametrize("which", ["other_doc", "other_company_doc"])
def test_another_customers_or_another_companys_invoice_cannot_be_selected(client, portal, which):
    response = client.post(portal.path + "pay/", {"doc": [portal.docs[0].pk, getattr(portal, which).pk]})
    assert response.status_code == 400
    assert NOT_PAYABLE in response.content.decode() or "ne sont pas des factures ouvertes" in response.content.decode()
    assert not PaymentSelection.objects.exists()


def test_another_customers_selection_is_not_reachable_by_changing_the_id(client, portal):
    from relance.portal import services

    other_url = services.portal_link(customer=portal.other_customer)
    other_token = other_url.rstrip("/").rsplit("/", 1)[-1]
    response = client.post(f"/p/{other_token}/pay/", {"doc": [portal.other_doc.pk]})
    theirs = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    for suffix in (f"pay/{theirs}/", f"pay/{theirs}/done/"):
        leaked = client.get(portal.path + suffix)
        assert leaked.status_code == 404 and b"O-001" not in leaked.content
    assert client.post(portal.path + f"pay/{theirs}/online/").status_code == 404
    assert not PaymentSession.objects.exists()


def test_a_bank_transfer_with_the_portal_reference_is_applied_automatically(portal, tmp_path):
    sel = payments.selection_get_or_create(link=_link(portal), document_ids=[d.pk for d in portal.docs[:2]])
    entry = {"amount": "1500.50", "rf": sel.reference, "name": "ACME INDUSTRIES", "text": "virement fournisseur"}
    path = write(tmp_path, "s.xml", [entry], account="FR7630006000011234567890189")
    result = cash.statement_import(actor="cli", path=path)
    counts = cash.lines_match(actor="cli", line_ids=result.new_line_ids)
    assert counts == {"applied": 1, "review": 0, "unidentified": 0}
    line = BankLine.objects.get()
    assert line.status == LineStatus.APPLIED and line.customer == portal.customer
    for doc in portal.docs[:2]:
        doc.refresh_from_db()
        assert doc.open_amount == 0
    portal.docs[2].refresh_from_db()
    assert portal.docs[2].open_amount == Decimal("99.99")  # not in the selection
    assert any("portal gave" in r for r in line.proposal["proposals"][0]["reasons"])


def test_a_paid_selection_no_longer_names_anything_for_the_matcher(portal):
    sel = payments.selection_get_or_create(link=_link(portal), document_ids=[portal.docs[0].pk])
    assert payments.selection_sources(portal.company) == {sel.pk: [portal.docs[0].pk]}
    portal.docs[0].open_amount = 0
    portal.docs[0].save()
    assert payments.selection_sources(portal.company) == {}


def _link(portal):
    from relance.portal import services

    return services.link_resolve(portal.token, touch=False)


def test_paying_online_goes_through_the_provider_page_and_the_signed_webhook(client, portal, provider_via_client):
    sel, response = _select(client, portal, portal.docs[:2])
    go = client.post(response["Location"] + "online/")
    assert go.status_code == 302 and "/p/test-provider/?s=" in go["Location"]
    hosted = client.get(go["Location"])
    assert hosted.status_code == 200 and b"1500.50 EUR" in hosted.content
    blob = re.search(rb'name="s" value="([^"]+)"', hosted.content).group(1).decode()
    back = client.post("/p/test-provider/", {"s": blob, "outcome": "pay"})
    assert back.status_code == 302 and back["Location"].endswith(f"/pay/{sel.pk}/done/")
    assert len(portal.webhooks) == 1 and "X-Relance-Signature" in portal.webhooks[0][2]
    done = client.get(back["Location"] + "?lang=en").content.decode()
    assert "your payment is received" in done
    session = PaymentSession.objects.get()
    assert session.status == SessionStatus.PAID
    payment = session.payment
    assert payment.amount == Decimal("1500.50") and payment.unallocated_amount == 0 and payment.source == "portal"
    assert sorted(Allocation.objects.filter(payment=payment).values_list("target__number", flat=True)) == [
        "F-001", "F-002"]  # fmt: skip
    assert ledger_selectors.check_invariants([portal.customer.pk]) == []
    assert Activity.objects.filter(customer=portal.customer, kind="portal_payment").count() == 1
    assert Alert.objects.filter(customer=portal.customer, kind="portal.payment").count() == 1


def test_a_declined_payment_changes_nothing_in_the_ledger(client, portal, provider_via_client):
    sel, response = _select(client, portal, portal.docs[:1])
    go = client.post(response["Location"] + "online/")
    blob = go["Location"].split("?s=", 1)[1]
    from urllib.parse import unquote

    back = client.post("/p/test-provider/", {"s": unquote(blob), "outcome": "fail"})
    assert PaymentSession.objects.get().status == SessionStatus.FAILED
    assert not Payment.objects.filter(source="portal").exists()
    assert "did not go through" in client.get(back["Location"] + "?lang=en").content.decode()


def _session(portal, amount="1200.00"):
    sel = payments.selection_get_or_create(link=_link(portal), document_ids=[portal.docs[0].pk])
    session, _ = payments.session_start(link=_link(portal), selection=sel, return_url="http://x/",
                                        webhook_url="http://x/")  # fmt: skip
    return session


def _event(session, status="paid", amount=None, secret=None, when=None):
    provider = providers.TestProvider(secret=secret)
    state = {"ref": session.provider_ref, "amount": amount or str(session.amount), "currency": session.currency}
    from relance.core import clock

    return provider.signed_event(state, status, now=when or clock.now())


def test_a_replayed_webhook_is_applied_once(portal):
    session = _session(portal)
    body, headers = _event(session)
    client = Client()
    first = client.post("/p/webhooks/test/", data=body, content_type="application/json",
                        HTTP_X_RELANCE_SIGNATURE=headers["X-Relance-Signature"])  # fmt: skip
    again = client.post("/p/webhooks/test/", data=body, content_type="application/json",
                        HTTP_X_RELANCE_SIGNATURE=headers["X-Relance-Signature"])  # fmt: skip
    assert (first.status_code, first.content) == (200, b"paid")
    assert (again.status_code, again.content) == (200, b"duplicate")
    assert Payment.objects.filter(source="portal").count() == 1
    assert Allocation.objects.filter(payment__source="portal").count() == 1


@pytest.mark.parametrize("attack", ["wrong-secret", "tampered-body", "no-signature", "stale", "wrong-amount"])
def test_untrusted_webhooks_are_refused_and_change_nothing(portal, attack):
    session = _session(portal)
    if attack == "wrong-secret":
        body, headers = _event(session, secret="not-ours")
    elif attack == "stale":
        body, headers = _event(session, when=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    elif attack == "wrong-amount":
        body, headers = _event(session, amount="1.00")
    else:
        body, headers = _event(session)
    if attack == "tampered-body":
        body = body.replace(b'"paid"', b'"paid" ')
    signature = {} if attack == "no-signature" else {"HTTP_X_RELANCE_SIGNATURE": headers["X-Relance-Signature"]}
    response = Client().post("/p/webhooks/test/", data=body, content_type="application/json", **signature)
    assert response.status_code == 400
    session.refresh_from_db()
    assert session.status == SessionStatus.PENDING
    assert not Payment.objects.filter(source="portal").exists()


def test_webhooks_for_an_unknown_provider_or_session_are_refused(portal):
    session = _session(portal)
    body, headers = _event(session)
    sig = {"HTTP_X_RELANCE_SIGNATURE": headers["X-Relance-Signature"]}
    assert Client().post("/p/webhooks/stripe/", data=body, content_type="application/json", **sig).status_code == 404
    other = json.loads(body)
    other["session"] = "tp_unknown"
    body2 = json.dumps(other).encode()
    from relance.core import clock

    header = domain.webhook_signature(secret=providers.TestProvider().secret, timestamp=int(clock.now().timestamp()),
                                      body=body2)  # fmt: skip
    response = Client().post("/p/webhooks/test/", data=body2, content_type="application/json",
                             HTTP_X_RELANCE_SIGNATURE=header)  # fmt: skip
    assert response.status_code == 400


def test_a_payment_larger_than_what_is_still_open_stays_on_account(portal):
    session = _session(portal)
    # meanwhile the customer paid half of the invoice by transfer
    doc = portal.docs[0]
    from relance.ledger import services as ledger

    pay, _ = ledger.payment_upsert(actor="t", company=portal.company, customer=portal.customer, reference="T1",
                                   date=dt.date(2026, 6, 29), currency="EUR", amount="600")  # fmt: skip
    ledger.allocation_create(actor="t", target=doc, amount="600", date=dt.date(2026, 6, 29), payment=pay)
    body, headers = _event(session)
    assert payments.webhook_receive(provider_name="test", body=body, headers=headers) == "paid"
    session.refresh_from_db()
    assert session.payment.unallocated_amount == Decimal("600.00")
    doc.refresh_from_db()
    assert doc.open_amount == 0
    assert ledger_selectors.check_invariants([portal.customer.pk]) == []


def test_the_test_provider_page_refuses_tampered_parameters(client, portal):
    assert client.get("/p/test-provider/?s=forged").status_code == 404
    assert client.post("/p/test-provider/", {"s": "forged", "outcome": "pay"}).status_code == 404


def test_epc_amounts_are_money_in_euros_only():
    t = domain.epc_transfer(name="X", iban="FR76 3000", bic="", amount=Money(Decimal("10"), "EUR"), reference="RF")
    assert t is not None and t.amount == Decimal("10.00")
    assert domain.epc_transfer(name="X", iban="FR76", bic="", amount=Money(Decimal("10"), "USD"), reference="R") is None


def test_paying_online_a_selection_already_paid_says_so(client, portal, provider_via_client):
    sel, response = _select(client, portal, portal.docs[:1])
    portal.docs[0].open_amount = 0
    portal.docs[0].save()
    refused = client.post(response["Location"] + "online/?lang=en")
    assert refused.status_code == 400 and "already paid" in refused.content.decode()
    assert not PaymentSession.objects.exists()


def test_without_a_provider_online_payment_is_not_offered(client, portal, settings):
    settings.RELANCE_PORTAL_PROVIDER = ""
    sel, response = _select(client, portal, portal.docs[:1])
    assert b"online/" not in client.get(response["Location"]).content
    assert client.post(response["Location"] + "online/").status_code == 404
    assert Client().post("/p/webhooks/test/", data=b"{}", content_type="application/json").status_code == 404
    assert client.get("/p/test-provider/?s=x").status_code == 404
