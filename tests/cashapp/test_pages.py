"""The cash application pages per role: what each user sees, and confirm / split / unapply in a few clicks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from relance.cashapp import services
from relance.cashapp.models import BankLine, LineStatus, PayerAccount
from relance.ledger.models import Document
from relance.orgs.models import BankAccount

from .builders import ACCOUNT, write

UK_ACCOUNT = "GB29NWBK60161331926819"


@pytest.fixture
def lines(world, tmp_path):
    """FR1: a line to review (suggested: Atelier Paris), an unidentified one, one applied; UK1: one applied."""
    BankAccount.objects.create(company=world.fr, iban=ACCOUNT)
    BankAccount.objects.create(company=world.uk, iban=UK_ACCOUNT)
    fr = write(tmp_path, "fr.xml", [
        {"amount": "1200.00", "name": "Atelier Paris", "text": "merci", "ref": "REVIEW"},
        {"amount": "77.00", "name": "Mystery", "text": "?", "ref": "UNKNOWN", "iban": "DE89370400440532013000"},
        {"amount": "1200.00", "text": "INV-LYO001", "ref": "APPLIED"},
    ])  # fmt: skip
    uk = write(
        tmp_path,
        "uk.xml",
        [{"amount": "1200.00", "text": "INV-UK0001", "ref": "UKAPPLIED", "currency": "GBP"}],
        account=UK_ACCOUNT,
    )
    for path in (fr, uk):
        result = services.statement_import(actor="cli", path=path)
        services.lines_match(actor="cli", line_ids=result.new_line_ids)
    return {x.bank_reference: x for x in BankLine.objects.all()}


def refs(response) -> set[str]:
    html = response.content.decode()
    return {
        ref
        for ref in ("REVIEW", "UNKNOWN", "APPLIED", "UKAPPLIED")
        if f'data-line="{BankLine.objects.get(bank_reference=ref).pk}"' in html
    }


def queue_refs(client, queue: str) -> set[str]:
    response = client.get(reverse("web:cash_queue"), {"queue": queue})
    assert response.status_code == 200
    return refs(response)


def test_the_fixture_has_one_line_in_each_state(lines):
    assert lines["REVIEW"].status == LineStatus.REVIEW
    assert lines["UNKNOWN"].status == LineStatus.UNIDENTIFIED
    assert lines["APPLIED"].status == LineStatus.APPLIED and lines["UKAPPLIED"].status == LineStatus.APPLIED


@pytest.mark.parametrize(
    ("user", "review", "unidentified", "applied"),
    [
        ("admin", {"REVIEW"}, {"UNKNOWN"}, {"APPLIED", "UKAPPLIED"}),
        ("auditor", {"REVIEW"}, {"UNKNOWN"}, {"APPLIED", "UKAPPLIED"}),
        ("credit_manager_uk", set(), set(), {"UKAPPLIED"}),
        ("collector_alice", {"REVIEW"}, set(), {"UKAPPLIED"}),
        ("collector_bob", set(), set(), {"APPLIED"}),
        ("sales_rep_sam", {"REVIEW"}, set(), set()),
        ("agency_manager_par", {"REVIEW"}, set(), set()),
        ("agency_manager_none", set(), set(), set()),
    ],
)
def test_each_role_sees_the_lines_of_its_scope(client_for, lines, user, review, unidentified, applied):
    client = client_for(user)
    assert queue_refs(client, "review") == review
    assert queue_refs(client, "unidentified") == unidentified
    assert queue_refs(client, "applied") == applied


def test_the_queue_shows_the_suggestion_and_its_reasons(client_for, lines):
    html = client_for("admin").get(reverse("web:cash_queue")).content.decode()
    assert "INV-PAR001" in html and "Atelier Paris" in html
    assert 'aria-current="page"' in html and "Cash" in html


def test_a_line_outside_the_scope_looks_missing(client_for, lines):
    client = client_for("collector_bob")
    assert client.get(reverse("web:cash_line", args=[lines["REVIEW"].pk])).status_code == 404
    assert client.post(reverse("web:cash_line", args=[lines["REVIEW"].pk]), {"action": "confirm"}).status_code == 404


def test_the_auditor_reads_but_cannot_act(client_for, lines):
    client = client_for("auditor")
    page = client.get(reverse("web:cash_line", args=[lines["REVIEW"].pk]))
    assert page.status_code == 200 and 'data-testid="confirm-0"' not in page.content.decode()
    response = client.post(reverse("web:cash_line", args=[lines["REVIEW"].pk]), {"action": "confirm", "proposal": "0"})
    assert response.status_code == 403


def test_a_collector_confirms_a_suggestion_in_one_click(client_for, lines, world):
    client = client_for("collector_alice")
    url = reverse("web:cash_line", args=[lines["REVIEW"].pk])
    response = client.post(url, {"action": "confirm", "proposal": "0"}, follow=True)
    assert "Applied." in response.content.decode()
    line = BankLine.objects.get(pk=lines["REVIEW"].pk)
    assert line.status == LineStatus.APPLIED and line.customer == world.customers["c_par_alice"]
    assert Document.objects.get(number="INV-PAR001").open_amount == 0
    assert "Confirmed by alice@example.com." in line.proposal["applied"]["proposal"]["reasons"]


def test_a_credit_manager_splits_an_unidentified_line_and_the_iban_is_learnt(client_for, lines, world):
    client = client_for("credit_manager")
    url = reverse("web:cash_line", args=[lines["UNKNOWN"].pk])
    search = client.get(url, {"q": "Boulangerie"}).content.decode()
    assert "LYO001" in search
    customer = world.customers["c_lyo_bob"]
    doc = world.documents["c_lyo_bob"]
    page = client.get(url, {"customer": customer.pk}).content.decode()
    assert f'name="amount-{doc.pk}"' not in page  # LYO001's invoice is already paid by the applied line
    extra = Document.objects.create(
        company=world.fr, customer=customer, number="INV-LYO002", issue_date=dt.date(2026, 5, 1),
        due_date=dt.date(2026, 6, 1), currency="EUR", amount=Decimal("100.00"), open_amount=Decimal("100.00"),
    )  # fmt: skip
    response = client.post(
        url, {"action": "split", "customer": customer.pk, f"amount-{extra.pk}": "70,00"}, follow=True
    )
    assert "Applied." in response.content.decode()
    extra.refresh_from_db()
    assert extra.open_amount == Decimal("30.00")
    assert PayerAccount.objects.get(iban="DE89370400440532013000").customer == customer


def test_a_wrong_split_says_what_is_wrong(client_for, lines, world):
    client = client_for("admin")
    url = reverse("web:cash_line", args=[lines["UNKNOWN"].pk])
    doc = world.documents["c_par_alice"]
    response = client.post(
        url, {"action": "split", "customer": doc.customer_id, f"amount-{doc.pk}": "500"}, follow=True
    )
    assert "add up to more than the payment" in response.content.decode()
    assert BankLine.objects.get(pk=lines["UNKNOWN"].pk).status == LineStatus.UNIDENTIFIED


def test_a_collector_cannot_choose_a_customer_outside_the_scope(client_for, lines, world):
    client = client_for("collector_alice")
    url = reverse("web:cash_line", args=[lines["REVIEW"].pk])
    other = world.customers["c_lyo_bob"]
    response = client.post(url, {"action": "split", "customer": other.pk}, follow=True)
    assert "Choose a customer you may see." in response.content.decode()


def test_unapply_from_the_page_reopens_the_invoice(client_for, lines):
    client = client_for("collector_bob")
    url = reverse("web:cash_line", args=[lines["APPLIED"].pk])
    assert 'data-testid="unapply"' in client.get(url).content.decode()
    response = client.post(url, {"action": "unapply", "reason": "not ours"}, follow=True)
    assert "Unapplied" in response.content.decode()
    assert Document.objects.get(number="INV-LYO001").open_amount == Decimal("1200.00")
    assert BankLine.objects.get(pk=lines["APPLIED"].pk).status == LineStatus.REVIEW


def test_the_navigation_has_the_cash_link(client_for, lines):
    html = client_for("collector_alice").get(reverse("web:home")).content.decode()
    assert reverse("web:cash_queue") in html
