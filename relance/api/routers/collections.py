"""Collections: disputes, promises to pay, a customer's collection history, the reminders sent."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from relance.api import problems
from relance.api.auth import actor
from relance.api.pagination import Pagination
from relance.collections import events, selectors, services
from relance.collections.models import DunningAction
from relance.core import errors
from relance.core.money import Money, quantize, to_decimal
from relance.ledger import selectors as ledger_selectors
from relance.ledger.models import Document

from ._common import stable
from .collections_schemas import ActivityOut, DisputeIn, DisputeOut, PromiseIn, PromiseOut, ReminderOut, ResolveIn

router = Router(tags=["collections"])


class ListQuery(Schema):
    customer_id: int | None = None
    status: str | None = None


def _documents(user: Any, customer: Any, numbers: list[str]) -> list[Document]:
    docs = {d.number: d for d in ledger_selectors.documents(user).filter(customer=customer, number__in=numbers)}
    missing = [n for n in numbers if n not in docs]
    if missing:
        raise errors.ValidationError(
            f"Unknown document(s) of customer {customer.reference}: {', '.join(missing)}.", field="documents"
        )
    return [docs[n] for n in numbers]


def _reminder(a: DunningAction) -> dict[str, Any]:
    return {
        "id": a.pk, "reference": a.reference, "run_date": a.run_date, "company": a.company.code,
        "customer": {"id": a.customer.pk, "reference": a.customer.reference, "name": a.customer.name},
        "currency": a.currency, "step": a.step, "channel": a.channel, "documents": a.numbers,
        "amount": str(quantize(a.amount, a.currency)), "status": a.status, "message_id": a.message_id,
    }  # fmt: skip


@router.get("/disputes", response={200: list[DisputeOut], **problems.responses()}, summary="List disputes")
@paginate(Pagination)
def list_disputes(request: HttpRequest, filters: Query[ListQuery]) -> list[dict[str, Any]]:
    qs = selectors.disputes(actor(request), customer_id=filters.customer_id, status=filters.status)
    return [events.dispute_data(d) for d in stable(qs.select_related("company").prefetch_related("documents"))]


@router.post(
    "/disputes",
    response={201: DisputeOut, **problems.responses(403, 404, 422)},
    summary="Open a dispute",
    description="The customer contests documents: reminders pause for them only. Emits `dispute.opened`.",
)
def open_dispute(request: HttpRequest, body: DisputeIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customer = ledger_selectors.customer(user, body.customer_id)
    docs = _documents(user, customer, body.documents)
    dispute = services.dispute_open(
        actor=user, customer=customer, documents=docs, reason=body.reason, message=body.message, source="api"
    )
    return Status(201, events.dispute_data(dispute))


@router.post("/disputes/{dispute_id}/resolve", response={200: DisputeOut, **problems.responses(403, 404, 422)},
             summary="Resolve a dispute")  # fmt: skip
def resolve_dispute(request: HttpRequest, dispute_id: int, body: ResolveIn) -> dict[str, Any]:
    user = actor(request)
    dispute = selectors.disputes(user).filter(pk=dispute_id).first()
    if dispute is None:
        raise errors.NotFound()
    return events.dispute_data(services.dispute_resolve(actor=user, dispute=dispute, status=body.status))


@router.get("/promises", response={200: list[PromiseOut], **problems.responses()}, summary="List promises to pay")
@paginate(Pagination)
def list_promises(request: HttpRequest, filters: Query[ListQuery]) -> list[dict[str, Any]]:
    qs = selectors.promises(actor(request), customer_id=filters.customer_id, status=filters.status)
    return [events.promise_data(p) for p in stable(qs.select_related("company").prefetch_related("documents"))]


@router.post("/promises", response={201: PromiseOut, **problems.responses(403, 404, 422)},
             summary="Record a promise to pay", description="Reminders pause for its documents (or the account) "
             "until it is kept, broken (then `promise.broken` is emitted) or cancelled.")  # fmt: skip
def create_promise(request: HttpRequest, body: PromiseIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customer = ledger_selectors.customer(user, body.customer_id)
    promise = services.promise_create(
        actor=user, customer=customer, documents=_documents(user, customer, body.documents),
        amount=Money(to_decimal(body.amount), body.currency), promised_for=body.promised_for, source="api",
    )  # fmt: skip
    return Status(201, events.promise_data(promise))


@router.post("/promises/{promise_id}/cancel", response={200: PromiseOut, **problems.responses(403, 404, 422)},
             summary="Cancel a promise to pay")  # fmt: skip
def cancel_promise(request: HttpRequest, promise_id: int) -> dict[str, Any]:
    user = actor(request)
    promise = selectors.promises(user).filter(pk=promise_id).first()
    if promise is None:
        raise errors.NotFound()
    return events.promise_data(services.promise_cancel(actor=user, promise=promise))


@router.get("/customers/{customer_id}/collection-history", response={200: list[ActivityOut], **problems.responses(404)},
            summary="A customer's collection history", description="Reminders (with message ids), calls, "
            "replies, promises, disputes, write-offs… newest first.")  # fmt: skip
@paginate(Pagination)
def collection_history(request: HttpRequest, customer_id: int) -> Any:
    user = actor(request)
    customer = ledger_selectors.customer(user, customer_id)
    return selectors.activities(user, customer_id=customer.pk).order_by("-at", "-id")


@router.get("/reminders", response={200: list[ReminderOut], **problems.responses()},
            summary="Reminders decided by the dunning cycle (the outbox), with their outcome")  # fmt: skip
@paginate(Pagination)
def list_reminders(request: HttpRequest, filters: Query[ListQuery]) -> list[dict[str, Any]]:
    qs = selectors.actions(actor(request), customer_id=filters.customer_id, status=filters.status or "")
    return [_reminder(a) for a in stable(qs)]
