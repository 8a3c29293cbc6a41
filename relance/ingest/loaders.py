"""Loading canonical records into the ledger in batches (services: they write).

Each loader takes a batch of parsed records, resolves what they refer to with a few set-based
queries, checks everything in Python (with the ledger services' own rules and messages), adds row
errors for what cannot be loaded, and writes the rest with bulk statements (relance.core.bulk).
A record that is refused writes nothing, so ``--partial`` never keeps half of one. Amounts derived
from allocations (open amounts, unallocated amounts) are computed here in Decimal and written as
values, never as SQL arithmetic (SQLite would compute in floating point).

The import driver (relance.ingest.services) decides whether a file with errors is refused whole or
loaded without its bad rows. With ``Context.emit_events`` the loaders also record the webhook events
of what they wrote (document.created/updated, payment.received/allocated) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q

from relance.channels import webhooks
from relance.core import audit, clock, errors
from relance.core.bulk import Inserter, Updater
from relance.core.identifiers import siren_from_vat
from relance.core.models import AuditEntry
from relance.core.money import to_decimal, validate_currency
from relance.core.vocab import ContactRole, PaymentKind, PaymentMethod
from relance.ledger import domain
from relance.ledger import services as ledger_services
from relance.ledger.models import Allocation, Contact, Customer, Document, LegalEntity, Payment
from relance.orgs.models import Agency, Company, User

from .rows import CustomerRecord, DocumentRecord, PaymentRecord, RowError

LOOKUP_CHUNK = 2000  # values per IN (...) list


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

DB_PLACES = Decimal("0.001")  # what a DecimalField(decimal_places=3) reads back as


@dataclass
class Context:
    """What a whole import shares: caches, the acting user, counters and the clock.

    ``emit_events``: record webhook events for what the loaders write (off by default; ``import_file`` sets it).
    """

    actor: Any
    file: str
    source: str
    started_at: dt.datetime
    column: Callable[[str], str] = lambda c: c
    companies: dict[str, Company | None] = field(default_factory=dict)
    customer_ids: dict[tuple[int, str], int | None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    audit_rows: list[tuple[Any, ...]] = field(default_factory=list)
    emit_events: bool = False
    subscribed: set[str] | None = None  # event types some active subscription wants (read once)

    def company(self, code: str) -> Company | None:
        if code not in self.companies:
            self.companies[code] = Company.objects.filter(code=code).first()
        return self.companies[code]

    def error(self, row: int, column: str, value: str, reason: str) -> RowError:
        return RowError(self.file, row, self.column(column), value, reason)

    @property
    def actor_id(self) -> int | None:
        return self.actor.pk if isinstance(self.actor, User) else None

    def audit(
        self,
        action: str,
        obj_type: str,
        obj_id: int,
        obj_repr: str,
        customer_id: int | None,
        company_id: int | None,
        changes: dict[str, Any],
        message: str | None = None,
    ) -> None:
        """One audit row, written with the batch (``message`` defaults to "import <file>")."""
        self.audit_rows.append(
            (
                clock.now(),
                self.actor_id,
                audit.actor_label(self.actor),
                action,
                obj_type,
                str(obj_id),
                obj_repr[:300],
                customer_id,
                company_id,
                changes,
                f"import {self.file}" if message is None else message,
            )
        )

    def flush_audit(self) -> None:
        if self.audit_rows:
            AUDIT_INSERT().insert(self.audit_rows)
            self.audit_rows.clear()

    def resolve_customers(self, pairs: set[tuple[int, str]]) -> None:
        missing = {p for p in pairs if p not in self.customer_ids}
        by_company: dict[int, set[str]] = defaultdict(set)
        for company_id, ref in missing:
            by_company[company_id].add(ref)
        for company_id, refs in by_company.items():
            found = _ids(Customer, "reference", company_id, refs)
            for ref in refs:
                self.customer_ids[(company_id, ref)] = found.get(ref)

    def wanted(self, *event_types: str) -> set[str]:
        """Which of ``event_types`` to emit: none unless ``emit_events``, else those an active subscription wants."""
        if not self.emit_events:
            return set()
        if self.subscribed is None:
            from relance.channels.models import WebhookSubscription

            self.subscribed = {
                t
                for types in WebhookSubscription.objects.filter(active=True).values_list("event_types", flat=True)
                for t in types
            }
        return self.subscribed & set(event_types)

    def emit(self, events: list[tuple[str, dict[str, Any], int | None]]) -> None:
        """Record the events and their deliveries in the current transaction (the outbox); sent after commit."""
        if events:
            from relance.channels.services import emit_many

            emit_many(events)


def _chunks(values: Iterable[Any], size: int = LOOKUP_CHUNK) -> Iterator[list[Any]]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _ids(model: type[Any], column: str, company_id: int, values: Iterable[str]) -> dict[str, int]:
    """{value: id} of the rows of ``model`` with ``column`` among ``values`` in one company (the unique index).

    Plain SQL without ORDER BY: the models' default orderings would make the database walk the company's
    rows in that order instead of probing the (company, key) index; and the ORM's preparation of long IN
    lists costs more than the query itself when a batch of new rows finds nothing.
    """
    qn = connection.ops.quote_name
    table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
    company = qn(model._meta.get_field("company").column)
    out: dict[str, int] = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(values):
            marks = ", ".join(["%s"] * len(chunk))
            sql = f"SELECT {qn(column)}, {pk} FROM {table} WHERE {company} = %s AND {qn(column)} IN ({marks})"  # noqa: S608
            cursor.execute(sql, [company_id, *chunk])
            out.update(cursor.fetchall())
    return out


def _by_company(pairs: Iterable[tuple[int, str]]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for company_id, value in pairs:
        out[company_id].add(value)
    return out


def _company_or_error(ctx: Context, rec: Any, errors_out: list[RowError]) -> Company | None:
    company = ctx.company(rec.company)
    if company is None:
        errors_out.append(
            ctx.error(rec.row, "company", rec.company, "unknown company (create it with `relance company add`)")
        )
    return company


def _snapshot(model: type[Any], values: dict[str, Any]) -> dict[str, Any]:
    """What ``audit.snapshot`` gives for an object of ``model`` whose attributes are ``values`` (by attname)."""
    return {
        f.name: audit._jsonable(values[f.attname])
        for f in model._meta.concrete_fields
        if f.name not in ("created_at", "updated_at")
    }


def _fields(model: type[Any]) -> list[Any]:
    """The concrete fields a bulk insert writes (all but the id)."""
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _insert_objects(model: type[Any], objects: list[Any], now: dt.datetime) -> None:
    """Insert unsaved model instances as they are (auto_now fields set to ``now``), without reading ids back."""
    if not objects:
        return
    fields = _fields(model)
    stamps = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    values = [f.attname for f in fields if f not in stamps]
    for obj in objects:
        for f in stamps:
            setattr(obj, f.attname, now)
    Inserter(model, [f.name for f in fields if f not in stamps], [f.name for f in stamps]).insert(
        ([getattr(obj, name) for name in values] for obj in objects), constants=[now] * len(stamps)
    )


def _update_objects(model: type[Any], objects: list[Any], now: dt.datetime) -> None:
    """Write every field of saved model instances (what ``save()`` does; auto_now fields set to ``now``)."""
    if not objects:
        return
    fields = [f for f in _fields(model) if not getattr(f, "auto_now_add", False)]
    for obj in objects:
        for f in fields:
            if getattr(f, "auto_now", False):
                setattr(obj, f.attname, now)
    Updater(model, [f.name for f in fields]).update(
        [*(getattr(obj, f.attname) for f in fields), obj.pk] for obj in objects
    )


# --- customers -------------------------------------------------------------------------------------


@dataclass
class _CustomerPlan:
    rec: CustomerRecord
    company: Company
    customer: Customer
    clean: dict[str, Any]
    before: dict[str, Any] | None  # snapshot of an existing customer; None for a new one
    contact: bool  # the main accounts-payable contact is to be upserted
    status: str = ""
    entity: LegalEntity | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    contact_obj: Contact | None = None
    contact_before: dict[str, Any] = field(default_factory=dict)


def _entity_key(company: Company, reference: str, siren: str, vat_number: str) -> tuple[str, str]:
    """The legal entity key of an account and the SIREN it implies (as ledger.services.legal_entity_resolve)."""
    siren = siren or siren_from_vat(vat_number) or ""
    if siren:
        return f"SIREN:{siren}", siren
    if vat_number:
        return f"VAT:{vat_number}", siren
    return f"REF:{company.code}:{reference}", siren


def _contact_error(email: str) -> None:
    """The checks ledger.services.contact_upsert makes before writing (same messages)."""
    if email and "@" not in email:
        raise errors.ValidationError(f"{email!r} is not an e-mail address.", field="email")


def load_customers(ctx: Context, records: list[CustomerRecord]) -> list[RowError]:
    """Upsert customers (and their main accounts-payable contact from email/phone), in bulk.

    The rules and messages are those of ledger.services.customer_upsert and contact_upsert; legal entities
    are resolved by key (SIREN:…, VAT:…, REF:company:ref) for the whole batch, the missing ones created.
    """
    problems: list[RowError] = []
    codes = {r.data.get("agency", "").upper() for r in records} - {""}
    agencies = {a.code: a for a in Agency.objects.filter(code__in=codes)} if codes else {}
    emails = {r.data.get(k, "").lower() for r in records for k in ("collector", "sales_rep")} - {""}
    users = {u.email: u for u in User.objects.filter(email__in=emails)} if emails else {}
    seen: dict[tuple[str, str], int] = {}
    todo: list[tuple[CustomerRecord, Company, dict[str, Any]]] = []
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
            todo.append((rec, company, data))
    if not todo:
        return problems
    existing: dict[tuple[int, str], Customer] = {}
    for company_id, refs in _by_company((c.pk, str(r.reference or "").strip()) for r, c, _ in todo).items():
        for chunk in _chunks(refs):
            for customer in Customer.objects.filter(company_id=company_id, reference__in=chunk).order_by():
                existing[(company_id, customer.reference)] = customer
    contacts: dict[int, list[Contact]] = defaultdict(list)
    wanting = [
        existing[(c.pk, r.reference.strip())].pk
        for r, c, _ in todo
        if (r.email or r.phone) and (c.pk, r.reference.strip()) in existing
    ]
    for chunk in _chunks(wanting):
        for contact in Contact.objects.filter(customer_id__in=chunk).order_by():
            contacts[contact.customer_id].append(contact)
    for found in contacts.values():
        found.sort(key=lambda c: (not c.is_main_ap, c.name, c.pk))
    plans: list[_CustomerPlan] = []
    for rec, company, data in todo:
        try:
            reference = str(rec.reference or "").strip()
            if not reference:
                raise errors.ValidationError("The customer reference cannot be empty.", field="customer_ref")
            clean = ledger_services._clean_customer(company, data)
            customer = existing.get((company.pk, reference))
            if customer is None:
                for required in ("name", "country"):
                    if required not in clean:
                        raise errors.ValidationError(f"A new customer needs a {required}.", field=required)
            contact = False
            if rec.email or rec.phone:
                main = next((c for c in contacts.get(customer.pk, ()) if c.is_main_ap), None) if customer else None
                contact = main is None or main.email != rec.email.lower() or bool(rec.phone and main.phone != rec.phone)
                if contact:
                    _contact_error(rec.email)
        except errors.ValidationError as exc:
            column = FIELD_COLUMNS.get(exc.field or "", exc.field or "")
            problems.append(ctx.error(rec.row, column, str(rec.data.get(column, "")), exc.message))
            continue
        if customer is None:
            plans.append(_CustomerPlan(rec, company, Customer(company=company, reference=reference, **clean), clean,
                                       None, contact))  # fmt: skip
        else:
            before = audit.snapshot(customer)
            for key, value in clean.items():
                setattr(customer, key, value)
            plans.append(_CustomerPlan(rec, company, customer, clean, before, contact))
    _resolve_entities(plans)
    now = clock.now()
    new = [p for p in plans if p.before is None]
    _insert_objects(Customer, [p.customer for p in new], now)
    ids: dict[tuple[int, str], int] = {}
    for company_id, refs in _by_company((p.company.pk, p.customer.reference) for p in new).items():
        for chunk in _chunks(refs):
            rows = Customer.objects.filter(company_id=company_id, reference__in=chunk).order_by()
            ids.update({(company_id, ref): pk for ref, pk in rows.values_list("reference", "pk")})
    changed: list[Customer] = []
    for plan in plans:
        customer = plan.customer
        if plan.before is None:
            customer.pk = ids[(plan.company.pk, customer.reference)]
            customer._state.adding = False
            ctx.customer_ids[(plan.company.pk, customer.reference)] = customer.pk
            plan.status, plan.changes = "created", audit.snapshot(customer)
        else:
            plan.changes = audit.diff(plan.before, audit.snapshot(customer))
            plan.status = "updated" if plan.changes else "unchanged"
            if plan.changes:
                changed.append(customer)
    _update_objects(Customer, changed, now)
    _upsert_main_contacts(ctx, [p for p in plans if p.contact], contacts, now)
    for plan in plans:
        customer = plan.customer
        if plan.status != "unchanged":
            action = "customer.create" if plan.status == "created" else "customer.update"
            ctx.audit(action, "ledger.customer", customer.pk, str(customer), customer.pk, customer.company_id,
                      plan.changes, "")  # fmt: skip
        if plan.contact_obj is not None:
            contact = plan.contact_obj
            ctx.audit("contact.upsert", "ledger.contact", contact.pk, str(contact), customer.pk, customer.company_id,
                      audit.diff(plan.contact_before, audit.snapshot(contact)), "")  # fmt: skip
            plan.status = "updated" if plan.status == "unchanged" else plan.status
        ctx.counts[plan.status] += 1
    ctx.flush_audit()
    return sorted(problems, key=lambda e: e.row)  # one per record, in file order


def _resolve_entities(plans: list[_CustomerPlan]) -> None:
    """Each new customer's legal entity, and each updated one's when its SIREN or VAT column is given: found by
    key, else created (in bulk); an entity found gains the SIREN or VAT number it lacked."""
    wanting = [p for p in plans if p.before is None or "siren" in p.clean or "vat_number" in p.clean]
    if not wanting:
        return
    keys = [_entity_key(p.company, p.customer.reference, p.customer.siren, p.customer.vat_number) for p in wanting]
    entities: dict[str, LegalEntity] = {}
    for chunk in _chunks({k for k, _ in keys}):
        entities.update({e.key: e for e in LegalEntity.objects.filter(key__in=chunk).order_by()})
    created: list[LegalEntity] = []
    filled: dict[int, LegalEntity] = {}
    for plan, (key, siren) in zip(wanting, keys, strict=True):
        customer = plan.customer
        entity = entities.get(key)
        if entity is None:
            entity = LegalEntity(
                key=key, name=customer.name, country=customer.country, siren=siren, vat_number=customer.vat_number
            )
            entities[key] = entity
            created.append(entity)
        else:
            changed = False
            if customer.vat_number and not entity.vat_number:
                entity.vat_number, changed = customer.vat_number, True
            if siren and not entity.siren:
                entity.siren, changed = siren, True
            if changed and entity.pk is not None:
                filled[entity.pk] = entity
        plan.entity = entity
    now = clock.now()
    _insert_objects(LegalEntity, created, now)
    for chunk in _chunks([e.key for e in created]):
        ids = dict(LegalEntity.objects.filter(key__in=chunk).order_by().values_list("key", "pk"))
        for entity in created:
            if entity.key in ids:
                entity.pk = ids[entity.key]
                entity._state.adding = False
    _update_objects(LegalEntity, list(filled.values()), now)
    for plan in wanting:
        plan.customer.legal_entity = plan.entity


def _upsert_main_contacts(
    ctx: Context, plans: list[_CustomerPlan], contacts: dict[int, list[Contact]], now: dt.datetime
) -> None:
    """ledger.services.contact_upsert(email=…, phone=…, is_main_ap=True) for each plan, in bulk."""
    demoted: list[Contact] = []
    saved: list[Contact] = []
    created: list[Contact] = []
    for plan in plans:
        customer, email, phone = plan.customer, plan.rec.email, plan.rec.phone
        found = contacts.get(customer.pk, [])
        matches = [c for c in found if c.email.lower() == email.lower()] if email else [c for c in found if not c.name]
        contact = matches[0] if matches else Contact(customer=customer)
        plan.contact_before = audit.snapshot(contact) if contact.pk else {}
        for other in found:
            if other.is_main_ap and other is not contact:
                other.is_main_ap = False
                demoted.append(other)
        contact.email, contact.phone = email.strip().lower(), phone or contact.phone
        contact.role, contact.is_main_ap, contact.language = ContactRole.ACCOUNTS_PAYABLE, True, ""
        (saved if contact.pk else created).append(contact)
        plan.contact_obj = contact
    Updater(Contact, ["is_main_ap"]).update((False, c.pk) for c in demoted)
    _update_objects(Contact, saved, now)
    _insert_objects(Contact, created, now)
    for chunk in _chunks([c.customer_id for c in created]):
        ids = dict(
            Contact.objects.filter(customer_id__in=chunk, is_main_ap=True).order_by().values_list("customer_id", "pk")
        )
        for contact in created:
            if contact.customer_id in ids:
                contact.pk = ids[contact.customer_id]
    touched = [p.customer.pk for p in plans if p.status == "unchanged"]
    Updater(Customer, ["updated_at"]).update((now, pk) for pk in touched)  # the API's updated_since sees it


# --- documents -------------------------------------------------------------------------------------

DOC_FIELDS = ("customer_id", "type", "issue_date", "due_date", "currency", "amount", "tax_amount", "corrects_id")
DOC_LOOKUP = ("pk", "number", "open_amount", "updated_at", "settled_on", *DOC_FIELDS)


def load_documents(ctx: Context, records: list[DocumentRecord]) -> list[RowError]:
    """Upsert invoices and credit notes by (company, number), in bulk."""
    problems: list[RowError] = []
    valid: list[tuple[DocumentRecord, int, Company]] = []
    companies = {code: ctx.company(code) for code in {r.company for r in records}}
    company_ids = {code: company.pk for code, company in companies.items() if company is not None}
    for rec in records:
        company = companies[rec.company]
        if company is None:
            _company_or_error(ctx, rec, problems)
        else:
            valid.append((rec, company_ids[rec.company], company))
    ctx.resolve_customers({(c, r.customer_ref) for r, c, _ in valid})
    numbers: dict[int, set[str]] = defaultdict(set)
    for rec, company_id, _ in valid:
        numbers[company_id].add(rec.number)
        if rec.corrects_number:
            numbers[company_id].add(rec.corrects_number)
    existing: dict[tuple[int, str], dict[str, Any]] = {}
    found = [pk for company_id, nums in numbers.items() for pk in _ids(Document, "number", company_id, nums).values()]
    for chunk in _chunks(found):
        for row in Document.objects.filter(pk__in=chunk).order_by().values("company_id", *DOC_LOOKUP):
            existing[(row.pop("company_id"), row["number"])] = row
    in_batch: dict[tuple[int, str], DocumentRecord] = {}
    to_create: list[tuple[Any, ...]] = []  # rows in DOC_INSERT_FIELDS order
    to_update: list[tuple[DocumentRecord, dict[str, Any], dict[str, Any]]] = []
    pending_corrects: list[tuple[tuple[int, str], tuple[int, str]]] = []  # (credit note, invoice) keys
    customer_ids = ctx.customer_ids
    now = clock.now()
    for rec, company_id, company in valid:
        key = (company_id, rec.number)
        customer_id = customer_ids.get((company_id, rec.customer_ref))
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
            target = existing.get((company_id, rec.corrects_number))
            target_rec = in_batch.get((company_id, rec.corrects_number))
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
        old = existing.get(key)
        if old is None:
            to_create.append(
                (
                    company_id,
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
                pending_corrects.append((key, (company_id, rec.corrects_number)))
            continue
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
        ids = _document_ids({k for pair in pending_corrects for k in pair})
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
    _emit_documents(ctx, [(row[0], row[2]) for row in to_create], [old["pk"] for _, old, _ in to_update])
    return problems


def _document_ids(keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
    ids: dict[tuple[int, str], int] = {}
    for company_id, nums in _by_company(keys).items():
        ids.update({(company_id, number): pk for number, pk in _ids(Document, "number", company_id, nums).items()})
    return ids


def _emit_documents(ctx: Context, created: list[tuple[int, str]], updated: list[int]) -> None:
    """document.created / document.updated for what the batch wrote (the document as the API shows it)."""
    wanted = ctx.wanted(webhooks.DOCUMENT_CREATED, webhooks.DOCUMENT_UPDATED)
    if not wanted or not (created or updated):
        return
    kinds: dict[int, str] = {}
    if webhooks.DOCUMENT_CREATED in wanted:
        kinds.update({pk: webhooks.DOCUMENT_CREATED for pk in _document_ids(created).values()})
    if webhooks.DOCUMENT_UPDATED in wanted:
        kinds.update({pk: webhooks.DOCUMENT_UPDATED for pk in updated})
    events = []
    for chunk in _chunks(sorted(kinds)):
        for doc in Document.objects.filter(pk__in=chunk).select_related("company", "customer").order_by("pk"):
            events.append((kinds[doc.pk], webhooks.document_data(doc), doc.company_id))
    ctx.emit(events)


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
    """Upsert payments by (company, reference) and their allocations (the source system's lettering), in bulk.

    Several rows with one reference split one payment over several invoices. On a re-import the
    allocations this import booked are kept when identical, else reversed and booked again. The rules
    and messages are those of ledger.services (payment_upsert, allocation_create, allocation_reverse),
    applied in Python to the batch's payments and invoices read once; a payment refused leaves nothing.
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
    batch = _PaymentBatch(ctx)
    batch.read(groups.values())
    for group in groups.values():
        problems.extend(batch.load(group))
    batch.write()
    return problems


PAYMENT_UPDATED = ("customer_id", "kind", "date", "currency", "amount", "unallocated_amount", "method",
                   "bank_reference", "payer_name")  # fmt: skip
ALLOCATION_LIVE = ("id", "payment_id", "target_id", "credit_note_id", "company_id", "customer_id", "currency", "amount",
                   "source")  # fmt: skip
DOC_STATE = ("id", "company_id", "customer_id", "customer__reference", "number", "type", "currency", "open_amount",
             "settled_on")  # fmt: skip


class _AllocationView:
    """Enough of an Allocation for its ``__str__`` (the audit row's object_repr), without a model instance."""

    __slots__ = ("amount", "credit_note_id", "currency", "payment_id", "target_id")

    def __init__(self, row: dict[str, Any]) -> None:
        self.amount, self.currency, self.target_id = row["amount"], row["currency"], row["target_id"]
        self.payment_id, self.credit_note_id = _payment_id(row), row["credit_note_id"]

    def __str__(self) -> str:
        return Allocation.__str__(self)  # type: ignore[arg-type]


def _payment_id(row: dict[str, Any]) -> int | None:
    """An allocation's payment id: a new payment's is known once it is written (``row["payment"]``)."""
    payment = row.get("payment")
    return payment["id"] if payment is not None else row["payment_id"]


def _defaults(model: type[Any]) -> dict[str, Any]:
    """A new row of ``model`` as a dict by attname: every field at its default (as the ORM would create it)."""
    return {f.attname: f.get_default() for f in model._meta.concrete_fields}


def _insert_dicts(model: type[Any], rows: list[dict[str, Any]], now: dt.datetime) -> None:
    """Insert rows given as dicts by attname (every concrete field but the id; timestamps set to ``now``)."""
    fields = _fields(model)
    stamps = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    values = [f for f in fields if f not in stamps]
    Inserter(model, [f.name for f in values], [f.name for f in stamps]).insert(
        ([row[f.attname] for f in values] for row in rows), constants=[now] * len(stamps)
    )


def _q(value: Decimal) -> Decimal:
    """An amount as the database gives it back (3 decimal places): the ledger services re-read before checking."""
    return value.quantize(DB_PLACES)


class _PaymentBatch:
    """The payments of one batch: what they refer to (read once), what they change (in memory), then the writes.

    Each group runs the ledger services' steps in order (reverse the old lettering, upsert the payment, book
    the new lettering) on in-memory rows; an error undoes the group's changes, so a refused payment leaves
    nothing. The open amounts, unallocated amounts and settlement dates are exact Decimals written as values.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.now = clock.now()
        self.created_by = ctx.actor_id
        self.docs: dict[tuple[int, str], dict[str, Any]] = {}  # (company id, number) -> document
        self.docs_by_id: dict[int, dict[str, Any]] = {}
        self.payments: dict[tuple[int, str], dict[str, Any]] = {}  # existing payments by (company id, reference)
        self.live: dict[int, list[dict[str, Any]]] = {}  # payment id -> allocations neither reversal nor reversed
        self.history: set[int] = set()  # payments with any allocation row
        self.created: list[dict[str, Any]] = []  # new payments
        self.allocations: list[dict[str, Any]] = []  # rows to insert, in the order the services would
        self.audits: list[tuple[Any, ...]] = []
        self.undo: list[tuple[dict[str, Any], str, Any]] = []
        self.new_payment, self.new_allocation = _defaults(Payment), _defaults(Allocation)
        self.aliases: dict[tuple[int, str], int] = {}  # ERP references already recognised as bank payments
        self.bank: dict[tuple[int, int, str, Decimal], list[dict[str, Any]]] = {}  # unclaimed bank payments
        self.new_aliases: list[tuple[int, str, int]] = []

    # reading

    def read(self, groups: Iterable[_PaymentGroup]) -> None:
        ctx = self.ctx
        customers: set[tuple[int, str]] = set()
        references: set[tuple[int, str]] = set()
        invoices: set[tuple[int, str]] = set()
        for group in groups:
            company = ctx.company(group.first.company)
            if company is None:
                continue
            references.add((company.pk, group.first.reference))
            if group.first.customer_ref:
                customers.add((company.pk, group.first.customer_ref))
            invoices.update((company.pk, r.invoice_number) for r in group.rows if r.invoice_number)
        ctx.resolve_customers(customers)
        attnames = [f.attname for f in Payment._meta.concrete_fields]
        found = [
            pk
            for company_id, refs in _by_company(references).items()
            for pk in _ids(Payment, "reference", company_id, refs).values()
        ]
        for chunk in _chunks(found):  # new payments (most of a first import) cost no ORM query
            for row in Payment.objects.filter(pk__in=chunk).select_for_update().order_by().values(*attnames):
                row["touched"] = False
                self.payments[(row["company_id"], row["reference"])] = row
        self._read_bank_payments(references, customers, invoices)
        for chunk in _chunks([p["id"] for p in self.payments.values()]):
            live = Allocation.objects.filter(payment_id__in=chunk, reverses__isnull=True, reversed_by__isnull=True)
            for row in live.order_by("date", "id").values(*ALLOCATION_LIVE):
                self.live.setdefault(row["payment_id"], []).append(row)
            made = Allocation.objects.filter(payment_id__in=chunk).order_by().values_list("payment_id", flat=True)
            self.history.update(made.distinct())
        for company_id, numbers in _by_company(invoices).items():
            for chunk in _chunks(numbers):
                self._read_documents(Document.objects.filter(company_id=company_id, number__in=chunk))
        targets = {a["target_id"] for rows in self.live.values() for a in rows} - set(self.docs_by_id)
        for chunk in _chunks(targets):
            self._read_documents(Document.objects.filter(pk__in=chunk))

    def _read_bank_payments(
        self, references: set[tuple[int, str]], customers: set[tuple[int, str]], invoices: set[tuple[int, str]]
    ) -> None:
        """What bank-applied payments ERP rows may be copies of: the aliases of the batch's references, and the
        payments cash application booked (source ``cashapp``) not yet claimed by an ERP reference."""
        from .models import PaymentAlias

        new_refs = {pair for pair in references if pair not in self.payments}
        for company_id, refs in _by_company(new_refs).items():
            for chunk in _chunks(refs):
                rows = PaymentAlias.objects.filter(company_id=company_id, reference__in=chunk).order_by()
                for reference, payment_id in rows.values_list("reference", "payment_id"):
                    self.aliases[(company_id, reference)] = payment_id
        companies = {c for c, _ in new_refs}
        bank = Payment.objects.filter(company_id__in=companies, source=BANK_SOURCE, returned_on__isnull=True)
        if not companies or not bank.exists():
            return  # the usual case: no cash application yet, nothing to recognise
        wanted_customers = {self.ctx.customer_ids.get(pair) for pair in customers} - {None}
        for company_id, numbers in _by_company(invoices).items():
            for chunk in _chunks(numbers):
                wanted_customers.update(
                    Document.objects.filter(company_id=company_id, number__in=chunk)
                    .order_by()
                    .values_list("customer_id", flat=True)
                )
        rows = (
            bank.filter(customer_id__in=wanted_customers, aliases__isnull=True)
            .order_by()
            .values(
                "id",
                "company_id",
                "customer_id",
                "currency",
                "amount",
                "date",
                "reference",
                "bank_reference",
                "payer_name",
            )
        )
        for row in rows:
            row["targets"] = set()
            self.bank.setdefault((row["company_id"], row["customer_id"], row["currency"], row["amount"]), []).append(
                row
            )
        ids = [r["id"] for rows_ in self.bank.values() for r in rows_]
        for chunk in _chunks(ids):
            live = Allocation.objects.filter(payment_id__in=chunk, reverses__isnull=True, reversed_by__isnull=True)
            by_id = {r["id"]: r for rows_ in self.bank.values() for r in rows_}
            for payment_id, target_id in live.order_by().values_list("payment_id", "target_id"):
                by_id[payment_id]["targets"].add(target_id)

    def _recognise(
        self,
        company: Company,
        customer_id: int | None,
        rec: PaymentRecord,
        wanted: list[tuple[PaymentRecord, dict[str, Any]]],
    ) -> dict[str, Any] | None:
        """The one bank-applied payment this ERP payment is a copy of: same customer, currency and amount, dated
        within RECOGNITION_DAYS, and the same reference (in the bank's references) or the same invoices."""
        if customer_id is None:
            return None
        candidates = self.bank.get((company.pk, customer_id, rec.currency, _q(to_decimal(rec.amount))), [])
        reference = _normalise(rec.reference)
        invoices = {doc["id"] for _, doc in wanted}
        fits = [
            c for c in candidates
            if abs((c["date"] - rec.date).days) <= RECOGNITION_DAYS
            and ((len(reference) >= 4 and reference in _normalise(c["bank_reference"], c["reference"], c["payer_name"]))
                 or (invoices and invoices == c["targets"]))
        ]  # fmt: skip
        if len(fits) != 1:
            return None
        candidates.remove(fits[0])
        return fits[0]

    def _read_documents(self, queryset: Any) -> None:
        for row in queryset.select_for_update(of=("self",)).order_by().values(*DOC_STATE):
            row["touched"] = False
            self.docs_by_id[row["id"]] = row
            self.docs[(row["company_id"], row["number"])] = row

    # one payment

    def load(self, group: _PaymentGroup) -> list[RowError]:
        ctx = self.ctx
        rec = group.first
        company = ctx.company(rec.company)
        if company is None:
            return [ctx.error(rec.row, "company", rec.company, "unknown company")]
        customer_id, customer_ref = None, ""
        if rec.customer_ref:
            customer_id = ctx.customer_ids.get((company.pk, rec.customer_ref))
            if customer_id is None:
                reason = f"unknown customer in company {company.code}"
                return [ctx.error(rec.row, "customer_ref", rec.customer_ref, reason)]
            customer_ref = rec.customer_ref
        wanted: list[tuple[PaymentRecord, dict[str, Any]]] = []
        problems = []
        for row in group.rows:
            if not row.invoice_number:
                continue
            doc = self.docs.get((company.pk, row.invoice_number))
            if doc is None:
                problems.append(ctx.error(row.row, "invoice_number", row.invoice_number, "unknown invoice"))
                continue
            if customer_id is None:
                customer_id, customer_ref = doc["customer_id"], doc["customer__reference"]
            if doc["customer_id"] != customer_id:
                reason = f"belongs to customer {doc['customer__reference']}, not {customer_ref}"
                problems.append(ctx.error(row.row, "invoice_number", row.invoice_number, reason))
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
        existing = self.payments.get((company.pk, rec.reference))
        if existing is None:
            if (company.pk, rec.reference) in self.aliases:
                ctx.counts["unchanged"] += 1  # recognised earlier as a payment booked from the bank
                return []
            bank = self._recognise(company, customer_id, rec, wanted)
            if bank is not None:
                self.aliases[(company.pk, rec.reference)] = bank["id"]
                self.new_aliases.append((company.pk, rec.reference, bank["id"]))
                ctx.counts["recognised"] += 1
                return []
        if existing is not None and existing["updated_at"] >= ctx.started_at:
            return [
                ctx.error(
                    rec.row,
                    "reference",
                    rec.reference,
                    "appears again further down the file: keep the rows of one payment together",
                )
            ]
        live = self.live.get(existing["id"], []) if existing is not None else []
        lettering_changed = existing is None or (
            sorted((a["target_id"], a["amount"]) for a in live)
            != sorted((d["id"], r.allocated_amount) for r, d in wanted)
        )
        marks = (len(self.created), len(self.allocations), len(self.audits))
        try:
            status = self._book(rec, company, customer_id, existing, live, wanted, lettering_changed)
        except errors.ValidationError as exc:
            self._rollback(*marks)
            column = FIELD_COLUMNS.get(exc.field or "", exc.field or "")
            column = "allocated_amount" if column == "amount" and wanted else column
            return [ctx.error(rec.row, column, "", exc.message)]
        self.undo.clear()
        ctx.counts[status] += 1
        return []

    def _set(self, row: dict[str, Any], key: str, value: Any) -> None:
        self.undo.append((row, key, row[key]))
        row[key] = value

    def _rollback(self, created: int, allocations: int, audits: int) -> None:
        for row, key, value in reversed(self.undo):
            row[key] = value
        self.undo.clear()
        del self.created[created:], self.allocations[allocations:], self.audits[audits:]

    def _apply(self, target: dict[str, Any], payment: dict[str, Any], amount: Decimal, day: dt.date) -> None:
        """ledger.services._apply: move ``amount`` (negative to undo) between the invoice and the payment."""
        open_amount = _q(target["open_amount"] - amount)
        self._set(target, "open_amount", open_amount)
        self._set(target, "settled_on", day if open_amount == 0 else None)
        self._set(target, "touched", True)
        self._set(payment, "unallocated_amount", _q(payment["unallocated_amount"] - amount))
        self._set(payment, "touched", True)

    def _book(
        self,
        rec: PaymentRecord,
        company: Company,
        customer_id: int | None,
        existing: dict[str, Any] | None,
        live: list[dict[str, Any]],
        wanted: list[tuple[PaymentRecord, dict[str, Any]]],
        lettering_changed: bool,
    ) -> str:
        """The steps of the former per-payment load, in order: reverse, upsert the payment, allocate."""
        day = rec.date
        if existing is not None and lettering_changed:
            # the source's lettering changed: reverse what it booked before (allocation_reverse), then book anew
            reason = f"lettering changed in {self.ctx.file}"
            for original in live:
                target = self.docs_by_id[original["target_id"]]
                reversal = {
                    **self.new_allocation,
                    "company_id": original["company_id"],
                    "customer_id": original["customer_id"],
                    "target_id": original["target_id"],
                    "payment_id": original["payment_id"],
                    "credit_note_id": original["credit_note_id"],
                    "currency": original["currency"],
                    "amount": -original["amount"],
                    "date": day,
                    "reverses_id": original["id"],
                    "source": original["source"],
                    "created_by_id": self.created_by,
                }
                self.allocations.append(reversal)
                self._apply(target, existing, reversal["amount"], day)
                changes = {"reverses": original["id"], "amount": str(reversal["amount"]), "target": target["number"]}
                self.audits.append(("allocation.reverse", reversal, changes, reason))
        has_live = bool(live) and not lettering_changed  # once reversed, the old lettering is history only
        payment, status = self._upsert_payment(rec, company, customer_id, existing, has_live)
        if lettering_changed:
            for row, doc in wanted:
                self._allocate(payment, doc, to_decimal(row.allocated_amount), day)
            status = "updated" if status == "unchanged" else status
        return status

    def _upsert_payment(
        self,
        rec: PaymentRecord,
        company: Company,
        customer_id: int | None,
        existing: dict[str, Any] | None,
        has_live: bool,
    ) -> tuple[dict[str, Any], str]:
        """ledger.services.payment_upsert, on the in-memory payment (``has_live``: it has allocations neither
        reversed nor reversals)."""
        reference = str(rec.reference or "").strip()
        if not reference:
            raise errors.ValidationError("The payment reference cannot be empty.", field="reference")
        currency = validate_currency(rec.currency)
        amount = domain.check_amount(to_decimal(rec.amount), currency)
        values = {
            "customer_id": customer_id,
            "date": ledger_services._date(rec.date, "date"),
            "currency": currency,
            "amount": amount,
            "method": str(PaymentMethod.TRANSFER),
            "kind": str(PaymentKind.PAYMENT),
            "bank_reference": "",
            "payer_name": "",
        }
        if existing is None:
            payment = {
                **self.new_payment,
                "company_id": company.pk,
                "reference": reference,
                "unallocated_amount": amount,
                "source": self.ctx.source,
                "touched": True,
                **values,
            }
            self.created.append(payment)
            return payment, "created"
        payment = existing
        allocated = payment["amount"] - payment["unallocated_amount"]
        # A payment whose allocations were all reversed may move to another customer; its currency stays fixed
        # once it has any allocation history.
        if (has_live and payment["customer_id"] != customer_id) or (
            payment["id"] in self.history and payment["currency"] != currency
        ):
            raise errors.ValidationError(
                f"Payment {reference} has allocations; its customer and currency cannot change.", field="customer_ref"
            )
        if amount < allocated:
            raise errors.ValidationError(
                f"Payment {reference} already has {allocated} allocated; its amount cannot become {amount}.",
                field="amount",
            )
        values["unallocated_amount"] = amount - allocated
        if all(payment[key] == value for key, value in values.items()):
            return payment, "unchanged"  # equal values have equal audit spellings: no diff to compute
        after = {**payment, **values}
        changes = audit.diff(_snapshot(Payment, payment), _snapshot(Payment, after))
        if not changes:
            return payment, "unchanged"
        for key in values:
            self._set(payment, key, after[key])
        self._set(payment, "touched", True)
        self.audits.append(("payment.update", payment, changes, ""))
        return payment, "updated"

    def _allocate(self, payment: dict[str, Any], target: dict[str, Any], amount: Decimal, day: dt.date) -> None:
        """ledger.services.allocation_create of a payment to an invoice, on the in-memory rows."""
        label = f"payment {payment['reference']}"
        if payment["returned_on"] is not None:
            raise errors.ValidationError(
                ledger_services.PAYMENT_RETURNED.format(reference=payment["reference"], day=payment["returned_on"]),
                field="payment",
            )
        domain.check_allocation(
            domain.AllocationRequest(
                amount=amount,
                currency=target["currency"],
                source_label=label,
                source_currency=payment["currency"],
                source_open=_q(payment["unallocated_amount"]),
                source_customer=payment["customer_id"],
                target_number=target["number"],
                target_type=target["type"],
                target_currency=target["currency"],
                target_open=_q(target["open_amount"]),
                target_customer=target["customer_id"],
            )
        )
        allocation = {
            **self.new_allocation,
            "company_id": target["company_id"],
            "customer_id": target["customer_id"],
            "target_id": target["id"],
            "payment": payment,
            "credit_note_id": None,
            "currency": target["currency"],
            "amount": amount,
            "date": day,
            "reverses_id": None,
            "source": self.ctx.source,
            "created_by_id": self.created_by,
        }
        self.allocations.append(allocation)
        self._apply(target, payment, amount, day)

    # writing

    def write(self) -> None:
        ctx, now = self.ctx, self.now
        _insert_dicts(Payment, self.created, now)
        for company_id, refs in _by_company((p["company_id"], p["reference"]) for p in self.created).items():
            ids = _ids(Payment, "reference", company_id, refs)
            for payment in self.created:
                if payment["company_id"] == company_id:
                    payment["id"] = ids[payment["reference"]]
        Updater(Payment, [*(f.removesuffix("_id") for f in PAYMENT_UPDATED), "updated_at"]).update(
            [*(p[f] for f in PAYMENT_UPDATED), now, p["id"]] for p in self.payments.values() if p["touched"]
        )
        for allocation in self.allocations:
            allocation["payment_id"] = _payment_id(allocation)
        _insert_dicts(Allocation, self.allocations, now)
        if any(a["reverses_id"] for a in self.allocations) or self.ctx.wanted(webhooks.PAYMENT_ALLOCATED):
            self._read_allocation_ids()  # the reversals' audit rows name them; the events carry them
        Updater(Document, ["open_amount", "settled_on", "updated_at"]).update(
            (d["open_amount"], d["settled_on"], now, d["id"]) for d in self.docs_by_id.values() if d["touched"]
        )
        for action, row, changes, message in self.audits:
            if action == "payment.update":
                ctx.audit(action, "ledger.payment", row["id"], row["reference"], row["customer_id"],
                          row["company_id"], changes, message)  # fmt: skip
            else:
                ctx.audit(action, "ledger.allocation", row["id"], str(_AllocationView(row)), row["customer_id"],
                          row["company_id"], changes, message)  # fmt: skip
        if self.new_aliases:
            from .models import PaymentAlias

            PaymentAlias.objects.bulk_create(
                [PaymentAlias(company_id=c, reference=r, payment_id=p) for c, r, p in self.new_aliases]
            )
            for company_id, reference, payment_id in self.new_aliases:
                message = f"the ERP's payment {reference} is this bank payment"
                ctx.audit("payment.recognised", "ledger.payment", payment_id, reference, None, company_id,
                          {"erp_reference": reference}, message)  # fmt: skip
        ctx.flush_audit()
        self._emit()

    def _read_allocation_ids(self) -> None:
        """The ids the database gave the batch's allocations: per payment, in insertion order."""
        if not self.allocations:
            return
        per_payment: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for allocation in self.allocations:
            per_payment[_payment_id(allocation)].append(allocation)  # type: ignore[index]
        found: dict[int, list[int]] = defaultdict(list)
        for chunk in _chunks(per_payment):
            rows = Allocation.objects.filter(payment_id__in=chunk, created_at=self.now).order_by("pk")
            for pk, payment_id in rows.values_list("pk", "payment_id"):
                found[payment_id].append(pk)
        for payment_id, allocations in per_payment.items():
            for allocation, pk in zip(allocations, found[payment_id], strict=True):
                allocation["id"] = pk

    def _emit(self) -> None:
        wanted = self.ctx.wanted(webhooks.PAYMENT_RECEIVED, webhooks.PAYMENT_ALLOCATED)
        events: list[tuple[str, dict[str, Any], int | None]] = []
        if webhooks.PAYMENT_RECEIVED in wanted:
            for chunk in _chunks(sorted(p["id"] for p in self.created)):
                for payment in (
                    Payment.objects.filter(pk__in=chunk).select_related("company", "customer").order_by("pk")
                ):
                    events.append((webhooks.PAYMENT_RECEIVED, webhooks.payment_data(payment), payment.company_id))
        if webhooks.PAYMENT_ALLOCATED in wanted:
            ids = sorted(a["id"] for a in self.allocations if a["reverses_id"] is None)
            for chunk in _chunks(ids):
                rows = Allocation.objects.filter(pk__in=chunk).select_related(
                    "company", "customer", "payment", "target"
                )
                for allocation in rows.order_by("pk"):
                    events.append(
                        (webhooks.PAYMENT_ALLOCATED, webhooks.allocation_data(allocation), allocation.company_id)
                    )
        self.ctx.emit(events)


BANK_SOURCE = "cashapp"  # payments booked by cash application from bank statements
RECOGNITION_DAYS = 5


def _normalise(*texts: str) -> str:
    return "".join(ch for text in texts for ch in (text or "").upper() if ch.isalnum())


LOADERS = {"customers": load_customers, "documents": load_documents, "payments": load_payments}
