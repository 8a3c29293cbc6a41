"""Customer risk: ``POST /credit-check``, ``POST /orders`` (the ERP's open orders), and the alert inbox."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Status
from ninja.pagination import paginate

from relance.alerts import selectors as alert_selectors
from relance.alerts import services as alert_services
from relance.alerts.models import Alert
from relance.api import problems
from relance.api.auth import actor
from relance.api.pagination import Pagination
from relance.core import errors, scope
from relance.core.money import quantize
from relance.ledger import selectors as ledger_selectors
from relance.ledger.models import Customer
from relance.orgs.models import Company, User
from relance.risk import reasons, selectors, services

from ._common import stable
from .risk_schemas import (
    AlertAssignIn,
    AlertCommentIn,
    AlertOut,
    CreditCheckIn,
    CreditCheckOut,
    OrderIn,
    OrderOut,
)

router = Router(tags=["risk"])


def _customer(user: Any, *, customer_id: int | None, customer_ref: str | None, company: str | None) -> Customer:
    if customer_id is not None:
        return ledger_selectors.customer(user, customer_id)
    return scope.get_visible(
        user, Customer.objects.select_related("company"), company__code=company, reference=customer_ref
    )


@router.post(
    "/credit-check",
    response={200: CreditCheckOut, **problems.responses(404, 422)},
    summary="Credit check before a quote or an order",
    description="Whether a new order of `amount` in `currency` with `payment_terms_days` can be granted on "
    "credit: `approve`, `approve_with_deposit` (with `deposit_percent`), `cash_in_advance` or `block`, with the "
    "reasons in words and the exposure after the order in the company's currency. Nothing is written. "
    "Rules and thresholds: docs/risk.md.",
)
def credit_check(request: HttpRequest, body: CreditCheckIn) -> dict[str, Any]:
    user = actor(request)
    customer = _customer(user, customer_id=body.customer_id, customer_ref=body.customer_ref, company=body.company)
    result = selectors.credit_check(
        user, customer, amount=body.amount, currency=body.currency, payment_terms_days=body.payment_terms_days
    )
    return {
        "decision": result.decision,
        "deposit_percent": result.deposit_percent,
        "reasons": reasons.texts(result.reasons),
        "exposure_after": str(quantize(result.exposure_after, result.currency)),
        "currency": result.currency,
    }


@router.post(
    "/orders",
    response={200: OrderOut, 201: OrderOut, **problems.responses(403, 404, 422)},
    summary="Create or update an open order (ERP)",
    description="Upserts an order by (company, reference): open orders count in the customer's exposure until "
    "invoiced or cancelled. 201 when created, 200 otherwise (`result` says updated or unchanged).",
)
def upsert_order(request: HttpRequest, body: OrderIn) -> Status[dict[str, Any]]:
    user = actor(request)
    company = scope.get_visible(user, Company.objects.all(), code=body.company)
    customer = _customer(user, customer_id=None, customer_ref=body.customer_ref, company=body.company)
    order, how = services.order_upsert(
        actor=user,
        company=company,
        customer=customer,
        reference=body.reference,
        order_date=body.order_date,
        amount=body.amount,
        currency=body.currency,
        status=body.status,
    )
    data = {
        "id": order.pk,
        "company": company.code,
        "customer": {"id": customer.pk, "reference": customer.reference, "name": customer.name},
        "reference": order.reference,
        "order_date": order.order_date,
        "amount": str(quantize(order.amount, order.currency)),
        "currency": order.currency,
        "status": order.status,
        "result": how,
    }
    return Status(201 if how == "created" else 200, data)


@router.get(
    "/alerts",
    response={200: list[AlertOut], **problems.responses()},
    summary="List alerts",
    description="The live alerts (open or acknowledged) of the caller's scope, newest first; `status=closed` or "
    "`status=all` for the others, `kind` to filter (e.g. risk.limit_overrun).",
)
@paginate(Pagination)
def list_alerts(request: HttpRequest, status: str = "live", kind: str = "") -> QuerySet[Alert]:
    wanted = None if status == "all" else status
    return stable(alert_selectors.alerts_for(actor(request), status=wanted, kind=kind or None))


def _alert(user: Any, alert_id: int) -> Alert:
    return scope.get_visible(user, Alert.objects.select_related("company", "customer", "assigned_to"), pk=alert_id)


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response={200: AlertOut, **problems.responses(403, 404, 422)},
    summary="Acknowledge an alert",
)
def acknowledge_alert(request: HttpRequest, alert_id: int) -> Alert:
    user = actor(request)
    return alert_services.alert_acknowledge(actor=user, alert=_alert(user, alert_id))


@router.post(
    "/alerts/{alert_id}/assign",
    response={200: AlertOut, **problems.responses(403, 404, 422)},
    summary="Assign an alert",
)
def assign_alert(request: HttpRequest, alert_id: int, body: AlertAssignIn) -> Alert:
    user = actor(request)
    alert = _alert(user, alert_id)
    assignee = None
    if body.user_id is not None:
        assignee = User.objects.filter(pk=body.user_id, is_active=True).first()
        if assignee is None:
            raise errors.ValidationError(f"No active user {body.user_id}.", field="user_id")
    return alert_services.alert_assign(actor=user, alert=alert, user=assignee)


@router.post(
    "/alerts/{alert_id}/comments",
    response={201: dict[str, Any], **problems.responses(403, 404, 422)},
    summary="Comment on an alert",
)
def comment_alert(request: HttpRequest, alert_id: int, body: AlertCommentIn) -> Status[dict[str, Any]]:
    user = actor(request)
    comment = alert_services.alert_comment(actor=user, alert=_alert(user, alert_id), text=body.text)
    return Status(201, {"id": comment.pk, "text": comment.text, "author": comment.author_label})
