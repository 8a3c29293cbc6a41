"""Reads of collection records for a user, always through ``relance.core.scope``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from relance.core import scope

from .models import Activity, Dispute, DisputeStatus, Promise, PromiseStatus


def disputes(user: Any, *, customer_id: int | None = None, status: str | None = None) -> QuerySet[Dispute]:
    qs = scope.restrict(user, Dispute.objects.all()).select_related("customer", "owner")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if status:
        qs = qs.filter(status=status)
    return qs


def open_disputes(user: Any, *, customer_id: int | None = None) -> QuerySet[Dispute]:
    """Open disputes (of one customer, if given) the user may see, oldest first."""
    return disputes(user, customer_id=customer_id, status=DisputeStatus.OPEN).order_by("opened_on", "id")


def promises(user: Any, *, customer_id: int | None = None, status: str | None = None) -> QuerySet[Promise]:
    qs = scope.restrict(user, Promise.objects.all()).select_related("customer", "created_by")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if status:
        qs = qs.filter(status=status)
    return qs


def open_promises(user: Any, *, customer_id: int | None = None) -> QuerySet[Promise]:
    """Open promises to pay (of one customer, if given) the user may see, soonest first."""
    return promises(user, customer_id=customer_id, status=PromiseStatus.OPEN).order_by("promised_for", "id")


def activities(user: Any, *, customer_id: int | None = None) -> QuerySet[Activity]:
    """The collection history the user may see, newest first."""
    qs = scope.restrict(user, Activity.objects.all()).select_related("user")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs


def tasks(user: Any, *, assignee: Any = None, customer_id: int | None = None, status: str = "open") -> QuerySet:
    from .models import Task

    qs = scope.restrict(user, Task.objects.all()).select_related("customer", "assignee", "action")
    if assignee is not None:
        qs = qs.filter(assignee=assignee)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("due_on", "id")


def actions(user: Any, *, customer_id: int | None = None, channel: str = "", status: str = "") -> QuerySet:
    from .models import DunningAction

    qs = scope.restrict(user, DunningAction.objects.all()).select_related("customer", "company")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if channel:
        qs = qs.filter(channel__in=channel.split(","))
    if status:
        qs = qs.filter(status=status)
    return qs


def action(user: Any, pk: Any) -> Any:
    from .models import DunningAction

    return scope.get_visible(user, DunningAction.objects.select_related("customer", "company"), pk=pk)


def replies(user: Any, *, customer_id: int | None = None, pending: bool = False) -> QuerySet:
    from .models import Reply

    qs = scope.restrict(user, Reply.objects.all()).select_related("customer", "action", "handled_by")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if pending:
        qs = qs.filter(handled_at__isnull=True)
    return qs


def worklist(user: Any, *, as_of: Any, collector: Any = None, limit: int = 100) -> list[dict[str, Any]]:
    """The customers to work on, highest expected gain first, each with the reason for its rank.

    Overdue invoices in an open dispute or covered by an open promise are left out (they are held).
    Amounts in other currencies are compared through the ECB rate of the day (as is when no rate is loaded).
    """
    from decimal import Decimal

    from django.db.models import Min, Sum

    from relance.core.money import from_db
    from relance.ledger import rates
    from relance.ledger.models import Customer, Document

    from . import domain

    docs = scope.restrict(user, Document.objects.filter(type="invoice", open_amount__gt=0, due_date__lt=as_of))
    if collector is not None:
        docs = docs.filter(customer__collector=collector)
    docs = docs.exclude(disputes__status=DisputeStatus.OPEN).exclude(promises__status=PromiseStatus.OPEN)
    rows = docs.values("customer_id", "currency").annotate(total=Sum("open_amount"), oldest=Min("due_date"))
    info = {
        c["pk"]: c
        for c in Customer.objects.filter(pk__in={r["customer_id"] for r in rows}).values(
            "pk", "reference", "name", "risk_class", "company__code", "company__currency", "collector__email"
        )
    }
    weights: dict[str, Decimal] = {}

    def weight(currency: str) -> Decimal:
        if currency not in weights:
            try:
                weights[currency] = Decimal(1) / rates.rate_on(currency, as_of)
            except rates.RateMissing:
                weights[currency] = Decimal(1)
        return weights[currency]

    predicted = _predicted_payment(docs)
    items = [
        domain.WorkItem(
            customer_id=r["customer_id"],
            currency=r["currency"],
            overdue=from_db(r["total"], r["currency"]),
            oldest_days=(as_of - r["oldest"]).days,
            risk_class=info[r["customer_id"]]["risk_class"],
            p_pay=predicted.get((r["customer_id"], r["currency"])),
            weight=weight(r["currency"]),
        )
        for r in rows
    ]
    out = []
    for n, ranked in enumerate(domain.rank(items)[:limit], start=1):
        c = info[ranked.item.customer_id]
        out.append(
            {
                "rank": n,
                "customer": c,
                "item": ranked.item,
                "gain": ranked.gain,
                "probability": ranked.probability,
                "age_factor": ranked.age_factor,
                "predicted": ranked.item.p_pay is not None,
            }
        )
    return out


P_PAY_FLOOR = Decimal("0.05")  # a predicted probability is never taken as zero: someone may still pay


def _predicted_payment(docs: QuerySet) -> dict[tuple[int, str], Decimal]:
    """Probability of payment per (customer, currency) from the payment-date predictions (relance.ml).

    For the overdue invoices that have a prediction: 1 − the amount-weighted probability of being paid more than
    the late threshold after the due date, floored at 5 %. Accounts without any prediction are left out, so the
    ranking falls back on the risk class for them (collections.domain.P_PAY).
    """
    from django.db.models import ExpressionWrapper, F, FloatField, Sum

    rows = (
        docs.filter(prediction__isnull=False)
        .values("customer_id", "currency")
        .annotate(
            late=Sum(ExpressionWrapper(F("open_amount") * F("prediction__prob_late"), output_field=FloatField())),
            amount=Sum("open_amount", output_field=FloatField()),
        )
    )
    out: dict[tuple[int, str], Decimal] = {}
    for r in rows:
        if not r["amount"]:
            continue
        p = Decimal(1) - Decimal(str(round(float(r["late"]) / float(r["amount"]), 4)))
        out[(r["customer_id"], r["currency"])] = max(P_PAY_FLOOR, min(Decimal(1), p)).quantize(Decimal("0.01"))
    return out
