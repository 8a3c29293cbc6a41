# ruff: noqa: E501  (CSV fixtures are long lines)
"""Imports through `relance import`: canonical layouts, messy files, profiles, atomicity, idempotence."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from relance.core.models import AuditEntry
from relance.ingest.models import ImportRun
from relance.ledger import selectors
from relance.ledger.models import Allocation, Customer, Document, Payment
from relance.orgs import services as org_services
from tests.factories import AgencyFactory, CompanyFactory, UserFactory

CUSTOMERS = """company,customer_ref,name,country,vat_number,siren,sector,language,payment_terms_days,agency,collector_email,sales_rep_email,email,phone
FR1,C001,Boulangerie Martin,FR,,552100554,1071C,fr,30,PAR,alice@example.com,sam@example.com,compta@martin.fr,+33 1 23 45 67 89
FR1,C002,Garage Dupont,FR,FR96552100554,,4520A,fr,45,,,,,
FR1,C003,British Imports Ltd,GB,GB980780684,,,en,60,,,,ap@bil.co.uk,
"""
DOCUMENTS = """company,customer_ref,number,type,issue_date,due_date,currency,amount,tax_amount,corrects_number
FR1,C001,F2026-001,invoice,2026-03-01,2026-03-31,EUR,1200.00,200.00,
FR1,C001,F2026-002,invoice,2026-04-01,2026-05-01,EUR,600.00,100.00,
FR1,C001,AV2026-001,credit_note,2026-04-05,2026-04-05,EUR,120.00,20.00,F2026-001
FR1,C002,F2026-003,invoice,2026-04-10,2026-05-25,EUR,2400.00,400.00,
FR1,C003,F2026-004,invoice,2026-04-10,2026-06-09,GBP,999.99,166.67,
"""
PAYMENTS = """company,customer_ref,reference,date,currency,amount,invoice_number,allocated_amount
FR1,C001,VIR-001,2026-04-02,EUR,1500.00,F2026-001,1080.00
FR1,C001,VIR-001,2026-04-02,EUR,1500.00,F2026-002,420.00
FR1,C002,VIR-002,2026-05-20,EUR,1000.00,F2026-003,1000.00
FR1,C002,VIR-003,2026-05-21,EUR,50.00,,
"""


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, "--json", stdout=out, stderr=err)
    return json.loads(out.getvalue())


@pytest.fixture
def setup(db):
    fr = CompanyFactory(code="FR1", currency="EUR")
    AgencyFactory(company=fr, code="PAR")
    UserFactory(email="alice@example.com")
    UserFactory(email="sam@example.com", role="sales_rep")
    return fr


@pytest.fixture
def loaded(setup, tmp_path):
    run("import", "customers", str(write(tmp_path, "customers.csv", CUSTOMERS)))
    run("import", "documents", str(write(tmp_path, "documents.csv", DOCUMENTS)))
    run("import", "payments", str(write(tmp_path, "payments.csv", PAYMENTS)))
    return setup


def test_the_canonical_files_load_field_by_field(loaded):
    c1 = Customer.objects.get(reference="C001")
    assert (
        c1.name,
        c1.siren,
        c1.sector_code,
        c1.payment_terms_days,
        c1.agency.code,
        c1.collector.email,
        c1.sales_rep.email,
    ) == ("Boulangerie Martin", "552100554", "1071C", 30, "PAR", "alice@example.com", "sam@example.com")
    assert c1.main_contact.email == "compta@martin.fr" and c1.main_contact.phone == "+33 1 23 45 67 89"
    # same SIREN (given directly, or inside the VAT number): one legal entity
    assert Customer.objects.get(reference="C002").legal_entity_id == c1.legal_entity_id
    f1 = Document.objects.get(number="F2026-001")
    assert (f1.amount, f1.tax_amount, f1.issue_date, f1.due_date, f1.currency) == (
        Decimal("1200.00"),
        Decimal("200.00"),
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 31),
        "EUR",
    )
    credit = Document.objects.get(number="AV2026-001")
    assert credit.type == "credit_note" and credit.corrects_id == f1.pk
    vir = Payment.objects.get(reference="VIR-001")
    assert vir.amount == Decimal("1500.00") and vir.unallocated_amount == 0
    assert f1.__class__.objects.get(pk=f1.pk).open_amount == Decimal("120.00")
    assert Document.objects.get(number="F2026-002").open_amount == Decimal("180.00")
    assert Payment.objects.get(reference="VIR-003").unallocated_amount == Decimal("50.00")
    assert Document.objects.get(number="F2026-004").currency == "GBP"
    assert selectors.check_invariants() == []


def test_reimporting_the_same_files_changes_nothing(loaded, tmp_path):
    before = (
        Customer.objects.count(),
        Document.objects.count(),
        Payment.objects.count(),
        Allocation.objects.count(),
        AuditEntry.objects.count(),
    )
    for kind, name in (("customers", "customers.csv"), ("documents", "documents.csv"), ("payments", "payments.csv")):
        result = run("import", kind, str(tmp_path / name))
        assert result["counts"]["created"] == 0 and result["counts"]["updated"] == 0, result
    after = (
        Customer.objects.count(),
        Document.objects.count(),
        Payment.objects.count(),
        Allocation.objects.count(),
        AuditEntry.objects.count(),
    )
    assert before == after


def test_a_changed_row_updates_its_record_and_the_audit_keeps_before_and_after(loaded, tmp_path):
    changed = DOCUMENTS.replace("2026-05-01,EUR,600.00", "2026-05-15,EUR,600.00")
    result = run("import", "invoices", str(write(tmp_path, "documents2.csv", changed)))
    assert result["counts"] == {"read": 5, "created": 0, "updated": 1, "unchanged": 4, "rejected": 0}
    entry = AuditEntry.objects.filter(action="document.update").get()
    assert entry.changes == {"due_date": ["2026-05-01", "2026-05-15"]}


def test_an_amount_below_what_is_allocated_is_refused(loaded, tmp_path):
    changed = DOCUMENTS.replace("2026-03-31,EUR,1200.00,200.00", "2026-03-31,EUR,1000.00,200.00")
    with pytest.raises(CommandError, match="nothing was imported"):
        run("import", "documents", str(write(tmp_path, "d.csv", changed)))
    run_ = ImportRun.objects.latest("started_at")
    assert run_.status == "refused"
    assert "already allocated" in run_.errors[0]["reason"] and run_.errors[0]["row"] == 2


def test_a_broken_file_leaves_the_database_unchanged_and_names_row_and_column(setup, tmp_path):
    run("import", "customers", str(write(tmp_path, "customers.csv", CUSTOMERS)))
    broken = DOCUMENTS.replace("2026-04-10,2026-05-25,EUR,2400.00", "2026-04-10,2026-05-25,EUR,-2400.00")
    broken = broken.replace("FR1,C003,", "FR1,C999,")
    path = write(tmp_path, "documents.csv", broken)
    with pytest.raises(CommandError):
        run("import", "documents", str(path))
    assert not Document.objects.exists()
    errors = ImportRun.objects.latest("started_at").errors
    assert [(e["row"], e["column"]) for e in errors] == [(5, "amount"), (6, "customer_ref")]
    assert errors[0]["value"] == "-2400.00" and str(path) == errors[0]["file"]


def test_partial_loads_the_valid_rows_and_writes_the_rejects_next_to_the_file(setup, tmp_path):
    run("import", "customers", str(write(tmp_path, "customers.csv", CUSTOMERS)))
    broken = DOCUMENTS.replace("FR1,C003,", "FR1,C999,")
    path = write(tmp_path, "documents.csv", broken)
    result = run("import", "documents", str(path), "--partial")
    assert result["status"] == "partial" and result["counts"]["created"] == 4 and result["counts"]["rejected"] == 1
    rejects = list(csv.reader((tmp_path / "documents.csv.rejects.csv").open(encoding="utf-8"), delimiter=";"))
    assert rejects[0][0] == "row" and rejects[0][-1] == "errors"
    assert rejects[1][0] == "6" and rejects[1][3] == "F2026-004" and "unknown customer" in rejects[1][-1]
    assert len(rejects) == 2


def test_windows_1252_semicolons_and_decimal_commas(setup, tmp_path):
    text = (
        "company;customer_ref;name;country;language;payment_terms_days\n"
        "FR1;C100;Société Générale d'Électricité;FR;fr;30\n"
    )
    run("import", "customers", str(write(tmp_path, "c.csv", text, "cp1252")))
    docs = (
        "company;customer_ref;number;type;issue_date;due_date;currency;amount;tax_amount\n"
        "FR1;C100;F1;invoice;2026-03-01;2026-03-31;EUR;1 234,56;205,76\n"
    )
    run("import", "documents", str(write(tmp_path, "d.csv", docs, "cp1252")))
    assert Customer.objects.get().name == "Société Générale d'Électricité"
    assert Document.objects.get().amount == Decimal("1234.56")


def test_xlsx_files_load_like_csv(setup, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["company", "customer_ref", "name", "country"])
    ws.append(["FR1", "X1", "Excel Client", "FR"])
    path = tmp_path / "customers.xlsx"
    wb.save(path)
    run("import", "customers", str(path))
    wb = Workbook()
    ws = wb.active
    ws.append(["customer_ref", "number", "type", "issue_date", "due_date", "currency", "amount"])
    ws.append(["X1", 4711, "invoice", dt.datetime(2026, 3, 1), dt.date(2026, 3, 31), "EUR", 99.9])
    path = tmp_path / "documents.xlsx"
    wb.save(path)
    run("import", "documents", str(path), "--company", "FR1")
    doc = Document.objects.get()
    assert (doc.number, doc.amount, doc.issue_date) == ("4711", Decimal("99.90"), dt.date(2026, 3, 1))


SAGE_EXPORT = """Code tiers;Raison sociale;N° pièce;Type pièce;Date pièce;Date échéance;Devise;Montant TTC;Montant TVA
C001;Boulangerie Martin;FA000123;FA;01/03/2026;31/03/2026;EUR;1.200,00;200,00
C001;Boulangerie Martin;AV000007;AV;05/03/2026;05/03/2026;EUR;120,00;20,00
"""
SAGE_PROFILE = """name: sage-ventes
kind: documents
columns:
  customer_ref: Code tiers
  number: N° pièce
  type: Type pièce
  issue_date: Date pièce
  due_date: Date échéance
  currency: Devise
  amount: Montant TTC
  tax_amount: Montant TVA
date_format: "%d/%m/%Y"
decimal_separator: ","
type_values: {FA: invoice, AV: credit_note}
defaults: {company: FR1}
"""


def test_an_erp_export_loads_unedited_through_a_saved_mapping_profile(setup, tmp_path):
    run("import", "customers", str(write(tmp_path, "customers.csv", CUSTOMERS)))
    run("profile", "save", str(write(tmp_path, "sage.yaml", SAGE_PROFILE)))
    result = run(
        "import", "documents", str(write(tmp_path, "ventes.csv", SAGE_EXPORT, "cp1252")), "--profile", "sage-ventes"
    )
    assert result["counts"]["created"] == 2
    fa = Document.objects.get(number="FA000123")
    assert (fa.type, fa.amount, fa.tax_amount, fa.issue_date, fa.due_date) == (
        "invoice",
        Decimal("1200.00"),
        Decimal("200.00"),
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 31),
    )
    assert Document.objects.get(number="AV000007").type == "credit_note"
    bad = SAGE_EXPORT.replace("31/03/2026", "2026-03-31")
    with pytest.raises(CommandError):
        run("import", "documents", str(write(tmp_path, "bad.csv", bad, "cp1252")), "--profile", "sage-ventes")
    error = ImportRun.objects.latest("started_at").errors[0]
    assert error["column"] == "Date échéance" and error["row"] == 2 and "%d/%m/%Y" in error["reason"]


def test_a_missing_required_column_is_named(setup, tmp_path):
    with pytest.raises(CommandError, match="missing column.s. due_date"):
        run(
            "import",
            "documents",
            str(write(tmp_path, "d.csv", "company,customer_ref,number,type,issue_date,currency,amount\n")),
        )


def test_the_lettering_of_a_reimported_payment_is_replaced_by_reversal(loaded, tmp_path):
    moved = PAYMENTS.replace("F2026-001,1080.00", "F2026-001,900.00").replace("F2026-002,420.00", "F2026-002,600.00")
    result = run("import", "payments", str(write(tmp_path, "p2.csv", moved)))
    assert result["counts"]["updated"] == 1
    assert Allocation.objects.filter(reverses__isnull=False).count() == 2
    assert Document.objects.get(number="F2026-002").open_amount == 0
    assert selectors.check_invariants() == []


def test_rows_of_one_payment_must_agree_and_not_overallocate(loaded, tmp_path):
    bad = PAYMENTS.replace(
        "FR1,C001,VIR-001,2026-04-02,EUR,1500.00,F2026-002", "FR1,C001,VIR-001,2026-04-02,EUR,1600.00,F2026-002"
    )
    with pytest.raises(CommandError):
        run("import", "payments", str(write(tmp_path, "p.csv", bad)))
    assert "differs from its first row" in ImportRun.objects.latest("started_at").errors[0]["reason"]
    over = (
        "company,customer_ref,reference,date,currency,amount,invoice_number,allocated_amount\n"
        "FR1,C002,VIR-9,2026-05-20,EUR,100.00,F2026-003,60\nFR1,C002,VIR-9,2026-05-20,EUR,100.00,F2026-003,60\n"
    )
    with pytest.raises(CommandError):
        run("import", "payments", str(write(tmp_path, "p3.csv", over)))


def test_an_unknown_profile_or_company_is_refused_before_reading(setup, tmp_path):
    path = write(tmp_path, "c.csv", CUSTOMERS)
    with pytest.raises(CommandError, match="Unknown mapping profile 'nope'"):
        run("import", "customers", str(path), "--profile", "nope")
    with pytest.raises(CommandError, match="Unknown company 'XX'"):
        run("import", "customers", str(path), "--company", "XX")
    assert not ImportRun.objects.exists()


def test_imports_are_audited_with_the_acting_user(setup, tmp_path):
    user = UserFactory(email="ops@example.com", role="admin")
    from relance.ingest import services

    services.import_file(actor=user, kind="customers", path=write(tmp_path, "c.csv", CUSTOMERS))
    assert AuditEntry.objects.filter(actor=user, action="customer.create").count() == 3
    assert org_services  # the org services stay importable alongside


def test_a_snapshot_lists_what_is_missing_and_closes_it_once_confirmed(loaded, tmp_path):
    # F2026-002 (open 180.00) and F2026-004 are left out of a file declared complete for FR1
    complete = "\n".join(line for line in DOCUMENTS.splitlines() if "F2026-002" not in line and "F2026-004" not in line)
    path = write(tmp_path, "snapshot.csv", complete + "\n")
    result = run("import", "documents", str(path), "--company", "FR1", "--snapshot")
    assert result["snapshot"]["missing"] == 2 and result["snapshot"]["closed"] == 0
    assert sorted(result["snapshot"]["missing_numbers"]) == ["F2026-002", "F2026-004"]
    missing = list(csv.reader((tmp_path / "snapshot.csv.missing.csv").open(encoding="utf-8")))
    assert missing[0][0] == "number" and {r[0] for r in missing[1:]} == {"F2026-002", "F2026-004"}
    assert Document.objects.get(number="F2026-002").open_amount == Decimal("180.00")  # listed, not closed
    result = run("import", "documents", str(path), "--company", "FR1", "--snapshot", "--confirm")
    assert result["snapshot"]["closed"] == 2
    closed = Document.objects.get(number="F2026-002")
    assert closed.open_amount == 0 and closed.settled_on == dt.date(2026, 6, 30)
    closure = Allocation.objects.get(target=closed, source="source_closure")
    assert closure.payment_id is None and closure.credit_note_id is None and closure.amount == Decimal("180.00")
    assert selectors.check_invariants() == []
    # the full file again: both come back open
    result = run("import", "documents", str(tmp_path / "documents.csv"), "--company", "FR1", "--snapshot", "--confirm")
    assert result["snapshot"]["reopened"] == 2 and result["snapshot"]["missing"] == 0
    assert Document.objects.get(number="F2026-002").open_amount == Decimal("180.00")
    assert selectors.check_invariants() == []


def test_snapshot_needs_a_company_and_documents(setup, tmp_path):
    path = write(tmp_path, "d.csv", DOCUMENTS)
    with pytest.raises(CommandError, match="needs --company"):
        run("import", "documents", str(path), "--snapshot")
    with pytest.raises(CommandError, match="--confirm goes with --snapshot"):
        run("import", "documents", str(path), "--confirm")


def test_an_erp_payment_that_cash_application_already_booked_is_not_counted_twice(loaded, tmp_path):
    from relance.ingest.models import PaymentAlias
    from relance.ledger import services as ledger

    c2 = Customer.objects.get(reference="C002")
    invoice = Document.objects.get(number="F2026-003")  # 2400.00, 1000.00 paid by VIR-002: 1400.00 open
    bank, _ = ledger.payment_upsert(
        actor="cashapp",
        company=loaded,
        customer=c2,
        reference="BANK-7f3a",
        date=dt.date(2026, 6, 2),
        currency="EUR",
        amount="1400.00",
        bank_reference="NOTPROVIDED/VIR ERP-2026-118",
        payer_name="GARAGE DUPONT",
        source="cashapp",
    )
    ledger.allocation_create(
        actor="cashapp", target=invoice, payment=bank, amount="1400.00", date=dt.date(2026, 6, 2), source="cashapp"
    )
    erp = (
        "company,customer_ref,reference,date,currency,amount,invoice_number,allocated_amount\n"
        "FR1,C002,ERP-2026-118,2026-06-04,EUR,1400.00,F2026-003,1400.00\n"  # the same cash, seen by the ERP
        "FR1,C002,ERP-2026-119,2026-06-04,EUR,1400.00,,\n"
    )  # other cash, same amount: no match
    path = write(tmp_path, "erp-payments.csv", erp)
    result = run("import", "payments", str(path))
    assert result["counts"]["recognised"] == 1 and result["counts"]["created"] == 1
    assert not Payment.objects.filter(reference="ERP-2026-118").exists()
    assert PaymentAlias.objects.get(reference="ERP-2026-118").payment_id == bank.pk
    assert Payment.objects.get(reference="ERP-2026-119").unallocated_amount == Decimal("1400.00")
    invoice.refresh_from_db()
    assert invoice.open_amount == 0
    assert AuditEntry.objects.filter(action="payment.recognised", object_id=str(bank.pk)).count() == 1
    again = run("import", "payments", str(path))
    assert again["counts"]["created"] == 0 and again["counts"]["unchanged"] == 2
    assert selectors.check_invariants() == []


def test_no_recognition_without_a_matching_reference_or_invoices_or_too_far_apart(loaded, tmp_path):
    from relance.ledger import services as ledger

    c2 = Customer.objects.get(reference="C002")
    ledger.payment_upsert(
        actor="cashapp",
        company=loaded,
        customer=c2,
        reference="BANK-1",
        date=dt.date(2026, 6, 2),
        currency="EUR",
        amount="300.00",
        bank_reference="SOMETHING ELSE",
        source="cashapp",
    )
    erp = (
        "company,customer_ref,reference,date,currency,amount,invoice_number,allocated_amount\n"
        "FR1,C002,ERP-9001,2026-06-03,EUR,300.00,,\n"
        "FR1,C002,BANK-1X,2026-06-30,EUR,300.00,,\n"
    )
    result = run("import", "payments", str(write(tmp_path, "p.csv", erp)))
    assert result["counts"]["created"] == 2 and "recognised" not in result["counts"]
