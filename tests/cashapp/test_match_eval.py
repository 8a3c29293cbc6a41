"""`relance match-eval`: precision, recall and shares on a labelled statement, writing nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from relance.cashapp.models import BankLine
from relance.ledger.models import Allocation, Payment
from relance.orgs.models import BankAccount
from tests.factories import DocumentFactory

from .builders import ACCOUNT, write


@pytest.fixture
def statement(world, tmp_path):
    BankAccount.objects.create(company=world.fr, iban=ACCOUNT)
    alice = world.customers["c_par_alice"]
    for n, amount in ((1, "100.00"), (2, "200.00"), (3, "300.00"), (4, "400.00")):
        DocumentFactory(customer=alice, number=f"EV-{n}", amount=Decimal(amount), tax_amount=Decimal("0"))
    path = write(tmp_path, "eval.xml", [
        {"amount": "100.00", "text": "EV-1", "ref": "L1"},            # automatic, right
        {"amount": "500.00", "text": "EV-2 EV-3", "ref": "L2"},       # automatic, right
        {"amount": "400.00", "text": "EV-4", "ref": "L3"},            # automatic, but labelled EV-2: wrong
        {"amount": "55.00", "name": "Atelier Paris", "ref": "L4"},    # review
        {"amount": "9.99", "name": "Nobody", "ref": "L5"},            # unidentified, rightly
        {"amount": "-40.00", "name": "Supplier", "ref": "L6"},        # outgoing: not evaluated
    ])  # fmt: skip
    labels = tmp_path / "labels.csv"
    labels.write_text("bank_reference,invoice_numbers\nL1,EV-1\nL2,EV-2;EV-3\nL3,EV-2\nL4,EV-1\nL5,\n")
    return path, labels


def test_match_eval_prints_precision_recall_and_shares_without_writing(world, statement):
    path, labels = statement
    payments, allocations = Payment.objects.count(), Allocation.objects.count()
    out = StringIO()
    call_command("match-eval", str(path), "--labels", str(labels), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["lines"] == 5 and data["labelled"] == 5
    assert data["automatic"] == 3 and data["correct_automatic"] == 2
    assert data["precision"] == "0.6667"  # 2 right of 3 automatic
    assert data["recall"] == "0.5000"  # 2 of the 4 lines labelled with invoices
    assert data["auto_share"] == "0.6000" and data["review_share"] == "0.2000"
    assert data["mistakes"][0]["bank_reference"] == "L3" and data["mistakes"][0]["applied"] == ["EV-4"]
    assert BankLine.objects.count() == 0
    assert (Payment.objects.count(), Allocation.objects.count()) == (payments, allocations)


def test_match_eval_says_which_columns_the_labels_need(world, statement, tmp_path):
    path, _ = statement
    bad = tmp_path / "bad.csv"
    bad.write_text("ref,invoices\nL1,EV-1\n")
    with pytest.raises(CommandError, match="need the columns bank_reference and invoice_numbers"):
        call_command("match-eval", str(path), "--labels", str(bad), stdout=StringIO())


def test_match_eval_human_output(world, statement):
    path, labels = statement
    out = StringIO()
    call_command("match-eval", str(path), "--labels", str(labels), stdout=out)
    assert "precision 0.6667, recall 0.5000" in out.getvalue()
    assert "L3: expected ['EV-2'], applied ['EV-4']" in out.getvalue()
