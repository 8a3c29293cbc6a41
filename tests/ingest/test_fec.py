# ruff: noqa: E501  (FEC fixtures are long lines)
"""`relance import fec`: the French accounting export as customer accounts, documents, payments and lettering.

The two real FECs in shared/data/fec are loaded as they are; the rules are in docs/imports-fec-einvoice.md.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum

from relance.core.models import AuditEntry
from relance.core.money import from_db
from relance.ingest import fec
from relance.ingest.models import ImportRun
from relance.ledger import selectors
from relance.ledger import services as ledger
from relance.ledger.models import Allocation, Customer, Document, Payment
from relance.orgs import services as org_services
from tests.conftest import SHARED_DATA

DATA = SHARED_DATA / "fec"
FARM = DATA / "0000000001FEC20220831.txt"  # UTF-8 with BOM, 5,422 lines, 17 customer accounts
SHOP = DATA / "123456789FEC20500930.txt"  # UTF-8, CRLF CRLF, 10,756 lines, one collective 411 account


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, "--json", stdout=out, stderr=err)
    return json.loads(out.getvalue())


@pytest.fixture
def company(db):
    return org_services.company_add(actor="test", code="FEC1", name="Exploitation", country="FR", currency="EUR")


def total(qs, field="amount"):
    return from_db(qs.aggregate(s=Sum(field))["s"], "EUR")


def lettering_groups(path):
    """{(account, letter): [(debit - credit)]} from the file itself, independently of the importer."""
    text = path.read_bytes().decode("utf-8-sig")
    lines = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    header = lines[0].split("\t")
    groups = defaultdict(list)
    for raw in lines[1:]:
        row = dict(zip(header, raw.split("\t"), strict=False))
        if row["CompteNum"].startswith("411") and row["EcritureLet"]:
            net = Decimal(row["Debit"].replace(",", ".")) - Decimal(row["Credit"].replace(",", "."))
            groups[(row["CompAuxNum"] or row["CompteNum"], row["EcritureLet"])].append(net)
    return groups


# --- the real files ---------------------------------------------------------------------------------


def test_the_farm_fec_loads_field_by_field_and_its_totals_match_class_411(company):
    result = run("import", "fec", str(FARM), "--company", "FEC1")
    assert result["status"] == "loaded" and result["error_count"] == 0
    c = result["counts"]
    assert (c["lines"], c["entries"], c["rejected_entries"]) == (5422, 2033, 0)
    assert c["customers"] == {"created": 17, "existing": 0}
    assert c["documents"] == {"created": 409, "updated": 0, "unchanged": 0}  # 400 sales, 7 opening, 2 bank debits
    assert c["payments"] == {"created": 129, "updated": 0, "unchanged": 0}
    assert c["allocations"] == {"created": 372, "reversed": 0}
    # every euro on class 411 is somewhere: debits are invoices, credits are credit notes or payments
    t = result["totals"]
    assert (t["debit_411"], t["credit_411"]) == ("1185535.04", "1133017.80")
    assert (t["invoices"], t["credit_notes"], t["payments"]) == ("1185535.04", "18505.36", "1114512.44")
    docs = Document.objects.filter(company=company)
    assert total(docs.filter(type="invoice")) == Decimal("1185535.04")
    assert total(docs.filter(type="credit_note")) + total(Payment.objects.filter(company=company)) == Decimal(
        "1133017.80"
    )
    assert selectors.check_invariants() == []


def test_farm_customer_accounts_come_from_the_auxiliary_accounts_of_class_411(company):
    run("import", "fec", str(FARM), "--company", "FEC1")
    customers = Customer.objects.filter(company=company)
    assert customers.count() == 17
    laurent = customers.get(reference="CLAURE")
    assert (laurent.name, laurent.country, laurent.payment_terms_days) == ("LAURENT PRIMEURS", "FR", 30)
    assert customers.get(reference="CPRO00").name == "PROSOL GESTION"


def test_farm_invoices_and_credit_notes_come_from_sales_entries(company):
    run("import", "fec", str(FARM), "--company", "FEC1")
    # VEN 2: 411 debit 3122,80, 701 credit 2960,00, 44571 credit 162,80; lettered AABW with credit note VEN 1
    fa = Document.objects.get(number="FA  220001")
    assert (fa.type, fa.customer.reference, fa.amount, fa.tax_amount, fa.issue_date, fa.due_date, fa.source) == (
        "invoice",
        "CDISCO",
        Decimal("3122.80"),
        Decimal("162.80"),
        dt.date(2021, 9, 1),
        dt.date(2021, 10, 1),
        "fec",
    )
    av = Document.objects.get(number="AV  220002")
    assert (av.type, av.amount, av.open_amount) == ("credit_note", Decimal("3122.80"), Decimal("0"))
    assert fa.open_amount == 0 and fa.settled_on == dt.date(2021, 9, 1)
    assert Allocation.objects.get(target=fa).credit_note == av
    # VEN 284: not lettered, still open; due 30 days after its PieceDate (no terms in a FEC)
    open_one = Document.objects.get(number="FA  220272")
    assert (open_one.amount, open_one.tax_amount, open_one.open_amount, open_one.due_date) == (
        Decimal("8115.06"),
        Decimal("423.06"),
        Decimal("8115.06"),
        dt.date(2022, 5, 20),
    )
    # OD 39 credits 411 against 701 and 44571: a credit note outside the sales journal (found by content)
    od = Document.objects.get(number="fact 2021 gres impayée")
    assert (od.type, od.customer.reference, od.amount, od.tax_amount) == (
        "credit_note",
        "CPERR0",
        Decimal("94.95"),
        Decimal("4.95"),
    )


def test_farm_payments_come_from_treasury_entries_one_per_411_line(company):
    run("import", "fec", str(FARM), "--company", "FEC1")
    crc = Payment.objects.get(reference="CRC-8-1")  # CRC 8: 411 credit 2780,98 against 512
    assert (crc.customer.reference, crc.date, crc.amount, crc.method, crc.bank_reference) == (
        "CLAURE",
        dt.date(2021, 9, 3),
        Decimal("2780.98"),
        "transfer",
        "VIR LAURENT PRIMEURS 55129",
    )
    # RCH 22 (cheque remittance, 511 on its first line): two 411 lines, two payments named by their line
    rch = Payment.objects.filter(reference__startswith="RCH-22-").order_by("reference")
    assert [(p.reference, p.amount, p.method) for p in rch] == [
        ("RCH-22-2", Decimal("94.95"), "check"),
        ("RCH-22-3", Decimal("153.82"), "check"),
    ]
    # the cheques settle their lettered invoices, dated at the payment (the FEC has no DateLet)
    for number, letter_payment in (("FA  220278", "RCH-22-2"), ("FA  220254", "RCH-22-3"), ("FA  220124", "RCH-12-2")):
        invoice = Document.objects.get(number=number)
        assert invoice.open_amount == 0
        assert Allocation.objects.get(target=invoice).payment.reference == letter_payment
    assert Document.objects.get(number="FA  220124").settled_on == dt.date(2022, 1, 4)
    # a bank entry debiting 411 (a transfer sent back) is a debit item, settled by its lettering
    refund = Document.objects.get(number="CRC-162-1")
    assert (refund.type, refund.amount, refund.customer.reference) == ("invoice", Decimal("288.02"), "CLAURE")


def test_farm_opening_balances_are_open_items_dated_at_their_piece_date(company):
    run("import", "fec", str(FARM), "--company", "FEC1")
    opening = Document.objects.filter(number__startswith="ANO-1-").order_by("number")
    assert opening.count() == 7
    assert {d.issue_date for d in opening} == {dt.date(2021, 9, 1)}
    assert total(opening) == Decimal("59146.90")
    # they are not lettered in this FEC: they stay open, and the payments lettered with last year's
    # invoices stay unallocated, so the customer's balance nets to what the ledger says
    laurent = Customer.objects.get(reference="CLAURE")
    assert Document.objects.get(customer=laurent, number__startswith="ANO-").open_amount == Decimal("6135.88")


def test_every_lettered_group_is_settled_as_far_as_it_balances(company):
    run("import", "fec", str(FARM), "--company", "FEC1")
    groups = lettering_groups(FARM)
    assert len(groups) == 134
    items = fec.plan_fec(fec.parse_fec(FARM.read_bytes(), str(FARM)), currency="EUR").items
    by_group = defaultdict(list)
    for item in items:
        if item.letter:
            by_group[(item.customer_ref, item.letter)].append(item)
    balanced = 0
    for key, nets in groups.items():
        debit_open = credit_open = Decimal(0)
        for item in by_group[key]:
            if item.kind == "payment":
                credit_open += Payment.objects.get(reference=item.key).unallocated_amount
            elif item.kind == "credit_note":
                credit_open += Document.objects.get(number=item.key).open_amount
            else:
                debit_open += Document.objects.get(number=item.key).open_amount
        net = sum(nets, Decimal(0))
        # what is left open is exactly the group's imbalance, on its heavier side
        assert (debit_open, credit_open) == (max(net, Decimal(0)), max(-net, Decimal(0))), key
        balanced += net == 0
    assert balanced == 119
    # a partial lettering leaves the rest open: CRETAY's AACO group has two invoices and no payment
    assert Document.objects.get(number="FA  220301").open_amount == Decimal("100.33")


def test_reimporting_the_same_fec_changes_nothing(company):
    run("import", "fec", str(FARM), "--company", "FEC1")
    before = (
        Customer.objects.count(),
        Document.objects.count(),
        Payment.objects.count(),
        Allocation.objects.count(),
        AuditEntry.objects.count(),
        sorted(Document.objects.values_list("number", "open_amount", "due_date", "updated_at")),
    )
    result = run("import", "fec", str(FARM), "--company", "FEC1")
    c = result["counts"]
    assert c["documents"] == {"created": 0, "updated": 0, "unchanged": 409}
    assert c["payments"] == {"created": 0, "updated": 0, "unchanged": 129}
    assert c["allocations"] == {"created": 0, "reversed": 0}
    after = (
        Customer.objects.count(),
        Document.objects.count(),
        Payment.objects.count(),
        Allocation.objects.count(),
        AuditEntry.objects.count(),
        sorted(Document.objects.values_list("number", "open_amount", "due_date", "updated_at")),
    )
    assert before == after
    assert ImportRun.objects.filter(kind="fec").count() == 2


def test_the_shop_fec_with_one_collective_customer_account(company):
    result = run("import", "fec", str(SHOP), "--company", "FEC1")
    assert result["status"] == "loaded"
    assert (result["counts"]["lines"], result["counts"]["entries"]) == (10756, 4001)
    t = result["totals"]
    assert (t["debit_411"], t["credit_411"], t["invoices"], t["credit_notes"], t["payments"]) == (
        "130353.88",
        "2153.38",
        "130353.88",
        "2153.38",
        "0",
    )
    # no auxiliary account: the 411 account itself is the customer
    customer = Customer.objects.get(company=company)
    assert (customer.reference, customer.name) == ("411100000", "CLIENTS")
    # the opening item (ANO, PieceDate 2022-04-01) is lettered AAAF with the reversal in INV 15, DateLet 2022-08-30
    opening = Document.objects.get(number="ANO-ANO000000001-76")
    assert (opening.amount, opening.issue_date, opening.open_amount, opening.settled_on) == (
        Decimal("2153.38"),
        dt.date(2022, 4, 1),
        Decimal("0"),
        dt.date(2022, 8, 30),
    )
    assert Document.objects.get(number="EXT 5").type == "credit_note"
    # OD 95 and 96 credit class 7: invoices found by content in a miscellaneous journal, unlettered
    assert list(
        Document.objects.filter(number__in=["OD000000095", "OD000000096"])
        .order_by("number")
        .values_list("type", "amount", "open_amount", "issue_date")
    ) == [
        ("invoice", Decimal("75784.50"), Decimal("75784.50"), dt.date(2023, 4, 26)),
        ("invoice", Decimal("52416.00"), Decimal("52416.00"), dt.date(2023, 4, 26)),
    ]
    assert selectors.check_invariants() == []


# --- rules on small files ---------------------------------------------------------------------------

HEADER = "\t".join(fec.COLUMNS)


def line(
    journal,
    number,
    date,
    account,
    debit,
    credit,
    aux="",
    aux_label="",
    piece="",
    letter="",
    datelet="",
    label="libellé",
    sep="\t",
):
    journal_label = {"VE": "Ventes", "BQ": "Banque", "AN": "A nouveaux"}.get(journal, journal)
    return sep.join(
        [
            journal,
            journal_label,
            number,
            date,
            account,
            "compte",
            aux,
            aux_label,
            piece,
            date,
            label,
            debit,
            credit,
            letter,
            datelet,
            date,
            "",
            "",
        ]
    )


def write(tmp_path, rows, name="FEC.txt", encoding="utf-8", sep="\t"):
    path = tmp_path / name
    path.write_bytes(("\r\n".join([HEADER.replace("\t", sep), *rows]) + "\r\n").encode(encoding))
    return path


SALE = [
    line("VE", "1", "20260105", "411000", "1200,00", "0,00", "C1", "Client Un", "F1", letter="AA", datelet="20260121"),
    line("VE", "1", "20260105", "706000", "0,00", "1000,00", piece="F1"),
    line("VE", "1", "20260105", "445710", "0,00", "200,00", piece="F1"),
]
PAYMENT = [
    line("BQ", "7", "20260120", "411000", "0,00", "1200,00", "C1", "Client Un", "VIR", letter="AA", datelet="20260121"),
    line("BQ", "7", "20260120", "512000", "1200,00", "0,00", piece="VIR"),
]


def test_an_unbalanced_entry_refuses_the_file_naming_the_entry(company, tmp_path):
    bad = [
        line("VE", "2", "20260106", "411000", "500,00", "0,00", "C1", "Client Un", "F2"),
        line("VE", "2", "20260106", "706000", "0,00", "400,00", piece="F2"),
    ]
    path = write(tmp_path, [*SALE, *bad])
    with pytest.raises(CommandError, match="nothing was imported"):
        run("import", "fec", str(path), "--company", "FEC1")
    assert not Document.objects.exists() and not Customer.objects.exists()
    run_ = ImportRun.objects.get(kind="fec")
    assert run_.status == "refused"
    error = run_.errors[0]
    assert (error["row"], error["column"], error["value"]) == (5, "EcritureNum", "2")
    assert "entry VE 2 is unbalanced: debits 500,00 ≠ credits 400,00 (lines 5–6)" in error["reason"]


def test_partial_skips_the_unbalanced_entry_and_reports_it(company, tmp_path):
    bad = [
        line("VE", "2", "20260106", "411000", "500,00", "0,00", "C1", "Client Un", "F2"),
        line("VE", "2", "20260106", "706000", "0,00", "400,00", piece="F2"),
    ]
    result = run("import", "fec", str(write(tmp_path, [*SALE, *bad, *PAYMENT])), "--company", "FEC1", "--partial")
    assert result["status"] == "partial" and result["counts"]["rejected_entries"] == 1
    assert list(Document.objects.values_list("number", flat=True)) == ["F1"]
    assert Document.objects.get(number="F1").open_amount == 0
    assert result["errors"][0]["value"] == "2"


def test_unreadable_cells_name_the_line_and_column_and_refuse_their_entry(company, tmp_path):
    broken = [SALE[0].replace("20260105", "2026-13-45", 1), *SALE[1:]]
    with pytest.raises(CommandError):
        run("import", "fec", str(write(tmp_path, broken)), "--company", "FEC1")
    errors = ImportRun.objects.get(kind="fec").errors
    assert (errors[0]["row"], errors[0]["column"], errors[0]["value"]) == (2, "EcritureDate", "2026-13-45")
    assert "YYYYMMDD" in errors[0]["reason"]
    assert any(e["column"] == "EcritureNum" and "unreadable" in e["reason"] for e in errors)


def test_pipe_separated_windows_1252_with_decimal_commas(company, tmp_path):
    rows = [
        line(
            "VE", "1", "20260105", "411000", "1 234,56", "0,00", "C2", "Société Générale d'Électricité", "F9", sep="|"
        ),
        line("VE", "1", "20260105", "706000", "0,00", "1 234,56", piece="F9", sep="|"),
    ]
    run("import", "fec", str(write(tmp_path, rows, encoding="cp1252", sep="|")), "--company", "FEC1")
    doc = Document.objects.get(number="F9")
    assert (doc.amount, doc.tax_amount, doc.customer.name) == (
        Decimal("1234.56"),
        Decimal("0"),
        "Société Générale d'Électricité",
    )


def test_not_a_fec_is_refused_naming_the_missing_columns(company, tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("JournalCode;EcritureNum\nVE;1\n")
    with pytest.raises(CommandError, match="not a FEC file"):
        run("import", "fec", str(path), "--company", "FEC1")


def test_due_dates_follow_the_customer_payment_terms_and_keep_a_known_one(company, tmp_path):
    ledger.customer_upsert(
        actor="test", company=company, reference="C1", name="Client Un", country="FR", payment_terms_days=45
    )
    run("import", "fec", str(write(tmp_path, SALE)), "--company", "FEC1")
    doc = Document.objects.get(number="F1")
    assert doc.due_date == dt.date(2026, 2, 19)  # 2026-01-05 + 45 days
    ledger.document_upsert(
        actor="test",
        company=company,
        customer=doc.customer,
        number="F1",
        issue_date=doc.issue_date,
        due_date=dt.date(2026, 3, 31),
        currency="EUR",
        amount="1200.00",
        tax_amount="200.00",
    )
    result = run("import", "fec", str(write(tmp_path, SALE, "FEC2.txt")), "--company", "FEC1")
    assert result["counts"]["documents"]["unchanged"] == 1
    assert Document.objects.get(number="F1").due_date == dt.date(2026, 3, 31)
    assert Customer.objects.get(reference="C1").payment_terms_days == 45  # existing accounts are left as they are


def test_lettering_date_and_partial_lettering(company, tmp_path):
    partial = [
        line(
            "BQ", "8", "20260125", "411000", "0,00", "500,00", "C1", "Client Un", "VIR2", letter="b", datelet="20260130"
        ),
        line("BQ", "8", "20260125", "512000", "500,00", "0,00", piece="VIR2"),
    ]
    sale = [line("VE", "1", "20260105", "411000", "1200,00", "0,00", "C1", "Client Un", "F1", letter="b"), *SALE[1:]]
    run("import", "fec", str(write(tmp_path, [*sale, *partial])), "--company", "FEC1")
    doc = Document.objects.get(number="F1")
    assert doc.open_amount == Decimal("700.00")  # the rest stays open
    allocation = Allocation.objects.get()
    assert (allocation.amount, allocation.date, allocation.source) == (Decimal("500.00"), dt.date(2026, 1, 30), "fec")


def test_a_lettering_removed_in_a_later_export_reverses_the_allocation(company, tmp_path):
    run("import", "fec", str(write(tmp_path, [*SALE, *PAYMENT])), "--company", "FEC1")
    assert Document.objects.get(number="F1").open_amount == 0
    unlettered = [PAYMENT[0].replace("\tAA\t20260121\t", "\t\t\t"), PAYMENT[1]]
    result = run("import", "fec", str(write(tmp_path, [*SALE, *unlettered], "FEC2.txt")), "--company", "FEC1")
    assert result["counts"]["allocations"] == {"created": 0, "reversed": 1}
    assert Document.objects.get(number="F1").open_amount == Decimal("1200.00")
    assert Payment.objects.get(reference="BQ-7-1").unallocated_amount == Decimal("1200.00")
    assert selectors.check_invariants() == []


def test_a_file_named_for_another_siren_is_loaded_with_a_warning(db, tmp_path):
    org_services.company_add(actor="test", code="FR9", name="Autre", country="FR", currency="EUR", siren="552100554")
    path = write(tmp_path, SALE, "123456789FEC20260131.txt")
    result = run("import", "fec", str(path), "--company", "FR9")
    assert result["status"] == "loaded"
    assert result["warnings"] == [
        "the file name says SIREN 123456789 (SirenFECYYYYMMDD), but company FR9 has SIREN 552100554"
    ]


def test_an_unknown_company_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="Unknown company 'NOPE'"):
        run("import", "fec", str(write(tmp_path, SALE)), "--company", "NOPE")


def test_the_pure_plan_needs_no_database():
    parsed = fec.parse_fec(("\n".join([HEADER, *SALE, *PAYMENT]) + "\n").encode(), "mem.txt")
    plan = fec.plan_fec(parsed, currency="EUR")
    assert [(i.kind, i.key, i.amount, i.tax, i.letter) for i in plan.items] == [
        ("invoice", "F1", Decimal("1200.00"), Decimal("200.00"), "AA"),
        ("payment", "BQ-7-1", Decimal("1200.00"), Decimal("0"), "AA"),
    ]
    opens = {("document", "F1"): Decimal("1200.00"), ("payment", "BQ-7-1"): Decimal("1200.00")}
    assert fec.settle(plan.items, opens) == [
        fec.Settlement("C1", "AA", "F1", "payment", "BQ-7-1", Decimal("1200.00"), dt.date(2026, 1, 21))
    ]
    # a second run sees nothing open: nothing more to allocate
    assert fec.settle(plan.items, {("document", "F1"): Decimal(0), ("payment", "BQ-7-1"): Decimal(0)}) == []
