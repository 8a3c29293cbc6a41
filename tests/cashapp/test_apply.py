"""Applying matches: automatic above the threshold, exactly reversible, taught by confirmations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from relance.cashapp import domain, services
from relance.cashapp.models import BankLine, LineStatus, PayerAccount
from relance.core import errors
from relance.core.models import AuditEntry
from relance.ledger.models import Allocation, Document, ExchangeRate, Payment
from relance.orgs.models import BankAccount
from tests.factories import DocumentFactory

from .builders import ACCOUNT, write

IBAN = "FR1420041010050500013M02606"


@pytest.fixture
def setup(world, tmp_path):
    BankAccount.objects.create(company=world.fr, iban=ACCOUNT)
    alice = world.customers["c_par_alice"]
    docs = {
        "A1": DocumentFactory(customer=alice, number="FA-2026-0001", amount=Decimal("1200.00"),
                              issue_date=dt.date(2026, 5, 1)),
        "A2": DocumentFactory(customer=alice, number="FA-2026-0002", amount=Decimal("300.00"),
                              issue_date=dt.date(2026, 6, 1)),
    }  # fmt: skip
    return world, tmp_path, docs


def load_and_match(tmp_path, entries, name="s.xml"):
    path = write(tmp_path, name, entries, statement_id=name)
    result = services.statement_import(actor="cli", path=path)
    return services.lines_match(actor="cli", line_ids=result.new_line_ids)


def test_a_sure_match_is_applied_automatically_and_audited(setup):
    world, tmp, docs = setup
    counts = load_and_match(
        tmp, [{"amount": "1200.00", "text": "Facture FA-2026-0001", "iban": IBAN, "name": "Atelier"}]
    )
    assert counts == {"applied": 1, "review": 0, "unidentified": 0}
    line = BankLine.objects.get()
    assert line.status == LineStatus.APPLIED and line.customer == world.customers["c_par_alice"]
    assert line.payment.amount == Decimal("1200.00") and line.payment.unallocated_amount == 0
    assert line.payment.source == "cashapp" and line.payment.reference.startswith("BANK-")
    docs["A1"].refresh_from_db()
    assert docs["A1"].open_amount == 0 and docs["A1"].settled_on == dt.date(2026, 6, 29)
    assert line.proposal["applied"]["auto"] is True
    entry = AuditEntry.objects.get(action="bankline.apply")
    assert "FA-2026-0001" in entry.message
    assert line.confidence >= Decimal("0.9")


def test_applying_is_idempotent_and_unapplying_is_exact(setup):
    world, tmp, docs = setup
    load_and_match(tmp, [{"amount": "1190.00", "text": "FA-2026-0001", "iban": IBAN}])  # 10.00 bank fees
    line = BankLine.objects.get()
    docs["A1"].refresh_from_db()
    assert docs["A1"].open_amount == 0
    assert line.proposal["applied"]["write_offs"]
    with pytest.raises(errors.ValidationError, match="already applied"):
        services.line_apply(
            actor="cli", line=line, proposal=domain.Proposal.from_dict(line.proposal["applied"]["proposal"])
        )
    services.line_unapply(actor="cli", line=line, reason="wrong customer")
    docs["A1"].refresh_from_db()
    line.refresh_from_db()
    assert docs["A1"].open_amount == Decimal("1200.00") and docs["A1"].settled_on is None
    assert line.status == LineStatus.REVIEW
    assert line.payment.unallocated_amount == Decimal("1190.00")
    assert Allocation.objects.filter(reverses__isnull=False).count() == 2  # the allocation and the write-off
    # re-applying reuses the same payment
    services.line_apply(
        actor="cli", line=line, proposal=domain.Proposal.from_dict(line.proposal["unapplied"]["proposal"])
    )
    assert Payment.objects.filter(source="cashapp").count() == 1
    docs["A1"].refresh_from_db()
    assert docs["A1"].open_amount == 0


def test_a_doubtful_match_waits_in_review_with_ranked_suggestions(setup):
    world, tmp, docs = setup
    counts = load_and_match(tmp, [{"amount": "300.00", "name": "Atelier Paris", "text": "merci"}])
    assert counts["review"] == 1
    line = BankLine.objects.get()
    assert line.status == LineStatus.REVIEW and line.payment is None
    best = line.proposal["proposals"][0]
    assert best["shares"][0]["number"] == "FA-2026-0002" and best["reasons"]
    assert line.customer == world.customers["c_par_alice"]  # the suggested payer: its collector sees it


def test_confirming_teaches_the_iban_and_the_next_payment_is_automatic(setup):
    world, tmp, docs = setup
    load_and_match(tmp, [{"amount": "300.00", "name": "Someone Else", "text": "thanks", "iban": IBAN}], "a.xml")
    line = BankLine.objects.get()
    assert line.status == LineStatus.UNIDENTIFIED
    alice = world.customers["c_par_alice"]
    services.line_confirm(actor=world.users["collector_alice"], line=line, customer_id=alice.pk,
                          shares=[(docs["A2"].pk, Decimal("300.00"))])  # fmt: skip
    assert PayerAccount.objects.get(iban=IBAN).customer == alice
    Document.objects.filter(number="INV-PAR001").update(open_amount=0)  # else two open items of 1,200.00
    counts = load_and_match(tmp, [{"amount": "1200.00", "name": "Someone Else", "text": "x", "iban": IBAN,
                                   "date": dt.date(2026, 6, 30)}], "b.xml")  # fmt: skip
    assert counts["applied"] == 1


def test_a_split_over_several_invoices_with_the_rest_on_account(setup):
    world, tmp, docs = setup
    load_and_match(tmp, [{"amount": "1000.00", "name": "Nobody"}])
    line = BankLine.objects.get()
    alice = world.customers["c_par_alice"]
    services.line_confirm(actor="cli", line=line, customer_id=alice.pk,
                          shares=[(docs["A1"].pk, Decimal("600.00")), (docs["A2"].pk, Decimal("300.00"))])  # fmt: skip
    line.refresh_from_db()
    assert line.payment.unallocated_amount == Decimal("100.00")
    docs["A1"].refresh_from_db()
    assert docs["A1"].open_amount == Decimal("600.00")


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ([("A1", "1300.00")], "at most its open amount"),
        ([("A1", "900.00"), ("A2", "200.00")], "add up to more than the payment"),
        ([("A1", "0")], "above 0"),
    ],
)
def test_a_confirmation_is_checked(setup, shares, message):
    world, tmp, docs = setup
    load_and_match(tmp, [{"amount": "1000.00", "name": "Nobody"}])
    line = BankLine.objects.get()
    with pytest.raises(errors.ValidationError, match=message):
        services.line_confirm(actor="cli", line=line, customer_id=world.customers["c_par_alice"].pk,
                              shares=[(docs[k].pk, Decimal(v)) for k, v in shares])  # fmt: skip


def test_another_companys_customer_cannot_be_chosen(setup):
    world, tmp, docs = setup
    load_and_match(tmp, [{"amount": "10.00", "name": "Nobody"}])
    with pytest.raises(errors.ValidationError, match="customer of this company"):
        services.line_confirm(actor="cli", line=BankLine.objects.get(), customer_id=world.customers["c_uk_alice"].pk,
                              shares=[])  # fmt: skip


def test_a_payment_in_another_currency_is_booked_at_the_days_rate(setup):
    world, tmp, docs = setup
    uk_doc = world.documents["c_uk_alice"]  # GBP 1200.00, on the UK company
    BankAccount.objects.create(company=world.uk, iban="GB29NWBK60161331926819")
    ExchangeRate.objects.create(date=dt.date(2026, 6, 26), currency="GBP", rate=Decimal("0.85"))
    path = write(
        tmp, "uk.xml", [{"amount": "1411.76", "text": f"invoice {uk_doc.number}"}], account="GB29NWBK60161331926819"
    )
    result = services.statement_import(actor="cli", path=path)
    counts = services.lines_match(actor="cli", line_ids=result.new_line_ids)
    assert counts["applied"] == 1
    line = BankLine.objects.get()
    assert line.payment.currency == "GBP" and line.payment.amount == Decimal("1200.00")
    assert any("Converted from 1,411.76 EUR" in r for r in line.proposal["applied"]["proposal"]["reasons"])


def test_a_returned_payment_unapplies_its_line_and_reopens_the_invoice(setup):
    world, tmp, docs = setup
    credit = {"amount": "1190.00", "text": "FA-2026-0001", "iban": IBAN, "e2e": "E2E-9", "ref": "R1"}
    load_and_match(tmp, [credit], "a.xml")
    back = {**credit, "amount": "-1190.00", "reversal": True, "ref": "R2", "return_reason": "MS02",
            "date": dt.date(2026, 6, 30)}  # fmt: skip
    load_and_match(tmp, [back], "b.xml")
    docs["A1"].refresh_from_db()
    assert docs["A1"].open_amount == Decimal("1200.00")
    original = BankLine.objects.get(bank_reference="R1")
    returned = BankLine.objects.get(bank_reference="R2")
    assert returned.reverses == original and returned.reversed_payment == original.payment
    assert original.status == LineStatus.REVERSAL
    assert Allocation.objects.filter(reverses__isnull=False, date=dt.date(2026, 6, 30)).count() == 2
    payment = Payment.objects.get(pk=original.payment_id)
    assert payment.returned_on == dt.date(2026, 6, 30)  # no longer cash waiting to be applied
    assert AuditEntry.objects.filter(action="payment.return").count() == 1


def test_a_returned_payment_is_neither_unidentified_cash_nor_applied_again(setup, world):
    from relance.cashapp import selectors as cash_selectors
    from relance.ledger import services as ledger
    from tests.factories import UserFactory

    _, tmp, docs = setup
    admin = UserFactory(role="admin")
    load_and_match(tmp, [{"amount": "1200.00", "text": "FA-2026-0001", "iban": IBAN, "ref": "R1"}], "a.xml")
    line = services.line_unapply(actor="cli", line=BankLine.objects.get())
    ledger.payment_return(actor="cli", payment=line.payment, date=dt.date(2026, 6, 30), reason="recalled")
    proposal = domain.Proposal.from_dict(line.proposal["unapplied"]["proposal"])
    with pytest.raises(errors.ValidationError, match="returned by the bank on 2026-06-30"):
        services.line_apply(actor="cli", line=line, proposal=proposal)
    docs["A1"].refresh_from_db()
    assert docs["A1"].open_amount == Decimal("1200.00")
    orphan, _ = ledger.payment_upsert(actor="cli", company=world.fr, customer=None, reference="U1",
                                      date=dt.date(2026, 6, 1), currency="EUR", amount="10.00")  # fmt: skip
    assert orphan in cash_selectors.unidentified_payments(admin)
    ledger.payment_return(actor="cli", payment=orphan, date=dt.date(2026, 6, 30))
    assert orphan not in cash_selectors.unidentified_payments(admin)


def test_unidentified_cash_stays_visible_as_lines_without_payment(setup):
    world, tmp, docs = setup
    load_and_match(tmp, [{"amount": "42.00", "name": "Mystery", "text": "?"}])
    line = BankLine.objects.get()
    assert line.status == LineStatus.UNIDENTIFIED and line.payment is None and line.customer is None


def test_settings_are_saved_validated_and_audited(setup):
    world, tmp, docs = setup
    services.match_settings_set(actor="cli", company=world.fr, config={"auto_threshold": "0.99"})
    assert services.config_for(world.fr).auto_threshold == Decimal("0.99")
    with pytest.raises(errors.ValidationError, match="Matching settings: auto_threshold"):
        services.match_settings_set(actor="cli", company=world.fr, config={"auto_threshold": "2"})
    assert AuditEntry.objects.filter(action="cashapp.settings").count() == 1
    counts = load_and_match(tmp, [{"amount": "300.00", "text": "FA-2026-0002"}])
    assert counts["review"] == 1  # 0.97 is below the company's 0.99


def test_documents_settled_elsewhere_are_not_proposed(setup):
    world, tmp, docs = setup
    Document.objects.filter(pk=docs["A2"].pk).update(open_amount=0)
    counts = load_and_match(tmp, [{"amount": "300.00", "text": "FA-2026-0002"}])
    assert counts["applied"] == 0


def test_the_import_command_matches_the_new_lines(setup, tmp_path):
    import json
    from io import StringIO

    from django.core.management import call_command

    world, tmp, docs = setup
    path = write(tmp, "cli.xml", [{"amount": "300.00", "text": "FA-2026-0002"}, {"amount": "5.00", "name": "X"}])
    out = StringIO()
    call_command("import", "statement", str(path), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["matching"] == {"applied": 1, "review": 0, "unidentified": 1}
    docs["A2"].refresh_from_db()
    assert docs["A2"].open_amount == 0


def test_cash_unapplied_from_the_wrong_payer_can_be_applied_to_the_right_one(setup):
    world, tmp, docs = setup
    bob = world.customers["c_lyo_bob"]
    bobs = DocumentFactory(
        customer=bob, number="FB-2026-0009", amount=Decimal("1200.00"), issue_date=dt.date(2026, 5, 1)
    )
    load_and_match(tmp, [{"amount": "1200.00", "text": "Facture FA-2026-0001", "iban": IBAN}])
    line = BankLine.objects.get()
    services.line_unapply(actor="cli", line=line, reason="wrong customer")
    line.refresh_from_db()
    proposal = domain.Proposal.from_dict(line.proposal["unapplied"]["proposal"])
    moved = domain.Proposal.from_dict(
        {
            **proposal.as_dict(),
            "customer_id": bob.pk,
            "shares": [{**proposal.as_dict()["shares"][0], "document_id": bobs.pk, "number": bobs.number}],
        }
    )
    services.line_apply(actor="cli", line=line, proposal=moved)
    line.refresh_from_db()
    bobs.refresh_from_db()
    assert line.payment.customer_id == bob.pk and bobs.open_amount == 0
    assert Payment.objects.filter(source="cashapp").count() == 1
