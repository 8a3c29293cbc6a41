"""The set-based loaders against the ledger services they replaced: same rows, same errors, same audit.

The reference below is the former record-by-record path (the ledger services, one savepoint per record),
kept as the oracle. Each scenario runs through it, is captured and rolled back, then runs through the
set-based loader: the two must leave the same database (rows compared field by field, the ids of new rows
by creation order, timestamps by whether they moved), the same row errors and the same counts.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from relance.channels import services as channels
from relance.channels.models import WebhookEvent
from relance.core import clock, errors
from relance.core.models import AuditEntry
from relance.ingest import loaders, services
from relance.ingest.loaders import FIELD_COLUMNS, Context, _PaymentGroup
from relance.ingest.rows import PARSERS, CustomerRecord, PaymentRecord, Profile, Row, RowError, fast_parser
from relance.ledger import selectors
from relance.ledger import services as ledger_services
from relance.ledger.models import Allocation, Contact, Customer, Document, LegalEntity, Payment
from relance.orgs.models import Agency, User
from tests.factories import AgencyFactory, CompanyFactory, ContactFactory, CustomerFactory, DocumentFactory, UserFactory

# --- the oracle: the former per-record loaders, verbatim but for their imports ---------------------------


def reference_load_customers(ctx: Context, records: list[CustomerRecord]) -> list[RowError]:
    problems: list[RowError] = []
    agencies = {
        a.code: a for a in Agency.objects.filter(code__in={r.data.get("agency", "").upper() for r in records} - {""})
    }
    emails = {r.data.get(k, "").lower() for r in records for k in ("collector", "sales_rep")} - {""}
    users = {u.email: u for u in User.objects.filter(email__in=emails)}
    seen: dict[tuple[str, str], int] = {}
    for rec in records:
        company = loaders._company_or_error(ctx, rec, problems)
        if company is None:
            continue
        key = (rec.company, rec.reference)
        if key in seen:
            problems.append(
                ctx.error(
                    rec.row, "customer_ref", rec.reference, f"appears twice in the file (first at row {seen[key]})"
                )
            )
            continue
        seen[key] = rec.row
        data = dict(rec.data)
        if "agency" in data:
            code = data["agency"].upper()
            data["agency"] = agencies.get(code) if code else None
            if code and data["agency"] is None:
                problems.append(ctx.error(rec.row, "agency", code, "unknown agency"))
                continue
        for role in ("collector", "sales_rep"):
            if role in data:
                email = data[role].lower()
                data[role] = users.get(email) if email else None
                if email and data[role] is None:
                    problems.append(ctx.error(rec.row, f"{role}_email", email, "unknown user"))
                    break
        else:
            try:
                with transaction.atomic():
                    customer, status = ledger_services.customer_upsert(
                        actor=ctx.actor, company=company, reference=rec.reference, **data
                    )
                    if rec.email or rec.phone:
                        main = customer.contacts.filter(is_main_ap=True).first()
                        if main is None or main.email != rec.email.lower() or (rec.phone and main.phone != rec.phone):
                            ledger_services.contact_upsert(
                                actor=ctx.actor, customer=customer, email=rec.email, phone=rec.phone, is_main_ap=True
                            )
                            status = "updated" if status == "unchanged" else status
            except errors.ValidationError as exc:
                column = FIELD_COLUMNS.get(exc.field or "", exc.field or "")
                problems.append(ctx.error(rec.row, column, str(rec.data.get(column, "")), exc.message))
                continue
            ctx.counts[status] += 1
    return problems


def reference_load_payments(ctx: Context, records: list[PaymentRecord]) -> list[RowError]:
    problems: list[RowError] = []
    groups: dict[tuple[str, str], _PaymentGroup] = {}
    for rec in records:
        key = (rec.company, rec.reference)
        group = groups.get(key)
        if group is None:
            groups[key] = _PaymentGroup(rec, [rec])
            continue
        first = group.first
        if (rec.amount, rec.currency, rec.date, rec.customer_ref) != (
            first.amount,
            first.currency,
            first.date,
            first.customer_ref,
        ):
            problems.append(
                ctx.error(
                    rec.row,
                    "amount",
                    str(rec.amount),
                    f"payment {rec.reference} differs from its first row {first.row} "
                    "(amount, currency, date and customer are repeated on each row)",
                )
            )
            continue
        group.rows.append(rec)
    for group in groups.values():
        problem = _reference_load_payment(ctx, group)
        if problem:
            problems.extend(problem)
    ctx.flush_audit()
    return problems


def _reference_load_payment(ctx: Context, group: _PaymentGroup) -> list[RowError]:
    rec = group.first
    company = ctx.company(rec.company)
    if company is None:
        return [ctx.error(rec.row, "company", rec.company, "unknown company")]
    customer = None
    if rec.customer_ref:
        customer = Customer.objects.filter(company=company, reference=rec.customer_ref).first()
        if customer is None:
            return [ctx.error(rec.row, "customer_ref", rec.customer_ref, f"unknown customer in company {company.code}")]
    wanted: list[tuple[PaymentRecord, Document]] = []
    problems = []
    for row in group.rows:
        if not row.invoice_number:
            continue
        doc = Document.objects.filter(company=company, number=row.invoice_number).first()
        if doc is None:
            problems.append(ctx.error(row.row, "invoice_number", row.invoice_number, "unknown invoice"))
            continue
        if customer is None:
            customer = doc.customer
        if doc.customer_id != customer.pk:
            problems.append(
                ctx.error(
                    row.row,
                    "invoice_number",
                    row.invoice_number,
                    f"belongs to customer {doc.customer.reference}, not {customer.reference}",
                )
            )
            continue
        wanted.append((row, doc))
    if problems:
        return problems
    total = sum((r.allocated_amount or Decimal(0) for r, _ in wanted), Decimal(0))
    if total > rec.amount:
        return [
            ctx.error(
                group.rows[-1].row,
                "allocated_amount",
                str(total),
                f"the rows of payment {rec.reference} allocate {total}, more than its amount {rec.amount}",
            )
        ]
    existing = Payment.objects.filter(company=company, reference=rec.reference).first()
    if existing is not None and existing.updated_at >= ctx.started_at:
        return [
            ctx.error(
                rec.row,
                "reference",
                rec.reference,
                "appears again further down the file: keep the rows of one payment together",
            )
        ]
    live = []
    if existing is not None:
        live = list(Allocation.objects.filter(payment=existing, reverses__isnull=True, reversed_by__isnull=True))
    lettering_changed = existing is None or (
        sorted((a.target_id, a.amount) for a in live) != sorted((d.pk, r.allocated_amount) for r, d in wanted)
    )
    try:
        with transaction.atomic():
            if existing is not None and lettering_changed:
                for allocation in live:
                    ledger_services.allocation_reverse(
                        actor=ctx.actor, allocation=allocation, date=rec.date, reason=f"lettering changed in {ctx.file}"
                    )
            payment, status = ledger_services.payment_upsert(
                actor=ctx.actor,
                company=company,
                customer=customer,
                reference=rec.reference,
                date=rec.date,
                currency=rec.currency,
                amount=rec.amount,
                source=ctx.source,
            )
            if lettering_changed:
                for row, doc in wanted:
                    ledger_services.allocation_create(
                        actor=ctx.actor,
                        target=doc,
                        payment=payment,
                        amount=row.allocated_amount,
                        date=rec.date,
                        source=ctx.source,
                    )
                status = "updated" if status == "unchanged" else status
    except errors.ValidationError as exc:
        column = FIELD_COLUMNS.get(exc.field or "", exc.field or "")
        column = "allocated_amount" if column == "amount" and wanted else column
        return [ctx.error(rec.row, column, "", exc.message)]
    ctx.counts[status] += 1
    return []


# --- capturing a database state, ids of new rows by creation order ---------------------------------------

TABLES = {
    "payment": Payment,
    "allocation": Allocation,
    "customer": Customer,
    "contact": Contact,
    "entity": LegalEntity,
    "document": Document,
}
FOREIGN = {"customer_id": "customer", "payment_id": "payment", "reverses_id": "allocation",
           "legal_entity_id": "entity", "target_id": "document", "credit_note_id": "document"}  # fmt: skip
ID_KEYS = {"customer": "customer", "legal_entity": "entity", "reverses": "allocation", "payment": "payment"}
OBJECT_TABLES = {"ledger.payment": "payment", "ledger.allocation": "allocation", "ledger.customer": "customer",
                 "ledger.contact": "contact", "ledger.document": "document"}  # fmt: skip


def ids_now() -> dict[str, set[int]]:
    return {name: set(model.objects.values_list("pk", flat=True)) for name, model in TABLES.items()}


def capture(before: dict[str, set[int]], audit_after: int, started: dt.datetime) -> dict[str, Any]:
    idmap: dict[str, dict[int, str]] = {}
    for name, model in TABLES.items():
        new = sorted(set(model.objects.values_list("pk", flat=True)) - before[name])
        idmap[name] = {pk: f"new {name} #{rank}" for rank, pk in enumerate(new)}

    def m(table: str, value: Any) -> Any:
        return idmap[table].get(value, value) if isinstance(value, int) else value

    state: dict[str, Any] = {}
    for name, model in TABLES.items():
        rows = []
        for obj in model.objects.order_by("pk"):
            row: dict[str, Any] = {"pk": m(name, obj.pk)}
            for f in model._meta.concrete_fields:
                if f.primary_key or f.name in ("created_at", "updated_at"):
                    continue
                value = getattr(obj, f.attname)
                row[f.name] = m(FOREIGN[f.attname], value) if f.attname in FOREIGN else value
            if hasattr(obj, "updated_at"):
                row["moved"] = obj.updated_at >= started
            rows.append(row)
        state[name] = rows
    audit_rows = []
    for entry in AuditEntry.objects.filter(pk__gt=audit_after).order_by("pk"):
        table = OBJECT_TABLES.get(entry.object_type, "")
        repr_ = re.sub(r"payment (\d+)", lambda g: f"payment {m('payment', int(g[1]))}", entry.object_repr)
        repr_ = re.sub(r"document (\d+)", lambda g: f"document {m('document', int(g[1]))}", repr_)
        audit_rows.append(
            (
                entry.actor_id,
                entry.actor_label,
                entry.action,
                entry.object_type,
                m(table, int(entry.object_id)) if table else entry.object_id,
                repr_,
                m("customer", entry.customer_id),
                entry.company_id,
                _map_changes(entry.changes, table, m),
                entry.message,
            )
        )
    state["audit"] = audit_rows
    return state


def _map_changes(changes: dict[str, Any], table: str, m: Callable[[str, Any], Any]) -> dict[str, Any]:
    out = {}
    for key, value in changes.items():
        target = table if key == "id" else ID_KEYS.get(key)
        if target:
            value = [m(target, v) for v in value] if isinstance(value, list) else m(target, value)
        out[key] = value
    return out


def same_as_reference(
    loader: Callable[[Context, list[Any]], list[RowError]],
    reference: Callable[[Context, list[Any]], list[RowError]],
    records: list[Any],
    *,
    actor: Any = "cli",
    batches: int = 1,
    summarised: tuple[str, ...] = (),
) -> tuple[Context, list[RowError]]:
    """Run ``records`` through the reference (rolled back), then the loader (kept); assert the same outcome.

    ``summarised``: audit actions the loader leaves to the import's own audit row (creations).
    """
    before = ids_now()
    audit_after = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    outcomes = []
    for run, rollback in ((reference, True), (loader, False)):
        sid = transaction.savepoint()
        ctx = Context(actor=actor, file="f.csv", source="import", started_at=clock.now())
        size = -(-len(records) // batches) if records else 1
        found = [e for start in range(0, len(records), size) for e in run(ctx, records[start : start + size])]
        outcomes.append((ctx, found, capture(before, audit_after, ctx.started_at)))
        if rollback:
            transaction.savepoint_rollback(sid)
        else:
            transaction.savepoint_commit(sid)
    (_, ref_errors, ref_state), (ctx, new_errors, new_state) = outcomes
    ref_state["audit"] = [row for row in ref_state["audit"] if row[2] not in summarised]
    assert [str(e) for e in new_errors] == [str(e) for e in ref_errors]
    assert dict(ctx.counts) == dict(outcomes[0][0].counts)
    for table in ref_state:
        assert new_state[table] == ref_state[table], table
    assert selectors.check_invariants() == []
    return ctx, new_errors


def same_as_payment_services(records: list[PaymentRecord], **kw: Any) -> tuple[Context, list[RowError]]:
    """Payments: creations (payment.create, allocation.create) are summarised by the import's audit row."""
    return same_as_reference(loaders.load_payments, reference_load_payments, records, summarised=CREATIONS, **kw)


CREATIONS = ("payment.create", "allocation.create")


# --- a small ledger --------------------------------------------------------------------------------------


@pytest.fixture
def ledger(db):
    fr = CompanyFactory(code="FR1", currency="EUR")
    customers = {ref: CustomerFactory(company=fr, reference=ref) for ref in ("C1", "C2", "C3")}
    docs = {}
    for n, (ref, amount) in enumerate([("C1", "100.00"), ("C1", "250.00"), ("C1", "80.00"), ("C2", "300.00"),
                                       ("C2", "40.00"), ("C3", "999.99")]):  # fmt: skip
        docs[f"F{n}"] = DocumentFactory(customer=customers[ref], number=f"F{n}", amount=Decimal(amount), tax_amount=0)
    docs["AV1"] = DocumentFactory(customer=customers["C1"], number="AV1", type="credit_note", amount=Decimal("10"),
                                  tax_amount=0)  # fmt: skip
    docs["G1"] = DocumentFactory(customer=customers["C2"], number="G1", currency="GBP", amount=Decimal("70.00"),
                                 tax_amount=0)  # fmt: skip
    return fr


def pay(row: int, reference: str, amount: str, invoice: str = "", allocated: str | None = None, **kw: Any):
    values = {"company": "FR1", "customer_ref": "", "date": dt.date(2026, 6, 1), "currency": "EUR"}
    values.update(kw)
    share = Decimal(allocated) if allocated is not None else (Decimal(amount) if invoice else None)
    return PaymentRecord(row, values["company"], values["customer_ref"], reference, values["date"],
                         values["currency"], Decimal(amount), invoice, share)  # fmt: skip


class TestPaymentsAsTheServices:
    def test_new_payments_split_unallocated_and_derived_customers(self, ledger):
        records = [
            pay(2, "V1", "150.00", "F0", "100.00", customer_ref="C1"),
            pay(3, "V1", "150.00", "F1", "50.00", customer_ref="C1"),
            pay(4, "V2", "30.00", "F3"),  # no customer_ref: the invoice's customer
            pay(5, "V3", "12.34", customer_ref="C3"),  # unallocated cash
            pay(6, "V4", "5.00"),  # unidentified payer
        ]
        ctx, problems = same_as_payment_services(records)
        assert problems == [] and ctx.counts["created"] == 4
        assert Document.objects.get(number="F0").open_amount == 0
        assert Document.objects.get(number="F0").settled_on == dt.date(2026, 6, 1)

    def test_every_refusal_names_the_same_row_column_and_reason(self, ledger):
        records = [
            pay(2, "E1", "50.00", "NOPE", customer_ref="C1"),  # unknown invoice
            pay(3, "E2", "50.00", "F3", customer_ref="C1"),  # another customer's invoice
            pay(4, "E3", "50.00", "F0", "30", customer_ref="C9"),  # unknown customer
            pay(5, "E4", "100.00", "F0", "60"),
            pay(6, "E4", "100.00", "F1", "60"),  # the rows allocate more than the payment
            pay(7, "E5", "500.00", "F2", "90"),  # more than the invoice's open amount
            pay(8, "E6", "10.00", "AV1", "10"),  # a credit note is no target
            pay(9, "E7", "70.00", "G1", "70"),  # GBP invoice, EUR payment
            pay(10, "E8", "20.00", "F4", "20"),
            pay(11, "E8", "21.00", "F4", "1"),  # disagrees with its first row
            pay(12, "E9", "10.00", company="ZZ"),  # unknown company
            pay(13, "E10", "40.00", "F4", "40"),  # F4 fully paid by E8 just before: over the open amount
        ]
        _, problems = same_as_payment_services(records)
        assert len(problems) == 10
        assert Payment.objects.filter(reference="E8").exists() and not Payment.objects.filter(reference="E10").exists()

    def test_reimporting_the_same_lettering_changes_nothing_and_a_new_lettering_is_reversed(self, ledger):
        first = [
            pay(2, "R1", "300.00", "F0", "100.00", customer_ref="C1"),
            pay(3, "R1", "300.00", "F1", "200.00", customer_ref="C1"),
            pay(4, "R2", "40.00", "F4", "40.00"),
        ]
        same_as_payment_services(first)
        ctx, _ = same_as_payment_services(first)
        assert ctx.counts["unchanged"] == 2
        moved = [
            pay(2, "R1", "300.00", "F1", "250.00", customer_ref="C1"),
            pay(3, "R1", "300.00", "F2", "50.00", customer_ref="C1"),
            pay(4, "R2", "45.00", "F4", "40.00"),  # amount changed, same lettering: an update, no reversal
        ]
        ctx, problems = same_as_payment_services(moved)
        assert problems == [] and ctx.counts["updated"] == 2
        assert Allocation.objects.filter(reverses__isnull=False).count() == 2
        assert Document.objects.get(number="F0").open_amount == Decimal("100.00")
        assert Document.objects.get(number="F0").settled_on is None

    def test_updates_the_services_refuse_are_refused_the_same(self, ledger):
        same_as_payment_services([pay(2, "U1", "100.00", "F1", "100.00", customer_ref="C1")])
        records = [pay(2, "U1", "100.00", "F1", "100.00", customer_ref="C1", currency="GBP")]
        _, problems = same_as_payment_services(records)
        assert "cannot change" in problems[0].reason  # allocated: its currency is fixed
        records = [pay(2, "U1", "50.00", customer_ref="C1")]  # lettering removed, then a smaller amount: fine
        same_as_payment_services(records)
        records = [pay(2, "U1", "50.00", customer_ref="C2")]  # all its allocations reversed: it may move
        _, problems = same_as_payment_services(records)
        assert problems == [] and Payment.objects.get(reference="U1").customer.reference == "C2"
        records = [pay(2, "U1", "50.00", customer_ref="C2", currency="GBP")]  # but its currency stays
        _, problems = same_as_payment_services(records)
        assert "cannot change" in problems[0].reason
        records = [pay(2, "U1", "50.00", "F3", "60.00", customer_ref="C2")]  # over the amount: refused
        _, problems = same_as_payment_services(records)
        assert problems[0].column == "allocated_amount"

    def test_a_payment_seen_in_an_earlier_batch_is_refused_further_down(self, ledger):
        records = [pay(2, "B1", "10.00", "F0", "10.00"), pay(3, "B2", "5.00"), pay(4, "B1", "10.00", "F0", "10.00")]
        _, problems = same_as_payment_services(records, batches=2)
        assert "appears again further down the file" in problems[0].reason

    def test_a_payment_the_bank_returned_is_not_allocated_again(self, ledger):
        same_as_payment_services([pay(2, "RT", "100.00", "F1", "100.00")])
        ledger_services.payment_return(
            actor="test", payment=Payment.objects.get(reference="RT"), date=dt.date(2026, 6, 20)
        )
        records = [pay(2, "RT", "100.00", "F1", "100.00"), pay(3, "RT2", "10.00", "F1", "10.00")]
        _, problems = same_as_payment_services(records)
        assert [p.row for p in problems] == [2]

    @pytest.mark.parametrize("seed", range(12))
    def test_random_files_and_their_reimports(self, ledger, seed):
        rnd = random.Random(seed)
        first = random_payments(rnd, 30)
        same_as_payment_services(first, batches=rnd.choice([1, 1, 3]))
        second = [r for r in first if rnd.random() < 0.7] + random_payments(rnd, 10, start=100)
        second = [mutate(rnd, r) for r in second]
        same_as_payment_services(second, batches=rnd.choice([1, 2]))


INVOICES = ["F0", "F1", "F2", "F3", "F4", "F5", "AV1", "G1", "NOPE"]


def random_payments(rnd: random.Random, groups: int, start: int = 0) -> list[PaymentRecord]:
    """Payments of random shapes: split, unallocated, over-allocated, unknown or foreign invoices, repeated refs."""
    records = []
    row = 2
    for g in range(start, start + groups):
        reference = f"P{g if rnd.random() < 0.85 else rnd.randrange(start, start + groups)}"
        customer = rnd.choice(["", "", "C1", "C2", "C3", "C9"])
        amount = Decimal(rnd.randrange(1, 40000)).scaleb(-2)
        day = dt.date(2026, 6, 1 + g % 20)
        invoices = [rnd.choice(INVOICES) for _ in range(rnd.choice([0, 1, 1, 1, 2, 3]))] or [""]
        for invoice in invoices:
            share = None
            if invoice:
                share = (amount * Decimal(rnd.choice([1, 1, 2, 3, 5])) / 6).quantize(Decimal("0.01")) or amount
            records.append(PaymentRecord(row, "FR1", customer, reference, day, "EUR", amount, invoice, share))
            row += 1
    return records


def mutate(rnd: random.Random, rec: PaymentRecord) -> PaymentRecord:
    roll = rnd.random()
    if roll < 0.1 and rec.invoice_number:
        return rec._replace(allocated_amount=(rec.allocated_amount / 2).quantize(Decimal("0.01")) or rec.amount)
    if roll < 0.15:
        return rec._replace(amount=rec.amount + Decimal("1.00"))
    if roll < 0.2:
        return rec._replace(invoice_number=rnd.choice(INVOICES[:6]), allocated_amount=rec.amount)
    return rec


# --- customers ---------------------------------------------------------------------------------------------


def siren(n: int) -> str:
    base = f"{n:08d}"
    return base + luhn.calc_check_digit(base)


def fr_vat(siren_: str) -> str:
    return f"FR{(12 + 3 * (int(siren_) % 97)) % 97:02d}{siren_}"


def cust(row: int, ref: str, *, email: str = "", phone: str = "", company: str = "FR1", **data: Any) -> CustomerRecord:
    values = {"name": f"Customer {ref}", "country": "FR", **data}
    return CustomerRecord(row, company, ref, values, email, phone)


@pytest.fixture
def people(db):
    fr = CompanyFactory(code="FR1", currency="EUR")
    uk = CompanyFactory(code="UK1", currency="GBP")
    AgencyFactory(company=fr, code="PAR")
    AgencyFactory(company=uk, code="LON")
    UserFactory(email="alice@example.com")
    existing = CustomerFactory(company=fr, reference="OLD1", siren=siren(111), name="Old One")
    ContactFactory(customer=existing, email="ap@old.example", phone="+33 1", is_main_ap=True, name="AP desk")
    ContactFactory(customer=existing, email="boss@old.example", is_main_ap=False, name="")
    CustomerFactory(company=fr, reference="OLD2", name="Old Two")
    LegalEntity.objects.create(key=f"SIREN:{siren(222)}", name="Entity 222", country="FR")
    return fr


class TestCustomersAsTheServices:
    def test_creations_updates_contacts_and_legal_entities(self, people):
        user = User.objects.get(email="alice@example.com")
        records = [
            cust(2, "N1", siren=siren(333), email="ap@n1.example", phone="+33 2"),
            cust(3, "N2", vat_number=fr_vat(siren(333)), language="en", payment_terms_days=45),  # same entity
            cust(4, "N3", vat_number=fr_vat(siren(222)), agency="par", collector="ALICE@example.com"),  # fills VAT
            cust(5, "N4", vat_number="GB980780684", country="GB", phone="+44 3"),
            cust(6, "OLD1", name="Old One renamed", email="AP@old.example"),  # the same main contact
            cust(7, "OLD1", name="twice"),  # twice in the file
            cust(8, "OLD2", email="new@old2.example", sector_code="4520A"),
            cust(9, "N5"),
            cust(10, "N6", phone="+33 9"),
        ]
        ctx, problems = same_as_reference(loaders.load_customers, reference_load_customers, records, actor=user)
        assert [p.row for p in problems] == [7]
        assert (
            Customer.objects.get(reference="N1").legal_entity_id == Customer.objects.get(reference="N2").legal_entity_id
        )
        assert LegalEntity.objects.get(key=f"SIREN:{siren(222)}").vat_number == fr_vat(siren(222))
        assert AuditEntry.objects.filter(action="customer.create", actor=user).count() == 6

    def test_refusals_leave_nothing_and_name_the_column(self, people):
        records = [
            cust(2, "X1", vat_number="FR00000000000"),
            cust(3, "X2", siren="123"),
            cust(4, "X3", agency="NOPE"),
            cust(5, "X4", collector="nobody@example.com"),
            cust(6, "X5", email="not-an-email"),
            cust(7, "X6", language="de"),
            cust(8, "X7", agency="LON"),  # an agency of another company
            cust(9, "X8", country="XX"),
            cust(10, "X9", company="NOPE"),
            cust(11, "OLD1", email="broken"),  # an existing customer whose contact is refused: nothing changes
        ]
        _, problems = same_as_reference(loaders.load_customers, reference_load_customers, records)
        assert [p.row for p in problems] == list(range(2, 12))
        assert not Customer.objects.filter(reference__startswith="X").exists()

    def test_contacts_by_email_or_phone_and_the_main_one_moves(self, people):
        records = [
            cust(2, "OLD1", email="boss@old.example"),  # an existing contact becomes main, the other is demoted
            cust(3, "OLD2", phone="+33 7"),  # phone only: the contact without a name
        ]
        same_as_reference(loaders.load_customers, reference_load_customers, records)
        same_as_reference(loaders.load_customers, reference_load_customers, records)  # again: unchanged
        records = [cust(2, "OLD1", email="boss@old.example", phone="+33 8"), cust(3, "OLD2", siren=siren(444))]
        same_as_reference(loaders.load_customers, reference_load_customers, records)

    @pytest.mark.parametrize("seed", range(8))
    def test_random_customer_files(self, people, seed):
        rnd = random.Random(seed)
        for _ in range(2):
            records = []
            for row in range(2, 22):
                data: dict[str, Any] = {}
                for key, choices in (
                    ("siren", ["", siren(111), siren(222), siren(555), "12"]),
                    ("vat_number", ["", fr_vat(siren(555)), fr_vat(siren(666)), "GB980780684", "FR1"]),
                    ("language", ["fr", "en", "", "xx"]),
                    ("agency", ["", "PAR", "LON", "NO"]),
                    ("collector", ["", "alice@example.com", "bob@example.com"]),
                    ("payment_terms_days", [30, 60]),
                ):
                    if rnd.random() < 0.4:
                        data[key] = rnd.choice(choices)
                email = rnd.choice(["", "", "ap@x.example", "AP@old.example", "boss@old.example", "bad"])
                phone = rnd.choice(["", "", "+33 1", "+33 5"])
                ref = rnd.choice(["OLD1", "OLD2", *(f"R{n}" for n in range(12))])
                records.append(cust(row, ref, email=email, phone=phone, **data))
            same_as_reference(loaders.load_customers, reference_load_customers, records)


# --- fast parsing: the same records as the exact parsers ---------------------------------------------------

cells = st.sampled_from(["", " ", "FR1", "fr1", "X", "C1", " C1 ", "invoice", "Credit_Note", "quote", "EUR", "eur",
                         "JPY", "EURO", "2026-03-01", "2026-02-01", "2026-03-31T10:00", "31/03/2026", "120.00",
                         "120.001", "1 200,50", "0", "0.00", "-5", "12,3", "(5)", "1e3", "20.00", "500", "F1",
                         "F2"])  # fmt: skip


@given(st.dictionaries(st.sampled_from(["company", "customer_ref", "number", "type", "issue_date", "due_date",
                                        "currency", "amount", "tax_amount", "corrects_number"]), cells),
       st.sampled_from(["", "FR1"]))  # fmt: skip
def test_the_fast_document_parser_agrees_with_the_exact_one(raw, company):
    fast = fast_parser("documents", Profile(), company)
    got = fast(7, raw)
    exact = PARSERS["documents"](Row("f.csv", 7, raw, Profile()), company)
    assert got is None or got == exact


@given(st.dictionaries(st.sampled_from(["company", "customer_ref", "reference", "date", "currency", "amount",
                                        "invoice_number", "allocated_amount"]), cells),
       st.sampled_from(["", "FR1"]))  # fmt: skip
def test_the_fast_payment_parser_agrees_with_the_exact_one(raw, company):
    got = fast_parser("payments", Profile(), company)(7, raw)
    assert got is None or got == PARSERS["payments"](Row("f.csv", 7, raw, Profile()), company)


def test_the_fast_parser_reads_the_common_rows_itself():
    raw = {"company": "FR1", "customer_ref": "C1", "number": "F1", "type": "invoice", "issue_date": "2026-03-01",
           "due_date": "2026-03-31", "currency": "EUR", "amount": "120.00", "tax_amount": "20.00"}  # fmt: skip
    assert fast_parser("documents", Profile(), "")(2, raw) == PARSERS["documents"](Row("f", 2, raw, Profile()))
    profile = Profile(columns={"amount": "Montant"}, defaults={"company": "FR1"}, type_values={"FA": "invoice"})
    raw = {**raw, "Montant": "99.5", "type": "FA"}
    del raw["company"]
    assert fast_parser("documents", profile, "")(2, raw) == PARSERS["documents"](Row("f", 2, raw, profile))
    assert fast_parser("documents", Profile(decimal_separator=","), "") is None
    assert fast_parser("customers", Profile(), "") is None


# --- the import driver: batches, events ---------------------------------------------------------------------


def write(tmp_path: Path, name: str, rows: list[list[str]]) -> Path:
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


PAYMENT_HEADER = ["company", "customer_ref", "reference", "date", "currency", "amount", "invoice_number",
                  "allocated_amount"]  # fmt: skip


def test_a_batch_never_ends_inside_a_payment(ledger, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 3)
    rows = [PAYMENT_HEADER]
    rows += [["FR1", "C1", f"S{n}", "2026-06-01", "EUR", "1.00", "", ""] for n in range(2)]
    rows += [["FR1", "C1", "SPLIT", "2026-06-01", "EUR", "30.00", f"F{n}", "10.00"] for n in range(3)]
    result = services.import_file(actor="cli", kind="payments", path=write(tmp_path, "p.csv", rows))
    assert (result.status, result.counts["created"]) == ("loaded", 3), result.errors
    assert Allocation.objects.filter(payment__reference="SPLIT").count() == 3


def test_with_partial_a_refused_payment_leaves_nothing_of_itself(ledger, tmp_path):
    # BAD's second row asks 90.00 of F2, open for 80.00: the whole payment is refused, its first row too
    rows = [PAYMENT_HEADER, ["FR1", "C1", "OK", "2026-06-01", "EUR", "10.00", "F0", "10.00"],
            ["FR1", "C1", "BAD", "2026-06-01", "EUR", "190.00", "F1", "100.00"],
            ["FR1", "C1", "BAD", "2026-06-01", "EUR", "190.00", "F2", "90.00"]]  # fmt: skip
    result = services.import_file(actor="cli", kind="payments", path=write(tmp_path, "p.csv", rows), partial=True)
    assert result.status == "partial" and result.counts["created"] == 1
    assert not Payment.objects.filter(reference="BAD").exists()
    assert Document.objects.get(number="F1").open_amount == Decimal("250.00")
    assert selectors.check_invariants() == []


@pytest.fixture
def subscribed(ledger):
    return channels.subscription_create(
        actor="test",
        url="https://erp.example.com/hooks",
        event_types=["document.created", "document.updated", "payment.received", "payment.allocated"],
    )


DOC_HEADER = ["company", "customer_ref", "number", "type", "issue_date", "due_date", "currency", "amount"]


def test_file_imports_emit_the_events_of_what_they_wrote(subscribed, tmp_path):
    docs = [DOC_HEADER, ["FR1", "C1", "N1", "invoice", "2026-06-01", "2026-07-01", "EUR", "10.00"],
            ["FR1", "C1", "F0", "invoice", "2026-01-01", "2026-01-31", "EUR", "120.00"]]  # fmt: skip
    services.import_file(actor="cli", kind="documents", path=write(tmp_path, "d.csv", docs))
    events = sorted(WebhookEvent.objects.values_list("type", "payload__number"))
    assert events == [("document.created", "N1"), ("document.updated", "F0")]
    rows = [PAYMENT_HEADER, ["FR1", "C1", "W1", "2026-06-01", "EUR", "15.00", "N1", "10.00"]]
    services.import_file(actor="cli", kind="payments", path=write(tmp_path, "p.csv", rows))
    allocated = WebhookEvent.objects.get(type="payment.allocated").payload
    assert (allocated["amount"], allocated["invoice_open_amount"], allocated["payment_unallocated_amount"]) == (
        "10.00",
        "0.00",
        "5.00",
    )
    assert WebhookEvent.objects.get(type="payment.received").payload["reference"] == "W1"
    before = WebhookEvent.objects.count()
    services.import_file(actor="cli", kind="payments", path=write(tmp_path, "p.csv", rows))  # unchanged
    services.import_file(actor="cli", kind="documents", path=write(tmp_path, "d.csv", docs), preview=True)
    bad = [*docs, ["FR1", "C9", "N2", "invoice", "2026-06-01", "2026-07-01", "EUR", "10.00"]]
    services.import_file(actor="cli", kind="documents", path=write(tmp_path, "bad.csv", bad))  # refused
    assert WebhookEvent.objects.count() == before


def test_other_callers_of_the_loaders_emit_nothing_unless_they_ask(subscribed):
    ctx = Context(actor="cli", file="x", source="api", started_at=clock.now())
    loaders.load_payments(ctx, [pay(2, "Q1", "5.00", "F0", "5.00")])
    assert not WebhookEvent.objects.exists()
    ctx.emit_events = True
    loaders.load_payments(ctx, [pay(2, "Q2", "5.00", "F0", "5.00")])
    assert sorted(WebhookEvent.objects.values_list("type", flat=True)) == ["payment.allocated", "payment.received"]


def test_ten_thousand_payments_load_in_one_import(ledger, tmp_path):
    customer = Customer.objects.get(reference="C1")
    Document.objects.bulk_create(
        [Document(company=ledger, customer=customer, number=f"B{n:05d}", issue_date=dt.date(2026, 1, 1),
                  due_date=dt.date(2026, 2, 1), currency="EUR", amount=Decimal("100.00"), open_amount=Decimal("100.00"))
         for n in range(10_000)]
    )  # fmt: skip
    rows = [PAYMENT_HEADER]
    rows += [["FR1", "C1", f"BP{n:05d}", "2026-06-01", "EUR", "60.00", f"B{n:05d}", "60.00"] for n in range(10_000)]
    path = write(tmp_path, "p.csv", rows)
    result = services.import_file(actor="cli", kind="payments", path=path)
    assert result.counts["created"] == 10_000
    assert Document.objects.filter(number__startswith="B", open_amount=Decimal("40.00")).count() == 10_000
    assert selectors.check_invariants() == []


def test_payment_creations_are_audited_by_the_import_and_changes_one_by_one(ledger, tmp_path):
    rows = [PAYMENT_HEADER, ["FR1", "C1", "A1", "2026-06-01", "EUR", "100.00", "F0", "100.00"]]
    services.import_file(actor="cli", kind="payments", path=write(tmp_path, "p.csv", rows))
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["import.payments"]
    rows = [PAYMENT_HEADER, ["FR1", "C1", "A1", "2026-06-01", "EUR", "120.00", "F1", "120.00"]]
    services.import_file(actor="cli", kind="payments", path=write(tmp_path, "p2.csv", rows))
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", "message"))
    assert actions[1:] == [
        ("allocation.reverse", f"lettering changed in {tmp_path / 'p2.csv'}"),
        ("payment.update", ""),
        ("import.payments", str(tmp_path / "p2.csv")),
    ]
    update = AuditEntry.objects.get(action="payment.update")
    assert update.changes == {"amount": ["100.00", "120.00"], "unallocated_amount": ["100.00", "120.00"]}
