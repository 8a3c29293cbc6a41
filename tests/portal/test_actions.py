"""Promise, dispute (with an attachment), contact update: each lands in the activity log, raises an alert for the
collector and (promises, disputes) pauses dunning through the collections records."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from relance.alerts.models import Alert
from relance.collections.models import Activity, Dispute, Promise, PromiseSource
from relance.portal import actions, services
from relance.portal.messages import AMOUNT_TOO_HIGH, DATE_IN_PAST, FILE_TOO_BIG, FILE_TYPE
from relance.portal.models import DisputeAttachment

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def test_a_promise_is_recorded_for_the_selected_invoices(client, portal):
    response = client.post(portal.path + "promise/", {"doc": [portal.docs[0].pk, portal.docs[1].pk],
                                                      "amount": "1 500,50", "date": "2026-07-15"})  # fmt: skip
    assert response.status_code == 302 and response["Location"].endswith("?done=promise")
    promise = Promise.objects.get()
    assert promise.source == PromiseSource.PORTAL and promise.amount == Decimal("1500.50")
    assert promise.promised_for == dt.date(2026, 7, 15) and promise.currency == "EUR"
    assert set(promise.documents.all()) == set(portal.docs[:2])
    assert Activity.objects.filter(customer=portal.customer, kind="promise_made").count() == 1
    alert = Alert.objects.get(kind="portal.promise")
    assert alert.customer == portal.customer and "2026-07-15" in alert.title
    home = client.get(portal.path + "?lang=en").content.decode()
    assert "Your promises to pay" in home and "Promised" in home


@pytest.mark.parametrize(
    ("amount", "date", "message"),
    [
        ("99999", "2026-07-15", AMOUNT_TOO_HIGH.split("(")[0]),
        ("100", "2026-06-01", DATE_IN_PAST.split("(")[0]),
        ("abc", "2026-07-15", "Give the amount as a number"),
        ("100", "15/07/2026", "Give the date as YYYY-MM-DD."),
    ],
)
def test_a_bad_promise_is_refused_with_a_clear_message_and_nothing_written(client, portal, amount, date, message):
    response = client.post(portal.path + "promise/?lang=en", {"doc": [portal.docs[0].pk], "amount": amount,
                                                              "date": date})  # fmt: skip
    assert response.status_code == 400 and message in response.content.decode()
    assert not Promise.objects.exists() and not Alert.objects.exists()


def test_a_promise_on_someone_elses_invoice_is_refused(client, portal):
    for doc in (portal.other_doc, portal.other_company_doc):
        response = client.post(portal.path + "promise/", {"doc": [doc.pk], "amount": "1", "date": "2026-07-15"})
        assert response.status_code == 400
    assert not Promise.objects.exists()


def test_a_dispute_with_a_pdf_is_recorded_and_its_attachment_is_downloadable(client, portal):
    upload = SimpleUploadedFile("proof.exe", PDF, content_type="application/x-msdownload")  # content decides
    data = {"doc": [portal.docs[1].pk], "reason": "quantity", "message": "Only 8 of 10 delivered", "attachment": upload}
    response = client.post(portal.path + "dispute/", data)
    assert response.status_code == 302
    dispute = Dispute.objects.get()
    assert list(dispute.documents.all()) == [portal.docs[1]] and dispute.reason == "quantity"
    attachment = DisputeAttachment.objects.get()
    assert attachment.content_type == "application/pdf" and attachment.size == len(PDF)
    assert not attachment.file.name.endswith(".exe")
    assert Activity.objects.filter(customer=portal.customer, kind="dispute_opened").count() == 1
    assert Alert.objects.filter(kind="portal.dispute", customer=portal.customer).count() == 1
    home = client.get(portal.path).content.decode()
    link = re.search(r'href="([^"]+/attachments/\d+/)"', home).group(1)
    download = client.get(link)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf" and download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("content", [PNG, JPEG], ids=["png", "jpeg"])
def test_images_are_accepted(client, portal, content):
    upload = SimpleUploadedFile("photo.pdf", content)
    client.post(portal.path + "dispute/", {"doc": [portal.docs[0].pk], "reason": "quality", "attachment": upload})
    assert DisputeAttachment.objects.get().content_type in ("image/png", "image/jpeg")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("invoice.pdf", b"<html><script>alert(1)</script></html>", FILE_TYPE),
        ("photo.png", b"GIF89a" + b"\x00" * 10, FILE_TYPE),
        ("big.pdf", b"%PDF-" + b"0" * 2048, FILE_TOO_BIG.split("{")[0]),
    ],
    ids=["html-named-pdf", "gif", "too-big"],
)
def test_other_files_and_big_files_are_refused_and_nothing_is_written(client, portal, settings, name, content, message):
    settings.RELANCE_PORTAL_UPLOAD_MAX_BYTES = 1024
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = client.post(portal.path + "dispute/?lang=en", {"doc": [portal.docs[0].pk], "reason": "price",
                                                              "attachment": upload})  # fmt: skip
    assert response.status_code == 400 and message in response.content.decode()
    assert not Dispute.objects.exists() and not DisputeAttachment.objects.exists()


def test_another_customers_dispute_attachment_is_not_reachable(client, portal):
    other_link = services.link_resolve(
        services.portal_link(customer=portal.other_customer).rstrip("/").rsplit("/", 1)[-1], touch=False
    )
    actions.dispute_make(link=other_link, document_ids=[portal.other_doc.pk], reason="price", message="secret",
                         upload=SimpleUploadedFile("x.pdf", PDF))  # fmt: skip
    theirs = DisputeAttachment.objects.get()
    response = client.get(portal.path + f"attachments/{theirs.pk}/")
    assert response.status_code == 404 and PDF not in response.content


@pytest.mark.parametrize("which", ["other_doc", "other_company_doc"])
def test_documents_of_others_are_not_reachable_by_changing_the_id(client, portal, which):
    response = client.get(portal.path + f"documents/{getattr(portal, which).pk}/pdf/")
    assert response.status_code == 404 and not response.content.startswith(b"%PDF")
    response = client.post(portal.path + "dispute/", {"doc": [getattr(portal, which).pk], "reason": "price"})
    assert response.status_code == 400 and not Dispute.objects.exists()


def test_the_contact_update_changes_the_main_ap_contact_and_tells_the_collector(client, portal):
    response = client.post(portal.path + "contact/", {"name": "Claire Payable", "email": "ap@acme.example",
                                                      "phone": "+33 1 23 45 67 89"})  # fmt: skip
    assert response.status_code == 302
    portal.contact.refresh_from_db()
    assert portal.contact.phone == "+33 1 23 45 67 89" and portal.contact.is_main_ap
    response = client.post(portal.path + "contact/", {"name": "New AP", "email": "new-ap@acme.example", "phone": ""})
    main = portal.customer.contacts.get(is_main_ap=True)
    assert main.email == "new-ap@acme.example"
    assert Activity.objects.filter(customer=portal.customer, kind="contact_updated").count() == 2
    assert Alert.objects.filter(kind="portal.contact").count() == 2
    bad = client.post(portal.path + "contact/?lang=en", {"name": "", "email": "not-an-address", "phone": ""})
    assert bad.status_code == 400 and "is not an e-mail address" in bad.content.decode()


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("pay/", {"doc": ["1"]}),
        ("promise/", {"doc": ["1"], "amount": "1", "date": "2026-07-15"}),
        ("dispute/", {"doc": ["1"], "reason": "price"}),
        ("contact/", {"name": "X"}),
    ],
)
def test_every_form_needs_its_csrf_token(portal, path, data):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(portal.path + path, data)
    assert response.status_code == 403
    assert not Promise.objects.exists() and not Dispute.objects.exists()


def test_actions_are_rate_limited_per_link(client, portal, settings):
    settings.RELANCE_PORTAL_RATE_LIMITS = {"action_link": (2, 600)}
    codes = [client.post(portal.path + "contact/", {"name": f"N{i}"}).status_code for i in range(3)]
    assert codes == [302, 302, 429]
    from_elsewhere = Client(REMOTE_ADDR="10.1.1.1").post(portal.path + "contact/", {"name": "N9"})
    assert from_elsewhere.status_code == 429  # the link itself is limited, whatever the address


def test_actions_are_rate_limited_per_address(client, portal, settings):
    settings.RELANCE_PORTAL_RATE_LIMITS = {"action_ip": (2, 600)}
    second = services.portal_link(customer=portal.customer).rstrip("/").rsplit("/", 1)[-1]
    codes = [client.post(portal.path + "contact/", {"name": "A"}).status_code,
             client.post(f"/p/{second}/contact/", {"name": "B"}).status_code,
             client.post(f"/p/{second}/contact/", {"name": "C"}).status_code]  # fmt: skip
    assert codes == [302, 302, 429]
