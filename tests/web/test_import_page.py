"""Uploading a file from the pages: preview first (nothing written), then import."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from relance.ingest.models import ImportRun
from relance.ledger.models import Customer
from tests.conftest import PASSWORD, SHARED_DATA

GOOD = b"customer_ref,name,country\nNEW1,Nouveau Client,FR\nNEW2,Autre Client,FR\n"
BAD = b"customer_ref,name,country\nNEW1,Nouveau Client,FR\nNEW2,Autre Client,France\n"


def upload(client, content, company="FR1", name="clients.csv"):
    return client.post(
        reverse("web:import"),
        {"kind": "customers", "company": company, "profile": "", "file": SimpleUploadedFile(name, content, "text/csv")},
    )


def test_preview_writes_nothing_then_confirm_imports(client, world):
    client.login(email="cm@example.com", password=PASSWORD)
    response = upload(client, GOOD)
    assert response.status_code == 200
    assert b"Nouveau Client" in response.content and b"2 to create" in response.content
    assert not Customer.objects.filter(reference="NEW1").exists()
    token = response.context["token"]
    response = client.post(reverse("web:import"), {"token": token}, follow=True)
    assert b"2 created" in response.content
    assert Customer.objects.filter(reference__in=["NEW1", "NEW2"], company=world.fr).count() == 2


def test_errors_are_shown_with_row_and_column_and_partial_loads_the_rest(client, world):
    client.login(email="cm@example.com", password=PASSWORD)
    response = upload(client, BAD)
    assert b"row 3, country" in response.content and b"France" in response.content
    response = client.post(reverse("web:import"), {"token": response.context["token"], "partial": "on"}, follow=True)
    assert Customer.objects.filter(reference="NEW1").exists() and not Customer.objects.filter(reference="NEW2").exists()
    assert ImportRun.objects.filter(status="partial").exists()


def test_a_company_outside_the_scope_cannot_be_chosen(client, world):
    client.login(email="cm-uk@example.com", password=PASSWORD)
    response = upload(client, GOOD, company="FR1")
    assert response.status_code == 200 and "company" in response.context["form"].errors
    assert not Customer.objects.filter(reference="NEW1").exists()


def test_a_file_for_another_company_is_refused_row_by_row(client, world):
    client.login(email="cm-uk@example.com", password=PASSWORD)
    response = upload(client, b"company,customer_ref,name,country\nFR1,NEW1,X,FR\n", company="UK1")
    assert b"is not the company being imported" in response.content


@pytest.mark.parametrize("user_key", ["collector_alice", "sales_rep_sam", "auditor", "agency_manager_par"])
def test_roles_without_import_rights_get_403(client, world, user_key):
    client.login(email=world.users[user_key].email, password=PASSWORD)
    assert client.get(reverse("web:import")).status_code == 403


def test_an_expired_or_forged_token_imports_nothing(client, world):
    client.login(email="cm@example.com", password=PASSWORD)
    response = client.post(reverse("web:import"), {"token": "deadbeef"}, follow=True)
    assert b"expired" in response.content
    assert client.post(reverse("web:import"), {"token": "../../etc"}).status_code == 404


FEC_SAMPLE = SHARED_DATA / "fec" / "0000000001FEC20220831.txt"
EINVOICE_SAMPLE = SHARED_DATA / "einvoices" / "cii" / "facturx_fr_en16931.xml"


def test_a_fec_is_previewed_then_imported_from_the_page(client, world):
    from relance.ledger.models import Document

    client.login(email="cm@example.com", password=PASSWORD)
    data = FEC_SAMPLE.read_bytes()
    response = client.post(
        reverse("web:import"),
        {"kind": "fec", "company": "FR1", "profile": "", "file": SimpleUploadedFile("ledger.txt", data, "text/plain")},
    )
    assert response.status_code == 200 and response.context["result"].status == "preview"
    assert response.context["result"].counts["created"] > 100
    assert not Document.objects.filter(source="fec").exists()
    response = client.post(reverse("web:import"), {"token": response.context["token"]}, follow=True)
    assert Document.objects.filter(company=world.fr).count() > 100


def test_a_fec_needs_a_company(client, world):
    client.login(email="admin@example.com", password=PASSWORD)
    response = client.post(
        reverse("web:import"),
        {"kind": "fec", "company": "", "profile": "", "file": SimpleUploadedFile("ledger.txt", b"x", "text/plain")},
    )
    assert "company" in response.context["form"].errors


def test_an_e_invoice_is_previewed_with_its_fields_then_imported(client, world):
    from relance.ledger.models import Document
    from relance.orgs.models import Company

    Company.objects.filter(pk=world.fr.pk).update(vat_number="")
    client.login(email="cm@example.com", password=PASSWORD)
    data = EINVOICE_SAMPLE.read_bytes()
    response = client.post(
        reverse("web:import"),
        {"kind": "einvoice", "company": "FR1", "profile": "", "file": SimpleUploadedFile("f.xml", data, "text/xml")},
    )
    assert response.status_code == 200
    assert b"F20260023" in response.content and b"104.90" in response.content
    assert not Document.objects.filter(number="F20260023").exists()
    client.post(reverse("web:import"), {"token": response.context["token"]}, follow=True)
    doc = Document.objects.get(number="F20260023")
    assert doc.original_file
