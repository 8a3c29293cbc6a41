"""The collector's work: tasks, the one-form call log, write-offs and provisions (keyword-only, audited)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from relance.core import audit, clock, errors
from relance.core.money import Money, quantize
from relance.ledger import services as ledger
from relance.ledger.models import Allocation, Customer, Document
from relance.orgs.models import User

from . import activity as kinds
from . import services
from .models import Task, TaskKind

OUTCOMES = ("reached", "no_answer", "wrong_contact")
UNKNOWN_OUTCOME = "{value!r} is not a call outcome; outcomes are: {choices}."
TASK_CLOSED = "Task {id} is already {status}."
NEXT_BEFORE_TODAY = "The next action date {date} is before today ({today})."
WRITE_OFF_OVER_THRESHOLD = (
    "Document {number} has {amount} {currency} open, above the small-balance threshold of {threshold}: "
    "a bad-debt write-off needs a credit manager's approval (approve=True)."
)
APPROVER_ROLES = frozenset({"admin", "credit_manager"})


@transaction.atomic
def task_create(
    *,
    actor: Any,
    customer: Customer,
    kind: str,
    title: str,
    due_on: dt.date,
    assignee: User | None = None,
    data: dict[str, Any] | None = None,
) -> Task:
    services._check(actor, customer)
    if kind not in TaskKind.values:
        raise errors.ValidationError(f"{kind!r} is not a kind of task ({', '.join(TaskKind.values)}).", field="kind")
    task = Task.objects.create(
        company_id=customer.company_id,
        customer=customer,
        kind=kind,
        title=title[:300],
        due_on=due_on,
        assignee=assignee or customer.collector,
        data=data or {},
    )
    audit.record(
        actor=actor,
        action="task.create",
        obj=task,
        changes=audit.snapshot(task, ["kind", "title", "due_on", "assignee"]),
    )
    return task


@transaction.atomic
def task_done(*, actor: Any, task: Task, as_of: dt.date | None = None, status: str = "done") -> Task:
    task = Task.objects.select_for_update().select_related("customer").get(pk=task.pk)
    services._check(actor, task.customer)
    if task.status != "open":
        raise errors.ValidationError(TASK_CLOSED.format(id=task.pk, status=task.status), field="task")
    task.status, task.done_on = status, as_of or clock.today()
    task.save(update_fields=["status", "done_on"])
    audit.record(actor=actor, action=f"task.{status}", obj=task, changes={"done_on": task.done_on.isoformat()})
    return task


@transaction.atomic
def call_log(
    *,
    actor: Any,
    customer: Customer,
    outcome: str,
    note: str = "",
    promise_amount: Money | None = None,
    promise_date: dt.date | None = None,
    promise_documents: list[Document] | None = None,
    dispute_documents: list[Document] | None = None,
    dispute_reason: str = "",
    next_action_on: dt.date | None = None,
    task: Task | None = None,
    as_of: dt.date | None = None,
) -> dict[str, Any]:
    """Log a call in one go: its outcome and note, and as the case may be a promise, a dispute, the next action
    (a follow-up task), and the call task it closes. All or nothing."""
    services._check(actor, customer)
    if outcome not in OUTCOMES:
        raise errors.ValidationError(
            UNKNOWN_OUTCOME.format(value=outcome, choices=", ".join(OUTCOMES)), field="outcome"
        )
    day = as_of or clock.today()
    if next_action_on is not None and next_action_on < day:
        raise errors.ValidationError(NEXT_BEFORE_TODAY.format(date=next_action_on, today=day), field="next_action_on")
    out: dict[str, Any] = {"promise": None, "dispute": None, "follow_up": None}
    if promise_amount is not None or promise_date is not None:
        if promise_amount is None or promise_date is None:
            raise errors.ValidationError("A promise needs both an amount and a date.", field="promise_amount")
        out["promise"] = services.promise_create(
            actor=actor,
            customer=customer,
            documents=promise_documents or [],
            amount=promise_amount,
            promised_for=promise_date,
            as_of=as_of,
        )
    if dispute_documents:
        out["dispute"] = services.dispute_open(
            actor=actor,
            customer=customer,
            documents=dispute_documents,
            reason=dispute_reason or "other",
            message=note,
            as_of=as_of,
        )
    if next_action_on is not None:
        out["follow_up"] = task_create(
            actor=actor,
            customer=customer,
            kind=TaskKind.FOLLOW_UP,
            title=note[:120] or "Follow-up call",
            due_on=next_action_on,
            assignee=actor if isinstance(actor, User) else None,
        )
    if task is not None:
        task_done(actor=actor, task=task, as_of=day)
    out["activity"] = services.activity_record(
        customer=customer,
        kind=kinds.CALL,
        actor=actor,
        text=note,
        data={
            "outcome": outcome,
            "promise": out["promise"].pk if out["promise"] else None,
            "dispute": out["dispute"].pk if out["dispute"] else None,
            "next_action_on": next_action_on,
            "task": task.pk if task else None,
        },
        at=services.moment(as_of),
    )
    return out


# --- end of the road: write-offs and provisions ---------------------------------------------------


@transaction.atomic
def write_off(
    *, actor: Any, document: Document, reason: str, approve: bool = False, as_of: dt.date | None = None
) -> Allocation:
    """Write off what is left of an invoice: a small residual (below the company's threshold) directly, a bad
    debt only with ``approve`` by an admin or credit manager. A non-cash settlement (ledger ``write_off``),
    audited, reversible with :func:`write_off_reverse`, exported with the allocations."""
    from .rules import settings_for

    doc = Document.objects.select_related("customer").get(pk=document.pk)
    services._check(actor, doc.customer)
    threshold = Decimal(str(settings_for(doc.company_id).write_off_threshold))
    if doc.open_amount > threshold:
        if not approve:
            raise errors.ValidationError(
                WRITE_OFF_OVER_THRESHOLD.format(
                    number=doc.number, amount=doc.open_amount, currency=doc.currency, threshold=threshold
                ),
                field="approve",
            )
        if isinstance(actor, User) and not (actor.is_superuser or actor.role in APPROVER_ROLES):
            raise errors.PermissionDenied("Only an administrator or a credit manager approves a bad-debt write-off.")
    day = as_of or clock.today()
    amount = doc.open_amount
    allocation = ledger.document_close(actor=actor, document=doc, date=day, source="write_off", reason=reason)
    services.activity_record(
        customer=doc.customer,
        kind=kinds.WRITE_OFF,
        actor=actor,
        text=reason,
        data={
            "document": doc.number,
            "amount": str(quantize(amount, doc.currency)),
            "currency": doc.currency,
            "allocation": allocation.pk,
            "bad_debt": amount > threshold,
        },
        at=services.moment(as_of),
    )
    return allocation


@transaction.atomic
def write_off_reverse(*, actor: Any, allocation: Allocation, reason: str = "", as_of: dt.date | None = None) -> Any:
    """Undo a write-off (the customer paid after all): a reversal entry, the original stays."""
    alloc = Allocation.objects.select_related("customer", "target").get(pk=allocation.pk)
    services._check(actor, alloc.customer)
    if alloc.source != "write_off":
        raise errors.ValidationError(f"Allocation {alloc.pk} is not a write-off.", field="allocation")
    reversal = ledger.allocation_reverse(actor=actor, allocation=alloc, date=as_of or clock.today(), reason=reason)
    services.activity_record(
        customer=alloc.customer,
        kind=kinds.WRITE_OFF_REVERSED,
        actor=actor,
        text=reason,
        data={"document": alloc.target.number, "allocation": alloc.pk},
        at=services.moment(as_of),
    )
    return reversal


@transaction.atomic
def provision_set(
    *, actor: Any, document: Document, rate: Decimal, reason: str = "", as_of: dt.date | None = None
) -> Any:
    """Provision a doubtful debt at ``rate`` (0 to 1) of its open amount, excluding tax; 0 releases it.
    Each change is a new row (the history is the record), audited."""
    from .models import Provision

    doc = Document.objects.select_related("customer").get(pk=document.pk)
    services._check(actor, doc.customer)
    if isinstance(actor, User) and not (actor.is_superuser or actor.role in APPROVER_ROLES):
        raise errors.PermissionDenied("Only an administrator or a credit manager books provisions.")
    if not (Decimal(0) <= rate <= Decimal(1)):
        raise errors.ValidationError(f"The rate must be between 0 and 1 (got {rate}).", field="rate")
    net_open = doc.open_amount * (doc.amount - doc.tax_amount) / doc.amount
    amount = quantize(net_open * rate, doc.currency)
    previous = Provision.objects.filter(document=doc).order_by("-id").first()
    row = Provision.objects.create(
        company_id=doc.company_id,
        customer=doc.customer,
        document=doc,
        rate=rate,
        amount=amount,
        currency=doc.currency,
        date=as_of or clock.today(),
        reason=reason[:300],
        previous_amount=previous.amount if previous else Decimal(0),
    )
    audit.record(
        actor=actor,
        action="provision.set",
        obj=row,
        changes={
            "document": doc.number,
            "rate": str(rate),
            "amount": str(amount),
            "previous_amount": str(row.previous_amount),
        },
    )
    services.activity_record(
        customer=doc.customer,
        kind=kinds.PROVISION,
        actor=actor,
        text=reason,
        data={"document": doc.number, "amount": str(amount), "currency": doc.currency, "rate": str(rate)},
        at=services.moment(as_of),
    )
    return row


def letters_print(*, actor: Any, day: dt.date | None = None, out: Any) -> dict[str, Any]:
    """Merge the letters and formal notices queued for printing (of ``day``, or all) into one PDF written to
    ``out`` (a binary file), and mark them printed. Printing again finds nothing queued."""
    from pypdf import PdfReader, PdfWriter

    from .models import ActionStatus, DunningAction

    queued = DunningAction.objects.filter(status=ActionStatus.QUEUED, channel__in=["letter", "formal_notice"])
    if day is not None:
        queued = queued.filter(run_date=day)
    queued = list(queued.order_by("company_id", "customer__reference", "id").select_related("customer"))
    writer = PdfWriter()
    for action in queued:
        with action.file.open("rb") as handle:
            writer.append(PdfReader(handle))
    if queued:
        writer.write(out)
    with transaction.atomic():
        DunningAction.objects.filter(pk__in=[a.pk for a in queued]).update(status=ActionStatus.PRINTED)
        for action in queued:
            audit.record(actor=actor, action="letter.print", obj=action, changes={"reference": action.reference})
    return {"letters": len(queued), "references": [a.reference for a in queued]}


def small_balances(*, actor: Any, as_of: dt.date, min_days: int = 30, dry_run: bool = False) -> dict[str, Any]:
    """Write off every invoice residual at or below its company's threshold and at least ``min_days`` past due."""
    from django.db.models import F

    from .models import CollectionSettings

    thresholds = dict(CollectionSettings.objects.values_list("company_id", "write_off_threshold"))
    default = CollectionSettings._meta.get_field("write_off_threshold").default
    docs = Document.objects.filter(
        type="invoice",
        open_amount__gt=0,
        open_amount__lt=F("amount"),
        due_date__lte=as_of - dt.timedelta(days=min_days),
    ).select_related("customer")
    done = []
    for doc in docs.filter(open_amount__lte=max([Decimal(str(default)), *thresholds.values()])).iterator():
        if doc.open_amount > Decimal(str(thresholds.get(doc.company_id, default))):
            continue
        done.append(
            {"number": doc.number, "amount": str(quantize(doc.open_amount, doc.currency)), "currency": doc.currency}
        )
        if not dry_run:
            write_off(actor=actor, document=doc, reason="small residual balance", as_of=as_of)
    return {"written_off": done, "dry_run": dry_run}
