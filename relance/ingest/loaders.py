"""Loading canonical records into the ledger in batches (services: they write).

Each loader takes a batch of parsed records, resolves what they refer to with a few set-based
queries, adds row errors for what cannot be loaded, and writes the rest with bulk statements.
The import driver (relance.ingest.services) decides whether a file with errors is refused whole or
loaded without its bad rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q

from relance.core import audit, clock, errors
from relance.core.bulk import Inserter, Updater
from relance.core.models import AuditEntry
from relance.ledger import services as ledger_services
from relance.ledger.models import Allocation, Customer, Document, Payment
from relance.orgs.models import Agency, Company, User

from .rows import CustomerRecord, DocumentRecord, PaymentRecord, RowError


def AUDIT_INSERT() -> Inserter:  # noqa: N802 - built per call: the connection may change between tests
    return Inserter(
        AuditEntry,
        [
            "at",
            "actor",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "customer_id",
            "company_id",
            "changes",
            "message",
        ],
    )


DOC_INSERT_FIELDS = ["company", "customer", "number", "type", "issue_date", "due_date", "currency", "amount",
                     "tax_amount", "open_amount", "corrects"]  # fmt: skip
DOC_INSERT_CONSTANTS = ["settled_on", "original_file", "source", "created_at", "updated_at"]

# service field -> canonical column, to name the column of a service's ValidationError
FIELD_COLUMNS = {
    "sector_code": "sector",
    "collector": "collector_email",
    "sales_rep": "sales_rep_email",
    "customer_ref": "customer_ref",
}


@dataclass
class Context:
    """What a whole import shares: caches, the acting user, counters and the clock."""

    actor: Any
    file: str
    source: str
    started_at: dt.datetime
    column: Callable[[str], str] = lambda c: c
    companies: dict[str, Company | None] = field(default_factory=dict)
    customer_ids: dict[tuple[int, str], int | None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    audit_rows: list[tuple[Any, ...]] = field(default_factory=list)

    def company(self, code: str) -> Company | None:
        if code not in self.companies:
            self.companies[code] = Company.objects.filter(code=code).first()
        return self.companies[code]

    def error(self, row: int, column: str, value: str, reason: str) -> RowError:
        return RowError(self.file, row, self.column(column), value, reason)

    def audit(
        self,
        action: str,
        obj_type: str,
        obj_id: int,
        obj_repr: str,
        customer_id: int | None,
        company_id: int | None,
        changes: dict[str, Any],
    ) -> None:
        actor_id = self.actor.pk if isinstance(self.actor, User) else None
        self.audit_rows.append(
            (
                clock.now(),
                actor_id,
                audit.actor_label(self.actor),
                action,
                obj_type,
                str(obj_id),
                obj_repr[:300],
                customer_id,
                company_id,
                changes,
                f"import {self.file}",
            )
        )

    def flush_audit(self) -> None:
        AUDIT_INSERT().insert(self.audit_rows)
        self.audit_rows.clear()

    def resolve_customers(self, pairs: set[tuple[int, str]]) -> None:
        missing = {p for p in pairs if p not in self.customer_ids}
        by_company: dict[int, set[str]] = defaultdict(set)
        for company_id, ref in missing:
            by_company[company_id].add(ref)
        for company_id, refs in by_company.items():
            found = dict(
                Customer.objects.filter(company_id=company_id, reference__in=refs).values_list("reference", "pk")
            )
            for ref in refs:
                self.customer_ids[(company_id, ref)] = found.get(ref)


def _company_or_error(ctx: Context, rec: Any, errors_out: list[RowError]) -> Company | None:
    company = ctx.company(rec.company)
    if company is None:
        errors_out.append(
            ctx.error(rec.row, "company", rec.company, "unknown company (create it with `relance company add`)")
        )
    return company


# --- customers -------------------------------------------------------------------------------------


def load_customers(ctx: Context, records: list[CustomerRecord]) -> list[RowError]:
    """Upsert customers (and their main accounts-payable contact from email/phone)."""
    problems: list[RowError] = []
    agencies = {
        a.code: a for a in Agency.objects.filter(code__in={r.data.get("agency", "").upper() for r in records} - {""})
    }
    emails = {r.data.get(k, "").lower() for r in records for k in ("collector", "sales_rep")} - {""}
    users = {u.email: u for u in User.objects.filter(email__in=emails)}
    seen: dict[tuple[str, str], int] = {}
    for rec in records:
        company = _company_or_error(ctx, rec, problems)
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
                with transaction.atomic():  # one savepoint per record: --partial never keeps half of one
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


# --- documents -------------------------------------------------------------------------------------

DOC_FIELDS = ("customer_id", "type", "issue_date", "due_date", "currency", "amount", "tax_amount", "corrects_id")


def load_documents(ctx: Context, records: list[DocumentRecord]) -> list[RowError]:
    """Upsert invoices and credit notes by (company, number), in bulk."""
    problems: list[RowError] = []
    valid: list[tuple[DocumentRecord, Company]] = []
    for rec in records:
        company = _company_or_error(ctx, rec, problems)
        if company is not None:
            valid.append((rec, company))
    ctx.resolve_customers({(c.pk, r.customer_ref) for r, c in valid})
    numbers: dict[int, set[str]] = defaultdict(set)
    for rec, company in valid:
        numbers[company.pk].add(rec.number)
        if rec.corrects_number:
            numbers[company.pk].add(rec.corrects_number)
    existing: dict[tuple[int, str], dict[str, Any]] = {}
    for company_id, nums in numbers.items():
        for row in Document.objects.filter(company_id=company_id, number__in=nums).values(
            "pk", "number", "open_amount", "updated_at", "settled_on", *DOC_FIELDS
        ):
            existing[(company_id, row["number"])] = row
    in_batch: dict[tuple[int, str], DocumentRecord] = {}
    to_create: list[tuple[Any, ...]] = []  # rows in DOC_INSERT_FIELDS order
    to_update: list[tuple[DocumentRecord, dict[str, Any], dict[str, Any]]] = []
    pending_corrects: list[tuple[tuple[int, str], tuple[int, str]]] = []  # (credit note, invoice) keys
    now = clock.now()
    for rec, company in valid:
        key = (company.pk, rec.number)
        customer_id = ctx.customer_ids.get((company.pk, rec.customer_ref))
        if customer_id is None:
            problems.append(
                ctx.error(
                    rec.row,
                    "customer_ref",
                    rec.customer_ref,
                    f"unknown customer in company {company.code} (import customers first)",
                )
            )
            continue
        if key in in_batch:
            problems.append(
                ctx.error(
                    rec.row, "number", rec.number, f"appears twice in the file (first at row {in_batch[key].row})"
                )
            )
            continue
        corrects_id = None
        if rec.corrects_number:
            target = existing.get((company.pk, rec.corrects_number))
            target_rec = in_batch.get((company.pk, rec.corrects_number))
            if rec.type != "credit_note":
                problems.append(
                    ctx.error(rec.row, "corrects_number", rec.corrects_number, "only a credit note corrects an invoice")
                )
                continue
            if target is not None:
                if target["customer_id"] != customer_id or target["type"] != "invoice":
                    problems.append(
                        ctx.error(
                            rec.row,
                            "corrects_number",
                            rec.corrects_number,
                            f"is not an invoice of customer {rec.customer_ref}",
                        )
                    )
                    continue
                corrects_id = target["pk"]
            elif target_rec is None:
                problems.append(ctx.error(rec.row, "corrects_number", rec.corrects_number, "unknown invoice"))
                continue
        in_batch[key] = rec
        values = {
            "customer_id": customer_id,
            "type": rec.type,
            "issue_date": rec.issue_date,
            "due_date": rec.due_date,
            "currency": rec.currency,
            "amount": rec.amount,
            "tax_amount": rec.tax_amount,
            "corrects_id": corrects_id,
        }
        old = existing.get(key)
        if old is None:
            to_create.append(
                (
                    company.pk,
                    customer_id,
                    rec.number,
                    rec.type,
                    rec.issue_date,
                    rec.due_date,
                    rec.currency,
                    rec.amount,
                    rec.tax_amount,
                    rec.amount,
                    corrects_id,
                )
            )
            if rec.corrects_number and corrects_id is None:
                pending_corrects.append((key, (company.pk, rec.corrects_number)))
            continue
        if rec.corrects_number and corrects_id is None:
            values["corrects_id"] = old["corrects_id"]  # resolved below once the batch's invoices exist
        changes = {k: [old[k], v] for k, v in values.items() if old[k] != v}
        if not changes:
            ctx.counts["unchanged"] += 1
            continue
        problem = _check_document_update(ctx, rec, old, values, changes)
        if problem:
            problems.append(problem)
            continue
        to_update.append((rec, old, values))
    Inserter(Document, DOC_INSERT_FIELDS, DOC_INSERT_CONSTANTS).insert(
        to_create, constants=(None, "", ctx.source, now, now)
    )
    if pending_corrects:
        # credit notes correcting an invoice created in this same batch: now that it exists, link them
        keys = {k for pair in pending_corrects for k in pair}
        ids: dict[tuple[int, str], int] = {}
        for company_id in {k[0] for k in keys}:
            nums = {k[1] for k in keys if k[0] == company_id}
            for pk, number in Document.objects.filter(company_id=company_id, number__in=nums).values_list(
                "pk", "number"
            ):
                ids[(company_id, number)] = pk
        Updater(Document, ["corrects"]).update(
            (ids[target], ids[credit_note]) for credit_note, target in pending_corrects
        )
    ctx.counts["created"] += len(to_create)
    if to_update:
        rows = []
        for rec, old, values in to_update:
            allocated = old["amount"] - old["open_amount"]
            open_amount = values["amount"] - allocated
            settled_on = old["settled_on"] if open_amount == 0 else None
            rows.append((*(values[k] for k in DOC_FIELDS), open_amount, settled_on, now, old["pk"]))
            changes = audit.diff(_jsonable(old, DOC_FIELDS), _jsonable(values, DOC_FIELDS))
            ctx.audit(
                "document.update",
                "ledger.document",
                old["pk"],
                rec.number,
                values["customer_id"],
                rec_company_id(ctx, rec),
                changes,
            )
        Updater(
            Document, [*[f.removesuffix("_id") for f in DOC_FIELDS], "open_amount", "settled_on", "updated_at"]
        ).update(rows)
        ctx.counts["updated"] += len(rows)
    ctx.flush_audit()
    return problems


def rec_company_id(ctx: Context, rec: Any) -> int | None:
    company = ctx.company(rec.company)
    return company.pk if company else None


def _jsonable(values: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: audit._jsonable(values[k]) for k in keys}


def _check_document_update(
    ctx: Context, rec: DocumentRecord, old: dict[str, Any], values: dict[str, Any], changes: dict[str, Any]
) -> RowError | None:
    if old["updated_at"] >= ctx.started_at:
        return ctx.error(rec.row, "number", rec.number, "appears twice in the file with different values")
    allocated = old["amount"] - old["open_amount"]
    if values["amount"] < allocated:
        return ctx.error(
            rec.row,
            "amount",
            str(rec.amount),
            f"is less than the {allocated} already allocated to document {rec.number}",
        )
    if {"customer_id", "currency", "type"} & set(changes):
        if Allocation.objects.filter(Q(target_id=old["pk"]) | Q(credit_note_id=old["pk"])).exists():
            column = next(c for c in ("customer_id", "currency", "type") if c in changes)
            column = "customer_ref" if column == "customer_id" else column
            return ctx.error(
                rec.row,
                column,
                getattr(rec, column, ""),
                f"cannot change: document {rec.number} already has allocations",
            )
    return None


# --- payments --------------------------------------------------------------------------------------


@dataclass
class _PaymentGroup:
    first: PaymentRecord
    rows: list[PaymentRecord]


def load_payments(ctx: Context, records: list[PaymentRecord]) -> list[RowError]:
    """Upsert payments by (company, reference) and their allocations (the source system's lettering).

    Several rows with one reference split one payment over several invoices. On a re-import the
    allocations this import booked are kept when identical, else reversed and booked again.
    """
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
        problem = _load_payment(ctx, group)
        if problem:
            problems.extend(problem)
    ctx.flush_audit()
    return problems


def _load_payment(ctx: Context, group: _PaymentGroup) -> list[RowError]:
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
        with transaction.atomic():  # one savepoint per record: --partial never keeps half of one
            if existing is not None and lettering_changed:
                # the source's lettering changed: reverse what it booked before, then book the new one
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


LOADERS = {"customers": load_customers, "documents": load_documents, "payments": load_payments}
