"""Loading bank files: company from the account, no duplicates, returns undo what they return."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from relance.cashapp import services
from relance.cashapp.models import BankLine, LineStatus, Statement
from relance.cashapp.parsers.base import INVALID_IBAN
from relance.core import errors, scope
from relance.core.models import AuditEntry
from relance.ingest.models import ImportRun
from relance.ledger import services as ledger
from relance.ledger.models import Allocation
from relance.orgs.models import BankAccount

from .builders import ACCOUNT, write
from .test_parsers import DATA

OCA = DATA / "camt" / "oca_test-camt053.xml"
GERMAN = DATA / "mt940" / "betterplace_sepa_mt9401.sta"


@pytest.fixture
def fr_account(world):
    BankAccount.objects.create(company=world.fr, iban="NL77ABNA0574908765", bic="ABNANL2A")
    return BankAccount.objects.create(company=world.fr, iban=ACCOUNT, bic="BNPAFRPP")


def load(path: Path, company: str = "") -> services.StatementImportResult:
    return services.statement_import(actor="cli", path=path, company=company)


def test_the_statement_account_iban_tells_the_company(world, fr_account):
    result = load(OCA)
    (summary,) = result.statements
    assert summary.company == "FR1" and summary.created == 4 and summary.duplicates == 0
    st = Statement.objects.get()
    assert st.company == world.fr and st.bank_account.iban == "NL77ABNA0574908765"
    assert (st.opening_balance, st.closing_balance) == (Decimal("15568.27"), Decimal("15121.12"))
    assert st.format == "camt.053" and st.version == "camt.053.001.02"
    lines = list(BankLine.objects.order_by("sequence"))
    assert [x.amount for x in lines] == [Decimal(a) for a in ("-754.25", "-564.05", "-100.00", "1405.31")]
    assert [x.status for x in lines] == [
        LineStatus.OUTGOING, LineStatus.REVERSAL, LineStatus.REVERSAL, LineStatus.NEW,
    ]  # fmt: skip
    incoming = lines[3]
    assert incoming.counterparty_name == "3rd party Media" and incoming.counterparty_iban == "NL69ABNA0522123643"
    assert incoming.end_to_end_id == "115" and incoming.transaction_code == "PMNT-RCDT-ESCT"
    assert incoming.raw["entry"]["CdtDbtInd"] == "CRDT"
    assert lines[0].flags == [INVALID_IBAN]
    run = ImportRun.objects.get(kind="statement")
    assert run.status == "loaded" and run.counts["created"] == 4 and run.company == world.fr
    assert AuditEntry.objects.filter(action="import.statement", object_id=str(run.pk)).count() == 1


def test_loading_the_same_file_twice_creates_no_duplicate(world, fr_account):
    load(OCA)
    again = load(OCA)
    assert again.counts["created"] == 0 and again.counts["duplicates"] == 4
    assert BankLine.objects.count() == 4 and Statement.objects.count() == 1


def test_overlapping_files_add_only_the_lines_not_yet_loaded(world, tmp_path):
    text = GERMAN.read_text(encoding="latin-1")
    messages = re.split(r"(?m)^(?=:20:)", text)[1:]
    assert len(messages) == 26
    first, second = tmp_path / "a.sta", tmp_path / "b.sta"
    first.write_text("".join(messages[:15]), encoding="latin-1")
    second.write_text("".join(messages[10:]), encoding="latin-1")
    a = load(first, company="FR1")
    b = load(second, company="FR1")
    assert a.counts["created"] + b.counts["created"] == 97
    assert b.counts["duplicates"] == sum(s.lines for s in a.statements[10:])
    assert BankLine.objects.count() == 97
    assert all(s.balance_checked for s in a.statements + b.statements)


def test_true_duplicates_within_a_statement_are_both_kept(world, fr_account, tmp_path):
    same = {"amount": "100.00", "name": "ACME", "text": "INV 1", "iban": "FR1420041010050500013M02606"}
    path = write(tmp_path, "dup.xml", [same, same])
    assert load(path).counts["created"] == 2
    assert load(path).counts["created"] == 0
    keys = set(BankLine.objects.values_list("dedupe_key", flat=True))
    assert len(keys) == 2


def test_a_line_without_reference_is_told_apart_by_its_text(world, fr_account, tmp_path):
    a = write(tmp_path, "a.xml", [{"amount": "100.00", "name": "ACME", "text": "INV 1"}], statement_id="A")
    b = write(tmp_path, "b.xml", [{"amount": "100.00", "name": "OTHER", "text": "INV 2"}], statement_id="B")
    load(a)
    assert load(b).counts["created"] == 1


def test_an_unregistered_account_without_company_is_refused_clearly(world):
    with pytest.raises(errors.ValidationError) as exc:
        load(OCA)
    assert exc.value.message == services.UNKNOWN_ACCOUNT.format(
        file=str(OCA), statement="1234Test/1", account="NL77ABNA0574908765"
    )
    assert BankLine.objects.count() == 0


def test_company_decides_when_the_account_is_not_registered(world):
    result = load(OCA, company="uk1")
    assert result.statements[0].company == "UK1"
    assert set(BankLine.objects.values_list("company__code", flat=True)) == {"UK1"}


def test_a_registered_account_of_another_company_is_refused(world, fr_account):
    with pytest.raises(errors.ValidationError, match="is registered to company FR1, not UK1"):
        load(OCA, company="UK1")


def test_an_unreadable_file_is_refused_with_its_name(world, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(errors.ValidationError, match="notes.txt: not a bank statement"):
        load(path, company="FR1")


def test_a_returned_direct_debit_undoes_the_allocations_of_the_payment_it_returns(world, fr_account):
    customer = world.customers["c_par_alice"]
    invoice = world.documents["c_par_alice"]
    payment, _ = ledger.payment_upsert(
        actor="cli",
        company=world.fr,
        customer=customer,
        reference="DD-2014-01",
        date=dt.date(2014, 1, 2),
        currency="EUR",
        amount="564.05",
        method="direct_debit",
        bank_reference="TESTBANK/NL/20141229/01206408",
    )
    ledger.allocation_create(actor="cli", target=invoice, payment=payment, amount="564.05", date=dt.date(2014, 1, 2))
    invoice.refresh_from_db()
    assert invoice.open_amount == invoice.amount - Decimal("564.05")
    result = load(OCA)
    assert result.counts["reversals"] == 2 and result.counts["reversals_linked"] == 1
    assert result.counts["allocations_reversed"] == 1
    invoice.refresh_from_db()
    assert invoice.open_amount == invoice.amount and invoice.settled_on is None
    line = BankLine.objects.get(end_to_end_id="TESTBANK/NL/20141229/01206408")
    assert line.reversed_payment == payment and line.customer == customer
    reversal = Allocation.objects.get(reverses__isnull=False)
    assert reversal.amount == Decimal("-564.05") and reversal.date == dt.date(2014, 1, 5)
    entry = AuditEntry.objects.get(action="allocation.reverse")
    assert "Returned by the bank (AC06)" in entry.message
    assert AuditEntry.objects.filter(action="bankline.reversal").count() == 1


def test_a_reversal_is_linked_to_the_line_it_reverses(world, fr_account, tmp_path):
    credit = {"amount": "250.00", "name": "ACME", "iban": "FR1420041010050500013M02606", "e2e": "E2E-42", "ref": "B1"}
    load(write(tmp_path, "a.xml", [credit], statement_id="A"))
    back = {**credit, "amount": "-250.00", "reversal": True, "ref": "B2", "date": dt.date(2026, 6, 30)}
    load(write(tmp_path, "b.xml", [back], statement_id="B"))
    original = BankLine.objects.get(bank_reference="B1")
    reversal = BankLine.objects.get(bank_reference="B2")
    assert reversal.is_reversal and reversal.reverses == original
    assert original.status == reversal.status == LineStatus.REVERSAL


def test_lines_follow_the_scope_of_their_customer_and_unidentified_ones_are_company_level(world, fr_account):
    load(OCA)
    line = BankLine.objects.get(amount=Decimal("1405.31"))
    restricted = scope.restrict(world.users["collector_alice"], BankLine.objects.all())
    assert not restricted.exists()
    assert scope.restrict(world.users["credit_manager_uk"], BankLine.objects.all()).count() == 0
    assert scope.restrict(world.users["admin"], BankLine.objects.all()).count() == 4
    line.customer = world.customers["c_par_alice"]
    line.save()
    assert list(scope.restrict(world.users["collector_alice"], BankLine.objects.all())) == [line]


def test_the_cli_imports_every_file_and_speaks_json(world, fr_account, tmp_path):
    out = StringIO()
    call_command("import", "statement", str(OCA), str(DATA / "cfonb120" / "oca_cfonb_classic.cfo"),
                 "--company", "FR1", "--json", "--no-match", stdout=out)  # fmt: skip
    data = json.loads(out.getvalue())
    assert [f["format"] for f in data["files"]] == ["camt.053", "cfonb120"]
    assert data["files"][1]["counts"]["created"] == 13
    assert data["files"][1]["statements"][0]["balance_checked"] is True
    assert data["files"][1]["statements"][0]["closing"] == "1031585.79"


def test_the_cli_reports_a_refused_file_and_imports_the_others(world, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("nothing")
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 of 2 file"):
        call_command("import", "statement", str(bad), str(OCA), "--company", "FR1", "--no-match",
                     stdout=out, stderr=err)  # fmt: skip
    assert "refused: " in err.getvalue() and "bad.txt" in err.getvalue()
    assert BankLine.objects.count() == 4


@pytest.mark.parametrize(
    "name",
    [
        "camt/genkgo_camt053.v2.minimal.xml",
        "camt/genkgo_camt053.v8.xml",
        "camt/genkgo_camt054.v2.xml",
        "mt940/jejik_abnamro.sta",
        "mt940/jejik_rabobank-iban.sta",
        "ofx/ofxparse_checking.ofx",
        "ofx/ofxparse_bank_medium.ofx",
        "ofx/ofxparse_multiple_accounts.ofx",
        "cfonb120/oca_cfonb_classic.cfo",
    ],
)
def test_every_sample_file_loads_and_reloads_without_duplicates(world, name):
    first = load(DATA / name, company="FR1")
    second = load(DATA / name, company="FR1")
    assert second.counts["created"] == 0
    assert second.counts["duplicates"] == first.counts["lines"] == BankLine.objects.count()
