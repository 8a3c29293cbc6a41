"""Risk writes: settings, credit limits (four eyes), blocks, ERP orders, insurance cover, factoring, claims.

Every function runs in one transaction and writes an audit row with the acting user (rule 2).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from relance.core import audit, clock, errors, scope
from relance.core.money import quantize, to_decimal, validate_currency
from relance.ledger.models import Customer, Document
from relance.orgs.models import Company, Group, User

from . import config, credit
from .models import (
    Claim,
    CreditInsuranceCover,
    CreditLimit,
    CustomerRisk,
    FactoredDocument,
    LimitStatus,
    Order,
    OrderStatus,
    RiskSettings,
)
from .scoring import settings_for

GRANT = "grant_credit_limit"

# Messages (rule 10)
SAME_APPROVER = "The second approver must be someone other than {user}, who granted this limit."
NOT_PENDING = "This limit is not awaiting approval (it is {status})."
NEGATIVE_LIMIT = "A credit limit cannot be negative (got {value})."
EXPIRY_PAST = "The expiry date {date} is already past."
ORDER_CURRENCY = "Order {reference}: currency {currency} differs from the stored order's {stored}."
UNKNOWN_ORDER_STATUS = "Unknown order status {value!r}; statuses are: {choices}."
ALREADY_DECLARED = "This claim was already declared on {date}."


def _require(actor: Any, action: str, obj: Any = None) -> None:
    if isinstance(actor, User):
        scope.require(actor, action, obj)


def _risk(customer: Customer) -> CustomerRisk:
    risk, _ = CustomerRisk.objects.select_for_update().get_or_create(
        customer=customer, defaults={"currency": customer.company.currency}
    )
    return risk


# --- settings ---------------------------------------------------------------------------------------------


def settings_update(*, actor: Any, group: Group, document: dict[str, Any]) -> dict[str, Any]:
    """Replace the group's stored settings document (validated first; nothing is written if invalid)."""
    _require(actor, "manage_reference_data")
    effective = config.resolve(document)
    with transaction.atomic():
        row, _ = RiskSettings.objects.select_for_update().get_or_create(group=group)
        before = row.document
        row.document = document
        row.save()
        audit.record(actor=actor, action="risk.settings", obj=row, changes={"document": [before, document]})
    return effective


# --- credit limits ----------------------------------------------------------------------------------------


def limit_grant(
    *,
    actor: Any,
    customer: Customer,
    amount: Decimal | str,
    expires_on: dt.date | None = None,
    note: str = "",
    as_of: dt.date | None = None,
) -> CreditLimit:
    """Grant a credit limit (company currency). Above the four-eyes amount it waits for a second approver."""
    _require(actor, GRANT, customer)
    today = as_of or clock.today()
    currency = customer.company.currency
    value = quantize(to_decimal(amount, field="amount"), currency)
    if value < 0:
        raise errors.ValidationError(NEGATIVE_LIMIT.format(value=value), field="amount")
    if expires_on is not None and expires_on < today:
        raise errors.ValidationError(EXPIRY_PAST.format(date=expires_on.isoformat()), field="expires_on")
    cfg = settings_for(customer.company.group_id)
    pending = credit.needs_second_approver(value, cfg)
    with transaction.atomic():
        limit = CreditLimit.objects.create(
            customer=customer,
            amount=value,
            currency=currency,
            expires_on=expires_on,
            note=note,
            status=LimitStatus.PENDING if pending else LimitStatus.ACTIVE,
            granted_by=actor if isinstance(actor, User) else None,
            decided_on=today,
        )
        if not pending:
            _activate(limit)
        audit.record(
            actor=actor,
            action="risk.limit_grant",
            obj=limit,
            customer_id=customer.pk,
            company_id=customer.company_id,
            changes={"amount": str(value), "expires_on": audit._jsonable(expires_on), "status": limit.status},
            message=note[:300],
        )
    return limit


def _activate(limit: CreditLimit) -> None:
    CreditLimit.objects.filter(customer_id=limit.customer_id, status=LimitStatus.ACTIVE).exclude(pk=limit.pk).update(
        status=LimitStatus.SUPERSEDED
    )
    limit.status = LimitStatus.ACTIVE
    limit.save(update_fields=["status", "approved_by"])
    risk = _risk(limit.customer)
    risk.granted_limit, risk.granted_expires_on, risk.granted_note = limit.amount, limit.expires_on, limit.note
    risk.save(update_fields=["granted_limit", "granted_expires_on", "granted_note", "updated_at"])


def limit_approve(*, actor: Any, limit: CreditLimit) -> CreditLimit:
    """The second approver confirms a pending limit (someone other than who granted it)."""
    _require(actor, GRANT, limit.customer)
    with transaction.atomic():
        limit = CreditLimit.objects.select_for_update().select_related("customer__company").get(pk=limit.pk)
        if limit.status != LimitStatus.PENDING:
            raise errors.ValidationError(NOT_PENDING.format(status=limit.get_status_display()))
        if isinstance(actor, User) and limit.granted_by_id == actor.pk:
            raise errors.PermissionDenied(SAME_APPROVER.format(user=actor.email))
        limit.approved_by = actor if isinstance(actor, User) else None
        _activate(limit)
        audit.record(
            actor=actor,
            action="risk.limit_approve",
            obj=limit,
            customer_id=limit.customer_id,
            company_id=limit.customer.company_id,
            changes={"status": ["pending", "active"], "amount": str(limit.amount)},
        )
    return limit


def limit_reject(*, actor: Any, limit: CreditLimit, note: str = "") -> CreditLimit:
    _require(actor, GRANT, limit.customer)
    with transaction.atomic():
        limit = CreditLimit.objects.select_for_update().select_related("customer").get(pk=limit.pk)
        if limit.status != LimitStatus.PENDING:
            raise errors.ValidationError(NOT_PENDING.format(status=limit.get_status_display()))
        limit.status = LimitStatus.REJECTED
        limit.approved_by = actor if isinstance(actor, User) else None
        limit.save(update_fields=["status", "approved_by"])
        audit.record(
            actor=actor,
            action="risk.limit_reject",
            obj=limit,
            customer_id=limit.customer_id,
            company_id=limit.customer.company_id,
            changes={"status": ["pending", "rejected"]},
            message=note[:300],
        )
    return limit


def limit_request(*, actor: Any, customer: Customer, amount: Decimal | str) -> CustomerRisk:
    """Record the limit a sales rep or the customer asks for (shown beside recommended and granted)."""
    _require(actor, "view", customer)
    value = quantize(to_decimal(amount, field="amount"), customer.company.currency)
    if value < 0:
        raise errors.ValidationError(NEGATIVE_LIMIT.format(value=value), field="amount")
    with transaction.atomic():
        risk = _risk(customer)
        before = risk.requested_limit
        risk.requested_limit = value
        risk.save(update_fields=["requested_limit", "updated_at"])
        audit.record(
            actor=actor,
            action="risk.limit_request",
            obj=risk,
            changes={"requested_limit": [audit._jsonable(before), str(value)]},
        )
    return risk


# --- block ------------------------------------------------------------------------------------------------


def customer_block(*, actor: Any, customer: Customer, blocked: bool, reason: str = "") -> CustomerRisk:
    """Block (no new credit: the credit check answers ``block``, the ERP export carries it) or unblock."""
    _require(actor, GRANT, customer)
    with transaction.atomic():
        risk = _risk(customer)
        before = (risk.blocked, risk.blocked_reason)
        risk.blocked, risk.blocked_reason = blocked, (reason if blocked else "")[:200]
        risk.save(update_fields=["blocked", "blocked_reason", "updated_at"])
        audit.record(
            actor=actor,
            action="risk.block" if blocked else "risk.unblock",
            obj=risk,
            changes={"blocked": [before[0], blocked], "reason": [before[1], risk.blocked_reason]},
        )
    return risk


# --- orders (ERP) -----------------------------------------------------------------------------------------


def order_upsert(
    *,
    actor: Any,
    company: Company,
    customer: Customer,
    reference: str,
    order_date: dt.date,
    amount: Decimal | str,
    currency: str,
    status: str = OrderStatus.OPEN,
) -> tuple[Order, str]:
    """Create or update an order by (company, reference). Returns the order and created/updated/unchanged."""
    _require(actor, "write_ledger", customer)
    currency = validate_currency(currency)
    value = quantize(to_decimal(amount, field="amount"), currency)
    if value < 0:
        raise errors.ValidationError(errors.NEGATIVE_AMOUNT.format(value=value), field="amount")
    if status not in OrderStatus.values:
        choices = ", ".join(OrderStatus.values)
        raise errors.ValidationError(UNKNOWN_ORDER_STATUS.format(value=status, choices=choices), field="status")
    if customer.company_id != company.pk:
        raise errors.ValidationError(
            errors.WRONG_COMPANY.format(what=f"Customer {customer.reference}", other=customer.company, company=company),
            field="customer",
        )
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(company=company, reference=reference).first()
        fields = {
            "customer": customer,
            "order_date": order_date,
            "amount": value,
            "currency": currency,
            "status": status,
        }
        if order is None:
            order = Order.objects.create(company=company, reference=reference, **fields)
            audit.record(actor=actor, action="risk.order_create", obj=order, changes=audit.snapshot(order))
            return order, "created"
        before = audit.snapshot(order)
        for name, v in fields.items():
            setattr(order, name, v)
        changes = audit.diff(before, audit.snapshot(order))
        if not changes:
            return order, "unchanged"
        order.save()
        audit.record(actor=actor, action="risk.order_update", obj=order, changes=changes)
    return order, "updated"


# --- insurance and factoring ------------------------------------------------------------------------------


def cover_create(
    *,
    actor: Any,
    customer: Customer,
    insurer: str,
    insured_amount: Decimal | str,
    currency: str,
    valid_from: dt.date,
    expires_on: dt.date | None = None,
    reference: str = "",
) -> CreditInsuranceCover:
    _require(actor, GRANT, customer)
    currency = validate_currency(currency)
    value = quantize(to_decimal(insured_amount, field="insured_amount"), currency)
    if value <= 0:
        raise errors.ValidationError(errors.ZERO_AMOUNT.format(value=value), field="insured_amount")
    if expires_on is not None and expires_on < valid_from:
        raise errors.ValidationError(
            errors.DUE_BEFORE_ISSUE.format(due=expires_on, issue=valid_from), field="expires_on"
        )
    with transaction.atomic():
        cover = CreditInsuranceCover.objects.create(
            customer=customer,
            insurer=insurer,
            reference=reference,
            insured_amount=value,
            currency=currency,
            valid_from=valid_from,
            expires_on=expires_on,
        )
        audit.record(actor=actor, action="risk.cover_create", obj=cover, changes=audit.snapshot(cover))
    return cover


def document_factor(
    *, actor: Any, document: Document, factor: str, assigned_on: dt.date, released_on: dt.date | None = None
) -> FactoredDocument:
    """Record that an invoice is assigned to a factor (or released from it)."""
    _require(actor, "write_ledger", document.customer)
    with transaction.atomic():
        row, created = FactoredDocument.objects.update_or_create(
            document=document, defaults={"factor": factor, "assigned_on": assigned_on, "released_on": released_on}
        )
        audit.record(
            actor=actor,
            action="risk.factor",
            obj=row,
            customer_id=document.customer_id,
            company_id=document.company_id,
            changes=audit.snapshot(row),
        )
    return row


# --- claims -----------------------------------------------------------------------------------------------


def claim_declare(*, actor: Any, claim: Claim, declared_on: dt.date) -> Claim:
    """Record that the claim was declared to the court-appointed representative (its alerts then clear)."""
    _require(actor, "write_ledger", claim.customer)
    with transaction.atomic():
        claim = Claim.objects.select_for_update().select_related("customer").get(pk=claim.pk)
        if claim.declared_on is not None:
            raise errors.ValidationError(ALREADY_DECLARED.format(date=claim.declared_on.isoformat()))
        claim.declared_on = declared_on
        claim.declared_by = actor if isinstance(actor, User) else None
        claim.save(update_fields=["declared_on", "declared_by"])
        audit.record(
            actor=actor, action="risk.claim_declare", obj=claim, changes={"declared_on": declared_on.isoformat()}
        )
    return claim
