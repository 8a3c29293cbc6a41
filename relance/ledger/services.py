"""Writes on the ledger. Each function: keyword-only arguments, one transaction, audit rows.

Documents and payments booked in the source system may be updated by later imports;
allocations are append-only and undone by reversals (docs/decisions/0002-who-owns-what.md).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q

from relance.core import audit, clock, errors
from relance.core.identifiers import (
    siren_from_vat,
    validate_country,
    validate_siren,
    validate_siret,
    validate_vat,
)
from relance.core.money import to_decimal, validate_currency
from relance.core.vocab import (
    CompanySize,
    ContactRole,
    CustomerKind,
    DocumentType,
    PaymentKind,
    PaymentMethod,
)
from relance.orgs.models import Agency, Company, User

from . import domain
from .models import NON_CASH_SOURCES, SOURCE_CLOSURE, Allocation, Contact, Customer, Document, LegalEntity, Payment

CUSTOMER_FIELDS = (
    "name",
    "siren",
    "siret",
    "vat_number",
    "country",
    "sector_code",
    "size",
    "language",
    "payment_terms_days",
    "kind",
    "strategic",
    "agency",
    "collector",
    "sales_rep",
)


def _choice(value: str, choices: list[str], field: str) -> str:
    if value not in choices:
        raise errors.ValidationError(f"{value!r} is not one of: {', '.join(choices)}.", field=field)
    return value


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise errors.ValidationError(f"{value!r} is a timestamp, not a date (YYYY-MM-DD).", field=field)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise errors.ValidationError(f"{value!r} is not a date in the form YYYY-MM-DD.", field=field)


def legal_entity_resolve(
    *, company: Company, reference: str, name: str, country: str, siren: str, vat_number: str
) -> LegalEntity:
    """The counterparty behind an account: by SIREN, then VAT number, else one of its own."""
    siren = siren or siren_from_vat(vat_number) or ""
    if siren:
        key = f"SIREN:{siren}"
    elif vat_number:
        key = f"VAT:{vat_number}"
    else:
        key = f"REF:{company.code}:{reference}"
    entity, _ = LegalEntity.objects.get_or_create(
        key=key, defaults={"name": name, "country": country, "siren": siren, "vat_number": vat_number}
    )
    changed = False
    if vat_number and not entity.vat_number:
        entity.vat_number, changed = vat_number, True
    if siren and not entity.siren:
        entity.siren, changed = siren, True
    if changed:
        entity.save()
    return entity


def _clean_customer(company: Company, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in data:
        if not str(data["name"] or "").strip():
            raise errors.ValidationError("The customer name cannot be empty.", field="name")
        out["name"] = str(data["name"]).strip()
    if "country" in data:
        out["country"] = validate_country(data["country"])
    if "vat_number" in data:
        out["vat_number"] = validate_vat(data["vat_number"]) if data["vat_number"] else ""
    if "siren" in data:
        out["siren"] = validate_siren(data["siren"]) if data["siren"] else ""
    if "siret" in data:
        out["siret"] = validate_siret(data["siret"]) if data["siret"] else ""
        if out["siret"] and not out.get("siren"):
            out["siren"] = out["siret"][:9]
    if out.get("siret") and out.get("siren") and not out["siret"].startswith(out["siren"]):
        raise errors.ValidationError(f"SIRET {out['siret']} does not belong to SIREN {out['siren']}.", field="siret")
    if "language" in data:
        lang = str(data["language"] or "fr").lower()
        if lang not in ("fr", "en"):
            raise errors.ValidationError(errors.INVALID_LANGUAGE.format(value=data["language"]), field="language")
        out["language"] = lang
    if "payment_terms_days" in data:
        try:
            terms = int(data["payment_terms_days"])
        except (TypeError, ValueError):
            raise errors.ValidationError(
                f"{data['payment_terms_days']!r} is not a number of days.", field="payment_terms_days"
            )
        if not 0 <= terms <= 365:
            raise errors.ValidationError(
                f"Payment terms of {terms} days are outside 0..365.", field="payment_terms_days"
            )
        out["payment_terms_days"] = terms
    if "kind" in data:
        out["kind"] = _choice(data["kind"] or CustomerKind.BUSINESS, CustomerKind.values, "kind")
    if "size" in data:
        out["size"] = _choice(data["size"], CompanySize.values, "size") if data["size"] else ""
    for flag in ("strategic",):
        if flag in data:
            out[flag] = bool(data[flag])
    if "sector_code" in data:
        out["sector_code"] = str(data["sector_code"] or "").strip()[:10]
    if "agency" in data:
        agency = data["agency"]
        if isinstance(agency, str):
            agency = Agency.objects.filter(code=agency.strip().upper()).first() if agency else None
            if data["agency"] and agency is None:
                raise errors.ValidationError(errors.UNKNOWN_AGENCY.format(code=data["agency"]), field="agency")
        if agency is not None and agency.company_id != company.pk:
            raise errors.ValidationError(
                errors.WRONG_COMPANY.format(
                    what=f"Agency {agency.code}", other=agency.company.code, company=company.code
                ),
                field="agency",
            )
        out["agency"] = agency
    for role in ("collector", "sales_rep"):
        if role in data:
            user = data[role]
            if isinstance(user, str):
                user = User.objects.filter(email=user.strip().lower()).first() if user else None
                if data[role] and user is None:
                    raise errors.ValidationError(errors.UNKNOWN_USER.format(email=data[role]), field=role)
            out[role] = user
    return out


def _emit(event_type: str, obj: Any) -> None:
    """Record a webhook event for ``obj`` in the current transaction (the outbox; sent after commit)."""
    from relance.channels import services as channels
    from relance.channels import webhooks

    data = {
        webhooks.DOCUMENT_CREATED: webhooks.document_data,
        webhooks.DOCUMENT_UPDATED: webhooks.document_data,
        webhooks.PAYMENT_RECEIVED: webhooks.payment_data,
        webhooks.PAYMENT_ALLOCATED: webhooks.allocation_data,
    }[event_type](obj)
    channels.emit(event_type, data, company_id=obj.company_id)


def _entity_of(customer: Customer) -> LegalEntity:
    return legal_entity_resolve(
        company=customer.company,
        reference=customer.reference,
        name=customer.name,
        country=customer.country,
        siren=customer.siren,
        vat_number=customer.vat_number,
    )


def _save_update(actor: Any, obj: Any, before: dict[str, Any], action: str) -> str:
    """Save ``obj`` and audit its changes since ``before``: "updated", or "unchanged" (nothing written)."""
    changes = audit.diff(before, audit.snapshot(obj))
    if not changes:
        return "unchanged"
    obj.save()
    audit.record(actor=actor, action=action, obj=obj, changes=changes)
    return "updated"


@transaction.atomic
def customer_upsert(*, actor: Any, company: Company, reference: str, **data: Any) -> tuple[Customer, str]:
    """Create or update the customer ``reference`` of ``company``.

    Returns (customer, "created" | "updated" | "unchanged").
    """
    reference = str(reference or "").strip()
    if not reference:
        raise errors.ValidationError("The customer reference cannot be empty.", field="customer_ref")
    unknown = set(data) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown customer fields: {sorted(unknown)}")
    clean = _clean_customer(company, data)
    customer = Customer.objects.filter(company=company, reference=reference).first()
    if customer is None:
        for required in ("name", "country"):
            if required not in clean:
                raise errors.ValidationError(f"A new customer needs a {required}.", field=required)
        customer = Customer(company=company, reference=reference, **clean)
        customer.legal_entity = _entity_of(customer)
        customer.save()
        audit.record(actor=actor, action="customer.create", obj=customer, changes=audit.snapshot(customer))
        return customer, "created"
    before = audit.snapshot(customer)
    for key, value in clean.items():
        setattr(customer, key, value)
    if any(k in clean for k in ("siren", "vat_number")):
        customer.legal_entity = _entity_of(customer)
    return customer, _save_update(actor, customer, before, "customer.update")


@transaction.atomic
def contact_upsert(
    *,
    actor: Any,
    customer: Customer,
    email: str = "",
    name: str = "",
    phone: str = "",
    role: str = ContactRole.ACCOUNTS_PAYABLE,
    is_main_ap: bool = False,
    language: str = "",
) -> Contact:
    """Add or update a contact (matched by e-mail, else by name). Making one main demotes the previous one."""
    if not (email or name or phone):
        raise errors.ValidationError("A contact needs at least an e-mail, a name or a phone.", field="email")
    role = _choice(role, ContactRole.values, "role")
    if email and "@" not in email:
        raise errors.ValidationError(f"{email!r} is not an e-mail address.", field="email")
    lookup = {"email__iexact": email} if email else {"name": name}
    contact = customer.contacts.filter(**lookup).first() or Contact(customer=customer)
    before = audit.snapshot(contact) if contact.pk else {}
    if is_main_ap:
        customer.contacts.filter(is_main_ap=True).exclude(pk=contact.pk).update(is_main_ap=False)
    contact.email, contact.name, contact.phone = email.strip().lower(), name or contact.name, phone or contact.phone
    contact.role, contact.is_main_ap, contact.language = role, is_main_ap or contact.is_main_ap, language
    contact.save()
    Customer.objects.filter(pk=customer.pk).update(updated_at=clock.now())  # the API's updated_since sees it
    audit.record(
        actor=actor,
        action="contact.upsert",
        obj=contact,
        changes=audit.diff(before, audit.snapshot(contact)),
        customer_id=customer.pk,
        company_id=customer.company_id,
    )
    return contact


def _document_values(
    company: Company,
    customer: Customer,
    *,
    type: str,
    issue_date: Any,
    due_date: Any,
    currency: str,
    amount: Any,
    tax_amount: Any,
    corrects: Document | None,
) -> dict[str, Any]:
    if customer.company_id != company.pk:
        raise errors.ValidationError(
            errors.WRONG_COMPANY.format(
                what=f"Customer {customer.reference}", other=customer.company.code, company=company.code
            ),
            field="customer_ref",
        )
    doc_type = _choice(type, DocumentType.values, "type")
    currency = validate_currency(currency)
    amount_d = domain.check_amount(to_decimal(amount), currency)
    tax_d = domain.check_amount(
        to_decimal(tax_amount or "0", field="tax_amount"), currency, field="tax_amount", allow_zero=True
    )
    if tax_d > amount_d:
        raise errors.ValidationError(errors.TAX_OVER_AMOUNT.format(tax=tax_d, amount=amount_d), field="tax_amount")
    issue = _date(issue_date, "issue_date")
    due = _date(due_date, "due_date")
    domain.check_dates(issue, due)
    if corrects is not None and (corrects.customer_id != customer.pk or corrects.type != DocumentType.INVOICE):
        raise errors.ValidationError(
            f"Document {corrects.number} is not an invoice of customer {customer.reference}.", field="corrects_number"
        )
    return {
        "type": doc_type,
        "issue_date": issue,
        "due_date": due,
        "currency": currency,
        "amount": amount_d,
        "tax_amount": tax_d,
        "corrects": corrects,
    }


@transaction.atomic
def document_upsert(
    *,
    actor: Any,
    company: Company,
    customer: Customer,
    number: str,
    type: str = DocumentType.INVOICE,
    issue_date: Any,
    due_date: Any,
    currency: str,
    amount: Any,
    tax_amount: Any = "0",
    corrects: Document | None = None,
    source: str = "manual",
) -> tuple[Document, str]:
    """Create or update the document ``number`` of ``company`` (the source system owns its documents).

    An update keeps the allocations: the open amount becomes the new amount less what is allocated,
    and is refused if that would be negative or if the document would change customer or currency.
    """
    number = str(number or "").strip()
    if not number:
        raise errors.ValidationError("The document number cannot be empty.", field="number")
    values = _document_values(
        company,
        customer,
        type=type,
        issue_date=issue_date,
        due_date=due_date,
        currency=currency,
        amount=amount,
        tax_amount=tax_amount,
        corrects=corrects,
    )
    doc = Document.objects.select_for_update().filter(company=company, number=number).first()
    if doc is None:
        doc = Document(
            company=company, customer=customer, number=number, open_amount=values["amount"], source=source, **values
        )
        doc.save()
        audit.record(actor=actor, action="document.create", obj=doc, changes=audit.snapshot(doc))
        _emit("document.created", doc)
        return doc, "created"
    before = audit.snapshot(doc)
    allocated = doc.amount - doc.open_amount
    # Any allocation row, even one since reversed, ties the document to its customer, currency and type.
    has_history = Allocation.objects.filter(Q(target=doc) | Q(credit_note=doc)).exists()
    if doc.customer_id != customer.pk and has_history:
        raise errors.ValidationError(
            f"Document {number} has allocations; it cannot move to customer {customer.reference}.", field="customer_ref"
        )
    if (doc.currency != values["currency"] or doc.type != values["type"]) and has_history:
        raise errors.ValidationError(
            f"Document {number} has allocations; its currency and type cannot change.", field="currency"
        )
    if values["amount"] < allocated:
        raise errors.ValidationError(
            f"Document {number} already has {allocated} allocated; its amount cannot become {values['amount']}.",
            field="amount",
        )
    for key, value in values.items():
        setattr(doc, key, value)
    doc.customer = customer
    doc.open_amount = values["amount"] - allocated
    doc.settled_on = doc.settled_on if doc.open_amount == 0 else None
    status = _save_update(actor, doc, before, "document.update")
    if status == "updated":
        _emit("document.updated", doc)
    return doc, status


PAYMENT_RETURNED = "Payment {reference} was returned by the bank on {day}: it cannot be allocated."
PAYMENT_ALREADY_RETURNED = "Payment {reference} is already returned (on {day})."


@transaction.atomic
def payment_upsert(
    *,
    actor: Any,
    company: Company,
    customer: Customer | None,
    reference: str,
    date: Any,
    currency: str,
    amount: Any,
    method: str = PaymentMethod.TRANSFER,
    kind: str = PaymentKind.PAYMENT,
    bank_reference: str = "",
    payer_name: str = "",
    source: str = "manual",
) -> tuple[Payment, str]:
    """Create or update the payment ``reference`` of ``company``. A deposit is a payment of kind ``deposit``."""
    reference = str(reference or "").strip()
    if not reference:
        raise errors.ValidationError("The payment reference cannot be empty.", field="reference")
    if customer is not None and customer.company_id != company.pk:
        raise errors.ValidationError(
            errors.WRONG_COMPANY.format(
                what=f"Customer {customer.reference}", other=customer.company.code, company=company.code
            ),
            field="customer_ref",
        )
    currency = validate_currency(currency)
    amount_d = domain.check_amount(to_decimal(amount), currency)
    values = {
        "customer": customer,
        "date": _date(date, "date"),
        "currency": currency,
        "amount": amount_d,
        "method": _choice(method, PaymentMethod.values, "method"),
        "kind": _choice(kind, PaymentKind.values, "kind"),
        "bank_reference": bank_reference[:140],
        "payer_name": payer_name[:200],
    }
    payment = Payment.objects.select_for_update().filter(company=company, reference=reference).first()
    if payment is None:
        payment = Payment(company=company, reference=reference, unallocated_amount=amount_d, source=source, **values)
        payment.save()
        audit.record(actor=actor, action="payment.create", obj=payment, changes=audit.snapshot(payment))
        _emit("payment.received", payment)
        return payment, "created"
    before = audit.snapshot(payment)
    allocated = payment.amount - payment.unallocated_amount
    # A payment whose allocations were all reversed may move to another customer (cash applied to the wrong
    # payer, then unapplied); its currency stays fixed once it has any allocation history.
    has_history = payment.allocations.exists()
    has_live = payment.allocations.filter(reverses__isnull=True, reversed_by__isnull=True).exists()
    if (has_live and payment.customer_id != (customer.pk if customer else None)) or (
        has_history and payment.currency != currency
    ):
        raise errors.ValidationError(
            f"Payment {reference} has allocations; its customer and currency cannot change.", field="customer_ref"
        )
    if amount_d < allocated:
        raise errors.ValidationError(
            f"Payment {reference} already has {allocated} allocated; its amount cannot become {amount_d}.",
            field="amount",
        )
    for key, value in values.items():
        setattr(payment, key, value)
    payment.unallocated_amount = amount_d - allocated
    return payment, _save_update(actor, payment, before, "payment.update")


@transaction.atomic
def allocation_create(
    *,
    actor: Any,
    target: Document,
    amount: Any,
    date: Any,
    payment: Payment | None = None,
    credit_note: Document | None = None,
    source: str = "manual",
) -> Allocation:
    """Apply (part of) a payment or a credit note to an invoice. Never beyond either side's open amount."""
    if (payment is None) == (credit_note is None):
        raise errors.ValidationError("An allocation takes either a payment or a credit note.", field="source")
    # Lock and re-read both sides: the checks must see the committed open amounts.
    target = Document.objects.select_for_update().get(pk=target.pk)
    if payment is not None:
        src: Payment | Document = Payment.objects.select_for_update().get(pk=payment.pk)
        if src.returned_on is not None:
            raise errors.ValidationError(
                PAYMENT_RETURNED.format(reference=src.reference, day=src.returned_on), field="payment"
            )
        src_open, src_label, src_customer = src.unallocated_amount, f"payment {src.reference}", src.customer_id
    else:
        src = Document.objects.select_for_update().get(pk=credit_note.pk)  # type: ignore[union-attr]
        if src.type != DocumentType.CREDIT_NOTE:
            raise errors.ValidationError(f"Document {src.number} is not a credit note.", field="credit_note")
        src_open, src_label, src_customer = src.open_amount, f"credit note {src.number}", src.customer_id
    if src.company_id != target.company_id:
        raise errors.ValidationError(
            errors.WRONG_COMPANY.format(what=src_label, other=src.company_id, company=target.company_id), field="source"
        )
    amount_d = to_decimal(amount)
    domain.check_allocation(
        domain.AllocationRequest(
            amount=amount_d,
            currency=target.currency,
            source_label=src_label,
            source_currency=src.currency,
            source_open=src_open,
            source_customer=src_customer,
            target_number=target.number,
            target_type=target.type,
            target_currency=target.currency,
            target_open=target.open_amount,
            target_customer=target.customer_id,
        )
    )
    day = _date(date, "date")
    allocation = Allocation.objects.create(
        company_id=target.company_id,
        customer_id=target.customer_id,
        target=target,
        payment=payment if payment is not None else None,
        credit_note=credit_note if credit_note is not None else None,
        currency=target.currency,
        amount=amount_d,
        date=day,
        source=source,
        created_by=actor if isinstance(actor, User) else None,
    )
    _apply(target, src, amount_d, day)
    audit.record(
        actor=actor,
        action="allocation.create",
        obj=allocation,
        changes={"amount": str(amount_d), "target": target.number, "source": src_label, "date": day.isoformat()},
    )
    if isinstance(src, Payment):
        allocation.payment = src  # the locked row, with its new unallocated amount
        _emit("payment.allocated", allocation)
    return allocation


def _apply(target: Document, src: Payment | Document | None, amount: Decimal, day: dt.date) -> None:
    """Move ``amount`` (negative to undo) between the open amounts of both sides.

    Both rows are locked and freshly read by the caller. The new values are computed here in Decimal
    and written as such: SQLite would do ``open_amount - x`` in floating point.
    """
    now = clock.now()  # updated_at moves too: incremental syncs (updated_since) must see the change
    target.open_amount -= amount
    target.settled_on = day if target.open_amount == 0 else None
    Document.objects.filter(pk=target.pk).update(
        open_amount=target.open_amount, settled_on=target.settled_on, updated_at=now
    )
    if src is None:
        return  # a non-cash settlement has no other side
    if isinstance(src, Payment):
        src.unallocated_amount -= amount
        Payment.objects.filter(pk=src.pk).update(unallocated_amount=src.unallocated_amount, updated_at=now)
    else:
        src.open_amount -= amount
        src.settled_on = day if src.open_amount == 0 else None
        Document.objects.filter(pk=src.pk).update(
            open_amount=src.open_amount, settled_on=src.settled_on, updated_at=now
        )


@transaction.atomic
def document_close(
    *, actor: Any, document: Document, date: Any, source: str = SOURCE_CLOSURE, reason: str = ""
) -> Allocation:
    """Settle what is left of a document without cash: the source system closed it (``source_closure``) or it is
    written off (``write_off``). An allocation like any other: audited, and undone by a reversal."""
    if source not in NON_CASH_SOURCES:
        raise errors.ValidationError(
            f"{source!r} is not a non-cash settlement ({', '.join(NON_CASH_SOURCES)}).", field="source"
        )
    target = Document.objects.select_for_update().get(pk=document.pk)
    if target.open_amount <= 0:
        raise errors.ValidationError(f"Document {target.number} is not open.", field="document")
    day = _date(date, "date")
    allocation = Allocation.objects.create(
        company_id=target.company_id,
        customer_id=target.customer_id,
        target=target,
        currency=target.currency,
        amount=target.open_amount,
        date=day,
        source=source,
        created_by=actor if isinstance(actor, User) else None,
    )
    _apply(target, None, target.open_amount, day)
    audit.record(
        actor=actor,
        action=f"document.{source}",
        obj=target,
        message=reason,
        changes={"amount": str(allocation.amount), "allocation": allocation.pk, "date": day.isoformat()},
    )
    return allocation


@transaction.atomic
def allocation_reverse(*, actor: Any, allocation: Allocation, date: Any, reason: str = "") -> Allocation:
    """Undo an allocation by an opposite entry; the original stays in the ledger."""
    original = Allocation.objects.select_for_update().get(pk=allocation.pk)
    if original.reverses_id is not None:
        raise errors.ValidationError(
            "A reversal cannot itself be reversed; allocate again instead.", field="allocation"
        )
    if Allocation.objects.filter(reverses=original).exists():
        raise errors.ValidationError(errors.ALLOCATION_ALREADY_REVERSED.format(id=original.pk), field="allocation")
    day = _date(date, "date")
    target = Document.objects.select_for_update().get(pk=original.target_id)
    src: Payment | Document | None = None
    if original.payment_id:
        src = Payment.objects.select_for_update().get(pk=original.payment_id)
    elif original.credit_note_id:
        src = Document.objects.select_for_update().get(pk=original.credit_note_id)
    reversal = Allocation.objects.create(
        company_id=original.company_id,
        customer_id=original.customer_id,
        target=target,
        payment_id=original.payment_id,
        credit_note_id=original.credit_note_id,
        currency=original.currency,
        amount=-original.amount,
        date=day,
        reverses=original,
        source=original.source,
        created_by=actor if isinstance(actor, User) else None,
    )
    _apply(target, src, -original.amount, day)
    audit.record(
        actor=actor,
        action="allocation.reverse",
        obj=reversal,
        message=reason,
        changes={"reverses": original.pk, "amount": str(-original.amount), "target": target.number},
    )
    return reversal


@transaction.atomic
def payment_return(*, actor: Any, payment: Payment, date: Any, reason: str = "") -> Payment:
    """The bank returned the money of ``payment`` (bounced, recalled, direct debit rejected): reverse its live
    allocations on ``date`` (the invoices reopen), then mark it returned. A returned payment is no longer cash to
    apply: it is left out of unallocated cash and cannot be allocated again."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.returned_on is not None:
        raise errors.ValidationError(
            PAYMENT_ALREADY_RETURNED.format(reference=payment.reference, day=payment.returned_on), field="payment"
        )
    day = _date(date, "date")
    live = Allocation.objects.filter(payment=payment, reverses__isnull=True, reversed_by__isnull=True)
    reversed_ids = []
    for allocation in live.order_by("id"):
        reversed_ids.append(
            allocation_reverse(actor=actor, allocation=allocation, date=day, reason=reason or "Payment returned").pk
        )
    payment.returned_on = day
    Payment.objects.filter(pk=payment.pk).update(returned_on=day, updated_at=clock.now())
    audit.record(
        actor=actor,
        action="payment.return",
        obj=payment,
        message=reason,
        changes={"returned_on": day.isoformat(), "reversals": reversed_ids},
    )
    return payment
