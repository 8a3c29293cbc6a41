"""Writes on collection records: disputes, promises to pay, the activity log.

Each function takes keyword-only arguments, runs in one transaction, writes an audit row and, where the
webhook vocabulary has an event for it, records the event in the same transaction (the outbox).
``actor`` is a User (checked against its role and scope), a label such as ``"portal:contact 12"`` or
``audit.SYSTEM`` (trusted callers: the portal, the mail reader, the scheduler).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from relance.core import audit, clock, errors, scope
from relance.core.money import Money, quantize
from relance.ledger.models import Customer, Document
from relance.orgs.models import User

from . import activity as kinds
from . import events
from .models import Activity, Dispute, DisputeReason, DisputeStatus, Promise, PromiseSource, PromiseStatus

COLLECT = "collect"

NO_DOCUMENTS = "Give at least one document of the customer."
NOT_CUSTOMERS_DOCUMENT = "Document {ref} does not belong to customer {customer}."
UNKNOWN_REASON = "{value!r} is not a dispute reason; reasons are: {choices}."
UNKNOWN_SOURCE = "{value!r} is not a source; sources are: {choices}."
DISPUTE_NOT_OPEN = "Dispute {id} is already resolved ({status})."
BAD_RESOLUTION = "{value!r} is not a resolution; resolutions are: {choices}."
PROMISE_NOT_OPEN = "Promise {id} is already {status}."
PROMISE_CURRENCY = "The promise is in {currency} but document {number} is in {other}."
PROMISE_IN_PAST = "The promised date {date} is before the day the promise is made ({made_on})."
PROMISE_AMOUNT = "The promised amount must be greater than zero (got {value})."
UNKNOWN_KIND = "{value!r} is not a kind of activity; kinds are: {choices}."


def _check(actor: Any, customer: Customer) -> None:
    if isinstance(actor, User):
        scope.require(actor, COLLECT, customer)


def _user(actor: Any) -> User | None:
    return actor if isinstance(actor, User) else None


def moment(as_of: dt.date | None) -> dt.datetime:
    """The instant to stamp on a record made "as of" a business date (now, when that date is today)."""
    if as_of is None or as_of == clock.today():
        return clock.now()
    return dt.datetime.combine(as_of, dt.time(12, 0), tzinfo=ZoneInfo(settings.TIME_ZONE))


def _documents(customer: Customer, documents: Iterable[Document | int], *, required: bool) -> list[Document]:
    wanted = [d.pk if isinstance(d, Document) else int(d) for d in documents]
    found = {d.pk: d for d in Document.objects.filter(pk__in=wanted)}
    out: list[Document] = []
    for pk in dict.fromkeys(wanted):
        doc = found.get(pk)
        if doc is None or doc.customer_id != customer.pk:
            ref = doc.number if doc is not None else f"#{pk}"
            raise errors.ValidationError(
                NOT_CUSTOMERS_DOCUMENT.format(ref=ref, customer=customer.reference), field="documents"
            )
        out.append(doc)
    if required and not out:
        raise errors.ValidationError(NO_DOCUMENTS, field="documents")
    return out


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json(v) for v in value]
    return audit._jsonable(value)


def _source(value: str) -> str:
    if value not in PromiseSource.values:
        choices = ", ".join(PromiseSource.values)
        raise errors.ValidationError(UNKNOWN_SOURCE.format(value=value, choices=choices), field="source")
    return value


# --- activity ------------------------------------------------------------------------------------


def activity_record(
    *,
    customer: Customer,
    kind: str,
    text: str = "",
    actor: Any = None,
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Activity:
    """Append one line to the customer's collection history (no audit row: the history is the record)."""
    if kind not in kinds.KINDS:
        raise errors.ValidationError(UNKNOWN_KIND.format(value=kind, choices=", ".join(kinds.KINDS)), field="kind")
    if at is not None and at.tzinfo is None:
        raise errors.ValidationError(f"{at!r} has no time zone.", field="at")
    return Activity.objects.create(
        company_id=customer.company_id,
        customer=customer,
        at=at or clock.now(),
        kind=kind,
        user=_user(actor),
        actor=audit.actor_label(actor)[:200],
        text=str(text or ""),
        data=_json(data or {}),
    )


# --- disputes ------------------------------------------------------------------------------------


@transaction.atomic
def dispute_open(
    *,
    actor: Any,
    customer: Customer,
    documents: Iterable[Document | int],
    reason: str,
    message: str = "",
    source: str = "collector",
    as_of: dt.date | None = None,
) -> Dispute:
    """The customer contests ``documents``: dunning pauses for them (only) until the dispute is resolved."""
    _check(actor, customer)
    if reason not in DisputeReason.values:
        choices = ", ".join(DisputeReason.values)
        raise errors.ValidationError(UNKNOWN_REASON.format(value=reason, choices=choices), field="reason")
    _source(source)
    docs = _documents(customer, documents, required=True)
    day = as_of or clock.today()
    dispute = Dispute.objects.create(
        company_id=customer.company_id,
        customer=customer,
        reason=reason,
        message=str(message or ""),
        opened_on=day,
        owner=_user(actor) if _user(actor) and _user(actor).role == "collector" else customer.collector,
    )
    dispute.documents.set(docs)
    numbers = [d.number for d in docs]
    audit.record(
        actor=actor,
        action="dispute.open",
        obj=dispute,
        changes={**audit.snapshot(dispute, ["reason", "status", "opened_on", "owner"]), "documents": numbers},
        message=f"source={source}",
    )
    activity_record(
        customer=customer,
        kind=kinds.DISPUTE_OPENED,
        actor=actor,
        text=str(message or ""),
        data={"dispute": dispute.pk, "documents": numbers, "reason": reason, "source": source},
        at=moment(as_of),
    )
    events.emit_dispute_opened(dispute)
    return dispute


@transaction.atomic
def dispute_resolve(*, actor: Any, dispute: Dispute, status: str, as_of: dt.date | None = None) -> Dispute:
    """Close a dispute (credit note issued, rejected, paid): dunning resumes for what is still open."""
    dispute = Dispute.objects.select_for_update().select_related("customer").get(pk=dispute.pk)
    _check(actor, dispute.customer)
    resolutions = [s for s in DisputeStatus.values if s != DisputeStatus.OPEN]
    if status not in resolutions:
        raise errors.ValidationError(
            BAD_RESOLUTION.format(value=status, choices=", ".join(resolutions)), field="status"
        )
    if dispute.status != DisputeStatus.OPEN:
        raise errors.ValidationError(DISPUTE_NOT_OPEN.format(id=dispute.pk, status=dispute.status), field="status")
    before = audit.snapshot(dispute, ["status", "resolved_on"])
    dispute.status = status
    dispute.resolved_on = as_of or clock.today()
    dispute.save(update_fields=["status", "resolved_on", "updated_at"])
    audit.record(
        actor=actor,
        action="dispute.resolve",
        obj=dispute,
        changes=audit.diff(before, audit.snapshot(dispute, ["status", "resolved_on"])),
    )
    activity_record(
        customer=dispute.customer,
        kind=kinds.DISPUTE_RESOLVED,
        actor=actor,
        data={"dispute": dispute.pk, "status": status},
        at=moment(as_of),
    )
    return dispute


# --- promises ------------------------------------------------------------------------------------


@transaction.atomic
def promise_create(
    *,
    actor: Any,
    customer: Customer,
    documents: Iterable[Document | int],
    amount: Money,
    promised_for: dt.date,
    source: str = "collector",
    as_of: dt.date | None = None,
) -> Promise:
    """Record a promise to pay: dunning pauses for its documents (or the whole account, without documents)."""
    _check(actor, customer)
    _source(source)
    if not isinstance(amount, Money):
        raise errors.ValidationError(f"{amount!r} is not an amount with its currency.", field="amount")
    if amount.amount <= 0:
        raise errors.ValidationError(PROMISE_AMOUNT.format(value=amount), field="amount")
    if not isinstance(promised_for, dt.date) or isinstance(promised_for, dt.datetime):
        raise errors.ValidationError(f"{promised_for!r} is not a date.", field="promised_for")
    day = as_of or clock.today()
    if promised_for < day:
        raise errors.ValidationError(PROMISE_IN_PAST.format(date=promised_for, made_on=day), field="promised_for")
    docs = _documents(customer, documents, required=False)
    for doc in docs:
        if doc.currency != amount.currency:
            raise errors.ValidationError(
                PROMISE_CURRENCY.format(currency=amount.currency, number=doc.number, other=doc.currency),
                field="documents",
            )
    promise = Promise.objects.create(
        company_id=customer.company_id,
        customer=customer,
        amount=quantize(amount.amount, amount.currency),
        currency=amount.currency,
        promised_for=promised_for,
        made_on=day,
        source=source,
        created_by=_user(actor),
    )
    promise.documents.set(docs)
    numbers = [d.number for d in docs]
    audit.record(
        actor=actor,
        action="promise.create",
        obj=promise,
        changes={
            **audit.snapshot(promise, ["amount", "currency", "promised_for", "made_on", "source"]),
            "documents": numbers,
        },
    )
    activity_record(
        customer=customer,
        kind=kinds.PROMISE_MADE,
        actor=actor,
        data={
            "promise": promise.pk,
            "amount": str(promise.amount),
            "currency": promise.currency,
            "promised_for": promised_for,
            "documents": numbers,
            "source": source,
        },
        at=moment(as_of),
    )
    return promise


def _close_promise(promise: Promise, status: str, day: dt.date, actor: Any, kind: str) -> Promise:
    if promise.status != PromiseStatus.OPEN:
        raise errors.ValidationError(PROMISE_NOT_OPEN.format(id=promise.pk, status=promise.status), field="status")
    before = audit.snapshot(promise, ["status", "resolved_on"])
    promise.status = status
    promise.resolved_on = day
    promise.save(update_fields=["status", "resolved_on", "updated_at"])
    audit.record(
        actor=actor,
        action=f"promise.{status}",
        obj=promise,
        changes=audit.diff(before, audit.snapshot(promise, ["status", "resolved_on"])),
    )
    activity_record(customer=promise.customer, kind=kind, actor=actor, data={"promise": promise.pk}, at=moment(day))
    return promise


@transaction.atomic
def promise_cancel(*, actor: Any, promise: Promise, as_of: dt.date | None = None) -> Promise:
    """Withdraw an open promise (recorded by mistake, superseded): dunning resumes as if it never existed."""
    promise = Promise.objects.select_for_update().select_related("customer").get(pk=promise.pk)
    _check(actor, promise.customer)
    return _close_promise(promise, PromiseStatus.CANCELLED, as_of or clock.today(), actor, kinds.PROMISE_CANCELLED)


@transaction.atomic
def promise_keep(*, actor: Any, promise: Promise, as_of: dt.date | None = None) -> Promise:
    """Mark an open promise kept (the daily review does it from incoming payments)."""
    promise = Promise.objects.select_for_update().select_related("customer").get(pk=promise.pk)
    _check(actor, promise.customer)
    return _close_promise(promise, PromiseStatus.KEPT, as_of or clock.today(), actor, kinds.PROMISE_KEPT)


@transaction.atomic
def promise_break(*, actor: Any, promise: Promise, as_of: dt.date | None = None) -> Promise:
    """Mark an open promise broken: dunning resumes, the ``promise.broken`` event is emitted."""
    promise = Promise.objects.select_for_update().select_related("customer").get(pk=promise.pk)
    _check(actor, promise.customer)
    promise = _close_promise(promise, PromiseStatus.BROKEN, as_of or clock.today(), actor, kinds.PROMISE_BROKEN)
    events.emit_promise_broken(promise)
    return promise
